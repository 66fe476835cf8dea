use std::process::Command;

use serde_json::Value;

fn kasse(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    kasse_with_stdin(dir, args, "")
}

#[test]
fn merchant_create_prints_keys_once_and_stores_them_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let out = kasse(
        dir.path(),
        &[
            "merchant",
            "create",
            "--name",
            "Tea House",
            "--origin",
            "https://tea.example",
            "--origin",
            "http://localhost:3000",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let secret_key = created["secret_key"].as_str().unwrap();
    let publishable_key = created["publishable_key"].as_str().unwrap();
    assert!(created["merchant_id"].as_str().unwrap().starts_with("mer_"));
    assert!(secret_key.starts_with("sk_test_"));
    assert!(publishable_key.starts_with("pk_test_"));
    assert_eq!(
        created["origins"],
        serde_json::json!(["https://tea.example", "http://localhost:3000"])
    );

    let db = std::fs::read(dir.path().join("data/kasse.db")).unwrap();
    let wal = std::fs::read(dir.path().join("data/kasse.db-wal")).unwrap_or_default();
    let stored = String::from_utf8_lossy(&[db, wal].concat()).into_owned();
    assert!(stored.contains("Tea House"));
    assert!(
        !stored.contains(secret_key),
        "the secret key is stored only hashed"
    );
    assert!(!stored.contains(publishable_key));
    assert!(dir.path().join("data/kasse.secret").exists());

    let text = kasse(
        dir.path(),
        &[
            "merchant",
            "create",
            "--name",
            "Plain",
            "--origin",
            "https://plain.example",
        ],
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("secret key:      sk_test_"), "{stdout}");
}

#[test]
fn bad_origins_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (origin, reason) in [
        ("http://tea.example", "https"),
        ("https://tea.example/shop", "origin only"),
        ("tea.example", "not an absolute URL"),
    ] {
        let out = kasse(
            dir.path(),
            &["merchant", "create", "--name", "T", "--origin", origin],
        );
        assert!(!out.status.success(), "{origin} should be refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(reason), "{origin}: {stderr}");
    }
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = kasse(dir.path(), &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("data/kasse.db").exists());
}

fn kasse_with_stdin(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kasse"))
        .args(args)
        .env("KASSE_DATABASE_URL", dir.join("data/kasse.db"))
        .env_remove("KASSE_SECRET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kasse runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_create_reads_the_password_from_stdin_and_keeps_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = kasse(
        dir.path(),
        &[
            "merchant",
            "create",
            "--name",
            "Tea House",
            "--origin",
            "https://tea.example",
            "--json",
        ],
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let merchant = created["merchant_id"].as_str().unwrap();
    let create = |email: &str, role: &str, password: &str| {
        kasse_with_stdin(
            dir.path(),
            &[
                "user",
                "create",
                "--merchant",
                merchant,
                "--email",
                email,
                "--role",
                role,
            ],
            password,
        )
    };

    let out = create("Clerk@Tea.example", "operator", "a long enough password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("clerk@tea.example (operator)"), "{said}");

    let db = std::fs::read(dir.path().join("data/kasse.db")).unwrap();
    let wal = std::fs::read(dir.path().join("data/kasse.db-wal")).unwrap_or_default();
    let stored = String::from_utf8_lossy(&[db, wal].concat()).into_owned();
    assert!(stored.contains("clerk@tea.example"));
    assert!(stored.contains("$argon2id$"));
    assert!(!stored.contains("a long enough password"));

    for (email, role, password, complaint) in [
        (
            "clerk@tea.example",
            "viewer",
            "another long password\n",
            "already exists",
        ),
        (
            "new@tea.example",
            "viewer",
            "short\n",
            "at least 10 characters",
        ),
        (
            "new@tea.example",
            "viewer",
            "",
            "no password on standard input",
        ),
        (
            "new@tea.example",
            "boss",
            "a long enough password\n",
            "invalid value 'boss'",
        ),
    ] {
        let out = create(email, role, password);
        assert!(!out.status.success(), "{email} {role}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(complaint), "{stderr}");
    }
}

/// `kasse merchant create --json` in `dir`; the new merchant's id.
fn new_merchant(dir: &std::path::Path) -> String {
    let out = kasse(
        dir,
        &[
            "merchant",
            "create",
            "--name",
            "Books",
            "--origin",
            "https://books.example",
            "--json",
        ],
    );
    assert!(out.status.success());
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    created["merchant_id"].as_str().unwrap().to_string()
}

#[test]
fn compat_credentials_are_issued_once_replace_the_last_pair_and_are_kept_only_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let merchant = new_merchant(dir.path());
    let issue = || {
        let out = kasse(
            dir.path(),
            &[
                "merchant",
                "compat-credentials",
                "--merchant",
                &merchant,
                "--json",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = issue();
    let store_id = first["store_id"].as_str().unwrap();
    let password = first["store_passwd"].as_str().unwrap();
    assert!(store_id.len() <= 30, "SSLCOMMERZ's limit: {store_id}");
    assert_eq!(password.len(), 24);
    assert_eq!(first["mode"], "test");
    let second = issue();
    assert_ne!(second["store_id"], first["store_id"]);

    let db = std::fs::read(dir.path().join("data/kasse.db")).unwrap();
    let wal = std::fs::read(dir.path().join("data/kasse.db-wal")).unwrap_or_default();
    let stored = String::from_utf8_lossy(&[db, wal].concat()).into_owned();
    assert!(stored.contains(store_id), "the store id is public");
    assert!(
        !stored.contains(password),
        "the password is kept only hashed"
    );

    let unknown = kasse(
        dir.path(),
        &["merchant", "compat-credentials", "--merchant", "mer_nobody"],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("No merchant mer_nobody"));

    let base = kasse(
        dir.path(),
        &[
            "merchant",
            "client-base-url",
            "--merchant",
            &merchant,
            "--url",
            "https://books.example/api",
        ],
    );
    assert!(
        base.status.success(),
        "{}",
        String::from_utf8_lossy(&base.stderr)
    );
    let bad = kasse(
        dir.path(),
        &[
            "merchant",
            "client-base-url",
            "--merchant",
            &merchant,
            "--url",
            "books.example",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a URL"));
}

#[tokio::test]
async fn a_store_password_in_a_query_string_never_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let merchant = new_merchant(dir.path());
    let out = kasse(
        dir.path(),
        &[
            "merchant",
            "compat-credentials",
            "--merchant",
            &merchant,
            "--json",
        ],
    );
    let issued: Value = serde_json::from_slice(&out.stdout).unwrap();
    let password = issued["store_passwd"].as_str().unwrap();
    let log = dir.path().join("kasse.log");
    let database = dir.path().join("data/kasse.db").display().to_string();
    let kasse = kasse_testkit::process::Kasse::serve(kasse_testkit::process::Serve {
        binary: std::path::Path::new(env!("CARGO_BIN_EXE_kasse")),
        database: &database,
        secret: None,
        addr: "127.0.0.1:0".parse().unwrap(),
        log: &log,
        args: &[],
        // Everything Kasse would log, at its most talkative.
        env: &[("RUST_LOG", "debug")],
    })
    .await
    .unwrap();
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/validator/api/validationserverAPI.php",
            kasse.base
        ))
        .query(&[
            ("val_id", "123"),
            ("store_id", issued["store_id"].as_str().unwrap()),
            ("store_passwd", password),
            ("format", "json"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "INVALID_TRANSACTION");
    kasse.terminate();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("/validator/api/validationserverAPI.php"),
        "the request was logged: {logged}"
    );
    assert!(!logged.contains(password), "{logged}");
}

#[test]
fn fee_plans_and_settlement_settings_are_set_per_merchant_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let merchant = new_merchant(dir.path());
    let set = |args: &[&str]| {
        let mut all = vec!["merchant"];
        all.extend_from_slice(args);
        kasse(dir.path(), &all)
    };
    let out = set(&[
        "fees",
        "--merchant",
        &merchant,
        "--currency",
        "usd",
        "--percent-bps",
        "290",
        "--fixed",
        "30",
        "--refund-fees",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("2.90 % + 30 minor units") && said.contains("USD"),
        "{said}"
    );
    // Set again: replaced, not added.
    assert!(
        set(&[
            "fees",
            "--merchant",
            &merchant,
            "--currency",
            "USD",
            "--percent-bps",
            "150"
        ])
        .status
        .success()
    );
    let out = set(&[
        "settlement",
        "--merchant",
        &merchant,
        "--time-zone",
        "Asia/Dhaka",
        "--cutoff",
        "18:00",
        "--delay-days",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (args, reason) in [
        (
            vec!["fees", "--merchant", &merchant, "--percent-bps", "10001"],
            "at most 10000",
        ),
        (
            vec!["fees", "--merchant", &merchant, "--currency", "XYZ"],
            "--currency",
        ),
        (
            vec!["fees", "--merchant", "mer_nobody"],
            "No merchant mer_nobody",
        ),
        (
            vec![
                "settlement",
                "--merchant",
                &merchant,
                "--time-zone",
                "Mars/Base",
            ],
            "not an IANA zone",
        ),
        (
            vec!["settlement", "--merchant", &merchant, "--cutoff", "6pm"],
            "HH:MM",
        ),
        (
            vec!["settlement", "--merchant", &merchant, "--delay-days", "31"],
            "0 to 30",
        ),
    ] {
        let out = set(&args);
        assert!(!out.status.success(), "{args:?}");
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(error.contains(reason), "{args:?}: {error}");
    }
    let database = format!("sqlite://{}", dir.path().join("data/kasse.db").display());
    let plans = tokio::runtime::Runtime::new().unwrap().block_on(async {
        crate::helpers::count_in(&database, "SELECT count(*) FROM fee_plans WHERE percent_bps = 150 AND fixed = 0 AND refund_fees = 0").await
            * 10
            + crate::helpers::count_in(&database, "SELECT count(*) FROM settlement_settings WHERE delay_days = 1 AND time_zone = 'Asia/Dhaka'").await
    });
    assert_eq!(plans, 11);
}

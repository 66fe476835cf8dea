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

use std::process::Command;

use serde_json::Value;

fn kasse(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kasse"))
        .args(args)
        .env("KASSE_DATABASE_URL", dir.join("data/kasse.db"))
        .env_remove("KASSE_SECRET")
        .output()
        .expect("kasse runs")
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

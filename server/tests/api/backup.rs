//! `kasse backup`: a consistent copy taken while Kasse serves under load,
//! restored into a fresh directory, holds every payment acknowledged before
//! it began, and a ledger that adds up.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kasse_core::api::PaymentList;

use crate::durability::{any_port, binary, merchant, pay, start};

async fn payment_ids(http: &reqwest::Client, base: &str, key: &str) -> HashSet<String> {
    let list: PaymentList = http
        .get(format!("{base}/v1/payments?limit=100"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.data.into_iter().map(|p| p.id).collect()
}

fn backup(database: &std::path::Path, to: &std::path::Path) -> std::process::Output {
    std::process::Command::new(binary())
        .arg("--database")
        .arg(database)
        .arg("backup")
        .arg("--to")
        .arg(to)
        .env_remove("KASSE_SECRET")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_acknowledged_payment() {
    let live = tempfile::tempdir().unwrap();
    let kasse = start(live.path(), any_port()).await;
    let key = merchant(live.path());
    let http = reqwest::Client::new();
    for _ in 0..10 {
        pay(&http, &kasse.base, &key).await;
    }
    let acknowledged = payment_ids(&http, &kasse.base, &key).await;
    assert_eq!(acknowledged.len(), 10);

    // Customers keep paying while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (stop, http, base, key) = (stop.clone(), http.clone(), kasse.base.clone(), key.clone());
        tokio::spawn(async move {
            let mut paid = 0;
            while !stop.load(Ordering::SeqCst) {
                pay(&http, &base, &key).await;
                paid += 1;
            }
            paid
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let copies = tempfile::tempdir().unwrap();
    let to = copies.path().join("kasse-2026-12-02.db");
    let database = live.path().join("kasse.db");
    let out = {
        let (database, to) = (database.clone(), to.clone());
        tokio::task::spawn_blocking(move || backup(&database, &to))
            .await
            .unwrap()
    };
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("Backed up"), "{said}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let during = load.await.unwrap();
    assert!(during > 0, "payments went on during the backup");

    // It never overwrites.
    let again = backup(&database, &to);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    // PostgreSQL is pg_dump's.
    let pg = backup(
        std::path::Path::new("postgres://postgres@127.0.0.1/kasse"),
        &copies.path().join("pg"),
    );
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));

    // The secret is not in the backup: the operator keeps it apart.
    let names: Vec<String> = std::fs::read_dir(copies.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["kasse-2026-12-02.db"]);
    let secret = std::fs::read(live.path().join("kasse.secret")).unwrap();
    let stored = std::fs::read(&to).unwrap();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_slice()));

    // Restore into a fresh directory, with the secret, and serve it.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&to, restored.path().join("kasse.db")).unwrap();
    std::fs::write(restored.path().join("kasse.secret"), &secret).unwrap();
    let all = payment_ids(&http, &kasse.base, &key).await;
    kasse.kill_9();
    let back = start(restored.path(), any_port()).await;
    let found = payment_ids(&http, &back.base, &key).await;
    assert!(
        acknowledged.is_subset(&found),
        "every payment acknowledged before the backup is in it"
    );
    assert!(found.is_subset(&all), "and nothing that never was");
    for id in &acknowledged {
        let p: kasse_core::api::Payment = http
            .get(format!("{}/v1/payments/{id}", back.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(p.status, kasse_core::PaymentStatus::Succeeded);
    }
    // Each payment's status has its event and its ledger row.
    let url = format!("sqlite://{}", restored.path().join("kasse.db").display());
    let count = |sql: &'static str| crate::helpers::count_in(&url, sql);
    assert_eq!(
        count("SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.payment_id = p.id AND e.type = 'payment.succeeded')").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM balance_transactions t WHERE t.source_id = p.id AND t.type = 'charge')").await,
        0
    );
    assert_eq!(
        count("SELECT (SELECT coalesce(sum(available + pending), 0) FROM balances) - (SELECT coalesce(sum(net), 0) FROM balance_transactions)").await,
        0
    );
    back.kill_9();
}

//! Webhooks survive restarts and SIGKILL: the real `kasse` binary, killed.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use kasse_core::api::{CheckoutSession, EventList};
use serde_json::json;

use crate::helpers::{good_card, session_body};
use kasse_testkit::process::Serve;

use crate::receiver::Receiver;

pub use kasse_testkit::{Kasse, any_port, free_addr};

/// The `kasse` binary these tests run.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kasse"))
}

/// Serves a SQLite file in `dir`, without `KASSE_SECRET`.
pub async fn start(dir: &Path, addr: SocketAddr) -> Kasse {
    let database = dir.join("kasse.db").display().to_string();
    start_on(dir, addr, &database, None, &[]).await
}

/// Serves `database`, logging to `dir/kasse.log`, with `KASSE_SECRET` set
/// to `secret` if given, quick webhook retries, and `extra` arguments.
pub async fn start_on(
    dir: &Path,
    addr: SocketAddr,
    database: &str,
    secret: Option<&str>,
    extra: &[&str],
) -> Kasse {
    let mut args = vec![
        "--webhook-retry-base-ms",
        "100",
        "--webhook-retry-max-ms",
        "300",
        "--webhook-allow-private",
    ];
    if !extra.contains(&"--webhook-timeout-ms") {
        args.extend(["--webhook-timeout-ms", "1000"]);
    }
    args.extend_from_slice(extra);
    // A vault, for saved cards and payouts' destinations.
    let mut env = vec![("KASSE_VAULT_KEY", crate::helpers::TEST_VAULT_KEY)];
    if !extra.contains(&"--static-dir") {
        env.push(("KASSE_STATIC_DIR", "nowhere"));
    }
    // Tests confirm, decline and key cards in from one address; limits a
    // test sets in `extra` go over these.
    for limit in [
        "KASSE_CONFIRMS_PER_MINUTE",
        "KASSE_DECLINES_PER_MERCHANT_PER_MINUTE",
        "KASSE_KEYED_PAYMENTS_PER_MERCHANT_PER_MINUTE",
        "KASSE_KEYED_PAYMENTS_PER_STAFF_PER_MINUTE",
        "KASSE_LOGINS_PER_ADDRESS_PER_MINUTE",
        "KASSE_LOGINS_PER_ACCOUNT_PER_MINUTE",
    ] {
        env.push((limit, "10000"));
    }
    Kasse::serve(Serve {
        binary: binary(),
        database,
        secret,
        addr,
        log: &dir.join("kasse.log"),
        args: &args,
        env: &env,
    })
    .await
    .unwrap()
}

pub fn merchant(dir: &Path) -> String {
    merchant_on(&dir.join("kasse.db").display().to_string(), None)
}

/// Creates a merchant with the `kasse` command; returns its secret key.
pub fn merchant_on(database: &str, secret: Option<&str>) -> String {
    kasse_testkit::create_merchant(
        binary(),
        database,
        secret,
        "Durable",
        "https://shop.example",
    )
    .unwrap()
}

/// A fresh checkout session of the merchant whose key is `key`.
async fn new_session(http: &reqwest::Client, base: &str, key: &str) -> CheckoutSession {
    http.post(format!("{base}/v1/checkout/sessions"))
        .bearer_auth(key)
        .json(&session_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn pay(http: &reqwest::Client, base: &str, key: &str) {
    let session = new_session(http, base, key).await;
    let paid = http
        .post(format!("{base}/v1/pay/{}/confirm", session.id))
        .header("Kasse-Client-Secret", &session.client_secret)
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
}

pub async fn add_endpoint(http: &reqwest::Client, base: &str, key: &str, url: &str) {
    let response = http
        .post(format!("{base}/v1/webhook_endpoints"))
        .bearer_auth(key)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, 201, "{}", response.text().await.unwrap_or_default());
}

pub async fn event_ids(http: &reqwest::Client, base: &str, key: &str) -> HashSet<String> {
    let list: EventList = http
        .get(format!("{base}/v1/events?limit=100"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.data.into_iter().map(|e| e.id).collect()
}

pub fn ids(received: &[crate::receiver::Delivery]) -> HashSet<String> {
    received.iter().map(|d| d.header("webhook-id")).collect()
}

#[tokio::test]
async fn events_wait_out_a_receiver_that_is_down_while_kasse_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let key = merchant(dir.path());
    let http = reqwest::Client::new();
    let receiver_addr = free_addr();

    let kasse = start(dir.path(), any_port()).await;
    let kasse_addr = kasse.addr;
    add_endpoint(
        &http,
        &kasse.base,
        &key,
        &format!("http://{receiver_addr}/hooks"),
    )
    .await;
    pay(&http, &kasse.base, &key).await;
    let expected = event_ids(&http, &kasse.base, &key).await;
    assert_eq!(expected.len(), 2);
    tokio::time::sleep(Duration::from_millis(500)).await; // attempts fail: nobody listens
    kasse.terminate();

    let receiver = Receiver::start_on(receiver_addr).await;
    let _kasse = start(dir.path(), kasse_addr).await;
    let received = receiver
        .wait_for(Duration::from_secs(30), |r| ids(r) == expected)
        .await;
    assert!(received.iter().all(|d| d.status == 200));
}

#[tokio::test]
async fn sigkill_mid_delivery_loses_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let key = merchant(dir.path());
    let http = reqwest::Client::new();
    let receiver = Receiver::start().await;
    // Slow answers keep deliveries in flight when the blow falls.
    receiver.delay(Duration::from_millis(400));

    let kasse = start(dir.path(), any_port()).await;
    add_endpoint(&http, &kasse.base, &key, &receiver.url("/hooks")).await;
    for _ in 0..10 {
        pay(&http, &kasse.base, &key).await;
    }
    let expected = event_ids(&http, &kasse.base, &key).await;
    assert_eq!(expected.len(), 20);
    tokio::time::sleep(Duration::from_millis(200)).await;
    kasse.kill_9();
    let before = ids(&receiver.received());
    assert!(before.len() < expected.len(), "the kill came mid-delivery");

    let kasse = start(dir.path(), any_port()).await;
    receiver
        .wait_for(Duration::from_secs(40), |r| ids(r).is_superset(&expected))
        .await;
    assert_eq!(
        event_ids(&http, &kasse.base, &key).await,
        expected,
        "nothing lost, nothing invented"
    );

    // The server's own log saw ten payments, and never a whole card number.
    let log = std::fs::read_to_string(dir.path().join("kasse.log")).unwrap();
    assert!(log.matches("payment attempt").count() >= 10, "{log}");
    assert!(log.contains("Visa •••• 4242"));
    assert!(!log.contains("4242424242424242") && !log.contains("4242 4242 4242 4242"));
}

/// SIGKILL while confirms queue for SQLite's group commits: every confirm
/// that was answered is in the database whole, and every one that was not is
/// there whole or not at all (a session is complete exactly when its
/// payment and the payment's event exist).
#[tokio::test]
async fn sigkill_during_group_commits_keeps_every_acknowledged_payment_whole() {
    let dir = tempfile::tempdir().unwrap();
    let key = merchant(dir.path());
    let http = reqwest::Client::new();
    let kasse = start(dir.path(), any_port()).await;

    let mut sessions = Vec::new();
    for _ in 0..120 {
        sessions.push(new_session(&http, &kasse.base, &key).await);
    }

    // 24 at a time, so that writes queue and are committed in groups.
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel();
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(sessions.clone()));
    for _ in 0..24 {
        let (http, base, queue, answered) = (
            http.clone(),
            kasse.base.clone(),
            queue.clone(),
            answered_tx.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Some(session) = queue.lock().await.pop() else {
                    return;
                };
                let response = http
                    .post(format!("{base}/v1/pay/{}/confirm", session.id))
                    .header("Kasse-Client-Secret", &session.client_secret)
                    .json(&good_card("4242424242424242"))
                    .send()
                    .await;
                let Ok(response) = response else { return };
                if response.status() != 200 {
                    return;
                }
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    return;
                };
                let _ =
                    answered.send((session.id, body["payment_id"].as_str().unwrap().to_string()));
            }
        });
    }
    drop(answered_tx);
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 40 {
        acknowledged.push(answered_rx.recv().await.expect("confirms answered"));
    }
    kasse.kill_9();
    // Answers already on their way were acknowledged too.
    while let Ok(more) = answered_rx.try_recv() {
        acknowledged.push(more);
    }
    assert!(acknowledged.len() < sessions.len(), "the kill came mid-run");

    let kasse = start(dir.path(), any_port()).await;
    let get = |path: String| {
        let (http, key, base) = (http.clone(), key.clone(), kasse.base.clone());
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    for (session_id, payment_id) in &acknowledged {
        let session = get(format!("/v1/checkout/sessions/{session_id}")).await;
        assert_eq!(session["status"], "complete", "{session}");
        assert_eq!(session["payment_id"].as_str(), Some(payment_id.as_str()));
        let payment = get(format!("/v1/payments/{payment_id}")).await;
        assert_eq!(payment["status"], "succeeded", "{payment}");
    }
    let mut paid_sessions = HashSet::new();
    let mut after = String::new();
    loop {
        let page = get(format!("/v1/payments?limit=100{after}")).await;
        let data = page["data"].as_array().unwrap();
        for p in data {
            if let Some(session) = p["checkout_session"].as_str() {
                assert!(paid_sessions.insert(session.to_string()), "paid twice: {p}");
            }
        }
        if page["has_more"] != true {
            break;
        }
        after = format!(
            "&starting_after={}",
            data.last().unwrap()["id"].as_str().unwrap()
        );
    }
    let mut whole = 0;
    for session in &sessions {
        let stored = get(format!("/v1/checkout/sessions/{}", session.id)).await;
        let events = |payment: &str| get(format!("/v1/events?payment={payment}"));
        match stored["status"].as_str() {
            Some("complete") => {
                let payment_id = stored["payment_id"].as_str().unwrap();
                let payment = get(format!("/v1/payments/{payment_id}")).await;
                assert_eq!(payment["status"], "succeeded", "{payment}");
                let kinds: Vec<_> = events(payment_id).await["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["type"].as_str().unwrap().to_string())
                    .collect();
                assert!(
                    kinds.contains(&"payment.succeeded".to_string()),
                    "{kinds:?}"
                );
                whole += 1;
            }
            Some("open") => {
                assert!(stored["payment_id"].is_null(), "{stored}");
                assert!(
                    !paid_sessions.contains(&session.id),
                    "an open session has no payment: {stored}"
                );
            }
            other => panic!("session {}: {other:?}", session.id),
        }
    }
    assert!(whole >= acknowledged.len());
}

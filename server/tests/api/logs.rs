//! Structured logs and request ids: `--log-format json` writes one object
//! per line; each request's id is echoed, names every line the request
//! writes and the webhook deliveries of the events it caused; no line holds
//! a card number, a CVC, a secret key or a client secret.

use std::time::Duration;

use kasse_core::api::CheckoutSession;
use serde_json::Value;

use crate::durability::{add_endpoint, any_port, merchant, start_on};
use crate::helpers::{good_card, session_body, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

#[tokio::test]
async fn json_logs_tie_a_payment_and_its_webhook_to_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let key = merchant(dir.path());
    let database = dir.path().join("kasse.db").display().to_string();
    let kasse = start_on(
        dir.path(),
        any_port(),
        &database,
        None,
        &["--log-format", "json"],
    )
    .await;
    let http = reqwest::Client::new();
    let receiver = Receiver::start().await;
    add_endpoint(&http, &kasse.base, &key, &receiver.url("/hooks")).await;

    let made = http
        .post(format!("{}/v1/checkout/sessions", kasse.base))
        .bearer_auth(&key)
        .json(&session_body())
        .send()
        .await
        .unwrap();
    let session_request = made.headers()["x-request-id"].to_str().unwrap().to_string();
    let session: CheckoutSession = made.json().await.unwrap();
    let paid = http
        .post(format!("{}/v1/pay/{}/confirm", kasse.base, session.id))
        .header("Kasse-Client-Secret", &session.client_secret)
        // A client's own id is not trusted: Kasse makes its own.
        .header("x-request-id", "forged-by-the-client")
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let confirm_request = paid.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(confirm_request.starts_with("req_"), "{confirm_request}");
    assert_ne!(confirm_request, session_request);
    receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.iter().any(|d| d.kind() == "payment.succeeded")
        })
        .await;
    // The delivery's log line is written after the receiver answered.
    let log = dir.path().join("kasse.log");
    let mut lines: Vec<Value> = Vec::new();
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap();
        lines = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect();
        if lines.iter().any(|l| l["message"] == "webhook attempt") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for line in &lines {
        for field in ["timestamp", "level", "target", "message"] {
            assert!(line.get(field).is_some(), "{field} missing from {line}");
        }
    }
    let of = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id)
            .collect()
    };
    let confirm_lines = of(&confirm_request);
    assert!(
        confirm_lines
            .iter()
            .any(|l| l["message"] == "payment attempt"),
        "{confirm_lines:?}"
    );
    assert!(
        confirm_lines
            .iter()
            .all(|l| l["span"]["path"] == format!("/v1/pay/{}/confirm", session.id))
    );
    assert!(of("forged-by-the-client").is_empty());
    let delivery = lines
        .iter()
        .find(|l| l["message"] == "webhook attempt" && l["request_id"] == confirm_request.as_str())
        .unwrap_or_else(|| panic!("no webhook attempt names {confirm_request}"));
    assert_eq!(delivery["url"], receiver.url("/hooks"));

    let text = std::fs::read_to_string(&log).unwrap();
    for secret in [
        "4242424242424242",
        "4242 4242 4242 4242",
        key.as_str(),
        session.client_secret.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} is in the logs");
    }
    assert!(
        !text.to_lowercase().contains("cvc"),
        "a CVC field is in the logs"
    );
    kasse.kill_9();
}

#[tokio::test]
async fn a_request_id_from_a_trusted_proxy_is_kept_and_any_other_replaced() {
    let direct = spawn_app().await;
    let answer = direct
        .http
        .get(direct.url("/healthz"))
        .header("x-request-id", "lb-7:abc")
        .send()
        .await
        .unwrap();
    let id = answer.headers()["x-request-id"].to_str().unwrap();
    assert!(id.starts_with("req_") && id.len() > 10, "{id}");

    let behind =
        spawn_app_with(|c| c.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let kept = behind
        .http
        .get(behind.url("/healthz"))
        .header("x-request-id", "lb-7:abc")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "lb-7:abc");
    // Even a trusted proxy's id is replaced if it is not plain.
    let odd = behind
        .http
        .get(behind.url("/healthz"))
        .header("x-request-id", "has spaces in it")
        .send()
        .await
        .unwrap();
    assert!(
        odd.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    // Events remember the request that caused them.
    let session = behind.create_session().await;
    let paid = behind
        .http
        .post(behind.url(&format!("/v1/pay/{}/confirm", session.id)))
        .header("Kasse-Client-Secret", &session.client_secret)
        .header("x-request-id", "lb-7:confirm-1")
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    assert_eq!(
        behind
            .count("SELECT count(*) FROM events WHERE type = 'payment.succeeded' AND request_id = 'lb-7:confirm-1'")
            .await,
        1
    );
}

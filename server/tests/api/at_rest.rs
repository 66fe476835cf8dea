//! A copy of the database reveals no card data and no secret: every card
//! number, CVC, key and secret a run used is looked for in every table (and
//! on SQLite in every byte of the files), in clear, in hex, in base64, and
//! as the unkeyed SHA-256 of every request body sent. Runs on SQLite, and
//! on PostgreSQL under `KASSE_TEST_STORE=postgres`.

use base64::Engine;
use kasse_core::api::{CheckoutSession, WebhookEndpoint};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, session_body, spawn_app};

/// What the run sent and what it must not find.
#[derive(Default)]
struct Sent {
    bodies: Vec<Vec<u8>>,
    secrets: Vec<String>,
}

impl Sent {
    async fn post(&mut self, app: &TestApp, path: &str, key: &str, body: &Value) -> Value {
        let bytes = serde_json::to_vec(body).unwrap();
        self.bodies.push(bytes.clone());
        let response = app
            .http
            .post(app.url(path))
            .bearer_auth(&app.merchant.secret_key)
            .header("Idempotency-Key", key)
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500, "{path}");
        response.json().await.unwrap()
    }

    async fn confirm(&mut self, app: &TestApp, session: &CheckoutSession, card: Value) {
        let body = json!({ "card": card });
        self.bodies.push(serde_json::to_vec(&body).unwrap());
        app.confirm(session, &body).await;
    }
}

/// `needle` as it could be written: in clear, hex (either case) and base64.
pub fn forms(needle: &[u8]) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_raw = base64::engine::general_purpose::STANDARD_NO_PAD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        String::from_utf8_lossy(needle).into_owned(),
        hex::encode(needle),
        hex::encode_upper(needle),
        b64.encode(needle),
        b64_raw.encode(needle),
        url.encode(needle),
    ]
}

#[tokio::test]
async fn the_database_holds_no_card_data_and_no_secret_in_any_form() {
    let app = spawn_app().await;
    let mut sent = Sent::default();
    let cards = [
        ("4242424242424242", "739"),
        ("5555555555554444", "461"),
        ("378282246310005", "8153"),
        ("4000000000000002", "527"),
        ("4000000000003220", "318"),
    ];

    // Hosted payments, approved, declined and challenged, each on a session
    // made with an idempotency key (its stored answer holds the client secret).
    for (i, (number, cvc)) in cards.iter().enumerate() {
        let session: CheckoutSession = serde_json::from_value(
            sent.post(
                &app,
                "/v1/checkout/sessions",
                &format!("s-{i}"),
                &session_body(),
            )
            .await,
        )
        .unwrap();
        sent.secrets.push(session.client_secret.clone());
        sent.confirm(
            &app,
            &session,
            json!({"number": number, "exp_month": 12, "exp_year": 2031, "cvc": cvc, "name": "Ada Lovelace"}),
        )
        .await;
    }
    // Keyed payments, approved and declined, with the card in the body the
    // idempotency layer sees.
    for (i, (number, cvc)) in cards.iter().enumerate() {
        sent.post(
            &app,
            "/v1/payments",
            &format!("p-{i}"),
            &json!({
                "amount": 1500, "currency": "USD",
                "card": {"number": number, "exp_month": 11, "exp_year": 2030, "cvc": cvc},
            }),
        )
        .await;
    }
    // A webhook endpoint, and its secret rotated, both answers kept for replay.
    let endpoint: WebhookEndpoint = serde_json::from_value(
        sent.post(
            &app,
            "/v1/webhook_endpoints",
            "we-1",
            &json!({"url": "https://hooks.example/in"}),
        )
        .await,
    )
    .unwrap();
    sent.secrets.push(endpoint.secret.clone().unwrap());
    let rotated: WebhookEndpoint = serde_json::from_value(
        sent.post(
            &app,
            &format!("/v1/webhook_endpoints/{}/rotate_secret", endpoint.id),
            "we-2",
            &json!({}),
        )
        .await,
    )
    .unwrap();
    sent.secrets.push(rotated.secret.unwrap());
    sent.secrets.push(app.merchant.secret_key.clone());
    sent.secrets.push(app.merchant.signing_secret.clone());
    sent.secrets
        .extend(app.merchant.webhook_secret.clone().into_iter());
    // SSLCOMMERZ store credentials: the password, and the digests that sign IPNs.
    let store = kasse_server::compat::credentials::issue(
        app.store.as_ref(),
        &crate::helpers::test_secret(),
        &app.merchant.merchant_id,
        crate::helpers::START,
    )
    .await
    .unwrap();
    sent.secrets.push(store.store_passwd.clone());
    sent.secrets
        .push(kasse_server::compat::credentials::md5_hex(
            &store.store_passwd,
        ));
    sent.secrets
        .push(kasse_server::compat::credentials::sha256_hex(
            &store.store_passwd,
        ));

    let stored = app.stored_text().await;
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for (number, _) in &cards {
        needles.push((format!("card {number}"), number.as_bytes().to_vec()));
    }
    for secret in &sent.secrets {
        needles.push((format!("secret {secret}"), secret.as_bytes().to_vec()));
        // A webhook secret's key is the base64 after `whsec_`.
        if let Some(raw) = secret.strip_prefix("whsec_") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .unwrap();
            needles.push((format!("secret bytes of {secret}"), bytes));
        }
    }
    for (needle_name, needle) in &needles {
        for form in forms(needle) {
            assert!(
                !stored.contains(&form),
                "the database holds {needle_name} as {form}"
            );
        }
    }
    for body in &sent.bodies {
        let digest = Sha256::digest(body);
        for form in forms(&digest) {
            assert!(
                !stored.contains(&form),
                "the database holds the SHA-256 of a request body sent: {}",
                String::from_utf8_lossy(body)
            );
        }
    }
    // CVCs are too short to look for alone in a file of ids and numbers;
    // what could hold one is a stored request body, which has a `"cvc"` key
    // (quoted: the letters alone turn up by chance in random base64).
    assert!(
        !stored.contains("\"cvc\""),
        "a stored request body holds a CVC"
    );
    for (_, cvc) in &cards {
        assert!(!stored.contains(&format!("\"cvc\":\"{cvc}\"")));
    }

    // The run did store something: the check is not vacuous.
    assert!(stored.contains(&endpoint.id));
    assert!(stored.contains("kv1:"), "sealed values are there");
}

#[tokio::test]
async fn secrets_stored_in_clear_by_an_older_kasse_are_sealed_when_it_starts() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    // As a database written before sealing holds them.
    app.execute(&format!(
        "UPDATE checkout_sessions SET client_secret = '{}' WHERE id = '{}'",
        session.client_secret, session.id
    ))
    .await;
    app.execute(&format!(
        "UPDATE merchants SET signing_secret = '{}' WHERE id = '{}'",
        app.merchant.signing_secret, app.merchant.merchant_id
    ))
    .await;
    let clear = "SELECT count(*) FROM checkout_sessions WHERE client_secret NOT LIKE 'kv1:%'";
    assert_eq!(app.count(clear).await, 1);
    // Still readable as it is…
    assert_eq!(app.pay_get(&session).await.status(), 200);

    // …and sealed by the next start.
    let store = kasse_server::store::connect(
        &kasse_server::config::database_url(&app.database_url),
        &app.ctx.secret,
    )
    .await
    .unwrap();
    assert_eq!(app.count(clear).await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM merchants WHERE signing_secret NOT LIKE 'kv1:%'")
            .await,
        0
    );
    let read = store
        .session(&app.merchant.merchant_id, &session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.client_secret, session.client_secret);
    let merchant = store
        .merchant(&app.merchant.merchant_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(merchant.signing_secret, app.merchant.signing_secret);
    assert!(!app.stored_text().await.contains(&session.client_secret));
}

use axum::http::Method;
use kasse_core::api::CheckoutSession;
use kasse_server::http::idempotency::{TTL_SECONDS, request_hash};
use serde_json::{Value, json};

use crate::helpers::{SHOP, START, expect_error, session_body, spawn_app};

async fn post_with_key(
    app: &crate::helpers::TestApp,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(&app.merchant.secret_key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retried_request_gets_the_first_response_and_creates_nothing_new() {
    let app = spawn_app().await;
    let first = post_with_key(
        &app,
        "/v1/checkout/sessions",
        "order-1001-a",
        &session_body(),
    )
    .await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: CheckoutSession = first.json().await.unwrap();

    app.clock.advance(TTL_SECONDS - 1);
    let replay = post_with_key(
        &app,
        "/v1/checkout/sessions",
        "order-1001-a",
        &session_body(),
    )
    .await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: CheckoutSession = replay.json().await.unwrap();
    assert_eq!(replay, first);
    assert_eq!(app.count("SELECT count(*) FROM checkout_sessions").await, 1);

    // After 24 hours the key is forgotten.
    app.clock.advance(1);
    let fresh = post_with_key(
        &app,
        "/v1/checkout/sessions",
        "order-1001-a",
        &session_body(),
    )
    .await;
    assert_eq!(fresh.status(), 201);
    let fresh: CheckoutSession = fresh.json().await.unwrap();
    assert_ne!(fresh.id, first.id);
}

#[tokio::test]
async fn errors_are_replayed_too_and_refunds_are_not_repeated() {
    let app = spawn_app().await;
    let mut bad = session_body();
    bad["currency"] = json!("XYZ");
    let first = post_with_key(&app, "/v1/checkout/sessions", "k-bad", &bad).await;
    expect_error(first, 400, "invalid_currency").await;
    let again = post_with_key(&app, "/v1/checkout/sessions", "k-bad", &bad).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    expect_error(again, 400, "invalid_currency").await;

    let payment = app.paid_payment(1000, false).await;
    let refund = json!({"payment_id": payment.id, "amount": 400});
    for _ in 0..3 {
        let response = post_with_key(&app, "/v1/refunds", "refund-once", &refund).await;
        assert_eq!(response.status(), 201);
    }
    assert_eq!(app.payment(&payment.id).await.amount_refunded, 400);
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_refused() {
    let app = spawn_app().await;
    post_with_key(&app, "/v1/checkout/sessions", "k1", &session_body()).await;
    let mut other = session_body();
    other["amount"] = json!(999);
    let reused = post_with_key(&app, "/v1/checkout/sessions", "k1", &other).await;
    expect_error(reused, 422, "idempotency_key_reused").await;
    assert_eq!(app.count("SELECT count(*) FROM checkout_sessions").await, 1);
}

#[tokio::test]
async fn a_key_still_in_flight_gets_409() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&session_body()).unwrap();
    // The first request with this key has begun and not finished.
    let hash = request_hash(
        &app.ctx.secret,
        &Method::POST,
        "/v1/checkout/sessions",
        &body,
    );
    app.store
        .start_idempotent(
            &app.merchant.merchant_id,
            "k-busy",
            &hash,
            START,
            TTL_SECONDS,
        )
        .await
        .unwrap();
    let second = app
        .http
        .post(app.url("/v1/checkout/sessions"))
        .bearer_auth(&app.merchant.secret_key)
        .header("Idempotency-Key", "k-busy")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    expect_error(second, 409, "idempotency_key_in_use").await;
}

#[tokio::test]
async fn keys_belong_to_one_merchant_and_have_a_length_limit() {
    let app = spawn_app().await;
    post_with_key(&app, "/v1/checkout/sessions", "shared", &session_body()).await;
    let other = app.other_merchant("Other", &[SHOP]).await;
    let mut body = session_body();
    body["amount"] = json!(4321);
    let theirs = app
        .http
        .post(app.url("/v1/checkout/sessions"))
        .bearer_auth(&other.secret_key)
        .header("Idempotency-Key", "shared")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        theirs.status(),
        201,
        "another merchant's key is another key"
    );

    let long = "k".repeat(256);
    let too_long = post_with_key(&app, "/v1/checkout/sessions", &long, &session_body()).await;
    expect_error(too_long, 400, "idempotency_key_invalid").await;
    let max = "k".repeat(255);
    let ok = post_with_key(&app, "/v1/checkout/sessions", &max, &session_body()).await;
    assert_eq!(ok.status(), 201);
}

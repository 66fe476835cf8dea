use kasse_core::api::{CheckoutSession, PaySession};
use kasse_core::error::ErrorType;
use kasse_core::{Locale, RequestedLocale, SessionStatus};
use serde_json::{Value, json};

use crate::helpers::{SHOP, START, expect_error, session_body, spawn_app};

#[tokio::test]
async fn a_merchant_creates_and_reads_a_session() {
    let app = spawn_app().await;
    let response = app.post("/v1/checkout/sessions", &session_body()).await;
    assert_eq!(response.status(), 201);
    let session: CheckoutSession = response.json().await.unwrap();
    assert!(session.id.starts_with("cs_"));
    assert_eq!(session.status, SessionStatus::Open);
    assert_eq!(session.amount, 1250);
    assert_eq!(session.currency, "USD");
    assert_eq!(session.order_reference.as_deref(), Some("order-1001"));
    assert_eq!(session.metadata.get("cart").map(String::as_str), Some("7"));
    assert_eq!(session.expires_at, START + 3600, "an hour by default");
    assert!(session.client_secret.starts_with(&session.id));
    assert_eq!(
        session.url,
        format!("{}/pay/{}#{}", app.base, session.id, session.client_secret),
        "the client secret rides in the fragment"
    );

    let read: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{}", session.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, session);
}

#[tokio::test]
async fn a_session_chooses_the_page_language_or_leaves_it_to_the_browser() {
    let app = spawn_app().await;
    let plain = app.create_session().await;
    assert_eq!(plain.locale, RequestedLocale::Auto, "auto by default");
    let page: PaySession = app.pay_get(&plain).await.json().await.unwrap();
    assert_eq!(page.locale, RequestedLocale::Auto);

    let mut body = session_body();
    body["locale"] = json!("bn-BD");
    let bangla = app.create_session_with(body).await;
    assert_eq!(
        bangla.locale,
        RequestedLocale::Fixed(Locale::Bn),
        "the region is dropped"
    );
    let page: PaySession = app.pay_get(&bangla).await.json().await.unwrap();
    assert_eq!(page.locale, RequestedLocale::Fixed(Locale::Bn));
    let read: Value = app
        .get(&format!("/v1/checkout/sessions/{}", bangla.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["locale"], "bn");
}

#[tokio::test]
async fn bad_input_names_the_problem() {
    let app = spawn_app().await;
    let with = |patch: Value| {
        let mut body = session_body();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (with(json!({"amount": 0})), "amount_too_small", "amount"),
        (with(json!({"amount": -100})), "amount_too_small", "amount"),
        (
            with(json!({"amount": 100_000_000_000i64})),
            "amount_too_large",
            "amount",
        ),
        (with(json!({"amount": 12.5})), "parameter_invalid", "amount"),
        (
            with(json!({"amount": "1250"})),
            "parameter_invalid",
            "amount",
        ),
        (
            with(json!({"currency": "XYZ"})),
            "invalid_currency",
            "currency",
        ),
        (
            with(json!({"currency": "XAU"})),
            "invalid_currency",
            "currency",
        ),
        (
            with(json!({"currency": null})),
            "parameter_missing",
            "currency",
        ),
        (
            with(json!({"success_url": "https://evil.example/thanks"})),
            "url_not_allowed",
            "success_url",
        ),
        (
            with(json!({"cancel_url": "http://shop.example/cart"})),
            "invalid_url",
            "cancel_url",
        ),
        (
            with(json!({"fail_url": "/relative"})),
            "invalid_url",
            "fail_url",
        ),
        (
            with(json!({"customer_email": "not-an-email"})),
            "invalid_email",
            "customer_email",
        ),
        (with(json!({"locale": "fr"})), "invalid_locale", "locale"),
        (with(json!({"locale": ""})), "invalid_locale", "locale"),
        (
            with(json!({"expires_in_seconds": 60})),
            "parameter_out_of_range",
            "expires_in_seconds",
        ),
        (
            with(json!({"expires_in_seconds": 86_401})),
            "parameter_out_of_range",
            "expires_in_seconds",
        ),
        (
            with(json!({"order_reference": ""})),
            "parameter_invalid",
            "order_reference",
        ),
        (
            with(json!({"metadata": {"k": 5}})),
            "parameter_invalid",
            "metadata.k",
        ),
        (
            with(json!({"colour": "red"})),
            "parameter_unknown",
            "colour",
        ),
    ];
    for (body, code, param) in cases {
        let response = app.post("/v1/checkout/sessions", &body).await;
        let error = expect_error(response, 400, code).await.error;
        assert_eq!(error.param.as_deref(), Some(param), "{body}");
        assert_eq!(error.kind, ErrorType::InvalidRequestError);
    }

    let off_origin = app
        .post(
            "/v1/checkout/sessions",
            &with(json!({"success_url": "https://evil.example/"})),
        )
        .await;
    let message = expect_error(off_origin, 400, "url_not_allowed")
        .await
        .error
        .message;
    assert!(
        message.contains(SHOP),
        "names the registered origins: {message}"
    );

    let malformed = app
        .http
        .post(app.url("/v1/checkout/sessions"))
        .bearer_auth(&app.merchant.secret_key)
        .header("content-type", "application/json")
        .body("{\"amount\": 12")
        .send()
        .await
        .unwrap();
    expect_error(malformed, 400, "invalid_json").await;

    let not_json = app
        .http
        .post(app.url("/v1/checkout/sessions"))
        .bearer_auth(&app.merchant.secret_key)
        .body("amount=1250")
        .send()
        .await
        .unwrap();
    expect_error(not_json, 400, "invalid_content_type").await;
}

#[tokio::test]
async fn nothing_is_stored_when_input_is_bad() {
    let app = spawn_app().await;
    let mut body = session_body();
    body["currency"] = json!("ZZZ");
    assert_eq!(app.post("/v1/checkout/sessions", &body).await.status(), 400);
    body["currency"] = json!("USD");
    body["amount"] = json!(0);
    assert_eq!(app.post("/v1/checkout/sessions", &body).await.status(), 400);
    assert_eq!(app.count("SELECT count(*) FROM checkout_sessions").await, 0);
    app.create_session().await;
    assert_eq!(app.count("SELECT count(*) FROM checkout_sessions").await, 1);
}

#[tokio::test]
async fn keys_are_checked() {
    let app = spawn_app().await;
    let no_key = app
        .http
        .post(app.url("/v1/checkout/sessions"))
        .json(&session_body())
        .send()
        .await
        .unwrap();
    expect_error(no_key, 401, "unauthorized").await;

    for key in [
        format!("{}x", app.merchant.secret_key),
        "sk_test_000000000000000000000000000000000".to_string(),
        "nonsense".to_string(),
        app.merchant.publishable_key.clone(),
    ] {
        let response = app
            .http
            .post(app.url("/v1/checkout/sessions"))
            .bearer_auth(&key)
            .json(&session_body())
            .send()
            .await
            .unwrap();
        let error = expect_error(response, 401, "unauthorized").await.error;
        assert_eq!(error.kind, ErrorType::AuthenticationError);
    }
}

#[tokio::test]
async fn another_merchants_session_is_not_found() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let other = app
        .other_merchant("Other", &["https://other.example"])
        .await;
    let response = app
        .http
        .get(app.url(&format!("/v1/checkout/sessions/{}", session.id)))
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "resource_missing").await;
    let missing = app.get("/v1/checkout/sessions/cs_nope").await;
    expect_error(missing, 404, "resource_missing").await;
}

#[tokio::test]
async fn sessions_expire_on_time_or_on_request() {
    let app = spawn_app().await;
    let timed = app.create_session().await;
    app.clock.advance(3599);
    let read: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{}", timed.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read.status, SessionStatus::Open);
    app.clock.advance(1);
    let read: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{}", timed.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read.status, SessionStatus::Expired);

    let manual = app.create_session().await;
    let path = format!("/v1/checkout/sessions/{}/expire", manual.id);
    let expired: CheckoutSession = app.post(&path, &json!({})).await.json().await.unwrap();
    assert_eq!(expired.status, SessionStatus::Expired);
    expect_error(
        app.post(&path, &json!({})).await,
        409,
        "checkout_session_not_open",
    )
    .await;
}

#[tokio::test]
async fn health_answers() {
    let app = spawn_app().await;
    let body: Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    expect_error(app.get("/v1/nothing-here").await, 404, "resource_missing").await;
}

use kasse_core::api::{CheckoutSession, ConfirmResponse, PaySession};
use kasse_core::error::{DeclineCode, ErrorType};
use kasse_core::redirect::verify_url;
use kasse_core::{PaymentStatus, SessionStatus};
use serde_json::json;
use url::Url;

use crate::helpers::{PAGE_SCRIPT, SHOP, expect_error, good_card, spawn_app};

#[tokio::test]
async fn the_page_reads_its_session_with_the_client_secret_only() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.merchant_name, "Test Shop");
    assert_eq!(page.amount, 1250);
    assert_eq!(page.currency, "USD");
    assert_eq!(page.status, SessionStatus::Open);
    assert!(page.accepted_brands.len() >= 9);
    assert!(page.redirect_url.is_none());
    let cancel = Url::parse(&page.cancel_url).unwrap();
    assert!(cancel.as_str().starts_with(&format!("{SHOP}/cart?")));
    verify_url(&cancel, &app.merchant.signing_secret).expect("the cancel link is signed");

    let path = app.url(&format!("/v1/pay/{}", session.id));
    let no_secret = app.http.get(&path).send().await.unwrap();
    expect_error(no_secret, 401, "unauthorized").await;
    // A merchant key is not a client secret.
    let merchant_key = app
        .http
        .get(&path)
        .bearer_auth(&app.merchant.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(merchant_key, 401, "unauthorized").await;
    let wrong = app
        .http
        .get(&path)
        .header("Kasse-Client-Secret", format!("{}x", session.client_secret))
        .send()
        .await
        .unwrap();
    expect_error(wrong, 404, "resource_missing").await;
}

#[tokio::test]
async fn a_good_card_pays_and_the_redirect_is_signed() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let response = app
        .confirm(&session, &good_card("4242 4242 4242 4242"))
        .await;
    assert_eq!(response.status(), 200);
    let ConfirmResponse::Succeeded {
        payment_id,
        redirect_url,
    } = response.json().await.unwrap()
    else {
        panic!("expected success");
    };
    assert!(payment_id.starts_with("pay_"));

    let redirect = Url::parse(&redirect_url).unwrap();
    assert_eq!(redirect.origin().ascii_serialization(), SHOP);
    assert_eq!(redirect.path(), "/thanks");
    let params: std::collections::HashMap<_, _> = redirect.query_pairs().into_owned().collect();
    assert_eq!(
        params["cart"], "7",
        "the merchant's own parameters are kept"
    );
    assert_eq!(params["session_id"], session.id);
    assert_eq!(params["payment_id"], payment_id);
    assert_eq!(params["status"], "succeeded");
    verify_url(&redirect, &app.merchant.signing_secret).expect("signature verifies");
    let forged = Url::parse(&redirect_url.replace(&payment_id, "pay_forged")).unwrap();
    assert!(verify_url(&forged, &app.merchant.signing_secret).is_err());

    let read: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{}", session.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read.status, SessionStatus::Complete);
    assert_eq!(read.payment_id.as_deref(), Some(payment_id.as_str()));

    let payment = app
        .store
        .payment(&app.merchant.merchant_id, &payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert_eq!(
        (payment.card_bin.as_str(), payment.card_last4.as_str()),
        ("424242", "4242")
    );
    assert_eq!(payment.amount, 1250);
    assert!(payment.authorization_code.is_some());

    // The page now shows the session as paid, with the way back.
    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.status, SessionStatus::Complete);
    assert_eq!(page.redirect_url.as_deref(), Some(redirect_url.as_str()));

    let again = app.confirm(&session, &good_card("4242424242424242")).await;
    expect_error(again, 409, "checkout_session_complete").await;
}

#[tokio::test]
async fn every_sandbox_card_gives_its_answer() {
    let app = spawn_app().await;
    for approved in [
        "4242424242424242",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
        "3566002020360505",
    ] {
        let session = app.create_session().await;
        let cvc = if approved.starts_with('3') && approved.len() == 15 {
            "1234"
        } else {
            "123"
        };
        let mut body = good_card(approved);
        body["card"]["cvc"] = json!(cvc);
        let response = app.confirm(&session, &body).await;
        assert_eq!(response.status(), 200, "{approved} is approved");
    }
    for (number, code) in [
        ("4000000000000002", DeclineCode::CardDeclined),
        ("4000000000009995", DeclineCode::InsufficientFunds),
        ("4000000000009987", DeclineCode::LostCard),
        ("4000000000009979", DeclineCode::StolenCard),
        ("4000000000000069", DeclineCode::ExpiredCard),
        ("4000000000000127", DeclineCode::IncorrectCvc),
        ("4000000000000119", DeclineCode::ProcessingError),
    ] {
        let session = app.create_session().await;
        let response = app.confirm(&session, &good_card(number)).await;
        assert_eq!(response.status(), 402, "{number}");
        let ConfirmResponse::Declined {
            payment_id,
            decline_code,
            message,
            redirect_url,
        } = response.json().await.unwrap()
        else {
            panic!("{number} should decline");
        };
        // Lost and stolen cards reach the customer as the generic decline;
        // the merchant's API keeps the real code.
        let told = match code {
            DeclineCode::LostCard | DeclineCode::StolenCard => DeclineCode::CardDeclined,
            other => other,
        };
        assert_eq!(decline_code, told, "{number}");
        assert_eq!(message, told.customer_message());
        assert_eq!(
            redirect_url, None,
            "Kasse's own sessions keep the customer on the page"
        );
        let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
        assert_eq!(page.last_error.unwrap().decline_code, told, "{number}");
        let payment = app
            .store
            .payment(&app.merchant.merchant_id, &payment_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(payment.status, PaymentStatus::Failed);
        assert_eq!(
            payment.decline_code.map(DeclineCode::as_str),
            Some(code.as_str())
        );
        assert_eq!(app.payment(&payment_id).await.decline_code, Some(code));
    }
}

#[tokio::test]
async fn after_a_decline_the_customer_can_try_again() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let declined = app
        .confirm(&session, &good_card("4000 0000 0000 9995"))
        .await;
    assert_eq!(declined.status(), 402);
    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(
        page.status,
        SessionStatus::Open,
        "a decline leaves the session open"
    );
    let paid = app
        .confirm(&session, &good_card("4242 4242 4242 4242"))
        .await;
    assert_eq!(paid.status(), 200);
    assert_eq!(
        app.count("SELECT count(*) FROM payments WHERE status = 'failed'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM payments WHERE status = 'succeeded'")
            .await,
        1
    );
}

#[tokio::test]
async fn invalid_cards_never_reach_the_acquirer() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let cases = [
        (
            good_card("4242 4242 4242 4241"),
            "incorrect_number",
            "card.number",
        ),
        (good_card("4242 4242"), "invalid_number", "card.number"),
        (
            good_card("9999 9999 9999 9995"),
            "unsupported_card_brand",
            "card.number",
        ),
        (
            json!({"card": {"number": "4242424242424242", "exp_month": 13, "exp_year": 2030, "cvc": "123"}}),
            "invalid_expiry_month",
            "card.exp_month",
        ),
        (
            json!({"card": {"number": "4242424242424242", "exp_month": 10, "exp_year": 2026, "cvc": "123"}}),
            "invalid_expiry_year",
            "card.exp_year",
        ),
        (
            json!({"card": {"number": "378282246310005", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}),
            "invalid_cvc",
            "card.cvc",
        ),
    ];
    for (body, code, param) in cases {
        let error = expect_error(app.confirm(&session, &body).await, 400, code)
            .await
            .error;
        assert_eq!(error.kind, ErrorType::CardError);
        assert_eq!(error.param.as_deref(), Some(param));
    }
    let missing = app
        .confirm(&session, &json!({"card": {"number": "4242424242424242"}}))
        .await;
    expect_error(missing, 400, "parameter_missing").await;
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 0);
}

#[tokio::test]
async fn an_expired_session_cannot_be_paid() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    app.clock.advance(3600);
    let response = app.confirm(&session, &good_card("4242424242424242")).await;
    expect_error(response, 409, "checkout_session_expired").await;
    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.status, SessionStatus::Expired);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 0);
}

#[tokio::test]
async fn concurrent_confirms_charge_once() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let card = good_card("4242424242424242");
    let attempts = (0..6).map(|_| app.confirm(&session, &card));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
}

#[tokio::test]
async fn card_numbers_are_never_stored_in_clear() {
    let app = spawn_app().await;
    for number in ["4242424242424242", "4000000000009995", "5555555555554444"] {
        let session = app.create_session().await;
        app.confirm(&session, &good_card(number)).await;
    }
    let text = app.stored_text().await;
    for number in ["4242424242424242", "4000000000009995", "5555555555554444"] {
        assert!(
            !text.contains(number),
            "{number} found in the database files"
        );
    }
    assert!(text.contains("424242"), "the BIN is kept");
}

#[tokio::test]
async fn the_hosted_page_is_served_with_a_strict_policy() {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    let app = spawn_app().await;
    let session = app.create_session().await;
    let page_url = session.url.split('#').next().unwrap().to_string();
    let response = app.http.get(&page_url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let csp = header("content-security-policy");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PAGE_SCRIPT));
    assert!(
        csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'"
        )),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("cache-control"), "no-store");
    assert!(response.text().await.unwrap().contains(PAGE_SCRIPT));

    let asset = app
        .http
        .get(app.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
}

#[tokio::test]
async fn only_the_merchants_origins_may_frame_the_page_and_only_in_embed_mode() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let page_url = session.url.split('#').next().unwrap().to_string();
    let csp = |response: &reqwest::Response| {
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string()
    };
    let plain = app.http.get(&page_url).send().await.unwrap();
    assert!(
        csp(&plain).ends_with("frame-ancestors 'none'"),
        "{}",
        csp(&plain)
    );
    let embedded = app
        .http
        .get(format!(
            "{page_url}?embed=1&origin=https%3A%2F%2Fshop.example"
        ))
        .send()
        .await
        .unwrap();
    assert!(
        csp(&embedded).ends_with(&format!("frame-ancestors {SHOP}")),
        "{}",
        csp(&embedded)
    );
    let unknown = app
        .http
        .get(app.url("/pay/cs_unknown?embed=1"))
        .send()
        .await
        .unwrap();
    assert!(csp(&unknown).ends_with("frame-ancestors 'none'"));

    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.merchant_origins, vec![SHOP.to_string()]);
}

#[tokio::test]
async fn checkout_js_is_served_at_a_stable_url_with_short_caching() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/checkout.js")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let body = response.text().await.unwrap();
    assert!(body.contains("window.Kasse = { open: open }"));
    assert!(
        body.contains("event.origin !== KASSE"),
        "messages are checked by origin"
    );
}

//! The look of a merchant's pages: set, checked, overlaid by a session,
//! handed to the page, and its logo allowed by the page's policy.

use kasse_core::api::{CheckoutSession, PaySession};
use kasse_core::appearance::{Appearance, ColorScheme};
use serde_json::json;

use crate::helpers::{SHOP, TestApp, expect_error, session_body, spawn_app};

/// The Content-Security-Policy the hosted page of `session` is served with.
async fn page_policy(app: &TestApp, session: &CheckoutSession) -> String {
    let html = app
        .http
        .get(app.url(&format!("/pay/{}", session.id)))
        .send()
        .await
        .unwrap();
    html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_merchant_sets_its_look_and_a_session_changes_part_of_it() {
    let app = spawn_app().await;
    let put = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.http
                .put(app.url("/v1/merchant/appearance"))
                .bearer_auth(&app.merchant.secret_key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let stored = put(json!({
        "color_scheme": "dark",
        "variables": {"color-primary": "#0A7D5A", "radius": "12px", "font-family": "serif"},
        "dark_variables": {"color-primary": "#5fd4a8"},
        "logo_url": format!("{SHOP}/logo.svg"),
    }))
    .await;
    assert_eq!(stored.status(), 200);
    let stored: Appearance = stored.json().await.unwrap();
    assert_eq!(stored.variables["color-primary"], "#0A7D5A");
    let read: Appearance = app
        .get("/v1/merchant/appearance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, stored);

    // Refused values leave what was stored as it was.
    for (body, code, param) in [
        (
            json!({"variables": {"color-primary": "red; background: url(//evil.example)"}}),
            "parameter_invalid",
            "appearance.variables.color-primary",
        ),
        (
            json!({"variables": {"radius": "900px"}}),
            "parameter_invalid",
            "appearance.variables.radius",
        ),
        (
            json!({"dark_variables": {"font-family": "Papyrus"}}),
            "parameter_invalid",
            "appearance.dark_variables.font-family",
        ),
        (
            json!({"variables": {"--kasse-color-primary": "#fff"}}),
            "parameter_invalid",
            "appearance.variables.--kasse-color-primary",
        ),
        (
            json!({"logo_url": "https://elsewhere.example/logo.png"}),
            "url_not_allowed",
            "appearance.logo_url",
        ),
        // Colours that would hide the amount: transparent, or too faint.
        (
            json!({"variables": {"color-text": "#1d223000"}}),
            "parameter_invalid",
            "appearance.variables.color-text",
        ),
        (
            json!({"variables": {"color-text": "#f0f0f0"}, "color_scheme": "light"}),
            "parameter_invalid",
            "appearance.variables.color-text",
        ),
        (
            json!({"variables": {"color-primary": "#ffd700"}, "color_scheme": "light"}),
            "parameter_invalid",
            "appearance.variables.color-primary",
        ),
        (
            json!({"dark_variables": {"color-text": "#2a2f3c"}}),
            "parameter_invalid",
            "appearance.dark_variables.color-text",
        ),
    ] {
        let error = expect_error(put(body.clone()).await, 400, code).await;
        assert_eq!(error.error.param.as_deref(), Some(param), "{body}");
    }
    let raw = put(json!({"css": "body { display: none }"})).await;
    assert_eq!(raw.status(), 400);
    let after: Appearance = app
        .get("/v1/merchant/appearance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, stored);

    // A session changes the primary colour only; the page gets both merged.
    let mut body = session_body();
    body["appearance"] =
        json!({"variables": {"color-primary": "#222222"}, "color_scheme": "light"});
    let session: CheckoutSession = app.create_session_with(body).await;
    assert_eq!(
        session.appearance.as_ref().unwrap().color_scheme,
        Some(ColorScheme::Light)
    );
    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.appearance.color_scheme, Some(ColorScheme::Light));
    assert_eq!(page.appearance.variables["color-primary"], "#222222");
    assert_eq!(page.appearance.variables["radius"], "12px");
    assert_eq!(page.appearance.dark_variables["color-primary"], "#5fd4a8");
    assert_eq!(
        page.appearance.logo_url.as_deref(),
        Some("https://shop.example/logo.svg")
    );

    // The hosted page may load that logo, and no other outside image.
    let csp = page_policy(&app, &session).await;
    assert!(
        csp.contains("img-src 'self' data: https://shop.example;"),
        "{csp}"
    );
}

#[tokio::test]
async fn a_session_with_a_bad_appearance_is_not_created() {
    let app = spawn_app().await;
    let mut body = session_body();
    body["appearance"] = json!({"variables": {"space": "1px"}});
    let response = app.post("/v1/checkout/sessions", &body).await;
    let error = expect_error(response, 400, "parameter_invalid").await;
    assert_eq!(
        error.error.param.as_deref(),
        Some("appearance.variables.space")
    );
    assert!(
        error.error.message.contains("between 4px and 48px"),
        "{error:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM checkout_sessions").await, 0);

    // Without any appearance the page gets the defaults, and no outside image.
    let session = app.create_session().await;
    let page: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.appearance, Appearance::default());
    let csp = page_policy(&app, &session).await;
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
}

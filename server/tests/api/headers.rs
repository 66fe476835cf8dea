//! What a security scanner looks for in every answer.

use crate::helpers::{PAGE_SCRIPT, UPDATE_SCRIPT, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_api_answer_is_nosniff_and_never_stored() {
    let app = spawn_app().await;
    let ok = app.get("/v1/payments").await;
    let unauthorised = app.http.get(app.url("/v1/payments")).send().await.unwrap();
    let missing = app.get("/v1/nothing-here").await;
    let created = app
        .post("/v1/checkout/sessions", &crate::helpers::session_body())
        .await;
    for (what, response) in [
        ("200", ok),
        ("401", unauthorised),
        ("404", missing),
        ("201", created),
    ] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["cache-control"], "no-store", "{what}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over plain http ({what})"
        );
    }
}

#[tokio::test]
async fn under_an_https_public_url_every_answer_asks_for_https_only() {
    let app = spawn_app_with(|c| c.public_url = Some("https://pay.example/".into())).await;
    for path in ["/healthz", "/v1/payments", "/static/app.js", "/docs"] {
        let response = app.get(path).await;
        let hsts = response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(hsts.starts_with("max-age=63072000"), "{path}: {hsts}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn the_built_pages_are_not_served_without_their_policy() {
    let app = spawn_app().await;
    for path in [
        "/static/index.html",
        "/static/update/index.html",
        "/static/terminal/index.html",
        "/static/",
        "/static/update/",
        "/static/terminal/",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let script = app
        .http
        .get(app.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200, "the assets themselves are served");
    // The pages are served where they belong, with their policy.
    let terminal = app.http.get(app.url("/terminal")).send().await.unwrap();
    assert_eq!(terminal.status(), 200);
    assert!(terminal.headers().contains_key("content-security-policy"));
}

/// The card update page is its own bundle: `/update/{id}` serves it, not the
/// payment page, with a policy that allows exactly its own bootstrap.
#[tokio::test]
async fn the_card_update_page_is_served_from_its_own_bundle() {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/update/pmu_anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let hash =
        |script: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
    assert!(
        csp.contains(&format!("'sha256-{}'", hash(UPDATE_SCRIPT))),
        "{csp}"
    );
    assert!(!csp.contains(&hash(PAGE_SCRIPT)), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains(UPDATE_SCRIPT) && !html.contains(PAGE_SCRIPT));
}

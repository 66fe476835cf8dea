//! The built front end as browsers fetch it: precompressed, and cached for
//! good only where the name changes with the content.

use crate::helpers::{HASHED_CSS, spawn_app};

async fn fetch(app: &crate::helpers::TestApp, path: &str, encoding: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hashed_asset_comes_precompressed_and_is_cached_for_a_year() {
    let app = spawn_app().await;
    let path = format!("/static/{HASHED_CSS}");
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("identity", None, "body { color: black }"),
    ] {
        let response = fetch(&app, &path, accept).await;
        assert_eq!(response.status(), 200, "{accept}");
        let headers = response.headers().clone();
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(headers["content-type"], "text/css", "{accept}");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["vary"], "accept-encoding");
        assert_eq!(response.text().await.unwrap(), body, "{accept}");
    }
}

#[tokio::test]
async fn unhashed_files_and_the_page_are_never_served_stale() {
    let app = spawn_app().await;
    let response = fetch(&app, "/static/app.js", "gzip").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert!(
        response.headers().get("content-encoding").is_none(),
        "no .gz beside it, so it comes as it is"
    );

    let session = app.create_session().await;
    let page = app
        .http
        .get(format!("{}/pay/{}", app.base, session.id))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");

    let missing = fetch(&app, "/static/main-ffffffffffffffff.css", "gzip").await;
    assert_eq!(missing.status(), 404);
}

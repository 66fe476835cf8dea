//! The hosted payment page and the built front end's static files.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

use kasse_core::appearance::Appearance;

use super::AppState;
pub use crate::built::HostedPage;
use crate::domain::appearance::effective as effective_appearance;
use crate::store::Merchant;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/pay/{id}", get(page))
        .route("/update/{id}", get(update_page))
        .route("/checkout.js", get(checkout_js))
}

/// The embed loader merchants load with a `<script>` tag.
pub const CHECKOUT_JS: &str = include_str!("../../assets/checkout.js");

async fn checkout_js() -> Response {
    loader_script(CHECKOUT_JS)
}

/// A script merchants load from their pages at a stable URL.
pub fn loader_script(script: &'static str) -> Response {
    let mut response = script.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // A stable URL: short caching, so fixes reach every shop within minutes.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Who may frame a page: in embed mode the merchant's origins, else nobody.
pub async fn frame_ancestors(ctx: &AppState, merchant_id: Option<&str>, embed: bool) -> String {
    let merchant = match merchant_id.filter(|_| embed) {
        Some(id) => ctx.store.merchant(id).await.ok().flatten(),
        None => None,
    };
    ancestors_of(merchant.as_ref(), embed)
}

fn ancestors_of(merchant: Option<&Merchant>, embed: bool) -> String {
    let origins: Vec<&str> = merchant
        .filter(|_| embed)
        .map(|m| m.origins.iter().map(|o| o.as_str()).collect())
        .unwrap_or_default();
    if origins.is_empty() {
        "frame-ancestors 'none'".into()
    } else {
        format!("frame-ancestors {}", origins.join(" "))
    }
}

/// The origin of the logo a page shows, if it has one.
fn logo_origin(appearance: &Appearance) -> Option<String> {
    let origin = url::Url::parse(appearance.logo_url.as_deref()?)
        .ok()?
        .origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[derive(serde::Deserialize)]
pub struct EmbedQuery {
    #[serde(default)]
    embed: Option<String>,
}

impl EmbedQuery {
    pub fn embedded(&self) -> bool {
        self.embed.as_deref() == Some("1")
    }
}

/// Static files of the built front end, under `/static/`: the `.br` or
/// `.gz` trunk wrote beside each (see `scripts/precompress.sh`) when the
/// browser takes it, and cached for a year when the name carries trunk's
/// content hash; anything else is revalidated on every use.
pub fn static_files(page: &HostedPage) -> axum::Router {
    axum::Router::new()
        .fallback_service(
            ServeDir::new(&page.static_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(axum::middleware::from_fn(cache_policy))
        .layer(axum::middleware::from_fn(no_pages_here))
}

/// The built pages are served only at their own routes, with their
/// Content-Security-Policy; under `/static` they would be served without it.
async fn no_pages_here(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    if path.ends_with(".html") || path.ends_with('/') || path.is_empty() {
        return super::ApiError::NotFound {
            kind: "file",
            id: path.to_string(),
        }
        .into_response();
    }
    next.run(request).await
}

async fn cache_policy(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let immutable = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether a file name carries trunk's content hash, as in
/// `kasse-web-1f0c9e2d3b4a5c6d_bg.wasm` or `main-1f0c9e2d3b4a5c6d.css`: a new
/// build gives a new name, so the old one may be cached for good.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

async fn page(
    State(ctx): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<EmbedQuery>,
) -> Response {
    let page = &ctx.hosted_page;
    let Some(html) = page.html() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The payment page has not been built. Run `make run`, which builds it.",
        )
            .into_response();
    };
    let session = ctx.store.session_for_payer(&id).await.ok().flatten();
    let merchant = match &session {
        Some(s) => ctx.store.merchant(&s.merchant_id).await.ok().flatten(),
        None => None,
    };
    let ancestors = ancestors_of(merchant.as_ref(), query.embedded());
    // The merchant's logo is the one image from elsewhere the page may show.
    let logo = session
        .as_ref()
        .zip(merchant.as_ref())
        .and_then(|(s, m)| logo_origin(&effective_appearance(m, s)));
    let policy = match logo {
        Some(origin) => page.csp().replacen(
            "img-src 'self' data:",
            &format!("img-src 'self' data: {origin}"),
            1,
        ),
        None => page.csp().to_string(),
    };
    page_response(html, &format!("{policy}; {ancestors}"))
}

/// The card update page: the same built page, never in a frame.
async fn update_page(State(ctx): State<AppState>) -> Response {
    let page = &ctx.update_page;
    let Some(html) = page.html() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The card update page has not been built. Run `make run`, which builds it.",
        )
            .into_response();
    };
    page_response(html, &format!("{}; frame-ancestors 'none'", page.csp()))
}

/// A page's HTML with its policy, no referrer, no sniffing and no caching.
pub(crate) fn page_response(html: &str, csp: &str) -> Response {
    let mut response = Html(html.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(csp).expect("the policy is ASCII"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_names_with_trunks_hash_are_immutable() {
        assert!(is_content_hashed("/kasse-web-1f0c9e2d3b4a5c6d_bg.wasm"));
        assert!(is_content_hashed("/kasse-web-1f0c9e2d3b4a5c6d.js"));
        assert!(is_content_hashed("/static/main-0a1b2c3d4e5f6a7b.css"));
        assert!(is_content_hashed("/main-0a1b2c3d4e5f6a7b.css.br"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/kasse-web.js"));
        assert!(!is_content_hashed("/kasse-web_bg.wasm"));
        assert!(!is_content_hashed("/logo-dark.svg"));
    }
}

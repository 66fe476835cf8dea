//! The HTTP surface: one context, one router per resource.

mod acs;
mod appearance;
mod balance;
mod customers;
mod docs;
mod error;
mod extract;
pub mod idempotency;
mod link_pages;
mod links;
pub(crate) mod pages;
mod pay;
mod payments;
mod payouts;
mod sessions;
mod staff_auth;
mod subscriptions;
pub mod terminal;
mod update;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use utoipa::{IntoParams, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
pub use extract::{
    ApiJson, ClientSecret, MerchantAuth, OptionalJson, client_ip, page_limit, query_params,
};
pub use pages::{CHECKOUT_JS, HostedPage, loader_script};

pub use crate::state::AppState;

/// The `Idempotency-Key` header every merchant POST accepts.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Makes a retried POST safe: the first response is replayed for 24 hours.
    #[param(rename = "Idempotency-Key")]
    #[allow(dead_code)]
    idempotency_key: Option<String>,
}

/// Other wire formats served beside Kasse's own API (the compatibility
/// surfaces), documented with it.
#[derive(Default)]
pub struct Surfaces {
    /// Routes that authenticate themselves.
    pub public: OpenApiRouter<AppState>,
    /// Routes behind a merchant's key: they take `Idempotency-Key`, and a
    /// member of staff only with the role each declares.
    pub merchant: OpenApiRouter<AppState>,
    /// Pages the customer's browser passes through, not in the document.
    pub pages: Router<AppState>,
}

pub fn api_router(ctx: AppState, surfaces: Surfaces) -> Router {
    let (merchant_api, merchant_doc) = OpenApiRouter::new()
        .merge(sessions::router())
        .merge(payments::router())
        .merge(customers::router())
        .merge(subscriptions::router())
        .merge(links::router())
        .merge(balance::router())
        .merge(payouts::router())
        .merge(webhooks::router())
        .merge(appearance::router())
        .merge(surfaces.merchant)
        .split_for_parts();
    let roles = Arc::new(staff_auth::RouteRoles::from_document(&merchant_doc));
    let merchant_api = merchant_api
        .route_layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            idempotency::idempotency,
        ))
        .layer(axum::Extension(roles));
    let (public, mut doc) = OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .routes(routes!(healthz))
        .merge(pay::router())
        .merge(update::router())
        .merge(surfaces.public)
        .split_for_parts();
    doc.merge(merchant_doc);
    let reference = Arc::new(docs::Reference::new(&doc));
    let json = reference.clone();
    Router::new()
        .merge(public)
        .merge(merchant_api)
        .merge(acs::router())
        .merge(pages::router())
        .merge(link_pages::router())
        .merge(surfaces.pages)
        .merge(terminal::router())
        .route(
            "/openapi.json",
            get(move || async move { json.json_response() }),
        )
        .route(
            "/docs",
            get(move || async move { reference.html_response() }),
        )
        .with_state(ctx)
}

/// Health
///
/// Answers while the process serves.
#[utoipa::path(get, path = "/healthz", tag = "Operations",
    responses((status = 200, description = "Serving", body = serde_json::Value)))]
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

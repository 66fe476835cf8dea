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
        .routes(routes!(readyz))
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

/// `/metrics`: the Prometheus text format, behind a bearer token if the
/// operator set one. The queues' and the pool's gauges are read now.
pub async fn metrics_page(
    axum::extract::State((ctx, token)): axum::extract::State<(AppState, Option<String>)>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    if let Some(token) = &token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::secrets::constant_time_eq(sent, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Send the metrics token as `Authorization: Bearer …`.\n",
            )
                .into_response();
        }
    }
    let m = &ctx.metrics;
    let now = crate::clock::now_ms();
    match ctx.store.queue_stats(now).await {
        Ok(queues) => {
            for (queue, pending, since) in queues {
                let labels = crate::metrics::QueueLabels {
                    queue: queue.to_string(),
                };
                m.queue_pending.get_or_create(&labels).set(pending);
                m.queue_oldest_seconds
                    .get_or_create(&labels)
                    .set((now - since).max(0) / 1000);
            }
        }
        Err(error) => tracing::warn!(%error, "/metrics could not read the queues"),
    }
    let (size, idle) = ctx.store.pool_connections();
    m.pool_size.set(i64::from(size));
    m.pool_idle.set(idle as i64);
    if let Ok(waited) = ctx.store.acquire_time().await {
        m.pool_acquire_seconds.observe(waited.as_secs_f64());
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}

/// Readiness
///
/// 200 when the database answers within two seconds, holds every migration
/// of this build, and the background workers (the sweeper, the webhook
/// worker and, with a mail server, the mail worker) went round their loops
/// lately; otherwise 503, with each check's answer and the first reason.
/// A load balancer sends customers only to a ready instance.
#[utoipa::path(get, path = "/readyz", tag = "Operations",
    responses(
        (status = 200, description = "Ready", body = serde_json::Value),
        (status = 503, description = "Not ready, and why", body = serde_json::Value),
    ))]
async fn readyz(
    axum::extract::State(ctx): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    use std::sync::atomic::Ordering;
    let mut checks = serde_json::Map::new();
    let mut reasons = Vec::new();
    let mut check = |name: &str, problem: Option<String>| {
        checks.insert(
            name.to_string(),
            problem.clone().unwrap_or_else(|| "ok".into()).into(),
        );
        reasons.extend(problem.map(|p| format!("{name}: {p}")));
    };
    let asked = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        ctx.store.unapplied_migrations(),
    )
    .await;
    match asked {
        Ok(Ok(0)) => {
            check("database", None);
            check("migrations", None);
        }
        Ok(Ok(n)) => {
            check("database", None);
            check(
                "migrations",
                Some(format!(
                    "{n} of this build's migrations are not applied; run `kasse migrate`"
                )),
            );
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database failed");
            check("database", Some("the database does not answer".into()));
        }
        Err(_) => check("database", Some("no answer within 2 s".into())),
    }
    let now = crate::clock::now_ms();
    let stale = |beat: &std::sync::atomic::AtomicI64, every: std::time::Duration| {
        let last = beat.load(Ordering::Relaxed);
        let allowed = 3 * every.as_millis() as i64 + 10_000;
        if last == 0 {
            Some("not started".to_string())
        } else if now - last > allowed {
            Some(format!("last went round {} s ago", (now - last) / 1000))
        } else {
            None
        }
    };
    check(
        "sweeper",
        stale(&ctx.heartbeats.sweeper, ctx.limits.sweep_interval),
    );
    check(
        "webhooks",
        stale(&ctx.heartbeats.deliveries, ctx.webhooks.poll_interval),
    );
    if let Some(mail) = &ctx.mail {
        check(
            "mail",
            stale(&ctx.heartbeats.mail, mail.config.poll_interval),
        );
    }
    let ready = reasons.is_empty();
    let mut body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": checks,
    });
    if let Some(reason) = reasons.first() {
        body["reason"] = reason.clone().into();
    }
    let status = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

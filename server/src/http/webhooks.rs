//! `/v1/webhook_endpoints` and `/v1/events`: where a merchant's events go,
//! what was sent, every attempt, and sending again.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kasse_core::api::{
    self, AttemptInfo, CreateWebhookEndpoint, DeliveryInfo, EVENT_TYPES, ErrorBody, EventDetail,
    EventList, WebhookEndpointList,
};
use kasse_core::origin::is_loopback_http;
use serde::Deserialize;
use url::Url;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth};
use crate::domain::events::now_ms;
use crate::ids::new_id;
use crate::outbound;
use crate::secrets::new_webhook_secret;
use crate::store::{DeliveryStatus, Event, EventQuery, Merchant, WebhookEndpoint};

/// How long a rotated-out secret keeps signing beside the new one.
const ROTATION_OVERLAP_SECONDS: i64 = 24 * 3600;
const MAX_ENDPOINTS: usize = 16;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_events))
        .routes(routes!(retrieve_event))
        .routes(routes!(resend_event))
}

fn endpoint_to_api(e: &WebhookEndpoint, secret: Option<String>) -> api::WebhookEndpoint {
    api::WebhookEndpoint {
        id: e.id.clone(),
        object: "webhook_endpoint".into(),
        url: e.url.clone(),
        enabled_events: e.enabled_events.clone(),
        secret,
        created: e.created,
    }
}

fn event_to_api(e: &Event) -> api::Event {
    api::Event {
        id: e.id.clone(),
        kind: e.kind.clone(),
        created: e.created,
        data: e.data.clone(),
    }
}

/// A webhook URL: https, or with `allow_private` (the demo, tests) also
/// http to loopback; never an internal address unless `allow_private`.
/// Names are judged again at connect time, on what they resolve to.
pub fn webhook_url(param: &str, input: &str, allow_private: bool) -> Result<Url, ApiError> {
    let bad = |message: String| ApiError::invalid("invalid_url", param, message);
    let url =
        Url::parse(input.trim()).map_err(|_| bad(format!("'{input}' is not an absolute URL.")))?;
    let loopback_http = allow_private && is_loopback_http(&url);
    if url.scheme() != "https" && !loopback_http {
        return Err(bad(format!("'{input}' must use https.")));
    }
    if url.host().is_none() {
        return Err(bad(format!("'{input}' has no host.")));
    }
    if let Err(refused) = outbound::check_literal(&url, allow_private) {
        return Err(bad(format!("'{input}' is refused: {refused}.")));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad(format!(
            "'{input}' must not carry a fragment or credentials."
        )));
    }
    Ok(url)
}

fn enabled_events(events: Option<Vec<String>>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(mut events) = events else {
        return Ok(None);
    };
    if events.is_empty() {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "enabled_events",
            "enabled_events must name at least one event type; leave it out for all of them.",
        ));
    }
    if let Some(unknown) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "enabled_events",
            format!(
                "Unknown event type '{unknown}'; known types: {}.",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    events.sort();
    events.dedup();
    Ok(Some(events))
}

/// Add a webhook endpoint
///
/// The answer carries the endpoint's `whsec_` secret: it is shown only now.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints", tag = "Webhooks",
    params(IdempotencyKey),
    request_body = CreateWebhookEndpoint,
    responses(
        (status = 201, description = "The endpoint, with its secret", body = api::WebhookEndpoint),
        (status = 400, description = "A bad URL or event type", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn create_endpoint(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateWebhookEndpoint>,
) -> Result<(StatusCode, Json<api::WebhookEndpoint>), ApiError> {
    let url = webhook_url("url", &req.url, ctx.webhooks.allow_private_addresses)?;
    let enabled_events = enabled_events(req.enabled_events)?;
    if ctx.store.endpoints(&merchant.id).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::Conflict {
            code: "too_many_endpoints",
            message: format!("A merchant may have at most {MAX_ENDPOINTS} webhook endpoints."),
        });
    }
    let endpoint = WebhookEndpoint {
        id: new_id("we"),
        merchant_id: merchant.id.clone(),
        url: url.into(),
        enabled_events,
        secret: new_webhook_secret(),
        previous_secret: None,
        previous_secret_expires: None,
        created: ctx.clock.now(),
    };
    ctx.store.insert_endpoint(&endpoint).await?;
    tracing::info!(endpoint = %endpoint.id, url = %endpoint.url, "webhook endpoint added");
    Ok((
        StatusCode::CREATED,
        Json(endpoint_to_api(&endpoint, Some(endpoint.secret.clone()))),
    ))
}

/// List webhook endpoints
#[utoipa::path(
    get, path = "/v1/webhook_endpoints", tag = "Webhooks",
    responses((status = 200, description = "Every endpoint, without secrets", body = WebhookEndpointList)),
    security(("secret_key" = []))
)]
async fn list_endpoints(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    let endpoints = ctx.store.endpoints(&merchant.id).await?;
    Ok(Json(WebhookEndpointList {
        object: "list".into(),
        data: endpoints.iter().map(|e| endpoint_to_api(e, None)).collect(),
    }))
}

async fn own_endpoint(
    ctx: &AppState,
    merchant: &Merchant,
    id: &str,
) -> Result<WebhookEndpoint, ApiError> {
    ctx.store
        .endpoint(id)
        .await?
        .filter(|e| e.merchant_id == merchant.id)
        .ok_or_else(|| ApiError::NotFound {
            kind: "webhook endpoint",
            id: id.to_string(),
        })
}

/// Remove a webhook endpoint
///
/// Deliveries already made stay listed on their events.
#[utoipa::path(
    delete, path = "/v1/webhook_endpoints/{id}", tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint's id, `we_…`")),
    responses(
        (status = 200, description = "The removed endpoint", body = api::WebhookEndpoint),
        (status = 404, description = "No such endpoint", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn delete_endpoint(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::WebhookEndpoint>, ApiError> {
    let endpoint = own_endpoint(&ctx, &merchant, &id).await?;
    ctx.store
        .delete_endpoint(&id, &merchant.id, ctx.clock.now())
        .await?;
    Ok(Json(endpoint_to_api(&endpoint, None)))
}

/// Rotate an endpoint's secret
///
/// Returns the new secret, shown only now. For 24 hours deliveries carry
/// signatures under both, so receivers can switch without losing any.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints/{id}/rotate_secret", tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint's id, `we_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = api::WebhookEndpoint),
        (status = 404, description = "No such endpoint", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn rotate_secret(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::WebhookEndpoint>, ApiError> {
    let endpoint = own_endpoint(&ctx, &merchant, &id).await?;
    let secret = new_webhook_secret();
    // The delivery worker signs by wall-clock time (it schedules in real
    // milliseconds), so the overlap is measured on the same clock.
    let until = now_ms() / 1000 + ROTATION_OVERLAP_SECONDS;
    if !ctx
        .store
        .rotate_endpoint_secret(&id, &merchant.id, &secret, until)
        .await?
    {
        return Err(ApiError::NotFound {
            kind: "webhook endpoint",
            id,
        });
    }
    Ok(Json(endpoint_to_api(&endpoint, Some(secret))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventParams {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events about this payment (`pay_…`): its own, its refunds' and
    /// its session's.
    payment: Option<String>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List events
///
/// Newest first; for the next page pass the last id as `starting_after`.
#[utoipa::path(
    get, path = "/v1/events", tag = "Webhooks",
    params(EventParams),
    responses(
        (status = 200, description = "One page of events", body = EventList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn list_events(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<EventParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventList>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::InvalidRequest {
        code: "parameter_invalid",
        message: format!("{}.", e.body_text()),
        param: None,
    })?;
    if let Some(kind) = params.kind.as_deref().filter(|k| !EVENT_TYPES.contains(k)) {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "type",
            format!(
                "Unknown event type '{kind}'; known types: {}.",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let limit = params.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "parameter_out_of_range",
            "limit",
            format!("limit must be between 1 and 100; got {limit}."),
        ));
    }
    let mut events = ctx
        .store
        .list_events(
            &merchant.id,
            &EventQuery {
                kind: params.kind,
                payment_id: params.payment,
                starting_after: params.starting_after,
                limit: limit + 1,
            },
        )
        .await?;
    let has_more = events.len() > limit as usize;
    events.truncate(limit as usize);
    Ok(Json(EventList {
        object: "list".into(),
        data: events.iter().map(event_to_api).collect(),
        has_more,
    }))
}

async fn own_event(ctx: &AppState, merchant: &Merchant, id: &str) -> Result<Event, ApiError> {
    ctx.store
        .event(id)
        .await?
        .filter(|e| e.merchant_id == merchant.id)
        .ok_or_else(|| ApiError::NotFound {
            kind: "event",
            id: id.to_string(),
        })
}

async fn detail(ctx: &AppState, event: &Event) -> Result<EventDetail, ApiError> {
    let deliveries = ctx.store.event_deliveries(&event.id).await?;
    let attempts = ctx.store.event_attempts(&event.id).await?;
    Ok(EventDetail {
        event: event_to_api(event),
        deliveries: deliveries
            .iter()
            .map(|d| DeliveryInfo {
                id: d.id.clone(),
                url: d.url.clone(),
                endpoint_id: d.endpoint_id.clone(),
                status: d.status.as_str().into(),
                attempts: d.attempts,
                next_attempt_ms: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_ms),
            })
            .collect(),
        attempts: attempts
            .iter()
            .map(|a| AttemptInfo {
                delivery_id: a.delivery_id.clone(),
                attempted: a.attempted,
                http_status: a.http_status,
                latency_ms: a.latency_ms,
                error: a.error.clone(),
            })
            .collect(),
    })
}

/// Retrieve an event with its deliveries and attempts
#[utoipa::path(
    get, path = "/v1/events/{id}", tag = "Webhooks",
    params(("id" = String, Path, description = "The event's id, `evt_…`")),
    responses(
        (status = 200, description = "The event, where it went, and each attempt", body = EventDetail),
        (status = 404, description = "No such event", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn retrieve_event(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let event = own_event(&ctx, &merchant, &id).await?;
    Ok(Json(detail(&ctx, &event).await?))
}

/// Send an event again
///
/// To every endpoint that wants it now (and the session's own URL), with
/// the same `webhook-id`, whatever became of earlier deliveries.
#[utoipa::path(
    post, path = "/v1/events/{id}/resend", tag = "Webhooks",
    params(("id" = String, Path, description = "The event's id, `evt_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The event with its new deliveries", body = EventDetail),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 409, description = "Nowhere to send it", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn resend_event(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let event = own_event(&ctx, &merchant, &id).await?;
    if ctx.store.resend_event(&event, now_ms()).await? == 0 {
        return Err(ApiError::Conflict {
            code: "no_destination",
            message: "No webhook endpoint wants this event; add one first.".into(),
        });
    }
    ctx.wake_deliveries.notify_one();
    Ok(Json(detail(&ctx, &event).await?))
}

//! `/v1/webhook_endpoints` and `/v1/events`: where a merchant's events go,
//! what was sent, every attempt, and sending again.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kasse_core::api::{
    self, AttemptInfo, CreateWebhookEndpoint, DeliveryInfo, ErrorBody, EventDetail, EventList,
    EventType, WebhookEndpointList,
};
use kasse_core::error::ErrorCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth, page_limit, query_params};
use crate::domain::webhooks;
use crate::store::{DeliveryStatus, Event, EventQuery, WebhookEndpoint};

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
        kind: e.kind.as_str().to_string(),
        created: e.created,
        data: e.data.clone(),
    }
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
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn create_endpoint(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateWebhookEndpoint>,
) -> Result<(StatusCode, Json<api::WebhookEndpoint>), ApiError> {
    let endpoint = webhooks::add_endpoint(&ctx, &merchant.id, &req.url, req.enabled_events).await?;
    Ok((
        StatusCode::CREATED,
        Json(endpoint_to_api(&endpoint, Some(endpoint.secret.clone()))),
    ))
}

/// List webhook endpoints
#[utoipa::path(
    get, path = "/v1/webhook_endpoints", tag = "Webhooks",
    responses((status = 200, description = "Every endpoint, without secrets", body = WebhookEndpointList)),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
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
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn delete_endpoint(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::WebhookEndpoint>, ApiError> {
    let endpoint = webhooks::remove_endpoint(&ctx, &merchant.id, &id).await?;
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
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn rotate_secret(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::WebhookEndpoint>, ApiError> {
    let (endpoint, secret) = webhooks::rotate_secret(&ctx, &merchant.id, &id).await?;
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
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list_events(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<EventParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventList>, ApiError> {
    let params = query_params(params)?;
    let kind = params
        .kind
        .as_deref()
        .map(|k| EventType::parse(k).ok_or(k))
        .transpose();
    if let Err(kind) = kind {
        return Err(ApiError::invalid(
            ErrorCode::ParameterInvalid,
            "type",
            format!(
                "Unknown event type '{kind}'; known types: {}.",
                EventType::ALL.map(EventType::as_str).join(", ")
            ),
        ));
    }
    let limit = page_limit(params.limit)?;
    let mut events = ctx
        .store
        .list_events(
            &merchant.id,
            &EventQuery {
                kind: kind.ok().flatten(),
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
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve_event(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let event = webhooks::find_event(&ctx, &merchant.id, &id).await?;
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
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn resend_event(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let event = webhooks::resend(&ctx, &merchant.id, &id).await?;
    Ok(Json(detail(&ctx, &event).await?))
}

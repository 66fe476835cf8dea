//! Where a merchant's events go: endpoint URLs held to the rules against
//! server-side request forgery, secrets rotated with an overlap, events
//! sent again on request.

use kasse_core::api::EventType;
use kasse_core::error::ErrorCode;
use kasse_core::origin::is_loopback_http;
use url::Url;

use super::DomainError;
use super::events::now_ms;
use crate::ids::new_id;
use crate::outbound;
use crate::secrets::new_webhook_secret;
use crate::state::AppState;
use crate::store::{Event, WebhookEndpoint};

/// How long a rotated-out secret keeps signing beside the new one.
const ROTATION_OVERLAP_SECONDS: i64 = 24 * 3600;
const MAX_ENDPOINTS: usize = 16;

/// A webhook URL: https, or with `allow_private` (the demo, tests) also
/// http to loopback; never an internal address unless `allow_private`.
/// Names are judged again at connect time, on what they resolve to.
pub fn webhook_url(param: &str, input: &str, allow_private: bool) -> Result<Url, DomainError> {
    let bad = |message: String| DomainError::invalid(ErrorCode::InvalidUrl, param, message);
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

pub fn enabled_events(events: Option<Vec<String>>) -> Result<Option<Vec<String>>, DomainError> {
    let Some(mut events) = events else {
        return Ok(None);
    };
    if events.is_empty() {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "enabled_events",
            "enabled_events must name at least one event type; leave it out for all of them.",
        ));
    }
    if let Some(unknown) = events.iter().find(|e| EventType::parse(e).is_none()) {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "enabled_events",
            format!(
                "Unknown event type '{unknown}'; known types: {}.",
                EventType::ALL.map(EventType::as_str).join(", ")
            ),
        ));
    }
    events.sort();
    events.dedup();
    Ok(Some(events))
}

/// Adds an endpoint for the merchant, with a fresh `whsec_` secret.
pub async fn add_endpoint(
    ctx: &AppState,
    merchant_id: &str,
    url: &str,
    enabled_events: Option<Vec<String>>,
) -> Result<WebhookEndpoint, DomainError> {
    let url = webhook_url("url", url, ctx.webhooks.allow_private_addresses)?;
    let enabled_events = self::enabled_events(enabled_events)?;
    if ctx.store.endpoints(merchant_id).await?.len() >= MAX_ENDPOINTS {
        return Err(DomainError::Conflict {
            code: ErrorCode::TooManyEndpoints,
            message: format!("A merchant may have at most {MAX_ENDPOINTS} webhook endpoints."),
        });
    }
    let endpoint = WebhookEndpoint {
        id: new_id("we"),
        merchant_id: merchant_id.to_string(),
        url: url.into(),
        enabled_events,
        secret: new_webhook_secret(),
        previous_secret: None,
        previous_secret_expires: None,
        created: ctx.clock.now(),
    };
    ctx.store.insert_endpoint(&endpoint).await?;
    tracing::info!(endpoint = %endpoint.id, url = %endpoint.url, "webhook endpoint added");
    Ok(endpoint)
}

pub async fn find_endpoint(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<WebhookEndpoint, DomainError> {
    ctx.store
        .endpoint(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "webhook endpoint",
            id: id.to_string(),
        })
}

/// Removes an endpoint; what was still due to it goes nowhere.
pub async fn remove_endpoint(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<WebhookEndpoint, DomainError> {
    let endpoint = find_endpoint(ctx, merchant_id, id).await?;
    ctx.store
        .delete_endpoint(id, merchant_id, ctx.clock.now())
        .await?;
    Ok(endpoint)
}

/// Gives an endpoint a new secret; the old one keeps signing beside it for
/// a day. Returns the endpoint and its new secret.
pub async fn rotate_secret(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<(WebhookEndpoint, String), DomainError> {
    let endpoint = find_endpoint(ctx, merchant_id, id).await?;
    let secret = new_webhook_secret();
    // The delivery worker signs by wall-clock time (it schedules in real
    // milliseconds), so the overlap is measured on the same clock.
    let until = now_ms() / 1000 + ROTATION_OVERLAP_SECONDS;
    if !ctx
        .store
        .rotate_endpoint_secret(id, merchant_id, &secret, until)
        .await?
    {
        return Err(DomainError::NotFound {
            kind: "webhook endpoint",
            id: id.to_string(),
        });
    }
    Ok((endpoint, secret))
}

pub async fn find_event(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Event, DomainError> {
    ctx.store
        .event(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "event",
            id: id.to_string(),
        })
}

/// Sends an event again to every endpoint that wants it now (and its
/// session's own URL), with the same id, whatever became of earlier tries.
pub async fn resend(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Event, DomainError> {
    let event = find_event(ctx, merchant_id, id).await?;
    if ctx.store.resend_event(&event, now_ms()).await? == 0 {
        return Err(DomainError::Conflict {
            code: ErrorCode::NoDestination,
            message: "No webhook endpoint wants this event; add one first.".into(),
        });
    }
    ctx.wake_deliveries.notify_one();
    Ok(event)
}

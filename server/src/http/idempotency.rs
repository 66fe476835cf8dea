//! `Idempotency-Key` on merchant POSTs: the first response, status and
//! body, is replayed for 24 hours; the same key with another request is
//! refused; a key whose first request is still running gets 409.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kasse_core::error::ErrorCode;

use super::{ApiError, AppState, MerchantAuth};
pub use crate::domain::idempotency::{TTL_SECONDS, request_hash};

pub const HEADER: &str = "Idempotency-Key";
const MAX_KEY_LEN: usize = 255;
const MAX_BODY: usize = 1 << 20;

pub async fn idempotency(
    State(ctx): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return Ok(next.run(req).await);
    }
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .ok_or_else(|| ApiError::InvalidRequest {
            code: ErrorCode::IdempotencyKeyInvalid,
            message: format!("{HEADER} must be 1 to {MAX_KEY_LEN} visible ASCII characters."),
            param: None,
        })?
        .to_string();
    let (mut parts, body) = req.into_parts();
    let MerchantAuth(merchant) = MerchantAuth::from_request_parts(&mut parts, &ctx).await?;
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::InvalidRequest {
            code: ErrorCode::InvalidBody,
            message: "The body could not be read, or is larger than 1 MiB.".into(),
            param: None,
        })?;
    let hash = request_hash(&ctx.secret, &parts.method, parts.uri.path(), &bytes);

    let start = ctx
        .store
        .start_idempotent(&merchant.id, &key, &hash, ctx.clock.now(), TTL_SECONDS)
        .await?;
    match start {
        crate::store::IdempotencyStart::Started => {}
        crate::store::IdempotencyStart::InFlight => {
            return Err(ApiError::Conflict {
                code: ErrorCode::IdempotencyKeyInUse,
                message: format!(
                    "A request with this {HEADER} is still being processed; retry when it has finished."
                ),
            });
        }
        crate::store::IdempotencyStart::Mismatch => {
            return Err(ApiError::Unprocessable {
                code: ErrorCode::IdempotencyKeyReused,
                message: format!(
                    "This {HEADER} was already used with a different request; use a new key for a new request."
                ),
            });
        }
        crate::store::IdempotencyStart::Replay { status, body } => {
            let mut response = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                Body::from(body),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert("Idempotent-Replayed", HeaderValue::from_static("true"));
            ctx.metrics.idempotent_replays.inc();
            return Ok(response);
        }
    }

    // The handler authenticates from this instead of looking the key up again.
    parts.extensions.insert(merchant.clone());
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(_) => {
            ctx.store.abandon_idempotent(&merchant.id, &key).await?;
            return Err(ApiError::Store(crate::store::StoreError::Corrupt(
                "a response body could not be read".into(),
            )));
        }
    };
    if parts.status.is_server_error() {
        // Kasse failed: let a retry run the request again.
        ctx.store.abandon_idempotent(&merchant.id, &key).await?;
    } else {
        ctx.store
            .finish_idempotent(&merchant.id, &key, parts.status.as_u16(), &body)
            .await?;
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

//! Extractors that turn a request into trusted values, or into an `ApiError`
//! that names the problem.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use kasse_core::api::CLIENT_SECRET_HEADER;
use kasse_core::error::ErrorCode;
use serde::de::DeserializeOwned;

use std::sync::Arc;

use super::staff_auth::{RouteRoles, StaffAuth};
use super::{ApiError, AppState};
use crate::secrets::key_lookup;
use crate::store::{KeyKind, Merchant};

/// A JSON body whose errors say which field is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::InvalidRequest {
                code: ErrorCode::InvalidContentType,
                message: "Send the body as JSON with `Content-Type: application/json`.".into(),
                param: None,
            });
        }
        let bytes =
            Bytes::from_request(req, state)
                .await
                .map_err(|e| ApiError::InvalidRequest {
                    code: ErrorCode::InvalidBody,
                    message: format!("The body could not be read: {e}"),
                    param: None,
                })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body that may be left out entirely (`POST …/capture` with no body).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let has_body = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v != "0")
            || req.headers().contains_key(CONTENT_TYPE);
        if !has_body {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalJson(v))
    }
}

/// Deserialises JSON, naming the offending field in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde_json appends the position; the field name says more.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::InvalidRequest {
                code: ErrorCode::InvalidJson,
                message: format!("The body is not valid JSON: {message}."),
                param: None,
            };
        }
        let field = |m: &str, prefix: &str| {
            m.strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
                .map(|name| join_path(&path, name))
        };
        if let Some(param) = field(&message, "missing field `") {
            ApiError::InvalidRequest {
                code: ErrorCode::ParameterMissing,
                message: format!("Missing required parameter: {param}."),
                param: Some(param),
            }
        } else if message.starts_with("unknown field `") {
            // Here the path already ends in the unknown field.
            ApiError::InvalidRequest {
                code: ErrorCode::ParameterUnknown,
                message: format!("Received unknown parameter: {path}."),
                param: Some(path),
            }
        } else {
            ApiError::InvalidRequest {
                code: ErrorCode::ParameterInvalid,
                message: format!("Invalid value for {path}: {message}."),
                param: Some(path),
            }
        }
    })
}

fn join_path(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// The merchant whose secret key authorised this request.
pub struct MerchantAuth(pub Merchant);

impl FromRequestParts<AppState> for MerchantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppState) -> Result<Self, ApiError> {
        // Already authenticated by the idempotency layer.
        if let Some(merchant) = parts.extensions.get::<Merchant>() {
            return Ok(MerchantAuth(merchant.clone()));
        }
        if !parts.headers.contains_key(AUTHORIZATION)
            && super::staff_auth::login_token(ctx, &parts.headers).is_some()
        {
            // The terminal: a member of staff's login, held to their role.
            let role = parts
                .extensions
                .get::<Arc<RouteRoles>>()
                .and_then(|roles| roles.of(parts));
            let staff = StaffAuth::from_parts(parts, ctx, role).await?;
            staff.allow(role)?;
            parts.extensions.insert(staff.merchant.clone());
            // Who keyed a card in, for the per-person limits.
            parts.extensions.insert(staff.user.clone());
            return Ok(MerchantAuth(staff.merchant));
        }
        let unauthorized = |m: &str| ApiError::Unauthorized(m.to_string());
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| {
                unauthorized(
                    "No API key provided. Send your secret key as `Authorization: Bearer sk_test_…`.",
                )
            })?
            .to_str()
            .map_err(|_| unauthorized("The Authorization header is not valid text."))?;
        let key = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthorized("Use `Authorization: Bearer sk_test_…`."))?
            .trim();
        let invalid = || unauthorized("Invalid API key.");
        let lookup = key_lookup(key).ok_or_else(invalid)?;
        let (stored, merchant) = ctx
            .store
            .api_key_with_merchant(lookup)
            .await?
            .filter(|(k, _)| ctx.secret.key_matches(key, &k.hash))
            .ok_or_else(invalid)?;
        if stored.kind != KeyKind::Secret {
            return Err(unauthorized(
                "A publishable key cannot call the merchant API; use your secret key, server side.",
            ));
        }
        Ok(MerchantAuth(merchant))
    }
}

/// The client secret the payment page sends in `Kasse-Client-Secret`.
pub struct ClientSecret(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientSecret {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .headers
            .get(CLIENT_SECRET_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| ClientSecret(v.trim().to_string()))
            .filter(|s| !s.0.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized(format!(
                    "Send the session's client secret in the `{CLIENT_SECRET_HEADER}` header."
                ))
            })
    }
}

/// A list's query string, or why it is refused.
pub fn query_params<T>(
    params: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    params
        .map(|axum::extract::Query(params)| params)
        .map_err(|e| ApiError::InvalidRequest {
            code: ErrorCode::ParameterInvalid,
            message: format!("{}.", e.body_text()),
            param: None,
        })
}

/// The most a list's page holds.
pub const MAX_PAGE: u32 = 100;

/// A page's size: 1 to [`MAX_PAGE`], 10 when absent.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(10);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            ErrorCode::ParameterOutOfRange,
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}; got {limit}."),
        ));
    }
    Ok(limit)
}

/// Where a request comes from: the peer, or behind a trusted proxy the
/// address it forwards (`Limits::client_ip`).
pub fn client_ip(
    ctx: &AppState,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> std::net::IpAddr {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    ctx.limits.client_ip(peer.ip(), forwarded)
}

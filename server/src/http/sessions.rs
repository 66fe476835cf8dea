//! `/v1/checkout/sessions`: what a merchant's server creates and reads.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kasse_core::api::ErrorBody;
use kasse_core::api::{CheckoutSession, CreateCheckoutSession};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth};
use crate::domain::{sessions, views};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(retrieve))
        .routes(routes!(expire))
}

/// Create a checkout session
///
/// The merchant's server calls this with its secret key, then sends the
/// customer to the returned `url`: the hosted payment page. Redirect URLs
/// must lie on the merchant's registered origins.
#[utoipa::path(
    post, path = "/v1/checkout/sessions", tag = "Checkout sessions",
    request_body = CreateCheckoutSession,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "The new session, open for payment", body = CheckoutSession),
        (status = 400, description = "Bad input; `param` names the field", body = ErrorBody),
        (status = 401, description = "Missing or wrong secret key", body = ErrorBody),
        (status = 422, description = "Idempotency key reused with another request, or `save_card` on a Kasse without a card vault key (`vault_unavailable`)", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateCheckoutSession>,
) -> Result<(StatusCode, Json<CheckoutSession>), ApiError> {
    let session = sessions::create(&ctx, &merchant, req).await?;
    Ok((StatusCode::CREATED, Json(views::session(&ctx, &session))))
}

/// Retrieve a checkout session
#[utoipa::path(
    get, path = "/v1/checkout/sessions/{id}", tag = "Checkout sessions",
    params(("id" = String, Path, description = "The session's id, `cs_…`")),
    responses(
        (status = 200, description = "The session", body = CheckoutSession),
        (status = 404, description = "No such session of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let session = sessions::find(&ctx, &merchant.id, &id).await?;
    Ok(Json(views::session(&ctx, &session)))
}

/// Expire a checkout session
///
/// An open session can no longer be paid afterwards.
#[utoipa::path(
    post, path = "/v1/checkout/sessions/{id}/expire", tag = "Checkout sessions",
    params(("id" = String, Path, description = "The session's id, `cs_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The expired session", body = CheckoutSession),
        (status = 404, description = "No such session of this merchant", body = ErrorBody),
        (status = 409, description = "The session is not open", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn expire(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let session = sessions::expire(&ctx, &merchant.id, &id).await?;
    Ok(Json(views::session(&ctx, &session)))
}

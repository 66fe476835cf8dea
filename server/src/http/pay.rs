//! `/v1/pay/{id}`: the payment page's API, authorised by the session's
//! client secret and never by a merchant key.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kasse_core::api::ErrorBody;
use kasse_core::api::{ConfirmRequest, ConfirmResponse, NextAction, PayError, PaySession};
use kasse_core::{CardBrand, PaymentStatus, SessionStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, ClientSecret};
use crate::domain::appearance;
use crate::domain::checkout::{self, Confirmed};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(confirm))
}

/// Read a session for the payment page
#[utoipa::path(
    get, path = "/v1/pay/{id}", tag = "Payment page",
    params(("id" = String, Path, description = "The session's id, `cs_…`")),
    responses(
        (status = 200, description = "What the page shows", body = PaySession),
        (status = 401, description = "No client secret", body = ErrorBody),
        (status = 404, description = "No such session, or a wrong client secret", body = ErrorBody),
    ),
    security(("client_secret" = []))
)]
async fn show(
    State(ctx): State<AppState>,
    Path(id): Path<String>,
    secret: ClientSecret,
) -> Result<Json<PaySession>, ApiError> {
    let (session, merchant) = checkout::authorised_session(&ctx, &id, &secret.0).await?;
    let status = session.status_at(ctx.clock.now());
    let last_error = if status == SessionStatus::Open {
        ctx.store
            .session_payments(&session.id)
            .await?
            .first()
            .filter(|p| p.status == PaymentStatus::Failed)
            .and_then(|p| p.decline_code)
            .map(|code| PayError {
                decline_code: code.for_customer(),
                message: code.customer_message().to_string(),
            })
    } else {
        None
    };
    Ok(Json(PaySession {
        last_error,
        appearance: appearance::effective(&merchant, &session),
        locale: session.locale,
        payment_id: session.payment_id.clone(),
        merchant_origins: merchant
            .origins
            .iter()
            .map(|o| o.as_str().to_string())
            .collect(),
        redirect_url: (status == SessionStatus::Complete)
            .then(|| checkout::success_redirect(&ctx, &session, &merchant))
            .flatten(),
        cancel_url: checkout::cancel_redirect(&ctx, &session, &merchant),
        id: session.id,
        merchant_name: merchant.name,
        amount: session.amount,
        currency: session.currency.code().to_string(),
        status,
        accepted_brands: session
            .card_rules
            .as_ref()
            .map(|rules| rules.brands.clone())
            .filter(|brands| !brands.is_empty())
            .unwrap_or_else(|| CardBrand::ALL.to_vec()),
        order_reference: session.order_reference,
        customer_name: session.customer_name,
        expires_at: session.expires_at,
    }))
}

/// Pay a session with a card
///
/// `200` with `succeeded` (go to `redirect_url`) or `requires_action` (go to
/// `next_action.redirect_url` for 3-D Secure); `402` with `declined` and the
/// reason, after which the customer may try again.
#[utoipa::path(
    post, path = "/v1/pay/{id}/confirm", tag = "Payment page",
    params(("id" = String, Path, description = "The session's id, `cs_…`")),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "Paid, or 3-D Secure required", body = ConfirmResponse),
        (status = 400, description = "The card fails Kasse's own checks", body = ErrorBody),
        (status = 402, description = "Declined by the issuer", body = ConfirmResponse),
        (status = 409, description = "Paid, expired, in progress, or too many declines", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ),
    security(("client_secret" = []))
)]
async fn confirm(
    State(ctx): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    secret: ClientSecret,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> Result<Response, ApiError> {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = ctx.limits.client_ip(peer.ip(), forwarded);
    Ok(
        match checkout::confirm(&ctx, &id, &secret.0, client, &req.card).await? {
            Confirmed::Succeeded {
                payment_id,
                redirect_url,
            } => Json(ConfirmResponse::Succeeded {
                payment_id,
                redirect_url,
            })
            .into_response(),
            Confirmed::RequiresAction {
                payment_id,
                redirect_url,
            } => Json(ConfirmResponse::RequiresAction {
                payment_id,
                next_action: NextAction { redirect_url },
            })
            .into_response(),
            Confirmed::Declined {
                payment_id,
                decline_code,
                redirect_url,
            } => (
                StatusCode::PAYMENT_REQUIRED,
                Json(ConfirmResponse::Declined {
                    payment_id,
                    decline_code: decline_code.for_customer(),
                    message: decline_code.customer_message().to_string(),
                    redirect_url,
                }),
            )
                .into_response(),
        },
    )
}

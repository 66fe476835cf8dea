//! `/v1/pay/{id}`: the payment page's API, authorised by the session's
//! client secret and never by a merchant key.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kasse_core::api::ErrorBody;
use kasse_core::api::{
    ConfirmRequest, ConfirmResponse, NextAction, PayError, PaySession, SavedCard,
};
use kasse_core::error::ErrorCode;
use kasse_core::{CardBrand, PaymentStatus, SessionStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, ClientSecret};
use crate::domain::checkout::{self, Confirmed};
use crate::domain::{appearance, saved_cards};

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
    let saved_cards = if status == SessionStatus::Open {
        saved_cards::offered(&ctx, &session)
            .await?
            .into_iter()
            .map(|m| SavedCard {
                id: m.id,
                brand: m.card_brand,
                last4: m.card_last4,
                exp_month: m.card_exp_month,
                exp_year: m.card_exp_year,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(PaySession {
        last_error,
        saved_cards,
        setup_future_usage: session.future_usage,
        appearance: appearance::effective(&merchant, &session),
        locale: session.locale,
        payment_id: session.payment_id.clone(),
        save_card: if session.customer_id.is_some() {
            session.save_card
        } else {
            kasse_core::api::SaveCard::Off
        },
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

/// A card typed in, or a saved card with its security code; never both.
fn pay_with(req: &ConfirmRequest) -> Result<checkout::PayWith<'_>, ApiError> {
    match (&req.card, &req.payment_method) {
        (Some(card), None) => Ok(checkout::PayWith::Card(card)),
        (None, Some(payment_method)) => {
            let cvc = req.cvc.as_ref().ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::ParameterMissing,
                    "cvc",
                    "A saved card is paid with its security code: give cvc.",
                )
            })?;
            Ok(checkout::PayWith::Saved {
                payment_method,
                cvc: cvc.expose(),
            })
        }
        (Some(_), Some(_)) => Err(ApiError::invalid(
            ErrorCode::ParameterInvalid,
            "payment_method",
            "Give card or payment_method, not both.",
        )),
        (None, None) => Err(ApiError::invalid(
            ErrorCode::ParameterMissing,
            "card",
            "Give card, or payment_method and cvc.",
        )),
    }
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
    let payer = checkout::Payer {
        client: super::client_ip(&ctx, peer, &headers),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(500).collect()),
        save_card: req.save_card,
        locale: req.locale.as_deref().and_then(kasse_core::Locale::from_tag),
    };
    Ok(
        match checkout::confirm(&ctx, &id, &secret.0, payer, pay_with(&req)?).await? {
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

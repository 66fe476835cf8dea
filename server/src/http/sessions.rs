//! `/v1/checkout/sessions`: what a merchant's server creates and reads.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kasse_core::api::ErrorBody;
use kasse_core::api::{
    CheckoutSession, CreateCheckoutSession, SESSION_TTL_DEFAULT_SECONDS, SESSION_TTL_MAX_SECONDS,
    SESSION_TTL_MIN_SECONDS,
};
use kasse_core::money::{AmountError, CurrencyError, MAX_AMOUNT_MINOR};
use kasse_core::origin::{RedirectUrlError, redirect_url_on};
use kasse_core::{Currency, Money, RequestedLocale, SessionStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::webhooks::webhook_url;
use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth};
use crate::domain::{sessions, views};
use crate::ids::new_id;
use crate::secrets::new_webhook_secret;
use crate::store::{Merchant, Session};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(retrieve))
        .routes(routes!(expire))
}

const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY_LEN: usize = 40;
const MAX_METADATA_VALUE_LEN: usize = 500;

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
        (status = 422, description = "Idempotency key reused with another request", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn create(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateCheckoutSession>,
) -> Result<(StatusCode, Json<CheckoutSession>), ApiError> {
    let session = validate(&ctx, &merchant, req)?;
    if session.notification_url.is_some() {
        ctx.store
            .ensure_webhook_secret(&merchant.id, &new_webhook_secret())
            .await?;
    }
    ctx.store.insert_session(&session).await?;
    tracing::info!(session = %session.id, merchant = %merchant.id, "checkout session created");
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
    security(("secret_key" = []))
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
    security(("secret_key" = []))
)]
async fn expire(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let session = sessions::expire(&ctx, &merchant.id, &id).await?;
    Ok(Json(views::session(&ctx, &session)))
}

/// The `amount` and `currency` parameters, as money Kasse can charge.
pub(crate) fn money_params(currency: &str, amount: i64) -> Result<Money, ApiError> {
    let currency = Currency::parse(currency).map_err(|e| {
        let message = match e {
            CurrencyError::Unknown(code) => format!(
                "Unknown currency '{code}': use a three-letter ISO 4217 code such as USD, BDT or MNT."
            ),
            e @ CurrencyError::NotChargeable(_) => format!("{e}."),
        };
        ApiError::invalid("invalid_currency", "currency", message)
    })?;
    Money::new(amount, currency).map_err(|e| match e {
        AmountError::NotPositive => ApiError::invalid(
            "amount_too_small",
            "amount",
            format!(
                "The amount must be a positive integer in the currency's minor units (e.g. 1050 for 10.50 {currency}); got {}.",
                amount
            ),
        ),
        AmountError::TooLarge => ApiError::invalid(
            "amount_too_large",
            "amount",
            format!("The amount must be at most {MAX_AMOUNT_MINOR} minor units; got {}.", amount),
        ),
    })
}

fn validate(
    ctx: &AppState,
    merchant: &Merchant,
    req: CreateCheckoutSession,
) -> Result<Session, ApiError> {
    let money = money_params(&req.currency, req.amount)?;
    let currency = money.currency();
    let success_url = merchant_url(merchant, "success_url", &req.success_url)?;
    let cancel_url = merchant_url(merchant, "cancel_url", &req.cancel_url)?;
    let fail_url = req
        .fail_url
        .as_deref()
        .map(|u| merchant_url(merchant, "fail_url", u))
        .transpose()?;
    let notification_url = req
        .notification_url
        .as_deref()
        .map(|u| {
            let url = merchant_url(merchant, "notification_url", u)?;
            webhook_url(
                "notification_url",
                &url,
                ctx.webhooks.allow_private_addresses,
            )?;
            Ok::<_, ApiError>(url)
        })
        .transpose()?;
    let order_reference = text_field("order_reference", req.order_reference, 128)?;
    let customer_name = text_field("customer_name", req.customer_name, 200)?;
    let customer_email = text_field("customer_email", req.customer_email, 254)?;
    if let Some(email) = &customer_email {
        let valid = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !email.contains(char::is_whitespace);
        if !valid {
            return Err(ApiError::invalid(
                "invalid_email",
                "customer_email",
                format!("'{email}' is not an email address."),
            ));
        }
    }
    let metadata = validate_metadata(req.metadata.unwrap_or_default())?;
    let ttl = req
        .expires_in_seconds
        .unwrap_or(SESSION_TTL_DEFAULT_SECONDS);
    if !(SESSION_TTL_MIN_SECONDS..=SESSION_TTL_MAX_SECONDS).contains(&ttl) {
        return Err(ApiError::invalid(
            "parameter_out_of_range",
            "expires_in_seconds",
            format!(
                "expires_in_seconds must be between {SESSION_TTL_MIN_SECONDS} (30 minutes) and {SESSION_TTL_MAX_SECONDS} (24 hours); got {ttl}."
            ),
        ));
    }
    let appearance = req
        .appearance
        .map(|a| super::appearance::checked(merchant, &merchant.appearance, a))
        .transpose()?;
    let locale = req
        .locale
        .as_deref()
        .map(RequestedLocale::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("invalid_locale", "locale", format!("{e}.")))?
        .unwrap_or_default();
    let id = new_id("cs");
    let now = ctx.clock.now();
    Ok(Session {
        appearance,
        locale,
        client_secret: format!("{id}_secret_{}", &new_id("x")[2..]),
        id,
        merchant_id: merchant.id.clone(),
        status: SessionStatus::Open,
        amount: money.amount(),
        currency: currency.code().to_string(),
        success_url,
        cancel_url,
        fail_url,
        order_reference,
        customer_name,
        customer_email,
        metadata,
        capture_method: req.capture_method.unwrap_or_default(),
        notification_url,
        payment_id: None,
        created: now,
        expires_at: now + ttl,
    })
}

fn merchant_url(merchant: &Merchant, param: &str, input: &str) -> Result<String, ApiError> {
    redirect_url_on(input, &merchant.origins)
        .map(String::from)
        .map_err(|e| {
            let code = match e {
                RedirectUrlError::OffOrigin => "url_not_allowed",
                RedirectUrlError::NotAUrl | RedirectUrlError::Insecure => "invalid_url",
            };
            let origins: Vec<&str> = merchant.origins.iter().map(|o| o.as_str()).collect();
            ApiError::invalid(
                code,
                param,
                format!(
                    "{param} '{input}' {e}. Registered origins: {}.",
                    origins.join(", ")
                ),
            )
        })
}

pub(crate) fn text_field(
    param: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(value) = value.map(|v| v.trim().to_string()) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Err(ApiError::invalid(
            "parameter_invalid",
            param,
            format!("{param} must not be empty; leave it out instead."),
        ));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "parameter_invalid",
            param,
            format!("{param} must be at most {max} characters of text without control characters."),
        ));
    }
    Ok(Some(value))
}

fn validate_metadata(
    metadata: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "metadata",
            format!(
                "metadata may have at most {MAX_METADATA_KEYS} keys; got {}.",
                metadata.len()
            ),
        ));
    }
    for (key, value) in &metadata {
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_LEN {
            return Err(ApiError::invalid(
                "parameter_invalid",
                &format!("metadata.{key}"),
                format!("metadata keys must have 1 to {MAX_METADATA_KEY_LEN} characters."),
            ));
        }
        if value.chars().count() > MAX_METADATA_VALUE_LEN {
            return Err(ApiError::invalid(
                "parameter_invalid",
                &format!("metadata.{key}"),
                format!("metadata values must have at most {MAX_METADATA_VALUE_LEN} characters."),
            ));
        }
    }
    Ok(metadata)
}

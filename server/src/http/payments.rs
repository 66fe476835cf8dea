//! `/v1/payments` and `/v1/refunds`: what merchants do after a payment —
//! look it up, capture, void, refund, and validate before fulfilling.
//!
//! Every change is a compare-and-set on the payment: the new state is
//! computed by `kasse-core`'s state machine from the state just read, and
//! written only if the payment is still in exactly that state. A lost race
//! reads again, so concurrent refunds never exceed what was captured.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use kasse_core::api::ErrorBody;
use kasse_core::api::{
    CapturePayment, CreatePayment, CreateRefund, PaymentList, RefundList, Validation,
};
use kasse_core::error::ErrorCode;
use kasse_core::{PaymentStatus, api};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth, OptionalJson, page_limit,
    query_params,
};
use crate::domain::{checkout, input, keyed, ledger, offsession, payments, views};
use crate::store::{PaymentQuery, StaffUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve))
        .routes(routes!(capture))
        .routes(routes!(void))
        .routes(routes!(validate))
        .routes(routes!(create_refund, list_refunds))
        .routes(routes!(retrieve_refund))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Only payments with this status.
    status: Option<String>,
    /// Only payments for this order reference.
    order_reference: Option<String>,
    /// Created at or after this Unix time.
    created_gte: Option<i64>,
    /// Created before this Unix time.
    created_lt: Option<i64>,
    /// Only the attempts made through this payment link (`plink_…`).
    payment_link: Option<String>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List payments
///
/// Newest first. For the next page, pass the last id as `starting_after`.
#[utoipa::path(
    get, path = "/v1/payments", tag = "Payments",
    params(ListParams),
    responses(
        (status = 200, description = "One page of payments", body = PaymentList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PaymentList>, ApiError> {
    let params = query_params(params)?;
    let status = params
        .status
        .as_deref()
        .map(|s| {
            PaymentStatus::parse(s).ok_or_else(|| {
                let known: Vec<&str> = PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::invalid(
                    ErrorCode::ParameterInvalid,
                    "status",
                    format!("Unknown status '{s}'; use one of {}.", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let limit = page_limit(params.limit)?;
    let query = PaymentQuery {
        status,
        order_reference: params.order_reference,
        created_gte: params.created_gte,
        created_lt: params.created_lt,
        payment_link: params.payment_link,
        starting_after: params.starting_after,
        limit,
    };
    let (payments, has_more) = payments::list(&ctx, &merchant.id, query).await?;
    let mut data: Vec<api::Payment> = payments.iter().map(views::payment).collect();
    ledger::with_settlements(&ctx, &mut data).await?;
    Ok(Json(PaymentList {
        object: "list".into(),
        data,
        has_more,
    }))
}

/// Retrieve a payment
#[utoipa::path(
    get, path = "/v1/payments/{id}", tag = "Payments",
    params(("id" = String, Path, description = "The payment's id, `pay_…`")),
    responses(
        (status = 200, description = "The payment", body = api::Payment),
        (status = 404, description = "No such payment of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Payment>, ApiError> {
    let mut view = [views::payment(
        &payments::find(&ctx, &merchant.id, &id).await?,
    )];
    ledger::with_settlements(&ctx, &mut view).await?;
    let [view] = view;
    Ok(Json(view))
}

/// Charge a keyed card, or a saved card off-session
///
/// With `card`: for the merchant's staff taking a card over the phone (mail
/// or telephone order); the cardholder is not present, so there is no 3-D
/// Secure.
///
/// With `customer`, `payment_method` and `off_session: true`: charges a
/// customer's saved card with the customer absent, under the card's active
/// mandate (or `mandate`), within its currency and `max_amount`. Never asks
/// for 3-D Secure: when the issuer wants the customer to authenticate, the
/// charge fails at once with `decline_code: authentication_required` and a
/// `recovery_url`, a payment page for that customer and amount, to send
/// them. Refusals before the issuer is asked: `mandate_amount_exceeded`,
/// `currency_mismatch` (400); `mandate_revoked`, `payment_method_expired`,
/// `payment_method_detached`, `mit_without_customer_initiated_payment` (409).
///
/// `201` with `succeeded` (or `requires_capture` with `capture_method:
/// manual`); `402` with `failed` and its `decline_code` when the issuer
/// declines.
#[utoipa::path(
    post, path = "/v1/payments", tag = "Payments",
    params(IdempotencyKey),
    request_body = CreatePayment,
    responses(
        (status = 201, description = "Approved: succeeded, or requires_capture", body = api::Payment),
        (status = 400, description = "Bad input, or a card that fails Kasse's checks", body = ErrorBody),
        (status = 402, description = "Declined by the issuer", body = api::Payment),
        (status = 409, description = "The saved card or its mandate cannot be charged", body = ErrorBody),
        (status = 422, description = "This Kasse has no card vault key", body = ErrorBody),
        (status = 429, description = "Too many keyed payments, or declines, in the last minute", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    staff: Option<Extension<StaffUser>>,
    ApiJson(req): ApiJson<CreatePayment>,
) -> Result<(StatusCode, Json<api::Payment>), ApiError> {
    let money = input::money_params(&req.currency, req.amount)?;
    let order_reference = input::text_field("order_reference", req.order_reference, 128)?;
    if req.off_session {
        if req.card.is_some() {
            return Err(ApiError::invalid(
                ErrorCode::ParameterInvalid,
                "card",
                "An off-session charge uses a saved card: give payment_method, not card.",
            ));
        }
        let required = |param: &str, value: Option<String>| {
            value.ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::ParameterMissing,
                    param,
                    format!("An off-session charge needs {param}."),
                )
            })
        };
        let (payment, recovery_url) = offsession::charge(
            &ctx,
            &merchant,
            offsession::OffSessionCharge {
                money,
                customer: required("customer", req.customer)?,
                payment_method: required("payment_method", req.payment_method)?,
                mandate: req.mandate,
                order_reference,
                capture_method: req.capture_method,
                return_url: req.return_url,
            },
        )
        .await?;
        let code = if payment.status == PaymentStatus::Failed {
            StatusCode::PAYMENT_REQUIRED
        } else {
            StatusCode::CREATED
        };
        return Ok((
            code,
            Json(api::Payment {
                recovery_url,
                ..views::payment(&payment)
            }),
        ));
    }
    if req.payment_method.is_some() || req.customer.is_some() || req.mandate.is_some() {
        return Err(ApiError::invalid(
            ErrorCode::ParameterInvalid,
            "off_session",
            "A saved card is charged here only with the customer absent: set off_session: true. With the customer present, make a checkout session for them instead.",
        ));
    }
    let Some(card) = &req.card else {
        return Err(ApiError::invalid(
            ErrorCode::ParameterMissing,
            "card",
            "Give card (a keyed card), or customer, payment_method and off_session: true (a saved card).",
        ));
    };
    let card = checkout::parse_card(card, ctx.clock.year_month())?;
    let payment = keyed::charge(
        &ctx,
        &merchant.id,
        staff.as_ref().map(|Extension(user)| user.id.as_str()),
        keyed::KeyedCharge {
            money,
            card,
            order_reference,
            capture_method: req.capture_method,
        },
    )
    .await?;
    let code = if payment.status == PaymentStatus::Failed {
        StatusCode::PAYMENT_REQUIRED
    } else {
        StatusCode::CREATED
    };
    Ok((code, Json(views::payment(&payment))))
}

/// Capture an authorisation
///
/// In full, or in part with `amount`: what is not captured is released.
#[utoipa::path(
    post, path = "/v1/payments/{id}/capture", tag = "Payments",
    params(("id" = String, Path, description = "The payment's id, `pay_…`"), IdempotencyKey),
    request_body(content = Option<CapturePayment>, description = "Optional; all of it when absent"),
    responses(
        (status = 200, description = "The captured payment", body = api::Payment),
        (status = 409, description = "Not `requires_capture`, or more than was authorised", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn capture(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CapturePayment>,
) -> Result<Json<api::Payment>, ApiError> {
    let payment = payments::capture(&ctx, &merchant.id, &id, body.amount).await?;
    tracing::info!(payment = %id, captured = payment.amount_captured, "payment captured");
    Ok(Json(views::payment(&payment)))
}

/// Void an authorisation
#[utoipa::path(
    post, path = "/v1/payments/{id}/void", tag = "Payments",
    params(("id" = String, Path, description = "The payment's id, `pay_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The canceled payment", body = api::Payment),
        (status = 409, description = "Not `requires_capture`", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn void(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Payment>, ApiError> {
    let payment = payments::void(&ctx, &merchant.id, &id).await?;
    tracing::info!(payment = %id, "authorisation voided");
    Ok(Json(views::payment(&payment)))
}

/// Refund a payment
///
/// In full, or in part with `amount`; several partial refunds never add up
/// to more than was captured.
#[utoipa::path(
    post, path = "/v1/refunds", tag = "Refunds",
    params(IdempotencyKey),
    request_body = CreateRefund,
    responses(
        (status = 201, description = "The refund", body = api::Refund),
        (status = 400, description = "Bad input, or no such payment", body = ErrorBody),
        (status = 409, description = "Not refundable, or more than is left", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create_refund(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateRefund>,
) -> Result<(StatusCode, Json<api::Refund>), ApiError> {
    let refund =
        payments::refund(&ctx, &merchant.id, &req.payment_id, req.amount, req.reason).await?;
    tracing::info!(payment = %req.payment_id, refund = %refund.id, amount = refund.amount, "refund");
    Ok((StatusCode::CREATED, Json(views::refund(&refund))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RefundParams {
    /// The payment whose refunds to list, `pay_…`.
    payment_id: String,
}

/// List a payment's refunds
///
/// Oldest first.
#[utoipa::path(
    get, path = "/v1/refunds", tag = "Refunds",
    params(RefundParams),
    responses(
        (status = 200, description = "The payment's refunds", body = RefundList),
        (status = 404, description = "No such payment of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list_refunds(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<RefundParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RefundList>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::InvalidRequest {
        code: ErrorCode::ParameterMissing,
        message: format!("{}; name the payment as ?payment_id=pay_….", e.body_text()),
        param: Some("payment_id".into()),
    })?;
    let refunds = payments::refunds(&ctx, &merchant.id, &params.payment_id).await?;
    Ok(Json(RefundList {
        object: "list".into(),
        data: refunds.iter().map(views::refund).collect(),
    }))
}

/// Retrieve a refund
#[utoipa::path(
    get, path = "/v1/refunds/{id}", tag = "Refunds",
    params(("id" = String, Path, description = "The refund's id, `re_…`")),
    responses(
        (status = 200, description = "The refund", body = api::Refund),
        (status = 404, description = "No such refund of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve_refund(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Refund>, ApiError> {
    let refund = payments::find_refund(&ctx, &merchant.id, &id).await?;
    Ok(Json(views::refund(&refund)))
}

/// Validate a payment before fulfilling the order
///
/// `VALID` the first time for a paid payment, `VALIDATED` after that (do not
/// ship twice), `INVALID` for a failed, refunded or unknown one.
#[utoipa::path(
    get, path = "/v1/payments/{id}/validate", tag = "Payments",
    params(("id" = String, Path, description = "The payment's id, `pay_…`")),
    responses((status = 200, description = "The verdict", body = Validation)),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn validate(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<Validation>, ApiError> {
    Ok(Json(payments::validate(&ctx, &merchant.id, &id).await?))
}

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
    CaptureMethod, CapturePayment, CreatePayment, CreateRefund, PaymentCard, PaymentChannel,
    PaymentList, RefundList, RefundStatus, RiskLevel, Validation, ValidationStatus,
};
use kasse_core::error::DeclineCode;
use kasse_core::{PaymentAction, PaymentStatus, api};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pay::{attempt_event_kind, attempt_record};
use super::{ApiContext, ApiError, ApiJson, IdempotencyKey, MerchantAuth, OptionalJson};
use crate::events::{self, new_event};
use crate::ids::new_id;
use crate::limits::{self, Limit};
use crate::processor::{Authorization, Outcome};
use crate::store::{
    Merchant, Payment, PaymentChange, PaymentQuery, PaymentState, Refund, StaffUser,
};

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve))
        .routes(routes!(capture))
        .routes(routes!(void))
        .routes(routes!(validate))
        .routes(routes!(create_refund, list_refunds))
        .routes(routes!(retrieve_refund))
}

const MAX_PAGE: u32 = 100;
const DEFAULT_PAGE: u32 = 10;

pub fn to_api(p: &Payment) -> api::Payment {
    api::Payment {
        id: p.id.clone(),
        object: "payment".into(),
        status: p.status,
        amount: p.amount,
        amount_capturable: if p.status == PaymentStatus::RequiresCapture {
            p.amount - p.amount_captured
        } else {
            0
        },
        amount_captured: p.amount_captured,
        amount_refunded: p.amount_refunded,
        currency: p.currency.clone(),
        capture_method: p.capture_method,
        channel: p.channel,
        checkout_session: p.session_id.clone(),
        order_reference: p.order_reference.clone(),
        card: PaymentCard {
            brand: p.card_brand,
            bin: p.card_bin.clone(),
            last4: p.card_last4.clone(),
            exp_month: p.card_exp_month,
            exp_year: p.card_exp_year,
            fingerprint: (p.channel == PaymentChannel::Checkout)
                .then(|| p.card_fingerprint.clone()),
        },
        decline_code: p.decline_code.as_deref().and_then(DeclineCode::parse),
        created: p.created,
    }
}

fn refund_to_api(r: &Refund) -> api::Refund {
    api::Refund {
        id: r.id.clone(),
        object: "refund".into(),
        payment_id: r.payment_id.clone(),
        amount: r.amount,
        currency: r.currency.clone(),
        status: r.status,
        reason: r.reason.clone(),
        created: r.created,
    }
}

async fn own_payment(ctx: &ApiContext, merchant: &Merchant, id: &str) -> Result<Payment, ApiError> {
    ctx.store
        .payment(id)
        .await?
        .filter(|p| p.merchant_id == merchant.id)
        .ok_or_else(|| ApiError::NotFound {
            kind: "payment",
            id: id.to_string(),
        })
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
    security(("secret_key" = []))
)]
async fn list(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PaymentList>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::InvalidRequest {
        code: "parameter_invalid",
        message: format!("{}.", e.body_text()),
        param: None,
    })?;
    let status = params
        .status
        .as_deref()
        .map(|s| {
            PaymentStatus::parse(s).ok_or_else(|| {
                let known: Vec<&str> = PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::invalid(
                    "parameter_invalid",
                    "status",
                    format!("Unknown status '{s}'; use one of {}.", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "parameter_out_of_range",
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}; got {limit}."),
        ));
    }
    if let Some(after) = &params.starting_after {
        own_payment(&ctx, &merchant, after).await.map_err(|_| {
            ApiError::invalid(
                "parameter_invalid",
                "starting_after",
                format!("starting_after names no payment of yours: '{after}'."),
            )
        })?;
    }
    let query = PaymentQuery {
        status,
        order_reference: params.order_reference,
        created_gte: params.created_gte,
        created_lt: params.created_lt,
        starting_after: params.starting_after,
        limit: limit + 1,
    };
    let mut payments = ctx.store.list_payments(&merchant.id, &query).await?;
    let has_more = payments.len() > limit as usize;
    payments.truncate(limit as usize);
    Ok(Json(PaymentList {
        object: "list".into(),
        data: payments.iter().map(to_api).collect(),
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
    security(("secret_key" = []))
)]
async fn retrieve(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Payment>, ApiError> {
    Ok(Json(to_api(&own_payment(&ctx, &merchant, &id).await?)))
}

/// Charge a keyed card (mail or telephone order)
///
/// For the merchant's staff taking a card over the phone: the cardholder is
/// not present, so there is no 3-D Secure. `201` with `succeeded` (or
/// `requires_capture` with `capture_method: manual`); `402` with `failed`
/// and its `decline_code` when the issuer declines.
#[utoipa::path(
    post, path = "/v1/payments", tag = "Payments",
    params(IdempotencyKey),
    request_body = CreatePayment,
    responses(
        (status = 201, description = "Approved: succeeded, or requires_capture", body = api::Payment),
        (status = 400, description = "Bad input, or a card that fails Kasse's checks", body = ErrorBody),
        (status = 402, description = "Declined by the issuer", body = api::Payment),
        (status = 429, description = "Too many keyed payments, or declines, in the last minute", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn create(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    staff: Option<Extension<StaffUser>>,
    ApiJson(req): ApiJson<CreatePayment>,
) -> Result<(StatusCode, Json<api::Payment>), ApiError> {
    let money = super::sessions::money_params(&req.currency, req.amount)?;
    let order_reference = super::sessions::text_field("order_reference", req.order_reference, 128)?;
    let card = super::pay::parse_card(&req.card, ctx.clock.year_month())?;
    // Whoever may key cards in may test stolen ones: bounded per merchant,
    // per member of staff, and by the merchant's recent declines.
    limits::hit(&ctx, Limit::KeyedPerMerchant, &merchant.id).await?;
    if let Some(Extension(user)) = &staff {
        limits::hit(&ctx, Limit::KeyedPerStaff, &user.id).await?;
    }
    limits::check(&ctx, Limit::MerchantDeclines, &merchant.id).await?;
    let payment_id = new_id("pay");
    let outcome = ctx
        .processor
        .authorize(&Authorization {
            card: &card.number,
            expiry: card.expiry,
            cvc: &card.cvc,
            money,
            reference: &payment_id,
            moto: true,
        })
        .await;
    let action = match &outcome {
        Outcome::Approved { .. } => PaymentAction::Approve {
            manual: req.capture_method == CaptureMethod::Manual,
        },
        Outcome::Declined(_) => PaymentAction::Decline,
        Outcome::ChallengeRequired => {
            return Err(ApiError::Card {
                code: "authentication_required",
                message: "The issuer asked for 3-D Secure, which a keyed (card not present) payment cannot do; send the customer a payment link instead.".into(),
                param: None,
            });
        }
    };
    let status = PaymentStatus::RequiresPaymentMethod.apply(action)?;
    let payment = Payment {
        capture_method: req.capture_method,
        channel: PaymentChannel::Moto,
        order_reference,
        ..attempt_record(
            &ctx,
            &payment_id,
            &merchant.id,
            money,
            &card,
            status,
            &outcome,
        )
    };
    let decline = outcome.decline();
    let kind = attempt_event_kind(status).expect("a keyed payment ends approved or declined");
    let event = new_event(&ctx, &merchant.id, kind, &to_api(&payment), None);
    // A keyed payment has no session, so no lease to lose: always recorded.
    ctx.store.finish_confirm(&payment, &[event]).await?;
    if decline.is_some() {
        limits::count(&ctx, Limit::MerchantDeclines, &merchant.id).await?;
    }
    tracing::info!(
        payment = %payment_id, card = %card.number, status = %status,
        decline = ?decline, "keyed payment"
    );
    let code = if decline.is_some() {
        StatusCode::PAYMENT_REQUIRED
    } else {
        StatusCode::CREATED
    };
    Ok((code, Json(to_api(&payment))))
}

/// Reads, plans and compare-and-sets until the change applies or is
/// refused; the change's event goes to the outbox in the same transaction.
async fn change(
    ctx: &ApiContext,
    merchant_id: &str,
    id: &str,
    kind: &str,
    plan: impl Fn(&Payment) -> Result<(PaymentState, Option<Refund>), ApiError>,
) -> Result<Payment, ApiError> {
    const ATTEMPTS: usize = 200;
    for _ in 0..ATTEMPTS {
        let payment = ctx
            .store
            .payment(id)
            .await?
            .filter(|p| p.merchant_id == merchant_id)
            .ok_or_else(|| ApiError::NotFound {
                kind: "payment",
                id: id.to_string(),
            })?;
        let (to, refund) = plan(&payment)?;
        let notify = match &payment.session_id {
            Some(sid) => ctx
                .store
                .session(sid)
                .await?
                .and_then(|s| s.notification_url),
            None => None,
        };
        let event = match &refund {
            Some(refund) => new_event(
                ctx,
                merchant_id,
                kind,
                &refund_to_api(refund),
                notify.as_deref(),
            ),
            None => {
                let after = Payment {
                    status: to.status,
                    amount_captured: to.amount_captured,
                    amount_refunded: to.amount_refunded,
                    ..payment.clone()
                };
                new_event(ctx, merchant_id, kind, &to_api(&after), notify.as_deref())
            }
        };
        let applied = ctx
            .store
            .change_payment(&PaymentChange {
                payment_id: id.to_string(),
                from: payment.state(),
                to,
                now: ctx.clock.now(),
                refund,
                events: vec![event],
            })
            .await?;
        if applied {
            return Ok(ctx
                .store
                .payment(id)
                .await?
                .expect("a changed payment exists"));
        }
        tokio::task::yield_now().await;
    }
    Err(ApiError::Conflict {
        code: "payment_busy",
        message: "This payment is being changed by other requests; try again.".into(),
    })
}

fn positive_amount(param: &str, amount: i64) -> Result<i64, ApiError> {
    if amount <= 0 {
        return Err(ApiError::invalid(
            "amount_too_small",
            param,
            format!("The amount must be a positive integer of minor units; got {amount}."),
        ));
    }
    Ok(amount)
}

/// Captures all or part of an authorisation; what is not captured is released.
pub async fn capture_payment(
    ctx: &ApiContext,
    merchant_id: &str,
    id: &str,
    amount: Option<i64>,
) -> Result<Payment, ApiError> {
    let amount = amount.map(|a| positive_amount("amount", a)).transpose()?;
    change(ctx, merchant_id, id, events::PAYMENT_CAPTURED, |p| {
        let status = p.status.apply(PaymentAction::Capture)?;
        let capturable = p.amount - p.amount_captured;
        let amount = amount.unwrap_or(capturable);
        if amount > capturable {
            return Err(ApiError::Conflict {
                code: "amount_exceeds_capturable",
                message: format!(
                    "Cannot capture {amount}: only {capturable} {} was authorised.",
                    p.currency
                ),
            });
        }
        Ok((
            PaymentState {
                status,
                amount_captured: p.amount_captured + amount,
                amount_refunded: p.amount_refunded,
            },
            None,
        ))
    })
    .await
}

pub async fn void_payment(
    ctx: &ApiContext,
    merchant_id: &str,
    id: &str,
) -> Result<Payment, ApiError> {
    change(ctx, merchant_id, id, events::PAYMENT_CANCELED, |p| {
        let status = p.status.apply(PaymentAction::Void)?;
        Ok((
            PaymentState {
                status,
                ..p.state()
            },
            None,
        ))
    })
    .await
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
    security(("secret_key" = []))
)]
async fn capture(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CapturePayment>,
) -> Result<Json<api::Payment>, ApiError> {
    let payment = capture_payment(&ctx, &merchant.id, &id, body.amount).await?;
    tracing::info!(payment = %id, captured = payment.amount_captured, "payment captured");
    Ok(Json(to_api(&payment)))
}

/// Void an authorisation
#[utoipa::path(
    post, path = "/v1/payments/{id}/void", tag = "Payments",
    params(("id" = String, Path, description = "The payment's id, `pay_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The canceled payment", body = api::Payment),
        (status = 409, description = "Not `requires_capture`", body = ErrorBody),
    ),
    security(("secret_key" = []))
)]
async fn void(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Payment>, ApiError> {
    let payment = void_payment(&ctx, &merchant.id, &id).await?;
    tracing::info!(payment = %id, "authorisation voided");
    Ok(Json(to_api(&payment)))
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
    security(("secret_key" = []))
)]
async fn create_refund(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateRefund>,
) -> Result<(StatusCode, Json<api::Refund>), ApiError> {
    let amount = req
        .amount
        .map(|a| positive_amount("amount", a))
        .transpose()?;
    let reason = req
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "reason",
            "The reason must be at most 500 characters.",
        ));
    }
    let refund_id = new_id("re");
    let now = ctx.clock.now();
    change(&ctx, &merchant.id, &req.payment_id, events::REFUND_SUCCEEDED, |p| {
        let refundable = p.amount_captured - p.amount_refunded;
        let amount = amount.unwrap_or(refundable);
        if matches!(
            p.status,
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
        ) && amount > refundable
        {
            return Err(ApiError::Conflict {
                code: "amount_exceeds_refundable",
                message: format!(
                    "Cannot refund {amount}: {refundable} {} of the captured {} is left to refund.",
                    p.currency, p.amount_captured
                ),
            });
        }
        let status = p.status.apply(PaymentAction::Refund {
            in_full: amount == refundable,
        })?;
        Ok((
            PaymentState {
                status,
                amount_captured: p.amount_captured,
                amount_refunded: p.amount_refunded + amount,
            },
            Some(Refund {
                id: refund_id.clone(),
                payment_id: p.id.clone(),
                merchant_id: p.merchant_id.clone(),
                amount,
                currency: p.currency.clone(),
                // The sandbox returns money at once; a real acquirer may
                // answer later, which is what `pending` is for.
                status: RefundStatus::Succeeded,
                reason: reason.clone(),
                created: now,
            }),
        ))
    })
    .await
    .map_err(|e| match e {
        ApiError::NotFound { .. } => ApiError::invalid(
            "resource_missing",
            "payment_id",
            format!("No such payment: '{}'.", req.payment_id),
        ),
        other => other,
    })?;
    let refund = ctx
        .store
        .refund(&refund_id)
        .await?
        .expect("the refund was written");
    tracing::info!(payment = %req.payment_id, refund = %refund.id, amount = refund.amount, "refund");
    Ok((StatusCode::CREATED, Json(refund_to_api(&refund))))
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
    security(("secret_key" = []))
)]
async fn list_refunds(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<RefundParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RefundList>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::InvalidRequest {
        code: "parameter_missing",
        message: format!("{}; name the payment as ?payment_id=pay_….", e.body_text()),
        param: Some("payment_id".into()),
    })?;
    let payment = own_payment(&ctx, &merchant, &params.payment_id).await?;
    let refunds = ctx.store.payment_refunds(&payment.id).await?;
    Ok(Json(RefundList {
        object: "list".into(),
        data: refunds.iter().map(refund_to_api).collect(),
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
    security(("secret_key" = []))
)]
async fn retrieve_refund(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Refund>, ApiError> {
    let refund = ctx
        .store
        .refund(&id)
        .await?
        .filter(|r| r.merchant_id == merchant.id)
        .ok_or_else(|| ApiError::NotFound {
            kind: "refund",
            id: id.clone(),
        })?;
    Ok(Json(refund_to_api(&refund)))
}

/// Paid (or authorised, awaiting capture), and not all of it refunded.
fn fulfillable(status: PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Succeeded
            | PaymentStatus::RequiresCapture
            | PaymentStatus::PartiallyRefunded
    )
}

/// Declines on the same session before this payment say someone may be
/// trying cards.
async fn risk_level(ctx: &ApiContext, payment: &Payment) -> Result<RiskLevel, ApiError> {
    let Some(session) = &payment.session_id else {
        return Ok(RiskLevel::Normal);
    };
    let declined = ctx
        .store
        .session_payments(session)
        .await?
        .iter()
        .filter(|p| p.status == PaymentStatus::Failed)
        .count();
    Ok(match declined {
        0 => RiskLevel::Normal,
        1 | 2 => RiskLevel::Elevated,
        _ => RiskLevel::High,
    })
}

/// Validate a payment before fulfilling the order
///
/// `VALID` the first time for a paid payment, `VALIDATED` after that (do not
/// ship twice), `INVALID` for a failed, refunded or unknown one.
#[utoipa::path(
    get, path = "/v1/payments/{id}/validate", tag = "Payments",
    params(("id" = String, Path, description = "The payment's id, `pay_…`")),
    responses((status = 200, description = "The verdict", body = Validation)),
    security(("secret_key" = []))
)]
async fn validate(
    State(ctx): State<ApiContext>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<Validation>, ApiError> {
    // Only a payment that is not this merchant's is INVALID; a failure to
    // look it up is an error, never a verdict on the payment.
    let found = ctx
        .store
        .payment(&id)
        .await?
        .filter(|p| p.merchant_id == merchant.id);
    let Some(payment) = found else {
        return Ok(Json(Validation {
            status: ValidationStatus::Invalid,
            payment_id: id,
            amount: None,
            currency: None,
            payment_status: None,
            order_reference: None,
            risk_level: None,
            validated_at: None,
        }));
    };
    let status = if !fulfillable(payment.status) {
        ValidationStatus::Invalid
    } else if ctx.store.mark_validated(&id, ctx.clock.now()).await? {
        ValidationStatus::Valid
    } else {
        ValidationStatus::Validated
    };
    let validated_at = ctx.store.payment(&id).await?.and_then(|p| p.validated);
    Ok(Json(Validation {
        status,
        risk_level: Some(risk_level(&ctx, &payment).await?),
        payment_id: payment.id,
        amount: Some(payment.amount),
        currency: Some(payment.currency),
        payment_status: Some(payment.status),
        order_reference: payment.order_reference,
        validated_at,
    }))
}

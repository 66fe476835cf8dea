//! A payment's life after its authorisation: looked up by its merchant,
//! listed, captured, voided, refunded (in parts, never beyond what was
//! captured), and validated before the merchant ships. Every change is a
//! compare-and-set with its event in the same transaction.

use kasse_core::api::{RefundStatus, RiskLevel, Validation, ValidationStatus};
use kasse_core::error::ErrorCode;
use kasse_core::{PaymentAction, PaymentStatus};

use super::DomainError;
use super::events::{self, EventType, new_event};
use super::views;
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{Payment, PaymentChange, PaymentQuery, PaymentState, Refund};

/// The payment id that `id` names: a `pay_…` id as it is, or the
/// `transaction_id` the simple checkout surface gave the customer.
async fn resolve(ctx: &AppState, merchant_id: &str, id: &str) -> Result<String, DomainError> {
    if id.starts_with("pay_") {
        return Ok(id.to_string());
    }
    Ok(match ctx.store.payment_refs_by_short_ref(id).await? {
        Some(refs) if refs.merchant_id == merchant_id => refs.payment_id,
        _ => id.to_string(),
    })
}

/// A payment of this merchant, by its id or its simple-checkout
/// `transaction_id`; another merchant's is as unknown as a missing one.
pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Payment, DomainError> {
    let id = &resolve(ctx, merchant_id, id).await?;
    ctx.store
        .payment(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "payment",
            id: id.to_string(),
        })
}

/// One page of the merchant's payments, newest first, and whether more
/// follow. A `starting_after` that is not the merchant's is refused.
pub async fn list(
    ctx: &AppState,
    merchant_id: &str,
    mut query: PaymentQuery,
) -> Result<(Vec<Payment>, bool), DomainError> {
    if let Some(after) = &query.starting_after {
        let known = ctx.store.payment(merchant_id, after).await?.is_some();
        if !known {
            return Err(DomainError::invalid(
                ErrorCode::ParameterInvalid,
                "starting_after",
                format!("starting_after names no payment of yours: '{after}'."),
            ));
        }
    }
    let limit = query.limit as usize;
    query.limit += 1;
    let mut payments = ctx.store.list_payments(merchant_id, &query).await?;
    let has_more = payments.len() > limit;
    payments.truncate(limit);
    Ok((payments, has_more))
}

/// Reads, plans and compare-and-sets until the change applies or is
/// refused; the change's event goes to the outbox in the same transaction.
async fn change(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
    kind: EventType,
    plan: impl Fn(&Payment) -> Result<(PaymentState, Option<Refund>), DomainError>,
) -> Result<Payment, DomainError> {
    const ATTEMPTS: usize = 200;
    for _ in 0..ATTEMPTS {
        let payment = find(ctx, merchant_id, id).await?;
        let (to, refund) = plan(&payment)?;
        let notify = match &payment.session_id {
            Some(sid) => ctx
                .store
                .session(merchant_id, sid)
                .await?
                .and_then(|s| s.notification_url_for(kind).map(str::to_string)),
            None => None,
        };
        let event = match &refund {
            Some(refund) => new_event(
                ctx,
                merchant_id,
                kind,
                &views::refund(refund),
                notify.as_deref(),
            ),
            None => {
                let after = Payment {
                    status: to.status,
                    amount_captured: to.amount_captured,
                    amount_refunded: to.amount_refunded,
                    ..payment.clone()
                };
                new_event(
                    ctx,
                    merchant_id,
                    kind,
                    &views::payment(&after),
                    notify.as_deref(),
                )
            }
        };
        let applied = ctx
            .store
            .change_payment(&PaymentChange {
                payment_id: payment.id.clone(),
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
                .payment(merchant_id, &payment.id)
                .await?
                .expect("a changed payment exists"));
        }
        tokio::task::yield_now().await;
    }
    Err(DomainError::Conflict {
        code: ErrorCode::PaymentBusy,
        message: "This payment is being changed by other requests; try again.".into(),
    })
}

fn positive_amount(param: &str, amount: i64) -> Result<i64, DomainError> {
    if amount <= 0 {
        return Err(DomainError::invalid(
            ErrorCode::AmountTooSmall,
            param,
            format!("The amount must be a positive integer of minor units; got {amount}."),
        ));
    }
    Ok(amount)
}

/// Captures all or part of an authorisation; what is not captured is released.
pub async fn capture(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
    amount: Option<i64>,
) -> Result<Payment, DomainError> {
    let amount = amount.map(|a| positive_amount("amount", a)).transpose()?;
    let captured = change(ctx, merchant_id, id, events::PAYMENT_CAPTURED, |p| {
        let status = p.status.apply(PaymentAction::Capture)?;
        let capturable = p.amount - p.amount_captured;
        let amount = amount.unwrap_or(capturable);
        if amount > capturable {
            return Err(DomainError::Conflict {
                code: ErrorCode::AmountExceedsCapturable,
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
    .await;
    captured.inspect(|_| ctx.metrics.change("capture"))
}

/// Releases an authorisation.
pub async fn void(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Payment, DomainError> {
    let voided = change(ctx, merchant_id, id, events::PAYMENT_CANCELED, |p| {
        let status = p.status.apply(PaymentAction::Void)?;
        Ok((
            PaymentState {
                status,
                ..p.state()
            },
            None,
        ))
    })
    .await;
    voided.inspect(|_| ctx.metrics.change("void"))
}

/// Refunds all of what is left, or `amount` of it.
pub async fn refund(
    ctx: &AppState,
    merchant_id: &str,
    payment_id: &str,
    amount: Option<i64>,
    reason: Option<String>,
) -> Result<Refund, DomainError> {
    refund_as(ctx, merchant_id, payment_id, amount, reason, &new_id("re"))
        .await
        .inspect(|_| ctx.metrics.change("refund"))
}

/// [`refund`], the refund named `refund_id` (chosen by the caller, which
/// keeps it to make a retried request safe).
pub async fn refund_as(
    ctx: &AppState,
    merchant_id: &str,
    payment_id: &str,
    amount: Option<i64>,
    reason: Option<String>,
    refund_id: &str,
) -> Result<Refund, DomainError> {
    let amount = amount.map(|a| positive_amount("amount", a)).transpose()?;
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "reason",
            "The reason must be at most 500 characters.",
        ));
    }
    let refund_id = refund_id.to_string();
    let now = ctx.clock.now();
    change(ctx, merchant_id, payment_id, events::REFUND_SUCCEEDED, |p| {
        let refundable = p.amount_captured - p.amount_refunded;
        let amount = amount.unwrap_or(refundable);
        if matches!(
            p.status,
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
        ) && amount > refundable
        {
            return Err(DomainError::Conflict {
                code: ErrorCode::AmountExceedsRefundable,
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
                currency: p.currency,
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
        DomainError::NotFound { .. } => DomainError::invalid(
            ErrorCode::ResourceMissing,
            "payment_id",
            format!("No such payment: '{}'.", payment_id),
        ),
        other => other,
    })?;
    Ok(ctx
        .store
        .refund(merchant_id, &refund_id)
        .await?
        .expect("the refund was written"))
}

/// A payment's refunds, oldest first.
pub async fn refunds(
    ctx: &AppState,
    merchant_id: &str,
    payment_id: &str,
) -> Result<Vec<Refund>, DomainError> {
    let payment = find(ctx, merchant_id, payment_id).await?;
    Ok(ctx.store.payment_refunds(&payment.id).await?)
}

/// A refund of this merchant.
pub async fn find_refund(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Refund, DomainError> {
    ctx.store
        .refund(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "refund",
            id: id.to_string(),
        })
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

/// Whether Kasse's risk rules flag the payment (many declines before it).
pub async fn risky(ctx: &AppState, payment: &Payment) -> Result<bool, DomainError> {
    Ok(risk_level(ctx, payment).await? == RiskLevel::High)
}

/// Declines on the same session before this payment say someone may be
/// trying cards.
async fn risk_level(ctx: &AppState, payment: &Payment) -> Result<RiskLevel, DomainError> {
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

/// The verdict a merchant asks for before it ships: `VALID` the first time
/// for a paid payment, `VALIDATED` after that, `INVALID` for a failed,
/// refunded or unknown one.
pub async fn validate(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Validation, DomainError> {
    // Only a payment that is not this merchant's is INVALID; a failure to
    // look it up is an error, never a verdict on the payment.
    let id = &resolve(ctx, merchant_id, id).await?;
    let found = ctx.store.payment(merchant_id, id).await?;
    let Some(payment) = found else {
        return Ok(Validation {
            status: ValidationStatus::Invalid,
            payment_id: id.to_string(),
            amount: None,
            currency: None,
            payment_status: None,
            order_reference: None,
            risk_level: None,
            validated_at: None,
        });
    };
    let status = if !fulfillable(payment.status) {
        ValidationStatus::Invalid
    } else if ctx.store.mark_validated(id, ctx.clock.now()).await? {
        ValidationStatus::Valid
    } else {
        ValidationStatus::Validated
    };
    let validated_at = ctx
        .store
        .payment(merchant_id, id)
        .await?
        .and_then(|p| p.validated);
    Ok(Validation {
        status,
        risk_level: Some(risk_level(ctx, &payment).await?),
        payment_id: payment.id,
        amount: Some(payment.amount),
        currency: Some(payment.currency.code().to_string()),
        payment_status: Some(payment.status),
        order_reference: payment.order_reference,
        validated_at,
    })
}

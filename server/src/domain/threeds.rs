//! Finishing a payment that waited for 3-D Secure: the issuer's answer,
//! recorded with its events once, and never a charge for a session that
//! closed meanwhile.

use kasse_core::api::CaptureMethod;
use kasse_core::error::DeclineCode;
use kasse_core::{PaymentAction, PaymentStatus};

use super::DomainError;
use super::checkout::attempt_events;
use super::limits::{self, Limit};
use crate::processor::{ChallengeResult, Outcome};
use crate::secrets::constant_time_eq;
use crate::state::AppState;
use crate::store::{Payment, Session};

/// The payment, if it awaits this challenge and the token is its own.
pub async fn awaiting(
    ctx: &AppState,
    id: &str,
    token: &str,
) -> Result<Option<Payment>, DomainError> {
    Ok(ctx.store.payment_awaiting_action(id).await?.filter(|p| {
        p.action_token
            .as_deref()
            .is_some_and(|t| constant_time_eq(t, token))
    }))
}

/// Records the cardholder's answer for `payment` (which [`awaiting`]
/// found): the issuer's outcome, or a decline if the session closed
/// meanwhile. Returns the session to send the customer back to; `None` if
/// the payment has no session.
pub async fn finish(
    ctx: &AppState,
    payment: &Payment,
    authenticated: bool,
) -> Result<Option<Session>, DomainError> {
    let outcome = ctx
        .processor
        .complete_challenge(&ChallengeResult {
            reference: &payment.id,
            bin: &payment.card_bin,
            last4: &payment.card_last4,
            authenticated,
        })
        .await;
    let session = match &payment.session_id {
        Some(sid) => ctx.store.session(&payment.merchant_id, sid).await?,
        None => None,
    };
    let Some(session) = session else {
        return Ok(None);
    };
    let now = ctx.clock.now();
    // The payment as it will be, and the events that say so.
    let finish = |action: PaymentAction, decline: Option<DeclineCode>| {
        let to = payment.status.apply(action)?;
        let after = Payment {
            status: to,
            amount_captured: if to == PaymentStatus::Succeeded {
                payment.amount
            } else {
                0
            },
            decline_code: decline,
            ..payment.clone()
        };
        let events = attempt_events(ctx, &session, &after);
        Ok::<_, DomainError>((after, events))
    };
    let finished = match outcome {
        Outcome::Approved { .. } => {
            let manual = payment.capture_method == CaptureMethod::Manual;
            let (after, events) = finish(PaymentAction::Approve { manual }, None)?;
            let completes = after.status.completes_session();
            let link = if completes {
                super::link_payments::completion(ctx, &session, &after).await?
            } else {
                None
            };
            let done = ctx
                .store
                .finish_action(&after, completes, now, &events, link.as_ref())
                .await?;
            if link.is_some_and(|l| !l.notifications.is_empty()) {
                ctx.wake_mail.notify_one();
            }
            if done {
                super::saved_cards::activate(ctx, &after).await?;
            }
            done
        }
        Outcome::Declined(code) => {
            let (after, events) = finish(PaymentAction::Decline, Some(code))?;
            let done = ctx
                .store
                .finish_action(&after, false, now, &events, None)
                .await?;
            super::saved_cards::discard(ctx, payment).await?;
            super::link_payments::release(ctx, session.payment_link_id.as_deref(), &payment.id)
                .await;
            limits::count(ctx, Limit::MerchantDeclines, &payment.merchant_id).await?;
            done
        }
        Outcome::ChallengeRequired => false,
    };
    if !finished {
        // The session closed meanwhile (paid another way, or expired): this
        // authentication must not charge the customer.
        let code = DeclineCode::CardDeclined;
        let (after, events) = finish(PaymentAction::Decline, Some(code))?;
        ctx.store
            .finish_action(&after, false, now, &events, None)
            .await?;
        super::saved_cards::discard(ctx, payment).await?;
        super::link_payments::release(ctx, session.payment_link_id.as_deref(), &payment.id).await;
    }
    Ok(Some(session))
}

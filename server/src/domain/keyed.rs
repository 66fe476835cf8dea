//! A card keyed in by the merchant's staff (a mail or telephone order):
//! no 3-D Secure, bounded per merchant and per member of staff, and
//! recorded whatever the issuer says.

use kasse_core::api::{CaptureMethod, PaymentChannel};
use kasse_core::error::ErrorCode;
use kasse_core::{Money, PaymentAction, PaymentStatus};

use super::DomainError;
use super::checkout::{ParsedCard, attempt_event_kind, attempt_record};
use super::events::new_event;
use super::limits::{self, Limit};
use super::views;
use crate::ids::new_id;
use crate::processor::{Authorization, Outcome};
use crate::state::AppState;
use crate::store::Payment;

/// What a keyed payment asks for.
pub struct KeyedCharge {
    pub money: Money,
    pub card: ParsedCard,
    pub order_reference: Option<String>,
    pub capture_method: CaptureMethod,
}

/// Charges a card keyed in for `merchant_id`, by `staff_id` if a member of
/// staff keyed it: approved (`succeeded` or `requires_capture`) or declined
/// (`failed`), recorded either way.
pub async fn charge(
    ctx: &AppState,
    merchant_id: &str,
    staff_id: Option<&str>,
    charge: KeyedCharge,
) -> Result<Payment, DomainError> {
    // Whoever may key cards in may test stolen ones: bounded per merchant,
    // per member of staff, and by the merchant's recent declines.
    limits::hit(ctx, Limit::KeyedPerMerchant, merchant_id).await?;
    if let Some(staff_id) = staff_id {
        limits::hit(ctx, Limit::KeyedPerStaff, staff_id).await?;
    }
    limits::check(ctx, Limit::MerchantDeclines, merchant_id).await?;
    let payment_id = new_id("pay");
    let outcome = ctx
        .processor
        .authorize(&Authorization {
            card: &charge.card.number,
            expiry: charge.card.expiry,
            cvc: Some(&charge.card.cvc),
            money: charge.money,
            reference: &payment_id,
            moto: true,
            stored_credential: false,
            off_session: false,
        })
        .await;
    let action = match &outcome {
        Outcome::Approved { .. } => PaymentAction::Approve {
            manual: charge.capture_method == CaptureMethod::Manual,
        },
        Outcome::Declined(_) => PaymentAction::Decline,
        Outcome::ChallengeRequired => {
            return Err(DomainError::Card {
                code: ErrorCode::AuthenticationRequired,
                message: "The issuer asked for 3-D Secure, which a keyed (card not present) payment cannot do; send the customer a payment link instead.".into(),
                param: None,
            });
        }
    };
    let status = PaymentStatus::RequiresPaymentMethod.apply(action)?;
    let payment = Payment {
        capture_method: charge.capture_method,
        channel: PaymentChannel::Moto,
        order_reference: charge.order_reference.clone(),
        ..attempt_record(
            ctx,
            &payment_id,
            merchant_id,
            charge.money,
            charge.card.on_record(),
            status,
            &outcome,
        )
    };
    let decline = outcome.decline();
    let kind = attempt_event_kind(status).expect("a keyed payment ends approved or declined");
    let event = new_event(ctx, merchant_id, kind, &views::payment(&payment), None);
    // A keyed payment has no session, so no lease to lose: always recorded.
    ctx.store
        .finish_confirm(&payment, false, &[event], None)
        .await?;
    ctx.metrics
        .payment(status.as_str(), decline.map(|d| d.as_str()));
    if decline.is_some() {
        limits::count(ctx, Limit::MerchantDeclines, merchant_id).await?;
    }
    tracing::info!(
        payment = %payment_id, card = %charge.card.number, status = %status,
        decline = ?decline, "keyed payment"
    );
    Ok(payment)
}

//! Charging a customer's saved card with the customer absent (a
//! merchant-initiated transaction): only under an active mandate that the
//! customer gave with a payment they made, within its bounds, never with
//! 3-D Secure. An issuer that wants the customer to authenticate declines
//! with `authentication_required`, and the charge comes back at once with a
//! recovery page, bound to that customer and amount, where they do.

use std::collections::BTreeMap;

use kasse_core::api::{CaptureMethod, PaymentChannel, SESSION_TTL_MAX_SECONDS};
use kasse_core::error::{DeclineCode, ErrorCode};
use kasse_core::{CardNumber, Expiry, Money, PaymentAction, PaymentStatus, SessionStatus};

use super::DomainError;
use super::checkout::{CardOnRecord, attempt_event_kind, attempt_record};
use super::events::new_event;
use super::{input, saved_cards, views};
use crate::ids::new_id;
use crate::processor::{Authorization, Outcome};
use crate::state::AppState;
use crate::store::{
    Mandate, MandateStatus, Merchant, Payment, PaymentMethod, PaymentMethodStatus, Session, Surface,
};

/// What an off-session charge asks for.
pub struct OffSessionCharge {
    pub money: Money,
    pub customer: String,
    pub payment_method: String,
    pub mandate: Option<String>,
    pub order_reference: Option<String>,
    pub capture_method: CaptureMethod,
    pub return_url: Option<String>,
}

/// The charge, recorded whatever the issuer said, and for an
/// `authentication_required` decline the recovery page's URL.
pub async fn charge(
    ctx: &AppState,
    merchant: &Merchant,
    req: OffSessionCharge,
) -> Result<(Payment, Option<String>), DomainError> {
    let customer = ctx
        .store
        .customer(&merchant.id, &req.customer)
        .await?
        .ok_or_else(|| missing("customer", "customer", &req.customer))?;
    let return_url = input::return_url(ctx, merchant, req.return_url.as_deref())?;
    let (card, mandate) = chargeable(
        ctx,
        &merchant.id,
        &customer.id,
        &req.payment_method,
        req.mandate.as_deref(),
        req.money,
    )
    .await?;
    let payment_id = new_id("pay");
    let (outcome, number) = authorize(ctx, &card, req.money, &payment_id).await?;
    let recovery = if outcome.decline() == Some(DeclineCode::AuthenticationRequired) {
        Some(recovery_session(ctx, merchant, &customer, &req, &payment_id, return_url).await?)
    } else {
        None
    };
    let payment = Payment {
        recovery_session_id: recovery.as_ref().map(|s| s.id.clone()),
        ..record(
            ctx,
            Charged {
                card: &card,
                mandate: &mandate,
                number: &number,
                money: req.money,
                payment_id: &payment_id,
                outcome: &outcome,
                capture_method: req.capture_method,
                order_reference: req.order_reference.clone(),
            },
        )?
    };
    let kind = attempt_event_kind(payment.status)
        .expect("an off-session charge ends approved or declined");
    let event = new_event(ctx, &merchant.id, kind, &views::payment(&payment), None);
    ctx.store
        .finish_confirm(&payment, false, &[event], None)
        .await?;
    tracing::info!(
        payment = %payment_id, payment_method = %card.id, mandate = %mandate.id,
        status = %payment.status, decline = ?outcome.decline(), "off-session charge"
    );
    ctx.metrics.payment(
        payment.status.as_str(),
        outcome.decline().map(|d| d.as_str()),
    );
    Ok((
        payment,
        recovery.map(|session| views::hosted_page_url(ctx, &session)),
    ))
}

/// The customer's saved card `payment_method`, checked for a charge of
/// `money` with them absent, and the mandate it is charged under (`named`,
/// or the card's active one): refused with a stable code otherwise.
pub(crate) async fn chargeable(
    ctx: &AppState,
    merchant_id: &str,
    customer_id: &str,
    payment_method: &str,
    named: Option<&str>,
    money: Money,
) -> Result<(PaymentMethod, Mandate), DomainError> {
    let card = saved_cards::find(ctx, merchant_id, payment_method)
        .await
        .map_err(|_| missing("payment_method", "payment method", payment_method))?;
    if card.customer_id != customer_id {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "payment_method",
            format!("{} is not a card of {customer_id}.", card.id),
        ));
    }
    usable(ctx, &card)?;
    let mandate = mandate_for(ctx, merchant_id, &card, named).await?;
    within(&mandate, money)?;
    Ok((card, mandate))
}

/// Asks the acquirer to charge `card` with its customer absent: never a
/// challenge (an issuer that wants one declines with
/// `authentication_required`). Returns the answer and the card's number,
/// out of the vault, for the record.
pub(crate) async fn authorize(
    ctx: &AppState,
    card: &PaymentMethod,
    money: Money,
    payment_id: &str,
) -> Result<(Outcome, CardNumber), DomainError> {
    let number = saved_cards::card_number(ctx, card).await?;
    let outcome = match ctx
        .processor
        .authorize(&Authorization {
            card: &number,
            expiry: expiry_of(card),
            cvc: None,
            money,
            reference: payment_id,
            moto: false,
            stored_credential: true,
            off_session: true,
        })
        .await
    {
        // No customer is there to be challenged.
        Outcome::ChallengeRequired => Outcome::Declined(DeclineCode::AuthenticationRequired),
        other => other,
    };
    Ok((outcome, number))
}

fn expiry_of(card: &PaymentMethod) -> Expiry {
    Expiry {
        month: card.card_exp_month,
        year: card.card_exp_year,
    }
}

/// An off-session charge as it happened.
pub(crate) struct Charged<'a> {
    pub card: &'a PaymentMethod,
    pub mandate: &'a Mandate,
    pub number: &'a CardNumber,
    pub money: Money,
    pub payment_id: &'a str,
    pub outcome: &'a Outcome,
    pub capture_method: CaptureMethod,
    pub order_reference: Option<String>,
}

/// The payment record of an off-session charge.
pub(crate) fn record(ctx: &AppState, c: Charged<'_>) -> Result<Payment, DomainError> {
    let action = match c.outcome {
        Outcome::Approved { .. } => PaymentAction::Approve {
            manual: c.capture_method == CaptureMethod::Manual,
        },
        _ => PaymentAction::Decline,
    };
    let status = PaymentStatus::RequiresPaymentMethod.apply(action)?;
    Ok(Payment {
        capture_method: c.capture_method,
        channel: PaymentChannel::MerchantInitiated,
        order_reference: c.order_reference,
        customer_id: Some(c.card.customer_id.clone()),
        payment_method_id: Some(c.card.id.clone()),
        mandate_id: Some(c.mandate.id.clone()),
        off_session: true,
        ..attempt_record(
            ctx,
            c.payment_id,
            &c.card.merchant_id,
            c.money,
            CardOnRecord {
                number: c.number,
                expiry: expiry_of(c.card),
                name: c.card.cardholder_name.clone(),
            },
            status,
            c.outcome,
        )
    })
}

fn missing(param: &str, kind: &str, id: &str) -> DomainError {
    DomainError::invalid(
        ErrorCode::ResourceMissing,
        param,
        format!("No such {kind} of yours: '{id}'."),
    )
}

/// Refuses a card that is detached, or expired (by status or by date).
fn usable(ctx: &AppState, card: &PaymentMethod) -> Result<(), DomainError> {
    match card.status {
        PaymentMethodStatus::Detached => Err(DomainError::Conflict {
            code: ErrorCode::PaymentMethodDetached,
            message: format!("{} was detached from its customer.", card.id),
        }),
        _ if card.status == PaymentMethodStatus::Expired
            || (card.card_exp_year, card.card_exp_month) < ctx.clock.year_month() =>
        {
            Err(DomainError::Conflict {
                code: ErrorCode::PaymentMethodExpired,
                message: format!(
                    "{} expired at the end of {:02}/{}; ask the customer for a new card.",
                    card.id, card.card_exp_month, card.card_exp_year
                ),
            })
        }
        _ => Ok(()),
    }
}

/// The mandate to charge under: the one named, or the card's active one.
async fn mandate_for(
    ctx: &AppState,
    merchant_id: &str,
    card: &PaymentMethod,
    named: Option<&str>,
) -> Result<Mandate, DomainError> {
    let mandate = match named {
        Some(id) => {
            let mandate = saved_cards::find_mandate(ctx, merchant_id, id)
                .await
                .map_err(|_| missing("mandate", "mandate", id))?;
            if mandate.payment_method_id != card.id {
                return Err(DomainError::invalid(
                    ErrorCode::ParameterInvalid,
                    "mandate",
                    format!("{id} is a mandate for another card than {}.", card.id),
                ));
            }
            mandate
        }
        None => {
            let mandates = ctx.store.payment_method_mandates(&card.id).await?;
            let active = mandates
                .iter()
                .find(|m| m.status == MandateStatus::Active)
                .or_else(|| mandates.iter().find(|m| m.status == MandateStatus::Revoked));
            match active {
                Some(m) => m.clone(),
                None => {
                    return Err(DomainError::Conflict {
                        code: ErrorCode::MitWithoutCustomerInitiatedPayment,
                        message: format!(
                            "The customer never agreed to have {} charged in their absence: it was saved for payments they make themselves. Take a payment on the page that saves it with setup_future_usage: off_session first.",
                            card.id
                        ),
                    });
                }
            }
        }
    };
    if mandate.status != MandateStatus::Active {
        return Err(DomainError::Conflict {
            code: ErrorCode::MandateRevoked,
            message: format!(
                "Mandate {} was revoked; the customer must agree again, on a payment they make.",
                mandate.id
            ),
        });
    }
    Ok(mandate)
}

/// Refuses a charge outside the mandate's currency or amount.
fn within(mandate: &Mandate, money: Money) -> Result<(), DomainError> {
    if money.currency() != mandate.currency {
        return Err(DomainError::invalid(
            ErrorCode::CurrencyMismatch,
            "currency",
            format!(
                "Mandate {} is for {}; this charge is in {}.",
                mandate.id,
                mandate.currency.code(),
                money.currency().code()
            ),
        ));
    }
    if let Some(max) = mandate.max_amount
        && money.amount() > max
    {
        return Err(DomainError::invalid(
            ErrorCode::MandateAmountExceeded,
            "amount",
            format!(
                "Mandate {} allows at most {max} {} per charge; this one is {}.",
                mandate.id,
                mandate.currency.code(),
                money.amount()
            ),
        ));
    }
    Ok(())
}

/// A checkout session for the customer to pay what the issuer would not
/// let the merchant charge without them: the same amount, currency and
/// order, for that customer, open for as long as a session may be.
async fn recovery_session(
    ctx: &AppState,
    merchant: &Merchant,
    customer: &crate::store::Customer,
    req: &OffSessionCharge,
    payment_id: &str,
    return_url: String,
) -> Result<Session, DomainError> {
    let id = new_id("cs");
    let now = ctx.clock.now();
    let session = Session {
        client_secret: format!("{id}_secret_{}", &new_id("x")[2..]),
        id,
        merchant_id: merchant.id.clone(),
        status: SessionStatus::Open,
        amount: req.money.amount(),
        currency: req.money.currency(),
        success_url: return_url.clone(),
        cancel_url: return_url,
        fail_url: None,
        order_reference: req.order_reference.clone(),
        customer_name: customer.name.clone(),
        customer_email: customer.email.clone(),
        metadata: BTreeMap::from([("recovers_payment".to_string(), payment_id.to_string())]),
        capture_method: req.capture_method,
        notification_url: None,
        appearance: None,
        locale: customer
            .locale
            .as_deref()
            .and_then(|l| kasse_core::RequestedLocale::parse(l).ok())
            .unwrap_or_default(),
        payment_id: None,
        created: now,
        expires_at: now + SESSION_TTL_MAX_SECONDS,
        surface: Surface::Kasse,
        card_rules: None,
        customer_id: Some(customer.id.clone()),
        save_card: kasse_core::api::SaveCard::Off,
        future_usage: kasse_core::api::FutureUsage::OffSession,
        mandate_options: None,
        payment_link_id: None,
    };
    ctx.store.insert_session(&session).await?;
    Ok(session)
}

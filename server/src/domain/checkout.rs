//! Paying a checkout session with a card on the hosted page: the limits
//! against card testing, the session's lease, the acquirer, the record of
//! the attempt with its events, and where the customer goes next.

use kasse_core::error::ErrorCode;
use std::net::IpAddr;

use kasse_core::api::{CaptureMethod, CardInput, PaymentChannel};
use kasse_core::error::DeclineCode;
use kasse_core::redirect::sign_url;
use kasse_core::{
    CardNumber, Cvc, Expiry, Locale, Money, PaymentAction, PaymentStatus, RequestedLocale,
    SessionStatus,
};
use url::Url;

use super::DomainError;
use super::events::{self, new_event};
use super::limits::{self, Limit};
use super::link_payments as links;
use super::saved_cards;
use super::views;
use crate::ids::{new_id, new_secret};
use crate::processor::{Authorization, Outcome};
use crate::secrets::constant_time_eq;
use crate::state::AppState;
use crate::store::{ConfirmClaim, Merchant, NewEvent, Payment, Session, StoreError, Surface};

/// How long one confirm may hold a session before another may try.
const CONFIRM_LEASE_SECONDS: i64 = 60;

/// What became of a confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// Paid (or authorised): send the customer to the signed `redirect_url`.
    Succeeded {
        payment_id: String,
        redirect_url: String,
    },
    /// The issuer wants 3-D Secure: send the customer to `redirect_url`.
    RequiresAction {
        payment_id: String,
        redirect_url: String,
    },
    /// Declined; the session stays open for another try, unless
    /// `redirect_url` sends the customer back to the merchant.
    Declined {
        payment_id: String,
        decline_code: DeclineCode,
        redirect_url: Option<String>,
    },
}

/// Who pays on the page, and what they chose beside the card.
pub struct Payer {
    pub client: IpAddr,
    pub user_agent: Option<String>,
    /// Ticked "save this card".
    pub save_card: bool,
    /// The language the page showed.
    pub locale: Option<Locale>,
}

/// What the customer pays with: a card typed in, or one of their saved
/// cards with its security code.
pub enum PayWith<'a> {
    Card(&'a CardInput),
    Saved {
        payment_method: &'a str,
        cvc: &'a str,
    },
}

/// Pays session `id`, whose client secret the caller gave, with `with`,
/// for `payer`.
pub async fn confirm(
    ctx: &AppState,
    id: &str,
    client_secret: &str,
    payer: Payer,
    with: PayWith<'_>,
) -> Result<Confirmed, DomainError> {
    let client = payer.client;
    limits::hit(ctx, Limit::Confirms, &limits::client_key(client)).await?;
    let (session, merchant) = authorised_session(ctx, id, client_secret).await?;
    let now = ctx.clock.now();
    refuse_unless_open(session.status_at(now))?;
    let (card, saved) = match with {
        PayWith::Card(input) => (parse_card(input, ctx.clock.year_month())?, None),
        PayWith::Saved {
            payment_method,
            cvc,
        } => {
            let method = saved_cards::for_payer(ctx, &session, payment_method).await?;
            let number = saved_cards::card_number(ctx, &method).await?;
            let cvc = Cvc::parse(cvc, Some(number.brand())).map_err(|e| DomainError::Card {
                code: e.code(),
                message: e.to_string(),
                param: Some("cvc".into()),
            })?;
            let card = ParsedCard {
                number,
                expiry: Expiry {
                    month: method.card_exp_month,
                    year: method.card_exp_year,
                },
                cvc,
                name: method.cardholder_name.clone(),
            };
            (card, Some(method.id))
        }
    };
    if let Some(refused) = session
        .card_rules
        .as_ref()
        .and_then(|rules| rules.refusal(card.number.brand(), card.number.expose_digits()))
    {
        return Err(DomainError::Card {
            code: ErrorCode::UnsupportedCardBrand,
            message: refused,
            param: Some("card.number".into()),
        });
    }
    let money = Money::new(session.amount, session.currency)
        .map_err(|_| StoreError::Corrupt(format!("session {id} amount")))?;

    let payment_id = new_id("pay");
    match ctx
        .store
        .claim_session_for_confirm(id, &payment_id, now, now + CONFIRM_LEASE_SECONDS)
        .await?
    {
        ConfirmClaim::Claimed => {}
        ConfirmClaim::InProgress => {
            return Err(DomainError::Conflict {
                code: ErrorCode::PaymentInProgress,
                message: "A payment for this session is already being processed.".into(),
            });
        }
        ConfirmClaim::NotOpen => {
            let status = ctx
                .store
                .session_for_payer(id)
                .await?
                .map_or(SessionStatus::Expired, |s| s.status_at(now));
            refuse_unless_open(status)?;
            return Err(DomainError::Conflict {
                code: ErrorCode::CheckoutSessionNotOpen,
                message: "This checkout session can no longer be paid.".into(),
            });
        }
    }
    // A single-use payment link takes one payment at a time, whichever of
    // its sessions it comes through.
    let held_link = match links::claim_for(ctx, &session, &payment_id).await {
        Ok(held) => held,
        Err(refused) => {
            ctx.store.release_confirm(id, &payment_id).await?;
            return Err(refused);
        }
    };
    // Checked while holding the session, so that confirms racing each other
    // cannot all pass the count before any of them adds to it.
    if let Err(refused) = attempts_left(ctx, &session, &merchant).await {
        links::release(ctx, held_link.as_deref(), &payment_id).await;
        ctx.store.release_confirm(id, &payment_id).await?;
        return Err(refused);
    }
    let saving = if saved.is_none() && saved_cards::wanted(&session, payer.save_card) {
        let consent = saved_cards::Consent {
            ip: client,
            user_agent: payer.user_agent,
            locale: payer
                .locale
                .or(match session.locale {
                    RequestedLocale::Fixed(locale) => Some(locale),
                    RequestedLocale::Auto => None,
                })
                .unwrap_or_default(),
        };
        let to_save = saved_cards::CardToSave {
            number: &card.number,
            expiry: card.expiry,
            name: card.name.as_deref(),
        };
        match saved_cards::prepare(ctx, &session, &merchant, to_save, consent).await {
            Ok(saving) => Some(saving),
            Err(refused) => {
                links::release(ctx, held_link.as_deref(), &payment_id).await;
                ctx.store.release_confirm(id, &payment_id).await?;
                return Err(refused);
            }
        }
    } else {
        None
    };

    let outcome = ctx
        .processor
        .authorize(&Authorization {
            card: &card.number,
            expiry: card.expiry,
            cvc: Some(&card.cvc),
            money,
            reference: &payment_id,
            moto: false,
            stored_credential: saved.is_some(),
            off_session: false,
        })
        .await;
    let manual = session.capture_method == CaptureMethod::Manual;
    let action = match &outcome {
        Outcome::Approved { .. } => PaymentAction::Approve { manual },
        Outcome::Declined(_) => PaymentAction::Decline,
        Outcome::ChallengeRequired => PaymentAction::RequireAction,
    };
    let status = PaymentStatus::RequiresPaymentMethod.apply(action)?;
    let payment = Payment {
        session_id: Some(session.id.clone()),
        capture_method: session.capture_method,
        order_reference: session.order_reference.clone(),
        customer_id: session.customer_id.clone(),
        payment_method_id: saved
            .clone()
            .or_else(|| saving.as_ref().map(|s| s.payment_method_id.clone())),
        mandate_id: saving.as_ref().and_then(|s| s.mandate_id.clone()),
        ..attempt_record(
            ctx,
            &payment_id,
            &merchant.id,
            money,
            card.on_record(),
            status,
            &outcome,
        )
    };
    let decline = outcome.decline();
    let action_token = payment.action_token.clone();
    let events = attempt_events(ctx, &session, &payment);
    let completes = payment.status.completes_session();
    let link_payment = if completes {
        match links::completion(ctx, &session, &payment).await {
            Ok(link_payment) => link_payment,
            Err(error) => {
                tracing::error!(payment = %payment_id, %error, "could not read the payment link this payment pays");
                links::release(ctx, held_link.as_deref(), &payment_id).await;
                saved_cards::discard(ctx, &payment).await?;
                return Err(lost_lease(ctx, payment).await?);
            }
        }
    } else {
        None
    };
    if !ctx
        .store
        .finish_confirm(&payment, completes, &events, link_payment.as_ref())
        .await?
    {
        links::release(ctx, held_link.as_deref(), &payment_id).await;
        saved_cards::discard(ctx, &payment).await?;
        return Err(lost_lease(ctx, payment).await?);
    }
    if link_payment.is_some_and(|l| !l.notifications.is_empty()) {
        ctx.wake_mail.notify_one();
    }
    if !completes && payment.action_token.is_none() {
        links::release(ctx, held_link.as_deref(), &payment_id).await;
    }
    if decline.is_some() {
        saved_cards::discard(ctx, &payment).await?;
        limits::count(ctx, Limit::MerchantDeclines, &merchant.id).await?;
    } else if payment.action_token.is_none() {
        saved_cards::activate(ctx, &payment).await?;
    }
    tracing::info!(
        session = %session.id, payment = %payment_id, card = %card.number,
        status = %status, decline = ?decline, "payment attempt"
    );
    ctx.metrics
        .payment(status.as_str(), decline.map(|d| d.as_str()));

    if let Some(token) = action_token {
        // The token rides in the fragment, which no server sees; the
        // bank's page posts it on.
        let mut redirect_url = ctx
            .public_url
            .join(&format!("acs/{payment_id}"))
            .expect("ids are URL-safe");
        redirect_url.set_fragment(Some(&token));
        return Ok(Confirmed::RequiresAction {
            payment_id,
            redirect_url: redirect_url.into(),
        });
    }
    Ok(match decline {
        None => Confirmed::Succeeded {
            redirect_url: success_redirect_for(ctx, &session, &merchant, &payment_id),
            payment_id,
        },
        Some(decline_code) => Confirmed::Declined {
            redirect_url: fail_redirect(ctx, &session, &merchant, &payment_id),
            payment_id,
            decline_code,
        },
    })
}

pub struct ParsedCard {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvc: Cvc,
    pub name: Option<String>,
}

/// What a payment records of its card, whether typed or saved.
pub struct CardOnRecord<'a> {
    pub number: &'a CardNumber,
    pub expiry: Expiry,
    pub name: Option<String>,
}

impl ParsedCard {
    pub fn on_record(&self) -> CardOnRecord<'_> {
        CardOnRecord {
            number: &self.number,
            expiry: self.expiry,
            name: self.name.clone(),
        }
    }
}

/// What a payment attempt keeps of its card and the acquirer's answer: the
/// brand, BIN, last four, expiry and a keyed fingerprint, never the number
/// or the CVC. Made for the payment page (no session, automatic capture,
/// no reference): a caller sets what differs.
pub fn attempt_record(
    ctx: &AppState,
    payment_id: &str,
    merchant_id: &str,
    money: Money,
    card: CardOnRecord<'_>,
    status: PaymentStatus,
    outcome: &Outcome,
) -> Payment {
    let now = ctx.clock.now();
    Payment {
        id: payment_id.to_string(),
        merchant_id: merchant_id.to_string(),
        session_id: None,
        amount: money.amount(),
        currency: money.currency(),
        status,
        card_brand: card.number.brand(),
        card_bin: card.number.bin().to_string(),
        card_last4: card.number.last4().to_string(),
        card_exp_month: card.expiry.month,
        card_exp_year: card.expiry.year,
        card_fingerprint: ctx
            .secret
            .card_fingerprint(merchant_id, card.number.expose_digits()),
        cardholder_name: card.name,
        decline_code: outcome.decline(),
        authorization_code: match outcome {
            Outcome::Approved { authorization_code } => Some(authorization_code.clone()),
            _ => None,
        },
        capture_method: CaptureMethod::Automatic,
        channel: PaymentChannel::Checkout,
        amount_captured: if status == PaymentStatus::Succeeded {
            money.amount()
        } else {
            0
        },
        amount_refunded: 0,
        // Proves that the simulated issuer's page was reached.
        action_token: (*outcome == Outcome::ChallengeRequired).then(|| new_secret("")),
        validated: None,
        order_reference: None,
        created: now,
        updated: now,
        customer_id: None,
        payment_method_id: None,
        mandate_id: None,
        off_session: false,
        recovery_session_id: None,
    }
}

/// The event a finished attempt sends, by its status; none while it waits
/// for 3-D Secure.
pub fn attempt_event_kind(status: PaymentStatus) -> Option<events::EventType> {
    match status {
        PaymentStatus::Succeeded => Some(events::PAYMENT_SUCCEEDED),
        PaymentStatus::RequiresCapture => Some(events::PAYMENT_REQUIRES_CAPTURE),
        PaymentStatus::Failed => Some(events::PAYMENT_FAILED),
        _ => None,
    }
}

/// The events of a payment attempt's outcome: the payment's own, and the
/// session's completion when the attempt paid it.
pub fn attempt_events(ctx: &AppState, session: &Session, payment: &Payment) -> Vec<NewEvent> {
    let Some(kind) = attempt_event_kind(payment.status) else {
        return Vec::new();
    };
    let mut out = vec![new_event(
        ctx,
        &payment.merchant_id,
        kind,
        &views::payment(payment),
        session.notification_url_for(kind),
    )];
    if kind != events::PAYMENT_FAILED {
        let completed = Session {
            status: SessionStatus::Complete,
            payment_id: Some(payment.id.clone()),
            ..session.clone()
        };
        out.push(new_event(
            ctx,
            &payment.merchant_id,
            events::SESSION_COMPLETED,
            &views::session_event(ctx, &completed),
            session.notification_url_for(events::SESSION_COMPLETED),
        ));
    }
    out
}

/// Refuses a confirm when the session has used up its attempts (declines
/// and 3-D Secure challenges alike: a challenge abandoned is a guess that
/// told the guesser something), or the merchant has had too many declines
/// in the last minute across every session.
async fn attempts_left(
    ctx: &AppState,
    session: &Session,
    merchant: &Merchant,
) -> Result<(), DomainError> {
    let attempts = ctx
        .store
        .session_payments(&session.id)
        .await?
        .iter()
        .filter(|p| {
            matches!(
                p.status,
                PaymentStatus::Failed | PaymentStatus::RequiresAction
            )
        })
        .count();
    if attempts >= ctx.limits.max_declined_attempts as usize {
        return Err(DomainError::Conflict {
            code: ErrorCode::TooManyAttempts,
            message: format!(
                "This payment was declined too many times. Return to {} and start again.",
                merchant.name
            ),
        });
    }
    limits::check(ctx, Limit::MerchantDeclines, &merchant.id).await
}

/// The acquirer answered after this confirm's lease ran out and another
/// confirm took the session: this attempt must not pay it too. An approval
/// is recorded as voided, apart from the session, and the customer is told
/// to look at the page again.
async fn lost_lease(ctx: &AppState, payment: Payment) -> Result<DomainError, DomainError> {
    let approved = matches!(
        payment.status,
        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture | PaymentStatus::RequiresAction
    );
    let session = payment.session_id.clone().unwrap_or_default();
    let detached = Payment {
        session_id: None,
        status: if approved {
            PaymentStatus::Canceled
        } else {
            payment.status
        },
        amount_captured: 0,
        action_token: None,
        ..payment
    };
    ctx.store
        .finish_confirm(&detached, false, &[], None)
        .await?;
    tracing::warn!(
        session = %session, payment = %detached.id, status = %detached.status,
        "confirm outlived its lease; its authorisation was voided, not recorded on the session"
    );
    Ok(DomainError::Conflict {
        code: ErrorCode::PaymentInProgress,
        message: "Another attempt to pay this session finished first; this card was not charged. Reload the page to see the payment's state.".into(),
    })
}

/// The session, if the client secret is its own. A wrong secret and an
/// unknown session look the same, so ids cannot be probed.
pub async fn authorised_session(
    ctx: &AppState,
    id: &str,
    secret: &str,
) -> Result<(Session, Merchant), DomainError> {
    let not_found = || DomainError::NotFound {
        kind: "checkout session",
        id: id.to_string(),
    };
    let session = ctx
        .store
        .session_for_payer(id)
        .await?
        .filter(|s| constant_time_eq(&s.client_secret, secret))
        .ok_or_else(not_found)?;
    let merchant = ctx
        .store
        .merchant(&session.merchant_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((session, merchant))
}

fn refuse_unless_open(status: SessionStatus) -> Result<(), DomainError> {
    match status {
        SessionStatus::Open => Ok(()),
        SessionStatus::Complete => Err(DomainError::Conflict {
            code: ErrorCode::CheckoutSessionComplete,
            message: "This checkout session has already been paid.".into(),
        }),
        SessionStatus::Expired => Err(DomainError::Conflict {
            code: ErrorCode::CheckoutSessionExpired,
            message: "This checkout session has expired. Return to the shop to start again.".into(),
        }),
    }
}

fn card_error(code: ErrorCode, param: String, message: String) -> DomainError {
    DomainError::Card {
        code,
        message,
        param: Some(param),
    }
}

/// A card's number and expiry, checked, each refusal naming its field
/// under `at` (`card`, `destination.card`).
pub fn parse_number_and_expiry(
    at: &str,
    number: &str,
    exp_month: u8,
    exp_year: u16,
    today: (u16, u8),
) -> Result<(CardNumber, Expiry), DomainError> {
    let number = CardNumber::parse(number)
        .map_err(|e| card_error(e.code(), format!("{at}.number"), e.to_string()))?;
    let expiry = Expiry::new(exp_month, exp_year, today).map_err(|e| {
        let field = if e.code() == ErrorCode::InvalidExpiryMonth {
            "exp_month"
        } else {
            "exp_year"
        };
        card_error(e.code(), format!("{at}.{field}"), e.to_string())
    })?;
    Ok((number, expiry))
}

/// The same checks the page runs, so a tampered page gains nothing.
pub fn parse_card(input: &CardInput, today: (u16, u8)) -> Result<ParsedCard, DomainError> {
    let (number, expiry) = parse_number_and_expiry(
        "card",
        input.number.expose(),
        input.exp_month,
        input.exp_year,
        today,
    )?;
    let cvc = Cvc::parse(input.cvc.expose(), Some(number.brand()))
        .map_err(|e| card_error(e.code(), "card.cvc".into(), e.to_string()))?;
    let name = input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control))
    {
        return Err(card_error(
            ErrorCode::InvalidName,
            "card.name".into(),
            "The cardholder name must be at most 100 characters.".into(),
        ));
    }
    Ok(ParsedCard {
        number,
        expiry,
        cvc,
        name,
    })
}

pub fn success_redirect(ctx: &AppState, session: &Session, merchant: &Merchant) -> Option<String> {
    let payment_id = session.payment_id.as_deref()?;
    Some(success_redirect_for(ctx, session, merchant, payment_id))
}

/// Where the customer goes once `payment_id` paid the session: the
/// merchant's `success_url`, signed; for a compatibility surface, Kasse's
/// return page first, which answers in that surface's shape.
pub fn success_redirect_for(
    ctx: &AppState,
    session: &Session,
    merchant: &Merchant,
    payment_id: &str,
) -> String {
    match session.surface {
        Surface::Kasse => signed(
            &session.success_url,
            &[
                ("session_id", &session.id),
                ("payment_id", payment_id),
                ("status", "succeeded"),
            ],
            merchant,
        ),
        Surface::Sslcommerz | Surface::Simple => {
            compat_return(ctx, session, merchant, "success", Some(payment_id))
        }
    }
}

/// Where the page's cancel link goes.
pub fn cancel_redirect(ctx: &AppState, session: &Session, merchant: &Merchant) -> String {
    match session.surface {
        Surface::Kasse => signed(
            &session.cancel_url,
            &[("session_id", &session.id), ("status", "canceled")],
            merchant,
        ),
        // The simple surface sends the customer to `cancel_url` as given.
        Surface::Simple => session.cancel_url.clone(),
        Surface::Sslcommerz => compat_return(ctx, session, merchant, "cancel", None),
    }
}

/// Where a declined customer goes, if not back to the form: only the
/// SSLCOMMERZ surface sends them on, to its `fail_url`.
pub fn fail_redirect(
    ctx: &AppState,
    session: &Session,
    merchant: &Merchant,
    payment_id: &str,
) -> Option<String> {
    (session.surface == Surface::Sslcommerz)
        .then(|| compat_return(ctx, session, merchant, "fail", Some(payment_id)))
}

/// Kasse's own return page for a compatibility surface (`compat::returns`),
/// signed like a redirect to the merchant, so that only Kasse makes one.
fn compat_return(
    ctx: &AppState,
    session: &Session,
    merchant: &Merchant,
    outcome: &str,
    payment_id: Option<&str>,
) -> String {
    let base = ctx
        .public_url
        .join(&format!("compat/return/{}", session.id))
        .expect("ids are URL-safe");
    let mut params = vec![("outcome", outcome)];
    params.extend(payment_id.map(|id| ("payment_id", id)));
    sign_url(&base, &params, &merchant.signing_secret).into()
}

fn signed(base: &str, params: &[(&str, &str)], merchant: &Merchant) -> String {
    let base = Url::parse(base).expect("redirect URLs are validated when the session is created");
    sign_url(&base, params, &merchant.signing_secret).into()
}

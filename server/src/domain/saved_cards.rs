//! Cards saved for customers, and the mandates under which a merchant may
//! charge one with its customer absent.
//!
//! A card is saved in two steps around the acquirer: before it is asked,
//! the card's number goes into the vault and the card and the mandate being
//! given are kept as `pending`; once the issuer approves (at once, or after
//! 3-D Secure), they become `active`; a decline discards them. The same
//! card saved twice for one customer stays one payment method, found by
//! its keyed fingerprint.

use std::net::IpAddr;

use kasse_core::api::{FutureUsage, SaveCard};
use kasse_core::consent::{CONSENT_VERSION, save_card_text};
use kasse_core::error::ErrorCode;
use kasse_core::{CardNumber, Expiry, Locale};
use zeroize::Zeroizing;

use super::DomainError;
use super::events::{EventType, new_event};
use super::views;
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{
    Activated, Mandate, MandateStatus, Merchant, NewEvent, Payment, PaymentMethod,
    PaymentMethodStatus, PendingCard, Session, WrappedKey,
};
use crate::vault::{DataKey, Vault, VaultError};

/// How the consent was given, for the mandate's record.
pub struct Consent {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
    /// The language the page showed the consent text in.
    pub locale: Locale,
}

/// The card a customer typed, to be saved.
pub struct CardToSave<'a> {
    pub number: &'a CardNumber,
    pub expiry: Expiry,
    pub name: Option<&'a str>,
}

/// A card being saved by a payment: what the payment records.
#[derive(Debug, Clone)]
pub struct Saving {
    pub payment_method_id: String,
    pub mandate_id: Option<String>,
}

/// The vault, or the refusal a server without a vault key gives.
pub fn vault(ctx: &AppState) -> Result<&Vault, DomainError> {
    ctx.vault.as_ref().ok_or_else(|| DomainError::Unprocessable {
        code: ErrorCode::VaultUnavailable,
        message: "Saved cards need the card vault, and this Kasse has no vault key: its operator sets KASSE_VAULT_KEY or KASSE_VAULT_KEY_FILE.".into(),
    })
}

pub(crate) fn vault_failure(e: VaultError) -> DomainError {
    tracing::error!(error = %e, "the card vault failed");
    DomainError::Unprocessable {
        code: ErrorCode::VaultUnavailable,
        message: "The card vault cannot open this card with the keys this Kasse was given; its operator must check KASSE_VAULT_KEY.".into(),
    }
}

/// The merchant's data key, made and stored (wrapped) on first use.
pub(crate) async fn data_key(ctx: &AppState, merchant_id: &str) -> Result<DataKey, DomainError> {
    let vault = vault(ctx)?;
    let stored = match ctx.store.vault_key(merchant_id).await? {
        Some(stored) => stored,
        None => {
            let (_, wrapped_key) = vault.new_data_key(merchant_id);
            ctx.store
                .ensure_vault_key(&WrappedKey {
                    merchant_id: merchant_id.to_string(),
                    kek_id: vault.current_kek_id().to_string(),
                    wrapped_key,
                    created: ctx.clock.now(),
                })
                .await?
        }
    };
    vault
        .unwrap(merchant_id, &stored.kek_id, &stored.wrapped_key)
        .map_err(vault_failure)
}

/// Whether a confirm of `session` saves the card: the session must name a
/// customer, and either require it or offer it and have the box ticked.
pub fn wanted(session: &Session, ticked: bool) -> bool {
    session.customer_id.is_some()
        && match session.save_card {
            SaveCard::Off => false,
            SaveCard::Optional => ticked,
            SaveCard::Required => true,
        }
}

/// Before the acquirer is asked: puts a new card's number in the vault
/// and keeps the card and the mandate being given, pending.
pub async fn prepare(
    ctx: &AppState,
    session: &Session,
    merchant: &Merchant,
    card: CardToSave<'_>,
    consent: Consent,
) -> Result<Saving, DomainError> {
    let customer_id = session
        .customer_id
        .clone()
        .expect("only a session with a customer saves cards");
    let now = ctx.clock.now();
    let digits = card.number.expose_digits();
    let fingerprint = ctx.secret.card_fingerprint(&merchant.id, digits);
    let existing = ctx
        .store
        .active_payment_method(&customer_id, &fingerprint)
        .await?;
    let (payment_method_id, pending) = match &existing {
        Some(known) => (known.id.clone(), None),
        None => {
            let id = new_id("pm");
            let key = data_key(ctx, &merchant.id).await?;
            let ciphertext = Vault::seal_card(&key, &merchant.id, &id, digits);
            let method = PaymentMethod {
                id: id.clone(),
                merchant_id: merchant.id.clone(),
                customer_id: customer_id.clone(),
                status: PaymentMethodStatus::Pending,
                card_brand: card.number.brand(),
                card_bin: card.number.bin().to_string(),
                card_last4: card.number.last4().to_string(),
                card_exp_month: card.expiry.month,
                card_exp_year: card.expiry.year,
                card_fingerprint: fingerprint,
                cardholder_name: card.name.map(str::to_string),
                usage: session.future_usage,
                first_payment_id: None,
                created: now,
                updated: now,
            };
            (id, Some(PendingCard { method, ciphertext }))
        }
    };
    let has_mandate = match &existing {
        Some(known) => ctx
            .store
            .payment_method_mandates(&known.id)
            .await?
            .iter()
            .any(|m| m.status == MandateStatus::Active),
        None => false,
    };
    let mandate = (session.future_usage == FutureUsage::OffSession && !has_mandate).then(|| {
        let options = session.mandate_options.clone().unwrap_or_default();
        Mandate {
            id: new_id("mdt"),
            merchant_id: merchant.id.clone(),
            customer_id: customer_id.clone(),
            payment_method_id: payment_method_id.clone(),
            status: MandateStatus::Pending,
            currency: session.currency,
            max_amount: options.max_amount,
            frequency: options.frequency,
            consent_text: save_card_text(consent.locale, &merchant.name, session.future_usage),
            consent_version: CONSENT_VERSION.to_string(),
            consent_locale: consent.locale.tag().to_string(),
            accepted_at: now,
            ip_address: Some(consent.ip.to_string()),
            user_agent: consent.user_agent,
            channel: "payment_page".into(),
            payment_id: None,
            created: now,
            revoked: None,
        }
    });
    ctx.store
        .insert_pending(pending.as_ref(), mandate.as_ref())
        .await?;
    Ok(Saving {
        payment_method_id,
        mandate_id: mandate.map(|m| m.id),
    })
}

/// Once `payment` is approved: the card it saved is the customer's, and
/// the mandate given with it active, with their events.
pub async fn activate(ctx: &AppState, payment: &Payment) -> Result<(), DomainError> {
    let Some(pm_id) = &payment.payment_method_id else {
        return Ok(());
    };
    let merchant_id = &payment.merchant_id;
    let Some(card) = ctx.store.payment_method(merchant_id, pm_id).await? else {
        return Ok(());
    };
    let now = ctx.clock.now();
    let attached = vec![new_event(
        ctx,
        merchant_id,
        EventType::PaymentMethodAttached,
        &views::payment_method(&PaymentMethod {
            status: PaymentMethodStatus::Active,
            first_payment_id: Some(payment.id.clone()),
            ..card
        }),
        None,
    )];
    let mut mandated = Vec::new();
    if let Some(mandate_id) = &payment.mandate_id
        && let Some(mandate) = ctx.store.mandate(merchant_id, mandate_id).await?
    {
        mandated.push(new_event(
            ctx,
            merchant_id,
            EventType::MandateCreated,
            &views::mandate(&Mandate {
                status: MandateStatus::Active,
                payment_id: Some(payment.id.clone()),
                ..mandate
            }),
            None,
        ));
    }
    let outcome = ctx
        .store
        .activate_saved_card(
            pm_id,
            payment.mandate_id.as_deref(),
            &payment.id,
            now,
            &attached,
            &mandated,
        )
        .await?;
    if let Some(Activated::Existing(kept)) = outcome
        && &kept.id != pm_id
    {
        tracing::info!(
            payment = %payment.id, kept = %kept.id, dropped = %pm_id,
            "the card was saved by another payment meanwhile; one payment method stands"
        );
    }
    Ok(())
}

/// After a decline: forgets what `payment` was saving.
pub async fn discard(ctx: &AppState, payment: &Payment) -> Result<(), DomainError> {
    if payment.payment_method_id.is_some() || payment.mandate_id.is_some() {
        ctx.store
            .discard_pending(
                payment.payment_method_id.as_deref(),
                payment.mandate_id.as_deref(),
            )
            .await?;
    }
    Ok(())
}

/// A saved card of this merchant (never one still pending).
pub async fn find(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<PaymentMethod, DomainError> {
    ctx.store
        .payment_method(merchant_id, id)
        .await?
        .filter(|m| m.status != PaymentMethodStatus::Pending)
        .ok_or_else(|| DomainError::NotFound {
            kind: "payment method",
            id: id.to_string(),
        })
}

/// A card the session's customer may pay with on the page: theirs, active
/// and unexpired. Anything else is refused as a card error.
pub async fn for_payer(
    ctx: &AppState,
    session: &Session,
    id: &str,
) -> Result<PaymentMethod, DomainError> {
    let card_error = |code: ErrorCode, message: String| DomainError::Card {
        code,
        message,
        param: Some("payment_method".into()),
    };
    let method = ctx
        .store
        .payment_method(&session.merchant_id, id)
        .await?
        .filter(|m| Some(&m.customer_id) == session.customer_id.as_ref())
        .filter(|m| m.status != PaymentMethodStatus::Pending)
        .ok_or_else(|| {
            card_error(
                ErrorCode::ResourceMissing,
                "This saved card is not available here; use another card.".into(),
            )
        })?;
    match method.status {
        PaymentMethodStatus::Detached => Err(card_error(
            ErrorCode::PaymentMethodDetached,
            "This card was removed; use another card.".into(),
        )),
        _ if method.status == PaymentMethodStatus::Expired
            || (method.card_exp_year, method.card_exp_month) < ctx.clock.year_month() =>
        {
            Err(card_error(
                ErrorCode::PaymentMethodExpired,
                "This card has expired; use another card.".into(),
            ))
        }
        _ => Ok(method),
    }
}

/// The cards the page offers the session's customer: active, unexpired.
pub async fn offered(ctx: &AppState, session: &Session) -> Result<Vec<PaymentMethod>, DomainError> {
    let Some(customer) = &session.customer_id else {
        return Ok(Vec::new());
    };
    let today = ctx.clock.year_month();
    Ok(ctx
        .store
        .customer_payment_methods(customer)
        .await?
        .into_iter()
        .filter(|m| {
            m.status == PaymentMethodStatus::Active && (m.card_exp_year, m.card_exp_month) >= today
        })
        .collect())
}

/// A customer's cards, active and expired, newest first.
pub async fn of_customer(
    ctx: &AppState,
    merchant_id: &str,
    customer_id: &str,
) -> Result<Vec<PaymentMethod>, DomainError> {
    if ctx
        .store
        .customer(merchant_id, customer_id)
        .await?
        .is_none()
    {
        return Err(DomainError::NotFound {
            kind: "customer",
            id: customer_id.to_string(),
        });
    }
    Ok(ctx.store.customer_payment_methods(customer_id).await?)
}

/// The events of detaching `card`: its own, and each live mandate's revocation.
pub async fn detach_events(
    ctx: &AppState,
    card: &PaymentMethod,
) -> Result<Vec<NewEvent>, DomainError> {
    let now = ctx.clock.now();
    let mut events = vec![new_event(
        ctx,
        &card.merchant_id,
        EventType::PaymentMethodDetached,
        &views::payment_method(&PaymentMethod {
            status: PaymentMethodStatus::Detached,
            updated: now,
            ..card.clone()
        }),
        None,
    )];
    for mandate in ctx.store.payment_method_mandates(&card.id).await? {
        if mandate.status == MandateStatus::Active {
            events.push(revoked_event(ctx, &mandate, now));
        }
    }
    Ok(events)
}

fn revoked_event(ctx: &AppState, mandate: &Mandate, now: i64) -> NewEvent {
    new_event(
        ctx,
        &mandate.merchant_id,
        EventType::MandateRevoked,
        &views::mandate(&Mandate {
            status: MandateStatus::Revoked,
            revoked: Some(now),
            ..mandate.clone()
        }),
        None,
    )
}

/// Detaches a card from its customer: it can no longer be charged, its
/// mandates are revoked and its number is destroyed.
pub async fn detach(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<PaymentMethod, DomainError> {
    let card = find(ctx, merchant_id, id).await?;
    if card.status == PaymentMethodStatus::Detached {
        return Err(DomainError::Conflict {
            code: ErrorCode::PaymentMethodDetached,
            message: format!("{id} is detached already."),
        });
    }
    let events = detach_events(ctx, &card).await?;
    ctx.store
        .detach_payment_method(merchant_id, id, ctx.clock.now(), &events)
        .await?;
    tracing::info!(payment_method = %id, "card detached; its number destroyed");
    find(ctx, merchant_id, id).await
}

/// A mandate of this merchant (never one still pending).
pub async fn find_mandate(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Mandate, DomainError> {
    ctx.store
        .mandate(merchant_id, id)
        .await?
        .filter(|m| m.status != MandateStatus::Pending)
        .ok_or_else(|| DomainError::NotFound {
            kind: "mandate",
            id: id.to_string(),
        })
}

pub async fn revoke_mandate(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Mandate, DomainError> {
    let mandate = find_mandate(ctx, merchant_id, id).await?;
    let now = ctx.clock.now();
    let event = revoked_event(ctx, &mandate, now);
    if !ctx
        .store
        .revoke_mandate(merchant_id, id, now, &[event])
        .await?
    {
        return Err(DomainError::Conflict {
            code: ErrorCode::MandateRevoked,
            message: format!("{id} is revoked already."),
        });
    }
    find_mandate(ctx, merchant_id, id).await
}

/// The number of a saved card, out of the vault, for the acquirer only.
pub async fn card_number(ctx: &AppState, card: &PaymentMethod) -> Result<CardNumber, DomainError> {
    let key = data_key(ctx, &card.merchant_id).await?;
    let sealed = ctx
        .store
        .vault_card(&card.id)
        .await?
        .ok_or_else(|| DomainError::Conflict {
            code: ErrorCode::PaymentMethodDetached,
            message: format!("The number of {} is no longer in the vault.", card.id),
        })?;
    let digits: Zeroizing<String> =
        Vault::open_card(&key, &card.merchant_id, &card.id, &sealed).map_err(vault_failure)?;
    CardNumber::parse(&digits).map_err(|_| vault_failure(VaultError::Damaged))
}

/// What `kasse vault rotate` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// Data keys now wrapped by the current key that were not before.
    pub rewrapped: usize,
    /// Data keys that were wrapped by it already.
    pub current: usize,
}

/// Re-wraps every merchant's data key under the vault's current key, each
/// by a guarded write (a key re-wrapped meanwhile by another run is left
/// alone). The data keys themselves do not change, so every sealed card
/// number still opens. Safe to run again after a failure.
pub async fn rotate(
    store: &dyn crate::store::Store,
    vault: &Vault,
    now: i64,
) -> anyhow::Result<Rotated> {
    let mut rotated = Rotated {
        rewrapped: 0,
        current: 0,
    };
    for stored in store.vault_keys().await? {
        if stored.kek_id == vault.current_kek_id() {
            rotated.current += 1;
            continue;
        }
        let key = vault.unwrap(&stored.merchant_id, &stored.kek_id, &stored.wrapped_key)?;
        let fresh = WrappedKey {
            wrapped_key: vault.wrap(&stored.merchant_id, &key),
            kek_id: vault.current_kek_id().to_string(),
            ..stored.clone()
        };
        if store.rewrap_vault_key(&stored.kek_id, &fresh, now).await? {
            rotated.rewrapped += 1;
        } else {
            rotated.current += 1;
        }
    }
    Ok(rotated)
}

/// How long before a saved card expires its merchant is told
/// (`payment_method.expiring`), to ask the customer for a new one.
pub const EXPIRING_NOTICE_DAYS: i64 = 30;

/// Months since year 0: a card valid through `(year, month)` has
/// `year * 12 + month`, comparable in SQL.
fn month_index((year, month): (u16, u8)) -> i64 {
    i64::from(year) * 12 + i64::from(month)
}

/// The sweeper's pass over saved cards: merchants are told of cards that
/// expire within [`EXPIRING_NOTICE_DAYS`] (once each), and cards whose
/// last month has passed become `expired`. Returns (told, expired).
pub async fn sweep_expiry(ctx: &AppState) -> Result<(u32, u32), DomainError> {
    let now = ctx.clock.now();
    let this_month = month_index(ctx.clock.year_month());
    let notice = month_index(crate::clock::year_month_of(
        now + EXPIRING_NOTICE_DAYS * 86_400,
    ));
    let mut told = 0;
    // Valid through a month that ends before the notice date.
    for card in ctx.store.cards_expiring_before(notice).await? {
        if month_index((card.card_exp_year, card.card_exp_month)) < this_month {
            continue; // Expired already: told below.
        }
        let event = new_event(
            ctx,
            &card.merchant_id,
            EventType::PaymentMethodExpiring,
            &views::payment_method(&card),
            None,
        );
        if ctx
            .store
            .mark_card_expiring(&card.id, now, &[event])
            .await?
        {
            told += 1;
        }
    }
    let mut expired = 0;
    for card in ctx.store.cards_expired_before(this_month).await? {
        let event = new_event(
            ctx,
            &card.merchant_id,
            EventType::PaymentMethodExpired,
            &views::payment_method(&PaymentMethod {
                status: PaymentMethodStatus::Expired,
                updated: now,
                ..card.clone()
            }),
            None,
        );
        if ctx.store.expire_card(&card.id, now, &[event]).await? {
            expired += 1;
        }
    }
    Ok((told, expired))
}

//! A hosted page where a customer replaces a saved card (expired, lost,
//! reissued): the merchant asks for a link, the customer types the new
//! card, Kasse checks it with the acquirer without charging it, and the new
//! number takes the old one's place under the same `pm_…`, so that its
//! mandates and subscriptions go on. Single use, for seven days.

use std::net::IpAddr;

use kasse_core::api::{CardInput, SavedCard, UpdatePage};
use kasse_core::error::ErrorCode;
use kasse_core::{CardBrand, RequestedLocale};

use super::DomainError;
use super::checkout::parse_card;
use super::events::{EventType, new_event};
use super::limits::{self, Limit};
use super::{input, saved_cards, views};
use crate::ids::{new_id, new_secret};
use crate::processor::{Outcome, Verification};
use crate::secrets::constant_time_eq;
use crate::state::AppState;
use crate::store::{CardUpdate, Merchant, PaymentMethod, PaymentMethodStatus};
use crate::vault::Vault;

/// How long an update link may be used.
pub const LINK_TTL_SECONDS: i64 = 7 * 86_400;

/// A link for the customer of card `pm_id` to replace it; its URL holds
/// the secret in the fragment, which no server sees.
pub async fn link(
    ctx: &AppState,
    merchant: &Merchant,
    pm_id: &str,
    return_url: Option<&str>,
) -> Result<(CardUpdate, String), DomainError> {
    saved_cards::vault(ctx)?;
    let card = saved_cards::find(ctx, &merchant.id, pm_id).await?;
    if card.status == PaymentMethodStatus::Detached {
        return Err(DomainError::Conflict {
            code: ErrorCode::PaymentMethodDetached,
            message: format!("{pm_id} was detached; the customer saves a new card at checkout."),
        });
    }
    let return_url = input::return_url(ctx, merchant, return_url)?;
    let secret = new_secret("");
    let now = ctx.clock.now();
    let update = CardUpdate {
        id: new_id("pmu"),
        merchant_id: merchant.id.clone(),
        payment_method_id: card.id,
        secret_hash: ctx.secret.page_secret_hash(&secret),
        return_url,
        created: now,
        expires_at: now + LINK_TTL_SECONDS,
        used_at: None,
    };
    ctx.store.insert_card_update(&update).await?;
    let mut url = ctx
        .public_url
        .join(&format!("update/{}", update.id))
        .expect("ids are URL-safe");
    url.set_fragment(Some(&secret));
    Ok((update, url.into()))
}

/// The update and its card, if `secret` is its own; a wrong secret and an
/// unknown link look the same.
async fn opened(
    ctx: &AppState,
    id: &str,
    secret: &str,
) -> Result<(CardUpdate, PaymentMethod, Merchant), DomainError> {
    let not_found = || DomainError::NotFound {
        kind: "card update",
        id: id.to_string(),
    };
    let update = ctx
        .store
        .card_update(id)
        .await?
        .filter(|u| constant_time_eq(&u.secret_hash, &ctx.secret.page_secret_hash(secret)))
        .ok_or_else(not_found)?;
    let card = ctx
        .store
        .payment_method(&update.merchant_id, &update.payment_method_id)
        .await?
        .ok_or_else(not_found)?;
    let merchant = ctx
        .store
        .merchant(&update.merchant_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((update, card, merchant))
}

fn saved(card: &PaymentMethod) -> SavedCard {
    SavedCard {
        id: card.id.clone(),
        brand: card.card_brand,
        last4: card.card_last4.clone(),
        exp_month: card.card_exp_month,
        exp_year: card.card_exp_year,
    }
}

/// What the page shows.
pub async fn page(ctx: &AppState, id: &str, secret: &str) -> Result<UpdatePage, DomainError> {
    let (update, card, merchant) = opened(ctx, id, secret).await?;
    let status = if update.used_at.is_some() {
        "used"
    } else if update.expires_at <= ctx.clock.now() || card.status == PaymentMethodStatus::Detached {
        "expired"
    } else {
        "open"
    };
    let customer = ctx.store.customer(&merchant.id, &card.customer_id).await?;
    Ok(UpdatePage {
        id: update.id,
        merchant_name: merchant.name.clone(),
        card: saved(&card),
        status: status.into(),
        return_url: update.return_url,
        appearance: merchant.appearance.clone(),
        locale: customer
            .and_then(|c| c.locale)
            .and_then(|l| RequestedLocale::parse(&l).ok())
            .unwrap_or_default(),
        accepted_brands: CardBrand::ALL.to_vec(),
    })
}

/// Replaces the card with `input` once the acquirer has checked it,
/// without charging it. The same `pm_…` carries the new card.
pub async fn update(
    ctx: &AppState,
    id: &str,
    secret: &str,
    client: IpAddr,
    input: &CardInput,
) -> Result<(PaymentMethod, String), DomainError> {
    limits::hit(ctx, Limit::Confirms, &limits::client_key(client)).await?;
    let (update, card, merchant) = opened(ctx, id, secret).await?;
    let now = ctx.clock.now();
    if update.used_at.is_some() || update.expires_at <= now {
        return Err(DomainError::Conflict {
            code: ErrorCode::CheckoutSessionNotOpen,
            message: format!(
                "This link can no longer be used. Ask {} for a new one.",
                merchant.name
            ),
        });
    }
    let parsed = parse_card(input, ctx.clock.year_month())?;
    let fingerprint = ctx
        .secret
        .card_fingerprint(&merchant.id, parsed.number.expose_digits());
    if let Some(other) = ctx
        .store
        .active_payment_method(&card.customer_id, &fingerprint)
        .await?
        .filter(|other| other.id != card.id)
    {
        return Err(DomainError::Card {
            code: ErrorCode::ParameterInvalid,
            message: format!(
                "This card is saved already ({} •••• {}); use another card.",
                other.card_brand.display_name(),
                other.card_last4
            ),
            param: Some("card.number".into()),
        });
    }
    let outcome = ctx
        .processor
        .verify(&Verification {
            card: &parsed.number,
            expiry: parsed.expiry,
            cvc: &parsed.cvc,
            reference: &update.id,
        })
        .await;
    if let Outcome::Declined(code) = outcome {
        limits::count(ctx, Limit::MerchantDeclines, &merchant.id).await?;
        return Err(DomainError::Card {
            code: ErrorCode::CardDeclined,
            message: code.for_customer().customer_message().to_string(),
            param: None,
        });
    }
    let key = saved_cards::data_key(ctx, &merchant.id).await?;
    let ciphertext = Vault::seal_card(&key, &merchant.id, &card.id, parsed.number.expose_digits());
    let replaced = PaymentMethod {
        status: PaymentMethodStatus::Active,
        card_brand: parsed.number.brand(),
        card_bin: parsed.number.bin().to_string(),
        card_last4: parsed.number.last4().to_string(),
        card_exp_month: parsed.expiry.month,
        card_exp_year: parsed.expiry.year,
        card_fingerprint: fingerprint,
        cardholder_name: parsed.name.clone().or(card.cardholder_name.clone()),
        updated: now,
        ..card.clone()
    };
    let event = new_event(
        ctx,
        &merchant.id,
        EventType::PaymentMethodUpdated,
        &views::payment_method(&replaced),
        None,
    );
    if !ctx
        .store
        .finish_card_update(&update, &replaced, &ciphertext, now, &[event])
        .await?
    {
        return Err(DomainError::Conflict {
            code: ErrorCode::CheckoutSessionNotOpen,
            message: format!(
                "This link can no longer be used. Ask {} for a new one.",
                merchant.name
            ),
        });
    }
    tracing::info!(payment_method = %card.id, card = %parsed.number, "saved card replaced by its customer");
    Ok((replaced, update.return_url))
}

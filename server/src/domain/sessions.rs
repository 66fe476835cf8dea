//! Checkout sessions' life after creation: looked up by their merchant,
//! and expired, by the merchant or by the sweeper, with their event.

use kasse_core::api::{
    CreateCheckoutSession, FutureUsage, MandateOptions, SESSION_TTL_DEFAULT_SECONDS,
    SESSION_TTL_MAX_SECONDS, SESSION_TTL_MIN_SECONDS, SaveCard,
};
use kasse_core::error::ErrorCode;
use kasse_core::{RequestedLocale, SessionStatus};

use super::DomainError;
use super::appearance;
use super::customers;
use super::events::{self, new_event};
use super::input;
use super::saved_cards;
use super::views;
use super::webhooks::webhook_url;
use crate::ids::new_id;
use crate::secrets::new_webhook_secret;
use crate::state::AppState;
use crate::store::{Merchant, NewEvent, Session, Surface};

/// Opens a checkout session for `merchant`: every field checked, the
/// redirect and notification URLs on its origins.
pub async fn create(
    ctx: &AppState,
    merchant: &Merchant,
    req: CreateCheckoutSession,
) -> Result<Session, DomainError> {
    let session = prepare(ctx, merchant, req, Surface::Kasse).await?;
    ctx.store.insert_session(&session).await?;
    tracing::info!(session = %session.id, merchant = %merchant.id, "checkout session created");
    Ok(session)
}

/// A new session for `merchant`, every field checked, made through
/// `surface`, for the caller to store (a compatibility surface stores its
/// own record with it).
pub async fn prepare(
    ctx: &AppState,
    merchant: &Merchant,
    mut req: CreateCheckoutSession,
    surface: Surface,
) -> Result<Session, DomainError> {
    let customer = req.customer.take();
    let customer_data = req.customer_data.take();
    let save_card = req.save_card.take().unwrap_or_default();
    let future_usage = req.setup_future_usage.take().unwrap_or_default();
    let mandate_options = req.mandate_options.take();
    let session = new_session(ctx, merchant, req)?;
    let mandate_options = mandate_options
        .map(|o| checked_mandate_options(o, session.amount))
        .transpose()?;
    if save_card != SaveCard::Off {
        if customer.is_none() && customer_data.is_none() {
            return Err(DomainError::invalid(
                ErrorCode::ParameterMissing,
                "customer",
                "A session that saves the card needs the customer it is saved for: give customer (cus_…) or customer_data.",
            ));
        }
        saved_cards::vault(ctx)?;
    }
    let customer_id = match (customer, customer_data) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                ErrorCode::ParameterInvalid,
                "customer_data",
                "Give customer or customer_data, not both.",
            ));
        }
        (Some(id), None) => Some(
            customers::find(ctx, &merchant.id, &id)
                .await
                .map_err(|_| {
                    DomainError::invalid(
                        ErrorCode::ResourceMissing,
                        "customer",
                        format!("No such customer of yours: '{id}'."),
                    )
                })?
                .id,
        ),
        (None, Some(data)) => Some(customers::create(ctx, &merchant.id, data).await?.id),
        (None, None) => None,
    };
    let session = Session {
        surface,
        customer_id,
        save_card,
        future_usage,
        mandate_options,
        ..session
    };
    if session.notification_url.is_some() {
        ctx.store
            .ensure_webhook_secret(&merchant.id, &new_webhook_secret())
            .await?;
    }
    Ok(session)
}

/// A mandate's bounds, checked: a positive `max_amount` no smaller than the
/// payment that gives it, and a frequency from the list.
fn checked_mandate_options(
    options: MandateOptions,
    amount: i64,
) -> Result<MandateOptions, DomainError> {
    const FREQUENCIES: [&str; 5] = ["day", "week", "month", "year", "sporadic"];
    if let Some(max) = options.max_amount
        && max < amount
    {
        return Err(DomainError::invalid(
            ErrorCode::ParameterOutOfRange,
            "mandate_options.max_amount",
            format!("max_amount must be at least this payment's amount, {amount}; got {max}."),
        ));
    }
    if let Some(frequency) = &options.frequency
        && !FREQUENCIES.contains(&frequency.as_str())
    {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "mandate_options.frequency",
            format!(
                "Unknown frequency '{frequency}'; use one of {}.",
                FREQUENCIES.join(", ")
            ),
        ));
    }
    Ok(options)
}

fn new_session(
    ctx: &AppState,
    merchant: &Merchant,
    req: CreateCheckoutSession,
) -> Result<Session, DomainError> {
    let money = input::money_params(&req.currency, req.amount)?;
    let currency = money.currency();
    let success_url = input::merchant_url(merchant, "success_url", &req.success_url)?;
    let cancel_url = input::merchant_url(merchant, "cancel_url", &req.cancel_url)?;
    let fail_url = req
        .fail_url
        .as_deref()
        .map(|u| input::merchant_url(merchant, "fail_url", u))
        .transpose()?;
    let notification_url = req
        .notification_url
        .as_deref()
        .map(|u| {
            let url = input::merchant_url(merchant, "notification_url", u)?;
            webhook_url(
                "notification_url",
                &url,
                ctx.webhooks.allow_private_addresses,
            )?;
            Ok::<_, DomainError>(url)
        })
        .transpose()?;
    let order_reference = input::text_field("order_reference", req.order_reference, 128)?;
    let customer_name = input::text_field("customer_name", req.customer_name, 200)?;
    let customer_email = input::email("customer_email", req.customer_email)?;
    let metadata = input::metadata(req.metadata.unwrap_or_default())?;
    let ttl = req
        .expires_in_seconds
        .unwrap_or(SESSION_TTL_DEFAULT_SECONDS);
    if !(SESSION_TTL_MIN_SECONDS..=SESSION_TTL_MAX_SECONDS).contains(&ttl) {
        return Err(DomainError::invalid(
            ErrorCode::ParameterOutOfRange,
            "expires_in_seconds",
            format!(
                "expires_in_seconds must be between {SESSION_TTL_MIN_SECONDS} (30 minutes) and {SESSION_TTL_MAX_SECONDS} (24 hours); got {ttl}."
            ),
        ));
    }
    let appearance = req
        .appearance
        .map(|a| appearance::checked(merchant, &merchant.appearance, a))
        .transpose()?;
    let locale = req
        .locale
        .as_deref()
        .map(RequestedLocale::parse)
        .transpose()
        .map_err(|e| DomainError::invalid(ErrorCode::InvalidLocale, "locale", format!("{e}.")))?
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
        currency,
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
        surface: Surface::Kasse,
        card_rules: None,
        customer_id: None,
        save_card: SaveCard::Off,
        future_usage: FutureUsage::OffSession,
        mandate_options: None,
        payment_link_id: None,
    })
}

/// A session of this merchant; another merchant's is as unknown as a missing one.
pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Session, DomainError> {
    ctx.store
        .session(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "checkout session",
            id: id.to_string(),
        })
}

/// Expires an open session of this merchant; refuses one that is paid,
/// expired already, or being paid this moment.
pub async fn expire(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Session, DomainError> {
    let session = find(ctx, merchant_id, id).await?;
    let now = ctx.clock.now();
    let event = expired_event(ctx, &session, now);
    if !ctx
        .store
        .expire_session(id, merchant_id, now, &[event])
        .await?
    {
        let status = session.status_at(now);
        return Err(DomainError::Conflict {
            code: ErrorCode::CheckoutSessionNotOpen,
            message: match status {
                SessionStatus::Open => {
                    "A payment for this session is in progress; try again in a moment.".into()
                }
                other => format!("Only an open session can be expired; this one is {other}."),
            },
        });
    }
    find(ctx, merchant_id, id).await
}

/// `checkout.session.expired`, with the session as it is once expired.
pub fn expired_event(ctx: &AppState, session: &Session, now: i64) -> NewEvent {
    let expired = Session {
        status: SessionStatus::Expired,
        expires_at: session.expires_at.min(now),
        ..session.clone()
    };
    new_event(
        ctx,
        &session.merchant_id,
        events::SESSION_EXPIRED,
        &views::session_event(ctx, &expired),
        session.notification_url_for(events::SESSION_EXPIRED),
    )
}

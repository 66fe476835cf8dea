//! Background upkeep: sessions past their time are marked expired, and
//! authorisations left uncaptured too long are voided, releasing the
//! customer's money; idempotency keys past their 24 hours are forgotten,
//! with the responses they kept. Each step is a guarded write, so two instances
//! sweeping at once do each thing once.

use std::time::Duration;

use crate::domain::limits::WINDOW;
use crate::domain::{
    DomainError, idempotency, ledger, links, payments, payouts, saved_cards, sessions, settlements,
    subscriptions,
};
use crate::state::AppState;

/// One pass; returns (sessions expired, authorisations voided).
pub async fn sweep(ctx: &AppState) -> anyhow::Result<(u64, u64)> {
    let now = ctx.clock.now();
    let mut expired = 0;
    for session in ctx.store.due_sessions(now).await? {
        let event = sessions::expired_event(ctx, &session, now);
        if ctx
            .store
            .expire_session(&session.id, &session.merchant_id, now, &[event])
            .await?
        {
            expired += 1;
        }
    }
    let mut voided = 0;
    for payment in ctx
        .store
        .stale_authorizations(now - ctx.limits.authorization_ttl)
        .await?
    {
        match payments::void(ctx, &payment.merchant_id, &payment.id).await {
            Ok(_) => {
                tracing::info!(payment = %payment.id, "uncaptured authorisation voided");
                voided += 1;
            }
            // Another instance, or the merchant, got there first.
            Err(DomainError::Transition(_) | DomainError::NotFound { .. }) => {}
            Err(error) => {
                tracing::error!(payment = %payment.id, %error, "could not void a stale authorisation");
                return Err(error.into());
            }
        }
    }
    let purged = ctx
        .store
        .purge_idempotent(now - idempotency::TTL_SECONDS)
        .await?;
    if purged > 0 {
        tracing::info!(keys = purged, "idempotency keys past their time forgotten");
    }
    ctx.store.purge_hits(now - 2 * WINDOW).await?;
    let (told, expired_cards) = saved_cards::sweep_expiry(ctx).await?;
    if told + expired_cards > 0 {
        tracing::info!(
            expiring = told,
            expired = expired_cards,
            "saved cards' expiry swept"
        );
    }
    let ended = links::sweep(ctx).await?;
    if ended > 0 {
        tracing::info!(links = ended, "payment links past their time expired");
    }
    let settled = settlements::sweep(ctx).await?;
    if settled > 0 {
        tracing::info!(settlements = settled, "business days settled");
    }
    let released = ledger::sweep(ctx).await?;
    if released > 0 {
        tracing::info!(balances = released, "pending money made available");
    }
    let paid_out = payouts::sweep(ctx).await?;
    if paid_out > 0 {
        tracing::info!(payouts = paid_out, "payouts moved on");
    }
    let charged = subscriptions::sweep(ctx).await?;
    if charged > 0 {
        tracing::info!(cycles = charged, "subscription cycles charged");
    }
    Ok((expired, voided))
}

/// Sweeps every `interval` until the process ends.
pub async fn run(ctx: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        crate::state::Heartbeats::beat(&ctx.heartbeats.sweeper);
        if let Err(error) = sweep(&ctx).await {
            tracing::error!(%error, "sweep failed");
        }
    }
}

//! Checkout sessions' life after creation: looked up by their merchant,
//! and expired, by the merchant or by the sweeper, with their event.

use kasse_core::SessionStatus;

use super::DomainError;
use super::events::{self, new_event};
use super::views;
use crate::state::AppState;
use crate::store::{NewEvent, Session};

/// A session of this merchant; another merchant's is as unknown as a missing one.
pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Session, DomainError> {
    ctx.store
        .session(id)
        .await?
        .filter(|s| s.merchant_id == merchant_id)
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
            code: "checkout_session_not_open",
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
        session.notification_url.as_deref(),
    )
}

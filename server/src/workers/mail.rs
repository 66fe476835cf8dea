//! The mail worker: takes due emails under a lease, writes and sends each,
//! and records how it went. A `4xx` (or no answer) defers the email with
//! exponential backoff; a `5xx` fails it; a reminder whose link is no longer
//! open is cancelled at send time. An email's `Message-ID` is the same on
//! every attempt. Leases expire, so an email held by an instance that died
//! is taken up again.

use std::time::Duration;

use crate::domain::links::{self, Composed};
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::{Notification, Sent};

/// How many emails one claim takes.
const CLAIM_AT_ONCE: u32 = 16;

/// The wait before retry number `attempts` (1-based: after the first
/// attempt), doubling from `base` up to `max`, in whole seconds.
pub fn backoff(base: Duration, max: Duration, attempts: u32) -> i64 {
    let exponent = attempts.saturating_sub(1).min(30);
    let wait = base.saturating_mul(2u32.saturating_pow(exponent)).min(max);
    wait.as_secs().max(1) as i64
}

/// Sends due emails until told to stop; nothing without a mail server.
/// Stopping, it finishes the email under way and hands back the others it
/// claimed, so that another instance sends them at once.
pub async fn run(ctx: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(mailer) = ctx.mail.clone() else {
        return;
    };
    loop {
        crate::state::Heartbeats::beat(&ctx.heartbeats.mail);
        if *stop.borrow() {
            return;
        }
        match tick_until(&ctx, &mailer, &stop).await {
            // There may be more: take them at once.
            Ok(sent) if sent as u32 == CLAIM_AT_ONCE => continue,
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "could not claim emails"),
        }
        tokio::select! {
            _ = tokio::time::sleep(mailer.config.poll_interval) => {}
            _ = ctx.wake_mail.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One pass: claims due emails and tries each once; how many it tried.
pub async fn tick(ctx: &AppState, mailer: &Mailer) -> anyhow::Result<usize> {
    let (_never, stop) = tokio::sync::watch::channel(false);
    tick_until(ctx, mailer, &stop).await
}

/// [`tick`], handing back what it has not tried once `stop` is set.
async fn tick_until(
    ctx: &AppState,
    mailer: &Mailer,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<usize> {
    let now = ctx.clock.now();
    let lease = (mailer.config.timeout.as_secs() * 2 + 5) as i64;
    let claimed = ctx
        .store
        .claim_notifications(now, now + lease, CLAIM_AT_ONCE)
        .await?;
    let tried = claimed.len();
    let mut claimed = claimed.into_iter();
    for n in claimed.by_ref() {
        attempt(ctx, mailer, n).await;
        if *stop.borrow() {
            break;
        }
    }
    let left: Vec<String> = claimed.map(|n| n.id).collect();
    if !left.is_empty() {
        ctx.store
            .release_notifications(&left, ctx.clock.now())
            .await?;
        tracing::info!(emails = left.len(), "stopping: emails handed back");
    }
    Ok(tried)
}

async fn attempt(ctx: &AppState, mailer: &Mailer, n: Notification) {
    let outcome = match links::compose(ctx, &n).await {
        Ok(Composed::Email(email)) => {
            match mailer.send(&n.recipient, &n.message_id, &email).await {
                Ok(reply) => Sent::Accepted { reply },
                Err(refused) => {
                    let now = ctx.clock.now();
                    let give_up = mailer.config.give_up_after.as_secs() as i64;
                    if refused.transient && now - n.created < give_up {
                        Sent::Deferred {
                            reply: refused.reply,
                            retry_at: now
                                + backoff(
                                    mailer.config.retry_base,
                                    mailer.config.retry_max,
                                    n.attempts,
                                ),
                        }
                    } else {
                        Sent::Failed {
                            reply: refused.reply,
                        }
                    }
                }
            }
        }
        Ok(Composed::Cancel(reason)) => Sent::Canceled { reason },
        Err(error) => {
            // Its lease runs out and it is tried again.
            tracing::error!(notification = %n.id, %error, "could not write an email");
            return;
        }
    };
    let (result, reason) = match &outcome {
        Sent::Accepted { .. } => ("delivered", "none"),
        Sent::Deferred { .. } => ("retry", "smtp_4xx"),
        Sent::Failed { .. } => ("gave_up", "smtp_5xx"),
        Sent::Canceled { .. } => ("canceled", "none"),
    };
    ctx.metrics.attempt("emails", result, reason);
    let events = links::sent_events(ctx, &n, &outcome);
    match ctx
        .store
        .finish_notification(&n, &outcome, ctx.clock.now(), &events)
        .await
    {
        Ok(true) => tracing::info!(
            notification = %n.id, template = %n.template, attempt = n.attempts,
            outcome = ?outcome, "email attempt"
        ),
        Ok(false) => {
            tracing::warn!(notification = %n.id, "an email's lease ran out during its attempt")
        }
        Err(error) => {
            tracing::error!(notification = %n.id, %error, "could not record an email attempt")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(60), Duration::from_secs(600));
        let waits: Vec<i64> = (1..=6).map(|a| backoff(base, max, a)).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600]);
        assert_eq!(backoff(Duration::from_millis(10), max, 1), 1);
    }
}

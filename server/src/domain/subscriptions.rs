//! Subscriptions: a customer's saved card charged on a calendar under its
//! mandate. Each cycle is a row claimed by a guarded write, so that any
//! number of instances sweeping at once charge it once. A charge whose
//! instance died between the acquirer's answer and the commit is settled
//! by asking the acquirer what it did with that payment's id, never by
//! charging again. A declined cycle makes the subscription `past_due` and
//! is retried on schedule (1, 3 and 5 days after it was due), then the
//! subscription is `halted`.

use jiff::civil::Time;
use kasse_core::api::{CaptureMethod, CreateSubscription};
use kasse_core::error::ErrorCode;
use kasse_core::{Money, PaymentStatus};

use super::DomainError;
use super::checkout::attempt_event_kind;
use super::events::{EventType, new_event};
use super::offsession::{self, Charged};
use super::schedule::{Anchor, Schedule, Unit};
use super::{input, saved_cards, views};
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{CycleOutcome, NewEvent, Subscription, SubscriptionChange, SubscriptionStatus};

/// Days after a cycle was due that a declined cycle is tried again.
pub const RETRY_DAYS: [i64; 3] = [1, 3, 5];

/// Set to this in `KASSE_FAILPOINT`, the process dies the moment the
/// acquirer has answered a cycle's charge and before Kasse records it: how
/// the tests prove that a restart asks the acquirer instead of charging
/// again. Never set in production.
const FAILPOINT_AFTER_ACQUIRER: &str = "subscription-after-acquirer";

pub fn schedule_of(s: &Subscription) -> Result<Schedule, DomainError> {
    let unit = Unit::parse(&s.interval_unit)
        .ok_or_else(|| crate::store::StoreError::Corrupt(format!("{}: interval", s.id)))?;
    Schedule::stored(
        unit,
        s.interval_count,
        &s.time_zone,
        &s.first_local,
        s.anchor_day,
    )
    .map_err(|e| crate::store::StoreError::Corrupt(format!("{}: {e}", s.id)).into())
}

fn event(ctx: &AppState, s: &Subscription, kind: EventType) -> NewEvent {
    let view = schedule_of(s)
        .ok()
        .map(|sched| views::subscription(s, &sched));
    new_event(ctx, &s.merchant_id, kind, &view, None)
}

/// The event of a subscription canceled because its customer was
/// deleted; none if it had ended already.
pub fn canceled_with_customer(ctx: &AppState, s: &Subscription) -> Option<NewEvent> {
    if matches!(
        s.status,
        SubscriptionStatus::Canceled | SubscriptionStatus::Completed
    ) {
        return None;
    }
    let after = Subscription {
        status: SubscriptionStatus::Canceled,
        next_attempt_at: None,
        updated: ctx.clock.now(),
        ..s.clone()
    };
    Some(event(ctx, &after, EventType::SubscriptionCanceled))
}

pub async fn create(
    ctx: &AppState,
    merchant_id: &str,
    req: CreateSubscription,
) -> Result<Subscription, DomainError> {
    let money = input::money_params(&req.currency, req.amount)?;
    let customer = ctx
        .store
        .customer(merchant_id, &req.customer)
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                ErrorCode::ResourceMissing,
                "customer",
                format!("No such customer of yours: '{}'.", req.customer),
            )
        })?;
    let (card, mandate) = offsession::chargeable(
        ctx,
        merchant_id,
        &customer.id,
        &req.payment_method,
        req.mandate.as_deref(),
        money,
    )
    .await?;
    let unit = Unit::parse(&req.interval).ok_or_else(|| {
        DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "interval",
            format!(
                "Unknown interval '{}'; use day, week, month or year.",
                req.interval
            ),
        )
    })?;
    let time = req
        .anchor
        .as_ref()
        .and_then(|a| a.time.as_deref())
        .map(|t| {
            Time::strptime("%H:%M", t).map_err(|_| {
                DomainError::invalid(
                    ErrorCode::ParameterInvalid,
                    "anchor.time",
                    format!("anchor.time must be HH:MM, 24-hour; got '{t}'."),
                )
            })
        })
        .transpose()?;
    let now = ctx.clock.now();
    let start_at = req.start_at.unwrap_or(now);
    if start_at < now - 60 {
        return Err(DomainError::invalid(
            ErrorCode::ParameterOutOfRange,
            "start_at",
            "start_at must not be in the past.",
        ));
    }
    let time_zone = req.time_zone.unwrap_or_else(|| "UTC".into());
    let schedule = Schedule::new(
        unit,
        req.interval_count.unwrap_or(1),
        &time_zone,
        start_at,
        Anchor {
            day: req.anchor.as_ref().and_then(|a| a.day),
            time,
        },
    )
    .map_err(|e| {
        let param = if e.contains("time zone") {
            "time_zone"
        } else if e.contains("interval_count") {
            "interval_count"
        } else {
            "anchor.day"
        };
        DomainError::invalid(ErrorCode::ParameterInvalid, param, format!("{e}."))
    })?;
    if req.end_after_cycles == Some(0) {
        return Err(DomainError::invalid(
            ErrorCode::ParameterOutOfRange,
            "end_after_cycles",
            "end_after_cycles must be at least 1.",
        ));
    }
    let subscription = Subscription {
        id: new_id("sub"),
        merchant_id: merchant_id.to_string(),
        customer_id: customer.id,
        payment_method_id: card.id,
        mandate_id: Some(mandate.id),
        amount: money.amount(),
        currency: money.currency(),
        description: input::text_field("description", req.description, 500)?,
        metadata: input::metadata(req.metadata.unwrap_or_default())?,
        interval_unit: unit.as_str().to_string(),
        interval_count: schedule.count,
        time_zone,
        first_local: schedule.first.to_string(),
        anchor_day: schedule.anchor_day,
        end_after_cycles: req.end_after_cycles,
        status: SubscriptionStatus::Active,
        next_cycle: 0,
        next_attempt_at: Some(schedule.due(0)),
        cycles_paid: 0,
        created: now,
        updated: now,
    };
    let created = event(ctx, &subscription, EventType::SubscriptionCreated);
    ctx.store
        .insert_subscription(&subscription, &[created])
        .await?;
    tracing::info!(subscription = %subscription.id, "subscription created");
    Ok(subscription)
}

pub async fn find(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Subscription, DomainError> {
    ctx.store
        .subscription(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "subscription",
            id: id.to_string(),
        })
}

/// The next `count` charges: cycle, moment, local time.
pub fn upcoming(s: &Subscription, count: u32) -> Result<Vec<(u32, i64, String)>, DomainError> {
    if !matches!(
        s.status,
        SubscriptionStatus::Active | SubscriptionStatus::PastDue | SubscriptionStatus::Paused
    ) {
        return Ok(Vec::new());
    }
    let schedule = schedule_of(s)?;
    let last = s.end_after_cycles.unwrap_or(u32::MAX);
    Ok((s.next_cycle..last)
        .take(count as usize)
        .map(|n| {
            let at = if n == s.next_cycle {
                s.next_attempt_at.unwrap_or_else(|| schedule.due(n))
            } else {
                schedule.due(n)
            };
            (n, at, schedule.due_rfc3339(n))
        })
        .collect())
}

/// Pauses: nothing is charged until it is resumed.
pub async fn pause(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Subscription, DomainError> {
    let s = find(ctx, merchant_id, id).await?;
    if !matches!(
        s.status,
        SubscriptionStatus::Active | SubscriptionStatus::PastDue
    ) {
        return Err(refused(&s, "paused"));
    }
    change(
        ctx,
        &s,
        SubscriptionStatus::Paused,
        s.next_cycle,
        None,
        EventType::SubscriptionPaused,
    )
    .await
}

/// Resumes a paused subscription from the first cycle not yet due: cycles
/// whose time passed while it was paused are not charged.
pub async fn resume(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Subscription, DomainError> {
    let s = find(ctx, merchant_id, id).await?;
    if s.status != SubscriptionStatus::Paused {
        return Err(refused(&s, "resumed"));
    }
    let schedule = schedule_of(&s)?;
    let now = ctx.clock.now();
    let mut next = s.next_cycle;
    while schedule.due(next) < now {
        next += 1;
    }
    if s.end_after_cycles.is_some_and(|end| next >= end) {
        return change(
            ctx,
            &s,
            SubscriptionStatus::Completed,
            next,
            None,
            EventType::SubscriptionCompleted,
        )
        .await;
    }
    change(
        ctx,
        &s,
        SubscriptionStatus::Active,
        next,
        Some(schedule.due(next)),
        EventType::SubscriptionResumed,
    )
    .await
}

pub async fn cancel(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Subscription, DomainError> {
    let s = find(ctx, merchant_id, id).await?;
    if matches!(
        s.status,
        SubscriptionStatus::Canceled | SubscriptionStatus::Completed
    ) {
        return Err(refused(&s, "canceled"));
    }
    change(
        ctx,
        &s,
        SubscriptionStatus::Canceled,
        s.next_cycle,
        None,
        EventType::SubscriptionCanceled,
    )
    .await
}

fn refused(s: &Subscription, what: &str) -> DomainError {
    DomainError::Conflict {
        code: ErrorCode::SubscriptionInvalidStatus,
        message: format!(
            "A {} subscription cannot be {what}.",
            s.status.as_str().replace('_', " ")
        ),
    }
}

async fn change(
    ctx: &AppState,
    s: &Subscription,
    to: SubscriptionStatus,
    next_cycle: u32,
    next_attempt_at: Option<i64>,
    kind: EventType,
) -> Result<Subscription, DomainError> {
    let now = ctx.clock.now();
    let after = Subscription {
        status: to,
        next_cycle,
        next_attempt_at,
        updated: now,
        ..s.clone()
    };
    let applied = ctx
        .store
        .change_subscription(&SubscriptionChange {
            id: s.id.clone(),
            merchant_id: s.merchant_id.clone(),
            from: s.status,
            to,
            next_cycle,
            next_attempt_at,
            now,
            events: vec![event(ctx, &after, kind)],
        })
        .await?;
    if !applied {
        return Err(DomainError::Conflict {
            code: ErrorCode::SubscriptionInvalidStatus,
            message: "The subscription changed meanwhile (a charge, or another request); read it and try again.".into(),
        });
    }
    find(ctx, &s.merchant_id, &s.id).await
}

/// One pass: every due cycle this instance can claim is charged (or,
/// claimed from an instance that died mid-charge, settled by asking the
/// acquirer). Returns the cycles paid.
pub async fn sweep(ctx: &AppState) -> Result<u32, DomainError> {
    let now = ctx.clock.now();
    let owner = new_id("sweep");
    let mut paid = 0;
    for s in ctx.store.due_subscriptions(now, 200).await? {
        match charge_cycle(ctx, &s, &owner).await {
            Ok(true) => paid += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::error!(subscription = %s.id, %error, "a subscription cycle could not be charged");
            }
        }
    }
    Ok(paid)
}

/// Charges the subscription's next cycle if this instance claims it; true
/// if it was paid.
async fn charge_cycle(ctx: &AppState, s: &Subscription, owner: &str) -> Result<bool, DomainError> {
    let schedule = schedule_of(s)?;
    let n = s.next_cycle;
    let due_at = schedule.due(n);
    let now = ctx.clock.now();
    let Some(claim) = ctx
        .store
        .claim_cycle(
            &s.id,
            n,
            due_at,
            now,
            now + ctx.limits.subscription_lease,
            owner,
            &new_id("pay"),
        )
        .await?
    else {
        return Ok(false);
    };
    let money = Money::new(s.amount, s.currency)
        .map_err(|_| crate::store::StoreError::Corrupt(format!("{}: amount", s.id)))?;
    // Taken over mid-charge: what the acquirer did is asked first, and
    // recorded whatever became of the card or its mandate since.
    let known = if claim.recovering {
        ctx.processor
            .inquire(&claim.payment_id)
            .await
            .map_err(|e| DomainError::Busy {
                code: ErrorCode::InternalError,
                message: e.to_string(),
                retry_after: 60,
            })?
    } else {
        None
    };
    let (card, mandate, outcome, number) = match known {
        Some(outcome) => {
            tracing::warn!(
                subscription = %s.id, cycle = n, payment = %claim.payment_id,
                "a cycle's charge was found at the acquirer after its instance stopped; recorded, not charged again"
            );
            let card = saved_cards::find(ctx, &s.merchant_id, &s.payment_method_id).await?;
            let mandate_id = s.mandate_id.as_deref().unwrap_or_default();
            let mandate = saved_cards::find_mandate(ctx, &s.merchant_id, mandate_id).await?;
            let number = saved_cards::card_number(ctx, &card).await?;
            (card, mandate, outcome, number)
        }
        None => {
            let checked = offsession::chargeable(
                ctx,
                &s.merchant_id,
                &s.customer_id,
                &s.payment_method_id,
                s.mandate_id.as_deref(),
                money,
            )
            .await;
            let (card, mandate) = match checked {
                Ok(found) => found,
                Err(DomainError::Conflict { code, .. } | DomainError::Invalid { code, .. }) => {
                    // The card or the mandate can no longer be charged: a
                    // failed attempt, retried like a decline (the customer
                    // may update the card meanwhile).
                    let why = Some(code.as_str().to_string());
                    let (payment_id, attempts) = (&claim.payment_id, claim.attempts);
                    return finish(ctx, s, &schedule, n, owner, payment_id, attempts, None, why)
                        .await;
                }
                Err(other) => return Err(other),
            };
            let (outcome, number) =
                offsession::authorize(ctx, &card, money, &claim.payment_id).await?;
            (card, mandate, outcome, number)
        }
    };
    if std::env::var("KASSE_FAILPOINT").as_deref() == Ok(FAILPOINT_AFTER_ACQUIRER) {
        tracing::error!(payment = %claim.payment_id, "failpoint: dying after the acquirer answered");
        std::process::abort();
    }
    let payment = offsession::record(
        ctx,
        Charged {
            card: &card,
            mandate: &mandate,
            number: &number,
            money,
            payment_id: &claim.payment_id,
            outcome: &outcome,
            capture_method: CaptureMethod::Automatic,
            order_reference: Some(format!("{} cycle {}", s.id, n + 1)),
        },
    )?;
    let decline = outcome.decline().map(|d| d.as_str().to_string());
    finish(
        ctx,
        s,
        &schedule,
        n,
        owner,
        &claim.payment_id,
        claim.attempts,
        Some(payment),
        decline,
    )
    .await
}

/// Records an attempt of cycle `n` and moves the subscription on.
#[allow(clippy::too_many_arguments)]
async fn finish(
    ctx: &AppState,
    s: &Subscription,
    schedule: &Schedule,
    n: u32,
    owner: &str,
    payment_id: &str,
    attempts: u32,
    payment: Option<crate::store::Payment>,
    decline: Option<String>,
) -> Result<bool, DomainError> {
    let now = ctx.clock.now();
    let due_at = schedule.due(n);
    let paid = payment
        .as_ref()
        .is_some_and(|p| p.status == PaymentStatus::Succeeded);
    let mut events = Vec::new();
    if let Some(p) = &payment
        && let Some(kind) = attempt_event_kind(p.status)
    {
        events.push(new_event(
            ctx,
            &s.merchant_id,
            kind,
            &views::payment(p),
            None,
        ));
    }
    let (cycle_status, cycle_next, status, next_cycle, next_attempt_at, kind) = if paid {
        let next = n + 1;
        if s.end_after_cycles.is_some_and(|end| next >= end) {
            (
                "paid",
                None,
                SubscriptionStatus::Completed,
                next,
                None,
                Some(EventType::SubscriptionCompleted),
            )
        } else {
            (
                "paid",
                None,
                SubscriptionStatus::Active,
                next,
                Some(schedule.due(next)),
                None,
            )
        }
    } else {
        match RETRY_DAYS.get(attempts as usize - 1) {
            Some(days) => {
                let retry = due_at + days * 86_400;
                let kind = (s.status != SubscriptionStatus::PastDue)
                    .then_some(EventType::SubscriptionPastDue);
                (
                    "retrying",
                    Some(retry),
                    SubscriptionStatus::PastDue,
                    n,
                    Some(retry),
                    kind,
                )
            }
            None => (
                "failed",
                None,
                SubscriptionStatus::Halted,
                n,
                None,
                Some(EventType::SubscriptionHalted),
            ),
        }
    };
    let after = Subscription {
        status,
        next_cycle,
        next_attempt_at,
        cycles_paid: s.cycles_paid + u32::from(paid),
        updated: now,
        ..s.clone()
    };
    if paid {
        events.push(event(ctx, &after, EventType::SubscriptionCharged));
    }
    if let Some(kind) = kind {
        events.push(event(ctx, &after, kind));
    }
    let recorded = ctx
        .store
        .finish_cycle(&CycleOutcome {
            subscription_id: s.id.clone(),
            number: n,
            owner: owner.to_string(),
            payment,
            cycle_status,
            cycle_next_attempt_at: cycle_next,
            last_decline: decline.clone(),
            status,
            next_cycle,
            next_attempt_at,
            paid,
            now,
            events,
        })
        .await?;
    if recorded {
        tracing::info!(
            subscription = %s.id, cycle = n, payment = %payment_id, attempt = attempts,
            status = status.as_str(), decline = ?decline, "subscription cycle"
        );
    }
    Ok(recorded && paid)
}

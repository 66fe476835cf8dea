//! What paying a payment link needs, apart from making one: the link as
//! the API and events show it, the one-payment-at-a-time hold on a
//! single-use link, and what a payment that completes a link's session
//! writes to the link in the same transaction (its events and receipt).
//! Kept apart from [`super::links`], which makes customers, so that the
//! checkout can use it without an import cycle.

use kasse_core::Locale;
use kasse_core::api::{self, EventType};
use kasse_core::error::ErrorCode;
use serde_json::json;

use super::DomainError;
use super::events::new_event;
use crate::ids::new_id;
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::{
    Completion, LinkPayment, LinkStatus, NewEvent, Notification, NotificationStatus, Payment,
    PaymentLink, Session,
};

/// One confirm may hold a single-use link this long.
pub const PAY_LEASE: i64 = 60;

/// The customer's link: `…/l/{token}`.
pub fn url(ctx: &AppState, link: &PaymentLink) -> String {
    ctx.public_url
        .join(&format!("l/{}", link.token))
        .expect("tokens are URL-safe")
        .into()
}

/// The merchant's view of a link.
pub fn view(ctx: &AppState, link: &PaymentLink) -> api::PaymentLink {
    let now = ctx.clock.now();
    let status = link.status_at(now);
    api::PaymentLink {
        id: link.id.clone(),
        object: "payment_link".into(),
        url: url(ctx, link),
        status: status.as_str().into(),
        amount: link.amount,
        amount_paid: link.amount_paid,
        amount_due: if status.is_open() {
            link.amount_due()
        } else {
            0
        },
        currency: link.currency.code().to_string(),
        description: link.description.clone(),
        line_items: link.line_items.clone(),
        customer: link.customer_id.clone(),
        customer_email: link.customer_email.clone(),
        merchant_reference: link.merchant_reference.clone(),
        expires_at: link.expires_at,
        partial: api::PartialPayments {
            enabled: link.partial_enabled,
            minimum_first_amount: link.partial_enabled.then_some(link.minimum_first),
        },
        usage: if link.reusable { "reusable" } else { "single" }.into(),
        max_completions: link.max_completions,
        completions: link.completions,
        notify: api::LinkNotify {
            email: link.notify_email,
        },
        reminders: link.reminders.clone(),
        time_zone: link.time_zone.clone(),
        success_url: link.success_url.clone(),
        invoice: link.invoice.clone(),
        metadata: link.metadata.clone(),
        created: link.created,
    }
}

/// The link as events show it: without the token its URL carries, as a
/// session's events leave out its client secret.
pub fn event_view(ctx: &AppState, link: &PaymentLink) -> serde_json::Value {
    let mut object = serde_json::to_value(view(ctx, link)).expect("a link serialises");
    if let Some(fields) = object.as_object_mut() {
        fields.remove("url");
    }
    object
}

pub fn link_event(ctx: &AppState, link: &PaymentLink, kind: EventType) -> NewEvent {
    new_event(ctx, &link.merchant_id, kind, &event_view(ctx, link), None)
}

pub fn mail_domain(ctx: &AppState) -> String {
    ctx.mail.as_ref().map_or_else(
        || {
            ctx.public_url
                .host_str()
                .unwrap_or("kasse.invalid")
                .to_string()
        },
        |m| m.domain().to_string(),
    )
}

pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<PaymentLink, DomainError> {
    ctx.store
        .payment_link(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "payment link",
            id: id.to_string(),
        })
}

pub fn not_open(link: &PaymentLink, now: i64) -> DomainError {
    DomainError::Conflict {
        code: ErrorCode::PaymentLinkNotOpen,
        message: format!(
            "Payment link {} is {}: it takes no more payments or changes.",
            link.id,
            link.status_at(now).as_str()
        ),
    }
}

/// The least and most the customer may pay now.
pub fn payable_range(link: &PaymentLink) -> (i64, i64) {
    let due = link.amount_due();
    if link.partial_enabled {
        let min = if link.amount_paid == 0 {
            link.minimum_first
        } else {
            1
        };
        (min.min(due), due)
    } else {
        (due, due)
    }
}

/// Whether paying `session` must first hold its link: a single-use link
/// (or one with a limit) takes one confirm at a time.
pub async fn claim_for(
    ctx: &AppState,
    session: &Session,
    payment_id: &str,
) -> Result<Option<String>, DomainError> {
    let Some(link_id) = &session.payment_link_id else {
        return Ok(None);
    };
    let link = find(ctx, &session.merchant_id, link_id).await?;
    let now = ctx.clock.now();
    if link.reusable && link.max_completions.is_none() {
        return if link.status_at(now).is_open() {
            Ok(None)
        } else {
            Err(not_open(&link, now))
        };
    }
    if ctx
        .store
        .claim_link(link_id, payment_id, session.amount, now, now + PAY_LEASE)
        .await?
    {
        return Ok(Some(link_id.clone()));
    }
    let link = find(ctx, &session.merchant_id, link_id).await?;
    if !link.status_at(now).is_open() || session.amount > link.amount_due() {
        return Err(DomainError::Conflict {
            code: ErrorCode::PaymentLinkNotOpen,
            message: if link.status_at(now).is_open() {
                "Another payment on this link came first: less is due now. Open the link again."
                    .into()
            } else {
                format!(
                    "This payment link is {} and takes no more payments.",
                    link.status_at(now).as_str()
                )
            },
        });
    }
    Err(DomainError::Conflict {
        code: ErrorCode::PaymentInProgress,
        message: "Someone is paying this link right now. Try again in a minute.".into(),
    })
}

/// An email to `recipient`, queued for `send_at`, about nothing yet (the
/// caller names the link, the payment and the template's data).
pub fn queued_email(
    domain: &str,
    merchant_id: &str,
    template: &str,
    recipient: &str,
    locale: &str,
    send_at: i64,
    now: i64,
) -> Notification {
    let id = new_id("ntf");
    Notification {
        message_id: Mailer::message_id(domain, &id),
        id,
        merchant_id: merchant_id.into(),
        payment_link_id: None,
        payment_id: None,
        template: template.into(),
        recipient: recipient.into(),
        locale: locale.into(),
        data: json!({}),
        status: NotificationStatus::Queued,
        send_at,
        attempts: 0,
        lease_until: None,
        last_reply: None,
        sent_at: None,
        created: now,
    }
}

/// The receipt of `payment`, to `recipient`.
fn receipt(
    ctx: &AppState,
    session: &Session,
    payment: &Payment,
    recipient: &str,
    locale: &str,
    still_due: i64,
) -> Notification {
    let now = ctx.clock.now();
    Notification {
        payment_link_id: session.payment_link_id.clone(),
        payment_id: Some(payment.id.clone()),
        data: json!({
            "amount": payment.amount,
            "currency": payment.currency.code(),
            "still_due": still_due,
        }),
        ..queued_email(
            &mail_domain(ctx),
            &session.merchant_id,
            "receipt",
            recipient,
            locale,
            now,
            now,
        )
    }
}

/// What else a payment that completes `session` writes with it: the link
/// it pays (its new state and events) and the customer's receipt, sent for
/// a link that notifies by email, and for any other session with a
/// `customer_email` when this Kasse sends mail.
pub async fn completion(
    ctx: &AppState,
    session: &Session,
    payment: &Payment,
) -> Result<Option<Completion>, DomainError> {
    let Some(link_id) = &session.payment_link_id else {
        let Some(email) = session
            .customer_email
            .as_deref()
            .filter(|_| ctx.mail.is_some())
        else {
            return Ok(None);
        };
        let locale = match session.locale {
            kasse_core::RequestedLocale::Fixed(locale) => locale,
            kasse_core::RequestedLocale::Auto => Locale::default(),
        };
        return Ok(Some(Completion {
            link: None,
            events: Vec::new(),
            notifications: vec![receipt(ctx, session, payment, email, locale.tag(), 0)],
        }));
    };
    let link = find(ctx, &session.merchant_id, link_id).await?;
    let now = ctx.clock.now();
    let exact = !(link.reusable && link.max_completions.is_none());
    let paid = link.amount_paid + payment.amount;
    let completions = link.completions + 1;
    let status_after = if link.reusable {
        match link.max_completions {
            Some(max) if completions >= max => LinkStatus::Paid,
            _ => LinkStatus::Open,
        }
    } else if paid >= link.amount {
        LinkStatus::Paid
    } else {
        LinkStatus::PartiallyPaid
    };
    let after = PaymentLink {
        amount_paid: paid,
        completions,
        status: status_after,
        updated: now,
        ..link.clone()
    };
    let events = match status_after {
        LinkStatus::Paid => vec![link_event(ctx, &after, EventType::PaymentLinkPaid)],
        LinkStatus::PartiallyPaid => {
            vec![link_event(ctx, &after, EventType::PaymentLinkPartiallyPaid)]
        }
        _ => Vec::new(),
    };
    let still_due = if link.reusable { 0 } else { link.amount - paid };
    let notifications = link
        .customer_email
        .as_deref()
        .filter(|_| link.notify_email)
        .map(|email| receipt(ctx, session, payment, email, &link.locale, still_due))
        .into_iter()
        .collect();
    Ok(Some(Completion {
        link: Some(LinkPayment {
            link_id: link.id.clone(),
            exact,
            amount: payment.amount,
            paid_before: link.amount_paid,
            completions_before: link.completions,
            status_after,
            now,
        }),
        events,
        notifications,
    }))
}

/// Lets go of a link a confirm held, when its payment did not pay it.
pub async fn release(ctx: &AppState, held: Option<&str>, payment_id: &str) {
    if let Some(link_id) = held
        && let Err(error) = ctx.store.release_link(link_id, payment_id).await
    {
        // Its lease runs out in a minute.
        tracing::warn!(link = %link_id, %error, "could not release a payment link");
    }
}

pub fn locale_of(tag: Option<&str>) -> Locale {
    tag.and_then(Locale::from_tag).unwrap_or_default()
}

//! Payment links and invoices: made by the merchant, opened by the customer
//! at `/l/{token}`, paid through short checkout sessions (in parts, if the
//! link allows), told of by email, reminded of, and ended by payment,
//! expiry or the merchant.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use kasse_core::api::{
    self, CaptureMethod, CreatePaymentLink, EventType, FutureUsage, Invoice, LineItem,
    LinkReminders, SaveCard, UpdatePaymentLink,
};
use kasse_core::error::ErrorCode;
use kasse_core::{Currency, Locale, Money, RequestedLocale, SessionStatus};

use super::DomainError;
use super::customers;
use super::events::new_event;
use super::input;
use super::limits::{self, Limit};
pub use super::link_payments::{
    PAY_LEASE, claim_for, completion, event_view, find, link_event, locale_of, mail_domain,
    not_open, payable_range, queued_email, release, url, view,
};
use crate::ids::{new_id, new_secret};
use crate::mail::{self, Email, LinkEmail, ReceiptEmail};
use crate::state::AppState;
use crate::store::{
    LinkQuery, LinkStatus, Merchant, NewEvent, Notification, NotificationStatus, PaymentLink, Sent,
    Session, Surface,
};

const DAY: i64 = 24 * 3600;
/// A link lives 30 days unless told otherwise, and at most 180.
pub const DEFAULT_TTL: i64 = 30 * DAY;
pub const MAX_TTL: i64 = 180 * DAY;
/// A session made to pay a link lives this long (never past the link).
pub const SESSION_TTL: i64 = 30 * 60;
const MAX_LINE_ITEMS: usize = 100;
const MAX_REMINDERS: usize = 10;

pub fn notification_view(n: &Notification) -> api::Notification {
    api::Notification {
        id: n.id.clone(),
        object: "notification".into(),
        payment_link: n.payment_link_id.clone(),
        payment: n.payment_id.clone(),
        template: n.template.clone(),
        recipient: n.recipient.clone(),
        locale: n.locale.clone(),
        status: n.status.as_str().into(),
        send_at: n.send_at,
        attempts: n.attempts,
        last_reply: n.last_reply.clone(),
        message_id: n.message_id.clone(),
        sent_at: n.sent_at,
        created: n.created,
    }
}

fn invalid(code: ErrorCode, param: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(code, param, message)
}

/// A zone by its IANA name.
fn zone(name: &str) -> Result<TimeZone, DomainError> {
    TimeZone::get(name).map_err(|_| {
        invalid(
            ErrorCode::ParameterInvalid,
            "time_zone",
            format!("'{name}' is not an IANA time zone such as Asia/Dhaka or Asia/Ulaanbaatar."),
        )
    })
}

fn zoned(at: i64, tz: &TimeZone) -> Zoned {
    Timestamp::from_second(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
}

/// When a reminder at `offset` (`-3d`, `+1d`, `-12h`) from `expires_at`
/// goes out: days are calendar days in `tz`, so the hour holds across a
/// change of clocks.
pub fn reminder_time(offset: &str, expires_at: i64, tz: &TimeZone) -> Option<i64> {
    let (sign, rest) = match offset.as_bytes().first()? {
        b'-' => (-1, &offset[1..]),
        b'+' => (1, &offset[1..]),
        _ => return None,
    };
    let (digits, unit) = rest.split_at(rest.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let span = match unit {
        "d" => (sign * n).days(),
        "h" => (sign * n).hours(),
        _ => return None,
    };
    Some(
        zoned(expires_at, tz)
            .checked_add(span)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// What reminders count from: an invoice's due date (at 09:00 in the
/// link's zone), else the link's expiry. An invoice due before its link
/// expires may so be reminded of after it is due.
fn reminder_base(link: &PaymentLink, tz: &TimeZone) -> i64 {
    link.invoice
        .as_ref()
        .and_then(|i| i.due_date.parse::<jiff::civil::Date>().ok())
        .and_then(|date| date.at(9, 0, 0, 0).to_zoned(tz.clone()).ok())
        .map_or(link.expires_at, |at| at.timestamp().as_second())
}

/// Sums the line items, each checked.
fn total_of(items: &[LineItem]) -> Result<i64, DomainError> {
    if items.is_empty() || items.len() > MAX_LINE_ITEMS {
        return Err(invalid(
            ErrorCode::ParameterInvalid,
            "line_items",
            format!("line_items must have 1 to {MAX_LINE_ITEMS} items."),
        ));
    }
    let mut total: i64 = 0;
    for (i, item) in items.iter().enumerate() {
        input::text_field(
            &format!("line_items[{i}].name"),
            Some(item.name.clone()),
            200,
        )?;
        if item.quantity == 0 || item.quantity > 100_000 {
            return Err(invalid(
                ErrorCode::ParameterOutOfRange,
                &format!("line_items[{i}].quantity"),
                format!("quantity must be 1 to 100000; got {}.", item.quantity),
            ));
        }
        if item.unit_amount <= 0 {
            return Err(invalid(
                ErrorCode::AmountTooSmall,
                &format!("line_items[{i}].unit_amount"),
                format!(
                    "unit_amount must be a positive integer in minor units; got {}.",
                    item.unit_amount
                ),
            ));
        }
        total = item
            .unit_amount
            .checked_mul(i64::from(item.quantity))
            .and_then(|line| total.checked_add(line))
            .ok_or_else(|| {
                invalid(
                    ErrorCode::AmountTooLarge,
                    "line_items",
                    "The line items add up to more than any amount Kasse can charge.",
                )
            })?;
    }
    Ok(total)
}

/// A postal address: lines of text, at most 500 characters in all.
fn address(given: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(text) = given.map(|a| a.replace("\r\n", "\n").trim().to_string()) else {
        return Ok(None);
    };
    if text.is_empty()
        || text.chars().count() > 500
        || text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(invalid(
            ErrorCode::ParameterInvalid,
            "invoice.merchant_address",
            "merchant_address must be 1 to 500 characters of text; separate its lines with \\n.",
        ));
    }
    Ok(Some(text))
}

/// The email that tells the customer of the link.
fn link_notification(
    link: &PaymentLink,
    recipient: &str,
    template: &str,
    send_at: i64,
    now: i64,
    domain: &str,
) -> Notification {
    Notification {
        payment_link_id: Some(link.id.clone()),
        ..queued_email(
            domain,
            &link.merchant_id,
            template,
            recipient,
            &link.locale,
            send_at,
            now,
        )
    }
}

fn require_mail(ctx: &AppState) -> Result<(), DomainError> {
    if ctx.mail.is_none() {
        return Err(DomainError::Unprocessable {
            code: ErrorCode::MailUnavailable,
            message: "This Kasse has no mail server (KASSE_SMTP_URL and KASSE_MAIL_FROM), so it cannot email the customer. Leave notify.email and reminders out, and send the link's url yourself.".into(),
        });
    }
    Ok(())
}

/// The emails a new link queues: the link itself now, and its reminders,
/// those still ahead, soonest first, up to `max`.
fn scheduled_emails(ctx: &AppState, link: &PaymentLink, now: i64) -> Vec<Notification> {
    let Some(email) = link.customer_email.as_deref().filter(|_| link.notify_email) else {
        return Vec::new();
    };
    let domain = mail_domain(ctx);
    let mut out = vec![link_notification(
        link,
        email,
        "payment_link",
        now,
        now,
        &domain,
    )];
    let tz = TimeZone::get(&link.time_zone).unwrap_or(TimeZone::UTC);
    let base = reminder_base(link, &tz);
    let mut times: Vec<i64> = link
        .reminders
        .offsets
        .iter()
        .filter_map(|o| reminder_time(o, base, &tz))
        .filter(|at| *at > now && *at < link.expires_at)
        .collect();
    times.sort_unstable();
    times.dedup();
    times.truncate(link.reminders.max.map_or(usize::MAX, |m| m as usize));
    out.extend(
        times
            .into_iter()
            .map(|at| link_notification(link, email, "reminder", at, now, &domain)),
    );
    out
}

fn reference_taken(reference: &str) -> DomainError {
    invalid(
        ErrorCode::ParameterInvalid,
        "merchant_reference",
        format!("Another payment link of yours has the merchant_reference '{reference}'."),
    )
}

/// Makes a payment link for `merchant`, every field checked, with its
/// emails queued in the same transaction.
pub async fn create(
    ctx: &AppState,
    merchant: &Merchant,
    req: CreatePaymentLink,
) -> Result<PaymentLink, DomainError> {
    let now = ctx.clock.now();
    let (amount, line_items) = match (req.amount, req.line_items) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                ErrorCode::ParameterInvalid,
                "line_items",
                "Give amount or line_items, not both.",
            ));
        }
        (None, None) => {
            return Err(invalid(
                ErrorCode::ParameterMissing,
                "amount",
                "Give amount, or line_items that add up to it.",
            ));
        }
        (Some(amount), None) => (amount, Vec::new()),
        (None, Some(items)) => (total_of(&items)?, items),
    };
    let money = input::money_params(&req.currency, amount)?;
    let description = input::text_field("description", req.description, 500)?;
    let merchant_reference = input::text_field("merchant_reference", req.merchant_reference, 100)?;
    let expires_at = req.expires_at.unwrap_or(now + DEFAULT_TTL);
    if expires_at < now + 60 || expires_at > now + MAX_TTL {
        return Err(invalid(
            ErrorCode::ParameterOutOfRange,
            "expires_at",
            format!(
                "expires_at must be from a minute to 180 days ahead: between {} and {}; got {expires_at}.",
                now + 60,
                now + MAX_TTL
            ),
        ));
    }
    let reusable = match req.usage.as_deref().unwrap_or("single") {
        "single" => false,
        "reusable" => true,
        other => {
            return Err(invalid(
                ErrorCode::ParameterInvalid,
                "usage",
                format!("usage must be single or reusable; got '{other}'."),
            ));
        }
    };
    if let Some(max) = req.max_completions {
        if !reusable {
            return Err(invalid(
                ErrorCode::ParameterInvalid,
                "max_completions",
                "max_completions applies only to a reusable link (usage: reusable).",
            ));
        }
        if max == 0 {
            return Err(invalid(
                ErrorCode::ParameterOutOfRange,
                "max_completions",
                "max_completions must be at least 1.",
            ));
        }
    }
    let partial = req.partial.unwrap_or_default();
    if partial.enabled && reusable {
        return Err(invalid(
            ErrorCode::ParameterInvalid,
            "partial",
            "A reusable link is paid in full each time; partial payments need usage: single.",
        ));
    }
    let minimum_first = match partial.minimum_first_amount {
        Some(_) if !partial.enabled => {
            return Err(invalid(
                ErrorCode::ParameterInvalid,
                "partial.minimum_first_amount",
                "minimum_first_amount needs partial.enabled: true.",
            ));
        }
        Some(min) if min < 1 || min > amount => {
            return Err(invalid(
                ErrorCode::ParameterOutOfRange,
                "partial.minimum_first_amount",
                format!(
                    "minimum_first_amount must be from 1 to the link's amount, {amount}; got {min}."
                ),
            ));
        }
        Some(min) => min,
        None if partial.enabled => 1,
        None => amount,
    };
    let time_zone = req.time_zone.unwrap_or_else(|| "UTC".into());
    let tz = zone(&time_zone)?;
    let reminders = req.reminders.unwrap_or_default();
    if reminders.offsets.len() > MAX_REMINDERS {
        return Err(invalid(
            ErrorCode::ParameterInvalid,
            "reminders.offsets",
            format!("At most {MAX_REMINDERS} reminders."),
        ));
    }
    for (i, offset) in reminders.offsets.iter().enumerate() {
        if reminder_time(offset, expires_at, &tz).is_none() {
            return Err(invalid(
                ErrorCode::ParameterInvalid,
                &format!("reminders.offsets[{i}]"),
                format!(
                    "'{offset}' is not an offset like -3d, +1d or -12h (days or hours before or after the due date or expiry)."
                ),
            ));
        }
    }
    let notify_email = req.notify.unwrap_or_default().email;
    if notify_email || !reminders.offsets.is_empty() {
        require_mail(ctx)?;
    }
    if !reminders.offsets.is_empty() && !notify_email {
        return Err(invalid(
            ErrorCode::ParameterInvalid,
            "reminders",
            "Reminders are emails: set notify.email: true as well.",
        ));
    }
    let success_url = req
        .success_url
        .map(|u| input::merchant_url(merchant, "success_url", &u))
        .transpose()?;
    let metadata = input::metadata(req.metadata.unwrap_or_default())?;
    if let Some(reference) = &merchant_reference
        && !ctx
            .store
            .list_payment_links(
                &merchant.id,
                &LinkQuery {
                    merchant_reference: Some(reference.clone()),
                    limit: 1,
                    ..LinkQuery::default()
                },
            )
            .await?
            .is_empty()
    {
        return Err(reference_taken(reference));
    }
    let customer = match (req.customer, req.customer_data) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                ErrorCode::ParameterInvalid,
                "customer_data",
                "Give customer or customer_data, not both.",
            ));
        }
        (Some(id), None) => Some(customers::find(ctx, &merchant.id, &id).await.map_err(|_| {
            invalid(
                ErrorCode::ResourceMissing,
                "customer",
                format!("No such customer of yours: '{id}'."),
            )
        })?),
        (None, Some(data)) => {
            if notify_email && data.email.is_none() {
                return Err(invalid(
                    ErrorCode::ParameterMissing,
                    "customer_data.email",
                    "notify.email needs the customer's email address.",
                ));
            }
            // Checked before the customer is made, so a refusal makes none.
            if let Some(locale) = &data.locale
                && Locale::from_tag(locale).is_none()
            {
                return Err(invalid(
                    ErrorCode::ParameterInvalid,
                    "customer_data.locale",
                    format!("'{locale}' is not a language of Kasse's: use en, bn or mn."),
                ));
            }
            Some(customers::create(ctx, &merchant.id, data).await?)
        }
        (None, None) => None,
    };
    let customer_email = customer.as_ref().and_then(|c| c.email.clone());
    if notify_email && customer_email.is_none() {
        return Err(invalid(
            ErrorCode::ParameterMissing,
            "customer",
            "notify.email needs a customer with an email address: give customer_data.email, or a customer that has one.",
        ));
    }
    let invoice = req
        .invoice
        .map(|options| {
            let due_date = match options.due_date {
                Some(date) => date
                    .parse::<jiff::civil::Date>()
                    .map_err(|_| {
                        invalid(
                            ErrorCode::ParameterInvalid,
                            "invoice.due_date",
                            format!("'{date}' is not a date like 2026-12-31."),
                        )
                    })?
                    .to_string(),
                None => zoned(expires_at, &tz).date().to_string(),
            };
            if due_date > zoned(expires_at, &tz).date().to_string() {
                return Err(invalid(
                    ErrorCode::ParameterOutOfRange,
                    "invoice.due_date",
                    format!(
                        "The due date {due_date} is after the link expires ({}); move expires_at later.",
                        zoned(expires_at, &tz).date()
                    ),
                ));
            }
            Ok::<_, DomainError>(Invoice {
                number: String::new(),
                issue_date: zoned(now, &tz).date().to_string(),
                due_date,
                merchant_name: merchant.name.clone(),
                merchant_address: address(options.merchant_address)?,
            })
        })
        .transpose()?;
    let invoice_year = invoice.as_ref().map(|_| zoned(now, &tz).year());
    let token = new_secret("");
    let link = PaymentLink {
        id: new_id("plink"),
        merchant_id: merchant.id.clone(),
        token_hash: ctx.secret.page_secret_hash(&token),
        token,
        status: LinkStatus::Open,
        amount: money.amount(),
        amount_paid: 0,
        currency: money.currency(),
        description,
        line_items,
        customer_id: customer.as_ref().map(|c| c.id.clone()),
        customer_email,
        customer_name: customer.as_ref().and_then(|c| c.name.clone()),
        locale: locale_of(customer.as_ref().and_then(|c| c.locale.as_deref()))
            .tag()
            .to_string(),
        merchant_reference,
        expires_at,
        partial_enabled: partial.enabled,
        minimum_first,
        reusable,
        max_completions: req.max_completions,
        completions: 0,
        notify_email,
        reminders: LinkReminders {
            offsets: reminders.offsets,
            max: reminders.max,
        },
        time_zone,
        success_url,
        invoice,
        metadata,
        created: now,
        updated: now,
    };
    let writes_ctx = ctx.clone();
    let made = ctx
        .store
        .insert_link(
            &link,
            invoice_year,
            Box::new(move |link| {
                (
                    vec![link_event(&writes_ctx, link, EventType::PaymentLinkCreated)],
                    scheduled_emails(&writes_ctx, link, now),
                )
            }),
        )
        .await?
        .ok_or_else(|| reference_taken(link.merchant_reference.as_deref().unwrap_or("")))?;
    ctx.wake_mail.notify_one();
    tracing::info!(link = %made.id, merchant = %merchant.id, "payment link created");
    Ok(made)
}

/// One page of links, newest first, and whether more follow.
pub async fn list(
    ctx: &AppState,
    merchant_id: &str,
    mut query: LinkQuery,
) -> Result<(Vec<PaymentLink>, bool), DomainError> {
    if let Some(after) = &query.starting_after
        && ctx.store.payment_link(merchant_id, after).await?.is_none()
    {
        return Err(invalid(
            ErrorCode::ParameterInvalid,
            "starting_after",
            format!("starting_after names no payment link of yours: '{after}'."),
        ));
    }
    let limit = query.limit;
    query.limit = limit + 1;
    let mut found = ctx.store.list_payment_links(merchant_id, &query).await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok((found, more))
}

pub async fn update(
    ctx: &AppState,
    merchant: &Merchant,
    id: &str,
    req: UpdatePaymentLink,
) -> Result<PaymentLink, DomainError> {
    let (link, now) = open_link(ctx, &merchant.id, id).await?;
    let changed = PaymentLink {
        description: match req.description {
            Some(d) => input::text_field("description", Some(d), 500)?,
            None => link.description.clone(),
        },
        success_url: match req.success_url {
            Some(u) => Some(input::merchant_url(merchant, "success_url", &u)?),
            None => link.success_url.clone(),
        },
        metadata: match req.metadata {
            Some(m) => input::metadata(m)?,
            None => link.metadata.clone(),
        },
        updated: now.max(link.updated + 1),
        ..link.clone()
    };
    if !ctx.store.update_link(&changed, link.updated, &[]).await? {
        return Err(DomainError::Conflict {
            code: ErrorCode::PaymentLinkNotOpen,
            message: format!(
                "Payment link {id} changed meanwhile (paid, ended or updated); fetch it and try again."
            ),
        });
    }
    Ok(changed)
}

/// A link of the merchant's that is still open, and the time it was found so.
async fn open_link(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<(PaymentLink, i64), DomainError> {
    let link = find(ctx, merchant_id, id).await?;
    let now = ctx.clock.now();
    if !link.status_at(now).is_open() {
        return Err(not_open(&link, now));
    }
    Ok((link, now))
}

/// Ends an open link at once; its reminders are cancelled with it.
pub async fn cancel(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<PaymentLink, DomainError> {
    let (link, now) = open_link(ctx, merchant_id, id).await?;
    let canceled = PaymentLink {
        status: LinkStatus::Canceled,
        updated: now,
        ..link.clone()
    };
    let event = link_event(ctx, &canceled, EventType::PaymentLinkCanceled);
    if !ctx
        .store
        .end_link(merchant_id, id, LinkStatus::Canceled, now, &[event])
        .await?
    {
        let now_link = find(ctx, merchant_id, id).await?;
        if !now_link.status_at(now).is_open() {
            return Err(not_open(&now_link, now));
        }
        return Err(DomainError::Conflict {
            code: ErrorCode::PaymentInProgress,
            message: "The customer is paying this link right now; try again in a minute.".into(),
        });
    }
    tracing::info!(link = %id, "payment link canceled");
    Ok(canceled)
}

/// Gives the link a new URL: the old one stops working at once (it was
/// forwarded, or leaked), and emails not yet sent carry the new one.
pub async fn new_url(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<PaymentLink, DomainError> {
    let (link, now) = open_link(ctx, merchant_id, id).await?;
    let token = new_secret("");
    let changed = PaymentLink {
        token_hash: ctx.secret.page_secret_hash(&token),
        token,
        updated: now.max(link.updated + 1),
        ..link
    };
    if !ctx.store.replace_link_token(&changed).await? {
        return Err(not_open(&find(ctx, merchant_id, id).await?, now));
    }
    tracing::info!(link = %id, "payment link given a new URL");
    Ok(changed)
}

/// Emails the link to its customer again now.
pub async fn send(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<Notification, DomainError> {
    let (link, now) = open_link(ctx, merchant_id, id).await?;
    require_mail(ctx)?;
    let Some(email) = link.customer_email.as_deref() else {
        return Err(DomainError::Unprocessable {
            code: ErrorCode::ParameterMissing,
            message: "This link's customer has no email address to send it to.".into(),
        });
    };
    limits::hit(ctx, Limit::LinkSends, &link.id).await?;
    let n = link_notification(&link, email, "payment_link", now, now, &mail_domain(ctx));
    ctx.store
        .insert_notifications(std::slice::from_ref(&n), &[])
        .await?;
    ctx.wake_mail.notify_one();
    Ok(n)
}

/// Expires open links whose time is up; how many.
pub async fn sweep(ctx: &AppState) -> Result<u32, DomainError> {
    let now = ctx.clock.now();
    let mut expired = 0;
    for link in ctx.store.due_links(now).await? {
        let ended = PaymentLink {
            status: LinkStatus::Expired,
            updated: now,
            ..link.clone()
        };
        let event = link_event(ctx, &ended, EventType::PaymentLinkExpired);
        if ctx
            .store
            .end_link(
                &link.merchant_id,
                &link.id,
                LinkStatus::Expired,
                now,
                &[event],
            )
            .await?
        {
            expired += 1;
        }
    }
    Ok(expired)
}

/// The link a customer's token opens, with its merchant.
pub async fn by_token(ctx: &AppState, token: &str) -> Result<(PaymentLink, Merchant), DomainError> {
    let not_found = || DomainError::NotFound {
        kind: "payment link",
        id: "this link".into(),
    };
    let link = ctx
        .store
        .payment_link_by_token(&ctx.secret.page_secret_hash(token))
        .await?
        .ok_or_else(not_found)?;
    let merchant = ctx
        .store
        .merchant(&link.merchant_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((link, merchant))
}

/// A short checkout session for the customer to pay `amount` of the link
/// (default all that is due), or the open one already made for that.
pub async fn session_for(
    ctx: &AppState,
    link: &PaymentLink,
    merchant: &Merchant,
    amount: Option<i64>,
) -> Result<Session, DomainError> {
    let now = ctx.clock.now();
    if !link.status_at(now).is_open() || link.amount_due() <= 0 {
        return Err(not_open(link, now));
    }
    let (min, max) = payable_range(link);
    let amount = amount.unwrap_or(max);
    if amount < min || amount > max {
        let format = |a| locale_of(Some(&link.locale)).format_amount(a, link.currency);
        return Err(invalid(
            ErrorCode::ParameterOutOfRange,
            "amount",
            if min == max {
                format!("This link is paid in full: {}.", format(max))
            } else {
                format!("Pay from {} to {}.", format(min), format(max))
            },
        ));
    }
    if let Some(open) = ctx.store.link_session(&link.id, amount, now).await? {
        return Ok(open);
    }
    let id = new_id("cs");
    let page = url(ctx, link);
    let session = Session {
        client_secret: format!("{id}_secret_{}", &new_id("x")[2..]),
        id,
        merchant_id: merchant.id.clone(),
        status: SessionStatus::Open,
        amount,
        currency: link.currency,
        success_url: link.success_url.clone().unwrap_or_else(|| page.clone()),
        cancel_url: page,
        fail_url: None,
        order_reference: link
            .invoice
            .as_ref()
            .map(|i| i.number.clone())
            .or_else(|| link.merchant_reference.clone()),
        customer_name: link.customer_name.clone(),
        customer_email: link.customer_email.clone(),
        metadata: BTreeMap::from([("payment_link".to_string(), link.id.clone())]),
        capture_method: CaptureMethod::Automatic,
        notification_url: None,
        appearance: None,
        locale: RequestedLocale::Fixed(locale_of(Some(&link.locale))),
        payment_id: None,
        created: now,
        expires_at: (now + SESSION_TTL).min(link.expires_at),
        surface: Surface::Kasse,
        card_rules: None,
        customer_id: link.customer_id.clone(),
        save_card: SaveCard::Off,
        future_usage: FutureUsage::OffSession,
        mandate_options: None,
        payment_link_id: Some(link.id.clone()),
    };
    ctx.store.insert_session(&session).await?;
    Ok(session)
}

/// What the worker does with an email: send it as written, or cancel it.
pub enum Composed {
    Email(Email),
    Cancel(String),
}

/// Writes notification `n` as it should read now; a reminder for a link
/// no longer open is cancelled instead.
pub async fn compose(ctx: &AppState, n: &Notification) -> Result<Composed, DomainError> {
    let merchant =
        ctx.store
            .merchant(&n.merchant_id)
            .await?
            .ok_or_else(|| DomainError::NotFound {
                kind: "merchant",
                id: n.merchant_id.clone(),
            })?;
    let link = match &n.payment_link_id {
        Some(id) => Some(find(ctx, &n.merchant_id, id).await?),
        None => None,
    };
    let locale = locale_of(Some(&n.locale));
    if n.template == "receipt" {
        let amount = n.data["amount"].as_i64().unwrap_or(0);
        let still_due = n.data["still_due"].as_i64().unwrap_or(0);
        let currency = n.data["currency"]
            .as_str()
            .and_then(|c| Currency::parse(c).ok())
            .or(link.as_ref().map(|l| l.currency))
            .ok_or_else(|| {
                crate::store::StoreError::Corrupt(format!("receipt {} names no currency", n.id))
            })?;
        let format = |amount: i64| locale.format_amount(amount, currency);
        let payment = n.payment_id.clone().unwrap_or_default();
        let link_url = link.as_ref().map(|l| url(ctx, l));
        return Ok(Composed::Email(mail::receipt_email(&ReceiptEmail {
            locale,
            merchant: &merchant.name,
            customer_name: link.as_ref().and_then(|l| l.customer_name.as_deref()),
            paid: format(amount),
            payment_reference: &payment,
            still_due: (still_due > 0).then(|| format(still_due)),
            url: link_url.as_deref(),
        })));
    }
    let Some(link) = link else {
        return Ok(Composed::Cancel("it belongs to no payment link".into()));
    };
    let now = ctx.clock.now();
    let format = |amount: i64| locale.format_amount(amount, link.currency);
    let link_url = url(ctx, &link);
    let status = link.status_at(now);
    if !status.is_open() {
        return Ok(Composed::Cancel(format!("the link is {}", status.as_str())));
    }
    let tz = TimeZone::get(&link.time_zone).unwrap_or(TimeZone::UTC);
    Ok(Composed::Email(mail::link_email(
        &LinkEmail {
            locale,
            merchant: &merchant.name,
            customer_name: link.customer_name.as_deref(),
            description: link.description.as_deref(),
            invoice_number: link.invoice.as_ref().map(|i| i.number.as_str()),
            total: format(link.amount),
            due: format(link.amount_due()),
            valid_until: zoned(link.expires_at, &tz).date().to_string(),
            invoice_url: link.invoice.as_ref().map(|_| format!("{link_url}/invoice")),
            url: &link_url,
        },
        n.template == "reminder",
    )))
}

/// The events of an email's attempt: `notification.sent` or `.failed`.
pub fn sent_events(ctx: &AppState, n: &Notification, outcome: &Sent) -> Vec<NewEvent> {
    let (kind, status, reply) = match outcome {
        Sent::Accepted { reply } => (EventType::NotificationSent, NotificationStatus::Sent, reply),
        Sent::Failed { reply } => (
            EventType::NotificationFailed,
            NotificationStatus::Failed,
            reply,
        ),
        _ => return Vec::new(),
    };
    let after = Notification {
        status,
        last_reply: Some(reply.clone()),
        sent_at: (status == NotificationStatus::Sent).then(|| ctx.clock.now()),
        lease_until: None,
        ..n.clone()
    };
    vec![new_event(
        ctx,
        &n.merchant_id,
        kind,
        &notification_view(&after),
        None,
    )]
}

/// The currency's minor units from what a customer typed (`12.50`).
pub fn parse_amount(text: &str, currency: Currency) -> Option<i64> {
    Money::parse_decimal(text, currency).ok().map(Money::amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, local: &str) -> i64 {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get(zone).unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    }

    #[test]
    fn reminders_fall_calendar_days_before_expiry_in_the_links_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // Clocks went forward on 2026-03-08: three calendar days before
        // 10:00 on the 10th is 10:00 on the 7th, 71 hours earlier.
        let expiry = at("America/New_York", "2026-03-10T10:00");
        let three_days = reminder_time("-3d", expiry, &tz).unwrap();
        assert_eq!(three_days, at("America/New_York", "2026-03-07T10:00"));
        assert_eq!(expiry - three_days, 71 * 3600);
        assert_eq!(
            reminder_time("+1d", expiry, &tz).unwrap(),
            at("America/New_York", "2026-03-11T10:00")
        );
        assert_eq!(
            reminder_time("-12h", expiry, &tz).unwrap(),
            expiry - 12 * 3600
        );
        for bad in ["3d", "-3w", "-d", "--3d", "-1000d", "", "-3.5d"] {
            assert_eq!(reminder_time(bad, expiry, &tz), None, "{bad}");
        }
    }

    #[test]
    fn line_items_add_up_and_bad_ones_are_named() {
        let item = |name: &str, quantity, unit_amount| LineItem {
            name: name.into(),
            quantity,
            unit_amount,
        };
        assert_eq!(
            total_of(&[item("Tea", 2, 1250), item("Cup", 1, 500)]).unwrap(),
            3000
        );
        let refused = |items: &[LineItem]| match total_of(items).unwrap_err() {
            DomainError::Invalid { param, .. } => param.unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(&[item("Tea", 0, 1250)]), "line_items[0].quantity");
        assert_eq!(
            refused(&[item("Tea", 1, 1), item("", 1, 5)]),
            "line_items[1].name"
        );
        assert_eq!(refused(&[item("Tea", 1, -5)]), "line_items[0].unit_amount");
        assert_eq!(refused(&[]), "line_items");
        assert_eq!(
            refused(&[item("Gold", 100_000, i64::MAX / 2)]),
            "line_items"
        );
    }
}

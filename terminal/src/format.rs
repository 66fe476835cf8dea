//! How the terminal writes payments, events and times: aligned tables,
//! amounts in their currency, statuses with a colour class.

use kasse_core::api::{
    Balance, BalanceTransaction, Customer, Event, Mandate, Notification, Payment, PaymentLink,
    PaymentMethod, Refund, Subscription,
};
use kasse_core::{Currency, PaymentStatus};

/// A piece of a line and the CSS class that colours it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub class: &'static str,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            class: "",
        }
    }

    pub fn styled(text: impl Into<String>, class: &'static str) -> Self {
        Self {
            text: text.into(),
            class,
        }
    }
}

/// The colour class of a payment status: green paid, yellow waiting, red
/// failed, blue money returned, grey canceled.
pub fn status_class(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Succeeded => "ok",
        PaymentStatus::RequiresCapture
        | PaymentStatus::RequiresAction
        | PaymentStatus::RequiresPaymentMethod => "wait",
        PaymentStatus::Failed => "bad",
        PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => "back",
        PaymentStatus::Canceled => "dim",
    }
}

/// Minor units in their currency, as people write them: `$12.50`, `¥500`.
pub fn amount(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => kasse_core::money::format_amount(minor, c),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// `2026-11-22 09:05 UTC` for Unix seconds.
pub fn utc(unix: i64) -> String {
    let (year, month, day) = kasse_core::time::civil_date(unix);
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60
    )
}

/// `Visa •••• 4242`.
pub fn card(p: &Payment) -> String {
    format!("{} •••• {}", p.card.brand.display_name(), p.card.last4)
}

/// Rows of cells as aligned columns, the first row a header; a cell's
/// class colours it. Widths count characters, not bytes.
pub fn table(rows: &[Vec<Span>]) -> Vec<Vec<Span>> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|s| s.text.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = Vec::new();
            for (i, cell) in row.iter().enumerate() {
                let last = i + 1 == row.len();
                let pad = if last {
                    0
                } else {
                    widths[i] - cell.text.chars().count() + 2
                };
                line.push(Span::styled(cell.text.clone(), cell.class));
                if pad > 0 {
                    line.push(Span::plain(" ".repeat(pad)));
                }
            }
            line
        })
        .collect()
}

fn header(cells: &[&str]) -> Vec<Span> {
    cells.iter().map(|c| Span::styled(*c, "head")).collect()
}

/// `ls` and `find`: one row per payment under a header.
pub fn payment_table(payments: &[Payment]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&[
        "ID",
        "STATUS",
        "AMOUNT",
        "REFUNDED",
        "CARD",
        "REFERENCE",
        "CREATED",
    ])];
    for p in payments {
        rows.push(vec![
            Span::styled(p.id.clone(), "id"),
            Span::styled(p.status.as_str(), status_class(p.status)),
            Span::plain(amount(p.amount, &p.currency)),
            Span::plain(if p.amount_refunded > 0 {
                amount(p.amount_refunded, &p.currency)
            } else {
                "-".into()
            }),
            Span::plain(card(p)),
            Span::plain(p.order_reference.clone().unwrap_or_else(|| "-".into())),
            Span::plain(utc(p.created)),
        ]);
    }
    table(&rows)
}

/// `events`: one row per event.
pub fn event_table(events: &[Event]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&["ID", "TYPE", "ABOUT", "CREATED"])];
    for e in events {
        let about = e.data["object"]["id"].as_str().unwrap_or("-").to_string();
        rows.push(vec![
            Span::styled(e.id.clone(), "id"),
            Span::plain(e.kind.clone()),
            Span::plain(about),
            Span::plain(utc(e.created)),
        ]);
    }
    table(&rows)
}

/// `show`: a payment as label and value lines, then its refunds and events.
pub fn payment_details(p: &Payment, refunds: &[Refund], events: &[Event]) -> Vec<Vec<Span>> {
    let field =
        |label: &str, value: Span| vec![Span::styled(format!("{label:<11}"), "head"), value];
    let mut lines = vec![
        field("payment", Span::styled(p.id.clone(), "id")),
        field(
            "status",
            Span::styled(p.status.as_str(), status_class(p.status)),
        ),
        field("amount", Span::plain(amount(p.amount, &p.currency))),
        field(
            "captured",
            Span::plain(amount(p.amount_captured, &p.currency)),
        ),
        field(
            "refunded",
            Span::plain(amount(p.amount_refunded, &p.currency)),
        ),
    ];
    if p.amount_capturable > 0 {
        lines.push(field(
            "capturable",
            Span::plain(amount(p.amount_capturable, &p.currency)),
        ));
    }
    lines.push(field(
        "card",
        Span::plain(format!(
            "{}  exp {:02}/{}",
            card(p),
            p.card.exp_month,
            p.card.exp_year
        )),
    ));
    lines.push(field(
        "channel",
        Span::plain(match p.channel {
            kasse_core::api::PaymentChannel::Moto => "keyed by staff (card not present)",
            kasse_core::api::PaymentChannel::Checkout => "payment page",
            kasse_core::api::PaymentChannel::MerchantInitiated => {
                "saved card, charged by the merchant (customer absent)"
            }
        }),
    ));
    if let Some(code) = p.decline_code {
        lines.push(field("declined", Span::styled(code.as_str(), "bad")));
    }
    if let Some(reference) = &p.order_reference {
        lines.push(field("reference", Span::plain(reference.clone())));
    }
    if let Some(session) = &p.checkout_session {
        lines.push(field("session", Span::plain(session.clone())));
    }
    lines.push(field("created", Span::plain(utc(p.created))));
    if !refunds.is_empty() {
        lines.push(vec![]);
        let mut rows = vec![header(&["REFUND", "AMOUNT", "STATUS", "REASON", "CREATED"])];
        for r in refunds {
            rows.push(vec![
                Span::styled(r.id.clone(), "id"),
                Span::plain(amount(r.amount, &r.currency)),
                Span::plain(r.status.as_str()),
                Span::plain(r.reason.clone().unwrap_or_else(|| "-".into())),
                Span::plain(utc(r.created)),
            ]);
        }
        lines.extend(table(&rows));
    }
    if !events.is_empty() {
        lines.push(vec![]);
        let mut rows = vec![header(&["EVENT", "TYPE", "CREATED"])];
        for e in events {
            rows.push(vec![
                Span::styled(e.id.clone(), "id"),
                Span::plain(e.kind.clone()),
                Span::plain(utc(e.created)),
            ]);
        }
        lines.extend(table(&rows));
    }
    lines
}

/// A QR code of `text` as lines of block characters, two modules a
/// character high, light on dark (what the dark terminal shows) with the
/// quiet zone the standard asks for.
pub fn qr_lines(text: &str) -> Option<Vec<String>> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let drawn = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    Some(drawn.lines().map(str::to_string).collect())
}

/// `customers`: one row per customer.
pub fn customer_table(customers: &[Customer]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&["ID", "NAME", "EMAIL", "REFERENCE", "CREATED"])];
    for c in customers {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        rows.push(vec![
            Span::styled(c.id.clone(), "id"),
            Span::plain(or_dash(&c.name)),
            Span::plain(or_dash(&c.email)),
            Span::plain(or_dash(&c.reference)),
            Span::plain(utc(c.created)),
        ]);
    }
    table(&rows)
}

fn subscription_class(status: &str) -> &'static str {
    match status {
        "active" => "ok",
        "past_due" | "paused" => "wait",
        "halted" => "bad",
        _ => "dim",
    }
}

/// `subscriptions`: one row per subscription, with its next charge.
pub fn subscription_table(subscriptions: &[Subscription]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&[
        "ID", "STATUS", "AMOUNT", "EVERY", "CUSTOMER", "PAID", "NEXT",
    ])];
    for s in subscriptions {
        rows.push(vec![
            Span::styled(s.id.clone(), "id"),
            Span::styled(s.status.clone(), subscription_class(&s.status)),
            Span::plain(amount(s.amount, &s.currency)),
            Span::plain(format!("{} {}", s.interval_count, s.interval)),
            Span::plain(s.customer.clone()),
            Span::plain(s.cycles_paid.to_string()),
            Span::plain(s.next_charge_at.map_or_else(|| "-".into(), utc)),
        ]);
    }
    table(&rows)
}

/// `customer`: who they are, then their cards, mandates and subscriptions.
pub fn customer_details(
    c: &Customer,
    cards: &[PaymentMethod],
    mandates: &[Mandate],
    subscriptions: &[Subscription],
) -> Vec<Vec<Span>> {
    let mut lines = vec![vec![Span::styled(c.id.clone(), "id")]];
    for (label, value) in [
        ("name", &c.name),
        ("email", &c.email),
        ("phone", &c.phone),
        ("reference", &c.reference),
    ] {
        if let Some(value) = value {
            lines.push(vec![
                Span::styled(format!("{label:<10}"), "dim"),
                Span::plain(value.clone()),
            ]);
        }
    }
    lines.push(vec![Span::styled("cards", "head")]);
    if cards.is_empty() {
        lines.push(vec![Span::styled("  none saved", "dim")]);
    }
    let mut rows = Vec::new();
    for m in cards {
        rows.push(vec![
            Span::styled(format!("  {}", m.id), "id"),
            Span::plain(format!(
                "{} •••• {}",
                m.card.brand.display_name(),
                m.card.last4
            )),
            Span::plain(format!("{:02}/{}", m.card.exp_month, m.card.exp_year)),
            Span::styled(
                m.status.clone(),
                if m.status == "active" { "ok" } else { "bad" },
            ),
        ]);
    }
    lines.extend(table(&rows));
    lines.push(vec![Span::styled("mandates", "head")]);
    if mandates.is_empty() {
        lines.push(vec![Span::styled("  none", "dim")]);
    }
    let mut rows = Vec::new();
    for m in mandates {
        rows.push(vec![
            Span::styled(format!("  {}", m.id), "id"),
            Span::plain(m.payment_method.clone()),
            Span::styled(
                m.status.clone(),
                if m.status == "active" { "ok" } else { "dim" },
            ),
            Span::plain(m.max_amount.map_or_else(
                || "no limit".into(),
                |max| format!("up to {}", amount(max, &m.currency)),
            )),
            Span::plain(format!("agreed {}", utc(m.customer_acceptance.accepted_at))),
        ]);
    }
    lines.extend(table(&rows));
    lines.push(vec![Span::styled("subscriptions", "head")]);
    if subscriptions.is_empty() {
        lines.push(vec![Span::styled("  none", "dim")]);
    } else {
        lines.extend(subscription_table(subscriptions));
    }
    lines
}

fn link_class(status: &str) -> &'static str {
    match status {
        "paid" => "ok",
        "open" | "partially_paid" => "wait",
        _ => "dim",
    }
}

/// `links`: one row per payment link.
pub fn link_table(links: &[PaymentLink]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&[
        "ID", "STATUS", "AMOUNT", "PAID", "DUE", "CUSTOMER", "EXPIRES",
    ])];
    for l in links {
        rows.push(vec![
            Span::styled(l.id.clone(), "id"),
            Span::styled(l.status.clone(), link_class(&l.status)),
            Span::plain(amount(l.amount, &l.currency)),
            Span::plain(amount(l.amount_paid, &l.currency)),
            Span::plain(amount(l.amount_due, &l.currency)),
            Span::plain(l.customer_email.clone().unwrap_or_else(|| "-".into())),
            Span::plain(utc(l.expires_at)),
        ]);
    }
    table(&rows)
}

/// `link plink_…`: the link, its payments and its emails.
pub fn link_details(
    l: &PaymentLink,
    payments: &[Payment],
    emails: &[Notification],
) -> Vec<Vec<Span>> {
    let mut lines = vec![vec![
        Span::styled(l.id.clone(), "id"),
        Span::plain("  "),
        Span::styled(l.status.clone(), link_class(&l.status)),
    ]];
    let mut facts = vec![
        ("amount", amount(l.amount, &l.currency)),
        ("paid", amount(l.amount_paid, &l.currency)),
        ("due", amount(l.amount_due, &l.currency)),
        ("expires", utc(l.expires_at)),
        ("url", l.url.clone()),
    ];
    if let Some(invoice) = &l.invoice {
        facts.push(("invoice", invoice.number.clone()));
    }
    if let Some(email) = &l.customer_email {
        facts.push(("email", email.clone()));
    }
    if l.partial.enabled {
        facts.push(("partial", "yes".into()));
    }
    for (label, value) in facts {
        lines.push(vec![
            Span::styled(format!("{label:<10}"), "dim"),
            Span::plain(value),
        ]);
    }
    for item in &l.line_items {
        lines.push(vec![
            Span::styled(format!("{:<10}", "item"), "dim"),
            Span::plain(format!(
                "{} × {} at {}",
                item.quantity,
                item.name,
                amount(item.unit_amount, &l.currency)
            )),
        ]);
    }
    lines.push(vec![Span::styled("payments", "head")]);
    if payments.is_empty() {
        lines.push(vec![Span::styled("  none", "dim")]);
    } else {
        lines.extend(payment_table(payments));
    }
    lines.push(vec![Span::styled("emails", "head")]);
    if emails.is_empty() {
        lines.push(vec![Span::styled("  none", "dim")]);
    }
    let mut rows = Vec::new();
    for n in emails {
        rows.push(vec![
            Span::styled(format!("  {}", n.id), "id"),
            Span::plain(n.template.clone()),
            Span::styled(
                n.status.clone(),
                match n.status.as_str() {
                    "sent" => "ok",
                    "failed" => "bad",
                    "canceled" => "dim",
                    _ => "wait",
                },
            ),
            Span::plain(
                n.sent_at
                    .map_or_else(|| format!("at {}", utc(n.send_at)), utc),
            ),
            Span::plain(match n.attempts {
                1 => "1 try".to_string(),
                n => format!("{n} tries"),
            }),
            Span::plain(n.last_reply.clone().unwrap_or_default()),
        ]);
    }
    lines.extend(table(&rows));
    lines
}

/// `balance`: per currency, then the latest ledger rows.
pub fn balance(b: &Balance, rows: &[BalanceTransaction]) -> Vec<Vec<Span>> {
    if b.available.is_empty() {
        return vec![vec![Span::styled("Nothing captured yet.", "dim")]];
    }
    let mut lines = Vec::new();
    let mut table_rows = vec![header(&["CURRENCY", "AVAILABLE", "PENDING", "RESERVED"])];
    for (i, available) in b.available.iter().enumerate() {
        let of = |list: &[kasse_core::api::CurrencyAmount]| {
            list.get(i)
                .map_or_else(|| "-".into(), |a| amount(a.amount, &a.currency))
        };
        table_rows.push(vec![
            Span::plain(available.currency.clone()),
            Span::styled(
                amount(available.amount, &available.currency),
                if available.amount < 0 { "bad" } else { "ok" },
            ),
            Span::plain(of(&b.pending)),
            Span::plain(of(&b.reserved)),
        ]);
    }
    lines.extend(table(&table_rows));
    lines.push(vec![Span::styled("latest movements", "head")]);
    let mut txns = vec![header(&[
        "ID",
        "TYPE",
        "AMOUNT",
        "FEE",
        "NET",
        "SOURCE",
        "STATUS",
        "AVAILABLE ON",
    ])];
    for t in rows {
        txns.push(vec![
            Span::styled(t.id.clone(), "id"),
            Span::plain(t.kind.clone()),
            Span::plain(amount(t.amount, &t.currency)),
            Span::plain(amount(t.fee, &t.currency)),
            Span::plain(amount(t.net, &t.currency)),
            Span::plain(t.source.clone()),
            Span::styled(
                t.status.clone(),
                if t.status == "available" {
                    "ok"
                } else {
                    "wait"
                },
            ),
            Span::plain(utc(t.available_on)),
        ]);
    }
    lines.extend(table(&txns));
    lines
}

fn payout_class(status: &str) -> &'static str {
    match status {
        "paid" => "ok",
        "failed" | "returned" => "bad",
        "canceled" => "dim",
        _ => "wait",
    }
}

/// Where a payout goes, in a few words: `bank …0000 (SANDBDDH)`, `visa …4242`.
pub fn payout_destination(p: &kasse_core::api::Payout) -> String {
    let d = &p.destination;
    match (d.kind.as_str(), &d.bank_code, &d.brand) {
        ("bank_account", Some(code), _) => format!("bank …{} ({code})", d.last4),
        (_, _, Some(brand)) => format!("{brand} …{}", d.last4),
        _ => format!("…{}", d.last4),
    }
}

/// `payouts`: one row each, newest first.
pub fn payout_table(payouts: &[kasse_core::api::Payout]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&[
        "ID",
        "STATUS",
        "AMOUNT",
        "TO",
        "REFERENCE",
        "CREATED",
    ])];
    for p in payouts {
        rows.push(vec![
            Span::styled(p.id.clone(), "id"),
            Span::styled(p.status.clone(), payout_class(&p.status)),
            Span::plain(amount(p.amount, &p.currency)),
            Span::plain(payout_destination(p)),
            Span::plain(p.merchant_reference.clone()),
            Span::plain(utc(p.created)),
        ]);
    }
    table(&rows)
}

/// `payout po_…`: what it is, where it goes, who made and approved it.
pub fn payout_details(p: &kasse_core::api::Payout) -> Vec<Vec<Span>> {
    let mut lines = vec![vec![
        Span::styled(p.id.clone(), "id"),
        Span::plain("  "),
        Span::styled(p.status.clone(), payout_class(&p.status)),
    ]];
    let mut facts = vec![
        ("amount", amount(p.amount, &p.currency)),
        ("to", payout_destination(p)),
        ("reference", p.merchant_reference.clone()),
        ("purpose", p.purpose.clone()),
        ("made by", p.created_by.clone()),
        ("created", utc(p.created)),
    ];
    if let Some(holder) = &p.destination.account_holder {
        facts.push(("holder", holder.clone()));
    }
    if let Some(by) = &p.approved_by {
        facts.push(("approved", by.clone()));
    }
    if let Some(at) = p.arrival_date {
        facts.push(("arrives", utc(at)));
    }
    if let Some(at) = p.paid_at {
        facts.push(("paid", utc(at)));
    }
    if let Some(code) = &p.failure_code {
        facts.push((
            "failure",
            format!("{code}: {}", p.failure_message.clone().unwrap_or_default()),
        ));
    }
    if let Some(s) = &p.settlement {
        facts.push(("settlement", s.clone()));
    }
    for (label, value) in facts {
        lines.push(vec![
            Span::styled(format!("{label:<11}"), "dim"),
            Span::plain(value),
        ]);
    }
    lines
}

/// `settlements`: one row per business day and currency.
pub fn settlement_table(settlements: &[kasse_core::api::Settlement]) -> Vec<Vec<Span>> {
    let mut rows = vec![header(&[
        "ID", "DAY", "CURRENCY", "CHARGES", "REFUNDS", "GROSS", "FEES", "NET", "STATUS",
    ])];
    for s in settlements {
        rows.push(vec![
            Span::styled(s.id.clone(), "id"),
            Span::plain(s.local_date.clone()),
            Span::plain(s.currency.clone()),
            Span::plain(s.charge_count.to_string()),
            Span::plain(s.refund_count.to_string()),
            Span::plain(amount(s.gross, &s.currency)),
            Span::plain(amount(s.fees, &s.currency)),
            Span::styled(
                amount(s.net, &s.currency),
                if s.net < 0 { "bad" } else { "ok" },
            ),
            Span::plain(s.status.clone()),
        ]);
    }
    table(&rows)
}

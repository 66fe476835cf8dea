//! The pages a customer opens from a payment link: `/l/{token}` shows what
//! is asked (the line items, what is paid and due) and, while the link is
//! open, a button, or for a link paid in parts an amount to choose, that
//! starts a short checkout session on the payment page; paid, expired and
//! canceled links have screens of their own. `/l/{token}/invoice` is the
//! printable invoice. Written by the server in the link's language (or
//! `?lang=`), with no script at all.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use kasse_core::Locale;
use serde::Deserialize;

use super::AppState;
use super::pages::page_response;
use crate::domain::{DomainError, links, views};
use crate::html::escape;
use crate::mail::fill;
use crate::store::{LinkStatus, Merchant, PaymentLink};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/l/{token}", axum::routing::get(show).post(pay))
        .route("/l/{token}/invoice", axum::routing::get(invoice))
}

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Debug, Deserialize)]
struct Lang {
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PayForm {
    amount: Option<String>,
}

struct Words {
    paid_title: &'static str,
    paid_text: &'static str,
    expired_title: &'static str,
    expired_text: &'static str,
    canceled_title: &'static str,
    canceled_text: &'static str,
    not_found: &'static str,
    invoice: &'static str,
    item: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    amount: &'static str,
    total: &'static str,
    paid_so_far: &'static str,
    due: &'static str,
    pay: &'static str,
    amount_to_pay: &'static str,
    go_on: &'static str,
    range: &'static str,
    out_of_range: &'static str,
    valid_until: &'static str,
    view_invoice: &'static str,
    issued: &'static str,
    due_date: &'static str,
    bill_to: &'static str,
    pay_online: &'static str,
    print_hint: &'static str,
}

fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::En => &Words {
            paid_title: "Paid",
            paid_text: "This has been paid in full. Thank you.",
            expired_title: "This link has expired",
            expired_text: "It can no longer be paid. Ask {merchant} for a new one.",
            canceled_title: "This link was canceled",
            canceled_text: "{merchant} canceled it; it can no longer be paid.",
            not_found: "This payment link does not exist. Check the address in your email.",
            invoice: "Invoice",
            item: "Item",
            quantity: "Qty",
            unit_price: "Unit price",
            amount: "Amount",
            total: "Total",
            paid_so_far: "Paid so far",
            due: "Still to pay",
            pay: "Pay {amount}",
            amount_to_pay: "Amount to pay now",
            go_on: "Continue to payment",
            range: "From {min} to {max}.",
            out_of_range: "Enter an amount from {min} to {max}.",
            valid_until: "You can pay until {date}.",
            view_invoice: "View or print the invoice",
            issued: "Issued",
            due_date: "Due date",
            bill_to: "Bill to",
            pay_online: "Pay online",
            print_hint: "Use your browser's Print command to print this invoice or save it as a PDF.",
        },
        Locale::Bn => &Words {
            paid_title: "পরিশোধিত",
            paid_text: "সম্পূর্ণ পরিশোধ করা হয়েছে। ধন্যবাদ।",
            expired_title: "এই লিংকের মেয়াদ শেষ",
            expired_text: "এটি আর পরিশোধ করা যাবে না। নতুন লিংকের জন্য {merchant}-এর সাথে যোগাযোগ করুন।",
            canceled_title: "এই লিংকটি বাতিল করা হয়েছে",
            canceled_text: "{merchant} এটি বাতিল করেছে; এটি আর পরিশোধ করা যাবে না।",
            not_found: "এই পেমেন্ট লিংকটি নেই। আপনার ইমেইলের ঠিকানাটি দেখুন।",
            invoice: "ইনভয়েস",
            item: "বিবরণ",
            quantity: "সংখ্যা",
            unit_price: "একক মূল্য",
            amount: "মূল্য",
            total: "মোট",
            paid_so_far: "এ পর্যন্ত পরিশোধিত",
            due: "এখনও বাকি",
            pay: "{amount} পরিশোধ করুন",
            amount_to_pay: "এখন পরিশোধের পরিমাণ",
            go_on: "পেমেন্টে যান",
            range: "{min} থেকে {max} পর্যন্ত।",
            out_of_range: "{min} থেকে {max} এর মধ্যে একটি পরিমাণ লিখুন।",
            valid_until: "আপনি {date} পর্যন্ত পরিশোধ করতে পারবেন।",
            view_invoice: "ইনভয়েস দেখুন বা প্রিন্ট করুন",
            issued: "ইস্যুর তারিখ",
            due_date: "পরিশোধের শেষ তারিখ",
            bill_to: "প্রাপক",
            pay_online: "অনলাইনে পরিশোধ করুন",
            print_hint: "এই ইনভয়েসটি প্রিন্ট করতে বা PDF হিসেবে সংরক্ষণ করতে ব্রাউজারের প্রিন্ট ব্যবহার করুন।",
        },
        Locale::Mn => &Words {
            paid_title: "Төлөгдсөн",
            paid_text: "Бүрэн төлөгдсөн. Баярлалаа.",
            expired_title: "Энэ холбоосын хугацаа дууссан",
            expired_text: "Үүнийг төлөх боломжгүй болсон. {merchant}-с шинэ холбоос авна уу.",
            canceled_title: "Энэ холбоосыг цуцалсан",
            canceled_text: "{merchant} үүнийг цуцалсан тул төлөх боломжгүй.",
            not_found: "Ийм төлбөрийн холбоос байхгүй. Имэйл дэх хаягаа шалгана уу.",
            invoice: "Нэхэмжлэх",
            item: "Бараа",
            quantity: "Тоо",
            unit_price: "Нэгжийн үнэ",
            amount: "Дүн",
            total: "Нийт",
            paid_so_far: "Одоогоор төлсөн",
            due: "Үлдэгдэл",
            pay: "{amount} төлөх",
            amount_to_pay: "Одоо төлөх дүн",
            go_on: "Төлбөр рүү үргэлжлүүлэх",
            range: "{min}-с {max} хүртэл.",
            out_of_range: "{min}-с {max} хүртэлх дүн оруулна уу.",
            valid_until: "Та {date} хүртэл төлж болно.",
            view_invoice: "Нэхэмжлэхийг харах эсвэл хэвлэх",
            issued: "Олгосон огноо",
            due_date: "Төлөх эцсийн огноо",
            bill_to: "Төлөгч",
            pay_online: "Онлайнаар төлөх",
            print_hint: "Энэ нэхэмжлэхийг хэвлэх эсвэл PDF болгон хадгалахын тулд хөтчийнхөө Хэвлэх командыг ашиглана уу.",
        },
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#f6f7f9;margin:0;padding:24px}\
main{max-width:560px;margin:0 auto;background:#fff;border-radius:12px;padding:28px;box-shadow:0 1px 3px rgba(0,0,0,.08)}\
h1{font-size:1.4rem;margin:0 0 4px}h2{font-size:1.1rem;margin:24px 0 8px}\
table{width:100%;border-collapse:collapse;margin:12px 0}th,td{text-align:left;padding:6px 4px;border-bottom:1px solid #e5e7eb}\
td.n,th.n{text-align:right}.sum td{font-weight:600;border:0}\
.status{font-size:1.2rem;font-weight:600}.error{color:#b91c1c;font-weight:600}\
input{font-size:1.1rem;padding:8px;width:10em}button{font-size:1.05rem;padding:10px 20px;border:0;border-radius:8px;background:#1a56db;color:#fff;cursor:pointer}\
.muted{color:#555;font-size:.9rem}address{font-style:normal;white-space:pre-line}\
@media print{body{background:#fff;padding:0}main{box-shadow:none}.noprint{display:none}}";

fn page(locale: Locale, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        locale.tag(),
        escape(title)
    )
}

fn respond(status: StatusCode, html: String) -> Response {
    let mut response = page_response(&html, CSP);
    *response.status_mut() = status;
    response
}

fn locale_for(link: &PaymentLink, lang: &Lang) -> Locale {
    lang.lang
        .as_deref()
        .and_then(Locale::from_tag)
        .or_else(|| Locale::from_tag(&link.locale))
        .unwrap_or_default()
}

fn money(link: &PaymentLink, locale: Locale, amount: i64) -> String {
    escape(&locale.format_amount(amount, link.currency))
}

fn not_found(lang: &Lang) -> Response {
    let locale = lang
        .lang
        .as_deref()
        .and_then(Locale::from_tag)
        .unwrap_or_default();
    let w = words(locale);
    respond(
        StatusCode::NOT_FOUND,
        page(
            locale,
            w.not_found,
            &format!("<p class=\"status\">{}</p>", escape(w.not_found)),
        ),
    )
}

/// The items, or one line with the description, and the sums.
fn summary(link: &PaymentLink, locale: Locale) -> String {
    let w = words(locale);
    let mut html = format!(
        "<table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        escape(w.item),
        escape(w.quantity),
        escape(w.unit_price),
        escape(w.amount)
    );
    if link.line_items.is_empty() {
        html.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">1</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(link.description.as_deref().unwrap_or("")),
            money(link, locale, link.amount),
            money(link, locale, link.amount)
        ));
    }
    for item in &link.line_items {
        html.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&item.name),
            locale.write_digits(&item.quantity.to_string()),
            money(link, locale, item.unit_amount),
            money(link, locale, item.unit_amount * i64::from(item.quantity))
        ));
    }
    html.push_str(&format!(
        "</tbody><tbody class=\"sum\"><tr><td colspan=\"3\">{}</td><td class=\"n\">{}</td></tr>",
        escape(w.total),
        money(link, locale, link.amount)
    ));
    if !link.reusable && link.amount_paid > 0 {
        html.push_str(&format!(
            "<tr><td colspan=\"3\">{}</td><td class=\"n\">{}</td></tr><tr><td colspan=\"3\">{}</td><td class=\"n\" id=\"due\">{}</td></tr>",
            escape(w.paid_so_far),
            money(link, locale, link.amount_paid),
            escape(w.due),
            money(link, locale, link.amount_due())
        ));
    }
    html.push_str("</tbody></table>");
    html
}

fn heading(link: &PaymentLink, merchant: &Merchant, locale: Locale) -> String {
    let mut html = format!("<h1>{}</h1>", escape(&merchant.name));
    if let Some(invoice) = &link.invoice {
        html.push_str(&format!(
            "<p class=\"muted\">{} {}</p>",
            escape(words(locale).invoice),
            escape(&invoice.number)
        ));
    }
    if let (Some(description), false) = (&link.description, link.line_items.is_empty()) {
        html.push_str(&format!("<p>{}</p>", escape(description)));
    }
    html
}

/// The link's page as it stands, with `error` above the form.
fn link_page(
    ctx: &AppState,
    link: &PaymentLink,
    merchant: &Merchant,
    locale: Locale,
    error: Option<String>,
    typed: Option<&str>,
) -> Response {
    let w = words(locale);
    let now = ctx.clock.now();
    let status = link.status_at(now);
    let mut body = heading(link, merchant, locale);
    let values = [("merchant", merchant.name.as_str())];
    let (screen, title) = match status {
        LinkStatus::Paid => (Some((w.paid_title, w.paid_text.to_string())), w.paid_title),
        LinkStatus::Expired => (
            Some((w.expired_title, fill(w.expired_text, &values))),
            w.expired_title,
        ),
        LinkStatus::Canceled => (
            Some((w.canceled_title, fill(w.canceled_text, &values))),
            w.canceled_title,
        ),
        LinkStatus::Open | LinkStatus::PartiallyPaid => (None, merchant.name.as_str()),
    };
    body.push_str(&summary(link, locale));
    match screen {
        Some((title, text)) => body.push_str(&format!(
            "<p class=\"status\" id=\"link-status\" data-status=\"{}\">{}</p><p>{}</p>",
            status.as_str(),
            escape(title),
            escape(&text)
        )),
        None => {
            let (min, max) = links::payable_range(link);
            if let Some(error) = error {
                body.push_str(&format!(
                    "<p class=\"error\" role=\"alert\">{}</p>",
                    escape(&error)
                ));
            }
            body.push_str(&format!(
                "<form method=\"post\" id=\"link-status\" data-status=\"{}\">",
                status.as_str()
            ));
            if min < max {
                let exponent = link.currency.exponent();
                let major = |a: i64| {
                    let scale = 10i64.pow(exponent);
                    if exponent == 0 {
                        a.to_string()
                    } else {
                        format!(
                            "{}.{:0width$}",
                            a / scale,
                            a % scale,
                            width = exponent as usize
                        )
                    }
                };
                let bounds = [
                    ("min", money(link, locale, min)),
                    ("max", money(link, locale, max)),
                ];
                let bounds: Vec<(&str, &str)> =
                    bounds.iter().map(|(k, v)| (*k, v.as_str())).collect();
                body.push_str(&format!(
                    "<p><label for=\"amount\">{}</label><br><input id=\"amount\" name=\"amount\" inputmode=\"decimal\" value=\"{}\" aria-describedby=\"range\"> {}</p><p class=\"muted\" id=\"range\">{}</p><p><button type=\"submit\">{}</button></p>",
                    escape(w.amount_to_pay),
                    escape(typed.unwrap_or(&major(max))),
                    escape(link.currency.code()),
                    fill(w.range, &bounds),
                    escape(w.go_on),
                ));
            } else {
                body.push_str(&format!(
                    "<p><button type=\"submit\">{}</button></p>",
                    escape(&fill(
                        w.pay,
                        &[("amount", &locale.format_amount(max, link.currency))]
                    ))
                ));
            }
            body.push_str("</form>");
            let tz = TimeZone::get(&link.time_zone).unwrap_or(TimeZone::UTC);
            let date = jiff::Timestamp::from_second(link.expires_at)
                .map(|t| t.to_zoned(tz).date().to_string())
                .unwrap_or_default();
            body.push_str(&format!(
                "<p class=\"muted\">{}</p>",
                escape(&fill(w.valid_until, &[("date", &date)]))
            ));
        }
    }
    if link.invoice.is_some() {
        body.push_str(&format!(
            "<p class=\"noprint\"><a href=\"{}/invoice?lang={}\">{}</a></p>",
            escape(&links::url(ctx, link)),
            locale.tag(),
            escape(w.view_invoice)
        ));
    }
    respond(StatusCode::OK, page(locale, title, &body))
}

async fn show(
    State(ctx): State<AppState>,
    Path(token): Path<String>,
    Query(lang): Query<Lang>,
) -> Response {
    match links::by_token(&ctx, &token).await {
        Ok((link, merchant)) => {
            let locale = locale_for(&link, &lang);
            link_page(&ctx, &link, &merchant, locale, None, None)
        }
        Err(DomainError::NotFound { .. }) => not_found(&lang),
        Err(error) => super::ApiError::from(error).into_response(),
    }
}

/// Starts (or resumes) the checkout session for the amount chosen, and
/// sends the customer to the payment page.
async fn pay(
    State(ctx): State<AppState>,
    Path(token): Path<String>,
    Query(lang): Query<Lang>,
    form: Result<Form<PayForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (link, merchant) = match links::by_token(&ctx, &token).await {
        Ok(found) => found,
        Err(DomainError::NotFound { .. }) => return not_found(&lang),
        Err(error) => return super::ApiError::from(error).into_response(),
    };
    let locale = locale_for(&link, &lang);
    let typed = form
        .ok()
        .and_then(|Form(f)| f.amount)
        .filter(|a| !a.trim().is_empty());
    let (min, max) = links::payable_range(&link);
    let amount = match typed.as_deref() {
        None => None,
        Some(text) => match links::parse_amount(text, link.currency) {
            Some(amount) if (min..=max).contains(&amount) => Some(amount),
            _ => {
                let bounds = [
                    ("min", locale.format_amount(min, link.currency)),
                    ("max", locale.format_amount(max, link.currency)),
                ];
                let bounds: Vec<(&str, &str)> =
                    bounds.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut response = link_page(
                    &ctx,
                    &link,
                    &merchant,
                    locale,
                    Some(fill(words(locale).out_of_range, &bounds)),
                    typed.as_deref(),
                );
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return response;
            }
        },
    };
    match links::session_for(&ctx, &link, &merchant, amount).await {
        Ok(session) => Redirect::to(&views::hosted_page_url(&ctx, &session)).into_response(),
        Err(DomainError::Conflict { .. }) => {
            // Ended meanwhile: its screen says how.
            let (link, merchant) = match links::by_token(&ctx, &token).await {
                Ok(found) => found,
                Err(error) => return super::ApiError::from(error).into_response(),
            };
            let mut response = link_page(&ctx, &link, &merchant, locale, None, None);
            *response.status_mut() = StatusCode::CONFLICT;
            response
        }
        Err(DomainError::Invalid { message, .. }) => {
            let mut response = link_page(
                &ctx,
                &link,
                &merchant,
                locale,
                Some(message),
                typed.as_deref(),
            );
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(error) => super::ApiError::from(error).into_response(),
    }
}

/// The printable invoice.
async fn invoice(
    State(ctx): State<AppState>,
    Path(token): Path<String>,
    Query(lang): Query<Lang>,
) -> Response {
    let (link, _) = match links::by_token(&ctx, &token).await {
        Ok(found) => found,
        Err(DomainError::NotFound { .. }) => return not_found(&lang),
        Err(error) => return super::ApiError::from(error).into_response(),
    };
    let Some(invoice) = &link.invoice else {
        return not_found(&lang);
    };
    let locale = locale_for(&link, &lang);
    let w = words(locale);
    let mut body = format!(
        "<h1>{} {}</h1><p><strong>{}</strong>",
        escape(w.invoice),
        escape(&invoice.number),
        escape(&invoice.merchant_name)
    );
    if let Some(address) = &invoice.merchant_address {
        body.push_str(&format!("<address>{}</address>", escape(address)));
    }
    body.push_str(&format!(
        "</p><p>{}: {}<br>{}: {}</p>",
        escape(w.issued),
        escape(&invoice.issue_date),
        escape(w.due_date),
        escape(&invoice.due_date)
    ));
    if link.customer_name.is_some() || link.customer_email.is_some() {
        body.push_str(&format!(
            "<h2>{}</h2><p>{}<br>{}</p>",
            escape(w.bill_to),
            escape(link.customer_name.as_deref().unwrap_or("")),
            escape(link.customer_email.as_deref().unwrap_or(""))
        ));
    }
    if let Some(description) = &link.description {
        body.push_str(&format!("<p>{}</p>", escape(description)));
    }
    body.push_str(&summary(&link, locale));
    let status = link.status_at(ctx.clock.now());
    if status == LinkStatus::Paid {
        body.push_str(&format!("<p class=\"status\">{}</p>", escape(w.paid_title)));
    } else if status.is_open() {
        let url = links::url(&ctx, &link);
        body.push_str(&format!(
            "<p>{}: <a href=\"{}\">{}</a></p>",
            escape(w.pay_online),
            escape(&url),
            escape(&url)
        ));
    }
    body.push_str(&format!(
        "<p class=\"muted noprint\">{}</p>",
        escape(w.print_hint)
    ));
    respond(
        StatusCode::OK,
        page(locale, &format!("{} {}", w.invoice, invoice.number), &body),
    )
}

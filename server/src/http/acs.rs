//! The sandbox issuer's 3-D Secure page (its "ACS"): the customer proves it
//! is them by pressing Complete, or fails by pressing Fail, and returns to
//! the hosted page, which shows the outcome.
//!
//! The challenge's token travels as real 3-D Secure's does, in a POSTed
//! form, never in a query string that servers, proxies and histories keep:
//! the payment page sends the customer to `/acs/{id}#{token}`, whose page
//! moves the token from the fragment into a form and posts it; the answer
//! shows the challenge, whose buttons post the token again.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use kasse_core::money::format_amount;
use serde::Deserialize;

use super::pages::frame_ancestors;
use super::{ApiError, AppState};
use crate::domain::threeds;
use crate::html::escape;
use crate::store::Payment;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/acs/{payment_id}", get(start).post(answer))
}

#[derive(Deserialize)]
struct Embedding {
    /// Set when the payment page runs in the checkout.js popup: carried
    /// back to it, and lets the merchant's origins frame this page.
    #[serde(default)]
    embed: Option<String>,
    #[serde(default)]
    origin: Option<String>,
}

#[derive(Deserialize)]
struct AnswerForm {
    token: String,
    /// `complete` or `fail`; without it, the challenge is shown.
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    embed: Option<String>,
    #[serde(default)]
    origin: Option<String>,
}

/// Moves the token from the fragment into the form and posts it; drops the
/// fragment from the address bar and history first.
const START_SCRIPT: &str = "var f=document.getElementById('acs-start'),t=location.hash.slice(1);\
history.replaceState(null,'',location.pathname+location.search);\
if(t){f.token.value=decodeURIComponent(t);f.submit();}\
else{document.getElementById('acs-missing').hidden=false;}";

fn page(status: StatusCode, body: &str, ancestors: &str) -> Response {
    page_with_script(status, body, ancestors, "")
}

fn page_with_script(status: StatusCode, body: &str, ancestors: &str, script: &str) -> Response {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>3-D Secure · Kasse test bank</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #eef1f6; color: #1d2230; margin: 0; }}
main {{ max-width: 26rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 12px; border: 1px solid #c9cdd8; }}
h1 {{ font-size: 1.25rem; margin-top: 0; }} dl {{ display: grid; grid-template-columns: auto 1fr; gap: .3rem 1rem; }}
dt {{ color: #5b6273; }} dd {{ margin: 0; font-weight: 600; }}
.actions {{ display: flex; gap: .75rem; margin-top: 1.5rem; }} form {{ flex: 1; }}
button {{ width: 100%; font: inherit; font-weight: 700; padding: .8rem; border-radius: 8px; cursor: pointer; }}
.complete {{ background: #1b6e3a; color: #fff; border: 0; }} .fail {{ background: #fff; color: #b3261e; border: 1px solid #b3261e; }}
</style></head><body><main>{body}</main>{script_tag}</body></html>"#,
        script_tag = if script.is_empty() {
            String::new()
        } else {
            format!("<script>{script}</script>")
        }
    );
    let script_src = if script.is_empty() {
        String::new()
    } else {
        format!("script-src {}; ", crate::built::csp_source(script))
    };
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&format!(
            "default-src 'none'; {script_src}style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; {ancestors}"
        ))
        .expect("ASCII"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn gone() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "<h1>This verification is no longer open</h1><p>It was completed already, or the link is wrong. Go back to the payment page.</p>",
        "frame-ancestors 'none'",
    )
}

/// The hidden fields that carry the popup's embedding through each form.
fn carried(embed: Option<&str>, origin: Option<&str>) -> String {
    match (origin, embed == Some("1")) {
        (Some(origin), true) => format!(
            r#"<input type="hidden" name="embed" value="1"><input type="hidden" name="origin" value="{}">"#,
            escape(origin)
        ),
        _ => String::new(),
    }
}

/// The page the payment page sends the customer to: it posts the token
/// from the fragment. It shows nothing of the payment, which the token
/// alone may see.
async fn start(
    State(ctx): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Embedding>,
) -> Result<Response, ApiError> {
    let Some(payment) = ctx.store.payment_awaiting_action(&id).await? else {
        return Ok(gone());
    };
    let embedded = q.embed.as_deref() == Some("1");
    let carry = carried(q.embed.as_deref(), q.origin.as_deref());
    let ancestors = frame_ancestors(&ctx, Some(&payment.merchant_id), embedded).await;
    Ok(page_with_script(
        StatusCode::OK,
        &format!(
            r#"<h1>Connecting to your bank…</h1>
<form id="acs-start" method="post" action="/acs/{id}"><input type="hidden" name="token" value="">{carry}
<noscript><p>Turn on JavaScript to confirm this payment with your bank.</p></noscript></form>
<p id="acs-missing" hidden>This link is incomplete. Go back to the payment page and try again.</p>"#,
            id = escape(&id),
        ),
        &ancestors,
        START_SCRIPT,
    ))
}

/// The challenge itself, for a token that is the payment's own.
async fn challenge(ctx: &AppState, payment: &Payment, form: &AnswerForm) -> Response {
    let id = &payment.id;
    let merchant = ctx
        .store
        .merchant(&payment.merchant_id)
        .await
        .ok()
        .flatten();
    let amount = format_amount(payment.amount, payment.currency);
    let token = escape(&form.token);
    let embedded = form.embed.as_deref() == Some("1");
    let carry = carried(form.embed.as_deref(), form.origin.as_deref());
    let button = |outcome: &str, class: &str, label: &str| {
        format!(
            r#"<form method="post" action="/acs/{id}"><input type="hidden" name="token" value="{token}">{carry}
<input type="hidden" name="outcome" value="{outcome}"><button id="acs-{outcome}" class="{class}" type="submit">{label}</button></form>"#
        )
    };
    let ancestors = frame_ancestors(ctx, Some(&payment.merchant_id), embedded).await;
    page(
        StatusCode::OK,
        &format!(
            r#"<h1>Confirm this payment with your bank</h1>
<p>Kasse test bank · 3-D Secure simulation</p>
<dl><dt>Merchant</dt><dd>{}</dd><dt>Amount</dt><dd id="acs-amount">{amount}</dd><dt>Card</dt><dd>{} •••• {}</dd></dl>
<div class="actions">{}{}</div>"#,
            escape(&merchant.map(|m| m.name).unwrap_or_default()),
            payment.card_brand.display_name(),
            payment.card_last4,
            button("complete", "complete", "Complete"),
            button("fail", "fail", "Fail"),
        ),
        &ancestors,
    )
}

async fn answer(
    State(ctx): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, ApiError> {
    let Some(payment) = threeds::awaiting(&ctx, &id, &form.token).await? else {
        return Ok(gone());
    };
    let Some(answer) = form.outcome.as_deref() else {
        return Ok(challenge(&ctx, &payment, &form).await);
    };
    let Some(session) = threeds::finish(&ctx, &payment, answer == "complete").await? else {
        return Ok(gone());
    };
    tracing::info!(payment = %id, outcome = %answer, "3-D Secure answered");
    let mut back = ctx
        .public_url
        .join(&format!("pay/{}", session.id))
        .expect("ids are URL-safe");
    // `from=3ds` tells the page that the customer is just back from the bank,
    // so a complete session is this payment's receipt, not a second visit.
    back.query_pairs_mut().append_pair("from", "3ds");
    if let (Some("1"), Some(origin)) = (form.embed.as_deref(), form.origin.as_deref()) {
        back.query_pairs_mut()
            .append_pair("embed", "1")
            .append_pair("origin", origin);
    }
    back.set_fragment(Some(&session.client_secret));
    Ok(Redirect::to(back.as_str()).into_response())
}

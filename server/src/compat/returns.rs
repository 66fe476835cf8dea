//! The customer's way back to the merchant from a session a compatibility
//! surface made. The payment page sends the customer here (a URL Kasse
//! signed, so only Kasse makes one); this answers in the surface's shape:
//!
//! - SSLCOMMERZ: a form POST to `success_url`, `fail_url` or `cancel_url`
//!   carrying the IPN's fields and signature, submitted on load, with a
//!   button for browsers without script (SSLCOMMERZ.md §7);
//! - simple checkout: a redirect to `success_url?transaction_id=…`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use kasse_core::SessionStatus;
use kasse_core::redirect::{sign_url, verify_url};
use serde::Deserialize;

use super::ipn;
use crate::domain::{DomainError, sessions};
use crate::html::escape;
use crate::state::AppState;
use crate::store::{CompatSession, Merchant, Session, Surface};

pub fn router() -> Router<AppState> {
    Router::new().route("/compat/return/{session_id}", get(back))
}

#[derive(Debug, Deserialize)]
struct Signed {
    outcome: String,
    payment_id: Option<String>,
    signature: Option<String>,
}

/// Submits the form on load. Its hash is in the page's CSP.
const SUBMIT: &str =
    "HTMLFormElement.prototype.submit.call(document.getElementById('kasse-return'));";

fn gone(message: &str) -> Response {
    (StatusCode::NOT_FOUND, message.to_string()).into_response()
}

async fn back(
    State(ctx): State<AppState>,
    Path(session_id): Path<String>,
    Query(signed): Query<Signed>,
) -> Response {
    match answer(&ctx, &session_id, signed).await {
        Ok(response) => response,
        Err(DomainError::Store(e)) => {
            tracing::error!(error = %e, session = %session_id, "could not answer a return");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Kasse could not take you back to the shop just now; reload this page.",
            )
                .into_response()
        }
        Err(other) => gone(&other.to_string()),
    }
}

async fn answer(ctx: &AppState, session_id: &str, signed: Signed) -> Result<Response, DomainError> {
    const UNKNOWN: &str = "This return link is not valid. Go back to the shop and try again.";
    let Some(session) = ctx.store.session_for_payer(session_id).await? else {
        return Ok(gone(UNKNOWN));
    };
    let Some(merchant) = ctx.store.merchant(&session.merchant_id).await? else {
        return Ok(gone(UNKNOWN));
    };
    // The page may add its popup parameters; the signature covers only
    // what Kasse put there.
    let mut url = ctx
        .public_url
        .join(&format!("compat/return/{session_id}"))
        .expect("ids are URL-safe");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("outcome", &signed.outcome);
        if let Some(id) = &signed.payment_id {
            query.append_pair("payment_id", id);
        }
        query.append_pair("signature", signed.signature.as_deref().unwrap_or(""));
    }
    if verify_url(&url, &merchant.signing_secret).is_err() {
        return Ok(gone(UNKNOWN));
    }
    let Some(compat) = ctx.store.compat_session(session_id).await? else {
        return Ok(gone(UNKNOWN));
    };
    let payment = match &signed.payment_id {
        Some(id) => ctx.store.payment(&merchant.id, id).await?,
        None => None,
    };
    match session.surface {
        Surface::Sslcommerz => {
            sslcommerz_return(ctx, session, &merchant, &compat, &signed.outcome, payment).await
        }
        Surface::Simple => {
            let Some(payment) = payment.filter(|p| p.status.completes_session()) else {
                return Ok(gone(UNKNOWN));
            };
            let refs = ipn::refs(ctx, &payment).await?;
            let base =
                url::Url::parse(&session.success_url).expect("validated when the session was made");
            let to = sign_url(
                &base,
                &[
                    ("transaction_id", &refs.short_ref),
                    ("session_id", &session.id),
                    ("payment_id", &payment.id),
                    ("status", "succeeded"),
                ],
                &merchant.signing_secret,
            );
            Ok(Redirect::to(to.as_str()).into_response())
        }
        Surface::Kasse => Ok(gone(UNKNOWN)),
    }
}

async fn sslcommerz_return(
    ctx: &AppState,
    mut session: Session,
    merchant: &Merchant,
    compat: &CompatSession,
    outcome: &str,
    payment: Option<crate::store::Payment>,
) -> Result<Response, DomainError> {
    let mut outcome = outcome.to_string();
    let mut payment = payment;
    if outcome == "cancel" {
        let now = ctx.clock.now();
        if session.status_at(now) == SessionStatus::Open
            && ctx.store.cancel_compat_session(&session.id, now).await?
        {
            match sessions::expire(ctx, &merchant.id, &session.id).await {
                Ok(expired) => session = expired,
                // Paid in another tab meanwhile: that is the outcome.
                Err(DomainError::Conflict { .. }) => {
                    session = sessions::find(ctx, &merchant.id, &session.id).await?;
                }
                Err(other) => return Err(other),
            }
        }
        if let Some(paid) = &session.payment_id {
            outcome = "success".into();
            payment = ctx.store.payment(&merchant.id, paid).await?;
        }
    }
    let compat = ctx
        .store
        .compat_session(&session.id)
        .await?
        .unwrap_or_else(|| compat.clone());
    let Some(told) = ipn::for_return(ctx, &session, &compat, &outcome, payment).await? else {
        return Ok(gone(
            "This return link does not match the payment. Go back to the shop.",
        ));
    };
    let target = match told {
        ipn::Outcome::Valid { .. } => session.success_url.clone(),
        ipn::Outcome::Failed(_) | ipn::Outcome::Expired => session
            .fail_url
            .clone()
            .unwrap_or_else(|| session.cancel_url.clone()),
        ipn::Outcome::Cancelled | ipn::Outcome::Unattempted => session.cancel_url.clone(),
    };
    let Some(fields) = ipn::notice(ctx, &session, &compat, &told).await? else {
        return Ok(gone(
            "The shop's payment settings changed; go back to the shop.",
        ));
    };
    Ok(form_post(merchant, &target, &fields))
}

/// A page that POSTs `fields` to `action` as soon as it loads.
fn form_post(merchant: &Merchant, action: &str, fields: &[(String, String)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    let name = escape(&merchant.name);
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Back to {name}</title></head><body><form id="kasse-return" method="post" action="{}">{inputs}<p>Taking you back to {name}…</p><button type="submit">Continue</button></form><script>{SUBMIT}</script></body></html>"#,
        escape(action)
    );
    let origins: Vec<&str> = merchant.origins.iter().map(|o| o.as_str()).collect();
    let csp = format!(
        "default-src 'none'; script-src {}; form-action {}; base-uri 'none'; frame-ancestors 'none'",
        crate::built::csp_source(SUBMIT),
        origins.join(" ")
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

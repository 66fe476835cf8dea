//! SSLCOMMERZ's validator paths (SSLCOMMERZ.md §3, §4): validation by
//! `val_id`, and the transaction API's four operations on one URL (queries
//! by session key and by `tran_id`, refund, refund status). HTTP 200 with
//! JSON whatever happens, every documented field present.

use axum::Json;
use axum::extract::State;
use kasse_core::PaymentStatus;
use kasse_core::SessionStatus;
use kasse_core::api::ValidationStatus;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials;
use super::ipn;
use super::params::{Params, Unreadable};
use super::sslcommerz::{exact_amount, reason_of};
use crate::domain::{DomainError, payments};
use crate::state::AppState;
use crate::store::{CompatSession, Merchant, Payment, Refund, Session};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(validate, validate_post))
        .routes(routes!(transaction, transaction_post))
}

/// The transaction fields of §3, for `payment` (or all empty).
fn transaction_fields(
    payment: Option<&Payment>,
    session: Option<&Session>,
    compat: Option<&CompatSession>,
    val_id: &str,
    risky: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_string(), Value::String(v));
    };
    let value = |name: &str| {
        compat
            .and_then(|c| c.fields.get(name).cloned())
            .unwrap_or_default()
    };
    let tran_id = payment
        .and_then(|p| p.order_reference.clone())
        .or_else(|| session.and_then(|s| s.order_reference.clone()))
        .unwrap_or_default();
    put("tran_id", tran_id);
    put("val_id", val_id.to_string());
    let (amount, currency) = match (payment, session) {
        (Some(p), _) => (
            ipn::decimal(p.amount, p.currency),
            p.currency.code().to_string(),
        ),
        (None, Some(s)) => (
            ipn::decimal(s.amount, s.currency),
            s.currency.code().to_string(),
        ),
        _ => (String::new(), String::new()),
    };
    put("amount", amount.clone());
    put("store_amount", amount.clone());
    put("currency", currency.clone());
    put(
        "tran_date",
        payment
            .map(|p| p.created)
            .or(session.map(|s| s.created))
            .map(ipn::date)
            .unwrap_or_default(),
    );
    put(
        "bank_tran_id",
        payment.map(|p| p.id.clone()).unwrap_or_default(),
    );
    put("card_type", payment.map(ipn::card_type).unwrap_or_default());
    put("card_no", payment.map(ipn::masked_card).unwrap_or_default());
    put(
        "card_brand",
        payment
            .map(|p| ipn::brand_name(p.card_brand).to_string())
            .unwrap_or_default(),
    );
    for empty in [
        "card_issuer",
        "card_sub_brand",
        "card_issuer_country",
        "card_issuer_country_code",
        "card_category",
        "emi_description",
        "emi_issuer",
        "account_details",
        "discount_amount",
        "discount_percentage",
        "discount_remarks",
        "gw_version",
        "campaign_code",
        "token_key",
        "validated_on",
    ] {
        put(empty, String::new());
    }
    put(
        "card_ref_id",
        payment
            .map(|p| p.card_fingerprint.clone())
            .unwrap_or_default(),
    );
    put("currency_type", currency);
    put("currency_amount", amount);
    let some = payment.is_some() || session.is_some();
    put("currency_rate", if some { "1.0000" } else { "" }.into());
    put("base_fair", if some { "0.00" } else { "" }.into());
    for name in ipn::VALUE_FIELDS {
        put(name, value(name));
    }
    put("emi_instalment", if some { "0" } else { "" }.into());
    put("emi_amount", if some { "0.00" } else { "" }.into());
    let (level, title) = match (some, risky) {
        (false, _) => ("", ""),
        (true, false) => ("0", "Safe"),
        (true, true) => ("1", "Risky"),
    };
    put("risk_level", level.into());
    put("risk_title", title.into());
    if let Some(validated) = payment.and_then(|p| p.validated) {
        put("validated_on", ipn::date(validated));
    }
    out.insert("offer_avail".into(), 0.into());
    out.insert("isTokeizeSuccess".into(), 0.into());
    out
}

fn answer(api_connect: &str, status: &str, mut fields: Map<String, Value>) -> Json<Value> {
    fields.insert("APIConnect".into(), api_connect.into());
    fields.insert("status".into(), status.into());
    Json(Value::Object(fields))
}

/// The credential's merchant, or the answer for a caller without one.
async fn authorised(
    ctx: &AppState,
    params: &Params,
) -> Result<Merchant, (&'static str, Option<String>)> {
    match credentials::check(
        ctx,
        params.get_ci("store_id"),
        params.get_ci("store_passwd"),
    )
    .await
    {
        Ok(Some((_, merchant))) => Ok(merchant),
        Ok(None) => Err(("FAILED", None)),
        Err(e) => Err(("FAILED", Some(reason_of(e.into())))),
    }
}

/// SSLCOMMERZ: validate a payment
///
/// By `val_id`: `VALID` the first time, `VALIDATED` after, otherwise
/// `INVALID_TRANSACTION`. Always HTTP 200.
#[utoipa::path(
    get, path = "/validator/api/validationserverAPI.php", tag = "SSLCOMMERZ compatibility",
    params(
        ("val_id" = Option<String>, Query, description = "From the IPN or the success POST"),
        ("store_id" = Option<String>, Query, description = "The store's id"),
        ("store_passwd" = Option<String>, Query, description = "The store's API password"),
        ("format" = Option<String>, Query, description = "`json` (the only format)"),
        ("v" = Option<String>, Query, description = "Ignored"),
    ),
    responses((status = 200, description = "`VALID`, `VALIDATED` or `INVALID_TRANSACTION`", body = serde_json::Value)),
    security(())
)]
async fn validate(State(ctx): State<AppState>, params: Result<Params, Unreadable>) -> Json<Value> {
    let Ok(params) = params else {
        return answer("INVALID_REQUEST", "INVALID_TRANSACTION", empty_fields());
    };
    let merchant = match authorised(&ctx, &params).await {
        Ok(m) => m,
        Err((connect, _)) => return answer(connect, "INVALID_TRANSACTION", empty_fields()),
    };
    let Some(val_id) = params.get("val_id") else {
        return answer("INVALID_REQUEST", "INVALID_TRANSACTION", empty_fields());
    };
    match validated(&ctx, &merchant, val_id).await {
        Ok(Some((status, fields))) => answer("DONE", status, fields),
        Ok(None) => answer("DONE", "INVALID_TRANSACTION", empty_fields()),
        Err(e) => {
            reason_of(e);
            answer("FAILED", "INVALID_TRANSACTION", empty_fields())
        }
    }
}

/// SSLCOMMERZ: validate a payment (POST)
///
/// The Node SDK's form of the same call: parameters in the query string,
/// an empty body.
#[utoipa::path(
    post, path = "/validator/api/validationserverAPI.php", tag = "SSLCOMMERZ compatibility",
    params(
        ("val_id" = Option<String>, Query, description = "From the IPN or the success POST"),
        ("store_id" = Option<String>, Query, description = "The store's id"),
        ("store_passwd" = Option<String>, Query, description = "The store's API password"),
    ),
    responses((status = 200, description = "`VALID`, `VALIDATED` or `INVALID_TRANSACTION`", body = serde_json::Value)),
    security(())
)]
async fn validate_post(state: State<AppState>, params: Result<Params, Unreadable>) -> Json<Value> {
    validate(state, params).await
}

fn empty_fields() -> Map<String, Value> {
    transaction_fields(None, None, None, "", false)
}

/// A session's SSLCOMMERZ record and the session, if it has one.
async fn compat_of(
    ctx: &AppState,
    merchant_id: &str,
    session_id: Option<&str>,
) -> Result<(Option<Session>, Option<CompatSession>), DomainError> {
    let Some(id) = session_id else {
        return Ok((None, None));
    };
    Ok((
        ctx.store.session(merchant_id, id).await?,
        ctx.store.compat_session(id).await?,
    ))
}

async fn validated(
    ctx: &AppState,
    merchant: &Merchant,
    val_id: &str,
) -> Result<Option<(&'static str, Map<String, Value>)>, DomainError> {
    let Some(refs) = ctx.store.payment_refs_by_val_id(val_id).await? else {
        return Ok(None);
    };
    if refs.merchant_id != merchant.id {
        return Ok(None);
    }
    let verdict = payments::validate(ctx, &merchant.id, &refs.payment_id).await?;
    let status = match verdict.status {
        ValidationStatus::Valid => "VALID",
        ValidationStatus::Validated => "VALIDATED",
        ValidationStatus::Invalid => return Ok(None),
    };
    let payment = payments::find(ctx, &merchant.id, &refs.payment_id).await?;
    let (session, compat) = compat_of(ctx, &merchant.id, payment.session_id.as_deref()).await?;
    let risky = payments::risky(ctx, &payment).await?;
    let fields = transaction_fields(
        Some(&payment),
        session.as_ref(),
        compat.as_ref(),
        &refs.val_id,
        risky,
    );
    Ok(Some((status, fields)))
}

/// SSLCOMMERZ: transaction queries and refunds
///
/// One URL, four operations, chosen by the parameters present:
/// `refund_ref_id` (refund status), `bank_tran_id` with `refund_amount`
/// (refund), `sessionkey` (query by session), `tran_id` (query by the
/// merchant's transaction id). Always HTTP 200.
#[utoipa::path(
    get, path = "/validator/api/merchantTransIDvalidationAPI.php", tag = "SSLCOMMERZ compatibility",
    params(
        ("store_id" = Option<String>, Query, description = "The store's id"),
        ("store_passwd" = Option<String>, Query, description = "The store's API password"),
        ("refund_ref_id" = Option<String>, Query, description = "Refund status"),
        ("bank_tran_id" = Option<String>, Query, description = "Refund: the payment"),
        ("refund_amount" = Option<String>, Query, description = "Refund: a decimal amount"),
        ("refund_remarks" = Option<String>, Query, description = "Refund: why"),
        ("refund_trans_id" = Option<String>, Query, description = "Refund: your key for it; a repeat returns the first refund"),
        ("sessionkey" = Option<String>, Query, description = "Query by session"),
        ("tran_id" = Option<String>, Query, description = "Query by your transaction id"),
    ),
    responses((status = 200, description = "The operation's answer", body = serde_json::Value)),
    security(())
)]
async fn transaction(
    State(ctx): State<AppState>,
    params: Result<Params, Unreadable>,
) -> Json<Value> {
    let Ok(params) = params else {
        return Json(json!({"APIConnect": "INVALID_REQUEST"}));
    };
    let merchant = match authorised(&ctx, &params).await {
        Ok(m) => m,
        Err((connect, _)) => {
            return Json(if params.has("tran_id") && !params.has("sessionkey") {
                json!({"APIConnect": connect, "no_of_trans_found": 0, "element": []})
            } else {
                json!({"APIConnect": connect, "status": "", "errorReason": ""})
            });
        }
    };
    let answered = if let Some(id) = params.get("refund_ref_id") {
        refund_status(&ctx, &merchant, id).await
    } else if let Some(payment_id) = params.get("bank_tran_id") {
        refund(&ctx, &merchant, payment_id, &params).await
    } else if let Some(key) = params.get("sessionkey") {
        by_session(&ctx, &merchant, key).await
    } else if let Some(tran_id) = params.get("tran_id") {
        by_tran_id(&ctx, &merchant, tran_id).await
    } else {
        Ok(Json(json!({"APIConnect": "INVALID_REQUEST"})))
    };
    answered.unwrap_or_else(|e| {
        Json(json!({"APIConnect": "FAILED", "status": "", "errorReason": reason_of(e)}))
    })
}

/// SSLCOMMERZ: transaction queries and refunds (POST)
///
/// The Node SDK's form of the same calls: parameters in the query string.
#[utoipa::path(
    post, path = "/validator/api/merchantTransIDvalidationAPI.php", tag = "SSLCOMMERZ compatibility",
    params(
        ("store_id" = Option<String>, Query, description = "The store's id"),
        ("store_passwd" = Option<String>, Query, description = "The store's API password"),
    ),
    responses((status = 200, description = "The operation's answer", body = serde_json::Value)),
    security(())
)]
async fn transaction_post(
    state: State<AppState>,
    params: Result<Params, Unreadable>,
) -> Json<Value> {
    transaction(state, params).await
}

/// A payment's status as the transaction API names it.
fn payment_status(payment: &Payment) -> &'static str {
    match payment.status {
        PaymentStatus::Succeeded
        | PaymentStatus::PartiallyRefunded
        | PaymentStatus::RequiresCapture => {
            if payment.validated.is_some() {
                "VALIDATED"
            } else {
                "VALID"
            }
        }
        PaymentStatus::Refunded => "REFUNDED",
        PaymentStatus::Failed => "FAILED",
        PaymentStatus::Canceled => "CANCELLED",
        _ => "PENDING",
    }
}

async fn by_session(
    ctx: &AppState,
    merchant: &Merchant,
    key: &str,
) -> Result<Json<Value>, DomainError> {
    let compat = ctx
        .store
        .compat_session_by_token(key)
        .await?
        .filter(|c| c.merchant_id == merchant.id);
    let session = match &compat {
        Some(c) => ctx.store.session(&merchant.id, &c.session_id).await?,
        None => None,
    };
    let (Some(compat), Some(session)) = (compat, session) else {
        let mut fields = empty_fields();
        fields.insert("sessionkey".into(), key.into());
        return Ok(answer("DONE", "INVALID", fields));
    };
    let attempts = ctx.store.session_payments(&session.id).await?;
    let paid = session
        .payment_id
        .as_deref()
        .and_then(|id| attempts.iter().find(|p| p.id == id));
    let shown = paid.or(attempts.first());
    let status = match (paid, session.status_at(ctx.clock.now())) {
        (Some(payment), _) => payment_status(payment),
        (None, SessionStatus::Expired) if compat.canceled.is_some() => "CANCELLED",
        (None, SessionStatus::Expired) => "EXPIRED",
        (None, _) if shown.is_some_and(|p| p.status == PaymentStatus::Failed) => "FAILED",
        (None, _) => "PENDING",
    };
    let (val_id, risky) = match paid {
        Some(payment) => (
            ipn::refs(ctx, payment).await?.val_id,
            payments::risky(ctx, payment).await?,
        ),
        None => (String::new(), false),
    };
    let mut fields = transaction_fields(shown, Some(&session), Some(&compat), &val_id, risky);
    fields.insert("sessionkey".into(), compat.token.clone().into());
    Ok(answer("DONE", status, fields))
}

async fn by_tran_id(
    ctx: &AppState,
    merchant: &Merchant,
    tran_id: &str,
) -> Result<Json<Value>, DomainError> {
    let mut found = ctx
        .store
        .payments_for_reference(&merchant.id, tran_id)
        .await?;
    if found.is_empty() {
        return Ok(Json(json!({
            "APIConnect": "DONE",
            "no_of_trans_found": 0,
            "element": [{"tran_id": tran_id, "status": "INVALID"}],
        })));
    }
    // The successful attempt first, then the rest newest first.
    found.sort_by_key(|p| !matches!(payment_status(p), "VALID" | "VALIDATED"));
    let mut elements = Vec::with_capacity(found.len());
    for payment in &found {
        let (session, compat) = compat_of(ctx, &merchant.id, payment.session_id.as_deref()).await?;
        let status = payment_status(payment);
        let paid = matches!(status, "VALID" | "VALIDATED" | "REFUNDED");
        let val_id = if paid {
            ipn::refs(ctx, payment).await?.val_id
        } else {
            String::new()
        };
        let risky = paid && payments::risky(ctx, payment).await?;
        let mut fields = transaction_fields(
            Some(payment),
            session.as_ref(),
            compat.as_ref(),
            &val_id,
            risky,
        );
        fields.insert("status".into(), status.into());
        fields.insert(
            "sessionkey".into(),
            compat.map(|c| c.token).unwrap_or_default().into(),
        );
        fields.insert("bank_gw".into(), ipn::gateway(payment.card_brand).into());
        fields.insert(
            "error".into(),
            payment
                .decline_code
                .map(ipn::decline_text)
                .unwrap_or_default()
                .into(),
        );
        elements.push(Value::Object(fields));
    }
    Ok(Json(json!({
        "APIConnect": "DONE",
        "no_of_trans_found": elements.len(),
        "element": elements,
    })))
}

fn refund_failed(payment_id: &str, tran_id: &str, reason: String) -> Json<Value> {
    Json(json!({
        "APIConnect": "DONE",
        "bank_tran_id": payment_id,
        "trans_id": tran_id,
        "refund_ref_id": "",
        "status": "failed",
        "errorReason": reason,
    }))
}

async fn refund(
    ctx: &AppState,
    merchant: &Merchant,
    payment_id: &str,
    params: &Params,
) -> Result<Json<Value>, DomainError> {
    let Some(payment) = ctx.store.payment(&merchant.id, payment_id).await? else {
        return Ok(refund_failed(
            payment_id,
            "",
            format!("No such transaction: bank_tran_id '{payment_id}'."),
        ));
    };
    let tran_id = payment.order_reference.clone().unwrap_or_default();
    let Some(text) = params.get("refund_amount") else {
        return Ok(refund_failed(
            payment_id,
            &tran_id,
            "refund_amount is required.".into(),
        ));
    };
    let amount = match exact_amount("refund_amount", text, payment.currency) {
        Ok(amount) => amount,
        Err(reason) => return Ok(refund_failed(payment_id, &tran_id, reason)),
    };
    let remarks = params.get("refund_remarks").map(str::to_string);
    let key = params.get("refund_trans_id").filter(|k| *k != "undefined");
    let fresh = crate::ids::new_id("re");
    let refund_id = match key {
        Some(key) => {
            let claimed = ctx
                .store
                .claim_compat_refund(&merchant.id, key, &fresh)
                .await?;
            if claimed != fresh {
                // A repeat: the first refund's answer.
                if let Some(first) = ctx.store.refund(&merchant.id, &claimed).await? {
                    return Ok(refund_done(&first, &tran_id));
                }
            }
            claimed
        }
        None => fresh,
    };
    match payments::refund_as(
        ctx,
        &merchant.id,
        payment_id,
        Some(amount),
        remarks,
        &refund_id,
    )
    .await
    {
        Ok(made) => Ok(refund_done(&made, &tran_id)),
        Err(DomainError::Store(e)) => Err(DomainError::Store(e)),
        Err(refused) => {
            if let Some(key) = key {
                ctx.store
                    .release_compat_refund(&merchant.id, key, &refund_id)
                    .await?;
            }
            Ok(refund_failed(payment_id, &tran_id, refused.to_string()))
        }
    }
}

fn refund_done(refund: &Refund, tran_id: &str) -> Json<Value> {
    Json(json!({
        "APIConnect": "DONE",
        "bank_tran_id": refund.payment_id,
        "trans_id": tran_id,
        "refund_ref_id": refund.id,
        "status": "success",
        "errorReason": "",
    }))
}

async fn refund_status(
    ctx: &AppState,
    merchant: &Merchant,
    id: &str,
) -> Result<Json<Value>, DomainError> {
    let Some(refund) = ctx.store.refund(&merchant.id, id).await? else {
        return Ok(Json(json!({
            "APIConnect": "DONE", "bank_tran_id": "", "tran_id": "", "refund_ref_id": id,
            "initiated_on": "", "refunded_on": "", "status": "failed",
            "errorReason": format!("No such refund: refund_ref_id '{id}'."),
        })));
    };
    let tran_id = ctx
        .store
        .payment(&merchant.id, &refund.payment_id)
        .await?
        .and_then(|p| p.order_reference)
        .unwrap_or_default();
    use kasse_core::api::RefundStatus;
    let (status, refunded_on, reason) = match refund.status {
        RefundStatus::Pending => ("processing", String::new(), ""),
        RefundStatus::Succeeded => ("refunded", ipn::date(refund.created), ""),
        RefundStatus::Failed => ("cancelled", String::new(), "The refund failed."),
    };
    Ok(Json(json!({
        "APIConnect": "DONE",
        "bank_tran_id": refund.payment_id,
        "tran_id": tran_id,
        "refund_ref_id": refund.id,
        "initiated_on": ipn::date(refund.created),
        "refunded_on": refunded_on,
        "status": status,
        "errorReason": reason,
    })))
}

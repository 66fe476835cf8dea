//! The SSLCOMMERZ v4 API on its original paths (SSLCOMMERZ.md): session
//! initiation, the payment page's URL, validation, and the four operations
//! of the transaction API. Every answer is HTTP 200 with JSON, every
//! documented field present, values as strings; what went wrong is in the
//! body, as the official clients expect.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use kasse_core::api::{CaptureMethod, CreateCheckoutSession, ValidationStatus};
use kasse_core::{CardBrand, Currency, Money, PaymentStatus, SessionStatus};
use rand::Rng;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials;
use super::ipn;
use super::params::{Params, Unreadable};
use crate::domain::{DomainError, payments, sessions};
use crate::state::AppState;
use crate::store::{CardRules, CompatSession, Merchant, Payment, Refund, Session, Surface};

/// The text the PHP and Laravel libraries look for.
pub const CREDENTIAL_ERROR: &str = "Store Credential Error Or Store is De-active";

/// The longest `tran_id` taken (UUIDs occur in live traffic).
const MAX_TRAN_ID: usize = 64;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(init))
        .routes(routes!(init_v3))
        .routes(routes!(validate, validate_post))
        .routes(routes!(transaction, transaction_post))
}

/// The page a `GatewayPageURL` names: GET (the SDKs redirect) and POST
/// (WooCommerce's hosted mode submits an empty form to it); and Easy
/// Checkout's loader.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/sslcommerz/pay/{sessionkey}", get(page).post(page))
        .route("/embed.min.js", get(embed_js))
}

/// Easy Checkout's loader: checkout.js's popup, then the adapter that binds
/// SSLCOMMERZ's `#sslczPayBtn` to it (SSLCOMMERZ.md §9).
pub static EMBED_JS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\n{}",
        crate::http::CHECKOUT_JS,
        include_str!("../../assets/embed.js")
    )
});

async fn embed_js() -> Response {
    crate::http::loader_script(EMBED_JS.as_str())
}

/// A refusal's words for the caller; a store failure is logged and worded
/// as Kasse's, never as the caller's fault.
fn reason_of(error: DomainError) -> String {
    match error {
        DomainError::Store(e) => {
            tracing::error!(error = %e, "SSLCOMMERZ surface: store error");
            "Kasse could not complete the request just now; try again.".into()
        }
        other => other.to_string(),
    }
}

// ---- Session initiation --------------------------------------------------

/// The answer to `api.php`, every field present.
fn init_answer(
    failed: Option<String>,
    created: Option<(&CompatSession, &Merchant, String)>,
) -> Json<Value> {
    let mut out = json!({
        "status": "FAILED",
        "failedreason": failed.unwrap_or_default(),
        "sessionkey": "",
        "gw": {"visa": "", "master": "", "amex": "", "othercards": "", "internetbanking": "", "mobilebanking": ""},
        "redirectGatewayURL": "",
        "directPaymentURLBank": "",
        "directPaymentURLCard": "",
        "directPaymentURL": "",
        "redirectGatewayURLFailed": "",
        "GatewayPageURL": "",
        "storeBanner": "",
        "storeLogo": "",
        "store_name": "",
        "desc": [],
        "is_direct_pay_enable": "0",
    });
    if let Some((compat, merchant, page)) = created {
        let logo = merchant.appearance.logo_url.clone().unwrap_or_default();
        out["status"] = "SUCCESS".into();
        out["sessionkey"] = compat.token.clone().into();
        out["GatewayPageURL"] = page.clone().into();
        out["storeBanner"] = logo.clone().into();
        out["storeLogo"] = logo.into();
        out["store_name"] = merchant.name.clone().into();
        out["gw"] = json!({
            "visa": "visacard", "master": "mastercard", "amex": "amexcard",
            "othercards": "othercards", "internetbanking": "", "mobilebanking": "",
        });
        let desc: Vec<Value> = [
            ("VISA", "visa", "visacard"),
            ("MASTER", "master", "mastercard"),
            ("AMEX", "amex", "amexcard"),
        ]
        .iter()
        .map(|(name, kind, gw)| {
            json!({"name": name, "type": kind, "logo": "", "gw": gw, "r_flag": "1",
                   "redirectGatewayURL": format!("{page}?gw={gw}")})
        })
        .collect();
        out["desc"] = desc.into();
    }
    Json(out)
}

/// The form of `api.php` (form-urlencoded or multipart): what Kasse reads of
/// it. Every other documented field is accepted and kept or ignored.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct InitForm {
    store_id: String,
    store_passwd: String,
    /// A decimal amount: `100`, `100.2`, `100.26`.
    total_amount: String,
    /// ISO 4217.
    currency: String,
    /// The merchant's transaction id (up to 64 characters).
    tran_id: String,
    success_url: String,
    fail_url: String,
    cancel_url: String,
    ipn_url: Option<String>,
    cus_name: Option<String>,
    cus_email: Option<String>,
    product_name: Option<String>,
    value_a: Option<String>,
    value_b: Option<String>,
    value_c: Option<String>,
    value_d: Option<String>,
}

/// SSLCOMMERZ: create a session
///
/// Creates a checkout session from SSLCOMMERZ's fields. Always HTTP 200:
/// `status` is `SUCCESS` with `GatewayPageURL`, or `FAILED` with
/// `failedreason`.
#[utoipa::path(
    post, path = "/gwprocess/v4/api.php", tag = "SSLCOMMERZ compatibility",
    request_body(content = InitForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`SUCCESS` or `FAILED`", body = serde_json::Value)),
    security(())
)]
async fn init(State(ctx): State<AppState>, params: Result<Params, Unreadable>) -> Json<Value> {
    match params {
        Ok(params) => match create(&ctx, &params).await {
            Ok(done) => done,
            Err(reason) => init_answer(Some(reason), None),
        },
        Err(Unreadable(reason)) => init_answer(Some(reason), None),
    }
}

/// SSLCOMMERZ: create a session (v3 path)
///
/// The path the .NET SDK calls; the same as `/gwprocess/v4/api.php`.
#[utoipa::path(
    post, path = "/gwprocess/v3/api.php", tag = "SSLCOMMERZ compatibility",
    request_body(content = InitForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`SUCCESS` or `FAILED`", body = serde_json::Value)),
    security(())
)]
async fn init_v3(state: State<AppState>, params: Result<Params, Unreadable>) -> Json<Value> {
    init(state, params).await
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, String> {
    params
        .get(name)
        .ok_or_else(|| format!("{name} is required."))
}

/// An amount in exactly the currency's minor units; never through floats.
pub fn exact_amount(param: &str, text: &str, currency: Currency) -> Result<i64, String> {
    let money = Money::parse_decimal(text, currency)
        .map_err(|e| format!("{param} '{text}' is not an amount in {currency}: {e}."))?;
    if money.amount() <= 0 {
        return Err(format!("{param} must be more than zero; got '{text}'."));
    }
    Ok(money.amount())
}

async fn create(ctx: &AppState, params: &Params) -> Result<Json<Value>, String> {
    let Some((credential, merchant)) = credentials::check(
        ctx,
        params.get_ci("store_id"),
        params.get_ci("store_passwd"),
    )
    .await
    .map_err(|e| reason_of(e.into()))?
    else {
        return Err(CREDENTIAL_ERROR.into());
    };
    let currency_code = required(params, "currency")?;
    let currency = Currency::parse(currency_code)
        .map_err(|e| format!("currency '{currency_code}' cannot be charged: {e}."))?;
    let amount = exact_amount("total_amount", required(params, "total_amount")?, currency)?;
    let tran_id = required(params, "tran_id")?;
    if tran_id.chars().count() > MAX_TRAN_ID {
        return Err(format!("tran_id must be at most {MAX_TRAN_ID} characters."));
    }
    for name in ["success_url", "fail_url", "cancel_url"] {
        required(params, name)?;
    }
    // A tran_id that was paid is done; one that failed may be tried again.
    let paid = ctx
        .store
        .payments_for_reference(&merchant.id, tran_id)
        .await
        .map_err(|e| reason_of(e.into()))?
        .iter()
        .any(|p| p.status != PaymentStatus::Failed && p.status != PaymentStatus::RequiresAction);
    if paid {
        return Err(format!(
            "tran_id '{tran_id}' already has a successful payment; use a new tran_id."
        ));
    }
    let mut fields = BTreeMap::new();
    for (name, value) in ipn::VALUE_FIELDS
        .iter()
        .filter_map(|name| params.raw(name).map(|v| (*name, v)))
    {
        if value.chars().count() > 255 {
            return Err(format!("{name} must be at most 255 characters."));
        }
        fields.insert(name.to_string(), value.to_string());
    }
    for name in [
        "cus_add1",
        "cus_add2",
        "cus_city",
        "cus_state",
        "cus_postcode",
        "cus_country",
        "cus_phone",
        "cus_fax",
        "product_name",
        "product_category",
        "product_profile",
        "shipping_method",
        "num_of_item",
        "ship_name",
        "ship_add1",
        "ship_add2",
        "ship_area",
        "ship_city",
        "ship_sub_city",
        "ship_state",
        "ship_postcode",
        "ship_country",
        "cart",
        "multi_card_name",
        "allowed_bin",
    ] {
        if let Some(value) = params.get(name) {
            fields.insert(name.to_string(), value.chars().take(2000).collect());
        }
    }
    // The customer's email only when it is one: SSLCOMMERZ's own examples
    // send placeholders, which would refuse the whole session.
    let email = params.get("cus_email").filter(|e| {
        e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !e.contains(char::is_whitespace)
    });
    if let Some(email) = params.get("cus_email") {
        fields.insert("cus_email".into(), email.to_string());
    }
    let metadata: BTreeMap<String, String> = fields
        .iter()
        .filter(|(k, v)| ipn::VALUE_FIELDS.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let request = CreateCheckoutSession {
        amount,
        currency: currency.code().to_string(),
        success_url: required(params, "success_url")?.to_string(),
        cancel_url: required(params, "cancel_url")?.to_string(),
        fail_url: Some(required(params, "fail_url")?.to_string()),
        order_reference: Some(tran_id.to_string()),
        customer_name: params
            .get("cus_name")
            .map(|n| n.chars().take(200).collect()),
        customer_email: email.map(str::to_string),
        metadata: Some(metadata),
        capture_method: Some(CaptureMethod::Automatic),
        notification_url: params.get("ipn_url").map(str::to_string),
        ..Default::default()
    };
    let card_rules = card_rules(params)?;
    let session = Session {
        card_rules,
        ..sessions::prepare(ctx, &merchant, request, Surface::Sslcommerz)
            .await
            .map_err(reason_of)?
    };
    let compat = CompatSession {
        session_id: session.id.clone(),
        merchant_id: merchant.id.clone(),
        token: session_key(),
        store_id: Some(credential.store_id.clone()),
        fields,
        canceled: None,
        created: session.created,
    };
    ctx.store
        .insert_compat_session(&compat, &session)
        .await
        .map_err(|e| reason_of(e.into()))?;
    tracing::info!(session = %session.id, merchant = %merchant.id, "SSLCOMMERZ session created");
    let page = ctx
        .public_url
        .join(&format!("sslcommerz/pay/{}", compat.token))
        .expect("hex is URL-safe")
        .to_string();
    Ok(init_answer(None, Some((&compat, &merchant, page))))
}

/// The card brand an SSLCOMMERZ gateway name stands for: `visacard`,
/// `mastercard`, `amexcard`, and bank cards such as `brac_visa`,
/// `dbbl_master`, `city_amex`. Other methods (`bkash`, `internetbank`, …)
/// Kasse does not offer: `None`.
fn brand_of_gateway(name: &str) -> Option<CardBrand> {
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "visacard" => Some(CardBrand::Visa),
        "mastercard" => Some(CardBrand::Mastercard),
        "amexcard" => Some(CardBrand::Amex),
        _ if name.ends_with("_visa") => Some(CardBrand::Visa),
        _ if name.ends_with("_master") || name.ends_with("_mastercard") => {
            Some(CardBrand::Mastercard)
        }
        _ if name.ends_with("_amex") => Some(CardBrand::Amex),
        _ => None,
    }
}

/// The cards `multi_card_name` and `allowed_bin` narrow the session to.
fn card_rules(params: &Params) -> Result<Option<CardRules>, String> {
    let mut brands: Vec<CardBrand> = Vec::new();
    for brand in params
        .get("multi_card_name")
        .unwrap_or("")
        .split(',')
        .filter_map(brand_of_gateway)
    {
        if !brands.contains(&brand) {
            brands.push(brand);
        }
    }
    let mut bins = Vec::new();
    for bin in params
        .get("allowed_bin")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        if !(1..=8).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "allowed_bin must list card number prefixes (up to 8 digits each), separated by commas; got '{bin}'."
            ));
        }
        bins.push(bin.to_string());
    }
    Ok((!brands.is_empty() || !bins.is_empty()).then_some(CardRules { brands, bins }))
}

/// 32 upper-case hex characters, as SSLCOMMERZ's session keys are.
fn session_key() -> String {
    let bytes: [u8; 16] = rand::rngs::OsRng.r#gen();
    hex::encode_upper(bytes)
}

#[derive(Debug, serde::Deserialize)]
struct Embedded {
    embed: Option<String>,
    origin: Option<String>,
}

/// `GatewayPageURL`: on to the session's hosted page, client secret in the
/// fragment, keeping the popup's `embed` and `origin` (Easy Checkout).
async fn page(
    State(ctx): State<AppState>,
    Path(key): Path<String>,
    Query(embedded): Query<Embedded>,
) -> Response {
    match (embedded.embed, embedded.origin) {
        // The page itself checks the origin against the merchant's.
        (Some(embed), Some(origin)) => {
            super::to_hosted_page(&ctx, &key, &[("embed", &embed), ("origin", &origin)]).await
        }
        _ => super::to_hosted_page(&ctx, &key, &[]).await,
    }
}

// ---- Validation and the transaction API -----------------------------------

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

//! The SSLCOMMERZ v4 API on its original paths (SSLCOMMERZ.md): session
//! initiation, the payment page's URL and Easy Checkout's loader; the
//! validator paths are in [`super::validator`]. Every answer is HTTP 200
//! with JSON, every documented field present, values as strings; what went
//! wrong is in the body, as the official clients expect.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use kasse_core::api::{CaptureMethod, CreateCheckoutSession};
use kasse_core::{CardBrand, Currency, Money, PaymentStatus};
use rand::Rng;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials;
use super::ipn;
use super::params::{Params, Unreadable};
use crate::domain::{DomainError, sessions};
use crate::state::AppState;
use crate::store::{CardRules, CompatSession, Merchant, Session, Surface};

/// The text the PHP and Laravel libraries look for.
pub const CREDENTIAL_ERROR: &str = "Store Credential Error Or Store is De-active";

/// The longest `tran_id` taken (UUIDs occur in live traffic).
const MAX_TRAN_ID: usize = 64;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(init))
        .routes(routes!(init_v3))
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
pub(super) fn reason_of(error: DomainError) -> String {
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
    let compat = super::keep_session(
        ctx,
        &session,
        session_key(),
        Some(credential.store_id.clone()),
        fields,
    )
    .await
    .map_err(|e| reason_of(e.into()))?;
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

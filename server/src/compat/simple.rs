//! The simple checkout API (SIMPLE-CHECKOUT.md): `POST /api/v1/checkout`
//! answers a `payment_url`; the customer pays on Kasse's page and comes back
//! to `success_url?transaction_id=…`. Authenticated by the merchant's
//! secret key; `client_base_url` must be the Base URL the merchant
//! registered. Answers `{"status": "success", …}` or
//! `{"status": "error", "message": …}`.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kasse_core::api::{CaptureMethod, CreateCheckoutSession};
use kasse_core::{Currency, Money};
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ipn;
use crate::domain::{DomainError, payments, sessions};
use crate::http::{ApiError, IdempotencyKey, MerchantAuth};
use crate::state::AppState;
use crate::store::{Merchant, Surface};

/// The shape's own words for a Base URL that does not match, Bangla included.
pub const DOMAIN_MISMATCH: &str = "Domain mismatch. দুঃখিত, সংযোগ স্থাপন করা যায়নি।";

/// The currency when the call names none: the shape has no currency, and
/// the merchants it serves charge in taka.
pub const DEFAULT_CURRENCY: &str = "BDT";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkout))
        .routes(routes!(transaction))
}

/// `payment_url`: on to the session's hosted page.
pub fn pages() -> Router<AppState> {
    Router::new().route("/checkout", get(page))
}

/// `POST /api/v1/checkout`, as JSON or form-urlencoded.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct SimpleCheckout {
    /// The total, a number or a decimal string, read exactly: `150.50`.
    #[schema(value_type = f64, example = 150.5)]
    amount: serde_json::Value,
    /// Must equal the Base URL registered for the merchant.
    client_base_url: String,
    customer_name: Option<String>,
    customer_email: Option<String>,
    success_url: String,
    cancel_url: String,
    /// A JSON string (or object) kept verbatim; an `order_id` in it becomes
    /// the payment's order reference.
    #[schema(value_type = Option<String>)]
    meta_data: Option<serde_json::Value>,
    /// ISO 4217; `BDT` when absent.
    currency: Option<String>,
}

/// Both answers of the surface.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimpleAnswer {
    /// `success` or `error`.
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// What a refused call answers: the surface's own shape, or, when Kasse's
/// `Idempotency-Key` handling refuses it before the surface sees it (a key
/// reused with another body, or a bad key beside it), Kasse's error body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum SimpleRefusal {
    Simple(SimpleAnswer),
    Kasse(kasse_core::api::ErrorBody),
}

/// An error answer: its status and message.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(SimpleAnswer {
                status: "error".into(),
                payment_url: None,
                message: Some(self.1),
            }),
        )
            .into_response()
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal(status, message.into())
}

fn refused(e: DomainError) -> Refusal {
    match e {
        DomainError::Store(e) => {
            tracing::error!(error = %e, "simple checkout: store error");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Kasse could not complete the request just now; try again.",
            )
        }
        other => error(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}

fn unauthorized(e: ApiError) -> Response {
    match e {
        ApiError::Unauthorized(_) => {
            error(StatusCode::UNAUTHORIZED, "Invalid API key.").into_response()
        }
        other => other.into_response(),
    }
}

/// The body's fields as text: JSON values by their literal text (numbers
/// exactly as written, strings unquoted, objects as sent), or form fields.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, String> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Ok(url::form_urlencoded::parse(body)
            .into_owned()
            .filter(|(_, v)| !v.is_empty())
            .collect());
    }
    let raw: HashMap<String, Box<RawValue>> =
        serde_json::from_slice(body).map_err(|e| format!("The body is not a JSON object: {e}."))?;
    Ok(raw
        .into_iter()
        .filter_map(|(name, value)| {
            let text = value.get();
            let text = match serde_json::from_str::<String>(text) {
                Ok(s) => s,
                Err(_) if text == "null" => return None,
                Err(_) => text.to_string(),
            };
            (!text.is_empty()).then_some((name, text))
        })
        .collect())
}

/// Simple checkout: start a payment
///
/// Answers the `payment_url` to send the customer to. Authenticated with
/// `Authorization: Bearer sk_…`; `client_base_url` must equal the Base URL
/// registered for the merchant (`kasse merchant client-base-url`).
#[utoipa::path(
    post, path = "/api/v1/checkout", tag = "Simple checkout compatibility",
    params(IdempotencyKey),
    request_body(content = SimpleCheckout, content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"status\":\"success\",\"payment_url\":…}`", body = SimpleAnswer),
        (status = 401, description = "Missing or invalid key", body = SimpleRefusal),
        (status = 403, description = "`client_base_url` is not the registered Base URL", body = SimpleRefusal),
        (status = 422, description = "A missing or invalid field, named; or an `Idempotency-Key` used with another request", body = SimpleRefusal),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn checkout(
    State(ctx): State<AppState>,
    auth: Result<MerchantAuth, ApiError>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let merchant = match auth {
        Ok(MerchantAuth(merchant)) => merchant,
        Err(e) => return unauthorized(e),
    };
    let fields = match fields(&headers, &body) {
        Ok(fields) => fields,
        Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
    };
    match start(&ctx, &merchant, &fields).await {
        Ok(url) => Json(SimpleAnswer {
            status: "success".into(),
            payment_url: Some(url),
            message: None,
        })
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn start(
    ctx: &AppState,
    merchant: &Merchant,
    fields: &HashMap<String, String>,
) -> Result<String, Refusal> {
    let get = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let required = |name: &str| {
        get(name).ok_or_else(|| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{name} is required."),
            )
        })
    };
    let base_url = required("client_base_url")?;
    let registered = ctx
        .store
        .client_base_url(&merchant.id)
        .await
        .map_err(|e| refused(e.into()))?;
    match registered {
        None => {
            return Err(error(
                StatusCode::FORBIDDEN,
                "No Base URL is registered for this merchant; register it with `kasse merchant client-base-url`.",
            ));
        }
        Some(registered) if registered != base_url => {
            return Err(error(StatusCode::FORBIDDEN, DOMAIN_MISMATCH));
        }
        Some(_) => {}
    }
    let code = get("currency").unwrap_or(DEFAULT_CURRENCY);
    let currency = Currency::parse(code).map_err(|e| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("currency '{code}' cannot be charged: {e}."),
        )
    })?;
    let amount_text = required("amount")?;
    let amount = Money::parse_decimal(amount_text, currency)
        .map_err(|e| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("amount '{amount_text}' is not an amount in {currency}: {e}."),
            )
        })?
        .amount();
    let success_url = required("success_url")?;
    let cancel_url = required("cancel_url")?;
    let meta_data = get("meta_data");
    let order_reference = meta_data
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|m| match &m["order_id"] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let metadata: BTreeMap<String, String> = meta_data
        .map(|m| ("meta_data".to_string(), m.to_string()))
        .into_iter()
        .collect();
    let request = CreateCheckoutSession {
        amount,
        currency: currency.code().to_string(),
        success_url: success_url.to_string(),
        cancel_url: cancel_url.to_string(),
        order_reference,
        customer_name: get("customer_name").map(str::to_string),
        customer_email: get("customer_email").map(str::to_string),
        metadata: Some(metadata),
        capture_method: Some(CaptureMethod::Automatic),
        ..Default::default()
    };
    let session = sessions::prepare(ctx, merchant, request, Surface::Simple)
        .await
        .map_err(refused)?;
    let token: String = rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let compat = super::keep_session(ctx, &session, token, None, BTreeMap::new())
        .await
        .map_err(|e| refused(e.into()))?;
    let mut url = ctx.public_url.join("checkout").expect("a path");
    url.query_pairs_mut().append_pair("trx_id", &compat.token);
    Ok(url.into())
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    trx_id: Option<String>,
}

/// `payment_url`: on to the session's hosted page.
async fn page(State(ctx): State<AppState>, Query(query): Query<PageQuery>) -> Response {
    super::to_hosted_page(&ctx, query.trx_id.as_deref().unwrap_or(""), &[]).await
}

/// A payment as the simple surface's lookup answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimpleTransaction {
    /// `success`.
    status: String,
    transaction_id: String,
    /// Kasse's payment id, `pay_…`.
    payment_id: String,
    /// Kasse's payment status: `succeeded`, `refunded`, …
    payment_status: String,
    /// A decimal string: `"150.50"`.
    amount: String,
    currency: String,
    /// As the checkout call sent it.
    meta_data: Option<String>,
    /// Unix seconds.
    created: i64,
}

/// Simple checkout: look up a payment
///
/// By the `transaction_id` the customer came back with: a merchant's server
/// confirms it before it marks the order paid.
#[utoipa::path(
    get, path = "/api/v1/transactions/{transaction_id}", tag = "Simple checkout compatibility",
    params(("transaction_id" = String, Path, description = "From the customer's return")),
    responses(
        (status = 200, description = "The payment", body = SimpleTransaction),
        (status = 401, description = "Missing or invalid key", body = SimpleAnswer),
        (status = 404, description = "No payment of yours has this transaction id", body = SimpleAnswer),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn transaction(
    State(ctx): State<AppState>,
    auth: Result<MerchantAuth, ApiError>,
    Path(transaction_id): Path<String>,
) -> Response {
    let merchant = match auth {
        Ok(MerchantAuth(merchant)) => merchant,
        Err(e) => return unauthorized(e),
    };
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            format!("No payment has transaction_id '{transaction_id}'."),
        )
    };
    let refs = match ctx.store.payment_refs_by_short_ref(&transaction_id).await {
        Ok(Some(refs)) if refs.merchant_id == merchant.id => refs,
        Ok(_) => return not_found().into_response(),
        Err(e) => return refused(e.into()).into_response(),
    };
    let payment = match payments::find(&ctx, &merchant.id, &refs.payment_id).await {
        Ok(payment) => payment,
        Err(e) => return refused(e).into_response(),
    };
    let meta_data = match &payment.session_id {
        Some(id) => ctx
            .store
            .session(&merchant.id, id)
            .await
            .ok()
            .flatten()
            .and_then(|s| s.metadata.get("meta_data").cloned()),
        None => None,
    };
    Json(SimpleTransaction {
        status: "success".into(),
        transaction_id: refs.short_ref,
        payment_id: payment.id,
        payment_status: payment.status.to_string(),
        amount: ipn::decimal(payment.amount, payment.currency),
        currency: payment.currency.code().to_string(),
        meta_data,
        created: payment.created,
    })
    .into_response()
}

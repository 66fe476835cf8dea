//! The demo shop served at `/` by `kasse serve --demo`: a merchant site that
//! uses Kasse as any merchant would — it creates the checkout session server
//! side with its secret key, sends the customer to the hosted page, and on
//! return checks the redirect's signature and asks the API for the truth.

use std::sync::Arc;

use axum::extract::{Query, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use kasse_core::api::{CheckoutSession, CreateCheckoutSession};
use kasse_core::money::format_amount;
use kasse_core::redirect::verify_url;
use kasse_core::{Currency, SessionStatus};
use serde::Deserialize;
use url::Url;

use crate::html::escape;
use crate::merchants::Credentials;

/// The demo merchant's fixed id, so restarts reuse it.
/// The demo merchant's admin, who logs in to the terminal.
pub const DEMO_STAFF_EMAIL: &str = "admin@demo.kasse.test";
pub const DEMO_MERCHANT_ID: &str = "mer_demo";
pub const DEMO_MERCHANT_NAME: &str = "Kasse Demo Coffee";

const PRODUCT: &str = "Single-origin coffee beans, 250 g";
const UNIT_PRICE: i64 = 1250;
const CURRENCY: &str = "USD";

#[derive(Clone)]
pub struct DemoShop {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    credentials: Credentials,
    http: reqwest::Client,
}

impl DemoShop {
    pub fn new(base: Url, credentials: Credentials) -> Self {
        Self {
            inner: Arc::new(Inner {
                base,
                credentials,
                http: reqwest::Client::new(),
            }),
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(shop))
            .route("/shop/checkout", post(checkout))
            .route("/shop/create-checkout", post(create_checkout))
            .route("/shop/success", get(success))
            .route("/shop/cancel", get(cancel))
            .with_state(self)
    }

    fn url(&self, path: &str) -> String {
        self.inner.base.join(path).expect("static paths").into()
    }

    async fn api_session(&self, id: &str) -> Result<CheckoutSession, String> {
        let response = self
            .inner
            .http
            .get(self.url(&format!("v1/checkout/sessions/{id}")))
            .bearer_auth(&self.inner.credentials.secret_key)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(response.text().await.unwrap_or_default());
        }
        response.json().await.map_err(|e| e.to_string())
    }
}

fn price(amount: i64) -> String {
    format_amount(amount, Currency::parse(CURRENCY).expect("USD exists"))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {DEMO_MERCHANT_NAME}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f3ee; color: #2b2118; margin: 0; }}
main {{ max-width: 34rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; }}
h1 {{ margin-top: 0; font-size: 1.5rem; }} .price {{ font-size: 1.25rem; font-weight: 600; }}
button {{ margin: 0 .5rem .5rem 0; background: #5b3a1e; color: #fff; border: 0; padding: .8rem 1.4rem; border-radius: 8px; font-size: 1rem; cursor: pointer; }}
label {{ display: block; margin: 1rem 0; }} select {{ font-size: 1rem; padding: .3rem; }}
.ok {{ color: #1b6e3a; }} .bad {{ color: #a4161a; }} code {{ word-break: break-all; }}
</style></head>
<body><main>{body}</main></body></html>"#
    ))
}

async fn shop() -> Html<String> {
    let options: String = (1..=5)
        .map(|n| format!(r#"<option value="{n}">{n}</option>"#))
        .collect();
    page(
        "Shop",
        &format!(
            r#"<h1>{DEMO_MERCHANT_NAME}</h1>
<p>{PRODUCT}. Roasted on Monday, at your door by Friday.</p>
<p class="price">{} each</p>
<form method="post" action="/shop/checkout">
<label>Bags <select name="quantity" id="quantity">{options}</select></label>
<button type="submit" id="pay">Pay with Kasse</button>
<button type="button" id="pay-popup" data-kasse-checkout data-session-endpoint="/shop/create-checkout" data-order="1">Pay in a popup</button>
</form>
<p><small>Sandbox: pay with 4242 4242 4242 4242, any future expiry and any CVC.</small></p>
<script src="/checkout.js"></script>
<script>
// The popup button sends its data-order to /shop/create-checkout: keep it in step with the bags chosen.
document.getElementById("quantity").addEventListener("change", function (e) {{
  document.getElementById("pay-popup").setAttribute("data-order", e.target.value);
}});
</script>"#,
            price(UNIT_PRICE)
        ),
    )
}

#[derive(Deserialize)]
struct CheckoutForm {
    quantity: u8,
}

async fn checkout(State(shop): State<DemoShop>, Form(form): Form<CheckoutForm>) -> Response {
    match shop.create_session(form.quantity).await {
        Ok(session) => Redirect::to(&session.url).into_response(),
        Err(detail) => failure(&detail),
    }
}

#[derive(Deserialize)]
struct PopupRequest {
    order: Option<String>,
}

/// What checkout.js's `data-session-endpoint` calls: a session, as JSON.
async fn create_checkout(State(shop): State<DemoShop>, Json(req): Json<PopupRequest>) -> Response {
    let quantity = req.order.and_then(|q| q.parse().ok()).unwrap_or(1);
    match shop.create_session(quantity).await {
        Ok(session) => Json(serde_json::json!({ "url": session.url })).into_response(),
        Err(detail) => (axum::http::StatusCode::BAD_GATEWAY, detail).into_response(),
    }
}

impl DemoShop {
    /// Creates a checkout session through the merchant API, as a shop's server would.
    async fn create_session(&self, quantity: u8) -> Result<CheckoutSession, String> {
        let quantity = i64::from(quantity.clamp(1, 5));
        let order = format!(
            "DEMO-{}",
            &crate::ids::new_id("d")[2..10].to_ascii_uppercase()
        );
        let request = CreateCheckoutSession {
            amount: UNIT_PRICE * quantity,
            currency: CURRENCY.into(),
            success_url: self.url("shop/success"),
            cancel_url: self.url("shop/cancel"),
            order_reference: Some(order),
            metadata: Some([("quantity".to_string(), quantity.to_string())].into()),
            ..Default::default()
        };
        let response = self
            .inner
            .http
            .post(self.url("v1/checkout/sessions"))
            .bearer_auth(&self.inner.credentials.secret_key)
            .json(&request)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(response.text().await.unwrap_or_default());
        }
        response.json().await.map_err(|e| e.to_string())
    }
}

fn failure(detail: &str) -> Response {
    page(
        "Error",
        &format!(
            r#"<h1 class="bad">Checkout could not start</h1><p><code>{}</code></p><p><a href="/">Back to the shop</a></p>"#,
            escape(detail)
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
struct Return {
    session_id: Option<String>,
    payment_id: Option<String>,
}

async fn success(
    State(shop): State<DemoShop>,
    RawQuery(raw): RawQuery,
    Query(ret): Query<Return>,
) -> Html<String> {
    let mut url = Url::parse(&shop.url("shop/success")).expect("valid");
    url.set_query(raw.as_deref());
    let signature_ok = verify_url(&url, &shop.inner.credentials.signing_secret).is_ok();
    let session = match &ret.session_id {
        Some(id) => shop.api_session(id).await.ok(),
        None => None,
    };
    let paid = session.as_ref().is_some_and(|s| {
        s.status == SessionStatus::Complete
            && s.payment_id.is_some()
            && s.payment_id == ret.payment_id
    });
    let (class, headline) = match (signature_ok, paid) {
        (true, true) => ("ok", "Thank you — your order is paid"),
        (false, _) => ("bad", "This return link is not signed by Kasse"),
        (true, false) => ("bad", "Kasse does not confirm this payment"),
    };
    let details = session
        .map(|s| {
            format!(
                "<p>Order <strong id=\"order\">{}</strong> · {}</p>",
                escape(s.order_reference.as_deref().unwrap_or("")),
                price(s.amount)
            )
        })
        .unwrap_or_default();
    page(
        "Order",
        &format!(
            r#"<h1 class="{class}" id="result">{headline}</h1>{details}
<p>Redirect signature: <span id="signature">{}</span><br>Payment: <code id="payment">{}</code></p>
<p><a href="/">Back to the shop</a></p>"#,
            if signature_ok { "verified" } else { "invalid" },
            escape(ret.payment_id.as_deref().unwrap_or("none")),
        ),
    )
}

async fn cancel() -> Html<String> {
    page(
        "Canceled",
        r#"<h1 id="result">Payment canceled</h1><p>Nothing was charged.</p><p><a href="/">Back to the shop</a></p>"#,
    )
}

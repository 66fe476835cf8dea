//! Web sites the browser tests visit besides Kasse: a merchant's shop that
//! embeds checkout.js, and a foreign site that tries what it should not.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct MerchantState {
    pub kasse: String,
    pub origin: String,
    pub secret_key: String,
}

pub fn merchant(state: MerchantState) -> axum::Router {
    axum::Router::new()
        .route("/", get(shop))
        .route("/create", post(create))
        .with_state(state)
}

/// A tall page (so scroll locking shows) with a programmatic popup button;
/// callbacks are logged in `window.kasseLog` for the tests to read.
async fn shop(State(state): State<MerchantState>) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Popup Tea House</title></head>
<body style="height: 3000px">
<button id="open">Pay in popup</button>
<pre id="log"></pre>
<script src="{kasse}/checkout.js"></script>
<script>
window.kasseLog = [];
function log(event, data) {{
  window.kasseLog.push({{ event: event, data: data === undefined ? null : data }});
  document.getElementById("log").textContent += event + "\n";
}}
document.getElementById("open").addEventListener("click", function () {{
  window.kasseHandle = Kasse.open({{
    session: function () {{
      return fetch("/create", {{ method: "POST" }}).then(function (r) {{ return r.json(); }}).then(function (j) {{ return j.url; }});
    }},
    onSuccess: function (p) {{ log("success", p); }},
    onCancel: function (s) {{ log("cancel", s); }},
    onClose: function () {{ log("close"); }},
    onError: function (e) {{ log("error", String(e)); }}
  }});
}});
</script></body></html>"#,
        kasse = state.kasse
    ))
}

async fn create(State(state): State<MerchantState>) -> Json<Value> {
    let session: Value = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", state.kasse))
        .bearer_auth(&state.secret_key)
        .json(&json!({
            "amount": 800,
            "currency": "USD",
            "success_url": format!("{}/done", state.origin),
            "cancel_url": format!("{}/cart", state.origin),
            "order_reference": "tea-7",
        }))
        .send()
        .await
        .expect("kasse answers")
        .json()
        .await
        .expect("a session");
    Json(json!({ "url": session["url"] }))
}

pub fn foreign() -> axum::Router {
    axum::Router::new()
        .route("/forge", get(forge))
        .route("/frame", get(frame))
}

/// Posts a forged success to whatever window framed it.
async fn forge() -> Html<&'static str> {
    Html(
        r#"<!doctype html><script>
window.parent.postMessage({ source: "kasse", type: "success", payment: { payment_id: "pay_forged", redirect_url: "https://evil.example/" } }, "*");
document.title = "forged";
</script>"#,
    )
}

#[derive(Deserialize)]
struct FrameQuery {
    url: String,
}

/// Tries to show Kasse's hosted page inside itself.
async fn frame(Query(q): Query<FrameQuery>) -> Html<String> {
    let url = q.url.replace('"', "%22");
    Html(format!(
        r#"<!doctype html><title>framer</title><iframe id="stolen" src="{url}" style="width:600px;height:600px"></iframe>"#
    ))
}

/// What an SSLCOMMERZ merchant's site was sent: the customer's return POSTs
/// and the IPNs, each as its path and form body.
#[derive(Clone, Default)]
pub struct Posts(pub Arc<Mutex<Vec<(String, String)>>>);

#[derive(Clone)]
pub struct ShopState {
    pub posts: Posts,
    pub kasse: String,
    pub origin: String,
    pub store_id: String,
    pub store_passwd: String,
}

/// An SSLCOMMERZ merchant's site: it records every POST (to `/success`,
/// `/fail`, `/cancel` and `/ipn`) and shows the customer where they landed;
/// its home page pays with Easy Checkout.
pub fn sslcommerz_shop(state: ShopState) -> axum::Router {
    axum::Router::new()
        .route("/", get(easy_checkout))
        .route("/pay-via-ajax", post(pay_via_ajax))
        .route("/{step}", post(record))
        .route("/order/success.php", get(order_paid))
        .with_state(state)
}

/// The official examples' Easy Checkout page: SSLCOMMERZ's button, its
/// `postdata` set as a DOM property, and the loader from Kasse.
async fn easy_checkout(State(state): State<ShopState>) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Book shop</title></head><body>
<button id="sslczPayBtn" token="if you have any token validation" postdata="" order="EASY-1" endpoint="/pay-via-ajax">Pay Now</button>
<script>
document.getElementById("sslczPayBtn").postdata = {{ cus_name: "Rahim", cus_phone: "01711111111", amount: "80.00" }};
(function (window, document) {{
  var loader = function () {{
    var script = document.createElement("script"), tag = document.getElementsByTagName("script")[0];
    script.src = "{kasse}/embed.min.js?" + Math.random().toString(36).substring(7);
    tag.parentNode.insertBefore(script, tag);
  }};
  window.addEventListener ? window.addEventListener("load", loader, false) : window.attachEvent("onload", loader);
}})(window, document);
</script></body></html>"#,
        kasse = state.kasse
    ))
}

/// The merchant's endpoint, as in the PHP example: it reads `cart_json`,
/// calls SSLCOMMERZ's session API (here Kasse's) and relays the page URL.
async fn pay_via_ajax(
    State(state): State<ShopState>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let cart: Value = serde_json::from_str(form.get("cart_json").map_or("{}", String::as_str))
        .unwrap_or(Value::Null);
    let amount = cart["amount"].as_str().unwrap_or("0").to_string();
    let order = form.get("order").cloned().unwrap_or_default();
    let shop = |path: &str| format!("{}{path}", state.origin);
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/gwprocess/v4/api.php", state.kasse))
        .form(&[
            ("store_id", state.store_id.as_str()),
            ("store_passwd", state.store_passwd.as_str()),
            ("total_amount", amount.as_str()),
            ("currency", "BDT"),
            ("tran_id", order.as_str()),
            ("success_url", &shop("/success")),
            ("fail_url", &shop("/fail")),
            ("cancel_url", &shop("/cancel")),
            ("ipn_url", &shop("/ipn")),
            ("cus_name", cart["cus_name"].as_str().unwrap_or("")),
        ])
        .send()
        .await
        .expect("kasse answers")
        .json()
        .await
        .expect("JSON");
    if answer["status"] == "SUCCESS" {
        Json(
            json!({"status": "success", "data": answer["GatewayPageURL"], "logo": answer["storeLogo"]}),
        )
    } else {
        Json(json!({"status": "fail", "data": null, "message": answer["failedreason"]}))
    }
}

/// The simple checkout's return: `?transaction_id=…`.
async fn order_paid(
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    let id: String = query
        .get("transaction_id")
        .map(|id| id.chars().filter(char::is_ascii_alphanumeric).collect())
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Order paid</title></head><body><h1 id="landed">paid</h1><p id="transaction">{id}</p></body></html>"#
    ))
}

async fn record(
    State(state): State<ShopState>,
    Path(step): Path<String>,
    body: String,
) -> Html<String> {
    state
        .posts
        .0
        .lock()
        .unwrap()
        .push((format!("/{step}"), body));
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Book shop</title></head><body><h1 id="landed">{}</h1></body></html>"#,
        step.replace(['<', '>', '&'], "")
    ))
}

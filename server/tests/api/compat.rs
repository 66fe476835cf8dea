//! The compatibility surfaces through HTTP: SSLCOMMERZ v4 (session, page,
//! IPN, form-POST return, validation, queries, refunds) and the simple
//! checkout API. The official SDKs drive the same paths in the browser
//! tests (e2e/tests/compat.rs).

use std::collections::HashMap;
use std::time::Duration;

use kasse_core::redirect::verify_url;
use kasse_server::compat::credentials::{self, Issued};
use kasse_server::merchants::Credentials;
use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::helpers::{TestApp, good_card, spawn_app, test_secret};
use crate::receiver::Receiver;

const PATIENCE: Duration = Duration::from_secs(15);

struct Shop {
    merchant: Credentials,
    store: Issued,
    receiver: Receiver,
}

async fn shop(app: &TestApp) -> Shop {
    let receiver = Receiver::start().await;
    let origin = receiver.url("");
    let origin = origin.trim_end_matches('/');
    let merchant = app.other_merchant("Dhaka Books", &[origin]).await;
    let store = credentials::issue(
        app.store.as_ref(),
        &test_secret(),
        &merchant.merchant_id,
        crate::helpers::START,
    )
    .await
    .unwrap();
    Shop {
        merchant,
        store,
        receiver,
    }
}

fn init_fields<'a>(shop: &'a Shop, tran_id: &'a str, amount: &'a str) -> Vec<(String, String)> {
    let url = |path: &str| shop.receiver.url(path);
    [
        ("store_id", shop.store.store_id.clone()),
        ("store_passwd", shop.store.store_passwd.clone()),
        ("total_amount", amount.to_string()),
        ("currency", "BDT".into()),
        ("tran_id", tran_id.to_string()),
        ("success_url", url("/success?wc-api=WC_sslcommerz")),
        ("fail_url", url("/fail")),
        ("cancel_url", url("/cancel")),
        ("ipn_url", url("/ipn")),
        ("cus_name", "Rahim Uddin".into()),
        ("cus_email", "rahim@example.com".into()),
        ("cus_phone", "01711111111".into()),
        ("product_name", "Books".into()),
        ("shipping_method", "NO".into()),
        ("value_a", "ref=1, a b".into()),
        ("value_b", "".into()),
        // Misspelt and unknown fields are ignored, never refused.
        ("shipcity", "Dhaka".into()),
        ("emi_option", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn init(app: &TestApp, fields: &[(String, String)]) -> Value {
    let response = app
        .http
        .post(app.url("/gwprocess/v4/api.php"))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The same fields as `multipart/form-data`, as the Node SDK and PHP send.
async fn init_multipart(app: &TestApp, fields: &[(String, String)]) -> Value {
    let boundary = "----kasse-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let response = app
        .http
        .post(app.url("/gwprocess/v4/api.php"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The hosted page behind `GatewayPageURL`: the session and its secret.
async fn open_page(gateway_url: &str) -> kasse_core::api::CheckoutSession {
    let response = no_redirects().get(gateway_url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let url = url::Url::parse(&location).unwrap();
    let id = url.path().rsplit('/').next().unwrap().to_string();
    kasse_core::api::CheckoutSession {
        id,
        client_secret: url.fragment().unwrap().to_string(),
        ..serde_json::from_value(json!({
            "id": "", "object": "checkout.session", "url": location, "client_secret": "",
            "status": "open", "amount": 0, "currency": "BDT", "success_url": "", "cancel_url": "",
            "fail_url": null, "order_reference": null, "customer_name": null,
            "customer_email": null, "metadata": {}, "capture_method": "automatic",
            "notification_url": null, "locale": "auto", "payment_id": null, "created": 0,
            "expires_at": 0
        }))
        .unwrap()
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// SSLCOMMERZ.md §6.2, written out again here rather than borrowed from
/// the server: the keys of `verify_key` plus the md5 of the password,
/// sorted, raw `k=v` joined with `&`, md5 in hex.
fn sslcommerz_signature_holds(fields: &HashMap<String, String>, password: &str) -> bool {
    let mut pairs: Vec<(String, String)> = fields["verify_key"]
        .split(',')
        .map(|k| (k.to_string(), fields[k].clone()))
        .collect();
    pairs.push((
        "store_passwd".into(),
        hex::encode(Md5::digest(password.as_bytes())),
    ));
    pairs.sort();
    let joined = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    hex::encode(Md5::digest(joined.as_bytes())) == fields["verify_sign"]
}

/// The return page: where its form goes, and the fields it carries.
async fn follow_return(url: &str) -> (String, HashMap<String, String>) {
    let response = no_redirects().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = response.text().await.unwrap();
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let origin = url::Url::parse(&action)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert!(
        csp.contains(&format!("form-action {origin}")),
        "the form may go to the merchant: {csp}"
    );
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let fields = html
        .split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let name = input
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = input
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (unescape(name), unescape(value))
        })
        .collect();
    (action, fields)
}

async fn call(app: &TestApp, path: &str, query: &[(&str, &str)]) -> Value {
    let response = app
        .http
        .get(app.url(path))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "always 200 on this surface");
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_sslcommerz_integration_pays_validates_queries_and_refunds() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let answer = init(&app, &init_fields(&shop, "ORDER-1001", "100.26")).await;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    assert_eq!(answer["failedreason"], "");
    let key = answer["sessionkey"].as_str().unwrap();
    assert_eq!(key.len(), 32);
    assert!(
        key.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    for field in [
        "storeLogo",
        "storeBanner",
        "store_name",
        "redirectGatewayURL",
        "directPaymentURLBank",
        "directPaymentURLCard",
        "directPaymentURL",
        "redirectGatewayURLFailed",
        "is_direct_pay_enable",
    ] {
        assert!(answer[field].is_string(), "{field} present: {answer}");
    }
    assert_eq!(answer["store_name"], "Dhaka Books");
    assert_eq!(answer["gw"]["visa"], "visacard");
    let gateway = answer["GatewayPageURL"].as_str().unwrap();

    // WooCommerce's hosted mode POSTs an empty form to the page.
    let posted = no_redirects().post(gateway).send().await.unwrap();
    assert_eq!(posted.status(), 303);
    let session = open_page(gateway).await;
    let paid = app.confirm(&session, &good_card("4242424242424242")).await;
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    let back = paid["redirect_url"].as_str().unwrap().to_string();
    assert!(back.contains("/compat/return/"), "{back}");

    // The IPN: a form POST, signed as SSLCOMMERZ signs it.
    let ipns = shop.receiver.wait_for(PATIENCE, |r| !r.is_empty()).await;
    assert_eq!(
        ipns[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let ipn = form(&ipns[0].body);
    assert_eq!(ipn["status"], "VALID");
    assert_eq!(ipn["tran_id"], "ORDER-1001");
    assert_eq!(ipn["amount"], "100.26");
    assert_eq!(ipn["currency"], "BDT");
    assert_eq!(ipn["currency_amount"], "100.26");
    assert_eq!(ipn["currency_rate"], "1.0000");
    assert_eq!(ipn["store_id"], shop.store.store_id);
    assert_eq!(ipn["value_a"], "ref=1, a b");
    assert_eq!(ipn["value_b"], "");
    assert_eq!(ipn["card_no"], "424242XXXXXX4242");
    assert_eq!(ipn["card_brand"], "VISA");
    assert_eq!(ipn["risk_level"], "0");
    assert_eq!(ipn["bank_tran_id"], paid["payment_id"]);
    let tran_date = &ipn["tran_date"];
    assert_eq!(tran_date.len(), 19, "YYYY-MM-DD HH:MM:SS: {tran_date}");
    let mut sent: Vec<&str> = ipn
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with("verify_"))
        .collect();
    sent.sort();
    assert_eq!(
        ipn["verify_key"],
        sent.join(","),
        "verify_key names every field sent"
    );
    assert!(sslcommerz_signature_holds(&ipn, &shop.store.store_passwd));
    let mut tampered = ipn.clone();
    tampered.insert("amount".into(), "1.00".into());
    assert!(!sslcommerz_signature_holds(
        &tampered,
        &shop.store.store_passwd
    ));
    assert!(!sslcommerz_signature_holds(&ipn, "another password"));

    // The customer's return: a form POST to success_url, its query kept,
    // carrying the IPN's fields and signature.
    let (action, returned) = follow_return(&back).await;
    assert_eq!(action, shop.receiver.url("/success?wc-api=WC_sslcommerz"));
    assert_eq!(returned, ipn, "the return carries what the IPN did");
    // A return link Kasse did not sign is refused.
    let forged = back.replace("outcome=success", "outcome=cancel");
    let refused = no_redirects().get(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 404);

    // Validation: VALID once, then VALIDATED, whichever way the SDK calls.
    let val_id = ipn["val_id"].as_str();
    let creds = [
        ("store_id", shop.store.store_id.as_str()),
        ("store_passwd", shop.store.store_passwd.as_str()),
        ("format", "json"),
    ];
    let mut query = vec![("val_id", val_id)];
    query.extend(creds);
    let first = call(&app, "/validator/api/validationserverAPI.php", &query).await;
    assert_eq!(first["status"], "VALID", "{first}");
    assert_eq!(first["APIConnect"], "DONE");
    assert_eq!(first["tran_id"], "ORDER-1001");
    assert_eq!(first["amount"], "100.26");
    assert_eq!(first["currency_type"], "BDT");
    assert_eq!(first["bank_tran_id"], paid["payment_id"]);
    assert_eq!(first["value_a"], "ref=1, a b");
    assert_eq!(first["offer_avail"], 0, "a JSON integer");
    assert_eq!(first["isTokeizeSuccess"], 0);
    assert!(first["validated_on"].as_str().unwrap().len() == 19);
    let node = app
        .http
        .post(app.url("/validator/api/validationserverAPI.php"))
        .query(&query)
        .query(&[("v", "1")])
        .send()
        .await
        .unwrap();
    let again: Value = node.json().await.unwrap();
    assert_eq!(again["status"], "VALIDATED", "{again}");
    let mut unknown = vec![("val_id", "nosuchvalid")];
    unknown.extend(creds);
    let unknown = call(&app, "/validator/api/validationserverAPI.php", &unknown).await;
    assert_eq!(unknown["status"], "INVALID_TRANSACTION");
    assert_eq!(unknown["APIConnect"], "DONE");
    assert_eq!(unknown["amount"], "", "every field present, empty");
    let wrong = call(
        &app,
        "/validator/api/validationserverAPI.php",
        &[
            ("val_id", val_id),
            ("store_id", &shop.store.store_id),
            ("store_passwd", "wrong"),
        ],
    )
    .await;
    assert_eq!(wrong["APIConnect"], "FAILED");
    assert_eq!(wrong["status"], "INVALID_TRANSACTION");

    // The transaction API: by session key, by tran_id.
    let trans = "/validator/api/merchantTransIDvalidationAPI.php";
    let mut by_key = vec![("sessionkey", key)];
    by_key.extend(creds);
    let by_key = call(&app, trans, &by_key).await;
    assert_eq!(by_key["status"], "VALIDATED", "{by_key}");
    assert_eq!(by_key["sessionkey"], key);
    assert_eq!(by_key["val_id"], ipn["val_id"]);
    let mut by_tran = vec![("tran_id", "ORDER-1001")];
    by_tran.extend(creds);
    let by_tran = call(&app, trans, &by_tran).await;
    assert_eq!(by_tran["APIConnect"], "DONE");
    assert_eq!(by_tran["no_of_trans_found"], 1, "a JSON integer: {by_tran}");
    assert_eq!(by_tran["element"][0]["status"], "VALIDATED");
    assert_eq!(by_tran["element"][0]["bank_gw"], "visacard");
    let mut none = vec![("tran_id", "NO-SUCH-ORDER")];
    none.extend(creds);
    let none = call(&app, trans, &none).await;
    assert_eq!(none["no_of_trans_found"], 0);
    assert_eq!(none["element"][0]["status"], "INVALID");

    // Refunds: partial, keyed, exact, never beyond what is left.
    let payment_id = paid["payment_id"].as_str().unwrap();
    let refund = |amount: &'static str, key: Option<&'static str>| {
        let mut q = vec![
            ("bank_tran_id", payment_id),
            ("refund_amount", amount),
            ("refund_remarks", "out of stock"),
        ];
        q.extend(key.map(|k| ("refund_trans_id", k)));
        q.extend(creds);
        q
    };
    let first = call(&app, trans, &refund("5.50", Some("R-1"))).await;
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(first["trans_id"], "ORDER-1001");
    let refund_id = first["refund_ref_id"].as_str().unwrap().to_string();
    let repeat = call(&app, trans, &refund("5.50", Some("R-1"))).await;
    assert_eq!(
        repeat["refund_ref_id"],
        refund_id.as_str(),
        "the same refund"
    );
    let payment = app
        .ctx
        .store
        .payment(&shop.merchant.merchant_id, payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payment.amount_refunded, 550, "refunded once");
    let three = call(&app, trans, &refund("1.234", None)).await;
    assert_eq!(three["status"], "failed");
    assert!(
        three["errorReason"]
            .as_str()
            .unwrap()
            .contains("refund_amount"),
        "{three}"
    );
    let too_much = call(&app, trans, &refund("100.00", None)).await;
    assert_eq!(too_much["status"], "failed");
    assert!(
        too_much["errorReason"]
            .as_str()
            .unwrap()
            .contains("left to refund"),
        "{too_much}"
    );
    let mut status = vec![("refund_ref_id", refund_id.as_str())];
    status.extend(creds);
    let status = call(&app, trans, &status).await;
    assert_eq!(status["status"], "refunded", "{status}");
    assert_eq!(status["bank_tran_id"], payment_id);
    assert_eq!(status["tran_id"], "ORDER-1001");

    // A paid tran_id is done.
    let again = init(&app, &init_fields(&shop, "ORDER-1001", "100.26")).await;
    assert_eq!(again["status"], "FAILED");
    assert!(
        again["failedreason"]
            .as_str()
            .unwrap()
            .contains("ORDER-1001"),
        "{again}"
    );
    assert_eq!(again["GatewayPageURL"], "", "every field present");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_declined_card_fails_to_fail_url_and_a_cancel_goes_to_cancel_url() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let answer = init_multipart(&app, &init_fields(&shop, "ORDER-2", "10")).await;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    let session = open_page(answer["GatewayPageURL"].as_str().unwrap()).await;
    let declined = app.confirm(&session, &good_card("4000000000000002")).await;
    assert_eq!(declined.status(), 402);
    let declined: Value = declined.json().await.unwrap();
    let back = declined["redirect_url"].as_str().expect("on to fail_url");
    let (action, returned) = follow_return(back).await;
    assert_eq!(action, shop.receiver.url("/fail"));
    assert_eq!(returned["status"], "FAILED");
    assert_eq!(returned["error"], "Do not honor");
    assert_eq!(returned["amount"], "10.00");
    assert!(!returned.contains_key("val_id"), "no val_id for a failure");
    assert!(sslcommerz_signature_holds(
        &returned,
        &shop.store.store_passwd
    ));
    let ipns = shop.receiver.wait_for(PATIENCE, |r| !r.is_empty()).await;
    assert_eq!(form(&ipns[0].body), returned);

    // A failed tran_id may be tried again; this time the customer cancels.
    let answer = init(&app, &init_fields(&shop, "ORDER-2", "10")).await;
    assert_eq!(
        answer["status"], "SUCCESS",
        "a retry after a failure: {answer}"
    );
    let session = open_page(answer["GatewayPageURL"].as_str().unwrap()).await;
    let page: kasse_core::api::PaySession = app.pay_get(&session).await.json().await.unwrap();
    let (action, returned) = follow_return(&page.cancel_url).await;
    assert_eq!(action, shop.receiver.url("/cancel"));
    assert_eq!(returned["status"], "CANCELLED");
    assert_eq!(returned["error"], "Cancelled by User");
    assert!(sslcommerz_signature_holds(
        &returned,
        &shop.store.store_passwd
    ));
    let ipns = shop.receiver.wait_for(PATIENCE, |r| r.len() >= 2).await;
    assert_eq!(form(&ipns[1].body)["status"], "CANCELLED");
    let mut query = vec![("sessionkey", answer["sessionkey"].as_str().unwrap())];
    query.extend([
        ("store_id", shop.store.store_id.as_str()),
        ("store_passwd", shop.store.store_passwd.as_str()),
    ]);
    let state = call(
        &app,
        "/validator/api/merchantTransIDvalidationAPI.php",
        &query,
    )
    .await;
    assert_eq!(state["status"], "CANCELLED", "{state}");

    // A session nobody tried ends UNATTEMPTED when it expires.
    let answer = init(&app, &init_fields(&shop, "ORDER-3", "10")).await;
    assert_eq!(answer["status"], "SUCCESS");
    app.clock.advance(25 * 3600);
    kasse_server::workers::sweeper::sweep(&app.ctx)
        .await
        .unwrap();
    // The declined session, left open, ends too: the customer left after
    // the decline, which is FAILED again (the same notice, resent). The two
    // notices are delivered side by side, in either order.
    let status_of = |d: &crate::receiver::Delivery| form(&d.body)["status"].clone();
    let ipns = shop
        .receiver
        .wait_for(PATIENCE, |r| {
            r.iter().any(|d| status_of(d) == "UNATTEMPTED")
                && r.iter().filter(|d| status_of(d) == "FAILED").count() >= 2
        })
        .await;
    let failed: Vec<_> = ipns.iter().filter(|d| status_of(d) == "FAILED").collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].body, failed[1].body, "the same bytes");
    let unattempted = form(
        &ipns
            .iter()
            .find(|d| status_of(d) == "UNATTEMPTED")
            .unwrap()
            .body,
    );
    assert_eq!(unattempted["tran_id"], "ORDER-3");
    assert_eq!(unattempted["bank_tran_id"], "");
    assert!(sslcommerz_signature_holds(
        &unattempted,
        &shop.store.store_passwd
    ));
}

#[tokio::test]
async fn bad_sslcommerz_input_gets_its_reason_and_creates_nothing() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let sessions_before = app.count("SELECT count(*) FROM checkout_sessions").await;
    let with = |name: &str, value: &str| {
        let mut fields = init_fields(&shop, "ORDER-9", "10.00");
        fields.retain(|(k, _)| k != name);
        fields.push((name.to_string(), value.to_string()));
        fields
    };
    let cases = [
        (
            with("store_passwd", "wrong"),
            "Store Credential Error Or Store is De-active",
        ),
        (
            with("store_id", "nosuchstore"),
            "Store Credential Error Or Store is De-active",
        ),
        (with("total_amount", "10.123"), "total_amount"),
        (with("total_amount", "0"), "total_amount"),
        (with("currency", "XXX"), "currency"),
        (with("tran_id", ""), "tran_id is required"),
        (
            with("success_url", "https://elsewhere.example/ok"),
            "success_url",
        ),
        (
            with("ipn_url", "https://elsewhere.example/ipn"),
            "notification_url",
        ),
    ];
    for (fields, reason) in cases {
        let answer = init(&app, &fields).await;
        assert_eq!(answer["status"], "FAILED", "{reason}: {answer}");
        let said = answer["failedreason"].as_str().unwrap();
        assert!(said.contains(reason), "{reason}: {said}");
        assert_eq!(answer["sessionkey"], "");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM checkout_sessions").await,
        sessions_before,
        "nothing was created"
    );
}

/// A GET with `key`, its JSON answer.
async fn get_as(app: &TestApp, path: &str, key: &str) -> Value {
    app.http
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_simple_checkout_pays_and_returns_with_a_transaction_id() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let merchant = &shop.merchant;
    let base = "https://your-domain.com/api";
    assert!(
        app.store
            .set_client_base_url(&merchant.merchant_id, Some(base))
            .await
            .unwrap()
    );
    let checkout = |body: String, key: &str| {
        app.http
            .post(app.url("/api/v1/checkout"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let success = shop.receiver.url("/order/success.php?lang=en");
    let body = format!(
        r#"{{"amount": 150.50, "client_base_url": "{base}", "customer_name": "John Doe",
            "customer_email": "john.doe@example.com", "success_url": "{success}",
            "cancel_url": "{}", "meta_data": "{{\"order_id\": \"ORDER-77\"}}"}}"#,
        shop.receiver.url("/cart.php")
    );
    let answer = checkout(body.clone(), &merchant.secret_key).await.unwrap();
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["status"], "success", "{answer}");
    let payment_url = answer["payment_url"].as_str().unwrap();
    assert!(payment_url.contains("/checkout?trx_id="), "{payment_url}");
    let session = open_page(payment_url).await;
    let page: kasse_core::api::PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.amount, 15_050, "150.50 read exactly");
    assert_eq!(page.currency, "BDT");
    assert_eq!(page.order_reference.as_deref(), Some("ORDER-77"));
    assert_eq!(page.cancel_url, shop.receiver.url("/cart.php"), "unchanged");
    let paid: Value = app
        .confirm(&session, &good_card("4242424242424242"))
        .await
        .json()
        .await
        .unwrap();
    let back = no_redirects()
        .get(paid["redirect_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    let to = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(query["lang"], "en", "the merchant's query kept");
    let transaction_id = &query["transaction_id"];
    assert_eq!(transaction_id.len(), 10);
    assert!(
        transaction_id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(
        verify_url(&to, &merchant.signing_secret).is_ok(),
        "Kasse's signature checks"
    );

    // The merchant's server confirms it, on this surface and on Kasse's own API.
    let lookup = get_as(
        &app,
        &format!("/api/v1/transactions/{transaction_id}"),
        &merchant.secret_key,
    )
    .await;
    assert_eq!(lookup["status"], "success");
    assert_eq!(lookup["payment_status"], "succeeded");
    assert_eq!(lookup["amount"], "150.50");
    assert_eq!(
        lookup["meta_data"], r#"{"order_id": "ORDER-77"}"#,
        "kept verbatim"
    );
    let validation = get_as(
        &app,
        &format!("/v1/payments/{transaction_id}/validate"),
        &merchant.secret_key,
    )
    .await;
    assert_eq!(validation["status"], "VALID", "{validation}");
    assert_eq!(validation["payment_id"], paid["payment_id"]);

    // A form-urlencoded call works the same.
    let form_call = app
        .http
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&merchant.secret_key)
        .form(&[
            ("amount", "99"),
            ("client_base_url", base),
            ("success_url", &success),
            ("cancel_url", &success),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form_call.status(), 200);

    // Errors in the shape's own words.
    let sessions_before = app.count("SELECT count(*) FROM checkout_sessions").await;
    let mismatch = checkout(
        body.replace(base, "https://evil.example/api"),
        &merchant.secret_key,
    )
    .await
    .unwrap();
    assert_eq!(mismatch.status(), 403);
    let mismatch: Value = mismatch.json().await.unwrap();
    assert_eq!(mismatch["status"], "error");
    assert_eq!(
        mismatch["message"],
        "Domain mismatch. দুঃখিত, সংযোগ স্থাপন করা যায়নি।"
    );
    let bad_key = checkout(body.clone(), "sk_test_wrong").await.unwrap();
    assert_eq!(bad_key.status(), 401);
    let bad_key: Value = bad_key.json().await.unwrap();
    assert_eq!(bad_key["message"], "Invalid API key.");
    let three = checkout(body.replace("150.50", "150.505"), &merchant.secret_key)
        .await
        .unwrap();
    assert_eq!(three.status(), 422);
    let three: Value = three.json().await.unwrap();
    assert!(
        three["message"].as_str().unwrap().starts_with("amount"),
        "{three}"
    );
    let off = checkout(
        body.replace(&success, "https://elsewhere.example/ok"),
        &merchant.secret_key,
    )
    .await
    .unwrap();
    assert_eq!(off.status(), 422);
    let off: Value = off.json().await.unwrap();
    assert!(
        off["message"].as_str().unwrap().contains("success_url"),
        "{off}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM checkout_sessions").await,
        sessions_before,
        "nothing was created"
    );
}

#[tokio::test]
async fn new_credentials_from_the_api_work_and_the_old_pair_stops() {
    let app = spawn_app().await;
    let mut shop = shop(&app).await;
    let old = shop.store.clone();
    let issued = app
        .http
        .post(app.url("/v1/merchant/sslcommerz_credentials"))
        .bearer_auth(&shop.merchant.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 201);
    let issued: kasse_core::api::SslcommerzCredentials = issued.json().await.unwrap();
    assert_eq!(issued.mode, "test");
    shop.store = Issued {
        store_id: issued.store_id.clone(),
        store_passwd: issued.store_passwd.clone(),
        ..old.clone()
    };
    let answer = init(&app, &init_fields(&shop, "ORDER-5", "5")).await;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    shop.store = old;
    let answer = init(&app, &init_fields(&shop, "ORDER-6", "5")).await;
    assert_eq!(answer["status"], "FAILED");
    assert_eq!(
        answer["failedreason"],
        "Store Credential Error Or Store is De-active"
    );
}

#[tokio::test]
async fn multi_card_name_and_allowed_bin_narrow_the_cards_a_session_takes() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let with = |tran_id: &str, extra: &[(&str, &str)]| {
        let mut fields = init_fields(&shop, tran_id, "10");
        fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        fields
    };
    // A bank's Mastercard and a method Kasse has not: Mastercard only.
    let answer = init(
        &app,
        &with("CARDS-1", &[("multi_card_name", "dbbl_master,bkash")]),
    )
    .await;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    let session = open_page(answer["GatewayPageURL"].as_str().unwrap()).await;
    let page: kasse_core::api::PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.accepted_brands, [kasse_core::CardBrand::Mastercard]);
    let visa = app.confirm(&session, &good_card("4242424242424242")).await;
    let refused = crate::helpers::expect_error(visa, 400, "unsupported_card_brand").await;
    assert!(
        refused.error.message.contains("Mastercard"),
        "{}",
        refused.error.message
    );
    let master = app.confirm(&session, &good_card("5555555555554444")).await;
    assert_eq!(master.status(), 200);

    // Only cards whose number starts with 424242.
    let answer = init(&app, &with("CARDS-2", &[("allowed_bin", "424242, 401288")])).await;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    let session = open_page(answer["GatewayPageURL"].as_str().unwrap()).await;
    let other = app.confirm(&session, &good_card("5555555555554444")).await;
    crate::helpers::expect_error(other, 400, "unsupported_card_brand").await;
    let named = app.confirm(&session, &good_card("4242424242424242")).await;
    assert_eq!(named.status(), 200);

    // Only methods Kasse lacks: every card, as if none were named.
    let answer = init(
        &app,
        &with("CARDS-3", &[("multi_card_name", "bkash,internetbank")]),
    )
    .await;
    let session = open_page(answer["GatewayPageURL"].as_str().unwrap()).await;
    let page: kasse_core::api::PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page.accepted_brands, kasse_core::CardBrand::ALL.to_vec());

    let bad = init(&app, &with("CARDS-4", &[("allowed_bin", "42x")])).await;
    assert_eq!(bad["status"], "FAILED");
    assert!(
        bad["failedreason"]
            .as_str()
            .unwrap()
            .contains("allowed_bin")
    );
}

//! Existing integrations against Kasse, changed only in their base URL: the
//! official SSLCOMMERZ SDKs (Python `sslcommerz-lib`, Node `sslcommerz-lts`)
//! unmodified, and a simple-checkout merchant script; the customer pays in
//! headless Chromium.

use anyhow::Context;
use kasse_e2e::{Harness, Script, Sdk, SslcommerzShop};
use serde_json::Value;

/// A payment URL in the browser: the card form, paid with `card`.
async fn pay_on(h: &Harness, url: &str, card: &str) -> anyhow::Result<()> {
    h.browser.goto(url).await?;
    h.wait_for_path(|p| p.starts_with("/pay/cs_")).await?;
    h.type_card(card).await?;
    h.find("#pay-button").await?.click().await?;
    Ok(())
}

/// The SDK's session in the browser, paid with `card`.
async fn pay_for(h: &Harness, answer: &Value, card: &str) -> anyhow::Result<()> {
    let gateway = answer["GatewayPageURL"]
        .as_str()
        .context("GatewayPageURL")?;
    pay_on(h, gateway, card).await
}

async fn created(
    h: &Harness,
    sdk: Sdk,
    shop: &SslcommerzShop,
    tran_id: &str,
) -> anyhow::Result<Value> {
    let command = match sdk {
        Sdk::Python => "create",
        Sdk::Node => "init",
    };
    let answer = sdk
        .call(
            &h.base,
            shop,
            &[command, &shop.origin, tran_id, "250.75"],
            None,
        )
        .await?;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    Ok(answer)
}

fn field(body: &str, name: &str) -> String {
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_official_python_sdk_takes_validates_and_refunds_a_payment() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let shop = h.sslcommerz_shop().await?;
    let sdk = Sdk::Python;
    let answer = created(&h, sdk, &shop, "WC-1001").await?;
    pay_for(&h, &answer, "4242424242424242").await?;

    // Back on the shop by a form POST to success_url.
    let landed = h.wait_for_path(|p| p == "/success").await?;
    assert_eq!(landed.origin().ascii_serialization(), shop.origin);
    h.screenshot("sslcommerz-success-post").await?;
    let returned = shop.nth_post("/success", 0).await?;
    let ipn = shop.nth_post("/ipn", 0).await?;
    for (what, body) in [("the return", &returned), ("the IPN", &ipn)] {
        assert_eq!(field(body, "status"), "VALID", "{what}");
        assert_eq!(
            sdk.call(&h.base, &shop, &["hash_validate_ipn"], Some(body))
                .await?,
            Value::Bool(true),
            "the SDK's hash_validate_ipn accepts {what}"
        );
    }
    let tampered = returned.replace("amount=250.75", "amount=2.75");
    assert_ne!(tampered, returned);
    assert_eq!(
        sdk.call(&h.base, &shop, &["hash_validate_ipn"], Some(&tampered))
            .await?,
        Value::Bool(false),
        "a tampered amount fails"
    );
    assert_eq!(field(&ipn, "value_a"), "order note, with spaces");

    let val_id = field(&ipn, "val_id");
    let first = sdk
        .call(&h.base, &shop, &["validate", &val_id], None)
        .await?;
    assert_eq!(first["status"], "VALID", "{first}");
    assert_eq!(first["tran_id"], "WC-1001");
    assert_eq!(first["amount"], "250.75");
    let second = sdk
        .call(&h.base, &shop, &["validate", &val_id], None)
        .await?;
    assert_eq!(second["status"], "VALIDATED");

    let key = answer["sessionkey"].as_str().unwrap();
    let by_key = sdk
        .call(&h.base, &shop, &["query_session", key], None)
        .await?;
    assert_eq!(by_key["status"], "VALIDATED", "{by_key}");
    let by_tran = sdk
        .call(&h.base, &shop, &["query_tran_id", "WC-1001"], None)
        .await?;
    assert_eq!(by_tran["no_of_trans_found"], 1, "{by_tran}");

    let bank_tran_id = field(&ipn, "bank_tran_id");
    let refund = sdk
        .call(
            &h.base,
            &shop,
            &["init_refund", &bank_tran_id, "50.25", "damaged cover"],
            None,
        )
        .await?;
    assert_eq!(refund["status"], "success", "{refund}");
    let refund_ref = refund["refund_ref_id"].as_str().unwrap();
    let status = sdk
        .call(&h.base, &shop, &["query_refund_status", refund_ref], None)
        .await?;
    assert_eq!(status["status"], "refunded", "{status}");

    // A declined card: the shop's fail_url and a FAILED IPN.
    let answer = created(&h, sdk, &shop, "WC-1002").await?;
    pay_for(&h, &answer, "4000000000000002").await?;
    h.wait_for_path(|p| p == "/fail").await?;
    let failed = shop.nth_post("/fail", 0).await?;
    assert_eq!(field(&failed, "status"), "FAILED");
    let failed_ipn = shop.nth_post("/ipn", 1).await?;
    assert_eq!(
        failed_ipn, failed,
        "the IPN and the return carry the same fields"
    );
    assert_eq!(
        sdk.call(&h.base, &shop, &["hash_validate_ipn"], Some(&failed))
            .await?,
        Value::Bool(true)
    );

    // The page's cancel link: the shop's cancel_url.
    let answer = created(&h, sdk, &shop, "WC-1003").await?;
    h.browser
        .goto(answer["GatewayPageURL"].as_str().unwrap())
        .await?;
    h.find("#kasse-cancel").await?.click().await?;
    h.wait_for_path(|p| p == "/cancel").await?;
    let cancelled = shop.nth_post("/cancel", 0).await?;
    assert_eq!(field(&cancelled, "status"), "CANCELLED");
    assert_eq!(field(&cancelled, "tran_id"), "WC-1003");
    h.close().await
}

#[tokio::test]
async fn the_official_node_sdk_takes_validates_and_refunds_a_payment() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let shop = h.sslcommerz_shop().await?;
    let sdk = Sdk::Node;
    let answer = created(&h, sdk, &shop, "NODE-1").await?;
    pay_for(&h, &answer, "5555555555554444").await?;
    h.wait_for_path(|p| p == "/success").await?;
    let ipn = shop.nth_post("/ipn", 0).await?;
    assert_eq!(field(&ipn, "card_brand"), "MASTERCARD");

    let val_id = field(&ipn, "val_id");
    let first = sdk
        .call(&h.base, &shop, &["validate", &val_id], None)
        .await?;
    assert_eq!(first["status"], "VALID", "{first}");
    let second = sdk
        .call(&h.base, &shop, &["validate", &val_id], None)
        .await?;
    assert_eq!(second["status"], "VALIDATED");
    let key = answer["sessionkey"].as_str().unwrap();
    let by_key = sdk
        .call(&h.base, &shop, &["transactionQueryBySessionId", key], None)
        .await?;
    assert_eq!(by_key["status"], "VALIDATED", "{by_key}");
    let by_tran = sdk
        .call(
            &h.base,
            &shop,
            &["transactionQueryByTransactionId", "NODE-1"],
            None,
        )
        .await?;
    assert_eq!(by_tran["no_of_trans_found"], 1, "{by_tran}");
    let refund = sdk
        .call(
            &h.base,
            &shop,
            &[
                "initiateRefund",
                &field(&ipn, "bank_tran_id"),
                "100",
                "out of stock",
            ],
            None,
        )
        .await?;
    assert_eq!(refund["status"], "success", "{refund}");
    let status = sdk
        .call(
            &h.base,
            &shop,
            &["refundQuery", refund["refund_ref_id"].as_str().unwrap()],
            None,
        )
        .await?;
    assert_eq!(status["status"], "refunded", "{status}");
    h.close().await
}

#[tokio::test]
async fn a_simple_checkout_script_takes_a_payment_and_reads_its_transaction_id()
-> anyhow::Result<()> {
    let h = Harness::start().await?;
    let shop = h.sslcommerz_shop().await?;
    let base_url = format!("{}/api", shop.origin);
    h.store
        .set_client_base_url(&shop.credentials.merchant_id, Some(&base_url))
        .await?;
    let script = Script::Python("e2e/sdk/simple_checkout.py");
    let env = [
        ("KASSE_BASE", h.base.as_str()),
        ("SECRET_KEY", shop.credentials.secret_key.as_str()),
    ];
    let answer = script
        .run(&["checkout", &shop.origin, &base_url, "150.50"], &env, None)
        .await?;
    assert_eq!(answer["status"], "success", "{answer}");
    pay_on(
        &h,
        answer["payment_url"].as_str().unwrap(),
        "4242424242424242",
    )
    .await?;
    let landed = h.wait_for_path(|p| p == "/order/success.php").await?;
    let transaction_id = landed
        .query_pairs()
        .find(|(k, _)| k == "transaction_id")
        .map(|(_, v)| v.into_owned())
        .expect("success_url?transaction_id=…");
    let payment = script.run(&["lookup", &transaction_id], &env, None).await?;
    assert_eq!(payment["payment_status"], "succeeded", "{payment}");
    assert_eq!(payment["amount"], "150.50");

    let mismatch = script
        .run(
            &["checkout", &shop.origin, "https://other.example/api", "10"],
            &env,
            None,
        )
        .await?;
    assert_eq!(mismatch["status"], "error");
    assert_eq!(mismatch["http_status"], 403);
    assert_eq!(
        mismatch["message"],
        "Domain mismatch. দুঃখিত, সংযোগ স্থাপন করা যায়নি।"
    );
    h.close().await
}

/// The shop's Easy Checkout button, and `card` in Kasse's popup.
async fn pay_in_popup(h: &Harness, shop: &SslcommerzShop, card: &str) -> anyhow::Result<()> {
    open_popup(h, shop).await?;
    h.type_card(card).await?;
    h.find("#pay-button").await?.click().await?;
    h.browser.enter_frame(None).await?;
    Ok(())
}

/// The shop's Easy Checkout button, and into Kasse's popup once its form is there.
async fn open_popup(h: &Harness, shop: &SslcommerzShop) -> anyhow::Result<()> {
    h.browser.goto(&format!("{}/", shop.origin)).await?;
    // The loader arrives after the page's load event, as SSLCOMMERZ's does.
    h.find("#sslczPayBtn").await?;
    let deadline = std::time::Instant::now() + kasse_e2e::PATIENCE;
    while h.js("return typeof window.Kasse").await? != "object" {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "embed.min.js never loaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    h.find("#sslczPayBtn").await?.click().await?;
    let frame = h.find("[data-kasse-overlay] iframe").await?;
    frame.enter_frame().await?;
    h.find("#card-number").await?;
    Ok(())
}

#[tokio::test]
async fn easy_checkout_pays_in_kasses_popup_and_posts_the_return_in_the_shops_window()
-> anyhow::Result<()> {
    let h = Harness::start().await?;
    let shop = h.sslcommerz_shop().await?;
    // Closed: the customer stays on the shop's page, and the shop hears
    // the session was cancelled.
    open_popup(&h, &shop).await?;
    h.browser.enter_frame(None).await?;
    h.find("[data-kasse-close]").await?.click().await?;
    let ipn = shop.nth_post("/ipn", 0).await?;
    assert_eq!(field(&ipn, "status"), "CANCELLED");
    assert_eq!(h.browser.current_url().await?.path(), "/");
    // Declined: the shop's whole window goes on to fail_url.
    pay_in_popup(&h, &shop, "4000000000000002").await?;
    h.wait_for_path(|p| p == "/fail").await?;
    assert_eq!(field(&shop.nth_post("/fail", 0).await?, "status"), "FAILED");
    // The same order again, paid.
    pay_in_popup(&h, &shop, "4242424242424242").await?;
    let landed = h.wait_for_path(|p| p == "/success").await?;
    assert_eq!(landed.origin().ascii_serialization(), shop.origin);
    let returned = shop.nth_post("/success", 0).await?;
    assert_eq!(field(&returned, "status"), "VALID");
    assert_eq!(field(&returned, "tran_id"), "EASY-1");
    assert_eq!(
        field(&returned, "amount"),
        "80.00",
        "postdata's amount, from cart_json"
    );
    assert_eq!(
        Sdk::Python
            .call(&h.base, &shop, &["hash_validate_ipn"], Some(&returned))
            .await?,
        Value::Bool(true)
    );
    h.close().await
}

//! Every screen of the payment page, as a customer meets it in Chromium, each
//! checked by axe-core (no serious or critical violation) and photographed.
//!
//! Screens that last only as long as a request are held open by holding it:
//! the page API's with DevTools' Fetch domain, a navigation by cancelling it
//! (the Navigation API), which also tells where the page meant to go. The
//! server unreachable is DevTools blocking the page API's URLs.

use kasse_e2e::Harness;
use serde_json::json;

/// Asserts axe-core finds nothing serious on the screen, then saves a picture.
async fn check_screen(h: &Harness, name: &str) -> anyhow::Result<()> {
    let violations = h.axe().await?;
    assert!(
        violations.is_empty(),
        "{name}: axe-core found\n{}",
        violations.join("\n")
    );
    h.screenshot(&format!("state-{name}")).await?;
    Ok(())
}

fn session_id(url: &str) -> String {
    let rest = url.split("/pay/").nth(1).unwrap_or_default();
    rest.split(['#', '?'])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn loading_open_invalid_submitting_declined_bank_and_paid_receipt() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let url = h.create_session(json!({})).await?;

    // Loading: the page API has not answered yet.
    h.browser.goto(&h.url("/")).await?;
    h.hold_requests(&["*/v1/pay/*"]).await?;
    h.browser.goto(&url).await?;
    let loading = h.wait_for_text("#kasse-loading", |t| !t.is_empty()).await?;
    assert_eq!(loading, "Loading payment…");
    check_screen(&h, "loading").await?;
    h.release_requests().await?;

    // Open.
    h.find("#card-number").await?;
    assert_eq!(h.find("#kasse-amount").await?.text().await?, "$12.50");
    check_screen(&h, "open").await?;

    // Invalid: every error tied to its field, focus on the first.
    h.find("#pay-button").await?.click().await?;
    let error = h
        .wait_for_text("#card-number-error", |t| !t.is_empty())
        .await?;
    assert_eq!(error, "Enter a card number.");
    let expiry = "document.getElementById('card-expiry')";
    assert_eq!(
        h.js(&format!(
            "return [document.activeElement.id, {expiry}.getAttribute('aria-invalid'), \
             {expiry}.getAttribute('aria-describedby')]"
        ))
        .await?,
        json!(["card-number", "true", "card-expiry-error"])
    );
    check_screen(&h, "invalid").await?;

    // Submitting: the confirm is on its way; then declined, with the reason.
    h.type_card("4000000000000002").await?;
    h.hold_requests(&["*/confirm"]).await?;
    h.find("#pay-button").await?.click().await?;
    let busy = h
        .wait_for_text("#pay-button", |t| t == "Processing…")
        .await?;
    assert_eq!(busy, "Processing…");
    assert!(
        !h.find("#pay-button").await?.is_enabled().await?,
        "no second confirm"
    );
    check_screen(&h, "submitting").await?;
    h.release_requests().await?;
    let notice = h.wait_for_text("#kasse-notice", |t| !t.is_empty()).await?;
    assert_eq!(
        notice,
        "Your card was declined. Try another card or contact your bank."
    );
    check_screen(&h, "declined").await?;

    // On the way to the bank (3-D Secure).
    h.type_card("4000000000003220").await?;
    h.hold_navigations().await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_text("#kasse-authenticating", |t| t.contains("bank"))
        .await?;
    check_screen(&h, "three-d-secure").await?;
    let bank = h.wait_for_held_prefix("/acs/pay_").await?;
    h.browser.goto(bank.as_str()).await?;

    // Paid: back from the bank, the receipt with the payment reference
    // (the redirect to the shop is held while axe runs).
    h.find("#acs-complete").await?.click().await?;
    h.wait_for_text("#kasse-paid", |t| t == "Payment successful")
        .await?;
    h.hold_navigations().await?;
    let reference = h.find("#kasse-payment-id").await?.text().await?;
    assert!(reference.starts_with("pay_"), "{reference}");
    let receipt = h.find("#kasse-receipt").await?.text().await?;
    for part in ["Kasse Demo Coffee", "$12.50", "order-42"] {
        assert!(receipt.contains(part), "{part} in {receipt}");
    }
    check_screen(&h, "paid").await?;
    h.wait_for_held_prefix("/shop/success").await?;

    // Already paid: a second visit shows the receipt again, then leaves.
    h.browser.goto(&url).await?;
    h.wait_for_text("#kasse-already-paid", |t| !t.is_empty())
        .await?;
    h.hold_navigations().await?;
    assert_eq!(h.find("#kasse-payment-id").await?.text().await?, reference);
    check_screen(&h, "already-paid").await?;
    h.wait_for_held_prefix("/shop/success").await?;
    h.close().await
}

#[tokio::test]
async fn expired_cancelled_and_missing_sessions() -> anyhow::Result<()> {
    let h = Harness::start().await?;

    let url = h.create_session(json!({})).await?;
    let expired = reqwest::Client::new()
        .post(h.url(&format!(
            "/v1/checkout/sessions/{}/expire",
            session_id(&url)
        )))
        .bearer_auth(&h.demo.secret_key)
        .send()
        .await?;
    anyhow::ensure!(expired.status() == 200, "{}", expired.text().await?);
    h.browser.goto(&url).await?;
    let text = h.wait_for_text("#kasse-expired", |t| !t.is_empty()).await?;
    assert!(text.contains("has expired"), "{text}");
    let forms = h
        .browser
        .find_all(fantoccini::Locator::Css("#card-number"))
        .await?;
    assert!(forms.is_empty(), "no form on an expired session");
    check_screen(&h, "expired").await?;

    let url = h.create_session(json!({})).await?;
    h.browser.goto(&url).await?;
    h.find("#card-number").await?;
    h.hold_navigations().await?;
    h.find("#kasse-cancel").await?.click().await?;
    let cancelled = h
        .wait_for_text("#kasse-cancelled", |t| !t.is_empty())
        .await?;
    assert!(cancelled.contains("No money was taken"), "{cancelled}");
    check_screen(&h, "cancelled").await?;
    h.wait_for_held_prefix("/shop/cancel").await?;

    h.browser
        .goto(&h.url("/pay/cs_missing#cs_missing_secret_x"))
        .await?;
    let message = h.wait_for_text("#kasse-message", |t| !t.is_empty()).await?;
    assert!(message.contains("could not find this payment"), "{message}");
    let retries = h
        .browser
        .find_all(fantoccini::Locator::Css("#kasse-retry"))
        .await?;
    assert!(retries.is_empty(), "retrying cannot help");
    check_screen(&h, "not-found").await?;
    h.close().await
}

#[tokio::test]
async fn the_server_unreachable_offers_a_retry_that_keeps_what_was_typed() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let url = h.create_session(json!({})).await?;

    // The page loads, but its API does not answer.
    h.browser.goto(&h.url("/")).await?;
    h.block_urls(&["*/v1/pay/*"]).await?;
    h.browser.goto(&url).await?;
    let message = h.wait_for_text("#kasse-message", |t| !t.is_empty()).await?;
    assert!(
        message.contains("could not reach the payment server"),
        "{message}"
    );
    check_screen(&h, "unreachable").await?;
    h.block_urls(&[]).await?;
    h.find("#kasse-retry").await?.click().await?;
    h.find("#card-number").await?;

    // The confirm does not get through: the card stays typed, and
    // "Try again" sends it once the network is back.
    h.type_card("4242424242424242").await?;
    h.block_urls(&["*/v1/pay/*"]).await?;
    h.find("#pay-button").await?.click().await?;
    let notice = h.wait_for_text("#kasse-notice", |t| !t.is_empty()).await?;
    assert!(notice.contains("could not reach"), "{notice}");
    assert_eq!(
        h.find("#card-number")
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("4242 4242 4242 4242"),
        "nothing typed is lost"
    );
    assert_eq!(
        h.find("#card-cvc").await?.prop("value").await?.as_deref(),
        Some("123")
    );
    check_screen(&h, "confirm-unreachable").await?;
    h.block_urls(&[]).await?;
    h.find("#kasse-notice #kasse-retry").await?.click().await?;
    h.wait_for_path(|p| p == "/shop/success").await?;
    let payments = h.store.session_payments(&session_id(&url)).await?;
    assert_eq!(payments.len(), 1, "{payments:?}");
    h.close().await
}

#[tokio::test]
async fn a_double_click_sends_one_confirm() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let url = h.create_session(json!({})).await?;
    h.browser.goto(&url).await?;
    h.type_card("4242424242424242").await?;
    // Two clicks in one task: the second lands before any answer.
    h.js("const b = document.getElementById('pay-button'); b.click(); b.click(); b.click(); return true;")
        .await?;
    h.wait_for_path(|p| p == "/shop/success").await?;
    let payments = h.store.session_payments(&session_id(&url)).await?;
    assert_eq!(
        payments.len(),
        1,
        "one payment, not one per click: {payments:?}"
    );
    h.close().await
}

//! Saved cards in real headless Chromium: a customer ticks "save this
//! card", pays with the saved card and its CVC next time, and completes
//! through 3-D Secure a charge their bank would not let the merchant make
//! without them.

use kasse_e2e::Harness;
use serde_json::{Value, json};

async fn new_customer(h: &Harness) -> anyhow::Result<String> {
    let (status, customer) = h.api("/v1/customers", Some(json!({"name": "Ada"}))).await?;
    anyhow::ensure!(status == 201, "{customer}");
    Ok(customer["id"].as_str().unwrap().to_string())
}

async fn saved_cards(h: &Harness, customer: &str) -> anyhow::Result<Vec<Value>> {
    let (_, list) = h
        .api(&format!("/v1/customers/{customer}/payment_methods"), None)
        .await?;
    Ok(list["data"].as_array().cloned().unwrap_or_default())
}

async fn assert_back_at_the_shop(h: &Harness) -> anyhow::Result<()> {
    let landed = h.wait_for_path(|p| p == "/shop/success").await?;
    let params: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(params["status"], "succeeded");
    Ok(())
}

#[tokio::test]
async fn a_card_saved_with_consent_pays_the_next_time_with_its_cvc() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let customer = new_customer(&h).await?;
    let page = h
        .create_session(json!({"customer": customer, "save_card": "optional"}))
        .await?;
    h.browser.goto(&page).await?;
    let consent = h.find("label[for=save-card]").await?.text().await?;
    assert!(
        consent.contains("Kasse Demo Coffee") && consent.contains("Save this card"),
        "{consent}"
    );
    assert_eq!(h.axe().await?, Vec::<String>::new());
    h.type_card("4242424242424242").await?;
    h.find("#save-card").await?.click().await?;
    h.screenshot("payment-page-save-card").await?;
    h.find("#pay-button").await?.click().await?;
    assert_back_at_the_shop(&h).await?;
    let cards = saved_cards(&h, &customer).await?;
    assert_eq!(cards.len(), 1, "{cards:?}");
    let pm = cards[0]["id"].as_str().unwrap().to_string();

    // Next time the page offers it, picked, and asks only for its CVC.
    let page = h.create_session(json!({"customer": customer})).await?;
    h.browser.goto(&page).await?;
    let radio = h.find(&format!("#saved-{pm}")).await?;
    assert!(radio.is_selected().await?, "the saved card is picked");
    let label = h
        .find(&format!("label[for=saved-{pm}]"))
        .await?
        .text()
        .await?;
    assert!(
        label.contains("Visa •••• 4242") && label.contains("12/30"),
        "{label}"
    );
    assert!(
        h.browser
            .find_all(kasse_e2e::fantoccini::Locator::Css("#card-number"))
            .await?
            .is_empty(),
        "no card form while a saved card is picked"
    );
    assert_eq!(h.axe().await?, Vec::<String>::new());
    // A CVC too short is caught on the page.
    h.find("#saved-cvc").await?.send_keys("12").await?;
    h.find("#pay-saved").await?.click().await?;
    h.wait_for_text("#saved-cvc-error", |t| !t.is_empty())
        .await?;
    h.find("#saved-cvc").await?.send_keys("3").await?;
    h.screenshot("payment-page-saved-card").await?;
    h.find("#pay-saved").await?.click().await?;
    assert_back_at_the_shop(&h).await?;
    let (_, payments) = h.api("/v1/payments?limit=1", None).await?;
    assert_eq!(payments["data"][0]["payment_method"], pm.as_str());
    assert_eq!(saved_cards(&h, &customer).await?.len(), 1);

    // "Use another card" brings the form back.
    let page = h.create_session(json!({"customer": customer})).await?;
    h.browser.goto(&page).await?;
    h.find("#saved-another").await?.click().await?;
    h.type_card("5555555555554444").await?;
    h.find("#pay-button").await?.click().await?;
    assert_back_at_the_shop(&h).await?;
    h.close().await
}

#[tokio::test]
async fn a_recovery_link_completes_an_authentication_required_charge_through_3ds()
-> anyhow::Result<()> {
    let h = Harness::start().await?;
    let customer = new_customer(&h).await?;
    // Saved through 3-D Secure on the page.
    let page = h
        .create_session(json!({"customer": customer, "save_card": "required"}))
        .await?;
    h.browser.goto(&page).await?;
    let note = h.find("#save-card-note").await?.text().await?;
    assert!(note.contains("Kasse Demo Coffee"), "{note}");
    h.type_card("4000002760003184").await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/acs/pay_")).await?;
    h.find("#acs-complete").await?.click().await?;
    assert_back_at_the_shop(&h).await?;
    let pm = saved_cards(&h, &customer).await?[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The merchant charges it off-session: the bank wants the customer.
    let (status, failed) = h
        .api(
            "/v1/payments",
            Some(
                json!({"amount": 990, "currency": "USD", "off_session": true,
                    "customer": customer, "payment_method": pm,
                    "return_url": h.url("/shop/success")}),
            ),
        )
        .await?;
    assert_eq!(status, 402, "{failed}");
    assert_eq!(failed["decline_code"], "authentication_required");
    let recovery = failed["recovery_url"].as_str().unwrap().to_string();

    // The customer opens the link, pays with the saved card, authenticates.
    h.browser.goto(&recovery).await?;
    assert_eq!(h.find("#kasse-amount").await?.text().await?, "$9.90");
    h.find("#saved-cvc").await?.send_keys("123").await?;
    h.find("#pay-saved").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/acs/pay_")).await?;
    h.find("#acs-complete").await?.click().await?;
    h.wait_for_text("#kasse-paid", |t| t == "Payment successful")
        .await?;
    let (_, session) = h
        .api(
            &format!(
                "/v1/checkout/sessions/{}",
                failed["recovery_session"].as_str().unwrap()
            ),
            None,
        )
        .await?;
    assert_eq!(session["status"], "complete");
    h.close().await
}

#[tokio::test]
async fn the_update_link_replaces_an_expired_card() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let customer = new_customer(&h).await?;
    let page = h
        .create_session(json!({"customer": customer, "save_card": "required"}))
        .await?;
    h.browser.goto(&page).await?;
    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;
    assert_back_at_the_shop(&h).await?;
    let pm = saved_cards(&h, &customer).await?[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Its expiry passes, as the sweeper marks it.
    assert!(h.store.expire_card(&pm, 0, &[]).await?);

    let (status, link) = h
        .api(
            &format!("/v1/payment_methods/{pm}/update_link"),
            Some(json!({"return_url": h.url("/shop/success")})),
        )
        .await?;
    assert_eq!(status, 201, "{link}");
    h.browser.goto(link["url"].as_str().unwrap()).await?;
    let old = h.find("#kasse-update-old").await?.text().await?;
    assert!(
        old.contains("Kasse Demo Coffee") && old.contains("Visa •••• 4242"),
        "{old}"
    );
    assert_eq!(h.axe().await?, Vec::<String>::new());
    h.type_card("5555555555554444").await?;
    h.screenshot("card-update-page").await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_text("#kasse-updated", |t| t == "Your card is updated")
        .await?;
    let shown = h.find("#kasse-update-new").await?.text().await?;
    assert!(shown.contains("Mastercard •••• 4444"), "{shown}");
    let (_, card) = h.api(&format!("/v1/payment_methods/{pm}"), None).await?;
    assert_eq!(card["status"], "active");
    assert_eq!(card["card"]["last4"], "4444");
    // The link is spent: opened again (a new load, not a jump within
    // the page), it says so.
    h.browser.goto("about:blank").await?;
    h.browser.goto(link["url"].as_str().unwrap()).await?;
    let message = h.wait_for_text("#kasse-message", |t| !t.is_empty()).await?;
    assert!(message.contains("can no longer be used"), "{message}");
    h.close().await
}

//! A customer pays on the demo shop in real headless Chromium.

use kasse_core::redirect::verify_url;
use kasse_e2e::Harness;

/// From the shop's Pay button to the hosted page's card form.
async fn start_checkout(h: &Harness) -> anyhow::Result<()> {
    h.browser.goto(&h.url("/")).await?;
    h.find("#pay").await?.click().await?;
    let page = h.wait_for_path(|p| p.starts_with("/pay/cs_")).await?;
    assert!(
        page.fragment().is_some_and(|f| f.contains("_secret_")),
        "{page}"
    );
    h.find("#card-number").await?;
    Ok(())
}

async fn assert_paid(h: &Harness) -> anyhow::Result<()> {
    let landed = h.wait_for_path(|p| p == "/shop/success").await?;
    verify_url(&landed, &h.demo.signing_secret).expect("the redirect's signature verifies");
    let params: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(params["status"], "succeeded");
    assert!(params["payment_id"].starts_with("pay_"));
    assert_eq!(h.find("#signature").await?.text().await?, "verified");
    let headline = h.find("#result").await?.text().await?;
    assert!(headline.contains("paid"), "{headline}");
    Ok(())
}

#[tokio::test]
async fn a_customer_pays_with_a_good_card_and_lands_on_a_signed_success_url() -> anyhow::Result<()>
{
    let h = Harness::start().await?;
    start_checkout(&h).await?;
    assert_eq!(
        h.find("#kasse-merchant").await?.text().await?,
        "Kasse Demo Coffee"
    );
    assert_eq!(h.find("#kasse-amount").await?.text().await?, "$12.50");

    h.find("#card-number")
        .await?
        .send_keys("4242424242424242")
        .await?;
    assert_eq!(
        h.find("#card-number")
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("4242 4242 4242 4242"),
        "digits are grouped as they are typed"
    );
    assert_eq!(h.find("#card-brand").await?.text().await?, "Visa");
    h.type_card("4242424242424242").await?;
    h.screenshot("payment-page-filled").await?;
    h.find("#pay-button").await?.click().await?;
    assert_paid(&h).await?;
    h.screenshot("demo-shop-paid").await?;
    h.close().await
}

#[tokio::test]
async fn a_declined_card_shows_why_and_the_customer_pays_with_another() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    start_checkout(&h).await?;
    h.type_card("4000000000009995").await?;
    h.find("#pay-button").await?.click().await?;
    let notice = h.wait_for_text("#kasse-notice", |t| !t.is_empty()).await?;
    assert!(notice.contains("insufficient funds"), "{notice}");
    let still = h.browser.current_url().await?;
    assert!(
        still.path().starts_with("/pay/"),
        "the customer stays on the page: {still}"
    );
    assert!(
        h.find("#pay-button").await?.is_enabled().await?,
        "and may try again"
    );
    h.screenshot("payment-page-declined").await?;

    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;
    assert_paid(&h).await?;
    h.close().await
}

#[tokio::test]
async fn the_cancel_link_returns_to_the_shop() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    start_checkout(&h).await?;
    h.find("#kasse-cancel").await?.click().await?;
    let landed = h.wait_for_path(|p| p == "/shop/cancel").await?;
    verify_url(&landed, &h.demo.signing_secret).expect("the cancel link is signed");
    assert_eq!(h.find("#result").await?.text().await?, "Payment canceled");
    h.close().await
}

#[tokio::test]
async fn three_d_secure_completed_at_the_bank_pays_and_returns_to_the_shop() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    start_checkout(&h).await?;
    h.type_card("4000000000003220").await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/acs/pay_")).await?;
    assert_eq!(h.find("#acs-amount").await?.text().await?, "$12.50");
    h.screenshot("three-d-secure-challenge").await?;
    h.find("#acs-complete").await?.click().await?;
    // Back on the hosted page, which shows the outcome, then goes on to the shop.
    h.wait_for_text("#kasse-paid", |t| t == "Payment successful")
        .await?;
    let receipt = h.find("#kasse-receipt").await?.text().await?;
    assert!(receipt.contains("Kasse Demo Coffee"), "{receipt}");
    assert_paid(&h).await?;
    h.close().await
}

#[tokio::test]
async fn three_d_secure_declined_shows_why_and_another_card_pays() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    start_checkout(&h).await?;
    h.type_card("4000008400001629").await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/acs/pay_")).await?;
    h.find("#acs-complete").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/pay/cs_")).await?;
    let notice = h.wait_for_text("#kasse-notice", |t| !t.is_empty()).await?;
    assert!(notice.contains("declined"), "{notice}");

    h.type_card("4000000000003220").await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/acs/pay_")).await?;
    h.find("#acs-fail").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/pay/cs_")).await?;
    let notice = h
        .wait_for_text("#kasse-notice", |t| t.contains("bank"))
        .await?;
    assert!(notice.contains("could not confirm it was you"), "{notice}");

    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;
    assert_paid(&h).await?;
    h.close().await
}

#[tokio::test]
async fn the_demo_shops_popup_pays_and_takes_the_page_to_the_success_url() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    h.browser.goto(&h.url("/")).await?;
    h.find("#quantity").await?.select_by_value("3").await?;
    h.find("#pay-popup").await?.click().await?;
    h.find("[data-kasse-overlay] iframe")
        .await?
        .enter_frame()
        .await?;
    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;
    h.browser.enter_frame(None).await?;
    // Declarative mode has no onSuccess: the whole page goes to the success URL.
    assert_paid(&h).await?;
    h.close().await
}

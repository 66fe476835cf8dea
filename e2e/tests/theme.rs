//! A merchant's appearance, as a customer's browser paints it.

use kasse_e2e::Harness;
use serde_json::json;

async fn set_appearance(h: &Harness, appearance: serde_json::Value) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .put(h.url("/v1/merchant/appearance"))
        .bearer_auth(&h.demo.secret_key)
        .json(&appearance)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "{}", response.text().await?);
    Ok(())
}

async fn open_checkout(h: &Harness) -> anyhow::Result<()> {
    h.browser.goto(&h.url("/")).await?;
    h.find("#pay").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/pay/cs_")).await?;
    h.find("#card-number").await?;
    Ok(())
}

async fn computed(h: &Harness, css: &str, property: &str) -> anyhow::Result<String> {
    let value = h
        .js(&format!(
            "return getComputedStyle(document.querySelector('{css}')).getPropertyValue('{property}')"
        ))
        .await?;
    Ok(value.as_str().unwrap_or_default().trim().to_string())
}

#[tokio::test]
async fn the_merchants_colours_and_forced_dark_scheme_reach_the_page() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    set_appearance(
        &h,
        json!({
            "color_scheme": "dark",
            "variables": {"color-primary": "#0a7d5a", "radius": "14px", "font-family": "serif"},
            "dark_variables": {"color-primary": "#5fd4a8"},
        }),
    )
    .await?;
    open_checkout(&h).await?;
    assert_eq!(
        h.js("return document.documentElement.dataset.colorScheme")
            .await?,
        json!("dark")
    );
    // The dark primary over the shared one; the dark defaults elsewhere.
    assert_eq!(
        computed(&h, "#pay-button", "background-color").await?,
        "rgb(95, 212, 168)"
    );
    assert_eq!(
        computed(&h, "body", "background-color").await?,
        "rgb(16, 19, 28)"
    );
    assert_eq!(
        computed(&h, "#pay-button", "border-top-left-radius").await?,
        "14px"
    );
    assert!(
        computed(&h, "body", "font-family")
            .await?
            .starts_with("Georgia")
    );
    h.screenshot("theme-forced-dark").await?;

    // Light: the shared primary, the light background.
    set_appearance(
        &h,
        json!({"color_scheme": "light", "variables": {"color-primary": "#0a7d5a"}}),
    )
    .await?;
    open_checkout(&h).await?;
    assert_eq!(
        computed(&h, "#pay-button", "background-color").await?,
        "rgb(10, 125, 90)"
    );
    assert_eq!(
        computed(&h, "body", "background-color").await?,
        "rgb(244, 245, 248)"
    );
    h.screenshot("theme-light").await?;
    h.close().await
}

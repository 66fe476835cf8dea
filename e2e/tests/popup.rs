//! checkout.js: the popup over a merchant's own page, on another origin.

use std::time::{Duration, Instant};

use kasse_core::redirect::verify_url;
use kasse_e2e::fantoccini::Locator;
use kasse_e2e::{Harness, MerchantSite, PATIENCE};
use serde_json::Value;

async fn open_shop(h: &Harness) -> anyhow::Result<MerchantSite> {
    let site = h.merchant_site().await?;
    h.browser.goto(&format!("{}/", site.origin)).await?;
    Ok(site)
}

/// Opens the popup and moves into its frame once the form is there.
async fn open_popup(h: &Harness) -> anyhow::Result<()> {
    h.browser.enter_frame(None).await?;
    h.find("#open").await?.click().await?;
    let frame = h.find("[data-kasse-overlay] iframe").await?;
    assert_eq!(
        h.js("return document.body.style.overflow").await?,
        "hidden",
        "the page behind stops scrolling"
    );
    frame.enter_frame().await?;
    h.find("#card-number").await?;
    // The loader moves focus in once the page says it has loaded.
    let deadline = Instant::now() + PATIENCE;
    while h
        .js("return document.activeElement && document.activeElement.id")
        .await?
        != "card-number"
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "focus never moved into the popup"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn log(h: &Harness) -> anyhow::Result<Vec<Value>> {
    h.browser.enter_frame(None).await?;
    Ok(h.js("return window.kasseLog")
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Waits until the merchant page's log holds `count` calls of `event`;
/// returns the data of the last of them.
async fn wait_for_calls(h: &Harness, event: &str, count: usize) -> anyhow::Result<Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let entries = log(h).await?;
        let calls: Vec<&Value> = entries.iter().filter(|e| e["event"] == event).collect();
        if calls.len() >= count {
            return Ok(calls[count - 1]["data"].clone());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{count} {event} callback(s) expected; log: {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for a callback in the merchant page's log; returns its data.
async fn wait_for_callback(h: &Harness, event: &str) -> anyhow::Result<Value> {
    wait_for_calls(h, event, 1).await
}

async fn assert_closed_and_restored(h: &Harness) -> anyhow::Result<()> {
    h.browser.enter_frame(None).await?;
    assert!(
        h.browser
            .find(Locator::Css("[data-kasse-overlay]"))
            .await
            .is_err(),
        "the popup is gone"
    );
    assert_eq!(
        h.js("return document.body.style.overflow").await?,
        "",
        "the page scrolls again"
    );
    assert_eq!(
        h.js("return document.activeElement.id").await?,
        "open",
        "focus is back on the button"
    );
    Ok(())
}

async fn validate(h: &Harness, site: &MerchantSite, payment_id: &str) -> anyhow::Result<Value> {
    Ok(reqwest::Client::new()
        .get(h.url(&format!("v1/payments/{payment_id}/validate")))
        .bearer_auth(&site.credentials.secret_key)
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::test]
async fn a_good_card_in_the_popup_calls_on_success_with_a_real_payment() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let site = open_shop(&h).await?;
    open_popup(&h).await?;
    assert_eq!(
        h.js("return document.activeElement.id").await?,
        "card-number",
        "focus moves into the popup"
    );
    h.screenshot("popup-open").await?;
    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;

    let payment = wait_for_callback(&h, "success").await?;
    let payment_id = payment["payment_id"].as_str().unwrap();
    assert!(payment["session_id"].as_str().unwrap().starts_with("cs_"));
    assert_eq!(payment["params"]["payment_id"], payment_id);
    let redirect = url::Url::parse(payment["redirect_url"].as_str().unwrap())?;
    assert_eq!(redirect.origin().ascii_serialization(), site.origin);
    verify_url(&redirect, &site.credentials.signing_secret).expect("signed redirect parameters");
    assert_eq!(validate(&h, &site, payment_id).await?["status"], "VALID");
    assert_closed_and_restored(&h).await?;
    assert_eq!(
        h.browser.current_url().await?.as_str(),
        format!("{}/", site.origin),
        "onSuccess was given, so the page stays"
    );
    h.close().await
}

#[tokio::test]
async fn a_declined_card_then_a_good_one_in_the_popup() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let site = open_shop(&h).await?;
    open_popup(&h).await?;
    h.type_card("4000000000009995").await?;
    h.find("#pay-button").await?.click().await?;
    let notice = h.wait_for_text("#kasse-notice", |t| !t.is_empty()).await?;
    assert!(notice.contains("insufficient funds"), "{notice}");
    assert!(log(&h).await?.is_empty(), "no callback for a decline");

    h.find("[data-kasse-overlay] iframe")
        .await?
        .enter_frame()
        .await?;
    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;
    let payment = wait_for_callback(&h, "success").await?;
    let id = payment["payment_id"].as_str().unwrap();
    assert_eq!(validate(&h, &site, id).await?["status"], "VALID");
    h.close().await
}

#[tokio::test]
async fn escape_and_the_close_button_close_the_popup() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    open_shop(&h).await?;
    open_popup(&h).await?;
    // Escape on the focused card field, dispatched from the frame's own
    // script: a WebDriver key action into a frame that the parent removes
    // while the action is still running can leave chromedriver hanging
    // (seen twice in full `make test` runs).
    h.js(
        "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', \
         { key: 'Escape', bubbles: true })); return true",
    )
    .await?;
    wait_for_callback(&h, "close").await?;
    assert_closed_and_restored(&h).await?;

    open_popup(&h).await?;
    h.browser.enter_frame(None).await?;
    h.find("[data-kasse-close]").await?.click().await?;
    wait_for_calls(&h, "close", 2).await?;
    assert_closed_and_restored(&h).await?;
    h.close().await
}

#[tokio::test]
async fn cancel_inside_the_popup_calls_on_cancel() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    open_shop(&h).await?;
    open_popup(&h).await?;
    h.find("#kasse-cancel").await?.click().await?;
    let session = wait_for_callback(&h, "cancel").await?;
    assert!(session.as_str().unwrap().starts_with("cs_"), "{session}");
    assert_closed_and_restored(&h).await?;
    h.close().await
}

#[tokio::test]
async fn foreign_origins_can_neither_speak_to_the_popup_nor_frame_the_page() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    let site = open_shop(&h).await?;
    let foreign = h.foreign_site().await?;
    open_popup(&h).await?;
    h.browser.enter_frame(None).await?;
    h.js(&format!(
        "var f = document.createElement('iframe'); f.src = '{foreign}/forge'; document.body.appendChild(f); return true;"
    ))
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(log(&h).await?.is_empty(), "the forged success was ignored");
    assert!(
        h.browser
            .find(Locator::Css("[data-kasse-overlay]"))
            .await
            .is_ok(),
        "the popup is still open"
    );

    // A site that is not the merchant's tries to show the page, claiming the merchant's origin.
    let session_url = site.session_url().await?;
    let mut page = url::Url::parse(&session_url)?;
    page.query_pairs_mut()
        .append_pair("embed", "1")
        .append_pair("origin", &site.origin);
    let mut framer = url::Url::parse(&format!("{foreign}/frame"))?;
    framer.query_pairs_mut().append_pair("url", page.as_str());
    h.browser.goto(framer.as_str()).await?;
    h.find("#stolen").await?.enter_frame().await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        h.browser.find(Locator::Css("#card-number")).await.is_err(),
        "frame-ancestors keeps the page out of a foreign frame"
    );
    h.close().await
}

#[tokio::test]
async fn on_a_phone_the_popup_fills_the_screen_and_a_broken_session_reports_an_error()
-> anyhow::Result<()> {
    let h = Harness::start().await?;
    h.browser.set_window_size(390, 844).await?;
    let site = open_shop(&h).await?;
    open_popup(&h).await?;
    h.browser.enter_frame(None).await?;
    let fills = h
        .js("var r = document.querySelector('[data-kasse-overlay] iframe').getBoundingClientRect(); \
             return [r.left, r.top, r.width === innerWidth, r.height === innerHeight];")
        .await?;
    assert_eq!(fills, serde_json::json!([0, 0, true, true]));
    h.find("[data-kasse-close]").await?.click().await?;

    // A session URL whose secret is wrong: the page cannot load it and says so.
    h.js("window.kasseHandle = Kasse.open({ session: location.origin.replace('localhost', '127.0.0.1') + '/nope', \
          onError: function (e) { log('error', String(e)); } }); return true;")
        .await?;
    let error = wait_for_callback(&h, "error").await?;
    assert!(
        error.as_str().unwrap().contains("not a Kasse checkout URL"),
        "{error}"
    );
    // A real session with a wrong secret: the page loads, cannot read it, and says so.
    let session_url = site.session_url().await?;
    let wrong = format!("{session_url}x");
    h.js(&format!(
        "Kasse.open({{ session: '{wrong}', onError: function (e) {{ log('error2', String(e)); }} }}); return true;"
    ))
    .await?;
    let error = wait_for_callback(&h, "error2").await?;
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("could not find this payment"),
        "{error}"
    );
    // An unknown session may not be framed at all: the loader notices.
    let kasse = h.url("");
    h.js(&format!(
        "Kasse.open({{ session: '{kasse}pay/cs_missing#cs_missing_secret_x', onError: function (e) {{ log('error3', String(e)); }} }}); return true;"
    ))
    .await?;
    let error = wait_for_callback(&h, "error3").await?;
    assert!(
        error.as_str().unwrap().contains("could not be shown"),
        "{error}"
    );
    h.browser.enter_frame(None).await?;
    assert!(
        h.browser
            .find(Locator::Css("[data-kasse-overlay]"))
            .await
            .is_err(),
        "an error closes the popup"
    );
    assert_eq!(h.js("return document.body.style.overflow").await?, "");
    h.close().await
}

//! The page's language: the session's `locale`, else the browser's, else
//! English; amounts written for the language and currency. Also the
//! pictures README shows: each language, light and dark, desktop and phone.

use kasse_e2e::Harness;
use serde_json::json;

async fn open(h: &Harness, session: serde_json::Value) -> anyhow::Result<()> {
    let url = h.create_session(session).await?;
    h.browser.goto(&url).await?;
    h.find("#card-number").await?;
    Ok(())
}

async fn text(h: &Harness, css: &str) -> anyhow::Result<String> {
    Ok(h.find(css).await?.text().await?)
}

#[tokio::test]
async fn the_sessions_locale_wins_over_the_browsers() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    h.browser.goto(&h.url("/")).await?;
    h.browser_languages("mn-MN,mn").await?;

    open(
        &h,
        json!({"locale": "bn", "amount": 123_456_750, "currency": "bdt"}),
    )
    .await?;
    assert_eq!(text(&h, "#kasse-amount").await?, "১২,৩৪,৫৬৭.৫০৳");
    assert_eq!(text(&h, "label[for=card-number]").await?, "কার্ড নম্বর");
    assert_eq!(text(&h, "#pay-button").await?, "১২,৩৪,৫৬৭.৫০৳ পরিশোধ করুন");
    assert_eq!(
        h.js("return document.documentElement.lang").await?,
        json!("bn")
    );
    // A decline, in Bangla.
    h.type_card("4000000000009995").await?;
    h.find("#pay-button").await?.click().await?;
    let notice = h.wait_for_text("#kasse-notice", |t| !t.is_empty()).await?;
    assert_eq!(notice, "আপনার কার্ডে পর্যাপ্ত টাকা নেই। অন্য কার্ড ব্যবহার করুন।");
    let violations = h.axe().await?;
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    h.close().await
}

#[tokio::test]
async fn auto_follows_the_browsers_languages_then_english() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    h.browser.goto(&h.url("/")).await?;

    h.browser_languages("de-DE,mn;q=0.8,en;q=0.5").await?;
    open(&h, json!({"amount": 125_050, "currency": "mnt"})).await?;
    // WebDriver's text turns the no-break space into a space; the DOM has it.
    assert_eq!(
        h.js("return document.getElementById('kasse-amount').textContent")
            .await?,
        json!("₮\u{a0}1,250.50")
    );
    assert_eq!(text(&h, "label[for=card-cvc]").await?, "Аюулгүйн код");
    assert_eq!(
        h.js("return document.documentElement.lang").await?,
        json!("mn")
    );

    h.browser_languages("bn-BD").await?;
    open(
        &h,
        json!({"locale": "auto", "amount": 500, "currency": "jpy"}),
    )
    .await?;
    assert_eq!(text(&h, "#kasse-amount").await?, "৫০০¥");

    h.browser_languages("fr-FR,de").await?;
    open(&h, json!({"amount": 500, "currency": "jpy"})).await?;
    assert_eq!(text(&h, "#kasse-amount").await?, "¥500");
    assert_eq!(text(&h, "label[for=card-number]").await?, "Card number");
    h.close().await
}

#[tokio::test]
async fn pictures_of_the_page_in_each_language_scheme_and_width() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    h.browser.goto(&h.url("/")).await?;
    let sessions = [
        (
            "en",
            json!({"locale": "en", "amount": 1250, "currency": "usd"}),
        ),
        (
            "bn",
            json!({"locale": "bn", "amount": 125_050, "currency": "bdt"}),
        ),
        (
            "mn",
            json!({"locale": "mn", "amount": 4_500_000, "currency": "mnt"}),
        ),
    ];
    for (language, session) in sessions {
        for scheme in ["light", "dark"] {
            for (width, phone) in [("desktop", false), ("phone", true)] {
                h.phone_width(phone).await?;
                let mut session = session.clone();
                session["appearance"] = json!({ "color_scheme": scheme });
                open(&h, session).await?;
                // The form with an error showing, as a customer may see it.
                h.find("#card-number").await?.send_keys("4242 4242").await?;
                h.find("#card-expiry").await?.click().await?;
                h.wait_for_text("#card-number-error", |t| !t.is_empty())
                    .await?;
                let path = h
                    .screenshot(&format!("page-{language}-{scheme}-{width}"))
                    .await?;
                assert!(
                    std::fs::metadata(&path)?.len() > 10_000,
                    "{}",
                    path.display()
                );
            }
        }
    }
    h.phone_width(false).await?;
    h.close().await
}

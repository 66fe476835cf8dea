//! A payment link in real headless Chromium, from the email to the last
//! payment: the customer opens the link in the email a real SMTP server
//! received, pays part with 4242 4242 4242 4242, comes back later for the
//! rest; the merchant hears `payment_link.partially_paid` then `.paid`, and
//! once the clock passes the reminders' times none is sent for a paid link.

use std::sync::Arc;
use std::time::Duration;

use kasse_e2e::{Harness, PATIENCE};
use kasse_server::clock::ManualClock;
use kasse_server::mail::MailConfig;
use kasse_testkit::Receiver;
use kasse_testkit::smtp::SmtpSink;
use serde_json::{Value, json};

/// Pays what the link's page asks on the payment page, and waits to be
/// back on the link's page.
async fn pay_on_the_page(h: &Harness) -> anyhow::Result<()> {
    h.type_card("4242424242424242").await?;
    h.find("#pay-button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/l/")).await?;
    Ok(())
}

#[tokio::test]
async fn a_customer_pays_an_emailed_link_in_two_parts_and_no_reminder_follows() -> anyhow::Result<()>
{
    let sink = SmtpSink::start();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let clock = ManualClock::new(now);
    let (url, ca) = (sink.url(), sink.ca_file());
    let h = Harness::start_with(
        move |c| {
            c.mail = Some(MailConfig {
                ca_file: Some(ca),
                poll_interval: Duration::from_millis(100),
                ..MailConfig::new(url, "Kasse Demo Coffee <billing@demo.test>".into())
            })
        },
        Arc::new(clock.clone()),
    )
    .await?;
    let hooks = Receiver::start().await;
    let (status, _) = h.api(
        "/v1/webhook_endpoints",
        Some(json!({"url": hooks.url("/hooks"), "enabled_events": ["payment_link.partially_paid", "payment_link.paid"]})),
    )
    .await?;
    anyhow::ensure!(status == 201);
    let (status, link) = h
        .api(
            "/v1/payment_links",
            Some(json!({
                "line_items": [{"name": "Beans, 1 kg", "quantity": 2, "unit_amount": 2500},
                               {"name": "Grinder", "quantity": 1, "unit_amount": 5000}],
                "currency": "usd",
                "customer_data": {"name": "Ada", "email": "ada@example.com"},
                "partial": {"enabled": true, "minimum_first_amount": 2000},
                "notify": {"email": true},
                "reminders": {"offsets": ["-3d", "-1d"]},
                "expires_at": now + 7 * 86_400,
            })),
        )
        .await?;
    anyhow::ensure!(status == 201, "{link}");
    let id = link["id"].as_str().unwrap().to_string();

    // The link arrives by email; the customer opens it from there.
    let mails = sink.wait_for(PATIENCE, |m| !m.is_empty()).await;
    let text = mails[0].text();
    let start = text.find("http://").expect("a link in the email");
    let emailed = text[start..].split_whitespace().next().unwrap().to_string();
    assert_eq!(emailed, link["url"].as_str().unwrap());
    h.browser.goto(&emailed).await?;
    let page = h.find("main").await?.text().await?;
    assert!(
        page.contains("Beans, 1 kg") && page.contains("$100.00"),
        "{page}"
    );
    h.screenshot("payment-link").await?;
    assert_eq!(h.axe().await?, Vec::<String>::new());

    // Part of it now.
    let amount = h.find("#amount").await?;
    amount.clear().await?;
    amount.send_keys("30.00").await?;
    h.find("form button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/pay/")).await?;
    let shown = h.wait_for_text("body", |t| t.contains("$30.00")).await?;
    assert!(shown.contains("$30.00"));
    pay_on_the_page(&h).await?;
    let after = h
        .wait_for_text("main", |t| t.contains("Paid so far"))
        .await?;
    assert!(
        after.contains("$30.00") && after.contains("$70.00"),
        "{after}"
    );
    hooks
        .wait_for(PATIENCE, |r| {
            r.iter().any(|d| d.kind() == "payment_link.partially_paid")
        })
        .await;

    // The rest, later, from the same email.
    h.browser.goto(&emailed).await?;
    h.find("form button").await?.click().await?;
    h.wait_for_path(|p| p.starts_with("/pay/")).await?;
    pay_on_the_page(&h).await?;
    let done = h
        .wait_for_text("main", |t| t.contains("This has been paid in full"))
        .await?;
    assert!(done.contains("$100.00"), "{done}");
    h.screenshot("payment-link-paid").await?;
    let kinds: Vec<String> = hooks
        .wait_for(PATIENCE, |r| {
            r.iter().any(|d| d.kind() == "payment_link.paid")
        })
        .await
        .iter()
        .map(|d| d.kind())
        .collect();
    assert_eq!(kinds, ["payment_link.partially_paid", "payment_link.paid"]);

    // Two receipts followed the link; past every reminder's time, nothing more.
    sink.wait_for(PATIENCE, |m| m.len() == 3).await;
    clock.advance(9 * 86_400);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.received().len(), 3);
    let (_, emails) = h
        .api(&format!("/v1/payment_links/{id}/notifications"), None)
        .await?;
    let reminders: Vec<&Value> = emails["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["template"] == "reminder")
        .collect();
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders.iter().all(|n| n["status"] == "canceled"),
        "{reminders:?}"
    );
    h.close().await
}

#[tokio::test]
async fn the_link_page_speaks_bangla_and_mongolian_and_an_expired_link_says_so()
-> anyhow::Result<()> {
    let h = Harness::start().await?;
    let (_, link) = h
        .api(
            "/v1/payment_links",
            Some(
                json!({"amount": 150000, "currency": "bdt", "description": "চা",
                    "customer_data": {"locale": "bn"}, "partial": {"enabled": true}}),
            ),
        )
        .await?;
    let url = link["url"].as_str().unwrap();
    h.browser.goto(url).await?;
    let page = h.find("main").await?.text().await?;
    assert!(
        page.contains("এখন পরিশোধের পরিমাণ") && page.contains("৳"),
        "{page}"
    );
    assert_eq!(h.axe().await?, Vec::<String>::new());
    h.screenshot("payment-link-bn").await?;
    h.browser.goto(&format!("{url}?lang=mn")).await?;
    let page = h.find("main").await?.text().await?;
    assert!(page.contains("Одоо төлөх дүн"), "{page}");
    // Canceled meanwhile: its own screen, and nothing to pay.
    let (status, _) = h
        .api(
            &format!("/v1/payment_links/{}/cancel", link["id"].as_str().unwrap()),
            Some(json!({})),
        )
        .await?;
    anyhow::ensure!(status == 200);
    h.browser.goto(url).await?;
    let page = h.find("main").await?.text().await?;
    assert!(page.contains("বাতিল"), "{page}");
    assert!(
        h.browser
            .find(fantoccini::Locator::Css("form"))
            .await
            .is_err()
    );
    h.close().await
}

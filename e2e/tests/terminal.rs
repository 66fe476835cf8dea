//! The merchant terminal in Chromium: staff log in, take a card by phone,
//! refund half of it and list what happened; a viewer's refund and a wrong
//! password are refused; the card number is in neither the browser's
//! stored history nor the server's logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kasse_core::api::StaffRole;
use kasse_e2e::Harness;
use kasse_e2e::fantoccini::Locator;
use kasse_server::staff;

const PASSWORD: &str = "correct horse battery";
const ENTER: &str = "\u{E007}";
const ARROW_UP: &str = "\u{E013}";

/// Every log line the server writes while the test runs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Waits for the prompt to ask `prompt`, then types `text` and Enter.
async fn answer(h: &Harness, prompt: &str, text: &str) -> anyhow::Result<()> {
    h.wait_for_text("#kasse-prompt", |p| p.contains(prompt))
        .await?;
    let input = h.find("#kasse-input").await?;
    input.send_keys(&format!("{text}{ENTER}")).await?;
    Ok(())
}

/// A command at the logged-in prompt (`user@Merchant $`).
async fn command(h: &Harness, text: &str) -> anyhow::Result<()> {
    answer(h, "$", text).await
}

/// Waits for the scrollback to show `expected`; returns all of it.
async fn shows(h: &Harness, expected: &str) -> anyhow::Result<String> {
    h.wait_for_text("#kasse-screen", |t| t.contains(expected))
        .await
}

async fn log_in(h: &Harness, email: &str, password: &str) -> anyhow::Result<()> {
    answer(h, "email:", email).await?;
    answer(h, "password:", password).await
}

/// The word after `marker` in `text`.
fn word_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text.rfind(marker).expect("marker shown") + marker.len();
    text[start..].split_whitespace().next().unwrap()
}

#[tokio::test]
async fn staff_charge_refund_list_and_are_held_to_their_roles() -> anyhow::Result<()> {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let h = Harness::start().await?;
    for (email, role) in [
        ("clerk@demo.test", StaffRole::Operator),
        ("viewer@demo.test", StaffRole::Viewer),
    ] {
        staff::create_user(
            h.store.as_ref(),
            &h.demo.merchant_id,
            email,
            role,
            PASSWORD,
            0,
        )
        .await?;
    }
    h.browser.goto(&h.url("/terminal")).await?;

    // A wrong password is refused, and the prompt asks again.
    log_in(&h, "clerk@demo.test", "not the password").await?;
    shows(&h, "error: Wrong email or password.").await?;

    log_in(&h, "clerk@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as clerk@demo.test (operator)").await?;

    // A card by phone: the number is asked for, and echoed masked.
    command(&h, "charge 25.00 USD --ref phone-1").await?;
    answer(&h, "card number:", "4242 4242 4242 4242").await?;
    answer(&h, "expiry", "12/30").await?;
    answer(&h, "cvc:", "123").await?;
    answer(&h, "name on card", "Ada Lovelace").await?;
    let screen = shows(&h, "charged pay_").await?;
    let paid = word_after(&screen, "charged ").to_string();
    assert!(screen.contains("card number: Visa •••• 4242"), "{screen}");

    // Half of it back, after a y/N.
    command(
        &h,
        &format!("refund {paid} 12.50 --reason \"phone return\""),
    )
    .await?;
    answer(&h, "[y/N]", "y").await?;
    shows(&h, "refunded $12.50").await?;

    // Another, only authorised; then both in the list.
    command(&h, "charge 10 usd --manual").await?;
    answer(&h, "card number:", "5555555555554444").await?;
    answer(&h, "expiry", "1130").await?;
    answer(&h, "cvc:", "321").await?;
    answer(&h, "name on card", "").await?;
    let screen = shows(&h, "authorised pay_").await?;
    let held = word_after(&screen, "authorised ").to_string();
    command(&h, "ls").await?;
    h.wait_for_text("#kasse-screen", |t| {
        t.matches("STATUS").count() == 1 && t.contains("REFUNDED")
    })
    .await?;
    for (id, status, class, amount) in [
        (&paid, "partially_refunded", "back", "$25.00"),
        (&held, "requires_capture", "wait", "$10.00"),
    ] {
        let row = h
            .browser
            .find(Locator::XPath(&format!(
                "(//div[contains(@class,'line')][span[text()='{id}']])[last()]"
            )))
            .await?;
        let text = row.text().await?;
        assert!(text.contains(status) && text.contains(amount), "{text}");
        let status_span = row
            .find(Locator::XPath(&format!("span[text()='{status}']")))
            .await?;
        assert_eq!(status_span.attr("class").await?.as_deref(), Some(class));
    }
    h.screenshot("terminal-operator").await?;
    let violations = h.axe().await?;
    assert!(
        violations.is_empty(),
        "axe-core found\n{}",
        violations.join("\n")
    );

    // A payment's story, and a payment link with a QR code.
    command(&h, &format!("show {paid}")).await?;
    let screen = shows(&h, "refund.succeeded").await?;
    assert!(
        screen.contains("phone return") && screen.contains("keyed by staff"),
        "{screen}"
    );
    command(&h, "link 15 USD --ref link-1 --expires 2h").await?;
    let screen = shows(&h, "for $15.00, payable until").await?;
    assert!(screen.contains("Payment link plink_"), "{screen}");
    let link = h.find(".line span.link").await?.text().await?;
    assert!(link.starts_with(&h.url("/l/")), "{link}");
    let qr = h.browser.find_all(Locator::Css(".line.qr")).await?;
    assert!(qr.len() >= 15, "a QR code of {} lines", qr.len());

    // The balance, and the ledger rows of the payments above.
    command(&h, "balance").await?;
    let screen = shows(&h, "latest movements").await?;
    assert!(
        screen.contains("AVAILABLE") && screen.contains("refund"),
        "{screen}"
    );
    assert!(
        screen.contains("charge  ") && screen.contains(&paid),
        "{screen}"
    );

    // Tab completes a command, then a payment id.
    h.wait_for_text("#kasse-prompt", |p| p.contains('$'))
        .await?;
    let input = h.find("#kasse-input").await?;
    let prefix = &held[..8];
    input.send_keys(&format!("sh\t{prefix}")).await?;
    input.send_keys("\t").await?;
    let completed = input.prop("value").await?.unwrap_or_default();
    assert_eq!(completed, format!("show {held} "));
    input.clear().await?;
    command(&h, "ls").await?;

    // ↑ brings the last command back.
    h.wait_for_text("#kasse-prompt", |p| p.contains('$'))
        .await?;
    let input = h.find("#kasse-input").await?;
    input.send_keys(ARROW_UP).await?;
    assert_eq!(input.prop("value").await?.as_deref(), Some("ls"));
    input.clear().await?;

    // A viewer may look, but not refund.
    command(&h, "logout").await?;
    log_in(&h, "viewer@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as viewer@demo.test (viewer)").await?;
    command(&h, &format!("refund {paid} 1")).await?;
    answer(&h, "[y/N]", "y").await?;
    shows(
        &h,
        "error: Your role, viewer, cannot do this; it takes an operator.",
    )
    .await?;
    let payment = h
        .store
        .payment(&h.demo.merchant_id, &paid)
        .await?
        .expect("the payment exists");
    assert_eq!(payment.amount_refunded, 1250);

    // The card numbers are nowhere the browser keeps, nor in the logs.
    let stored = h
        .js("return JSON.stringify(Object.assign({}, window.localStorage));")
        .await?;
    let stored = stored.as_str().unwrap_or_default().to_string();
    assert!(
        stored.contains("charge 25.00 USD --ref phone-1"),
        "{stored}"
    );
    assert!(stored.contains(&format!("refund {paid} 1")), "{stored}");
    let page = h.find("#kasse-screen").await?.text().await?;
    let logged = logs.text();
    assert!(
        logged.contains("keyed payment"),
        "the server's logs were captured"
    );
    for number in [
        "4242424242424242",
        "4242 4242 4242 4242",
        "5555555555554444",
    ] {
        assert!(
            !stored.contains(number),
            "{number} in localStorage: {stored}"
        );
        assert!(!page.contains(number), "{number} on the page");
        assert!(!logged.contains(number), "{number} in the server's logs");
    }
    Ok(())
}

/// Kasse's API as the demo merchant's server calls it.
async fn merchant_api(
    h: &Harness,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let response = reqwest::Client::new()
        .post(h.url(path))
        .bearer_auth(&h.demo.secret_key)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

#[tokio::test]
async fn staff_see_customers_charge_a_saved_card_and_cancel_a_subscription() -> anyhow::Result<()> {
    use serde_json::json;
    let h = Harness::start().await?;
    staff::create_user(
        h.store.as_ref(),
        &h.demo.merchant_id,
        "clerk@demo.test",
        StaffRole::Operator,
        PASSWORD,
        0,
    )
    .await?;
    // A customer saves a card on the page (here through its API) and the
    // merchant's server subscribes them.
    let customer = merchant_api(
        &h,
        "/v1/customers",
        json!({"name": "Grace Hopper", "email": "grace@example.com"}),
    )
    .await?;
    let customer = customer["id"].as_str().unwrap().to_string();
    let session = merchant_api(
        &h,
        "/v1/checkout/sessions",
        json!({"amount": 1250, "currency": "USD", "customer": customer, "save_card": "required",
               "success_url": h.url("/shop/success"), "cancel_url": h.url("/shop/cancel")}),
    )
    .await?;
    let confirmed: serde_json::Value = reqwest::Client::new()
        .post(h.url(&format!("/v1/pay/{}/confirm", session["id"].as_str().unwrap())))
        .header(
            kasse_core::api::CLIENT_SECRET_HEADER,
            session["client_secret"].as_str().unwrap(),
        )
        .json(&json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}))
        .send()
        .await?
        .json()
        .await?;
    let payment: serde_json::Value = reqwest::Client::new()
        .get(h.url(&format!(
            "/v1/payments/{}",
            confirmed["payment_id"].as_str().unwrap()
        )))
        .bearer_auth(&h.demo.secret_key)
        .send()
        .await?
        .json()
        .await?;
    let card = payment["payment_method"].as_str().unwrap().to_string();
    let subscription = merchant_api(
        &h,
        "/v1/subscriptions",
        json!({"customer": customer, "payment_method": card, "amount": 990, "currency": "USD",
               "interval": "month", "start_at": 4_102_444_800i64}),
    )
    .await?;
    let subscription = subscription["id"].as_str().unwrap().to_string();

    h.browser.goto(&h.url("/terminal")).await?;
    log_in(&h, "clerk@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as clerk@demo.test (operator)").await?;
    command(&h, "customers").await?;
    shows(&h, "grace@example.com").await?;
    command(&h, &format!("customer {customer}")).await?;
    let screen = shows(&h, "subscriptions").await?;
    assert!(
        screen.contains(&card) && screen.contains("Visa •••• 4242"),
        "{screen}"
    );
    assert!(screen.contains(&subscription), "{screen}");

    // A charge of the saved card, the customer absent, after a y/N.
    command(
        &h,
        &format!("charge 9.90 USD --customer {customer} --card {card}"),
    )
    .await?;
    let screen = shows(&h, "[y/N]").await?;
    assert!(screen.contains("Charge $9.90 to"), "{screen}");
    answer(&h, "[y/N]", "y").await?;
    shows(&h, "charged pay_").await?;

    command(&h, "subscriptions").await?;
    shows(&h, "NEXT").await?;
    command(&h, &format!("cancel-subscription {subscription}")).await?;
    answer(&h, "[y/N]", "y").await?;
    shows(&h, &format!("canceled {subscription}")).await?;
    h.screenshot("terminal-customers").await?;
    h.close().await
}

#[tokio::test]
async fn staff_bill_by_email_follow_the_link_and_cancel_it() -> anyhow::Result<()> {
    use kasse_server::mail::MailConfig;
    use kasse_testkit::smtp::SmtpSink;
    let sink = SmtpSink::start();
    let (url, ca) = (sink.url(), sink.ca_file());
    let h = Harness::start_with(
        move |c| {
            c.mail = Some(MailConfig {
                ca_file: Some(ca),
                poll_interval: std::time::Duration::from_millis(100),
                ..MailConfig::new(url, "billing@demo.test".into())
            })
        },
        std::sync::Arc::new(kasse_server::clock::SystemClock),
    )
    .await?;
    staff::create_user(
        h.store.as_ref(),
        &h.demo.merchant_id,
        "clerk@demo.test",
        StaffRole::Operator,
        PASSWORD,
        0,
    )
    .await?;
    h.browser.goto(&h.url("/terminal")).await?;
    log_in(&h, "clerk@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as clerk@demo.test (operator)").await?;
    command(
        &h,
        "link USD --item \"Beans, 1 kg:2:12.50\" --item Filter:1:5 --email ada@example.com --partial --expires 14d",
    )
    .await?;
    let screen = shows(&h, "Emailed to ada@example.com").await?;
    assert!(screen.contains("for $30.00, in parts"), "{screen}");
    let link = word_after(&screen, "Payment link ").to_string();
    assert!(link.starts_with("plink_"), "{link}");
    let url = h.find(".line span.link").await?.text().await?;
    let mails = sink.wait_for(kasse_e2e::PATIENCE, |m| m.len() == 1).await;
    assert!(mails[0].text().contains(&url), "{}", mails[0].text());

    command(&h, "links").await?;
    let screen = shows(&h, &link).await?;
    assert!(screen.contains("ada@example.com"), "{screen}");
    command(&h, &format!("send {link}")).await?;
    shows(&h, "queued ntf_").await?;
    sink.wait_for(kasse_e2e::PATIENCE, |m| m.len() == 2).await;

    // The customer pays part of it (here through the link's page).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let to_pay = http.post(&url).form(&[("amount", "10")]).send().await?;
    let location = to_pay.headers()["location"].to_str()?.to_string();
    let (path, secret) = location.split_once('#').unwrap();
    let session = path.rsplit('/').next().unwrap();
    let paid = http
        .post(h.url(&format!("/v1/pay/{session}/confirm")))
        .header(kasse_core::api::CLIENT_SECRET_HEADER, secret)
        .json(&serde_json::json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}))
        .send()
        .await?;
    assert_eq!(paid.status(), 200);
    sink.wait_for(kasse_e2e::PATIENCE, |m| m.len() == 3).await;

    command(&h, &format!("link {link}")).await?;
    let screen = h
        .wait_for_text("#kasse-screen", |t| {
            t.lines()
                .any(|l| l.trim_start().starts_with("ntf_") && l.contains("receipt"))
        })
        .await?;
    for shown in [
        "partially_paid",
        "$10.00",
        "$20.00",
        "2 × Beans, 1 kg",
        "payment_link",
        "sent",
    ] {
        assert!(screen.contains(shown), "{shown} in {screen}");
    }
    command(&h, &format!("cancel-link {link}")).await?;
    answer(&h, "[y/N]", "y").await?;
    shows(&h, &format!("canceled {link} with $10.00 paid")).await?;
    h.screenshot("terminal-links").await?;
    h.close().await
}

#[tokio::test]
async fn staff_see_settlements_and_download_a_report() -> anyhow::Result<()> {
    use kasse_server::clock::ManualClock;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let clock = ManualClock::new(now);
    let h = Harness::start_with(
        |c| c.limits.sweep_interval = std::time::Duration::from_millis(100),
        Arc::new(clock.clone()),
    )
    .await?;
    staff::create_user(
        h.store.as_ref(),
        &h.demo.merchant_id,
        "clerk@demo.test",
        StaffRole::Viewer,
        PASSWORD,
        0,
    )
    .await?;
    let session = merchant_api(
        &h,
        "/v1/checkout/sessions",
        serde_json::json!({"amount": 4200, "currency": "USD", "order_reference": "=1+2",
               "success_url": h.url("/shop/success"), "cancel_url": h.url("/shop/cancel")}),
    )
    .await?;
    let paid = reqwest::Client::new()
        .post(h.url(&format!("/v1/pay/{}/confirm", session["id"].as_str().unwrap())))
        .header(
            kasse_core::api::CLIENT_SECRET_HEADER,
            session["client_secret"].as_str().unwrap(),
        )
        .json(&serde_json::json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}))
        .send()
        .await?;
    assert_eq!(paid.status(), 200);
    // A day later the day has settled (at midnight UTC, by default).
    clock.advance(86_400);
    let deadline = std::time::Instant::now() + kasse_e2e::PATIENCE;
    let settlement = loop {
        let (_, list) = h.api("/v1/settlements", None).await?;
        if let Some(id) = list["data"][0]["id"].as_str() {
            break id.to_string();
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "nothing settled");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let from_api = reqwest::Client::new()
        .get(h.url(&format!("/v1/settlements/{settlement}/report")))
        .bearer_auth(&h.demo.secret_key)
        .send()
        .await?;
    let sha = from_api.headers()["kasse-report-sha256"]
        .to_str()?
        .to_string();

    h.browser.goto(&h.url("/terminal")).await?;
    log_in(&h, "clerk@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as clerk@demo.test (viewer)").await?;
    command(&h, "settlements").await?;
    let screen = shows(&h, &settlement).await?;
    assert!(screen.contains("$42.00"), "{screen}");
    command(&h, &format!("report settlement {settlement}")).await?;
    let screen = shows(&h, "saved settlement-").await?;
    assert!(
        screen.contains(&sha),
        "the same bytes as from the API: {screen}"
    );
    assert!(screen.contains(".csv"), "{screen}");
    h.close().await
}

#[tokio::test]
async fn a_payout_above_the_threshold_waits_for_another_admin() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    for (email, role) in [
        ("clerk@demo.test", StaffRole::Operator),
        ("boss@demo.test", StaffRole::Admin),
    ] {
        staff::create_user(
            h.store.as_ref(),
            &h.demo.merchant_id,
            email,
            role,
            PASSWORD,
            0,
        )
        .await?;
    }
    h.store
        .set_payout_threshold(&h.demo.merchant_id, "USD", Some(20_000), 0)
        .await?;
    let (status, _) = h
        .api(
            "/v1/sandbox/top_ups",
            Some(serde_json::json!({"amount": 100_000, "currency": "USD"})),
        )
        .await?;
    assert_eq!(status, 201);

    // The operator pays a supplier; it is over the threshold, so it waits.
    h.browser.goto(&h.url("/terminal")).await?;
    log_in(&h, "clerk@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as clerk@demo.test (operator)").await?;
    command(
        &h,
        "payout 250.00 USD --account 000123450000 --bank-code SANDBDDH --holder \"Rahima Akter\" --country BD --ref supplier-17",
    )
    .await?;
    let screen = shows(&h, "another admin").await?;
    let payout = word_after(&screen, "requires_approval ").to_string();
    assert!(payout.starts_with("po_"), "{screen}");
    // An operator cannot approve it.
    command(&h, &format!("approve {payout}")).await?;
    answer(&h, "[y/N]", "y").await?;
    shows(
        &h,
        "error: Your role, operator, cannot do this; it takes an admin.",
    )
    .await?;

    // An admin can, after reading what it is.
    command(&h, "logout").await?;
    log_in(&h, "boss@demo.test", PASSWORD).await?;
    shows(&h, "Logged in as boss@demo.test (admin)").await?;
    command(&h, &format!("approve {payout}")).await?;
    let screen = shows(&h, "[y/N]").await?;
    assert!(
        screen.contains("$250.00 to bank …0000 (SANDBDDH) (Rahima Akter)"),
        "{screen}"
    );
    answer(&h, "[y/N]", "y").await?;
    shows(
        &h,
        &format!("approved {payout} $250.00 to bank …0000 (SANDBDDH): in_transit"),
    )
    .await?;
    // The admin's own big payout needs someone else.
    command(
        &h,
        "payout 300.00 USD --account 000123450000 --bank-code SANDBDDH --holder \"Rahima Akter\" --country BD --ref supplier-18",
    )
    .await?;
    h.wait_for_text("#kasse-screen", |t| t.contains("waits for another admin"))
        .await?;
    let (_, list) = h.api("/v1/payouts?status=requires_approval", None).await?;
    let own = list["data"][0]["id"].as_str().unwrap().to_string();
    command(&h, &format!("approve {own}")).await?;
    answer(&h, "[y/N]", "y").await?;
    shows(
        &h,
        "error: You made this payout; another admin must approve it.",
    )
    .await?;
    command(&h, "payouts").await?;
    h.wait_for_text("#kasse-screen", |t| {
        t.contains("in_transit") && t.contains("supplier-18")
    })
    .await?;

    let (_, approved) = h.api(&format!("/v1/payouts/{payout}"), None).await?;
    let boss = h
        .store
        .staff_user_by_email("boss@demo.test")
        .await?
        .expect("the admin exists");
    assert_eq!(approved["approved_by"], boss.id.as_str());
    assert_eq!(approved["status"], "in_transit");
    let (_, balance) = h.api("/v1/balance", None).await?;
    assert_eq!(balance["reserved"][0]["amount"], 55_000);
    assert_eq!(balance["available"][0]["amount"], 45_000);
    h.close().await
}

//! Payment links and invoices: made through the API, emailed through a real
//! SMTP server over STARTTLS, paid in parts from the link's own page, with
//! reminders that stop once paid, and emails retried, failed and never sent
//! twice.

use std::time::Duration;

use kasse_core::api::{CLIENT_SECRET_HEADER, NotificationList, PaymentLink};
use kasse_server::Config;
use kasse_server::mail::MailConfig;
use kasse_testkit::smtp::{Mail, SmtpSink};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, good_card, spawn_app, spawn_app_with};

const PATIENCE: Duration = Duration::from_secs(15);
const DAY: i64 = 24 * 3600;

/// Mail through `sink`, retried after a second, looked for every 50 ms.
fn mail_to(sink: &SmtpSink) -> impl FnOnce(&mut Config) + '_ {
    move |c: &mut Config| {
        c.mail = Some(MailConfig {
            ca_file: Some(sink.ca_file()),
            retry_base: Duration::from_secs(1),
            poll_interval: Duration::from_millis(50),
            ..MailConfig::new(sink.url(), "Test Shop <billing@shop.example>".into())
        })
    }
}

async fn create_link(app: &TestApp, body: Value) -> PaymentLink {
    let response = app.post("/v1/payment_links", &body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn link(app: &TestApp, id: &str) -> PaymentLink {
    app.get(&format!("/v1/payment_links/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn notifications(app: &TestApp, id: &str) -> Vec<kasse_core::api::Notification> {
    let list: NotificationList = app
        .get(&format!("/v1/payment_links/{id}/notifications"))
        .await
        .json()
        .await
        .unwrap();
    list.data
}

/// The link (`…/l/TOKEN`) an email carries, from its text body.
fn link_in(mail: &Mail) -> String {
    let text = mail.text();
    let start = text.find("http://").expect("a link in the email");
    text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts paying `amount` (as typed, or all that is due) on the link's
/// page; the session's id and client secret from where it sends the
/// customer.
async fn start_paying(url: &str, amount: Option<&str>) -> (String, String) {
    let form: Vec<(&str, &str)> = amount.map(|a| ("amount", a)).into_iter().collect();
    let response = no_redirects().post(url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (path, secret) = location
        .split_once('#')
        .expect("the secret in the fragment");
    let id = path.rsplit('/').next().unwrap().to_string();
    (id, secret.to_string())
}

async fn confirm(app: &TestApp, (id, secret): &(String, String)) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/pay/{id}/confirm")))
        .header(CLIENT_SECRET_HEADER, secret)
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .unwrap()
}

async fn wait_until(app: &TestApp, what: &str, done: impl AsyncFn(&TestApp) -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !done(app).await {
        if std::time::Instant::now() >= deadline {
            let rows: Value = app
                .get("/v1/payment_links?limit=100")
                .await
                .json()
                .await
                .unwrap();
            let mut seen = Vec::new();
            for l in rows["data"].as_array().unwrap() {
                seen.push(notifications(app, l["id"].as_str().unwrap()).await);
            }
            panic!("{what} did not happen in time: {seen:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_partial_link_is_emailed_paid_in_two_parts_and_its_reminders_stop_once_paid() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_to(&sink)).await;
    let made = create_link(
        &app,
        json!({
            "line_items": [{"name": "Tea", "quantity": 2, "unit_amount": 3000},
                           {"name": "Pot", "quantity": 1, "unit_amount": 4000}],
            "currency": "usd",
            "description": "Order 77",
            "customer_data": {"name": "Ada", "email": "ada@example.com"},
            "partial": {"enabled": true, "minimum_first_amount": 2500},
            "notify": {"email": true},
            "reminders": {"offsets": ["-3d", "-1d"]},
            "expires_at": crate::helpers::START + 10 * DAY,
        }),
    )
    .await;
    assert_eq!(
        (made.amount, made.amount_due, made.status.as_str()),
        (10000, 10000, "open")
    );
    // The link's email, over STARTTLS, from the configured sender.
    let mails = sink.wait_for(PATIENCE, |m| !m.is_empty()).await;
    let first = &mails[0];
    assert_eq!(first.to, ["ada@example.com"]);
    assert!(
        first.from.contains("billing@shop.example"),
        "{}",
        first.from
    );
    assert!(first.text().contains("$100.00"), "{}", first.text());
    assert!(first.html().contains("Order 77"));
    let url = link_in(first);
    assert_eq!(url, made.url);
    assert!(
        !first.data.contains(&made.id),
        "the email carries the token, not the id"
    );

    // The page shows the items and an amount to choose.
    let page = app
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for shown in ["Tea", "Pot", "$100.00", "Amount to pay now", "$25.00"] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    // Below the first payment's minimum: refused, nothing started.
    let low = no_redirects()
        .post(&url)
        .form(&[("amount", "10.00")])
        .send()
        .await
        .unwrap();
    assert_eq!(low.status(), 422);
    assert!(
        low.text()
            .await
            .unwrap()
            .contains("Enter an amount from $25.00 to $100.00")
    );

    let part = start_paying(&url, Some("40.00")).await;
    assert_eq!(confirm(&app, &part).await.status(), 200);
    let after_one = link(&app, &made.id).await;
    assert_eq!(
        (
            after_one.status.as_str(),
            after_one.amount_paid,
            after_one.amount_due
        ),
        ("partially_paid", 4000, 6000)
    );
    let receipts = sink.wait_for(PATIENCE, |m| m.len() >= 2).await;
    let receipt = receipts[1].text();
    assert!(
        receipt.contains("$40.00") && receipt.contains("Still to pay: $60.00"),
        "{receipt}"
    );
    assert!(receipt.contains("pay_"), "{receipt}");
    assert!(
        !receipt.contains("4242"),
        "no card data in email: {receipt}"
    );

    // The rest, from the same link later.
    let rest = start_paying(&url, None).await;
    assert_eq!(confirm(&app, &rest).await.status(), 200);
    let paid = link(&app, &made.id).await;
    assert_eq!(
        (paid.status.as_str(), paid.amount_paid, paid.amount_due),
        ("paid", 10000, 0)
    );
    let payments: Value = app
        .get(&format!("/v1/payments?payment_link={}", made.id))
        .await
        .json()
        .await
        .unwrap();
    let amounts: Vec<i64> = payments["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [6000, 4000], "newest first");
    let all = sink.wait_for(PATIENCE, |m| m.len() >= 3).await;
    assert!(
        all[2].text().contains("Nothing more is due."),
        "{}",
        all[2].text()
    );
    let kinds = app.event_kinds(30).await;
    let position = |kind: &str| {
        kinds
            .iter()
            .position(|k| k == kind)
            .unwrap_or_else(|| panic!("{kind} in {kinds:?}"))
    };
    // Newest first: paid after partially_paid after created.
    assert!(position("payment_link.paid") < position("payment_link.partially_paid"));
    assert!(position("payment_link.partially_paid") < position("payment_link.created"));

    // Past every reminder's time: none goes out for a paid link.
    app.clock.advance(10 * DAY);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reminders: Vec<_> = notifications(&app, &made.id)
        .await
        .into_iter()
        .filter(|n| n.template == "reminder")
        .collect();
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders
            .iter()
            .all(|n| n.status == "canceled" && n.attempts == 0),
        "{reminders:?}"
    );
    assert_eq!(sink.received().len(), 3);
    let page = app
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("This has been paid in full."), "{page}");
    // And it takes nothing more.
    let again = no_redirects().post(&url).send().await.unwrap();
    assert_eq!(again.status(), 409);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn reminders_go_out_at_their_times_while_the_link_is_unpaid() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_to(&sink)).await;
    let made = create_link(
        &app,
        json!({"amount": 5000, "currency": "usd",
               "customer_data": {"email": "bo@example.com", "locale": "mn"},
               "notify": {"email": true},
               "reminders": {"offsets": ["-3d", "-1d", "-2d"], "max": 2},
               "time_zone": "Asia/Ulaanbaatar",
               "expires_at": crate::helpers::START + 7 * DAY}),
    )
    .await;
    sink.wait_for(PATIENCE, |m| m.len() == 1).await;
    let scheduled: Vec<i64> = notifications(&app, &made.id)
        .await
        .iter()
        .filter(|n| n.template == "reminder")
        .map(|n| n.send_at)
        .collect();
    // The two soonest of three, by max.
    let expiry = crate::helpers::START + 7 * DAY;
    assert_eq!(scheduled, [expiry - 3 * DAY, expiry - 2 * DAY]);
    app.clock.advance(4 * DAY + 60);
    let mails = sink.wait_for(PATIENCE, |m| m.len() == 2).await;
    assert!(
        mails[1].text().contains("сануулж"),
        "a Mongolian reminder: {}",
        mails[1].text()
    );
    app.clock.advance(DAY);
    sink.wait_for(PATIENCE, |m| m.len() == 3).await;
    app.clock.advance(DAY);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sink.received().len(), 3, "max: 2 reminders");
}

#[tokio::test]
async fn a_server_that_defers_twice_takes_the_email_on_the_third_try_with_one_message_id() {
    let sink = SmtpSink::start();
    sink.answer(&[451, 451]);
    let app = spawn_app_with(mail_to(&sink)).await;
    let made = create_link(
        &app,
        json!({"amount": 1500, "currency": "usd", "customer_data": {"email": "cy@example.com"},
               "notify": {"email": true}}),
    )
    .await;
    for tries in 1..=2 {
        wait_until(&app, "a deferral", async |app: &TestApp| {
            let n = &notifications(app, &made.id).await[0];
            n.status == "deferred" && n.attempts == tries
        })
        .await;
        app.clock.advance(10);
    }
    sink.wait_for(PATIENCE, |m| m.len() == 1).await;
    let attempts = sink.attempts();
    assert_eq!(
        attempts.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [451, 451, 250]
    );
    let ids: std::collections::HashSet<_> = attempts
        .iter()
        .map(|(_, m)| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    wait_until(&app, "sent", async |app: &TestApp| {
        notifications(app, &made.id).await[0].status == "sent"
    })
    .await;
    let n = &notifications(&app, &made.id).await[0];
    assert_eq!(n.attempts, 3);
    assert_eq!(ids.into_iter().next().unwrap(), n.message_id);
    assert!(n.last_reply.as_deref().unwrap().starts_with("250"), "{n:?}");
    assert!(
        app.event_kinds(10)
            .await
            .contains(&"notification.sent".to_string())
    );
}

#[tokio::test]
async fn a_refusal_fails_the_email_at_once_and_tells_the_merchant() {
    let sink = SmtpSink::start();
    sink.answer(&[550]);
    let app = spawn_app_with(mail_to(&sink)).await;
    let made = create_link(
        &app,
        json!({"amount": 1500, "currency": "usd", "customer_data": {"email": "gone@example.com"},
               "notify": {"email": true}}),
    )
    .await;
    wait_until(&app, "a failure", async |app: &TestApp| {
        notifications(app, &made.id).await[0].status == "failed"
    })
    .await;
    let n = &notifications(&app, &made.id).await[0];
    assert_eq!(n.attempts, 1);
    assert!(n.last_reply.as_deref().unwrap().contains("550"), "{n:?}");
    app.clock.advance(3600);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.attempts().len(), 1, "a 5xx is not retried");
    assert!(
        app.event_kinds(10)
            .await
            .contains(&"notification.failed".to_string())
    );
}

#[tokio::test]
async fn an_expired_link_shows_its_screen_in_its_language_and_takes_no_payment() {
    let app = spawn_app().await;
    let made = create_link(
        &app,
        json!({"amount": 990, "currency": "bdt", "customer_data": {"locale": "bn"},
               "expires_at": crate::helpers::START + 3600}),
    )
    .await;
    // A session started before expiry dies with the link.
    let started = start_paying(&made.url, None).await;
    app.clock.advance(3601);
    let page = app.http.get(&made.url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("এই লিংকের মেয়াদ শেষ"), "{page}");
    assert!(page.contains("data-status=\"expired\""));
    assert!(!page.contains("<form"));
    assert_eq!(
        no_redirects()
            .post(&made.url)
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
    let refused = confirm(&app, &started).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(link(&app, &made.id).await.status, "expired");
    kasse_server::domain::links::sweep(&app.ctx).await.unwrap();
    assert!(
        app.event_kinds(5)
            .await
            .contains(&"payment_link.expired".to_string())
    );
    // A canceled link has its own screen, in English when asked.
    let other = create_link(&app, json!({"amount": 990, "currency": "bdt"})).await;
    assert_eq!(
        app.post(
            &format!("/v1/payment_links/{}/cancel", other.id),
            &json!({})
        )
        .await
        .status(),
        200
    );
    let page = app
        .http
        .get(format!("{}?lang=en", other.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Test Shop canceled it"), "{page}");
    expect_error(
        app.post(
            &format!("/v1/payment_links/{}/cancel", other.id),
            &json!({}),
        )
        .await,
        409,
        "payment_link_not_open",
    )
    .await;
    // An unknown token is simply not found.
    let missing = app
        .http
        .get(app.url("/l/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn two_customers_paying_the_last_part_at_once_only_one_is_charged() {
    let app = spawn_app().await;
    let made = create_link(
        &app,
        json!({"amount": 10000, "currency": "usd", "partial": {"enabled": true}}),
    )
    .await;
    let first = start_paying(&made.url, Some("40")).await;
    assert_eq!(confirm(&app, &first).await.status(), 200);
    // Two sessions for what is left, paid at the same moment.
    let all = start_paying(&made.url, Some("60")).await;
    let most = start_paying(&made.url, Some("59.99")).await;
    assert_ne!(all.0, most.0);
    let (a, b) = tokio::join!(confirm(&app, &all), confirm(&app, &most));
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.contains(&409), "{statuses:?}");
    let after = link(&app, &made.id).await;
    assert!(after.amount_paid <= after.amount);
    let captured = app
        .count(&format!(
            "SELECT CAST(coalesce(sum(p.amount_captured), 0) AS BIGINT) FROM payments p JOIN checkout_sessions s ON s.id = p.session_id WHERE s.payment_link_id = '{}'",
            made.id
        ))
        .await;
    assert_eq!(captured, after.amount_paid);
    // Whichever lost may pay what is still due, if anything.
    if after.status == "partially_paid" {
        assert_eq!(after.amount_due, 1);
    }
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn invoices_are_numbered_without_gaps_and_print_with_the_merchants_address() {
    let app = spawn_app().await;
    let invoice = |reference: &str| {
        json!({"line_items": [{"name": "Consulting", "quantity": 3, "unit_amount": 15000}],
               "currency": "usd", "merchant_reference": reference,
               "customer_data": {"name": "Dee", "email": "dee@example.com"},
               "invoice": {"merchant_address": "1 Main St\nDhaka", "due_date": "2026-12-15"}})
    };
    let one = create_link(&app, invoice("A-1")).await;
    let two = create_link(&app, invoice("A-2")).await;
    // A reference taken: refused, and its number goes back.
    let refused = app.post("/v1/payment_links", &invoice("A-2")).await;
    expect_error(refused, 400, "parameter_invalid").await;
    let three = create_link(&app, invoice("A-3")).await;
    let numbers: Vec<String> = [one, two, three.clone()]
        .iter()
        .map(|l| l.invoice.as_ref().unwrap().number.clone())
        .collect();
    assert_eq!(numbers, ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003"]);
    let page = app
        .http
        .get(format!("{}/invoice", three.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let page = page.text().await.unwrap();
    for shown in [
        "INV-2026-0003",
        "1 Main St",
        "Dhaka",
        "Consulting",
        "$450.00",
        "2026-12-15",
        "Dee",
        "@media print",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    // Another merchant's numbers start afresh.
    let other = app
        .other_merchant("Other", &["https://other.example"])
        .await;
    let theirs: PaymentLink = app
        .post_as(&other.secret_key, "/v1/payment_links", &invoice("A-1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.invoice.unwrap().number, "INV-2026-0001");
}

#[tokio::test]
async fn bad_links_are_refused_with_the_parameter_named() {
    let app = spawn_app().await;
    for (body, status, code, param) in [
        (
            json!({"amount": 100, "line_items": [{"name": "x", "quantity": 1, "unit_amount": 100}], "currency": "usd"}),
            400,
            "parameter_invalid",
            "line_items",
        ),
        (
            json!({"currency": "usd"}),
            400,
            "parameter_missing",
            "amount",
        ),
        (
            json!({"amount": 100, "currency": "usd", "reminders": {"offsets": ["3 days"]}}),
            400,
            "parameter_invalid",
            "reminders.offsets[0]",
        ),
        (
            json!({"amount": 100, "currency": "usd", "usage": "reusable", "partial": {"enabled": true}}),
            400,
            "parameter_invalid",
            "partial",
        ),
        (
            json!({"amount": 100, "currency": "usd", "partial": {"enabled": true, "minimum_first_amount": 101}}),
            400,
            "parameter_out_of_range",
            "partial.minimum_first_amount",
        ),
        (
            json!({"amount": 100, "currency": "usd", "expires_at": crate::helpers::START + 181 * DAY}),
            400,
            "parameter_out_of_range",
            "expires_at",
        ),
        (
            json!({"amount": 100, "currency": "usd", "time_zone": "Mars/Olympus"}),
            400,
            "parameter_invalid",
            "time_zone",
        ),
        (
            json!({"amount": 100, "currency": "usd", "customer_data": {"email": "a@example.com"}, "notify": {"email": true}}),
            422,
            "mail_unavailable",
            "",
        ),
    ] {
        let error = expect_error(app.post("/v1/payment_links", &body).await, status, code).await;
        assert_eq!(error.error.param.as_deref().unwrap_or(""), param, "{body}");
    }
    assert_eq!(app.count("SELECT count(*) FROM payment_links").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM customers").await, 0);
}

/// The `kasse` binary with mail through `smtp`.
async fn serve(
    database: &str,
    log: &std::path::Path,
    smtp: &str,
    ca: &str,
) -> kasse_testkit::Kasse {
    kasse_testkit::process::Kasse::serve(kasse_testkit::process::Serve {
        binary: std::path::Path::new(env!("CARGO_BIN_EXE_kasse")),
        database,
        secret: Some("mail crash test secret, long enough to use"),
        addr: "127.0.0.1:0".parse().unwrap(),
        log,
        args: &["--mail-retry-base-ms", "100"],
        env: &[
            ("KASSE_SMTP_URL", smtp),
            ("KASSE_MAIL_FROM", "billing@shop.example"),
            ("KASSE_SMTP_CA_FILE", ca),
        ],
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn emails_queued_when_kasse_is_killed_are_each_sent_once_after_it_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let database = if crate::postgres::wanted() {
        crate::postgres::fresh_database().await
    } else {
        dir.path().join("kasse.db").display().to_string()
    };
    let log = dir.path().join("kasse.log");
    let key = kasse_testkit::process::create_merchant(
        std::path::Path::new(env!("CARGO_BIN_EXE_kasse")),
        &database,
        Some("mail crash test secret, long enough to use"),
        "Shop",
        "https://shop.example",
    )
    .unwrap();
    // The mail server is down at first: every email is deferred.
    let sink = SmtpSink::start();
    sink.set_down(true);
    let (smtp, ca) = (sink.url(), sink.ca_file().display().to_string());
    let kasse = serve(&database, &log, &smtp, &ca).await;
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for n in 0..3 {
        let made: PaymentLink = http
            .post(format!("{}/v1/payment_links", kasse.base))
            .bearer_auth(&key)
            .json(
                &json!({"amount": 100 + n, "currency": "usd", "notify": {"email": true},
                          "customer_data": {"email": format!("c{n}@example.com")}}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(made.id);
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    while kasse_testkit_count(
        &database,
        "SELECT count(*) FROM notifications WHERE status = 'deferred'",
    )
    .await
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the emails were not tried"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kasse.kill_9();
    // The mail server is back; so is Kasse.
    sink.set_down(false);
    let kasse = serve(&database, &log, &smtp, &ca).await;
    let mails = sink.wait_for(PATIENCE, |m| m.len() >= 3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails_after = sink.received();
    assert_eq!(
        mails_after.len(),
        3,
        "each once: {:?}",
        mails.iter().map(|m| m.to.clone()).collect::<Vec<_>>()
    );
    let recipients: std::collections::BTreeSet<_> =
        mails_after.iter().map(|m| m.to[0].clone()).collect();
    assert_eq!(recipients.len(), 3);
    assert_eq!(
        kasse_testkit_count(
            &database,
            "SELECT count(*) FROM notifications WHERE status = 'sent'"
        )
        .await,
        3
    );
    kasse.terminate();
}

async fn kasse_testkit_count(database: &str, sql: &str) -> i64 {
    crate::helpers::count_in(database, sql).await
}

#[tokio::test]
async fn any_checkout_with_a_customer_email_sends_a_receipt_when_kasse_has_mail() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_to(&sink)).await;
    let payment = app.paid_payment(1250, false).await;
    let mails = sink.wait_for(PATIENCE, |m| !m.is_empty()).await;
    assert_eq!(mails[0].to, ["ada@example.com"]);
    let text = mails[0].text();
    assert!(
        text.contains("$12.50") && text.contains(&payment.id),
        "{text}"
    );
    assert!(text.contains("Nothing more is due."), "{text}");
    // A decline sends nothing.
    let session = app.create_session().await;
    let declined = app.confirm(&session, &good_card("4000000000000002")).await;
    assert_eq!(declined.status(), 402);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 1);
    assert_eq!(app.count("SELECT count(*) FROM notifications").await, 1);
}

#[tokio::test]
async fn a_link_given_a_new_url_no_longer_opens_at_the_old_one() {
    let app = spawn_app().await;
    let made = create_link(
        &app,
        json!({"amount": 700, "currency": "usd", "description": "Lamp"}),
    )
    .await;
    let renewed: PaymentLink = app
        .post(
            &format!("/v1/payment_links/{}/new_url", made.id),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(renewed.url, made.url);
    assert_eq!(app.http.get(&made.url).send().await.unwrap().status(), 404);
    let page = app
        .http
        .get(&renewed.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Lamp") && page.contains("Pay $7.00"),
        "{page}"
    );
    // Nor does the stored token give it away: only its hash and a sealed copy.
    let token = renewed.url.rsplit('/').next().unwrap();
    assert!(!app.stored_text().await.contains(token));
    // Updated while open: what it shows changes, what it asks does not.
    let updated: PaymentLink = app
        .post(
            &format!("/v1/payment_links/{}", made.id),
            &json!({"description": "Brass lamp"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (updated.description.as_deref(), updated.amount),
        (Some("Brass lamp"), 700)
    );
    expect_error(
        app.post(
            &format!("/v1/payment_links/{}", made.id),
            &json!({"amount": 5}),
        )
        .await,
        400,
        "parameter_unknown",
    )
    .await;
}

#[tokio::test]
async fn an_invoices_reminders_count_from_its_due_date_and_may_follow_it() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_to(&sink)).await;
    let body = |due: &str| {
        json!({"amount": 9900, "currency": "usd", "customer_data": {"email": "dee@example.com"},
               "notify": {"email": true}, "reminders": {"offsets": ["-1d", "+1d", "+30d"]},
               "time_zone": "Asia/Dhaka", "invoice": {"due_date": due},
               "expires_at": crate::helpers::START + 10 * DAY})
    };
    let made = create_link(&app, body("2026-11-25")).await;
    let at = |local: &str| {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Asia/Dhaka").unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    };
    let reminders: Vec<i64> = notifications(&app, &made.id)
        .await
        .iter()
        .filter(|n| n.template == "reminder")
        .map(|n| n.send_at)
        .collect();
    // +30d falls after the link expires: not scheduled.
    assert_eq!(reminders, [at("2026-11-24T09:00"), at("2026-11-26T09:00")]);
    // The email names the invoice, its total and the link.
    let mail = &sink.wait_for(PATIENCE, |m| m.len() == 1).await[0];
    let text = mail.text();
    for shown in ["INV-2026-0001", "$99.00", made.url.as_str(), "/invoice"] {
        assert!(text.contains(shown), "{shown} in {text}");
    }
    assert!(mail.header("Subject").unwrap().contains("INV-2026-0001"));
    // Sent again on request, a few times a minute at most.
    for _ in 0..3 {
        let queued = app
            .post(&format!("/v1/payment_links/{}/send", made.id), &json!({}))
            .await;
        assert_eq!(queued.status(), 202);
    }
    expect_error(
        app.post(&format!("/v1/payment_links/{}/send", made.id), &json!({}))
            .await,
        429,
        "rate_limited",
    )
    .await;
    sink.wait_for(PATIENCE, |m| m.len() == 4).await;
    let late = app.post("/v1/payment_links", &body("2026-12-30")).await;
    let error = expect_error(late, 400, "parameter_out_of_range").await;
    assert_eq!(error.error.param.as_deref(), Some("invoice.due_date"));
}

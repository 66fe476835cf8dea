//! Subscriptions through the API: their calendar, their cycles charged
//! exactly once by two instances sweeping at once, declines retried on
//! schedule then halted, pause, resume and cancel; and, through the
//! `kasse` binary, a process killed between the acquirer's answer and the
//! commit charging nothing twice. On SQLite, and on PostgreSQL under
//! `KASSE_TEST_STORE=postgres`.

use kasse_core::api::{ConfirmResponse, Subscription, UpcomingList};
use kasse_server::domain::subscriptions;
use serde_json::{Value, json};

use crate::helpers::{
    START, TestApp, expect_error, good_card, session_body, spawn_app, spawn_app_with,
};

const DAY: i64 = 86_400;

/// A customer with `number` saved (for off-session use) by a paid session.
async fn customer_with_card(app: &TestApp, number: &str) -> (String, String) {
    let response = app.post("/v1/customers", &json!({"name": "Ada"})).await;
    let customer: Value = response.json().await.unwrap();
    let customer = customer["id"].as_str().unwrap().to_string();
    let mut body = session_body();
    body["customer"] = json!(customer);
    body["save_card"] = json!("required");
    let session = app.create_session_with(body).await;
    let response = app.confirm(&session, &good_card(number)).await;
    let ConfirmResponse::Succeeded { payment_id, .. } = response.json().await.unwrap() else {
        panic!("saving {number} succeeds");
    };
    let pm = app.payment(&payment_id).await.payment_method.unwrap();
    (customer, pm)
}

async fn subscribe(app: &TestApp, body: Value) -> Subscription {
    let response = app.post("/v1/subscriptions", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn read(app: &TestApp, id: &str) -> Subscription {
    app.get(&format!("/v1/subscriptions/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn acquirer_charges(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM sandbox_authorizations")
        .await
}

#[tokio::test]
async fn a_monthly_subscription_on_the_31st_keeps_its_calendar_in_its_time_zone() {
    let app = spawn_app().await;
    let (customer, pm) = customer_with_card(&app, "4242424242424242").await;
    // START is 2026-11-21 12:00 UTC; anchored on the 31st at 09:00 in Dhaka.
    let s = subscribe(
        &app,
        json!({"customer": customer, "payment_method": pm, "amount": 990, "currency": "USD",
               "interval": "month", "time_zone": "Asia/Dhaka",
               "anchor": {"day": 31, "time": "09:00"}, "end_after_cycles": 4}),
    )
    .await;
    assert!(s.id.starts_with("sub_"));
    assert_eq!(s.status, "active");
    assert_eq!(s.anchor_day, 31);
    let upcoming: UpcomingList = app
        .get(&format!("/v1/subscriptions/{}/upcoming?count=6", s.id))
        .await
        .json()
        .await
        .unwrap();
    let local: Vec<&str> = upcoming.data.iter().map(|c| c.local.as_str()).collect();
    assert_eq!(
        local,
        [
            "2026-11-30T09:00:00+06:00",
            "2026-12-31T09:00:00+06:00",
            "2027-01-31T09:00:00+06:00",
            "2027-02-28T09:00:00+06:00",
        ],
        "four cycles, the 31st clamped to November's and February's ends"
    );
    assert_eq!(upcoming.data[0].at, s.next_charge_at.unwrap());
    assert_eq!(upcoming.data[0].at, 1_796_007_600);

    // Refusals, each naming its field.
    let base = json!({"customer": customer, "payment_method": pm, "amount": 990, "currency": "USD", "interval": "month"});
    for (change, code, param) in [
        (
            json!({"interval": "fortnight"}),
            "parameter_invalid",
            "interval",
        ),
        (
            json!({"time_zone": "Mars/Olympus"}),
            "parameter_invalid",
            "time_zone",
        ),
        (
            json!({"anchor": {"time": "9am"}}),
            "parameter_invalid",
            "anchor.time",
        ),
        (
            json!({"anchor": {"day": 32}}),
            "parameter_invalid",
            "anchor.day",
        ),
        (
            json!({"interval_count": 0}),
            "parameter_invalid",
            "interval_count",
        ),
        (
            json!({"start_at": START - DAY}),
            "parameter_out_of_range",
            "start_at",
        ),
        (
            json!({"end_after_cycles": 0}),
            "parameter_out_of_range",
            "end_after_cycles",
        ),
        (json!({"currency": "EUR"}), "currency_mismatch", "currency"),
        (
            json!({"customer": "cus_nobody"}),
            "resource_missing",
            "customer",
        ),
    ] {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let detail = expect_error(app.post("/v1/subscriptions", &body).await, 400, code).await;
        assert_eq!(detail.error.param.as_deref(), Some(param), "{change}");
    }
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn two_instances_sweeping_at_once_charge_each_month_exactly_once() {
    let app = spawn_app().await;
    let database_url = app.database_url.clone();
    let other = spawn_app_with(|config| config.database_url = database_url).await;
    let (customer, pm) = customer_with_card(&app, "4242424242424242").await;
    let s = subscribe(
        &app,
        json!({"customer": customer, "payment_method": pm, "amount": 1500, "currency": "USD",
               "interval": "month", "time_zone": "Europe/Berlin", "end_after_cycles": 6}),
    )
    .await;
    let mut month = 0;
    while month < 8 {
        // Four sweeps from each instance at once, at the same moment.
        let sweeps = (0..4).flat_map(|_| {
            [
                subscriptions::sweep(&app.ctx),
                subscriptions::sweep(&other.ctx),
            ]
        });
        for swept in futures_util::future::join_all(sweeps).await {
            swept.unwrap();
        }
        let now = read(&app, &s.id).await;
        assert_eq!(now.cycles_paid, (month + 1).min(6) as u32, "month {month}");
        month += 1;
        // To the next month's charge, on both instances' clocks.
        app.clock.advance(32 * DAY);
        other.clock.advance(32 * DAY);
    }
    let done = read(&app, &s.id).await;
    assert_eq!(done.status, "completed");
    assert_eq!(done.next_charge_at, None);
    assert_eq!(
        acquirer_charges(&app).await,
        6,
        "the acquirer was asked six times, no more"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM payments WHERE off_session = 1")
            .await,
        6
    );
    assert_eq!(
        app.count("SELECT count(DISTINCT number) FROM subscription_cycles WHERE status = 'paid'")
            .await,
        6
    );
    let kinds = app.event_kinds(100).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "subscription.charged")
            .count(),
        6
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "subscription.completed")
            .count(),
        1
    );
    assert!(kinds.iter().any(|k| k == "subscription.created"));
}

#[tokio::test]
async fn a_declined_cycle_is_retried_after_one_three_and_five_days_then_halts() {
    let app = spawn_app().await;
    let (customer, pm) = customer_with_card(&app, "4000000000000341").await;
    let s = subscribe(
        &app,
        json!({"customer": customer, "payment_method": pm, "amount": 700, "currency": "USD",
               "interval": "week"}),
    )
    .await;
    let due = s.next_charge_at.unwrap();
    subscriptions::sweep(&app.ctx).await.unwrap();
    let after = read(&app, &s.id).await;
    assert_eq!(after.status, "past_due");
    assert_eq!(after.next_charge_at, Some(due + DAY));
    assert_eq!(acquirer_charges(&app).await, 1);
    // Not retried before its time.
    app.clock.advance(DAY - 60);
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 1);
    for (tries, retry_day) in [(2, 3), (3, 5)] {
        app.clock.set(due + [1, 3, 5][tries - 2] * DAY);
        subscriptions::sweep(&app.ctx).await.unwrap();
        assert_eq!(acquirer_charges(&app).await, tries as i64);
        let after = read(&app, &s.id).await;
        assert_eq!(after.status, "past_due");
        assert_eq!(after.next_charge_at, Some(due + retry_day * DAY));
    }
    app.clock.set(due + 5 * DAY);
    subscriptions::sweep(&app.ctx).await.unwrap();
    let halted = read(&app, &s.id).await;
    assert_eq!(halted.status, "halted");
    assert_eq!(halted.next_charge_at, None);
    assert_eq!(halted.cycles_paid, 0);
    app.clock.advance(30 * DAY);
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 4, "nothing after halting");
    let kinds = app.event_kinds(100).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "subscription.past_due")
            .count(),
        1
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "subscription.halted")
            .count(),
        1
    );
    assert_eq!(kinds.iter().filter(|k| **k == "payment.failed").count(), 4);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_paused_subscription_charges_nothing_and_resumes_at_its_next_date() {
    let app = spawn_app().await;
    let (customer, pm) = customer_with_card(&app, "4242424242424242").await;
    let s = subscribe(
        &app,
        json!({"customer": customer, "payment_method": pm, "amount": 500, "currency": "USD",
               "interval": "month", "anchor": {"day": 1, "time": "00:00"}}),
    )
    .await;
    // The first cycle: 2026-12-01.
    assert_eq!(s.next_charge_at, Some(1_796_083_200));
    let paused = app
        .post(&format!("/v1/subscriptions/{}/pause", s.id), &json!({}))
        .await;
    assert_eq!(paused.status(), 200);
    let again = app
        .post(&format!("/v1/subscriptions/{}/pause", s.id), &json!({}))
        .await;
    expect_error(again, 409, "subscription_invalid_status").await;
    // Two months pass: nothing is charged.
    app.clock.set(1_801_000_000); // 2027-01-27
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 0);
    let resumed: Subscription = app
        .post(&format!("/v1/subscriptions/{}/resume", s.id), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed.status, "active");
    assert_eq!(resumed.current_cycle, 2, "December and January are skipped");
    assert_eq!(resumed.next_charge_at, Some(1_801_440_000), "2027-02-01");
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 0, "not due yet");
    app.clock.set(1_801_440_000);
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 1);

    let canceled = app
        .post(&format!("/v1/subscriptions/{}/cancel", s.id), &json!({}))
        .await;
    assert_eq!(canceled.status(), 200);
    app.clock.advance(40 * DAY);
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 1, "nothing after canceling");
    let upcoming: UpcomingList = app
        .get(&format!("/v1/subscriptions/{}/upcoming", s.id))
        .await
        .json()
        .await
        .unwrap();
    assert!(upcoming.data.is_empty());
    let list: Value = app
        .get(&format!("/v1/subscriptions?customer={customer}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["id"], s.id.as_str());
    assert_eq!(list["data"][0]["status"], "canceled");
}

#[tokio::test]
async fn a_revoked_mandate_fails_the_cycle_without_asking_the_acquirer() {
    let app = spawn_app().await;
    let (customer, pm) = customer_with_card(&app, "4242424242424242").await;
    let s = subscribe(
        &app,
        json!({"customer": customer, "payment_method": pm, "amount": 500, "currency": "USD",
               "interval": "day"}),
    )
    .await;
    let revoked = app
        .post(
            &format!("/v1/mandates/{}/revoke", s.mandate.clone().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 0);
    assert_eq!(read(&app, &s.id).await.status, "past_due");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM subscription_cycles WHERE last_decline = 'mandate_revoked'"
        )
        .await,
        1
    );
}

/// The `kasse` binary, started as an operator would, with a vault key
/// file, a quick sweeper and a short cycle lease.
async fn serve(
    database: &str,
    log: &std::path::Path,
    key_file: &str,
    failpoint: bool,
) -> kasse_testkit::process::Kasse {
    let mut env = vec![("KASSE_VAULT_KEY_FILE", key_file)];
    if failpoint {
        env.push(("KASSE_FAILPOINT", "subscription-after-acquirer"));
    }
    kasse_testkit::process::Kasse::serve(kasse_testkit::process::Serve {
        binary: std::path::Path::new(env!("CARGO_BIN_EXE_kasse")),
        database,
        secret: Some(PROCESS_SECRET),
        addr: "127.0.0.1:0".parse().unwrap(),
        log,
        args: &[
            "--sweep-interval-ms",
            "100",
            "--subscription-lease-seconds",
            "1",
        ],
        env: &env,
    })
    .await
    .unwrap()
}

const PROCESS_SECRET: &str = "subscription crash test secret, long enough";

#[tokio::test]
async fn a_process_dying_between_the_acquirers_answer_and_the_commit_never_charges_twice() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let database = if crate::postgres::wanted() {
        crate::postgres::fresh_database().await
    } else {
        dir.path().join("data/kasse.db").display().to_string()
    };
    let key_file = keys.path().join("vault.key");
    std::fs::write(&key_file, kasse_server::vault::Vault::generate_key()).unwrap();
    let key_file = key_file.display().to_string();
    let log = dir.path().join("kasse.log");
    let key = kasse_testkit::process::create_merchant(
        std::path::Path::new(env!("CARGO_BIN_EXE_kasse")),
        &database,
        Some(PROCESS_SECRET),
        "Shop",
        "https://shop.example",
    )
    .unwrap();
    let http = reqwest::Client::new();
    let kasse = serve(&database, &log, &key_file, true).await;
    let base = kasse.base.clone();
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let customer: Value = post("/v1/customers", json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session: Value = post(
        "/v1/checkout/sessions",
        json!({"amount": 500, "currency": "USD", "customer": customer["id"], "save_card": "required",
               "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let paid: Value = http
        .post(format!(
            "{base}/v1/pay/{}/confirm",
            session["id"].as_str().unwrap()
        ))
        .header(
            kasse_core::api::CLIENT_SECRET_HEADER,
            session["client_secret"].as_str().unwrap(),
        )
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payment: Value = http
        .get(format!(
            "{base}/v1/payments/{}",
            paid["payment_id"].as_str().unwrap()
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Due at once: the sweeper charges it, and the process dies the moment
    // the acquirer has answered.
    let subscription: Value = post(
        "/v1/subscriptions",
        json!({"customer": customer["id"], "payment_method": payment["payment_method"],
               "amount": 700, "currency": "USD", "interval": "month"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.is_ok() {
        assert!(Instant::now() < deadline, "the failpoint never fired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(kasse);
    let charged = "SELECT count(*) FROM sandbox_authorizations";
    assert_eq!(crate::helpers::count_in(&database, charged).await, 1);
    assert_eq!(
        crate::helpers::count_in(
            &database,
            "SELECT count(*) FROM payments WHERE off_session = 1"
        )
        .await,
        0,
        "the charge was never recorded"
    );

    // Meanwhile the customer revokes the mandate: the charge made before
    // still stands, and is recorded.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&kasse_server::config::database_url(&database))
        .await
        .unwrap();
    sqlx::query("UPDATE mandates SET status = 'revoked'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // Restarted: the cycle is settled from the acquirer's books.
    let kasse = serve(&database, &log, &key_file, false).await;
    let url = format!(
        "{}/v1/subscriptions/{}",
        kasse.base,
        subscription["id"].as_str().unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now: Value = http
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if now["cycles_paid"] == 1 {
            assert_eq!(now["status"], "active");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cycle was never settled: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kasse.terminate();
    assert_eq!(
        crate::helpers::count_in(&database, charged).await,
        1,
        "the acquirer was not asked to charge again"
    );
    assert_eq!(
        crate::helpers::count_in(
            &database,
            "SELECT count(*) FROM payments p JOIN sandbox_authorizations a ON a.reference = p.id
             WHERE p.off_session = 1 AND p.status = 'succeeded'"
        )
        .await,
        1,
        "the payment recorded is the one the acquirer made"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("found at the acquirer"), "{logged}");
}

#[tokio::test]
async fn deleting_the_customer_cancels_their_subscriptions() {
    let app = spawn_app().await;
    let (customer, pm) = customer_with_card(&app, "4242424242424242").await;
    let s = subscribe(
        &app,
        json!({"customer": customer, "payment_method": pm, "amount": 500, "currency": "USD",
               "interval": "month", "start_at": START + 10 * DAY}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/v1/customers/{customer}"))
            .await
            .status(),
        200
    );
    let after = read(&app, &s.id).await;
    assert_eq!(after.status, "canceled");
    assert_eq!(after.next_charge_at, None);
    app.clock.advance(20 * DAY);
    subscriptions::sweep(&app.ctx).await.unwrap();
    assert_eq!(acquirer_charges(&app).await, 0);
    let events: Value = app.get("/v1/events?limit=20").await.json().await.unwrap();
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "subscription.canceled")
    );
}

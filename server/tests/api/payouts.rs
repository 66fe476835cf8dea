//! Payouts: reserved from the available balance at once, never more than
//! is there, never paid twice; the sandbox's rails as documented; an admin
//! other than the maker approves big ones; a settlement paid out; reports
//! over an interval.

use std::sync::atomic::{AtomicU64, Ordering};

use kasse_core::api::{Balance, BalanceTransactionList, CurrencyAmount, Payout, PayoutList};
use kasse_server::clock::Clock;
use kasse_server::domain::payouts;
use serde_json::{Value, json};

use crate::helpers::{START, TestApp, expect_error, spawn_app};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

fn usd(amount: i64) -> Vec<CurrencyAmount> {
    vec![CurrencyAmount {
        amount,
        currency: "USD".into(),
    }]
}

async fn balance(app: &TestApp) -> Balance {
    app.get("/v1/balance").await.json().await.unwrap()
}

/// POSTs with a fresh Idempotency-Key, or `key`.
async fn post_keyed(
    app: &TestApp,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(&app.merchant.secret_key)
        .header(
            "Idempotency-Key",
            key.map_or_else(
                || {
                    static NEXT: AtomicU64 = AtomicU64::new(0);
                    format!("payout-test-{}", NEXT.fetch_add(1, Ordering::SeqCst))
                },
                str::to_string,
            ),
        )
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn top_up(app: &TestApp, amount: i64) {
    let response = post_keyed(
        app,
        "/v1/sandbox/top_ups",
        &json!({"amount": amount, "currency": "USD"}),
        None,
    )
    .await;
    assert_eq!(response.status(), 201);
}

fn to_bank(amount: i64, account: &str, reference: &str) -> Value {
    json!({
        "amount": amount, "currency": "USD",
        "destination": {"bank_account": {"account_number": account, "bank_code": "SANDBDDH",
            "account_holder": "Rahima Akter", "country": "BD"}},
        "merchant_reference": reference, "purpose": "Supplier invoice 17",
    })
}

fn to_card(amount: i64, number: &str, reference: &str) -> Value {
    json!({
        "amount": amount, "currency": "USD",
        "destination": {"card": {"number": number, "exp_month": 12, "exp_year": 2034}},
        "merchant_reference": reference, "purpose": "Refund of order 17",
    })
}

async fn pay_out(app: &TestApp, body: &Value) -> Payout {
    let response = post_keyed(app, "/v1/payouts", body, None).await;
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"))
}

async fn payout(app: &TestApp, id: &str) -> Payout {
    app.get(&format!("/v1/payouts/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn sweep(app: &TestApp) {
    payouts::sweep(&app.ctx).await.unwrap();
}

#[tokio::test]
async fn payouts_reserve_at_once_follow_the_sandbox_rails_and_never_pay_twice() {
    let app = spawn_app().await;
    top_up(&app, 100_000).await;
    assert_eq!(balance(&app).await.available, usd(100_000));

    // Without an Idempotency-Key, nothing is made.
    let bare = app
        .post("/v1/payouts", &to_card(1000, "4242424242424242", "r-0"))
        .await;
    expect_error(bare, 400, "idempotency_key_required").await;
    assert_eq!(app.count("SELECT count(*) FROM payouts").await, 0);

    // A card is paid at once; a retry with the same key replays it.
    let body = to_card(1000, "4242 4242 4242 4242", "r-1");
    let first = post_keyed(&app, "/v1/payouts", &body, Some("key-r-1")).await;
    assert_eq!(first.status(), 201);
    let card: Payout = first.json().await.unwrap();
    assert_eq!(card.status, "paid");
    assert_eq!(card.destination.kind, "card");
    assert_eq!(card.destination.last4, "4242");
    assert_eq!(card.created_by, "api");
    let again: Payout = post_keyed(&app, "/v1/payouts", &body, Some("key-r-1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.id, card.id);
    // The same reference under another key, days later, pays nothing.
    app.clock.advance(3 * DAY);
    let reused = post_keyed(&app, "/v1/payouts", &body, None).await;
    let error = expect_error(reused, 409, "payout_reference_reused").await;
    assert!(
        error.error.message.contains(&card.id),
        "{}",
        error.error.message
    );
    assert_eq!(balance(&app).await.available, usd(99_000));
    assert_eq!(
        app.store.sandbox_transfers(&card.id).await.unwrap().len(),
        1
    );

    // More than is available: refused, and nothing is written.
    let greedy = post_keyed(
        &app,
        "/v1/payouts",
        &to_bank(99_001, "000123450000", "r-2"),
        None,
    )
    .await;
    let error = expect_error(greedy, 409, "balance_insufficient").await;
    assert!(
        error.error.message.contains("990.00"),
        "{}",
        error.error.message
    );
    assert_eq!(app.count("SELECT count(*) FROM payouts").await, 1);

    // The card the sandbox cannot credit: failed, and the money is back.
    let ineligible = pay_out(&app, &to_card(500, "4000000000005126", "r-3")).await;
    assert_eq!(ineligible.status, "failed");
    assert_eq!(
        ineligible.failure_code.as_deref(),
        Some("card_not_eligible")
    );
    assert_eq!(balance(&app).await.available, usd(99_000));

    // Bank accounts: on their way until the next cycle, on the hour.
    let now = app.clock.now();
    let cycle = (now / HOUR + 1) * HOUR;
    let paid = pay_out(&app, &to_bank(10_000, "DE00 1234 5678 0000", "r-4")).await;
    let closed = pay_out(&app, &to_bank(20_000, "000123451111", "r-5")).await;
    let returned = pay_out(&app, &to_bank(30_000, "000123452222", "r-6")).await;
    let silent = pay_out(&app, &to_bank(5_000, "000123459999", "r-7")).await;
    for p in [&paid, &closed, &returned, &silent] {
        assert_eq!(p.status, "in_transit", "{}", p.merchant_reference);
    }
    assert_eq!(paid.arrival_date, Some(cycle));
    assert_eq!(paid.destination.last4, "0000");
    assert_eq!(paid.destination.bank_code.as_deref(), Some("SANDBDDH"));
    let b = balance(&app).await;
    assert_eq!(b.available, usd(99_000 - 65_000));
    assert_eq!(b.reserved, usd(65_000));
    // The timeout: no answer, so asked, never sent again.
    assert_eq!(silent.arrival_date, None);
    app.clock.advance(2 * 60);
    sweep(&app).await;
    sweep(&app).await;
    assert_eq!(payout(&app, &silent.id).await.arrival_date, Some(cycle));
    assert_eq!(
        app.store.sandbox_transfers(&silent.id).await.unwrap().len(),
        1
    );

    // The cycle comes.
    app.clock.set(cycle);
    sweep(&app).await;
    sweep(&app).await;
    let now_paid = payout(&app, &paid.id).await;
    assert_eq!(
        (now_paid.status.as_str(), now_paid.paid_at),
        ("paid", Some(cycle))
    );
    assert_eq!(payout(&app, &silent.id).await.status, "paid");
    assert_eq!(
        app.store.sandbox_transfers(&silent.id).await.unwrap().len(),
        1
    );
    let failed = payout(&app, &closed.id).await;
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.failure_code.as_deref(), Some("account_closed"));
    assert_eq!(payout(&app, &returned.id).await.status, "paid");
    let b = balance(&app).await;
    assert_eq!(b.reserved, usd(0));
    assert_eq!(b.available, usd(99_000 - 10_000 - 30_000 - 5_000));

    // A day later the 2222 account sends its money back.
    app.clock.set(cycle + DAY);
    sweep(&app).await;
    let back = payout(&app, &returned.id).await;
    assert_eq!(back.status, "returned");
    assert_eq!(back.failure_code.as_deref(), Some("account_frozen"));
    assert_eq!(back.returned_at, Some(cycle + DAY));
    assert_eq!(balance(&app).await.available, usd(99_000 - 15_000));
    // …once: more sweeps, later, change nothing.
    for _ in 0..7 {
        app.clock.advance(DAY);
        sweep(&app).await;
    }
    assert_eq!(balance(&app).await.available, usd(99_000 - 15_000));
    assert_eq!(
        app.count("SELECT count(*) FROM payouts WHERE check_after IS NOT NULL")
            .await,
        0,
        "past the return window, nothing is asked any more"
    );

    // The ledger explains it: out once each, back for the failed and returned.
    let rows: BalanceTransactionList = app
        .get(&format!("/v1/balance_transactions?payout={}", returned.id))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<(&str, i64)> = rows.data.iter().map(|t| (t.kind.as_str(), t.net)).collect();
    assert_eq!(kinds, [("payout_return", 30_000), ("payout", -30_000)]);
    assert!(rows.data.iter().all(|t| t.payment.is_none()));
    let events = app.event_kinds(40).await;
    for kind in [
        "payout.created",
        "payout.in_transit",
        "payout.paid",
        "payout.failed",
        "payout.returned",
    ] {
        assert!(events.iter().any(|k| k == kind), "{kind} in {events:?}");
    }
    let list: PayoutList = app
        .get("/v1/payouts?status=paid&limit=10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.data.len(), 3, "the card, 0000 and 9999");
    expect_error(
        app.get("/v1/payouts?status=lost").await,
        400,
        "parameter_invalid",
    )
    .await;
    // No account or card number is stored in clear.
    let stored = app.stored_text().await;
    for secret in ["DE0012345678", "000123452222", "4000000000005126"] {
        assert!(!stored.contains(secret), "{secret} is stored in clear");
    }
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn bad_payouts_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    top_up(&app, 10_000).await;
    let cases = [
        (json!({"destination": {}}), "destination"),
        (
            json!({"destination": {"bank_account": {"account_number": "12", "bank_code": "X1",
                "account_holder": "A", "country": "BD"}}}),
            "destination.bank_account.account_number",
        ),
        (
            json!({"destination": {"bank_account": {"account_number": "1234567", "bank_code": "X1",
                "account_holder": "A", "country": "Bangladesh"}}}),
            "destination.bank_account.country",
        ),
        (
            json!({"destination": {"card": {"number": "4242424242424241", "exp_month": 1, "exp_year": 2034}}}),
            "destination.card.number",
        ),
        (json!({"amount": 0}), "amount"),
        (json!({"purpose": ""}), "purpose"),
    ];
    for (change, param) in cases {
        let mut body = to_bank(100, "000123450000", "bad");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = post_keyed(&app, "/v1/payouts", &body, None).await;
        assert_eq!(response.status(), 400, "{param}");
        let error: kasse_core::api::ErrorBody = response.json().await.unwrap();
        assert_eq!(error.error.param.as_deref(), Some(param));
    }
    assert_eq!(app.count("SELECT count(*) FROM payouts").await, 0);
    assert_eq!(balance(&app).await.available, usd(10_000));
}

#[tokio::test]
async fn big_payouts_wait_for_another_person_and_cancels_give_the_money_back() {
    let app = spawn_app().await;
    let merchant = app.merchant.merchant_id.clone();
    top_up(&app, 100_000).await;
    app.store
        .set_payout_threshold(&merchant, "USD", Some(50_000), START)
        .await
        .unwrap();
    let small = pay_out(&app, &to_card(49_999, "4242424242424242", "s-1")).await;
    assert_eq!(small.status, "paid");
    let big = pay_out(&app, &to_card(50_000, "4242424242424242", "s-2")).await;
    assert_eq!(big.status, "requires_approval");
    assert_eq!(balance(&app).await.reserved, usd(50_000));
    // A secret key is not a person.
    let by_key = post_keyed(
        &app,
        &format!("/v1/payouts/{}/approve", big.id),
        &json!({}),
        None,
    )
    .await;
    expect_error(by_key, 403, "approval_not_allowed").await;
    // Nor does the sweeper send it.
    sweep(&app).await;
    assert_eq!(payout(&app, &big.id).await.status, "requires_approval");
    // Its maker cannot approve it; someone else can.
    let made = payouts::create(
        &app.ctx,
        &merchant,
        "usr_maker",
        serde_json::from_value(to_card(1, "4242424242424242", "s-3")).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(made.status, "paid", "below the threshold, it went at once");
    let mut waiting = serde_json::from_value::<kasse_core::api::CreatePayoutRequest>(to_bank(
        50_000,
        "000123450000",
        "s-4",
    ))
    .unwrap();
    waiting.amount = Some(50_001);
    let waiting = payouts::create(&app.ctx, &merchant, "usr_maker", waiting).await;
    let error = waiting.unwrap_err();
    assert!(error.to_string().contains("available"), "{error}");
    // Nothing is left for another: cancel the first, and its money is back.
    let canceled: Payout = post_keyed(
        &app,
        &format!("/v1/payouts/{}/cancel", big.id),
        &json!({}),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(canceled.status, "canceled");
    let twice = post_keyed(
        &app,
        &format!("/v1/payouts/{}/cancel", big.id),
        &json!({}),
        None,
    )
    .await;
    expect_error(twice, 409, "payout_invalid_status").await;
    let waiting = payouts::create(
        &app.ctx,
        &merchant,
        "usr_maker",
        serde_json::from_value(to_bank(50_000, "000123450000", "s-5")).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(waiting.created_by, "usr_maker");
    let own = payouts::approve(&app.ctx, &merchant, &waiting.id, Some("usr_maker")).await;
    assert!(own.unwrap_err().to_string().contains("another admin"));
    let approved = payouts::approve(&app.ctx, &merchant, &waiting.id, Some("usr_checker"))
        .await
        .unwrap();
    assert_eq!(approved.status, "in_transit");
    assert_eq!(approved.approved_by.as_deref(), Some("usr_checker"));
    // On its way: too late to cancel.
    let late = post_keyed(
        &app,
        &format!("/v1/payouts/{}/cancel", waiting.id),
        &json!({}),
        None,
    )
    .await;
    expect_error(late, 409, "payout_invalid_status").await;
    let b = balance(&app).await;
    assert_eq!(b.available, usd(100_000 - 49_999 - 1 - 50_000));
    assert_eq!(b.reserved, usd(50_000));
    let events = app.event_kinds(30).await;
    assert!(events.iter().any(|k| k == "payout.approved"));
    assert!(events.iter().any(|k| k == "payout.canceled"));
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_settlement_is_paid_out_and_reports_over_an_interval_add_up() {
    let app = spawn_app().await;
    let merchant = app.merchant.merchant_id.clone();
    app.store
        .set_settlement_settings(
            &kasse_server::store::SettlementSettings {
                merchant_id: merchant.clone(),
                time_zone: "Asia/Ulaanbaatar".into(),
                cutoff: "00:00".into(),
                delay_days: 1,
            },
            START,
        )
        .await
        .unwrap();
    let first = crate::ledger::pay_for(&app, &app.merchant, 1250, "=cmd|' /C calc'!A0").await;
    let second = crate::ledger::pay_for(&app, &app.merchant, 2000, "order-2").await;
    let unsettled = app.payment(&first).await;
    assert_eq!(unsettled.settlement_status.as_deref(), Some("unsettled"));
    app.clock.advance(DAY + HOUR);
    kasse_server::domain::settlements::sweep(&app.ctx)
        .await
        .unwrap();
    kasse_server::domain::ledger::sweep(&app.ctx).await.unwrap();
    let settled = app.payment(&first).await;
    let stl = settled.settlement.clone().expect("settled");
    assert_eq!(settled.settlement_status.as_deref(), Some("settled"));
    let s: kasse_core::api::Settlement = app
        .get(&format!("/v1/settlements/{stl}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s.net, 3250);

    let body = json!({
        "settlement": stl,
        "destination": {"bank_account": {"account_number": "000123450000", "bank_code": "SANDMNUB",
            "account_holder": "Tea House LLC", "country": "MN"}},
        "merchant_reference": "settlement-1", "purpose": "Daily settlement",
    });
    let po = pay_out(&app, &body).await;
    assert_eq!((po.amount, po.currency.as_str()), (3250, "USD"));
    assert_eq!(po.settlement.as_deref(), Some(stl.as_str()));
    let mut again = body.clone();
    again["merchant_reference"] = json!("settlement-1b");
    let twice = post_keyed(&app, "/v1/payouts", &again, None).await;
    expect_error(twice, 409, "payout_invalid_status").await;
    // The payout holds the settlement's rows.
    let rows: BalanceTransactionList = app
        .get(&format!(
            "/v1/balance_transactions?payout={}&limit=10",
            po.id
        ))
        .await
        .json()
        .await
        .unwrap();
    let mut kinds: Vec<&str> = rows.data.iter().map(|t| t.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["charge", "charge", "payout"]);
    let sum: i64 = rows.data.iter().map(|t| t.net).sum();
    assert_eq!(sum, 0, "the payout is exactly the settlement's net");
    app.clock.set((app.clock.now() / HOUR + 1) * HOUR);
    sweep(&app).await;
    let s: kasse_core::api::Settlement = app
        .get(&format!("/v1/settlements/{stl}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s.status, "paid_out");
    assert_eq!(s.payout.as_deref(), Some(po.id.as_str()));
    assert_eq!(
        app.payment(&second).await.settlement_status.as_deref(),
        Some("paid_out")
    );
    let listed: kasse_core::api::PaymentList =
        app.get("/v1/payments?limit=5").await.json().await.unwrap();
    assert!(
        listed
            .data
            .iter()
            .all(|p| p.settlement_status.as_deref() == Some("paid_out"))
    );
    assert!(
        app.event_kinds(30)
            .await
            .iter()
            .any(|k| k == "settlement.paid_out")
    );

    // Reports over the interval: made once, read the same every time.
    let now = app.clock.now();
    let make = |kind: &str, format: &str| json!({"type": kind, "interval_start": START - DAY, "interval_end": now, "format": format});
    let mut files = Vec::new();
    for kind in ["itemised_settlement", "balance_summary", "payouts"] {
        let made = post_keyed(&app, "/v1/reports", &make(kind, "csv"), None).await;
        assert_eq!(made.status(), 201, "{kind}");
        let run: kasse_core::api::ReportRun = made.json().await.unwrap();
        let file = app.get(&run.url).await;
        assert_eq!(file.headers()["kasse-report-sha256"], run.sha256.as_str());
        let text = file.text().await.unwrap();
        assert_eq!(text.len() as i64, run.size);
        let again = app.get(&run.url).await.text().await.unwrap();
        assert_eq!(text, again);
        files.push(text);
    }
    // Itemised: the settlement's two charges, summing to its net, with the
    // free-text cell defused.
    let itemised: Vec<&str> = files[0].split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(itemised.len(), 3, "{}", files[0]);
    assert!(itemised[0].starts_with("report_version,settlement,"));
    let net: i64 = itemised[1..]
        .iter()
        .map(|l| l.split(',').rev().nth(1).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(net, 3250);
    assert!(files[0].contains(",'=cmd|' /C calc'!A0,"), "{}", files[0]);
    // The summary: opening 0, the day's charges and the payout, closing 0.
    assert!(
        files[1].contains("1,USD,opening_balance,0,0,0.00,0,0.00,0,0.00\r\n"),
        "{}",
        files[1]
    );
    assert!(
        files[1].contains("1,USD,charge,2,3250,32.50,0,0.00,3250,32.50\r\n"),
        "{}",
        files[1]
    );
    assert!(
        files[1].contains("1,USD,payout,1,-3250,-32.50,0,0.00,-3250,-32.50\r\n"),
        "{}",
        files[1]
    );
    assert!(
        files[1].ends_with("1,USD,closing_balance,0,0,0.00,0,0.00,0,0.00\r\n"),
        "{}",
        files[1]
    );
    // Payouts: the one, paid, with local times in Ulaanbaatar (+08:00).
    assert!(
        files[2].contains(&po.id) && files[2].contains(",paid,bank_account,0000,"),
        "{}",
        files[2]
    );
    assert!(files[2].contains("+08:00"), "{}", files[2]);
    let json_run: kasse_core::api::ReportRun =
        post_keyed(&app, "/v1/reports", &make("payouts", "json"), None)
            .await
            .json()
            .await
            .unwrap();
    let json: Value = app.get(&json_run.url).await.json().await.unwrap();
    assert_eq!(json["rows"][0]["payout"], po.id.as_str());
    assert_eq!(json["rows"][0]["amount_minor"], 3250);
    assert_eq!(json["rows"][0]["amount"], "32.50");
    // Bad intervals and kinds.
    let mut future = make("payouts", "csv");
    future["interval_end"] = json!(now + 1);
    expect_error(
        post_keyed(&app, "/v1/reports", &future, None).await,
        400,
        "parameter_invalid",
    )
    .await;
    expect_error(
        post_keyed(&app, "/v1/reports", &make("ledger", "csv"), None).await,
        400,
        "parameter_invalid",
    )
    .await;
    expect_error(
        app.get("/v1/reports/rep_nothing").await,
        404,
        "resource_missing",
    )
    .await;
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_live_kasse_refuses_top_ups() {
    let app = crate::helpers::spawn_app_with(|c| c.live = true).await;
    let refused = post_keyed(
        &app,
        "/v1/sandbox/top_ups",
        &json!({"amount": 100, "currency": "USD"}),
        None,
    )
    .await;
    expect_error(refused, 403, "sandbox_only").await;
    assert!(balance(&app).await.available.is_empty());
}

#[tokio::test]
async fn a_saved_card_receives_a_payout() {
    let app = spawn_app().await;
    top_up(&app, 5_000).await;
    let customer =
        crate::saved_cards::new_customer(&app, json!({"email": "ada@example.com"})).await;
    let paid = crate::saved_cards::save(&app, &customer.id, "5555555555554444").await;
    let pm = paid.payment_method.clone().expect("saved");
    let po = pay_out(
        &app,
        &json!({"amount": 700, "currency": "USD", "destination": {"payment_method": pm},
                "merchant_reference": "saved-1", "purpose": "Cashback"}),
    )
    .await;
    assert_eq!(po.status, "paid");
    assert_eq!(po.destination.payment_method.as_deref(), Some(pm.as_str()));
    assert_eq!(po.destination.brand.as_deref(), Some("mastercard"));
    assert_eq!(po.destination.last4, "4444");
    let unknown = post_keyed(
        &app,
        "/v1/payouts",
        &json!({"amount": 700, "currency": "USD", "destination": {"payment_method": "pm_nothing"},
                "merchant_reference": "saved-2", "purpose": "Cashback"}),
        None,
    )
    .await;
    expect_error(unknown, 404, "resource_missing").await;
    app.assert_ledger_balances().await;
}

/// A Kasse that died after claiming a payout, before sending it: two
/// sweepers find it at once, ask the rail (which never received it), and
/// exactly one of them sends it.
#[tokio::test]
async fn an_abandoned_claim_is_sent_once_however_many_sweep() {
    let app = spawn_app().await;
    let merchant = app.merchant.merchant_id.clone();
    top_up(&app, 10_000).await;
    app.store
        .set_payout_threshold(&merchant, "USD", Some(1), START)
        .await
        .unwrap();
    let p = pay_out(&app, &to_bank(4_000, "000123450000", "died-1")).await;
    assert_eq!(p.status, "requires_approval");
    app.execute(&format!(
        "UPDATE payouts SET status = 'in_transit', rail_state = 'sending', check_after = {}
         WHERE id = '{}'",
        START - 1,
        p.id
    ))
    .await;
    for _ in 0..3 {
        tokio::join!(sweep(&app), sweep(&app));
    }
    assert_eq!(app.store.sandbox_transfers(&p.id).await.unwrap().len(), 1);
    let now = app.clock.now();
    app.clock.set((now / HOUR + 1) * HOUR);
    tokio::join!(sweep(&app), sweep(&app));
    assert_eq!(payout(&app, &p.id).await.status, "paid");
    assert_eq!(app.store.sandbox_transfers(&p.id).await.unwrap().len(), 1);
    app.assert_ledger_balances().await;
}

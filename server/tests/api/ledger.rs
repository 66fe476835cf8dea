//! The ledger: every capture and refund once, with its fee, beside the
//! balance it moves; pending money released on its day; the sum of the
//! ledger always equals the balances.

use kasse_core::api::{Balance, BalanceTransactionList, CurrencyAmount};
use kasse_core::fees::FeePlan;
use kasse_server::store::SettlementSettings;
use serde_json::json;

use crate::helpers::{START, TestApp, expect_error, spawn_app};

const DAY: i64 = 24 * 3600;

async fn balance(app: &TestApp) -> Balance {
    app.get("/v1/balance").await.json().await.unwrap()
}

fn usd(amount: i64) -> Vec<CurrencyAmount> {
    vec![CurrencyAmount {
        amount,
        currency: "USD".into(),
    }]
}

async fn ledger(app: &TestApp, query: &str) -> BalanceTransactionList {
    let response = app.get(&format!("/v1/balance_transactions?{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn captures_fees_and_refunds_move_the_balance_and_the_ledger_explains_it() {
    let app = spawn_app().await;
    let merchant = app.merchant.merchant_id.clone();
    app.store
        .set_fee_plan(
            &merchant,
            "USD",
            &FeePlan {
                percent_bps: 290,
                fixed: 30,
                refund_fees: true,
            },
            START,
        )
        .await
        .unwrap();
    app.store
        .set_settlement_settings(
            &SettlementSettings {
                merchant_id: merchant.clone(),
                time_zone: "Asia/Dhaka".into(),
                cutoff: "18:00".into(),
                delay_days: 2,
            },
            START,
        )
        .await
        .unwrap();
    // 1250 captured at once: fee 2.9 % of 1250 = 36.25 → 36, plus 30.
    let first = app.paid_payment(1250, false).await;
    // 2000 authorised, 1500 captured: fee 43.5 → 44, plus 30.
    let held = app.paid_payment(2000, true).await;
    assert_eq!(balance(&app).await.pending, usd(1184));
    let captured = app
        .post(
            &format!("/v1/payments/{}/capture", held.id),
            &json!({"amount": 1500}),
        )
        .await;
    assert_eq!(captured.status(), 200);
    // A declined payment and a voided one move nothing.
    let voided = app.paid_payment(900, true).await;
    assert_eq!(
        app.post(&format!("/v1/payments/{}/void", voided.id), &json!({}))
            .await
            .status(),
        200
    );
    // Two partial refunds of the first: 500 gives back 66 × 500/1250 = 26.4 → 26;
    // the rest (750) gives back 66 − 26 = 40, so the fee comes back whole.
    for amount in [500, 750] {
        let refunded = app
            .post(
                "/v1/refunds",
                &json!({"payment_id": first.id, "amount": amount}),
            )
            .await;
        assert_eq!(refunded.status(), 201);
    }
    let now = balance(&app).await;
    assert_eq!(now.pending, usd(1184 + 1426));
    assert_eq!(now.available, usd(-(474 + 710)));
    app.assert_ledger_balances().await;

    let of_first = ledger(&app, &format!("source={}", first.id)).await;
    let rows: Vec<(String, i64, i64, i64, String)> = of_first
        .data
        .iter()
        .rev()
        .map(|t| (t.kind.clone(), t.amount, t.fee, t.net, t.status.clone()))
        .collect();
    assert_eq!(
        rows,
        [
            ("charge".into(), 1250, 66, 1184, "pending".into()),
            ("refund".into(), -500, -26, -474, "available".into()),
            ("refund".into(), -750, -40, -710, "available".into()),
        ]
    );
    assert_eq!(of_first.data[2].available_on, START + 2 * DAY);
    assert_eq!(ledger(&app, "type=refund").await.data.len(), 2);
    assert!(ledger(&app, "type=charge&limit=1").await.has_more);
    expect_error(
        app.get("/v1/balance_transactions?type=transfer").await,
        400,
        "parameter_invalid",
    )
    .await;

    // Two days on, the captures are available, once, with an event.
    app.clock.advance(2 * DAY);
    kasse_server::domain::ledger::sweep(&app.ctx).await.unwrap();
    kasse_server::domain::ledger::sweep(&app.ctx).await.unwrap();
    let later = balance(&app).await;
    assert_eq!(later.pending, usd(0));
    assert_eq!(later.available, usd(1184 + 1426 - 474 - 710));
    assert_eq!(
        app.event_kinds(20)
            .await
            .iter()
            .filter(|k| *k == "balance.available")
            .count(),
        1
    );
    app.assert_ledger_balances().await;
    // Another merchant sees none of it.
    let other = app
        .other_merchant("Other", &["https://other.example"])
        .await;
    let theirs: Balance = app
        .http
        .get(app.url("/v1/balance"))
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(theirs.available.is_empty());
}

#[tokio::test]
async fn without_a_fee_plan_the_whole_capture_is_the_merchants() {
    let app = spawn_app().await;
    let paid = app.paid_payment(990, false).await;
    let rows = ledger(&app, "").await.data;
    assert_eq!((rows.len(), rows[0].fee, rows[0].net), (1, 0, 990));
    assert_eq!(rows[0].source, paid.id);
    // Available after the default delay of two days.
    assert_eq!(rows[0].available_on, START + 2 * DAY);
    app.assert_ledger_balances().await;
}

fn local(zone: &str, text: &str) -> i64 {
    text.parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
        .unwrap()
        .timestamp()
        .as_second()
}

async fn settle(app: &TestApp, merchant: &str, zone: &str, cutoff: &str) {
    app.store
        .set_settlement_settings(
            &SettlementSettings {
                merchant_id: merchant.into(),
                time_zone: zone.into(),
                cutoff: cutoff.into(),
                delay_days: 1,
            },
            START,
        )
        .await
        .unwrap();
}

/// A payment of `amount` by the merchant whose key is `key`, paid now.
async fn pay_as(app: &TestApp, who: &kasse_server::merchants::Credentials, amount: i64) -> String {
    pay_for(app, who, amount, "order-1001").await
}

pub(crate) async fn pay_for(
    app: &TestApp,
    who: &kasse_server::merchants::Credentials,
    amount: i64,
    reference: &str,
) -> String {
    let (key, origin) = (&who.secret_key, who.origins[0].as_str());
    let mut body = crate::helpers::session_body();
    body["amount"] = json!(amount);
    body["order_reference"] = json!(reference);
    body["success_url"] = json!(format!("{origin}/ok"));
    body["cancel_url"] = json!(format!("{origin}/no"));
    let made = app.post_as(key, "/v1/checkout/sessions", &body).await;
    let text = made.text().await.unwrap();
    let session: kasse_core::api::CheckoutSession =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
    let paid: serde_json::Value = app
        .confirm(&session, &crate::helpers::good_card("4242424242424242"))
        .await
        .json()
        .await
        .unwrap();
    paid["payment_id"].as_str().unwrap().to_string()
}

async fn settlements_of(app: &TestApp, key: &str) -> Vec<kasse_core::api::Settlement> {
    let list: kasse_core::api::SettlementList = app
        .http
        .get(app.url("/v1/settlements?limit=100"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.data.into_iter().rev().collect()
}

#[tokio::test]
async fn each_business_day_settles_once_at_its_cut_off_in_the_merchants_zone() {
    let app = spawn_app().await;
    let berlin = app.merchant.clone();
    settle(&app, &berlin.merchant_id, "Europe/Berlin", "00:00").await;
    let dhaka = app
        .other_merchant("Dhaka Tea", &["https://other.example"])
        .await;
    settle(&app, &dhaka.merchant_id, "Asia/Dhaka", "18:00").await;

    // Berlin: a capture at 23:59:59 on the last day of summer time, a
    // refund one second after midnight, a capture at 23:59:59 the next day.
    app.clock.set(local("Europe/Berlin", "2026-10-24T23:59:59"));
    let late = pay_as(&app, &berlin, 1000).await;
    // Dhaka: just before and exactly at its cut-off.
    app.clock.set(local("Asia/Dhaka", "2026-10-25T17:59:59"));
    pay_as(&app, &dhaka, 700).await;
    app.clock.set(local("Asia/Dhaka", "2026-10-25T18:00:00"));
    pay_as(&app, &dhaka, 900).await;
    app.clock.set(local("Europe/Berlin", "2026-10-25T00:00:00"));
    let refund = app
        .post_as(
            &berlin.secret_key,
            "/v1/refunds",
            &json!({"payment_id": late, "amount": 300}),
        )
        .await;
    assert_eq!(refund.status(), 201);
    app.clock.set(local("Europe/Berlin", "2026-10-25T23:59:59"));
    let last = pay_for(&app, &berlin, 500, "=HYPERLINK(\"http://x\",\"y\")").await;

    // Just past Berlin's second midnight; Dhaka's 26th has not ended.
    app.clock.set(local("Europe/Berlin", "2026-10-26T00:00:01"));
    let closed = kasse_server::domain::settlements::sweep(&app.ctx)
        .await
        .unwrap();
    assert_eq!(closed, 3);
    // A second sweep (another instance) closes nothing more.
    assert_eq!(
        kasse_server::domain::settlements::sweep(&app.ctx)
            .await
            .unwrap(),
        0
    );

    let theirs = settlements_of(&app, &berlin.secret_key).await;
    let summary: Vec<(&str, i64, i64, i64, i64, i64)> = theirs
        .iter()
        .map(|s| {
            (
                s.local_date.as_str(),
                s.charge_count,
                s.refund_count,
                s.gross,
                s.refunded,
                s.net,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("2026-10-24", 1, 0, 1000, 0, 1000),
            ("2026-10-25", 1, 1, 500, 300, 200)
        ]
    );
    // The day clocks went back is 25 hours long.
    assert_eq!(theirs[1].period_end - theirs[1].period_start, 25 * 3600);
    assert_eq!(
        theirs[1].period_end,
        local("Europe/Berlin", "2026-10-26T00:00")
    );
    let dhaka_days = settlements_of(&app, &dhaka.secret_key).await;
    assert_eq!(dhaka_days.len(), 1);
    assert_eq!(
        (dhaka_days[0].local_date.as_str(), dhaka_days[0].gross),
        ("2026-10-25", 700)
    );

    // Each settlement's rows add up to it.
    for s in &theirs {
        let rows: BalanceTransactionList = app
            .http
            .get(app.url(&format!("/v1/settlements/{}/transactions?limit=100", s.id)))
            .bearer_auth(&berlin.secret_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let net: i64 = rows.data.iter().map(|t| t.net).sum();
        let fees: i64 = rows.data.iter().map(|t| t.fee).sum();
        assert_eq!((net, fees), (s.net - s.carried, s.fees), "{s:?}");
        assert!(
            rows.data
                .iter()
                .all(|t| t.settlement.as_deref() == Some(s.id.as_str()))
        );
    }
    // Another merchant's settlement is not found.
    let missing = app
        .get(&format!("/v1/settlements/{}", dhaka_days[0].id))
        .await;
    expect_error(missing, 404, "resource_missing").await;
    assert!(
        app.event_kinds(30)
            .await
            .iter()
            .any(|k| k == "settlement.closed")
    );

    // The second day's report: the golden file, byte for byte, with its ids.
    let report = |format: &str| {
        app.http
            .get(app.url(&format!(
                "/v1/settlements/{}/report?format={format}",
                theirs[1].id
            )))
            .bearer_auth(&berlin.secret_key)
            .send()
    };
    let first = report("csv").await.unwrap();
    assert_eq!(first.headers()["content-type"], "text/csv; charset=utf-8");
    let sha = first.headers()["kasse-report-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    let bytes = first.bytes().await.unwrap();
    let rows: BalanceTransactionList = app
        .get(&format!("/v1/settlements/{}/transactions", theirs[1].id))
        .await
        .json()
        .await
        .unwrap();
    let (charge, refunded) = (&rows.data[0], &rows.data[1]);
    let expected = include_str!("golden/settlement-report-v1.csv")
        .replace("{settlement}", &theirs[1].id)
        .replace("{refund_txn}", &refunded.id)
        .replace("{refund}", &refunded.source)
        .replace("{late}", &late)
        .replace("{charge_txn}", &charge.id)
        .replace("{payment}", &last);
    assert_eq!(String::from_utf8(bytes.to_vec()).unwrap(), expected);
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(&bytes)));
    // Made again, the same bytes.
    let again = report("csv").await.unwrap().bytes().await.unwrap();
    assert_eq!(again, bytes);
    let json: serde_json::Value = report("json").await.unwrap().json().await.unwrap();
    assert_eq!(json["totals"]["net_minor"], 200);
    assert_eq!(json["totals"]["net"], "2.00");
    assert_eq!(json["period_end_local"], "2026-10-26T00:00:00+01:00");
    let summed: i64 = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["net_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(summed, theirs[1].net);
    expect_error(report("xlsx").await.unwrap(), 400, "parameter_invalid").await;
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_negative_day_carries_into_the_next() {
    let app = spawn_app().await;
    settle(&app, &app.merchant.merchant_id, "UTC", "00:00").await;
    app.clock.set(local("UTC", "2026-11-01T10:00:00"));
    let paid = app.paid_payment(1000, false).await;
    app.clock.set(local("UTC", "2026-11-02T10:00:00"));
    let refund = app
        .post(
            "/v1/refunds",
            &json!({"payment_id": paid.id, "amount": 1000}),
        )
        .await;
    assert_eq!(refund.status(), 201);
    app.clock.set(local("UTC", "2026-11-03T10:00:00"));
    app.paid_payment(400, false).await;
    app.clock.set(local("UTC", "2026-11-04T00:00:00"));
    kasse_server::domain::settlements::sweep(&app.ctx)
        .await
        .unwrap();
    let days = settlements_of(&app, &app.merchant.secret_key).await;
    let nets: Vec<(i64, i64)> = days.iter().map(|s| (s.carried, s.net)).collect();
    assert_eq!(nets, [(0, 1000), (0, -1000), (-1000, -600)]);
}

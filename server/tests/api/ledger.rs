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
        app.get("/v1/balance_transactions?type=payout").await,
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

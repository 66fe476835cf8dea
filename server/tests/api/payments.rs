use kasse_core::PaymentStatus;
use kasse_core::api::{CaptureMethod, Payment, PaymentList, Refund, RefundStatus};
use serde_json::json;

use crate::helpers::{START, expect_error, good_card, session_body, spawn_app};

#[tokio::test]
async fn manual_capture_authorises_then_captures_part_and_releases_the_rest() {
    let app = spawn_app().await;
    let payment = app.paid_payment(1250, true).await;
    assert_eq!(payment.status, PaymentStatus::RequiresCapture);
    assert_eq!(payment.capture_method, CaptureMethod::Manual);
    assert_eq!(
        (payment.amount_capturable, payment.amount_captured),
        (1250, 0)
    );
    let session: kasse_core::api::CheckoutSession = app
        .get(&format!(
            "/v1/checkout/sessions/{}",
            payment.checkout_session.as_ref().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session.status, kasse_core::SessionStatus::Complete);

    let path = format!("/v1/payments/{}/capture", payment.id);
    let too_much = app.post(&path, &json!({"amount": 1251})).await;
    expect_error(too_much, 409, "amount_exceeds_capturable").await;
    let zero = app.post(&path, &json!({"amount": 0})).await;
    expect_error(zero, 400, "amount_too_small").await;

    let captured: Payment = app
        .post(&path, &json!({"amount": 1000}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(captured.status, PaymentStatus::Succeeded);
    assert_eq!(
        (captured.amount_captured, captured.amount_capturable),
        (1000, 0),
        "the other 250 is released"
    );

    let again = expect_error(
        app.post(&path, &json!({})).await,
        409,
        "payment_invalid_status",
    )
    .await;
    assert_eq!(
        again.error.allowed_from,
        Some(vec![PaymentStatus::RequiresCapture])
    );
    // Refunds are bounded by what was captured, not by what was authorised.
    let over = app
        .post(
            "/v1/refunds",
            &json!({"payment_id": captured.id, "amount": 1001}),
        )
        .await;
    expect_error(over, 409, "amount_exceeds_refundable").await;
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn capture_without_a_body_takes_everything() {
    let app = spawn_app().await;
    let payment = app.paid_payment(700, true).await;
    let response = app
        .http
        .post(app.url(&format!("/v1/payments/{}/capture", payment.id)))
        .bearer_auth(&app.merchant.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let captured: Payment = response.json().await.unwrap();
    assert_eq!(captured.amount_captured, 700);
}

#[tokio::test]
async fn void_releases_an_authorisation_and_nothing_follows_it() {
    let app = spawn_app().await;
    let payment = app.paid_payment(1250, true).await;
    let refund_uncaptured = app
        .post("/v1/refunds", &json!({"payment_id": payment.id}))
        .await;
    let error = expect_error(refund_uncaptured, 409, "payment_invalid_status").await;
    assert_eq!(
        error.error.allowed_from,
        Some(vec![
            PaymentStatus::Succeeded,
            PaymentStatus::PartiallyRefunded
        ])
    );

    let voided: Payment = app
        .post(&format!("/v1/payments/{}/void", payment.id), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(voided.status, PaymentStatus::Canceled);
    assert_eq!(voided.amount_capturable, 0);

    let capture = app
        .post(&format!("/v1/payments/{}/capture", payment.id), &json!({}))
        .await;
    let error = expect_error(capture, 409, "payment_invalid_status").await;
    assert!(
        error.error.message.contains("canceled"),
        "{}",
        error.error.message
    );
    let void_again = app
        .post(&format!("/v1/payments/{}/void", payment.id), &json!({}))
        .await;
    expect_error(void_again, 409, "payment_invalid_status").await;

    let automatic = app.paid_payment(500, false).await;
    let void_captured = app
        .post(&format!("/v1/payments/{}/void", automatic.id), &json!({}))
        .await;
    expect_error(void_captured, 409, "payment_invalid_status").await;
}

#[tokio::test]
async fn partial_refunds_add_up_and_never_exceed_what_was_captured() {
    let app = spawn_app().await;
    let payment = app.paid_payment(1250, false).await;
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert_eq!(payment.amount_captured, 1250);

    let first = app
        .post(
            "/v1/refunds",
            &json!({"payment_id": payment.id, "amount": 500, "reason": "one cup arrived broken"}),
        )
        .await;
    assert_eq!(first.status(), 201);
    let first: Refund = first.json().await.unwrap();
    assert!(first.id.starts_with("re_"));
    assert_eq!((first.amount, first.status), (500, RefundStatus::Succeeded));
    assert_eq!(first.reason.as_deref(), Some("one cup arrived broken"));
    assert_eq!(
        app.payment(&payment.id).await.status,
        PaymentStatus::PartiallyRefunded
    );

    let read: Refund = app
        .get(&format!("/v1/refunds/{}", first.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, first);

    let over = app
        .post(
            "/v1/refunds",
            &json!({"payment_id": payment.id, "amount": 751}),
        )
        .await;
    let message = expect_error(over, 409, "amount_exceeds_refundable")
        .await
        .error
        .message;
    assert!(message.contains("750"), "{message}");

    // No amount: whatever is left.
    let rest: Refund = app
        .post("/v1/refunds", &json!({"payment_id": payment.id}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest.amount, 750);
    let refunded = app.payment(&payment.id).await;
    assert_eq!(refunded.status, PaymentStatus::Refunded);
    assert_eq!(refunded.amount_refunded, 1250);

    let more = app
        .post(
            "/v1/refunds",
            &json!({"payment_id": payment.id, "amount": 1}),
        )
        .await;
    expect_error(more, 409, "payment_invalid_status").await;
    let missing = app
        .post("/v1/refunds", &json!({"payment_id": "pay_nope"}))
        .await;
    let error = expect_error(missing, 400, "resource_missing").await;
    assert_eq!(error.error.param.as_deref(), Some("payment_id"));
    expect_error(
        app.get("/v1/refunds/re_nope").await,
        404,
        "resource_missing",
    )
    .await;
}

#[tokio::test]
async fn twenty_concurrent_partial_refunds_stop_at_what_was_captured() {
    let app = spawn_app().await;
    let payment = app.paid_payment(1250, false).await;
    let body = json!({"payment_id": payment.id, "amount": 100});
    let attempts = (0..20).map(|_| app.post("/v1/refunds", &body));
    let responses = futures_util::future::join_all(attempts).await;
    let mut succeeded = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => succeeded += 1,
            409 => {
                let error: kasse_core::api::ErrorBody = response.json().await.unwrap();
                assert!(
                    ["amount_exceeds_refundable", "payment_invalid_status"]
                        .contains(&error.error.code.as_str()),
                    "{error:?}"
                );
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(succeeded, 12, "12 × 100 fits in 1250, a 13th does not");
    let after = app.payment(&payment.id).await;
    assert_eq!(after.amount_refunded, 1200);
    assert_eq!(after.status, PaymentStatus::PartiallyRefunded);
    assert_eq!(
        app.count("SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) FROM refunds")
            .await,
        1200,
        "the refund rows agree with the payment"
    );
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn fifty_concurrent_confirms_charge_exactly_once() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let card = good_card("4242424242424242");
    let attempts = (0..50).map(|_| app.confirm(&session, &card));
    let responses = futures_util::future::join_all(attempts).await;
    let mut charged = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => charged += 1,
            409 => {
                let error: kasse_core::api::ErrorBody = response.json().await.unwrap();
                assert!(
                    ["payment_in_progress", "checkout_session_complete"]
                        .contains(&error.error.code.as_str()),
                    "{error:?}"
                );
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(charged, 1);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn payments_are_listed_with_filters_and_cursor_pagination() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = session_body();
        body["order_reference"] = json!(format!("order-{i}"));
        let session = app.create_session_with(body).await;
        let number = if i == 2 {
            "4000000000000002"
        } else {
            "4242424242424242"
        };
        let confirmed: serde_json::Value = app
            .confirm(&session, &good_card(number))
            .await
            .json()
            .await
            .unwrap();
        ids.push(confirmed["payment_id"].as_str().unwrap().to_string());
        app.clock.advance(60);
    }
    let all = list(&app, "").await;
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(
        all.data.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        newest_first
    );
    assert!(!all.has_more);

    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    loop {
        let page = list(&app, &query).await;
        assert!(page.data.len() <= 2);
        seen.extend(page.data.iter().map(|p| p.id.clone()));
        if !page.has_more {
            break;
        }
        query = format!("?limit=2&starting_after={}", page.data.last().unwrap().id);
    }
    assert_eq!(
        seen, newest_first,
        "pages cover every payment once, in order"
    );

    let failed = list(&app, "?status=failed").await;
    assert_eq!(failed.data.len(), 1);
    assert_eq!(failed.data[0].id, ids[2]);
    let by_order = list(&app, "?order_reference=order-3").await;
    assert_eq!(
        by_order.data.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&ids[3]]
    );
    assert_eq!(by_order.data[0].order_reference.as_deref(), Some("order-3"));
    let window = list(
        &app,
        &format!("?created_gte={}&created_lt={}", START + 60, START + 180),
    )
    .await;
    assert_eq!(
        window.data.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        vec![ids[2].clone(), ids[1].clone()]
    );

    expect_error(
        app.get("/v1/payments?status=paid").await,
        400,
        "parameter_invalid",
    )
    .await;
    expect_error(
        app.get("/v1/payments?limit=0").await,
        400,
        "parameter_out_of_range",
    )
    .await;
    expect_error(
        app.get("/v1/payments?limit=abc").await,
        400,
        "parameter_invalid",
    )
    .await;
    expect_error(
        app.get("/v1/payments?starting_after=pay_nope").await,
        400,
        "parameter_invalid",
    )
    .await;
    expect_error(
        app.get("/v1/payments/pay_nope").await,
        404,
        "resource_missing",
    )
    .await;
}

async fn list(app: &crate::helpers::TestApp, query: &str) -> PaymentList {
    let path = format!("/v1/payments{query}");
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

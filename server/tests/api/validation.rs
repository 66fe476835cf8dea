use kasse_core::PaymentStatus;
use kasse_core::api::{RiskLevel, Validation, ValidationStatus};
use serde_json::json;

use crate::helpers::{good_card, spawn_app};

async fn validate(app: &crate::helpers::TestApp, id: &str) -> Validation {
    let response = app.get(&format!("/v1/payments/{id}/validate")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn valid_the_first_time_then_validated() {
    let app = spawn_app().await;
    let payment = app.paid_payment(1250, false).await;
    let first = validate(&app, &payment.id).await;
    assert_eq!(first.status, ValidationStatus::Valid);
    assert_eq!(first.amount, Some(1250));
    assert_eq!(first.currency.as_deref(), Some("USD"));
    assert_eq!(first.payment_status, Some(PaymentStatus::Succeeded));
    assert_eq!(first.order_reference.as_deref(), Some("order-1001"));
    assert_eq!(first.risk_level, Some(RiskLevel::Normal));
    assert!(first.validated_at.is_some());
    let second = validate(&app, &payment.id).await;
    assert_eq!(second.status, ValidationStatus::Validated);
    assert_eq!(second.validated_at, first.validated_at);
    let body = serde_json::to_value(&second).unwrap();
    assert_eq!(body["status"], json!("VALIDATED"));
}

#[tokio::test]
async fn failed_and_unknown_payments_are_invalid() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let declined: serde_json::Value = app
        .confirm(&session, &good_card("4000000000000002"))
        .await
        .json()
        .await
        .unwrap();
    let failed = validate(&app, declined["payment_id"].as_str().unwrap()).await;
    assert_eq!(failed.status, ValidationStatus::Invalid);
    assert_eq!(failed.payment_status, Some(PaymentStatus::Failed));

    let unknown = validate(&app, "pay_unknown").await;
    assert_eq!(unknown.status, ValidationStatus::Invalid);
    assert_eq!(unknown.amount, None);

    // Declines before the success raise the risk level.
    let paid: serde_json::Value = app
        .confirm(&session, &good_card("4242424242424242"))
        .await
        .json()
        .await
        .unwrap();
    let valid = validate(&app, paid["payment_id"].as_str().unwrap()).await;
    assert_eq!(valid.status, ValidationStatus::Valid);
    assert_eq!(valid.risk_level, Some(RiskLevel::Elevated));
}

#[tokio::test]
async fn a_refunded_payment_is_no_longer_valid() {
    let app = spawn_app().await;
    let payment = app.paid_payment(300, false).await;
    app.post("/v1/refunds", &json!({"payment_id": payment.id}))
        .await;
    assert_eq!(
        validate(&app, &payment.id).await.status,
        ValidationStatus::Invalid
    );
}

//! The terminal's calls to Kasse's merchant API, one typed function each,
//! so that the URLs and bodies live in one place and `app` only decides
//! what to call and how to show the answer.

use kasse_core::api::{
    CapturePayment, CheckoutSession, CreateCheckoutSession, CreatePayment, CreateRefund, Event,
    EventDetail, EventList, Payment, PaymentList, Refund, RefundList, SslcommerzCredentials,
};

use crate::api::{self, Failure};

pub async fn payment(id: &str) -> Result<Payment, Failure> {
    api::get(&format!("/v1/payments/{id}")).await
}

/// A payment, its refunds and its events.
pub async fn payment_details(id: &str) -> Result<(Payment, Vec<Refund>, Vec<Event>), Failure> {
    let payment = payment(id).await?;
    let refunds: RefundList = api::get(&format!("/v1/refunds?payment_id={id}")).await?;
    let events: EventList = api::get(&format!("/v1/events?payment={id}&limit=100")).await?;
    Ok((payment, refunds.data, events.data))
}

/// One page of payments; `query` as `flow::ls_query` or `flow::find_query` makes it.
pub async fn payments(query: &str) -> Result<PaymentList, Failure> {
    api::get(&format!("/v1/payments?{query}")).await
}

pub async fn capture(csrf: &str, payment: &str, amount: Option<i64>) -> Result<Payment, Failure> {
    let body = CapturePayment { amount };
    api::post(
        &format!("/v1/payments/{payment}/capture"),
        csrf,
        Some(&body),
    )
    .await
}

pub async fn void(csrf: &str, payment: &str) -> Result<Payment, Failure> {
    api::post(&format!("/v1/payments/{payment}/void"), csrf, None::<&()>).await
}

pub async fn refund(
    csrf: &str,
    payment: String,
    amount: Option<i64>,
    reason: Option<String>,
) -> Result<Refund, Failure> {
    let body = CreateRefund {
        payment_id: payment,
        amount,
        reason,
    };
    api::post("/v1/refunds", csrf, Some(&body)).await
}

/// A keyed card payment.
pub async fn charge(csrf: &str, body: &CreatePayment) -> Result<Payment, Failure> {
    api::post("/v1/payments", csrf, Some(body)).await
}

/// A checkout session whose URL is the payment link.
pub async fn payment_link(
    csrf: &str,
    body: &CreateCheckoutSession,
) -> Result<CheckoutSession, Failure> {
    api::post("/v1/checkout/sessions", csrf, Some(body)).await
}

/// The latest twenty events, of one type if named.
pub async fn events(kind: Option<&str>) -> Result<EventList, Failure> {
    let mut path = "/v1/events?limit=20".to_string();
    if let Some(kind) = kind {
        path.push_str(&format!("&type={kind}"));
    }
    api::get(&path).await
}

/// A new SSLCOMMERZ credential pair; the old one stops working.
pub async fn sslcommerz_credentials(csrf: &str) -> Result<SslcommerzCredentials, Failure> {
    api::post("/v1/merchant/sslcommerz_credentials", csrf, None::<&()>).await
}

pub async fn resend(csrf: &str, event: &str) -> Result<EventDetail, Failure> {
    api::post(&format!("/v1/events/{event}/resend"), csrf, None::<&()>).await
}

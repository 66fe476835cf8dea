//! The terminal's calls to Kasse's merchant API, one typed function each,
//! so that the URLs and bodies live in one place and `app` only decides
//! what to call and how to show the answer.

use kasse_core::api::{
    Balance, BalanceTransaction, BalanceTransactionList, CapturePayment, CreatePayment,
    CreatePaymentLink, CreatePayoutRequest, CreateRefund, Customer, CustomerList, Event,
    EventDetail, EventList, Mandate, MandateList, Notification, NotificationList, Payment,
    PaymentLink, PaymentLinkList, PaymentList, PaymentMethod, PaymentMethodList, Payout,
    PayoutList, Refund, RefundList, SettlementList, SslcommerzCredentials, Subscription,
    SubscriptionList,
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

/// The balance and the latest twenty ledger rows.
pub async fn balance() -> Result<(Balance, Vec<BalanceTransaction>), Failure> {
    let balance: Balance = api::get("/v1/balance").await?;
    let rows: BalanceTransactionList = api::get("/v1/balance_transactions?limit=20").await?;
    Ok((balance, rows.data))
}

pub async fn settlements() -> Result<SettlementList, Failure> {
    api::get("/v1/settlements?limit=30").await
}

/// A settlement's report: its bytes, file name and SHA-256.
pub async fn settlement_report(id: &str, json: bool) -> Result<(Vec<u8>, String, String), Failure> {
    let format = if json { "json" } else { "csv" };
    let (bytes, headers) = api::download(
        &format!("/v1/settlements/{id}/report?format={format}"),
        &["content-disposition", "kasse-report-sha256"],
    )
    .await?;
    let name = headers[0]
        .split("filename=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("report")
        .to_string();
    Ok((bytes, name, headers[1].clone()))
}

pub async fn payouts(status: Option<&str>) -> Result<PayoutList, Failure> {
    let query = match status {
        Some(status) => format!("limit=50&status={status}"),
        None => "limit=50".into(),
    };
    api::get(&format!("/v1/payouts?{query}")).await
}

pub async fn payout(id: &str) -> Result<Payout, Failure> {
    api::get(&format!("/v1/payouts/{id}")).await
}

pub async fn create_payout(csrf: &str, body: &CreatePayoutRequest) -> Result<Payout, Failure> {
    api::post("/v1/payouts", csrf, Some(body)).await
}

pub async fn approve_payout(csrf: &str, id: &str) -> Result<Payout, Failure> {
    api::post(&format!("/v1/payouts/{id}/approve"), csrf, None::<&()>).await
}

pub async fn cancel_payout(csrf: &str, id: &str) -> Result<Payout, Failure> {
    api::post(&format!("/v1/payouts/{id}/cancel"), csrf, None::<&()>).await
}

pub async fn create_link(csrf: &str, body: &CreatePaymentLink) -> Result<PaymentLink, Failure> {
    api::post("/v1/payment_links", csrf, Some(body)).await
}

pub async fn links(status: Option<&str>) -> Result<PaymentLinkList, Failure> {
    let query = match status {
        Some(status) => format!("limit=50&status={status}"),
        None => "limit=50".into(),
    };
    api::get(&format!("/v1/payment_links?{query}")).await
}

/// A link, the payments made through it, and its emails.
pub async fn link_details(
    id: &str,
) -> Result<(PaymentLink, Vec<Payment>, Vec<Notification>), Failure> {
    let link: PaymentLink = api::get(&format!("/v1/payment_links/{id}")).await?;
    let payments: PaymentList =
        api::get(&format!("/v1/payments?payment_link={id}&limit=100")).await?;
    let emails: NotificationList =
        api::get(&format!("/v1/payment_links/{id}/notifications")).await?;
    Ok((link, payments.data, emails.data))
}

pub async fn link(id: &str) -> Result<PaymentLink, Failure> {
    api::get(&format!("/v1/payment_links/{id}")).await
}

pub async fn send_link(csrf: &str, id: &str) -> Result<Notification, Failure> {
    api::post(&format!("/v1/payment_links/{id}/send"), csrf, None::<&()>).await
}

pub async fn cancel_link(csrf: &str, id: &str) -> Result<PaymentLink, Failure> {
    api::post(&format!("/v1/payment_links/{id}/cancel"), csrf, None::<&()>).await
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

pub async fn customers(email: Option<&str>) -> Result<CustomerList, Failure> {
    let query = match email {
        Some(email) => format!("limit=50&email={}", crate::flow::percent_encode(email)),
        None => "limit=50".into(),
    };
    api::get(&format!("/v1/customers?{query}")).await
}

/// A customer, their saved cards, mandates and subscriptions.
pub async fn customer_details(
    id: &str,
) -> Result<
    (
        Customer,
        Vec<PaymentMethod>,
        Vec<Mandate>,
        Vec<Subscription>,
    ),
    Failure,
> {
    let customer: Customer = api::get(&format!("/v1/customers/{id}")).await?;
    let cards: PaymentMethodList = api::get(&format!("/v1/customers/{id}/payment_methods")).await?;
    let mandates: MandateList = api::get(&format!("/v1/customers/{id}/mandates")).await?;
    let subscriptions = subscriptions(Some(id)).await?;
    Ok((customer, cards.data, mandates.data, subscriptions.data))
}

pub async fn subscriptions(customer: Option<&str>) -> Result<SubscriptionList, Failure> {
    let query = match customer {
        Some(customer) => format!("limit=100&customer={customer}"),
        None => "limit=100".into(),
    };
    api::get(&format!("/v1/subscriptions?{query}")).await
}

pub async fn subscription(id: &str) -> Result<Subscription, Failure> {
    api::get(&format!("/v1/subscriptions/{id}")).await
}

pub async fn cancel_subscription(csrf: &str, id: &str) -> Result<Subscription, Failure> {
    api::post(&format!("/v1/subscriptions/{id}/cancel"), csrf, None::<&()>).await
}

pub async fn payment_method(id: &str) -> Result<PaymentMethod, Failure> {
    api::get(&format!("/v1/payment_methods/{id}")).await
}

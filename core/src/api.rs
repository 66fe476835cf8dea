//! The JSON shapes of Kasse's API (v1), shared by the server and the page.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::appearance::Appearance;

use crate::card::CardBrand;
use crate::error::{DeclineCode, ErrorCode, ErrorType};
use crate::locale::RequestedLocale;
use crate::sensitive::Sensitive;
use crate::status::{PaymentStatus, SessionStatus};

/// The shortest and longest life of a checkout session, and its default.
pub const SESSION_TTL_MIN_SECONDS: i64 = 30 * 60;
pub const SESSION_TTL_MAX_SECONDS: i64 = 24 * 60 * 60;
pub const SESSION_TTL_DEFAULT_SECONDS: i64 = 60 * 60;

pub use crate::event::EventType;
pub use crate::staff::{CSRF_HEADER, LoginRequest, StaffRole, StaffSession};

/// The header that carries a session's client secret from the payment page.
pub const CLIENT_SECRET_HEADER: &str = "Kasse-Client-Secret";

/// `POST /v1/checkout/sessions`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckoutSession {
    /// Integer minor units: 1050 is 10.50 USD, 500 is 500 JPY.
    pub amount: i64,
    /// ISO 4217 code, any case.
    pub currency: String,
    pub success_url: String,
    pub cancel_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    /// `manual` stops at `requires_capture`; the merchant captures later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_method: Option<CaptureMethod>,
    /// Where this session's events go too, besides the merchant's webhook
    /// endpoints; on the merchant's origins, signed with its webhook secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_url: Option<String>,
    /// Changes to the merchant's appearance for this session's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<Appearance>,
    /// The page's language: `en`, `bn` or `mn` (a region such as `bn-BD`
    /// is accepted), or `auto` (the default) for the customer's browser's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "bn"))]
    pub locale: Option<String>,
}

/// Whether an approved payment is captured at once or only authorised.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    #[default]
    Automatic,
    Manual,
}

impl CaptureMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureMethod::Automatic => "automatic",
            CaptureMethod::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "automatic" => Some(CaptureMethod::Automatic),
            "manual" => Some(CaptureMethod::Manual),
            _ => None,
        }
    }
}

/// A checkout session as the merchant sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub object: String,
    /// The hosted page, with the client secret in the fragment.
    pub url: String,
    pub client_secret: String,
    pub status: SessionStatus,
    pub amount: i64,
    pub currency: String,
    pub success_url: String,
    pub cancel_url: String,
    pub fail_url: Option<String>,
    pub order_reference: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub capture_method: CaptureMethod,
    pub notification_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<Appearance>,
    /// `auto`, `en`, `bn` or `mn`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "auto"))]
    pub locale: RequestedLocale,
    /// The successful payment, once there is one.
    pub payment_id: Option<String>,
    /// Unix seconds.
    pub created: i64,
    pub expires_at: i64,
}

/// `GET /v1/pay/{id}`: what the payment page shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaySession {
    pub id: String,
    pub merchant_name: String,
    pub amount: i64,
    pub currency: String,
    pub status: SessionStatus,
    pub accepted_brands: Vec<CardBrand>,
    pub cancel_url: String,
    pub order_reference: Option<String>,
    pub customer_name: Option<String>,
    pub expires_at: i64,
    /// Where to send the customer when the session is already complete.
    pub redirect_url: Option<String>,
    /// Why the latest attempt failed (say, after 3-D Secure), for the page to show.
    pub last_error: Option<PayError>,
    /// The merchant's origins: the only parents the page talks to in a popup.
    pub merchant_origins: Vec<String>,
    /// How the page looks: the merchant's default with the session's changes.
    #[serde(default)]
    pub appearance: Appearance,
    /// The page's language, or `auto` for the browser's.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "auto"))]
    pub locale: RequestedLocale,
    /// The payment that completed the session, for the receipt.
    #[serde(default)]
    pub payment_id: Option<String>,
}

/// A failed attempt as the customer reads it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayError {
    pub decline_code: DeclineCode,
    pub message: String,
}

/// Card details as typed on the page. Only ever sent over TLS to Kasse;
/// `Debug` redacts the number and the CVC.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// Digits, with or without spaces.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4242 4242 4242 4242"))]
    pub number: Sensitive<String>,
    pub exp_month: u8,
    /// Four digits, or two (`30` is 2030).
    pub exp_year: u16,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "123"))]
    pub cvc: Sensitive<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /v1/pay/{id}/confirm`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    pub card: CardInput,
}

/// The answer to a confirm that reached the acquirer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConfirmResponse {
    Succeeded {
        payment_id: String,
        redirect_url: String,
    },
    Declined {
        payment_id: String,
        decline_code: DeclineCode,
        message: String,
        /// Where the customer goes after a decline, when the session's API
        /// says so (the SSLCOMMERZ surface's `fail_url`); otherwise the page
        /// stays for another try.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        redirect_url: Option<String>,
    },
    /// The issuer wants the customer to authenticate: send them to `next_action`.
    RequiresAction {
        payment_id: String,
        next_action: NextAction,
    },
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextAction {
    pub redirect_url: String,
}

/// A payment as the merchant sees it. Holds no full card number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub object: String,
    pub status: PaymentStatus,
    pub amount: i64,
    /// What can still be captured (while `requires_capture`).
    pub amount_capturable: i64,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub capture_method: CaptureMethod,
    /// How the card reached Kasse: typed by the customer on the payment
    /// page, or keyed in by the merchant's staff (card not present).
    #[serde(default)]
    pub channel: PaymentChannel,
    pub checkout_session: Option<String>,
    pub order_reference: Option<String>,
    pub card: PaymentCard,
    pub decline_code: Option<DeclineCode>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentCard {
    pub brand: CardBrand,
    pub bin: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    /// The same card gives the same fingerprint across this merchant's
    /// payments on the payment page. `null` for a keyed payment: whoever
    /// typed the card in knows it already, and an answer would let them
    /// test guesses of other customers' numbers against it.
    pub fingerprint: Option<String>,
}

/// Where a payment's card details came from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentChannel {
    /// The customer typed them on the hosted payment page.
    #[default]
    Checkout,
    /// Mail or telephone order: staff keyed them in; card not present, and
    /// out of scope of 3-D Secure.
    Moto,
}

impl PaymentChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentChannel::Checkout => "checkout",
            PaymentChannel::Moto => "moto",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "checkout" => Some(PaymentChannel::Checkout),
            "moto" => Some(PaymentChannel::Moto),
            _ => None,
        }
    }
}

/// `POST /v1/payments`: a card keyed in by the merchant's staff (mail or
/// telephone order), charged at once or authorised for a later capture.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    /// Minor units: 1050 is 10.50 USD.
    pub amount: i64,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    pub card: CardInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_reference: Option<String>,
    #[serde(default)]
    pub capture_method: CaptureMethod,
}

/// `GET /v1/refunds?payment_id=…`: a payment's refunds, oldest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundList {
    pub object: String,
    pub data: Vec<Refund>,
}

/// `GET /v1/payments`: one page, newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentList {
    pub object: String,
    pub data: Vec<Payment>,
    /// Whether another page follows: ask with `starting_after` = the last id.
    pub has_more: bool,
}

/// `POST /v1/payments/{id}/capture`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapturePayment {
    /// At most what was authorised; the rest is released. All of it if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
}

/// `POST /v1/refunds`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    pub payment_id: String,
    /// What is left to refund if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(RefundStatus::Pending),
            "succeeded" => Some(RefundStatus::Succeeded),
            "failed" => Some(RefundStatus::Failed),
            _ => None,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub object: String,
    pub payment_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: RefundStatus,
    pub reason: Option<String>,
    pub created: i64,
}

/// What `GET /v1/payments/{id}/validate` says of a payment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationStatus {
    /// Paid, and this is the first time anyone asked.
    Valid,
    /// Paid, and it was validated before: do not fulfil twice.
    Validated,
    /// Not paid, or not known.
    Invalid,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Normal,
    Elevated,
    High,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub status: ValidationStatus,
    pub payment_id: String,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub payment_status: Option<PaymentStatus>,
    pub order_reference: Option<String>,
    pub risk_level: Option<RiskLevel>,
    /// Unix seconds of the first validation.
    pub validated_at: Option<i64>,
}

/// Every error Kasse answers: `{"error": {"type", "code", "message", "param"}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub code: ErrorCode,
    pub message: String,
    pub param: Option<String>,
    /// For a refused state change: the statuses that would have allowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_from: Option<Vec<PaymentStatus>>,
}

/// `POST /v1/webhook_endpoints`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// `https` on a public address (or, when Kasse runs with
    /// `--webhook-allow-private`, also `http` to loopback).
    pub url: String,
    /// Event types to send; every type if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_events: Option<Vec<String>>,
}

/// A webhook endpoint. `secret` is shown only when it is created or rotated.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub object: String,
    pub url: String,
    pub enabled_events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpointList {
    pub object: String,
    pub data: Vec<WebhookEndpoint>,
}

/// An event, as delivered: `{id, type, created, data: {object}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    pub object: String,
    pub data: Vec<Event>,
    pub has_more: bool,
}

/// `GET /v1/events/{id}`: the event, where it goes, and every attempt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: Event,
    pub deliveries: Vec<DeliveryInfo>,
    pub attempts: Vec<AttemptInfo>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryInfo {
    pub id: String,
    pub url: String,
    pub endpoint_id: Option<String>,
    /// `pending` (retrying), `delivered`, or `failed` (gave up; resendable).
    pub status: String,
    pub attempts: i64,
    /// Unix milliseconds of the next try, while pending.
    pub next_attempt_ms: Option<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptInfo {
    pub delivery_id: String,
    /// Unix seconds.
    pub attempted: i64,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// `POST /v1/merchant/sslcommerz_credentials`: a new `store_id` and
/// `store_passwd` for the SSLCOMMERZ-compatible API, the password shown
/// only this once; the merchant's earlier pair stops working.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SslcommerzCredentials {
    pub store_id: String,
    pub store_passwd: String,
    /// `test`: Kasse's sandbox.
    pub mode: String,
}

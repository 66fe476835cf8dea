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
    /// The customer (`cus_…`) paying: their saved cards can be offered, and
    /// a card saved here is theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// A customer to create with the session, instead of `customer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<CreateCustomer>,
    /// Whether the card is saved for the customer: `off` (the default),
    /// `optional` (the customer ticks a box) or `required`. Needs a customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_card: Option<SaveCard>,
    /// What a saved card may be used for: `off_session` (the default: the
    /// merchant may charge it with the customer absent, under the mandate
    /// the customer agrees to here) or `on_session` (only with the customer
    /// paying on the page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_future_usage: Option<FutureUsage>,
    /// Limits of the mandate the customer agrees to, for off-session use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate_options: Option<MandateOptions>,
}

/// Whether a checkout session saves the card it is paid with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaveCard {
    #[default]
    Off,
    /// The page shows a box the customer may tick.
    Optional,
    /// The page says the card will be saved.
    Required,
}

impl SaveCard {
    pub fn as_str(self) -> &'static str {
        match self {
            SaveCard::Off => "off",
            SaveCard::Optional => "optional",
            SaveCard::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [SaveCard::Off, SaveCard::Optional, SaveCard::Required]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// What a saved card may be charged for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FutureUsage {
    /// Also by the merchant with the customer absent, under a mandate.
    #[default]
    OffSession,
    /// Only with the customer present on the page.
    OnSession,
}

impl FutureUsage {
    pub fn as_str(self) -> &'static str {
        match self {
            FutureUsage::OffSession => "off_session",
            FutureUsage::OnSession => "on_session",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [FutureUsage::OffSession, FutureUsage::OnSession]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The bounds of a mandate, as the customer agrees to them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandateOptions {
    /// The most one off-session charge may be, in the session's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_amount: Option<i64>,
    /// How often the merchant expects to charge: `day`, `week`, `month`,
    /// `year` or `sporadic`; shown to the customer and kept with the mandate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
}

/// `POST /v1/customers`, and `customer_data` of a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The merchant's own id for the customer; unique per merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `en`, `bn` or `mn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A merchant's customer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub object: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub reference: Option<String>,
    pub locale: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerList {
    pub object: String,
    pub data: Vec<Customer>,
    pub has_more: bool,
}

/// A card saved for a customer. The full number is only in the vault.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub object: String,
    /// `card`.
    #[serde(rename = "type")]
    pub kind: String,
    pub customer: Option<String>,
    /// `active`, `expired` or `detached`.
    pub status: String,
    pub card: PaymentCard,
    pub usage: FutureUsage,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethodList {
    pub object: String,
    pub data: Vec<PaymentMethod>,
}

/// `POST /v1/payment_methods/{id}/update_link`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUpdateLink {
    /// Where the customer goes after; the merchant's first origin if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// A page where the customer replaces a saved card, for 7 days, once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateLink {
    pub id: String,
    pub object: String,
    pub payment_method: String,
    /// Send the customer here; the secret is in the fragment.
    pub url: String,
    pub expires_at: i64,
}

/// `GET /v1/pay/update/{id}`: what the card update page shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdatePage {
    pub id: String,
    pub merchant_name: String,
    /// The card being replaced.
    pub card: SavedCard,
    /// `open`, `used` or `expired`.
    pub status: String,
    pub return_url: String,
    #[serde(default)]
    pub appearance: Appearance,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "auto"))]
    pub locale: RequestedLocale,
    pub accepted_brands: Vec<CardBrand>,
}

/// `POST /v1/pay/update/{id}/confirm`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    pub card: CardInput,
}

/// The answer to a card update: the card as it is now (brand, last four,
/// expiry) and where the customer goes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateResponse {
    pub card: SavedCard,
    pub return_url: String,
}

/// What a customer agreed to when they let the merchant charge a saved card
/// in their absence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mandate {
    pub id: String,
    pub object: String,
    pub customer: String,
    pub payment_method: String,
    /// `active` or `revoked`.
    pub status: String,
    pub currency: String,
    pub max_amount: Option<i64>,
    pub frequency: Option<String>,
    pub customer_acceptance: CustomerAcceptance,
    /// The customer-initiated payment that made it.
    pub payment: Option<String>,
    pub created: i64,
    pub revoked: Option<i64>,
}

/// The consent as the customer gave it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerAcceptance {
    /// The exact words the customer was shown, in their language.
    pub text: String,
    pub text_version: String,
    pub locale: String,
    /// Unix seconds.
    pub accepted_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// `payment_page`.
    pub channel: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MandateList {
    pub object: String,
    pub data: Vec<Mandate>,
}

/// `POST /v1/subscriptions`: a customer's saved card charged on a calendar.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    pub customer: String,
    pub payment_method: String,
    /// Each cycle's charge, in minor units.
    pub amount: i64,
    pub currency: String,
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    /// Cycles are `interval_count` intervals apart (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_count: Option<u32>,
    /// The IANA time zone the calendar is kept in (default `UTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "Asia/Dhaka"))]
    pub time_zone: Option<String>,
    /// Unix seconds; the first charge is the first anchored moment at or
    /// after it (default now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<SubscriptionAnchor>,
    /// Completed after this many paid cycles; forever if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_after_cycles: Option<u32>,
    /// The mandate to charge under; the card's active one if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// The day of the month (monthly and yearly charges; clamped to shorter
/// months' ends) and the local time of day a subscription charges at.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionAnchor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<i8>,
    /// `HH:MM`, 24-hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "09:00"))]
    pub time: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub object: String,
    pub customer: String,
    pub payment_method: String,
    pub mandate: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub interval: String,
    pub interval_count: u32,
    pub time_zone: String,
    pub anchor_day: i8,
    /// `active`, `past_due`, `paused`, `halted`, `canceled` or `completed`.
    pub status: String,
    /// The cycle charged next (0 is the first).
    pub current_cycle: u32,
    pub cycles_paid: u32,
    pub end_after_cycles: Option<u32>,
    /// When the next charge (or retry) is made, Unix seconds; none once
    /// nothing more will be charged.
    pub next_charge_at: Option<i64>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionList {
    pub object: String,
    pub data: Vec<Subscription>,
    pub has_more: bool,
}

/// A charge to come.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpcomingCharge {
    pub cycle: u32,
    /// Unix seconds.
    pub at: i64,
    /// The same moment in the subscription's time zone, with its offset.
    pub local: String,
    pub amount: i64,
    pub currency: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpcomingList {
    pub object: String,
    pub data: Vec<UpcomingCharge>,
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
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub save_card: SaveCard,
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
    /// Whether the page offers to save the card, or says it will.
    #[serde(default)]
    pub save_card: SaveCard,
    /// What a card saved here may be used for (the consent text says it).
    #[serde(default)]
    pub setup_future_usage: FutureUsage,
    /// The customer's saved cards, to pay with one and its security code.
    #[serde(default)]
    pub saved_cards: Vec<SavedCard>,
}

/// A saved card as its customer sees it on the page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedCard {
    /// `pm_…`.
    pub id: String,
    pub brand: CardBrand,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

impl SavedCard {
    /// How the pages name the card: `Visa •••• 4242 · 09/31`. Written
    /// without `format!`, whose padding the payment page would carry for
    /// this alone.
    pub fn label(&self) -> String {
        let month = crate::locale::ascii_digits(self.exp_month.into(), 2);
        let year = crate::locale::ascii_digits((self.exp_year % 100).into(), 2);
        [
            self.brand.display_name(),
            " •••• ",
            &self.last4,
            " · ",
            &month,
            "/",
            &year,
        ]
        .concat()
    }
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
    /// The card typed; absent when paying with a saved card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardInput>,
    /// One of the customer's saved cards (`pm_…`), with `cvc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// The saved card's security code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "123"))]
    pub cvc: Option<Sensitive<String>>,
    /// The customer ticked "save this card" (on a session whose
    /// `save_card` is `optional`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub save_card: bool,
    /// The language the page showed the consent text in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
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
    /// The customer it was for.
    #[serde(default)]
    pub customer: Option<String>,
    /// The saved card it charged, or saved.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The mandate an off-session charge was made under.
    #[serde(default)]
    pub mandate: Option<String>,
    /// Charged by the merchant with the customer absent.
    #[serde(default)]
    pub off_session: bool,
    /// After `authentication_required`: the checkout session where the
    /// customer authenticates and pays.
    #[serde(default)]
    pub recovery_session: Option<String>,
    /// That session's page, in the answer to the charge only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_url: Option<String>,
    /// The settlement its capture closed in (`stl_…`), when one has; in
    /// answers to `GET /v1/payments` and `GET /v1/payments/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<String>,
    /// Where its captured money is: `unsettled` (not yet in a closed
    /// settlement), `settled`, `paid_out` or `payout_failed`; absent when
    /// nothing was captured, and outside the two answers above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_status: Option<String>,
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
    /// A saved card charged by the merchant with the customer absent.
    MerchantInitiated,
}

impl PaymentChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentChannel::Checkout => "checkout",
            PaymentChannel::Moto => "moto",
            PaymentChannel::MerchantInitiated => "merchant_initiated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "checkout" => Some(PaymentChannel::Checkout),
            "moto" => Some(PaymentChannel::Moto),
            "merchant_initiated" => Some(PaymentChannel::MerchantInitiated),
            _ => None,
        }
    }
}

/// `POST /v1/payments`: a card keyed in by the merchant's staff (mail or
/// telephone order), or a customer's saved card charged with the customer
/// absent (`customer`, `payment_method`, `off_session: true`); charged at
/// once or authorised for a later capture.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    /// Minor units: 1050 is 10.50 USD.
    pub amount: i64,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    /// A keyed card; absent for a saved card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_reference: Option<String>,
    #[serde(default)]
    pub capture_method: CaptureMethod,
    /// The customer whose saved card is charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The saved card, `pm_…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// `true`: the customer is not present (a merchant-initiated charge).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub off_session: bool,
    /// The mandate to charge under; the card's active one if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate: Option<String>,
    /// Where a customer who pays through the recovery page returns; the
    /// merchant's first origin if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
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

/// One line of a payment link or invoice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub name: String,
    /// At least 1.
    pub quantity: u32,
    /// In minor units, like every amount.
    pub unit_amount: i64,
}

/// Whether a link may be paid in parts, and how much the first part must be.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialPayments {
    pub enabled: bool,
    /// The least the first payment may be; later ones may be anything up
    /// to what is still due. Defaults to 1 minor unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_first_amount: Option<i64>,
}

/// Who is told by email.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkNotify {
    /// Email the link to the customer when it is made, and a receipt after
    /// each payment.
    pub email: bool,
}

/// Reminder emails, each at an offset from the invoice's due date (09:00
/// that day in the link's `time_zone`) or, for a link that is no invoice,
/// from its expiry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkReminders {
    /// Like `"-3d"`, `"-1d"`, `"+1d"` or `"-12h"`: days (calendar days in
    /// the link's `time_zone`) or hours before (`-`) or after (`+`). Only
    /// those before the link expires are sent, and only while it is unpaid:
    /// `+1d` reminds of an invoice overdue whose link is still open.
    pub offsets: Vec<String>,
    /// At most this many are sent; default all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// What makes a payment link an invoice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceOptions {
    /// `YYYY-MM-DD`, in the link's `time_zone`; default the expiry's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// The merchant's postal address as printed on the invoice, lines
    /// separated by `\n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_address: Option<String>,
}

/// `POST /v1/payment_links`: a link the customer pays, now or in parts, until
/// it expires. Give `amount` or `line_items`, not both.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<LineItem>>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A customer of yours (`cus_…`), or `customer_data` to make one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<CreateCustomer>,
    /// Your reference; unique among your links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference: Option<String>,
    /// Unix seconds, at most 180 days ahead; default 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialPayments>,
    /// `single` (default: paid once, perhaps in parts) or `reusable` (paid
    /// in full by anyone, up to `max_completions` times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<LinkNotify>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<LinkReminders>,
    /// An IANA zone for reminders and the invoice's dates; default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Where the customer goes once paid; default the link's own page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Makes the link an invoice, numbered `INV-YYYY-NNNN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `POST /v1/payment_links/{id}`: what may change while a link is open.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePaymentLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// An invoice's number and dates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// `INV-2026-0001`: gap-free, per merchant and year.
    pub number: String,
    /// `YYYY-MM-DD`.
    pub issue_date: String,
    pub due_date: String,
    pub merchant_name: String,
    pub merchant_address: Option<String>,
}

/// A payment link (and, with `invoice`, an invoice).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentLink {
    pub id: String,
    pub object: String,
    /// What the customer opens; it holds a token of its own, not the id.
    pub url: String,
    /// `open`, `partially_paid`, `paid`, `expired` or `canceled`.
    pub status: String,
    pub amount: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    pub currency: String,
    pub description: Option<String>,
    pub line_items: Vec<LineItem>,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub merchant_reference: Option<String>,
    pub expires_at: i64,
    pub partial: PartialPayments,
    pub usage: String,
    pub max_completions: Option<u32>,
    pub completions: u32,
    pub notify: LinkNotify,
    pub reminders: LinkReminders,
    pub time_zone: String,
    pub success_url: Option<String>,
    pub invoice: Option<Invoice>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentLinkList {
    pub object: String,
    pub data: Vec<PaymentLink>,
    pub has_more: bool,
}

/// An email Kasse sends (or will): the link, a reminder, or a receipt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub object: String,
    pub payment_link: Option<String>,
    pub payment: Option<String>,
    /// `payment_link`, `reminder` or `receipt`.
    pub template: String,
    pub recipient: String,
    pub locale: String,
    /// `queued`, `sending`, `sent`, `deferred`, `failed` or `canceled`.
    pub status: String,
    /// When it goes out (a reminder's time), Unix seconds.
    pub send_at: i64,
    pub attempts: u32,
    /// What the mail server last said, or why nothing was sent.
    pub last_reply: Option<String>,
    /// The same on every attempt, so a receiver can tell a retry.
    pub message_id: String,
    pub sent_at: Option<i64>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationList {
    pub object: String,
    pub data: Vec<Notification>,
    pub has_more: bool,
}

/// `POST /l/{token}/session`: start paying a link, for `amount` when it may
/// be paid in parts (default what is still due).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
}

/// An amount in one currency.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyAmount {
    pub amount: i64,
    pub currency: String,
}

/// `GET /v1/balance`: what Kasse holds for the merchant, per currency.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub object: String,
    /// Captured, less fees and refunds, and past its delay: what can be paid out.
    pub available: Vec<CurrencyAmount>,
    /// Captured, less fees, not yet available.
    pub pending: Vec<CurrencyAmount>,
    /// Held for payouts on their way.
    pub reserved: Vec<CurrencyAmount>,
}

/// One movement of the merchant's money.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceTransaction {
    pub id: String,
    pub object: String,
    /// `charge` (a capture), `refund`, `payout` (money reserved for a
    /// payout), `payout_failure` and `payout_cancel` (that money back),
    /// `payout_return` (a paid payout that came back), `top_up` (sandbox).
    #[serde(rename = "type")]
    pub kind: String,
    /// Minor units: positive in, negative out.
    pub amount: i64,
    pub fee: i64,
    /// `amount - fee`: what the balance moved by.
    pub net: i64,
    pub currency: String,
    /// The payment (`pay_…`), refund (`re_…`), payout (`po_…`) or
    /// top-up (`tu_…`) that moved it.
    pub source: String,
    /// The payment, for a charge or a refund.
    pub payment: Option<String>,
    /// `pending` or `available`.
    pub status: String,
    /// When it is (or was) available, Unix seconds.
    pub available_on: i64,
    pub settlement: Option<String>,
    pub payout: Option<String>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceTransactionList {
    pub object: String,
    pub data: Vec<BalanceTransaction>,
    pub has_more: bool,
}

/// A merchant's business day in one currency, closed at its cut-off.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub id: String,
    pub object: String,
    pub currency: String,
    /// `YYYY-MM-DD`, the business day in `time_zone`.
    pub local_date: String,
    pub time_zone: String,
    /// Unix seconds: from this cut-off (inclusive) to the next (exclusive).
    pub period_start: i64,
    pub period_end: i64,
    pub charge_count: i64,
    pub refund_count: i64,
    /// Captured.
    pub gross: i64,
    /// Refunded, as a positive amount.
    pub refunded: i64,
    /// Fees less fees given back.
    pub fees: i64,
    /// A negative net of the settlement before, carried in.
    pub carried: i64,
    /// `gross − refunded − fees + carried`.
    pub net: i64,
    /// `closed` (then `paid_out` or `payout_failed`).
    pub status: String,
    /// The payout that pays it out (`po_…`), once one was made.
    pub payout: Option<String>,
    pub created: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementList {
    pub object: String,
    pub data: Vec<Settlement>,
    pub has_more: bool,
}

/// A card to pay out to, typed in: no security code, as a credit needs none.
/// `Debug` redacts the number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutCardInput {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4242 4242 4242 4242"))]
    pub number: Sensitive<String>,
    pub exp_month: u8,
    /// Four digits, or two.
    pub exp_year: u16,
    #[serde(default)]
    pub name: Option<String>,
}

/// A bank account to pay out to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountInput {
    /// 4 to 34 letters and digits (an IBAN or a local number); spaces are
    /// ignored.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "000123450000"))]
    pub account_number: Sensitive<String>,
    /// The bank's routing code or SWIFT/BIC, 2 to 20 letters and digits.
    pub bank_code: String,
    /// The name on the account.
    pub account_holder: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Where a payout goes: exactly one of a saved card, a card typed in or a
/// bank account.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutDestinationInput {
    /// A saved card, `pm_…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<PayoutCardInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<BankAccountInput>,
}

/// `POST /v1/payouts`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayoutRequest {
    /// Minor units; with `settlement`, its net (and may be left out).
    #[serde(default)]
    pub amount: Option<i64>,
    /// With `settlement`, its currency (and may be left out).
    #[serde(default)]
    pub currency: Option<String>,
    pub destination: PayoutDestinationInput,
    /// Your reference, unique among your payouts forever: a payout retried
    /// with it days later is refused rather than paid twice.
    pub merchant_reference: String,
    /// What the money is for, as the recipient's statement may show it:
    /// up to 140 characters.
    pub purpose: String,
    /// Pays out a closed settlement's net (`stl_…`); its status follows the
    /// payout's.
    #[serde(default)]
    pub settlement: Option<String>,
}

/// Where a payout goes, as Kasse keeps it: never a full number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutDestination {
    /// `card` or `bank_account`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The saved card it pays, if it was one.
    pub payment_method: Option<String>,
    /// A card's brand.
    pub brand: Option<String>,
    pub last4: String,
    pub bank_code: Option<String>,
    pub account_holder: Option<String>,
    pub country: Option<String>,
}

/// Money sent from the merchant's balance to a card or a bank account.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub id: String,
    pub object: String,
    pub amount: i64,
    pub currency: String,
    /// `requires_approval`, `pending`, `in_transit`, `paid`, `failed`,
    /// `canceled` or `returned`.
    pub status: String,
    pub destination: PayoutDestination,
    pub merchant_reference: String,
    pub purpose: String,
    pub settlement: Option<String>,
    /// `api` (a secret key) or the member of staff (`usr_…`) who made it.
    pub created_by: String,
    /// The admin (`usr_…`) who approved it, if it needed approval.
    pub approved_by: Option<String>,
    /// Why it failed or came back: `account_closed`, `card_not_eligible`,
    /// `account_frozen`, …
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// Unix seconds: when the money is expected, once sent.
    pub arrival_date: Option<i64>,
    pub paid_at: Option<i64>,
    pub returned_at: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutList {
    pub object: String,
    pub data: Vec<Payout>,
    pub has_more: bool,
}

/// `POST /v1/sandbox/top_ups`: money added to the available balance, for
/// testing payouts; refused by a Kasse that handles real money.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopUpRequest {
    pub amount: i64,
    pub currency: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUp {
    pub id: String,
    pub object: String,
    pub amount: i64,
    pub currency: String,
    /// The ledger row it wrote.
    pub balance_transaction: String,
    pub created: i64,
}

/// `POST /v1/reports`: a report over an interval.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateReportRequest {
    /// `itemised_settlement` (each ledger row of the settlements that
    /// closed in the interval), `balance_summary` (per currency: opening
    /// balance, each kind of movement, closing balance) or `payouts`
    /// (payouts made in the interval).
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds, inclusive; at most now.
    pub interval_start: i64,
    /// Unix seconds, exclusive; at most now, within 366 days of the start.
    pub interval_end: i64,
    /// `csv` (default) or `json`.
    #[serde(default)]
    pub format: Option<String>,
}

/// A report made once and kept: its file is the same bytes every time.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRun {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub report_version: u32,
    pub interval_start: i64,
    pub interval_end: i64,
    pub format: String,
    /// The time zone its local times are in (the merchant's settlement zone).
    pub time_zone: String,
    /// The SHA-256 of the file, in hex.
    pub sha256: String,
    pub size: i64,
    /// Where to download it, with the same key.
    pub url: String,
    pub created: i64,
}

#[cfg(test)]
mod saved_card_tests {
    use super::SavedCard;
    use crate::CardBrand;

    #[test]
    fn a_saved_card_is_named_by_brand_last_four_and_expiry() {
        let card = |brand, exp_month, exp_year| SavedCard {
            id: "pm_1".into(),
            brand,
            last4: "4242".into(),
            exp_month,
            exp_year,
        };
        for (brand, month, year) in [
            (CardBrand::Visa, 9, 2031),
            (CardBrand::Amex, 12, 2100),
            (CardBrand::Mastercard, 1, 2009),
        ] {
            assert_eq!(
                card(brand, month, year).label(),
                format!(
                    "{} •••• 4242 · {:02}/{:02}",
                    brand.display_name(),
                    month,
                    year % 100
                )
            );
        }
        assert_eq!(
            card(CardBrand::Visa, 9, 2031).label(),
            "Visa •••• 4242 · 09/31"
        );
    }
}

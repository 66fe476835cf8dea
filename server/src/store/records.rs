//! What the store keeps and returns: one type per record, and the
//! filters, changes and claims its operations take.

use std::collections::{BTreeMap, HashMap};

use kasse_core::RequestedLocale;
use kasse_core::api::{
    CaptureMethod, EventType, FutureUsage, MandateOptions, PaymentChannel, RefundStatus, SaveCard,
    StaffRole,
};
use kasse_core::appearance::Appearance;
use kasse_core::error::DeclineCode;
use kasse_core::origin::MerchantOrigin;
use kasse_core::{CardBrand, Currency, PaymentStatus, SessionStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub origins: Vec<MerchantOrigin>,
    /// Signs redirect URLs; shown to the merchant when the merchant is created.
    pub signing_secret: String,
    /// Signs deliveries to sessions' own `notification_url`s.
    pub webhook_secret: Option<String>,
    /// The default look of its payment pages.
    pub appearance: Appearance,
    pub created: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Secret,
    Publishable,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub merchant_id: String,
    pub kind: KeyKind,
    /// The clear start of the key, to find it by.
    pub lookup: String,
    pub hash: String,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub merchant_id: String,
    pub client_secret: String,
    pub status: SessionStatus,
    pub amount: i64,
    pub currency: Currency,
    pub success_url: String,
    pub cancel_url: String,
    pub fail_url: Option<String>,
    pub order_reference: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub capture_method: CaptureMethod,
    pub notification_url: Option<String>,
    /// Changes to the merchant's appearance for this session.
    pub appearance: Option<Appearance>,
    pub locale: RequestedLocale,
    pub payment_id: Option<String>,
    pub created: i64,
    pub expires_at: i64,
    /// The API that made it, which decides how the customer returns and
    /// what its `notification_url` is sent.
    pub surface: Surface,
    /// The cards it takes, when narrower than every card.
    pub card_rules: Option<CardRules>,
    /// The customer paying, whose card may be saved.
    pub customer_id: Option<String>,
    pub save_card: SaveCard,
    pub future_usage: FutureUsage,
    pub mandate_options: Option<MandateOptions>,
    /// The payment link this session pays (part of).
    pub payment_link_id: Option<String>,
}

/// The cards a session takes: these brands (any, if none is named) and
/// numbers that start with one of these BINs (any, if none is named).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CardRules {
    pub brands: Vec<CardBrand>,
    pub bins: Vec<String>,
}

impl CardRules {
    /// Why a card's brand or BIN is not taken, or `None` if it is.
    pub fn refusal(&self, brand: CardBrand, digits: &str) -> Option<String> {
        if !self.brands.is_empty() && !self.brands.contains(&brand) {
            let names: Vec<&str> = self.brands.iter().map(|b| b.display_name()).collect();
            return Some(format!(
                "This payment takes only {} cards; use another card.",
                names.join(" or ")
            ));
        }
        if !self.bins.is_empty() && !self.bins.iter().any(|bin| digits.starts_with(bin.as_str())) {
            return Some(
                "This payment takes only cards the shop named (by their first digits); use another card."
                    .into(),
            );
        }
        None
    }
}

/// Which API made a session: Kasse's own, or a compatibility surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Surface {
    #[default]
    Kasse,
    /// SSLCOMMERZ v4: the customer returns by a form POST, and the
    /// `notification_url` (the IPN URL) hears only of outcomes.
    Sslcommerz,
    /// The simple checkout API: the customer returns with a `transaction_id`.
    Simple,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Kasse => "kasse",
            Surface::Sslcommerz => "sslcommerz",
            Surface::Simple => "simple",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Surface::Kasse, Surface::Sslcommerz, Surface::Simple]
            .into_iter()
            .find(|surface| surface.as_str() == s)
    }
}

impl Session {
    /// Where an event of `kind` about this session is sent besides the
    /// merchant's endpoints: its `notification_url`, which on the SSLCOMMERZ
    /// surface is the IPN URL and hears only of a payment's outcome and of
    /// the session's end.
    pub fn notification_url_for(&self, kind: EventType) -> Option<&str> {
        let wanted = match self.surface {
            Surface::Kasse | Surface::Simple => true,
            Surface::Sslcommerz => matches!(
                kind,
                EventType::PaymentSucceeded
                    | EventType::PaymentFailed
                    | EventType::CheckoutSessionExpired
            ),
        };
        self.notification_url.as_deref().filter(|_| wanted)
    }

    /// The status as of `now`: an open session past its time is expired,
    /// whether or not a sweeper has written that down yet.
    pub fn status_at(&self, now: i64) -> SessionStatus {
        if self.status == SessionStatus::Open && now >= self.expires_at {
            SessionStatus::Expired
        } else {
            self.status
        }
    }
}

/// A payment attempt: what the acquirer was asked and what it said. Holds
/// no card number and no CVC, only what PCI DSS allows to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub id: String,
    pub merchant_id: String,
    pub session_id: Option<String>,
    pub amount: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub card_brand: CardBrand,
    pub card_bin: String,
    pub card_last4: String,
    pub card_exp_month: u8,
    pub card_exp_year: u16,
    pub card_fingerprint: String,
    pub cardholder_name: Option<String>,
    pub decline_code: Option<DeclineCode>,
    pub authorization_code: Option<String>,
    pub capture_method: CaptureMethod,
    pub channel: PaymentChannel,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    /// While `requires_action`: what the simulated issuer page must be shown.
    pub action_token: Option<String>,
    /// When the validation API first answered for it.
    pub validated: Option<i64>,
    pub order_reference: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub customer_id: Option<String>,
    /// The saved card it charged, or is saving.
    pub payment_method_id: Option<String>,
    /// The mandate an off-session charge was made under, or the one a
    /// customer-initiated payment is making.
    pub mandate_id: Option<String>,
    pub off_session: bool,
    /// After an off-session `authentication_required`: the session where
    /// the customer pays instead.
    pub recovery_session_id: Option<String>,
}

/// The money-bearing part of a payment that a guarded write compares and sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentState {
    pub status: PaymentStatus,
    pub amount_captured: i64,
    pub amount_refunded: i64,
}

impl Payment {
    pub fn state(&self) -> PaymentState {
        PaymentState {
            status: self.status,
            amount_captured: self.amount_captured,
            amount_refunded: self.amount_refunded,
        }
    }
}

/// A compare-and-set on a payment: it happens only if the payment is still
/// exactly `from`, so two concurrent changes cannot both apply.
#[derive(Debug, Clone)]
pub struct PaymentChange {
    pub payment_id: String,
    pub from: PaymentState,
    pub to: PaymentState,
    pub now: i64,
    /// Written in the same transaction (a refund).
    pub refund: Option<Refund>,
    /// The change's events, into the outbox in the same transaction.
    pub events: Vec<NewEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub merchant_id: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: RefundStatus,
    pub reason: Option<String>,
    pub created: i64,
}

/// Filters and a cursor for listing payments, newest first.
#[derive(Debug, Clone, Default)]
pub struct PaymentQuery {
    pub status: Option<PaymentStatus>,
    pub order_reference: Option<String>,
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
    /// Only the payments made through this payment link's sessions.
    pub payment_link: Option<String>,
    /// The id of the last payment of the previous page.
    pub starting_after: Option<String>,
    pub limit: u32,
}

/// What a first request with an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyStart {
    /// The key is new: run the request, then `finish_idempotent`.
    Started,
    /// The first request with this key is still running.
    InFlight,
    /// The key was used with another request.
    Mismatch,
    /// The first response, to send again.
    Replay { status: u16, body: Vec<u8> },
}

/// An event to write to the outbox, in the same transaction as its change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: String,
    pub merchant_id: String,
    pub kind: EventType,
    pub created: i64,
    /// `{"object": …}`: the object as the API shows it after the change.
    pub data: serde_json::Value,
    /// A session's own destination, besides the merchant's endpoints.
    pub notification_url: Option<String>,
    /// When its deliveries are first due (Unix milliseconds).
    pub due_ms: i64,
    /// The request that caused it (`x-request-id`), if a request did.
    pub request_id: Option<String>,
}

impl NewEvent {
    /// The payment the event is about: a payment's own id, or the payment of
    /// a refund or of a completed session.
    pub fn payment_id(&self) -> Option<&str> {
        let object = self.data.get("object")?;
        let field = match object.get("object")?.as_str()? {
            "payment" => "id",
            "refund" | "checkout.session" => "payment_id",
            _ => return None,
        };
        object.get(field)?.as_str()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub merchant_id: String,
    pub kind: EventType,
    pub created: i64,
    pub data: serde_json::Value,
    pub notification_url: Option<String>,
    /// The request that caused it, if a request did.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub merchant_id: String,
    pub url: String,
    /// `None`: every event.
    pub enabled_events: Option<Vec<String>>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires: Option<i64>,
    pub created: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Retried until the schedule ran out; still resendable.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub merchant_id: String,
    pub endpoint_id: Option<String>,
    pub url: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub created_ms: i64,
}

/// How many deliveries one claim may take.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub total: u32,
    pub per_url: u32,
    /// Deliveries this instance is sending now, by URL.
    pub in_flight: HashMap<String, u32>,
    pub per_merchant: u32,
    /// Deliveries this instance is sending now, by merchant.
    pub in_flight_merchants: HashMap<String, u32>,
}

/// A delivery a worker holds, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub event: Event,
    /// Every secret that signs it: the current one, and one being rotated out.
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub delivery_id: String,
    pub event_id: String,
    pub attempted: i64,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    RetryAt(i64),
    GiveUp,
}

/// A member of a merchant's staff, who logs in to the terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffUser {
    pub id: String,
    pub merchant_id: String,
    /// In lower case.
    pub email: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub role: StaffRole,
    pub created: i64,
}

/// A logged-in terminal. The cookie holds a token; only its keyed hash is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffLogin {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created: i64,
    pub expires_at: i64,
}

/// The result of claiming a session to confirm it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmClaim {
    /// This request holds the session until `finish_confirm`.
    Claimed,
    /// Another confirm holds it now.
    InProgress,
    /// The session is no longer open (paid or expired) or does not exist.
    NotOpen,
}

/// Filters and a cursor for listing events, newest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub kind: Option<EventType>,
    /// Only the events about this payment.
    pub payment_id: Option<String>,
    pub starting_after: Option<String>,
    pub limit: u32,
}

/// An SSLCOMMERZ `store_id` and what checks and signs with its password.
#[derive(Debug, Clone, PartialEq)]
pub struct CompatCredential {
    pub store_id: String,
    pub merchant_id: String,
    /// `test` (the only mode Kasse's sandbox has).
    pub mode: String,
    /// A keyed hash of the password, to check it by.
    pub password_hash: String,
    /// Hex md5 and sha256 of the password: they sign IPNs.
    pub password_md5: String,
    pub password_sha256: String,
    pub created: i64,
    pub revoked: Option<i64>,
}

/// What a compatibility surface keeps beside a session it made.
#[derive(Debug, Clone, PartialEq)]
pub struct CompatSession {
    pub session_id: String,
    pub merchant_id: String,
    /// The token in the page URL: SSLCOMMERZ's `sessionkey`, the simple
    /// surface's `trx_id`.
    pub token: String,
    /// The SSLCOMMERZ store that made it.
    pub store_id: Option<String>,
    /// Fields the surface echoes back unchanged (`value_a` … `value_d`, …).
    pub fields: BTreeMap<String, String>,
    /// When the customer cancelled on the page.
    pub canceled: Option<i64>,
    pub created: i64,
}

/// A successful payment's names on the compatibility surfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRefs {
    pub payment_id: String,
    pub merchant_id: String,
    /// SSLCOMMERZ's `val_id`.
    pub val_id: String,
    /// The simple surface's `transaction_id`.
    pub short_ref: String,
}

/// A merchant's customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: String,
    pub merchant_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub reference: Option<String>,
    pub locale: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
    pub updated: i64,
}

/// Filters and a cursor for listing customers, newest first.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    pub email: Option<String>,
    pub reference: Option<String>,
    pub starting_after: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethodStatus {
    /// Saved by a payment that the issuer has not approved yet.
    Pending,
    Active,
    Detached,
    Expired,
}

impl PaymentMethodStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethodStatus::Pending => "pending",
            PaymentMethodStatus::Active => "active",
            PaymentMethodStatus::Detached => "detached",
            PaymentMethodStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PaymentMethodStatus::Pending,
            PaymentMethodStatus::Active,
            PaymentMethodStatus::Detached,
            PaymentMethodStatus::Expired,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A saved card: what may be kept in clear. Its number is in the vault.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentMethod {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub status: PaymentMethodStatus,
    pub card_brand: CardBrand,
    pub card_bin: String,
    pub card_last4: String,
    pub card_exp_month: u8,
    pub card_exp_year: u16,
    pub card_fingerprint: String,
    pub cardholder_name: Option<String>,
    pub usage: FutureUsage,
    pub first_payment_id: Option<String>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MandateStatus {
    /// Made with a payment the issuer has not approved yet.
    Pending,
    Active,
    Revoked,
}

impl MandateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MandateStatus::Pending => "pending",
            MandateStatus::Active => "active",
            MandateStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            MandateStatus::Pending,
            MandateStatus::Active,
            MandateStatus::Revoked,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What a customer agreed to: a merchant may charge a saved card in their
/// absence, within these bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Mandate {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub payment_method_id: String,
    pub status: MandateStatus,
    pub currency: Currency,
    pub max_amount: Option<i64>,
    pub frequency: Option<String>,
    pub consent_text: String,
    pub consent_version: String,
    pub consent_locale: String,
    pub accepted_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub channel: String,
    /// The customer-initiated payment that made it.
    pub payment_id: Option<String>,
    pub created: i64,
    pub revoked: Option<i64>,
}

/// A merchant's data key as stored: wrapped by the key-encryption key `kek_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct WrappedKey {
    pub merchant_id: String,
    pub kek_id: String,
    pub wrapped_key: String,
    pub created: i64,
}

/// A card being saved: its record, pending, and its sealed number.
#[derive(Debug, Clone)]
pub struct PendingCard {
    pub method: PaymentMethod,
    pub ciphertext: String,
}

/// What became of a pending card once its payment was approved.
#[derive(Debug, Clone, PartialEq)]
pub enum Activated {
    /// It is the customer's card now.
    New(PaymentMethod),
    /// The customer had this card saved already: that one stands, and the
    /// pending one is gone.
    Existing(PaymentMethod),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Active,
    /// A cycle's charge failed; it is retried on schedule.
    PastDue,
    Paused,
    /// Every retry of a cycle failed; nothing more is charged.
    Halted,
    Canceled,
    /// Its last cycle is paid.
    Completed,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Halted => "halted",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            SubscriptionStatus::Active,
            SubscriptionStatus::PastDue,
            SubscriptionStatus::Paused,
            SubscriptionStatus::Halted,
            SubscriptionStatus::Canceled,
            SubscriptionStatus::Completed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A saved card charged on a calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub payment_method_id: String,
    pub mandate_id: Option<String>,
    pub amount: i64,
    pub currency: Currency,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// `day`, `week`, `month` or `year`.
    pub interval_unit: String,
    pub interval_count: u32,
    pub time_zone: String,
    /// Cycle 0's local date and time.
    pub first_local: String,
    pub anchor_day: i8,
    pub end_after_cycles: Option<u32>,
    pub status: SubscriptionStatus,
    pub next_cycle: u32,
    /// When the sweeper may charge (or retry) the next cycle.
    pub next_attempt_at: Option<i64>,
    pub cycles_paid: u32,
    pub created: i64,
    pub updated: i64,
}

/// A cycle this instance now holds, to charge or to finish.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleClaim {
    /// The id the acquirer is (or was) asked with.
    pub payment_id: String,
    pub attempts: u32,
    /// A claim whose holder vanished mid-charge: the acquirer is asked
    /// what became of `payment_id` before anything is charged.
    pub recovering: bool,
}

/// What became of a cycle's attempt, written at once: the cycle, its
/// payment, the subscription moved on, and their events.
#[derive(Debug, Clone)]
pub struct CycleOutcome {
    pub subscription_id: String,
    pub number: u32,
    pub owner: String,
    pub payment: Option<Payment>,
    /// `paid`, `retrying` or `failed`.
    pub cycle_status: &'static str,
    pub cycle_next_attempt_at: Option<i64>,
    pub last_decline: Option<String>,
    pub status: SubscriptionStatus,
    pub next_cycle: u32,
    pub next_attempt_at: Option<i64>,
    pub paid: bool,
    pub now: i64,
    pub events: Vec<NewEvent>,
}

/// A guarded change of a subscription's status (pause, resume, cancel).
#[derive(Debug, Clone)]
pub struct SubscriptionChange {
    pub id: String,
    pub merchant_id: String,
    pub from: SubscriptionStatus,
    pub to: SubscriptionStatus,
    pub next_cycle: u32,
    pub next_attempt_at: Option<i64>,
    pub now: i64,
    pub events: Vec<NewEvent>,
}

/// A page where a customer replaces a saved card; single use.
#[derive(Debug, Clone, PartialEq)]
pub struct CardUpdate {
    pub id: String,
    pub merchant_id: String,
    pub payment_method_id: String,
    /// A keyed hash of the secret in the page's URL.
    pub secret_hash: String,
    pub return_url: String,
    pub created: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Open,
    PartiallyPaid,
    Paid,
    Expired,
    Canceled,
}

impl LinkStatus {
    pub const ALL: [LinkStatus; 5] = [
        LinkStatus::Open,
        LinkStatus::PartiallyPaid,
        LinkStatus::Paid,
        LinkStatus::Expired,
        LinkStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Open => "open",
            LinkStatus::PartiallyPaid => "partially_paid",
            LinkStatus::Paid => "paid",
            LinkStatus::Expired => "expired",
            LinkStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether it still takes payments and changes.
    pub fn is_open(self) -> bool {
        matches!(self, LinkStatus::Open | LinkStatus::PartiallyPaid)
    }
}

/// A payment link (an invoice, when `invoice` is set).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentLink {
    pub id: String,
    pub merchant_id: String,
    /// The customer's link's token, in clear only in memory.
    pub token: String,
    pub token_hash: String,
    pub status: LinkStatus,
    pub amount: i64,
    pub amount_paid: i64,
    pub currency: Currency,
    pub description: Option<String>,
    pub line_items: Vec<kasse_core::api::LineItem>,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    /// `en`, `bn` or `mn`: the emails' and the page's language.
    pub locale: String,
    pub merchant_reference: Option<String>,
    pub expires_at: i64,
    pub partial_enabled: bool,
    pub minimum_first: i64,
    pub reusable: bool,
    pub max_completions: Option<u32>,
    pub completions: u32,
    pub notify_email: bool,
    pub reminders: kasse_core::api::LinkReminders,
    pub time_zone: String,
    pub success_url: Option<String>,
    pub invoice: Option<kasse_core::api::Invoice>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
    pub updated: i64,
}

impl PaymentLink {
    /// What is still to pay: for a reusable link, its amount each time.
    pub fn amount_due(&self) -> i64 {
        if self.reusable {
            if self.status.is_open() {
                self.amount
            } else {
                0
            }
        } else {
            self.amount - self.amount_paid
        }
    }

    /// The status as of `now`: an open link past its time is expired,
    /// whether or not the sweeper has written that down yet.
    pub fn status_at(&self, now: i64) -> LinkStatus {
        if self.status.is_open() && now >= self.expires_at {
            LinkStatus::Expired
        } else {
            self.status
        }
    }
}

/// Filters and a cursor for listing payment links, newest first.
#[derive(Debug, Clone, Default)]
pub struct LinkQuery {
    pub status: Option<LinkStatus>,
    pub customer: Option<String>,
    pub merchant_reference: Option<String>,
    pub starting_after: Option<String>,
    pub limit: u32,
}

/// What else a payment that completes its session writes, in the same
/// transaction: the payment link it pays, events, and the receipt.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    pub link: Option<LinkPayment>,
    pub events: Vec<NewEvent>,
    pub notifications: Vec<Notification>,
}

/// What a payment that completes a link's session does to the link:
/// written only if the link is still as the payment found it
/// (`paid_before`, `completions_before`) and open.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkPayment {
    pub link_id: String,
    /// Whether the link must be exactly as found (it was claimed for this
    /// payment); a reusable link without a limit only adds up.
    pub exact: bool,
    pub amount: i64,
    pub paid_before: i64,
    pub completions_before: u32,
    pub status_after: LinkStatus,
    pub now: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    Queued,
    Sending,
    Sent,
    Deferred,
    Failed,
    Canceled,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Queued => "queued",
            NotificationStatus::Sending => "sending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Deferred => "deferred",
            NotificationStatus::Failed => "failed",
            NotificationStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            NotificationStatus::Queued,
            NotificationStatus::Sending,
            NotificationStatus::Sent,
            NotificationStatus::Deferred,
            NotificationStatus::Failed,
            NotificationStatus::Canceled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// An email: what it is about, to whom, and how sending it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub merchant_id: String,
    pub payment_link_id: Option<String>,
    pub payment_id: Option<String>,
    /// `payment_link`, `reminder` or `receipt`.
    pub template: String,
    pub recipient: String,
    pub locale: String,
    /// What the email shows that could change later (a receipt's amounts).
    pub data: serde_json::Value,
    pub status: NotificationStatus,
    pub send_at: i64,
    pub attempts: u32,
    /// While `sending`: until when this attempt holds it.
    pub lease_until: Option<i64>,
    pub last_reply: Option<String>,
    pub message_id: String,
    pub sent_at: Option<i64>,
    pub created: i64,
}

/// How an attempt at an email ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// The server took it (2xx).
    Accepted { reply: String },
    /// Try again at `retry_at` (a 4xx, or the server unreachable).
    Deferred { reply: String, retry_at: i64 },
    /// Never (a 5xx, or retries used up).
    Failed { reply: String },
    /// Not sent and never will be: what it was about is over (a reminder
    /// for a paid link).
    Canceled { reason: String },
}

/// A merchant's money in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceRow {
    pub currency: Currency,
    pub available: i64,
    pub pending: i64,
    pub reserved: i64,
}

/// One movement of a merchant's money, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceTransaction {
    pub id: String,
    pub merchant_id: String,
    /// `charge`, `refund`, `payout`, `payout_failure`, `payout_cancel`,
    /// `payout_return` or `top_up`.
    pub kind: String,
    pub source_id: String,
    /// For a charge or a refund.
    pub payment_id: Option<String>,
    pub currency: Currency,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    /// `pending` or `available`.
    pub status: String,
    pub available_on: i64,
    pub settlement_id: Option<String>,
    pub payout_id: Option<String>,
    pub created: i64,
}

/// Filters and a cursor for the ledger, newest first.
#[derive(Debug, Clone, Default)]
pub struct TxnQuery {
    pub kind: Option<String>,
    /// A payment or refund: its movements.
    pub source: Option<String>,
    pub payout: Option<String>,
    pub settlement: Option<String>,
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
    pub starting_after: Option<String>,
    pub limit: u32,
}

/// Pending money of one merchant and currency whose day has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub merchant_id: String,
    pub currency: Currency,
    pub amount: i64,
}

/// When a merchant's money settles.
#[derive(Debug, Clone, PartialEq)]
pub struct SettlementSettings {
    pub merchant_id: String,
    /// IANA.
    pub time_zone: String,
    /// `HH:MM` local.
    pub cutoff: String,
    pub delay_days: i64,
}

/// One business day of a merchant's money in one currency, closed at its
/// cut-off.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    pub id: String,
    pub merchant_id: String,
    pub currency: Currency,
    pub local_date: String,
    pub time_zone: String,
    pub period_start: i64,
    pub period_end: i64,
    pub charge_count: i64,
    pub refund_count: i64,
    pub gross: i64,
    pub refunded: i64,
    pub fees: i64,
    pub carried: i64,
    pub net: i64,
    pub status: String,
    /// The payout that pays it out, once one was made.
    pub payout_id: Option<String>,
    pub created: i64,
}

/// Money of a merchant and currency no settlement holds yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsettled {
    pub merchant_id: String,
    pub currency: Currency,
    /// When its oldest row was made.
    pub since: i64,
}

/// Money sent from a merchant's balance to a card or a bank account.
#[derive(Debug, Clone, PartialEq)]
pub struct Payout {
    pub id: String,
    pub merchant_id: String,
    pub amount: i64,
    pub currency: Currency,
    /// `requires_approval`, `pending`, `in_transit`, `paid`, `failed`,
    /// `canceled`, `returned`.
    pub status: String,
    /// `card` or `bank_account`.
    pub method: String,
    pub payment_method_id: Option<String>,
    pub brand: Option<String>,
    pub last4: String,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    /// A card typed in, or a bank account's number, sealed in the vault.
    pub sealed: Option<String>,
    pub bank_code: Option<String>,
    pub account_holder: Option<String>,
    pub country: Option<String>,
    pub merchant_reference: String,
    pub purpose: String,
    pub settlement_id: Option<String>,
    pub created_by: String,
    pub approved_by: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// `sending`, `accepted` or `unknown`, once it was given to the rail.
    pub rail_state: Option<String>,
    /// When the sweeper looks at it next; `None` once nothing more happens.
    pub check_after: Option<i64>,
    pub arrival_date: Option<i64>,
    pub paid_at: Option<i64>,
    pub returned_at: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

/// Why a payout was not made; nothing was written.
#[derive(Debug, Clone, PartialEq)]
pub enum PayoutRefused {
    /// The available balance is less than the amount.
    Insufficient { available: i64 },
    /// The merchant used this reference before, for this payout.
    ReferenceTaken(String),
    /// The settlement is not closed or failed, or is paid out already.
    SettlementTaken,
}

/// A report made over an interval, kept as made.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub id: String,
    pub merchant_id: String,
    pub kind: String,
    pub version: u32,
    pub interval_start: i64,
    pub interval_end: i64,
    pub format: String,
    pub time_zone: String,
    pub sha256: String,
    pub body: String,
    pub created: i64,
}

/// What `ledger_summary` gives per currency and type; `kind` is `opening`
/// for what came before the interval.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerSum {
    pub currency: Currency,
    pub kind: String,
    pub count: i64,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
}

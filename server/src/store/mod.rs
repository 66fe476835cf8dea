//! Persistence behind one trait, so that handlers do not know which database
//! they talk to. Every state change is a guarded write: it names the states
//! it may leave, and a write that matched no row did not happen.

mod sql;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use kasse_core::RequestedLocale;
use kasse_core::api::{CaptureMethod, EventType, PaymentChannel, RefundStatus, StaffRole};
use kasse_core::appearance::Appearance;
use kasse_core::error::DeclineCode;
use kasse_core::origin::MerchantOrigin;
use kasse_core::{CardBrand, Currency, PaymentStatus, SessionStatus};

pub use sql::{Dialect, SqlStore, open_pool};

use crate::secrets::ServerSecret;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

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
}

impl Session {
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

/// Everything Kasse keeps, one sub-trait per aggregate; every instance of
/// Kasse shares it, so every rule that must hold across instances is a
/// guarded write here.
#[async_trait]
pub trait Store:
    MerchantStore
    + SessionStore
    + PaymentStore
    + IdempotencyStore
    + OutboxStore
    + StaffStore
    + LimitStore
    + Send
    + Sync
    + 'static
{
    /// Brings the schema up to date.
    async fn migrate(&self) -> StoreResult<()>;
}

/// Merchants, their API keys and their webhook secret.
#[async_trait]
pub trait MerchantStore {
    async fn insert_merchant(&self, merchant: &Merchant) -> StoreResult<()>;
    async fn merchant(&self, id: &str) -> StoreResult<Option<Merchant>>;
    /// Creates the merchant, or updates its name and origins if it exists.
    /// Sets a merchant's default appearance; false if there is no such merchant.
    async fn set_merchant_appearance(
        &self,
        merchant_id: &str,
        appearance: &Appearance,
    ) -> StoreResult<bool>;
    async fn upsert_merchant(&self, merchant: &Merchant) -> StoreResult<Merchant>;
    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// A live key and its merchant, in one query: every merchant API call
    /// asks for both.
    async fn api_key_with_merchant(&self, lookup: &str) -> StoreResult<Option<(ApiKey, Merchant)>>;
    /// Revokes every key of a merchant; returns how many were live.
    async fn revoke_api_keys(&self, merchant_id: &str, now: i64) -> StoreResult<u64>;
    /// Gives the merchant a webhook secret if it has none; returns the one it has.
    async fn ensure_webhook_secret(&self, merchant_id: &str, fresh: &str) -> StoreResult<String>;
}

/// Checkout sessions, and the lease one confirm holds on a session.
#[async_trait]
pub trait SessionStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// A session of this merchant; another merchant's is as unknown as a
    /// missing one.
    async fn session(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Session>>;
    /// A session by its id alone, for the payment page, whose caller then
    /// proves it holds the client secret.
    async fn session_for_payer(&self, id: &str) -> StoreResult<Option<Session>>;
    /// Takes the session for one confirm until `lease_until`, if it is open,
    /// unexpired at `now`, and not held by another confirm. `owner` is the
    /// id of the payment the confirm will record.
    async fn claim_session_for_confirm(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<ConfirmClaim>;
    /// Records the attempt and, in the same transaction, completes the
    /// session if the payment succeeded, or releases it for another try.
    /// For a session's payment this happens only while the session's lease
    /// is still the payment's own: false, and nothing written, if the lease
    /// ran out and another confirm took it (a slow acquirer), so that one
    /// session never records two authorisations. A payment without a
    /// session is always recorded.
    async fn finish_confirm(
        &self,
        payment: &Payment,
        completes_session: bool,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Lets go of a session this confirm holds without recording anything
    /// (it was refused after taking the lease).
    async fn release_confirm(&self, session_id: &str, owner: &str) -> StoreResult<()>;
    /// Expires an open session of `merchant_id`; false if it was not open.
    async fn expire_session(
        &self,
        id: &str,
        merchant_id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Open sessions whose time is up.
    async fn due_sessions(&self, now: i64) -> StoreResult<Vec<Session>>;
}

/// Payments and their refunds: guarded changes, lookups and lists.
#[async_trait]
pub trait PaymentStore {
    /// A payment of this merchant.
    async fn payment(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Payment>>;
    /// A payment awaiting 3-D Secure, by its id alone, for the issuer's
    /// page, whose caller then proves it holds the action token.
    async fn payment_awaiting_action(&self, id: &str) -> StoreResult<Option<Payment>>;
    /// The session's attempts, newest first.
    async fn session_payments(&self, session_id: &str) -> StoreResult<Vec<Payment>>;
    async fn list_payments(
        &self,
        merchant_id: &str,
        query: &PaymentQuery,
    ) -> StoreResult<Vec<Payment>>;
    /// Applies a guarded change; false if the payment was no longer `from`.
    async fn change_payment(&self, change: &PaymentChange) -> StoreResult<bool>;
    /// Ends 3-D Secure: the payment leaves `requires_action` for `after`
    /// (its status, decline code and amount captured, as the domain decided
    /// them) and, if `completes_session`, its session completes in the same
    /// transaction. False, and nothing written, if the payment was not
    /// awaiting action or its session had closed.
    async fn finish_action(
        &self,
        after: &Payment,
        completes_session: bool,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Records the first validation; false if it had been validated before.
    async fn mark_validated(&self, payment_id: &str, now: i64) -> StoreResult<bool>;
    /// A refund of this merchant.
    async fn refund(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Refund>>;
    async fn payment_refunds(&self, payment_id: &str) -> StoreResult<Vec<Refund>>;
    /// Authorisations created before `cutoff` and still uncaptured.
    async fn stale_authorizations(&self, cutoff: i64) -> StoreResult<Vec<Payment>>;
}

/// `Idempotency-Key`s and the answers they replay.
#[async_trait]
pub trait IdempotencyStore {
    async fn start_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        ttl: i64,
    ) -> StoreResult<IdempotencyStart>;
    async fn finish_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()>;
    /// Forgets a key whose request failed inside Kasse, so a retry runs again.
    async fn abandon_idempotent(&self, merchant_id: &str, key: &str) -> StoreResult<()>;
    /// Forgets every key made before `before`; returns how many.
    async fn purge_idempotent(&self, before: i64) -> StoreResult<u64>;
}

/// Webhook endpoints, events, and the outbox of their deliveries.
#[async_trait]
pub trait OutboxStore {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    async fn endpoints(&self, merchant_id: &str) -> StoreResult<Vec<WebhookEndpoint>>;
    /// A live endpoint of this merchant.
    async fn endpoint(&self, merchant_id: &str, id: &str) -> StoreResult<Option<WebhookEndpoint>>;
    async fn delete_endpoint(&self, id: &str, merchant_id: &str, now: i64) -> StoreResult<bool>;
    /// Replaces the secret; the old one keeps signing until `old_until`.
    async fn rotate_endpoint_secret(
        &self,
        id: &str,
        merchant_id: &str,
        secret: &str,
        old_until: i64,
    ) -> StoreResult<bool>;
    /// An event of this merchant.
    async fn event(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Event>>;
    async fn list_events(&self, merchant_id: &str, query: &EventQuery) -> StoreResult<Vec<Event>>;
    async fn event_deliveries(&self, event_id: &str) -> StoreResult<Vec<Delivery>>;
    async fn event_attempts(&self, event_id: &str) -> StoreResult<Vec<Attempt>>;
    /// New deliveries of an event to its destinations as they are now.
    async fn resend_event(&self, event: &Event, due_ms: i64) -> StoreResult<u64>;
    /// Leases due deliveries until `lease_until_ms`, oldest due first: at most
    /// `claim.total`, and per URL at most `claim.per_url` less what this
    /// instance already has in flight to it.
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        claim: &Claim,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    async fn record_attempt(&self, attempt: &Attempt, result: AttemptResult) -> StoreResult<()>;
}

/// Merchants' staff and their terminal logins.
#[async_trait]
pub trait StaffStore {
    /// Adds a member of staff; false if the email is taken.
    async fn insert_staff_user(&self, user: &StaffUser) -> StoreResult<bool>;
    /// By email, in any case.
    async fn staff_user_by_email(&self, email: &str) -> StoreResult<Option<StaffUser>>;
    async fn staff_user(&self, id: &str) -> StoreResult<Option<StaffUser>>;
    /// Replaces a member of staff's password hash; false if there is no such user.
    async fn set_staff_password(&self, id: &str, password_hash: &str) -> StoreResult<bool>;
    /// Starts a login, and forgets the user's logins that ended before `now`.
    async fn insert_staff_login(&self, login: &StaffLogin, now: i64) -> StoreResult<()>;
    async fn staff_login(&self, token_hash: &str) -> StoreResult<Option<StaffLogin>>;
    /// Moves a login's end; false if it is gone.
    async fn extend_staff_login(&self, token_hash: &str, expires_at: i64) -> StoreResult<bool>;
    async fn delete_staff_login(&self, token_hash: &str) -> StoreResult<()>;
}

/// The counters of rate limits that hold across instances.
#[async_trait]
pub trait LimitStore {
    /// Counts one more hit on a rate limit's `bucket` in the window that
    /// starts at `window_start`; returns the hits in that window and in the
    /// one `window` seconds before it. Shared by every instance.
    async fn count_hit(
        &self,
        bucket: &str,
        window_start: i64,
        window: i64,
    ) -> StoreResult<(i64, i64)>;
    /// The same counts, without a hit.
    async fn hits(&self, bucket: &str, window_start: i64, window: i64) -> StoreResult<(i64, i64)>;
    /// Forgets the windows that started before `before`.
    async fn purge_hits(&self, before: i64) -> StoreResult<u64>;
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

/// Opens the store a database URL names; what it seals at rest, it seals
/// under a key derived from `secret`.
pub async fn connect(database_url: &str, secret: &ServerSecret) -> StoreResult<Arc<dyn Store>> {
    let store = SqlStore::connect(database_url, secret.sealer()).await?;
    store.migrate().await?;
    store.seal_legacy_secrets().await?;
    Ok(Arc::new(store))
}

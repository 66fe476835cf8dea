//! Persistence behind one trait, so that handlers do not know which database
//! they talk to. Every state change is a guarded write: it names the states
//! it may leave, and a write that matched no row did not happen.

mod records;
mod sql;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use kasse_core::appearance::Appearance;

pub use sql::{CONFIG_STALENESS, Dialect, Leased, SqlStore, open_pool};

use crate::secrets::ServerSecret;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The write ran, but its group's commit failed, so nothing of it is kept.
    #[error("the write was not committed: {0}")]
    NotCommitted(String),
    #[error("the store cannot be reached: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

pub use records::*;

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
    + CompatStore
    + CustomerStore
    + CardStore
    + SubscriptionStore
    + LinkStore
    + LedgerStore
    + SettlementStore
    + PayoutStore
    + Send
    + Sync
    + 'static
{
    /// Brings the schema up to date.
    async fn migrate(&self) -> StoreResult<()>;
    /// How many of this build's migrations the database has not applied
    /// (a query, so it also says whether the database answers).
    async fn unapplied_migrations(&self) -> StoreResult<usize>;
    /// Per queue (`webhooks`, `emails`): how many wait to be sent now, and
    /// since when the oldest has (Unix milliseconds; `now_ms` if none).
    async fn queue_stats(&self, now_ms: i64) -> StoreResult<Vec<(&'static str, i64, i64)>>;
    /// Connections open, and of them idle.
    fn pool_connections(&self) -> (u32, usize);
    /// How long getting a connection takes now.
    async fn acquire_time(&self) -> StoreResult<std::time::Duration>;
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
    /// If the session completes, `also` is written with it; if it pays a
    /// payment link the link must be as `also` says, or nothing is written.
    async fn finish_confirm(
        &self,
        payment: &Payment,
        completes_session: bool,
        events: &[NewEvent],
        also: Option<&Completion>,
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
        also: Option<&Completion>,
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
    /// From now on, the deliveries of every event written are leased to
    /// this instance for `lease_ms` in the event's own transaction and,
    /// once it commits, sent to `sink`.
    fn dispatch_after_commit(
        &self,
        sink: tokio::sync::mpsc::UnboundedSender<Leased>,
        lease_ms: i64,
    );
    /// What signs each delivery handed over; one whose endpoint has gone
    /// meanwhile is left out (deleting the endpoint failed it).
    async fn ready_to_send(&self, leased: Leased, now_ms: i64)
    -> StoreResult<Vec<ClaimedDelivery>>;
    /// Lets go of deliveries this instance leased but will not send now.
    async fn release_deliveries(&self, ids: &[String]) -> StoreResult<()>;
    /// Records attempts and what became of their deliveries, in one
    /// transaction that need not wait for the disk (an attempt lost to a
    /// crash is made again).
    async fn record_attempts(&self, batch: &[(Attempt, AttemptResult)]) -> StoreResult<()>;
    async fn record_attempt(&self, attempt: &Attempt, result: AttemptResult) -> StoreResult<()> {
        self.record_attempts(&[(attempt.clone(), result)]).await
    }
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

/// What the compatibility surfaces (SSLCOMMERZ v4, simple checkout) keep
/// beside Kasse's own records.
#[async_trait]
pub trait CompatStore {
    async fn insert_compat_credential(&self, credential: &CompatCredential) -> StoreResult<()>;
    /// A store's credential, revoked or not.
    async fn compat_credential(&self, store_id: &str) -> StoreResult<Option<CompatCredential>>;
    /// Revokes every live credential of a merchant; how many.
    async fn revoke_compat_credentials(&self, merchant_id: &str, now: i64) -> StoreResult<u64>;
    async fn client_base_url(&self, merchant_id: &str) -> StoreResult<Option<String>>;
    async fn set_client_base_url(&self, merchant_id: &str, url: Option<&str>) -> StoreResult<bool>;
    /// Keeps what a surface needs of `session`, then the session itself.
    async fn insert_compat_session(
        &self,
        compat: &CompatSession,
        session: &Session,
    ) -> StoreResult<()>;
    async fn compat_session(&self, session_id: &str) -> StoreResult<Option<CompatSession>>;
    async fn compat_session_by_token(&self, token: &str) -> StoreResult<Option<CompatSession>>;
    /// Marks a session cancelled by its customer; false if it was already.
    async fn cancel_compat_session(&self, session_id: &str, now: i64) -> StoreResult<bool>;
    /// The payment's names, made from `fresh` the first time they are asked for.
    async fn payment_refs(&self, fresh: &PaymentRefs) -> StoreResult<PaymentRefs>;
    async fn payment_refs_by_val_id(&self, val_id: &str) -> StoreResult<Option<PaymentRefs>>;
    async fn payment_refs_by_short_ref(&self, short_ref: &str) -> StoreResult<Option<PaymentRefs>>;
    /// The merchant's payments made for `order_reference`, newest first.
    async fn payments_for_reference(
        &self,
        merchant_id: &str,
        order_reference: &str,
    ) -> StoreResult<Vec<Payment>>;
    /// The refund id a `refund_trans_id` stands for: `fresh` if it is new.
    async fn claim_compat_refund(
        &self,
        merchant_id: &str,
        refund_trans_id: &str,
        fresh: &str,
    ) -> StoreResult<String>;
    async fn release_compat_refund(
        &self,
        merchant_id: &str,
        refund_trans_id: &str,
        refund_id: &str,
    ) -> StoreResult<()>;
}

/// A merchant's customers.
#[async_trait]
pub trait CustomerStore {
    /// Adds a customer with its events; false if its reference is taken.
    async fn insert_customer(&self, customer: &Customer, events: &[NewEvent]) -> StoreResult<bool>;
    /// A live customer of this merchant.
    async fn customer(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Customer>>;
    async fn list_customers(
        &self,
        merchant_id: &str,
        query: &CustomerQuery,
    ) -> StoreResult<Vec<Customer>>;
    /// Replaces a live customer's fields; false if it is gone.
    async fn update_customer(&self, customer: &Customer, events: &[NewEvent]) -> StoreResult<bool>;
    /// Deletes a customer in one transaction: what identifies them is
    /// erased, their cards are detached and their numbers destroyed, their
    /// mandates revoked, their subscriptions canceled. False if there was
    /// no such live customer.
    async fn delete_customer(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
}

/// Saved cards and what goes with them: the vault's rows (each merchant's
/// wrapped data key, each card's sealed number), the cards themselves,
/// their update links, and the mandates under which they are charged.
#[async_trait]
pub trait CardStore {
    async fn vault_key(&self, merchant_id: &str) -> StoreResult<Option<WrappedKey>>;
    /// Keeps `fresh` unless the merchant has a data key already; returns
    /// the one it has, so that racing first saves agree on one key.
    async fn ensure_vault_key(&self, fresh: &WrappedKey) -> StoreResult<WrappedKey>;
    async fn vault_keys(&self) -> StoreResult<Vec<WrappedKey>>;
    /// Replaces a data key's wrapping, if it is still wrapped by `from_kek`.
    async fn rewrap_vault_key(
        &self,
        from_kek: &str,
        to: &WrappedKey,
        now: i64,
    ) -> StoreResult<bool>;
    /// Keeps a card being saved (pending, with its sealed number) and the
    /// mandate being given, until the payment that saves them is decided.
    async fn insert_pending(
        &self,
        card: Option<&PendingCard>,
        mandate: Option<&Mandate>,
    ) -> StoreResult<()>;
    /// Makes a pending card the customer's (or, if the customer has that
    /// card already, keeps that one and drops the pending one) and the
    /// pending mandate active, with `attached` written only for a new card
    /// and `mandated` only for a mandate activated. `None` if the card is gone.
    #[allow(clippy::too_many_arguments)]
    async fn activate_saved_card(
        &self,
        pm_id: &str,
        mandate_id: Option<&str>,
        payment_id: &str,
        now: i64,
        attached: &[NewEvent],
        mandated: &[NewEvent],
    ) -> StoreResult<Option<Activated>>;
    /// Forgets a pending card, its number and a pending mandate.
    async fn discard_pending(
        &self,
        pm_id: Option<&str>,
        mandate_id: Option<&str>,
    ) -> StoreResult<()>;
    /// A card of this merchant, in any status (pending too).
    async fn payment_method(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> StoreResult<Option<PaymentMethod>>;
    /// The customer's active card with this fingerprint.
    async fn active_payment_method(
        &self,
        customer_id: &str,
        fingerprint: &str,
    ) -> StoreResult<Option<PaymentMethod>>;
    /// The customer's active and expired cards, newest first.
    async fn customer_payment_methods(&self, customer_id: &str) -> StoreResult<Vec<PaymentMethod>>;
    /// A saved card's sealed number.
    async fn vault_card(&self, pm_id: &str) -> StoreResult<Option<String>>;
    /// Detaches a card: its mandates are revoked and its number destroyed.
    async fn detach_payment_method(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Active cards whose last valid month (as `year * 12 + month`) is
    /// before `month_index`, whose merchant has not been told yet.
    async fn cards_expiring_before(&self, month_index: i64) -> StoreResult<Vec<PaymentMethod>>;
    /// Records that the merchant was told, with the event; false if it was already.
    async fn mark_card_expiring(
        &self,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Active cards whose last valid month is before `month_index`.
    async fn cards_expired_before(&self, month_index: i64) -> StoreResult<Vec<PaymentMethod>>;
    /// An active card becomes `expired`, with its event; false if it was not active.
    async fn expire_card(&self, id: &str, now: i64, events: &[NewEvent]) -> StoreResult<bool>;
    async fn insert_card_update(&self, update: &CardUpdate) -> StoreResult<()>;
    async fn card_update(&self, id: &str) -> StoreResult<Option<CardUpdate>>;
    /// Puts a new card (its record and its sealed number) in place of the
    /// one `update` replaces, and uses the update up, at once; false, and
    /// nothing written, if it was used or expired meanwhile, or the card
    /// was detached.
    async fn finish_card_update(
        &self,
        update: &CardUpdate,
        card: &PaymentMethod,
        ciphertext: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// A mandate of this merchant, in any status (pending too).
    async fn mandate(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Mandate>>;
    async fn payment_method_mandates(&self, pm_id: &str) -> StoreResult<Vec<Mandate>>;
    async fn customer_mandates(&self, customer_id: &str) -> StoreResult<Vec<Mandate>>;
    /// Revokes an active mandate; false if it was not active.
    async fn revoke_mandate(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
}

/// Subscriptions, their cycles (each claimed by one instance at a time),
/// and the sandbox acquirer's own record of charges.
#[async_trait]
pub trait SubscriptionStore {
    async fn insert_subscription(&self, s: &Subscription, events: &[NewEvent]) -> StoreResult<()>;
    async fn subscription(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Subscription>>;
    /// Newest first; only `customer`'s when given.
    async fn list_subscriptions(
        &self,
        merchant_id: &str,
        customer: Option<&str>,
        starting_after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Subscription>>;
    /// Active and past-due subscriptions whose next attempt is due.
    async fn due_subscriptions(&self, now: i64, limit: u32) -> StoreResult<Vec<Subscription>>;
    /// Takes cycle `number` for `owner` until `lease_until`, making its row
    /// if need be: if it is waiting and due, with `fresh_payment_id`; if its
    /// holder's lease ran out mid-charge, with the holder's payment id, to
    /// be asked about. None if the subscription has moved on, or another
    /// instance holds the cycle, or it is not due.
    #[allow(clippy::too_many_arguments)]
    async fn claim_cycle(
        &self,
        subscription_id: &str,
        number: u32,
        due_at: i64,
        now: i64,
        lease_until: i64,
        owner: &str,
        fresh_payment_id: &str,
    ) -> StoreResult<Option<CycleClaim>>;
    /// Records an attempt's outcome, only while `owner` still holds the
    /// cycle; false, and nothing written, otherwise.
    async fn finish_cycle(&self, outcome: &CycleOutcome) -> StoreResult<bool>;
    /// Pauses, resumes or cancels, if the subscription is still `from`.
    async fn change_subscription(&self, change: &SubscriptionChange) -> StoreResult<bool>;
    /// The sandbox acquirer's record of a charge, kept as it answers.
    async fn record_sandbox_authorization(
        &self,
        reference: &str,
        outcome: &str,
        amount: i64,
        currency: &str,
        now: i64,
    ) -> StoreResult<()>;
    async fn sandbox_authorization(&self, reference: &str) -> StoreResult<Option<String>>;
}

/// The ledger and the balances it explains.
#[async_trait]
pub trait LedgerStore {
    async fn balances(&self, merchant_id: &str) -> StoreResult<Vec<BalanceRow>>;
    async fn balance_transactions(
        &self,
        merchant_id: &str,
        query: &TxnQuery,
    ) -> StoreResult<Vec<BalanceTransaction>>;
    async fn balance_transaction(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> StoreResult<Option<BalanceTransaction>>;
    /// Pending money whose day has come, by merchant and currency.
    async fn due_releases(&self, now: i64) -> StoreResult<Vec<Release>>;
    /// Makes a merchant's pending money in `currency` whose day has come
    /// available, with `events`; how much (0, and no events, if another
    /// instance did it first).
    async fn release(
        &self,
        merchant_id: &str,
        currency: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<i64>;
    /// The merchant's fee plan for a currency (`*`: any other).
    async fn set_fee_plan(
        &self,
        merchant_id: &str,
        currency: &str,
        plan: &kasse_core::fees::FeePlan,
        now: i64,
    ) -> StoreResult<()>;
    async fn set_settlement_settings(&self, s: &SettlementSettings, now: i64) -> StoreResult<()>;
}

/// Settlements: each merchant's business day closed at its cut-off.
#[async_trait]
pub trait SettlementStore {
    /// A merchant's settlement settings, if the operator set them.
    async fn settlement_settings(
        &self,
        merchant_id: &str,
    ) -> StoreResult<Option<SettlementSettings>>;
    /// Merchants and currencies with ledger rows made before `before` that
    /// no settlement holds.
    async fn unsettled(&self, before: i64) -> StoreResult<Vec<Unsettled>>;
    /// The sums of a merchant's rows in `currency` made before `before`
    /// that no settlement holds, as a settlement would show them (its id,
    /// dates, carried amount and status left for the caller).
    async fn unsettled_sums(
        &self,
        merchant_id: &str,
        currency: &str,
        before: i64,
    ) -> StoreResult<Settlement>;
    /// The merchant's latest settlement in a currency.
    async fn last_settlement(
        &self,
        merchant_id: &str,
        currency: &str,
    ) -> StoreResult<Option<Settlement>>;
    /// Writes `s` and marks its rows (those made before its `period_end`
    /// that none holds, exactly `rows` of them), with `events`, at once;
    /// false, and nothing written, if another instance closed that period
    /// first or the rows changed.
    async fn close_settlement(
        &self,
        s: &Settlement,
        rows: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    async fn settlement(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Settlement>>;
    /// Every ledger row of a settlement, oldest first (by time, then as
    /// written), with its payment's order reference.
    async fn settlement_rows(
        &self,
        settlement_id: &str,
    ) -> StoreResult<Vec<(BalanceTransaction, Option<String>)>>;
    async fn settlements(
        &self,
        merchant_id: &str,
        starting_after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Settlement>>;
}

/// Payouts, the reservations that back them, and what the sandbox's rail
/// received.
#[async_trait]
pub trait PayoutStore {
    /// Writes payout `p` (`requires_approval` or `pending`), moving its
    /// amount from the available balance to the reserved one with a
    /// `payout` ledger row, claiming its settlement if it names one, with
    /// `events`, at once; or writes nothing and says why.
    async fn create_payout(
        &self,
        p: &Payout,
        events: &[NewEvent],
    ) -> StoreResult<Result<(), PayoutRefused>>;
    async fn payout(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Payout>>;
    async fn payout_by_reference(
        &self,
        merchant_id: &str,
        reference: &str,
    ) -> StoreResult<Option<Payout>>;
    /// Newest first, optionally of one status.
    async fn payouts(
        &self,
        merchant_id: &str,
        status: Option<&str>,
        starting_after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Payout>>;
    /// Writes `new` over `old` if the payout is still as `old` was (its
    /// status, rail state and next check: so that of two instances that
    /// claim the same payout, one wins), with `events`; the balances and the ledger
    /// follow the change of status (paid: the reservation is spent;
    /// failed or canceled: it is released, with a ledger row; returned:
    /// the money comes back, with a ledger row), and so does its
    /// settlement's status. False, and nothing written, if it changed.
    async fn change_payout(
        &self,
        old: &Payout,
        new: &Payout,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Payouts whose `check_after` has come, oldest first.
    async fn due_payouts(&self, now: i64, limit: u32) -> StoreResult<Vec<Payout>>;
    /// The amount at or above which a payout in `currency` waits for approval.
    async fn payout_threshold(&self, merchant_id: &str, currency: &str)
    -> StoreResult<Option<i64>>;
    async fn set_payout_threshold(
        &self,
        merchant_id: &str,
        currency: &str,
        threshold: Option<i64>,
        now: i64,
    ) -> StoreResult<()>;
    /// Adds `amount` to the available balance with a `top_up` ledger row
    /// (sourced `id`); the row's id.
    async fn top_up(
        &self,
        merchant_id: &str,
        id: &str,
        currency: &str,
        amount: i64,
        now: i64,
    ) -> StoreResult<String>;
    /// The sandbox rail's books: a transfer received.
    async fn record_sandbox_transfer(
        &self,
        reference: &str,
        last4: &str,
        amount: i64,
        currency: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Each transfer with `reference` the sandbox rail received, oldest
    /// first: what it kept of the destination, and when.
    async fn sandbox_transfers(&self, reference: &str) -> StoreResult<Vec<(String, i64)>>;
    /// For each of `payment_ids` that captured money: its settlement, if
    /// one holds its charge, and that settlement's status.
    async fn payment_settlements(
        &self,
        payment_ids: &[String],
    ) -> StoreResult<HashMap<String, (Option<String>, Option<String>)>>;
    async fn insert_report(&self, r: &ReportRecord) -> StoreResult<()>;
    async fn report(&self, merchant_id: &str, id: &str) -> StoreResult<Option<ReportRecord>>;
    /// Every payout of a merchant made in `[start, end)`, oldest first.
    async fn payouts_between(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<Payout>>;
    /// Every ledger row of the settlements of a merchant that closed in
    /// `[start, end)` (by their period end), with its payment's reference.
    async fn settled_rows_between(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<(BalanceTransaction, Option<String>)>>;
    /// Per currency and type: count, amount, fee and net of the ledger
    /// rows made in `[start, end)`, and the sum of `net` before `start`.
    async fn ledger_summary(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<LedgerSum>>;
}

/// What a link's writes also do, made once the link's final values (its
/// invoice number) are known, so they go in the same transaction.
pub type LinkWrites = Box<dyn FnOnce(&PaymentLink) -> (Vec<NewEvent>, Vec<Notification>) + Send>;

/// Payment links and the emails about them.
#[async_trait]
pub trait LinkStore {
    /// Inserts `link` with what `then` makes of it; with `invoice_year`,
    /// first gives it the merchant's next invoice number of that year.
    /// None, and nothing written, if its `merchant_reference` is taken.
    async fn insert_link(
        &self,
        link: &PaymentLink,
        invoice_year: Option<i16>,
        then: LinkWrites,
    ) -> StoreResult<Option<PaymentLink>>;
    async fn payment_link(&self, merchant_id: &str, id: &str) -> StoreResult<Option<PaymentLink>>;
    async fn payment_link_by_token(&self, token_hash: &str) -> StoreResult<Option<PaymentLink>>;
    async fn list_payment_links(
        &self,
        merchant_id: &str,
        query: &LinkQuery,
    ) -> StoreResult<Vec<PaymentLink>>;
    /// Writes the link's changeable fields while it is open and unchanged
    /// since `updated_before`; false otherwise.
    async fn update_link(
        &self,
        link: &PaymentLink,
        updated_before: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Ends an open link (`expired` or `canceled`), cancelling its
    /// reminders; false if it was not open or a payment holds it.
    async fn end_link(
        &self,
        merchant_id: &str,
        id: &str,
        to: LinkStatus,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
    /// Gives an open link a new token; the old one stops opening it.
    async fn replace_link_token(&self, link: &PaymentLink) -> StoreResult<bool>;
    /// Open links whose time is up.
    async fn due_links(&self, now: i64) -> StoreResult<Vec<PaymentLink>>;
    /// Takes a single-use link for one payment of `amount` until
    /// `lease_until`: false if it is not open, another payment holds it, or
    /// `amount` is more than is due.
    async fn claim_link(
        &self,
        id: &str,
        owner: &str,
        amount: i64,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    async fn release_link(&self, id: &str, owner: &str) -> StoreResult<()>;
    /// The newest open session made to pay `amount` of the link.
    async fn link_session(
        &self,
        link_id: &str,
        amount: i64,
        now: i64,
    ) -> StoreResult<Option<Session>>;
    /// Queues emails, with events, in one transaction.
    async fn insert_notifications(
        &self,
        notifications: &[Notification],
        events: &[NewEvent],
    ) -> StoreResult<()>;
    async fn link_notifications(&self, link_id: &str) -> StoreResult<Vec<Notification>>;
    /// Takes up to `limit` emails due at `now` (or left `sending` by an
    /// attempt whose lease ran out) until `lease_until`, each counted as
    /// an attempt.
    async fn claim_notifications(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<Notification>>;
    /// Hands claimed emails that were not attempted back to whoever claims
    /// next (a stopping instance's), at once.
    async fn release_notifications(&self, ids: &[String], now: i64) -> StoreResult<()>;
    /// Records how an attempt ended, if this attempt (its lease) still
    /// holds the email.
    async fn finish_notification(
        &self,
        n: &Notification,
        outcome: &Sent,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;
}

/// Opens the store a database URL names; what it seals at rest, it seals
/// under a key derived from `secret`.
pub async fn connect(database_url: &str, secret: &ServerSecret) -> StoreResult<Arc<dyn Store>> {
    let store = SqlStore::connect(database_url, secret.sealer()).await?;
    store.migrate().await?;
    store.seal_legacy_secrets().await?;
    Ok(Arc::new(store))
}

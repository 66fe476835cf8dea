//! The store on SQL: SQLite by default (one file, WAL, commits that reach
//! the disk), PostgreSQL for several instances. One implementation over
//! sqlx's `Any` driver; where the two dialects differ, [`Dialect`] says how.

mod idempotency;
mod limits;
mod merchants;
mod outbox;
mod payments;
mod sessions;
mod staff;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use kasse_core::RequestedLocale;
use kasse_core::api::{CaptureMethod, PaymentChannel, RefundStatus, StaffRole};
use kasse_core::appearance::Appearance;
use kasse_core::origin::MerchantOrigin;
use kasse_core::{CardBrand, PaymentStatus, SessionStatus};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

use crate::ids::new_id;
use crate::secrets::Sealer;

use super::{
    ApiKey, Attempt, AttemptResult, Claim, ClaimedDelivery, ConfirmClaim, Delivery, DeliveryStatus,
    Event, EventQuery, IdempotencyStart, KeyKind, Merchant, NewEvent, Payment, PaymentChange,
    PaymentQuery, Refund, Session, StaffLogin, StaffUser, Store, StoreError, StoreResult,
    WebhookEndpoint,
};
// The aggregates' traits, which the files below implement.
use super::{
    IdempotencyStore, LimitStore, MerchantStore, OutboxStore, PaymentStore, SessionStore,
    StaffStore,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect a database URL names: `postgres://` or `postgresql://`
    /// is PostgreSQL; anything else is a SQLite file or `sqlite:` URL.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }

    /// Statements are written with `?` placeholders; PostgreSQL numbers them.
    pub fn rewrite(self, sql: &str) -> String {
        match self {
            Self::Sqlite => sql.to_string(),
            Self::Postgres => {
                let mut out = String::with_capacity(sql.len() + 16);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

/// A fixed statement in `dialect`, rewritten once and kept.
fn stmt(dialect: Dialect, sql: &'static str) -> &'static str {
    if dialect == Dialect::Sqlite {
        return sql;
    }
    static REWRITTEN: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut cache = REWRITTEN
        .get_or_init(Default::default)
        .lock()
        .expect("not poisoned");
    cache
        .entry(sql)
        .or_insert_with(|| Box::leak(dialect.rewrite(sql).into_boxed_str()))
}

/// How many of the earliest due webhook deliveries one claim shares out.
const CLAIM_CANDIDATES: i64 = 512;

/// A connection pool to `url` with the settings Kasse's store uses: its
/// size and, for SQLite, write-ahead logging with `synchronous = FULL`, so a
/// commit is on disk before it is answered. The benchmarks' baseline opens
/// its database through this too, to write with the same durability.
pub async fn open_pool(url: &str) -> StoreResult<(AnyPool, Dialect)> {
    open_pool_of(url, 8).await
}

/// As [`open_pool`], with at most `sqlite_connections` to a SQLite file.
async fn open_pool_of(url: &str, sqlite_connections: u32) -> StoreResult<(AnyPool, Dialect)> {
    sqlx::any::install_default_drivers();
    let dialect = Dialect::of(url);
    let pool = match dialect {
        Dialect::Postgres => {
            AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?
        }
        Dialect::Sqlite => {
            let options = SqliteConnectOptions::from_str(url)?;
            let path = options.get_filename();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(e.into()))?;
            }
            let url = format!("sqlite://{}?mode=rwc", path.display());
            AnyPoolOptions::new()
                .max_connections(sqlite_connections)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;
                             PRAGMA secure_delete = ON;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?
        }
    };
    Ok((pool, dialect))
}

pub struct SqlStore {
    /// Reads.
    pool: AnyPool,
    /// Writes. On SQLite, one connection: SQLite lets one writer in at a
    /// time, and writers that wait in its busy handler sleep in steps of up
    /// to 100 ms, so under load they queue here instead, in order. On
    /// PostgreSQL, the same pool as reads.
    writer: AnyPool,
    dialect: Dialect,
    /// Seals the secrets that must be read back, and replayed responses.
    sealer: Sealer,
}

impl SqlStore {
    /// Opens the database at `url`: a PostgreSQL URL, or a SQLite file
    /// (created if missing, with its directory).
    pub async fn connect(url: &str, sealer: Sealer) -> StoreResult<Self> {
        let (pool, dialect) = open_pool(url).await?;
        let writer = match dialect {
            Dialect::Postgres => pool.clone(),
            Dialect::Sqlite => open_pool_of(url, 1).await?.0,
        };
        Ok(Self {
            pool,
            writer,
            dialect,
            sealer,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The hits in one window of a rate limit's bucket.
    async fn window_hits(&self, bucket: &str, window_start: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(stmt(
            self.dialect,
            "SELECT hits FROM rate_hits WHERE bucket = ? AND window_start = ?",
        ))
        .bind(bucket)
        .bind(window_start)
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or(0))
    }

    /// Seals what a database written before sealing holds in clear. Cheap
    /// when there is nothing left to seal: each column is asked only for
    /// values without the sealed prefix.
    pub async fn seal_legacy_secrets(&self) -> StoreResult<()> {
        let mut sealed = 0;
        for (table, column, purpose) in [
            ("merchants", "signing_secret", SIGNING_SECRET),
            ("merchants", "webhook_secret", MERCHANT_WEBHOOK_SECRET),
            ("webhook_endpoints", "secret", ENDPOINT_SECRET),
            ("webhook_endpoints", "previous_secret", ENDPOINT_SECRET),
            ("checkout_sessions", "client_secret", CLIENT_SECRET),
        ] {
            let select = format!(
                "SELECT id, {column} AS value FROM {table}
                 WHERE {column} IS NOT NULL AND {column} NOT LIKE 'kv1:%'"
            );
            let update = self
                .dialect
                .rewrite(&format!("UPDATE {table} SET {column} = ? WHERE id = ?"));
            for row in sqlx::query(&select).fetch_all(&self.pool).await? {
                let id: String = row.try_get("id")?;
                let value: String = row.try_get("value")?;
                sqlx::query(&update)
                    .bind(self.sealer.seal_str(purpose, &value))
                    .bind(id)
                    .execute(&self.writer)
                    .await?;
                sealed += 1;
            }
        }
        let stored = sqlx::query(
            "SELECT merchant_id, key, response_body FROM idempotency_keys WHERE response_body IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let update = stmt(
            self.dialect,
            "UPDATE idempotency_keys SET response_body = ? WHERE merchant_id = ? AND key = ?",
        );
        for row in stored {
            let body: Vec<u8> = row.try_get("response_body")?;
            if Sealer::is_sealed(&body) {
                continue;
            }
            let merchant_id: String = row.try_get("merchant_id")?;
            let key: String = row.try_get("key")?;
            sqlx::query(update)
                .bind(self.sealer.seal(RESPONSE_BODY, &body).into_bytes())
                .bind(merchant_id)
                .bind(key)
                .execute(&self.writer)
                .await?;
            sealed += 1;
        }
        if sealed > 0 && self.dialect == Dialect::Sqlite {
            // The clear values' old pages are still in the write-ahead log:
            // copy the sealed pages into the file and empty the log.
            // (`secure_delete` has zeroed what was freed.)
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.writer)
                .await?;
        }
        Ok(())
    }

    /// The row `sql` finds by its one `?`, read by `read`.
    async fn find_one<T>(
        &self,
        sql: &'static str,
        key: &str,
        read: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        sqlx::query(stmt(self.dialect, sql))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(&read)
            .transpose()
    }

    /// Every row `sql` finds by its one `?`, in its order, read by `read`.
    async fn find_all<T>(
        &self,
        sql: &'static str,
        key: &str,
        read: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        sqlx::query(stmt(self.dialect, sql))
            .bind(key)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(&read)
            .collect()
    }
}

/// The columns whose values are sealed at rest, each its own purpose.
const SIGNING_SECRET: &str = "merchants.signing_secret";
const MERCHANT_WEBHOOK_SECRET: &str = "merchants.webhook_secret";
/// Both an endpoint's current and its rotated-out secret: rotation moves one
/// column's value to the other.
const ENDPOINT_SECRET: &str = "webhook_endpoints.secret";
const CLIENT_SECRET: &str = "checkout_sessions.client_secret";
const RESPONSE_BODY: &str = "idempotency_keys.response_body";

/// A sealed text column, opened.
fn opened(row: &AnyRow, column: &str, purpose: &str, sealer: &Sealer) -> StoreResult<String> {
    let stored: String = row.try_get(column)?;
    sealer
        .open_str(purpose, &stored)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn opened_opt(
    row: &AnyRow,
    column: &str,
    purpose: &str,
    sealer: &Sealer,
) -> StoreResult<Option<String>> {
    let stored: Option<String> = row.try_get(column)?;
    stored
        .map(|v| {
            sealer
                .open_str(purpose, &v)
                .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
        })
        .transpose()
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn merchant_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<Merchant> {
    let origins: String = row.try_get("origins")?;
    let origins: Vec<MerchantOrigin> =
        serde_json::from_str(&origins).map_err(|_| corrupt("merchant origins", &origins))?;
    Ok(Merchant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        origins,
        signing_secret: opened(row, "signing_secret", SIGNING_SECRET, sealer)?,
        webhook_secret: opened_opt(row, "webhook_secret", MERCHANT_WEBHOOK_SECRET, sealer)?,
        appearance: json_column::<Appearance>(row, "appearance")?.unwrap_or_default(),
        created: row.try_get("created")?,
    })
}

/// A row of `api_keys`, its `created` read as `key_created`.
fn api_key_from_row(row: &AnyRow) -> StoreResult<ApiKey> {
    let kind: String = row.try_get("kind")?;
    Ok(ApiKey {
        merchant_id: row.try_get("merchant_id")?,
        kind: match kind.as_str() {
            "secret" => KeyKind::Secret,
            "publishable" => KeyKind::Publishable,
            other => return Err(corrupt("key kind", other)),
        },
        lookup: row.try_get("lookup")?,
        hash: row.try_get("hash")?,
        created: row.try_get("key_created")?,
    })
}

/// A nullable JSON column.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> StoreResult<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| corrupt(column, &t)))
        .transpose()
}

fn appearance_json(appearance: &Appearance) -> Option<String> {
    (appearance != &Appearance::default())
        .then(|| serde_json::to_string(appearance).expect("appearance serialises"))
}

/// Writes events and, for each, one pending delivery per destination: the
/// merchant's endpoints that want its type, and a session's own URL.
async fn insert_events(
    dialect: Dialect,
    tx: &mut Transaction<'_, Any>,
    events: &[NewEvent],
) -> StoreResult<()> {
    for e in events {
        sqlx::query(
            stmt(dialect, "INSERT INTO events (id, merchant_id, type, created, data, notification_url, payment_id) VALUES (?, ?, ?, ?, ?, ?, ?)"),
        )
        .bind(&e.id)
        .bind(&e.merchant_id)
        .bind(&e.kind)
        .bind(e.created)
        .bind(e.data.to_string())
        .bind(&e.notification_url)
        .bind(e.payment_id())
        .execute(&mut **tx)
        .await?;
        fan_out(
            dialect,
            tx,
            &e.id,
            &e.merchant_id,
            &e.kind,
            e.notification_url.as_deref(),
            e.due_ms,
        )
        .await?;
    }
    Ok(())
}

async fn fan_out(
    dialect: Dialect,
    tx: &mut Transaction<'_, Any>,
    event_id: &str,
    merchant_id: &str,
    kind: &str,
    notification_url: Option<&str>,
    due_ms: i64,
) -> StoreResult<u64> {
    // One delivery per endpoint that wants this type; ids drawn in SQL.
    let to_endpoints = match dialect {
        Dialect::Sqlite => {
            "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, url, status, next_attempt_ms, created_ms)
             SELECT 'dlv_' || lower(hex(randomblob(12))), ?, merchant_id, id, url, 'pending', ?, ?
             FROM webhook_endpoints
             WHERE merchant_id = ? AND deleted IS NULL
               AND (enabled_events IS NULL
                    OR EXISTS (SELECT 1 FROM json_each(enabled_events) WHERE value = ?))"
        }
        Dialect::Postgres => {
            "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, url, status, next_attempt_ms, created_ms)
             SELECT 'dlv_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 24), ?, merchant_id, id, url, 'pending', ?, ?
             FROM webhook_endpoints
             WHERE merchant_id = ? AND deleted IS NULL
               AND (enabled_events IS NULL
                    OR EXISTS (SELECT 1 FROM json_array_elements_text(enabled_events::json) AS e (value)
                               WHERE e.value = ?))"
        }
    };
    let mut created = sqlx::query(stmt(dialect, to_endpoints))
        .bind(event_id)
        .bind(due_ms)
        .bind(due_ms)
        .bind(merchant_id)
        .bind(kind)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if let Some(url) = notification_url {
        created += sqlx::query(stmt(
            dialect,
            "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, url, status, next_attempt_ms, created_ms)
             VALUES (?, ?, ?, NULL, ?, 'pending', ?, ?)",
        ))
        .bind(new_id("dlv"))
        .bind(event_id)
        .bind(merchant_id)
        .bind(url)
        .bind(due_ms)
        .bind(due_ms)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(created)
}

fn event_from_row(row: &AnyRow) -> StoreResult<Event> {
    let data: String = row.try_get("data")?;
    Ok(Event {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        kind: row.try_get("type")?,
        created: row.try_get("created")?,
        data: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        notification_url: row.try_get("notification_url")?,
    })
}

fn endpoint_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<WebhookEndpoint> {
    let events: Option<String> = row.try_get("enabled_events")?;
    Ok(WebhookEndpoint {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        url: row.try_get("url")?,
        enabled_events: events
            .map(|e| serde_json::from_str(&e).map_err(|_| corrupt("enabled events", &e)))
            .transpose()?,
        secret: opened(row, "secret", ENDPOINT_SECRET, sealer)?,
        previous_secret: opened_opt(row, "previous_secret", ENDPOINT_SECRET, sealer)?,
        previous_secret_expires: row.try_get("previous_secret_expires")?,
        created: row.try_get("created")?,
    })
}

fn delivery_from_row(row: &AnyRow) -> StoreResult<Delivery> {
    let status: String = row.try_get("status")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        merchant_id: row.try_get("merchant_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        url: row.try_get("url")?,
        status: match status.as_str() {
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            other => return Err(corrupt("delivery status", other)),
        },
        attempts: row.try_get("attempts")?,
        next_attempt_ms: row.try_get("next_attempt_ms")?,
        created_ms: row.try_get("created_ms")?,
    })
}

/// A small unsigned number, stored as a 64-bit integer.
fn small<T: TryFrom<i64>>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let value: i64 = row.try_get(column)?;
    T::try_from(value).map_err(|_| corrupt(column, &value.to_string()))
}

fn capture_method(row: &AnyRow) -> StoreResult<CaptureMethod> {
    let method: String = row.try_get("capture_method")?;
    CaptureMethod::parse(&method).ok_or_else(|| corrupt("capture method", &method))
}

fn session_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<Session> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Session {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        client_secret: opened(row, "client_secret", CLIENT_SECRET, sealer)?,
        status: SessionStatus::parse(&status).ok_or_else(|| corrupt("session status", &status))?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        success_url: row.try_get("success_url")?,
        cancel_url: row.try_get("cancel_url")?,
        fail_url: row.try_get("fail_url")?,
        order_reference: row.try_get("order_reference")?,
        customer_name: row.try_get("customer_name")?,
        customer_email: row.try_get("customer_email")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|_| corrupt("session metadata", &metadata))?,
        capture_method: capture_method(row)?,
        payment_id: row.try_get("payment_id")?,
        created: row.try_get("created")?,
        expires_at: row.try_get("expires_at")?,
        notification_url: row.try_get("notification_url")?,
        appearance: json_column(row, "appearance")?,
        locale: {
            let locale: String = row.try_get("locale")?;
            RequestedLocale::parse(&locale).map_err(|_| corrupt("session locale", &locale))?
        },
    })
}

fn payment_from_row(row: &AnyRow) -> StoreResult<Payment> {
    let status: String = row.try_get("status")?;
    let brand: String = row.try_get("card_brand")?;
    Ok(Payment {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        session_id: row.try_get("session_id")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("payment status", &status))?,
        card_brand: CardBrand::parse(&brand).ok_or_else(|| corrupt("card brand", &brand))?,
        card_bin: row.try_get("card_bin")?,
        card_last4: row.try_get("card_last4")?,
        card_exp_month: small(row, "card_exp_month")?,
        card_exp_year: small(row, "card_exp_year")?,
        card_fingerprint: row.try_get("card_fingerprint")?,
        cardholder_name: row.try_get("cardholder_name")?,
        decline_code: row.try_get("decline_code")?,
        authorization_code: row.try_get("authorization_code")?,
        capture_method: capture_method(row)?,
        channel: {
            let channel: String = row.try_get("channel")?;
            PaymentChannel::parse(&channel).ok_or_else(|| corrupt("payment channel", &channel))?
        },
        amount_captured: row.try_get("amount_captured")?,
        amount_refunded: row.try_get("amount_refunded")?,
        action_token: row.try_get("action_token")?,
        validated: row.try_get("validated")?,
        order_reference: row.try_get("order_reference")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn staff_user_from_row(row: &AnyRow) -> StoreResult<StaffUser> {
    let role: String = row.try_get("role")?;
    Ok(StaffUser {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: StaffRole::parse(&role).ok_or_else(|| corrupt("staff role", &role))?,
        created: row.try_get("created")?,
    })
}

fn staff_login_from_row(row: &AnyRow) -> StoreResult<StaffLogin> {
    Ok(StaffLogin {
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        csrf_token: row.try_get("csrf_token")?,
        created: row.try_get("created")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn refund_from_row(row: &AnyRow) -> StoreResult<Refund> {
    let status: String = row.try_get("status")?;
    Ok(Refund {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        merchant_id: row.try_get("merchant_id")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        status: RefundStatus::parse(&status).ok_or_else(|| corrupt("refund status", &status))?,
        reason: row.try_get("reason")?,
        created: row.try_get("created")?,
    })
}

fn origins_json(merchant: &Merchant) -> String {
    serde_json::to_string(&merchant.origins).expect("origins serialise")
}

#[async_trait]
impl Store for SqlStore {
    async fn migrate(&self) -> StoreResult<()> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }
}

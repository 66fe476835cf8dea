//! The store on SQL: SQLite by default (one file, WAL, commits that reach
//! the disk), PostgreSQL for several instances. One implementation over
//! sqlx's `Any` driver; where the two dialects differ, [`Dialect`] says how.

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

    async fn insert_merchant(&self, m: &Merchant) -> StoreResult<()> {
        sqlx::query(stmt(
            self.dialect,
            "INSERT INTO merchants (id, name, origins, signing_secret, webhook_secret, created, appearance)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&m.id)
        .bind(&m.name)
        .bind(origins_json(m))
        .bind(self.sealer.seal_str(SIGNING_SECRET, &m.signing_secret))
        .bind(
            m.webhook_secret
                .as_ref()
                .map(|w| self.sealer.seal_str(MERCHANT_WEBHOOK_SECRET, w)),
        )
        .bind(m.created)
        .bind(appearance_json(&m.appearance))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn merchant(&self, id: &str) -> StoreResult<Option<Merchant>> {
        self.find_one("SELECT * FROM merchants WHERE id = ?", id, |row| {
            merchant_from_row(row, &self.sealer)
        })
        .await
    }

    async fn set_merchant_appearance(
        &self,
        merchant_id: &str,
        appearance: &Appearance,
    ) -> StoreResult<bool> {
        let done = sqlx::query(stmt(
            self.dialect,
            "UPDATE merchants SET appearance = ? WHERE id = ?",
        ))
        .bind(appearance_json(appearance))
        .bind(merchant_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn upsert_merchant(&self, m: &Merchant) -> StoreResult<Merchant> {
        let row = sqlx::query(stmt(
            self.dialect,
            "INSERT INTO merchants (id, name, origins, signing_secret, webhook_secret, created)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, origins = excluded.origins,
                webhook_secret = coalesce(merchants.webhook_secret, excluded.webhook_secret)
             RETURNING *",
        ))
        .bind(&m.id)
        .bind(&m.name)
        .bind(origins_json(m))
        .bind(self.sealer.seal_str(SIGNING_SECRET, &m.signing_secret))
        .bind(
            m.webhook_secret
                .as_ref()
                .map(|w| self.sealer.seal_str(MERCHANT_WEBHOOK_SECRET, w)),
        )
        .bind(m.created)
        .fetch_one(&self.writer)
        .await?;
        merchant_from_row(&row, &self.sealer)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        sqlx::query(
            stmt(self.dialect, "INSERT INTO api_keys (lookup, hash, merchant_id, kind, created) VALUES (?, ?, ?, ?, ?)"),
        )
        .bind(&key.lookup)
        .bind(&key.hash)
        .bind(&key.merchant_id)
        .bind(key.kind.as_str())
        .bind(key.created)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn api_key_with_merchant(&self, lookup: &str) -> StoreResult<Option<(ApiKey, Merchant)>> {
        self.find_one(
            "SELECT k.lookup, k.hash, k.merchant_id, k.kind, k.created AS key_created, m.*
             FROM api_keys AS k JOIN merchants AS m ON m.id = k.merchant_id
             WHERE k.lookup = ? AND k.revoked IS NULL",
            lookup,
            |row| {
                Ok((
                    api_key_from_row(row)?,
                    merchant_from_row(row, &self.sealer)?,
                ))
            },
        )
        .await
    }

    async fn revoke_api_keys(&self, merchant_id: &str, now: i64) -> StoreResult<u64> {
        let done = sqlx::query(stmt(
            self.dialect,
            "UPDATE api_keys SET revoked = ? WHERE merchant_id = ? AND revoked IS NULL",
        ))
        .bind(now)
        .bind(merchant_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query(
            stmt(self.dialect, "INSERT INTO checkout_sessions (id, merchant_id, client_secret, status, amount, currency,
                success_url, cancel_url, fail_url, order_reference, customer_name, customer_email,
                metadata, payment_id, created, expires_at, capture_method, notification_url, appearance, locale)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        )
        .bind(&s.id)
        .bind(&s.merchant_id)
        .bind(self.sealer.seal_str(CLIENT_SECRET, &s.client_secret))
        .bind(s.status.as_str())
        .bind(s.amount)
        .bind(&s.currency)
        .bind(&s.success_url)
        .bind(&s.cancel_url)
        .bind(&s.fail_url)
        .bind(&s.order_reference)
        .bind(&s.customer_name)
        .bind(&s.customer_email)
        .bind(serde_json::to_string(&s.metadata).expect("metadata serialises"))
        .bind(&s.payment_id)
        .bind(s.created)
        .bind(s.expires_at)
        .bind(s.capture_method.as_str())
        .bind(&s.notification_url)
        .bind(s.appearance.as_ref().and_then(appearance_json))
        .bind(s.locale.as_str())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        self.find_one("SELECT * FROM checkout_sessions WHERE id = ?", id, |row| {
            session_from_row(row, &self.sealer)
        })
        .await
    }

    async fn claim_session_for_confirm(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<ConfirmClaim> {
        let claimed = sqlx::query(stmt(
            self.dialect,
            "UPDATE checkout_sessions SET confirm_lease = ?, confirm_lease_owner = ?
             WHERE id = ? AND status = 'open' AND expires_at > ?
               AND (confirm_lease IS NULL OR confirm_lease <= ?)",
        ))
        .bind(lease_until)
        .bind(owner)
        .bind(id)
        .bind(now)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(ConfirmClaim::Claimed);
        }
        let open = sqlx::query_scalar::<_, i64>(
            stmt(self.dialect, "SELECT count(*) FROM checkout_sessions WHERE id = ? AND status = 'open' AND expires_at > ?"),
        )
        .bind(id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(if open == 1 {
            ConfirmClaim::InProgress
        } else {
            ConfirmClaim::NotOpen
        })
    }

    async fn finish_confirm(&self, p: &Payment, events: &[NewEvent]) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            stmt(self.dialect, "INSERT INTO payments (id, merchant_id, session_id, amount, currency, status, card_brand,
                card_bin, card_last4, card_exp_month, card_exp_year, card_fingerprint,
                cardholder_name, decline_code, authorization_code, created, capture_method,
                amount_captured, amount_refunded, action_token, validated, updated, order_reference, channel)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        )
        .bind(&p.id)
        .bind(&p.merchant_id)
        .bind(&p.session_id)
        .bind(p.amount)
        .bind(&p.currency)
        .bind(p.status.as_str())
        .bind(p.card_brand.as_str())
        .bind(&p.card_bin)
        .bind(&p.card_last4)
        .bind(i64::from(p.card_exp_month))
        .bind(i64::from(p.card_exp_year))
        .bind(&p.card_fingerprint)
        .bind(&p.cardholder_name)
        .bind(&p.decline_code)
        .bind(&p.authorization_code)
        .bind(p.created)
        .bind(p.capture_method.as_str())
        .bind(p.amount_captured)
        .bind(p.amount_refunded)
        .bind(&p.action_token)
        .bind(p.validated)
        .bind(p.updated)
        .bind(&p.order_reference)
        .bind(p.channel.as_str())
        .execute(&mut *tx)
        .await?;
        if let Some(session_id) = &p.session_id {
            let completes = matches!(
                p.status,
                PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
            );
            let updated = if completes {
                sqlx::query(stmt(
                    self.dialect,
                    "UPDATE checkout_sessions SET status = 'complete', payment_id = ?,
                        confirm_lease = NULL, confirm_lease_owner = NULL
                     WHERE id = ? AND status = 'open' AND confirm_lease_owner = ?",
                ))
                .bind(&p.id)
                .bind(session_id)
                .bind(&p.id)
                .execute(&mut *tx)
                .await?
            } else {
                sqlx::query(stmt(
                    self.dialect,
                    "UPDATE checkout_sessions SET confirm_lease = NULL, confirm_lease_owner = NULL
                     WHERE id = ? AND confirm_lease_owner = ?",
                ))
                .bind(session_id)
                .bind(&p.id)
                .execute(&mut *tx)
                .await?
            };
            if updated.rows_affected() != 1 {
                // The lease is no longer this payment's: write nothing.
                tx.rollback().await?;
                return Ok(false);
            }
        }
        insert_events(self.dialect, &mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn expire_session(
        &self,
        id: &str,
        merchant_id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(stmt(
            self.dialect,
            "UPDATE checkout_sessions SET status = 'expired',
                expires_at = CASE WHEN expires_at < ? THEN expires_at ELSE ? END
             WHERE id = ? AND merchant_id = ? AND status = 'open'
               AND (confirm_lease IS NULL OR confirm_lease <= ?)",
        ))
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(self.dialect, &mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn due_sessions(&self, now: i64) -> StoreResult<Vec<Session>> {
        sqlx::query(stmt(
            self.dialect,
            "SELECT * FROM checkout_sessions WHERE status = 'open' AND expires_at <= ?
               AND (confirm_lease IS NULL OR confirm_lease <= ?) LIMIT 500",
        ))
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| session_from_row(row, &self.sealer))
        .collect()
    }

    async fn payment(&self, id: &str) -> StoreResult<Option<Payment>> {
        self.find_one("SELECT * FROM payments WHERE id = ?", id, payment_from_row)
            .await
    }

    async fn session_payments(&self, session_id: &str) -> StoreResult<Vec<Payment>> {
        self.find_all(
            "SELECT * FROM payments WHERE session_id = ? ORDER BY created DESC, rowid DESC",
            session_id,
            payment_from_row,
        )
        .await
    }

    async fn list_payments(
        &self,
        merchant_id: &str,
        q: &PaymentQuery,
    ) -> StoreResult<Vec<Payment>> {
        // Newest first; the cursor is the (created, rowid) of `starting_after`.
        let mut sql = String::from("SELECT * FROM payments WHERE merchant_id = ?");
        if q.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if q.order_reference.is_some() {
            sql.push_str(" AND order_reference = ?");
        }
        if q.created_gte.is_some() {
            sql.push_str(" AND created >= ?");
        }
        if q.created_lt.is_some() {
            sql.push_str(" AND created < ?");
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM payments WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = self.dialect.rewrite(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(status) = q.status {
            query = query.bind(status.as_str());
        }
        if let Some(reference) = &q.order_reference {
            query = query.bind(reference);
        }
        if let Some(t) = q.created_gte {
            query = query.bind(t);
        }
        if let Some(t) = q.created_lt {
            query = query.bind(t);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(payment_from_row)
            .collect()
    }

    async fn change_payment(&self, c: &PaymentChange) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query(stmt(
            self.dialect,
            "UPDATE payments SET status = ?, amount_captured = ?, amount_refunded = ?, updated = ?
             WHERE id = ? AND status = ? AND amount_captured = ? AND amount_refunded = ?",
        ))
        .bind(c.to.status.as_str())
        .bind(c.to.amount_captured)
        .bind(c.to.amount_refunded)
        .bind(c.now)
        .bind(&c.payment_id)
        .bind(c.from.status.as_str())
        .bind(c.from.amount_captured)
        .bind(c.from.amount_refunded)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Ok(false);
        }
        if let Some(r) = &c.refund {
            sqlx::query(
                stmt(self.dialect, "INSERT INTO refunds (id, payment_id, merchant_id, amount, currency, status, reason, created)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
            )
            .bind(&r.id)
            .bind(&r.payment_id)
            .bind(&r.merchant_id)
            .bind(r.amount)
            .bind(&r.currency)
            .bind(r.status.as_str())
            .bind(&r.reason)
            .bind(r.created)
            .execute(&mut *tx)
            .await?;
        }
        insert_events(self.dialect, &mut tx, &c.events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn finish_action(
        &self,
        payment_id: &str,
        to: PaymentStatus,
        decline_code: Option<&str>,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        // The guarded write comes first: it decides which of two racing
        // finishes wins, and SQLite never has to upgrade a read to a write.
        let mut tx = self.writer.begin().await?;
        let Some(row) = sqlx::query(stmt(
            self.dialect,
            "UPDATE payments SET status = ?, decline_code = ?, action_token = NULL, updated = ?,
                amount_captured = CASE WHEN ? = 'succeeded' THEN amount ELSE 0 END
             WHERE id = ? AND status = 'requires_action'
             RETURNING session_id",
        ))
        .bind(to.as_str())
        .bind(decline_code)
        .bind(now)
        .bind(to.as_str())
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(false);
        };
        let session_id: Option<String> = row.try_get("session_id")?;
        let completes = matches!(
            to,
            PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
        );
        if let Some(session_id) = session_id.filter(|_| completes) {
            let completed = sqlx::query(stmt(
                self.dialect,
                "UPDATE checkout_sessions SET status = 'complete', payment_id = ?
                 WHERE id = ? AND status = 'open' AND expires_at > ?",
            ))
            .bind(payment_id)
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if completed != 1 {
                return Ok(false); // rolled back: the payment stays as it was
            }
        }
        insert_events(self.dialect, &mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn mark_validated(&self, payment_id: &str, now: i64) -> StoreResult<bool> {
        let first = sqlx::query(stmt(
            self.dialect,
            "UPDATE payments SET validated = ? WHERE id = ? AND validated IS NULL",
        ))
        .bind(now)
        .bind(payment_id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(first == 1)
    }

    async fn refund(&self, id: &str) -> StoreResult<Option<Refund>> {
        self.find_one("SELECT * FROM refunds WHERE id = ?", id, refund_from_row)
            .await
    }

    async fn payment_refunds(&self, payment_id: &str) -> StoreResult<Vec<Refund>> {
        self.find_all(
            "SELECT * FROM refunds WHERE payment_id = ? ORDER BY created, rowid",
            payment_id,
            refund_from_row,
        )
        .await
    }

    async fn stale_authorizations(&self, cutoff: i64) -> StoreResult<Vec<Payment>> {
        sqlx::query(stmt(
            self.dialect,
            "SELECT * FROM payments WHERE status = 'requires_capture' AND created < ? LIMIT 500",
        ))
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payment_from_row)
        .collect()
    }

    async fn start_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        ttl: i64,
    ) -> StoreResult<IdempotencyStart> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(stmt(
            self.dialect,
            "DELETE FROM idempotency_keys WHERE merchant_id = ? AND key = ? AND created <= ?",
        ))
        .bind(merchant_id)
        .bind(key)
        .bind(now - ttl)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            stmt(self.dialect, "INSERT INTO idempotency_keys (merchant_id, key, request_hash, created) VALUES (?, ?, ?, ?)
             ON CONFLICT (merchant_id, key) DO NOTHING"),
        )
        .bind(merchant_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if inserted == 1 {
            IdempotencyStart::Started
        } else {
            let row = sqlx::query(stmt(
                self.dialect,
                "SELECT request_hash, response_status, response_body FROM idempotency_keys
                 WHERE merchant_id = ? AND key = ?",
            ))
            .bind(merchant_id)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            let hash: String = row.try_get("request_hash")?;
            let status: Option<i64> = row.try_get("response_status")?;
            match status {
                _ if hash != request_hash => IdempotencyStart::Mismatch,
                None => IdempotencyStart::InFlight,
                Some(status) => IdempotencyStart::Replay {
                    status: u16::try_from(status)
                        .map_err(|_| corrupt("stored status", &status.to_string()))?,
                    body: {
                        let stored: Vec<u8> = row.try_get("response_body")?;
                        self.sealer.open(RESPONSE_BODY, &stored).map_err(|e| {
                            StoreError::Corrupt(format!("idempotency response: {e}"))
                        })?
                    },
                },
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn finish_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        sqlx::query(
            stmt(self.dialect, "UPDATE idempotency_keys SET response_status = ?, response_body = ? WHERE merchant_id = ? AND key = ?"),
        )
        .bind(i64::from(status))
        .bind(self.sealer.seal(RESPONSE_BODY, body).into_bytes())
        .bind(merchant_id)
        .bind(key)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn abandon_idempotent(&self, merchant_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query(stmt(self.dialect, "DELETE FROM idempotency_keys WHERE merchant_id = ? AND key = ? AND response_status IS NULL"))
            .bind(merchant_id)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn purge_idempotent(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(stmt(
            self.dialect,
            "DELETE FROM idempotency_keys WHERE created <= ?",
        ))
        .bind(before)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    async fn count_hit(
        &self,
        bucket: &str,
        window_start: i64,
        window: i64,
    ) -> StoreResult<(i64, i64)> {
        let current: i64 = sqlx::query_scalar(stmt(
            self.dialect,
            "INSERT INTO rate_hits (bucket, window_start, hits) VALUES (?, ?, 1)
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_hits.hits + 1
             RETURNING hits",
        ))
        .bind(bucket)
        .bind(window_start)
        .fetch_one(&self.writer)
        .await?;
        let previous = self.window_hits(bucket, window_start - window).await?;
        Ok((current, previous))
    }

    async fn hits(&self, bucket: &str, window_start: i64, window: i64) -> StoreResult<(i64, i64)> {
        Ok((
            self.window_hits(bucket, window_start).await?,
            self.window_hits(bucket, window_start - window).await?,
        ))
    }

    async fn purge_hits(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(stmt(
            self.dialect,
            "DELETE FROM rate_hits WHERE window_start < ?",
        ))
        .bind(before)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    async fn release_confirm(&self, session_id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(stmt(
            self.dialect,
            "UPDATE checkout_sessions SET confirm_lease = NULL, confirm_lease_owner = NULL
             WHERE id = ? AND confirm_lease_owner = ?",
        ))
        .bind(session_id)
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn ensure_webhook_secret(&self, merchant_id: &str, fresh: &str) -> StoreResult<String> {
        let row = sqlx::query(
            stmt(self.dialect, "UPDATE merchants SET webhook_secret = coalesce(webhook_secret, ?) WHERE id = ? RETURNING webhook_secret"),
        )
        .bind(self.sealer.seal_str(MERCHANT_WEBHOOK_SECRET, fresh))
        .bind(merchant_id)
        .fetch_one(&self.writer)
        .await?;
        opened(
            &row,
            "webhook_secret",
            MERCHANT_WEBHOOK_SECRET,
            &self.sealer,
        )
    }

    async fn insert_endpoint(&self, e: &WebhookEndpoint) -> StoreResult<()> {
        sqlx::query(stmt(
            self.dialect,
            "INSERT INTO webhook_endpoints (id, merchant_id, url, enabled_events, secret, created)
             VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(&e.id)
        .bind(&e.merchant_id)
        .bind(&e.url)
        .bind(
            e.enabled_events
                .as_ref()
                .map(|v| serde_json::to_string(v).expect("strings")),
        )
        .bind(self.sealer.seal_str(ENDPOINT_SECRET, &e.secret))
        .bind(e.created)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn endpoints(&self, merchant_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
        self.find_all("SELECT * FROM webhook_endpoints WHERE merchant_id = ? AND deleted IS NULL ORDER BY created, rowid", merchant_id, |row| endpoint_from_row(row, &self.sealer)).await
    }

    async fn endpoint(&self, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
        self.find_one(
            "SELECT * FROM webhook_endpoints WHERE id = ? AND deleted IS NULL",
            id,
            |row| endpoint_from_row(row, &self.sealer),
        )
        .await
    }

    async fn delete_endpoint(&self, id: &str, merchant_id: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            stmt(self.dialect, "UPDATE webhook_endpoints SET deleted = ? WHERE id = ? AND merchant_id = ? AND deleted IS NULL"),
        )
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .execute(&mut *tx)
        .await?;
        // What was still due to it goes nowhere now; it stays listed, failed,
        // and can be resent to the endpoints the merchant has.
        sqlx::query(stmt(
            self.dialect,
            "UPDATE deliveries SET status = 'failed', lease_until_ms = NULL
             WHERE endpoint_id = ? AND status = 'pending'",
        ))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rotate_endpoint_secret(
        &self,
        id: &str,
        merchant_id: &str,
        secret: &str,
        old_until: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            stmt(self.dialect, "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires = ?, secret = ?
             WHERE id = ? AND merchant_id = ? AND deleted IS NULL"),
        )
        .bind(old_until)
        .bind(self.sealer.seal_str(ENDPOINT_SECRET, secret))
        .bind(id)
        .bind(merchant_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn event(&self, id: &str) -> StoreResult<Option<Event>> {
        self.find_one("SELECT * FROM events WHERE id = ?", id, event_from_row)
            .await
    }

    async fn list_events(&self, merchant_id: &str, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let mut sql = String::from("SELECT * FROM events WHERE merchant_id = ?");
        if q.kind.is_some() {
            sql.push_str(" AND type = ?");
        }
        if q.payment_id.is_some() {
            sql.push_str(" AND payment_id = ?");
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM events WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = self.dialect.rewrite(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(kind) = &q.kind {
            query = query.bind(kind);
        }
        if let Some(payment_id) = &q.payment_id {
            query = query.bind(payment_id);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    async fn event_deliveries(&self, event_id: &str) -> StoreResult<Vec<Delivery>> {
        self.find_all(
            "SELECT * FROM deliveries WHERE event_id = ? ORDER BY created_ms, rowid",
            event_id,
            delivery_from_row,
        )
        .await
    }

    async fn event_attempts(&self, event_id: &str) -> StoreResult<Vec<Attempt>> {
        let rows = sqlx::query(stmt(
            self.dialect,
            "SELECT * FROM delivery_attempts WHERE event_id = ? ORDER BY rowid",
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: Option<i64> = row.try_get("http_status")?;
                Ok(Attempt {
                    delivery_id: row.try_get("delivery_id")?,
                    event_id: row.try_get("event_id")?,
                    attempted: row.try_get("attempted")?,
                    http_status: status.and_then(|s| u16::try_from(s).ok()),
                    latency_ms: row.try_get("latency_ms")?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    async fn resend_event(&self, event: &Event, due_ms: i64) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let created = fan_out(
            self.dialect,
            &mut tx,
            &event.id,
            &event.merchant_id,
            &event.kind,
            event.notification_url.as_deref(),
            due_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn insert_staff_user(&self, u: &StaffUser) -> StoreResult<bool> {
        let inserted = sqlx::query(stmt(
            self.dialect,
            "INSERT INTO staff_users (id, merchant_id, email, password_hash, role, created)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
        ))
        .bind(&u.id)
        .bind(&u.merchant_id)
        .bind(u.email.to_lowercase())
        .bind(&u.password_hash)
        .bind(u.role.as_str())
        .bind(u.created)
        .execute(&self.writer)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn staff_user_by_email(&self, email: &str) -> StoreResult<Option<StaffUser>> {
        self.find_one(
            "SELECT * FROM staff_users WHERE email = ?",
            &email.trim().to_lowercase(),
            staff_user_from_row,
        )
        .await
    }

    async fn staff_user(&self, id: &str) -> StoreResult<Option<StaffUser>> {
        self.find_one(
            "SELECT * FROM staff_users WHERE id = ?",
            id,
            staff_user_from_row,
        )
        .await
    }

    async fn set_staff_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        let updated = sqlx::query(stmt(
            self.dialect,
            "UPDATE staff_users SET password_hash = ? WHERE id = ?",
        ))
        .bind(password_hash)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn insert_staff_login(&self, l: &StaffLogin, now: i64) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(stmt(
            self.dialect,
            "DELETE FROM staff_sessions WHERE user_id = ? AND expires_at <= ?",
        ))
        .bind(&l.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(stmt(
            self.dialect,
            "INSERT INTO staff_sessions (token_hash, user_id, csrf_token, created, expires_at)
             VALUES (?, ?, ?, ?, ?)",
        ))
        .bind(&l.token_hash)
        .bind(&l.user_id)
        .bind(&l.csrf_token)
        .bind(l.created)
        .bind(l.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn staff_login(&self, token_hash: &str) -> StoreResult<Option<StaffLogin>> {
        self.find_one(
            "SELECT * FROM staff_sessions WHERE token_hash = ?",
            token_hash,
            staff_login_from_row,
        )
        .await
    }

    async fn extend_staff_login(&self, token_hash: &str, expires_at: i64) -> StoreResult<bool> {
        let updated = sqlx::query(stmt(
            self.dialect,
            "UPDATE staff_sessions SET expires_at = ? WHERE token_hash = ?",
        ))
        .bind(expires_at)
        .bind(token_hash)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn delete_staff_login(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query(stmt(
            self.dialect,
            "DELETE FROM staff_sessions WHERE token_hash = ?",
        ))
        .bind(token_hash)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        claim: &Claim,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let in_flight = serde_json::to_string(&claim.in_flight).expect("counts");
        // Numbered per URL, so one claim never takes more than a URL's share.
        // The numbering looks only at the earliest due deliveries of URLs
        // with a free slot (by the deliveries_due index), so a claim costs
        // the same whatever the backlog: numbering every pending delivery
        // took 17 ms a claim with 6,000 waiting. PostgreSQL also skips rows
        // another instance is claiming right now.
        let claim_sql = match self.dialect {
            Dialect::Sqlite => {
                "UPDATE deliveries SET lease_until_ms = ?
                 WHERE id IN (
                    SELECT due.id FROM (
                        SELECT id, url, next_attempt_ms,
                               ROW_NUMBER() OVER (PARTITION BY url ORDER BY next_attempt_ms, id) AS nth
                        FROM (
                            SELECT id, url, next_attempt_ms FROM deliveries
                            WHERE status = 'pending' AND next_attempt_ms <= ?
                              AND (lease_until_ms IS NULL OR lease_until_ms <= ?)
                              AND url NOT IN (SELECT key FROM json_each(?) WHERE value >= ?)
                            ORDER BY next_attempt_ms, id LIMIT ?)
                    ) AS due
                    LEFT JOIN json_each(?) AS busy ON busy.key = due.url
                    WHERE due.nth + COALESCE(busy.value, 0) <= ?
                    ORDER BY due.next_attempt_ms LIMIT ?)
                 RETURNING *"
            }
            // Only the rows picked are locked, and the lock re-checks each
            // as it is now, so that concurrent claims (other instances) skip
            // them and take the next. Materialised, so the planner cannot
            // fold the ranking into joins over the whole table: before the
            // table had statistics, that plan took over 100 ms a claim with a
            // few thousand waiting.
            Dialect::Postgres => {
                "WITH candidates AS MATERIALIZED (
                    SELECT id, url, next_attempt_ms FROM deliveries
                    WHERE status = 'pending' AND next_attempt_ms <= ?
                      AND (lease_until_ms IS NULL OR lease_until_ms <= ?)
                      AND url NOT IN (SELECT key FROM json_each_text(?::json)
                                      WHERE value::bigint >= ?)
                    ORDER BY next_attempt_ms, id LIMIT ?
                 ), shared AS MATERIALIZED (
                    SELECT due.id FROM (
                        SELECT id, url,
                               ROW_NUMBER() OVER (PARTITION BY url ORDER BY next_attempt_ms, id) AS nth
                        FROM candidates
                    ) AS due
                    LEFT JOIN json_each_text(?::json) AS busy ON busy.key = due.url
                    WHERE due.nth + COALESCE(busy.value::bigint, 0) <= ?
                 ), picked AS MATERIALIZED (
                    SELECT d.id FROM deliveries AS d JOIN shared ON shared.id = d.id
                    WHERE d.status = 'pending'
                      AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= ?)
                    ORDER BY d.next_attempt_ms LIMIT ?
                    FOR UPDATE OF d SKIP LOCKED
                 )
                 UPDATE deliveries SET lease_until_ms = ?
                 FROM picked WHERE deliveries.id = picked.id
                 RETURNING deliveries.*"
            }
        };
        let per_url = i64::from(claim.per_url);
        let mut query = sqlx::query(stmt(self.dialect, claim_sql));
        if self.dialect == Dialect::Sqlite {
            query = query.bind(lease_until_ms);
        }
        query = query
            .bind(now_ms)
            .bind(now_ms)
            .bind(in_flight.clone())
            .bind(per_url)
            .bind(CLAIM_CANDIDATES)
            .bind(in_flight)
            .bind(per_url);
        if self.dialect == Dialect::Postgres {
            query = query.bind(now_ms);
        }
        query = query.bind(i64::from(claim.total));
        if self.dialect == Dialect::Postgres {
            query = query.bind(lease_until_ms);
        }
        let rows = query.fetch_all(&self.writer).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let delivery = delivery_from_row(row)?;
            let event = self
                .event(&delivery.event_id)
                .await?
                .ok_or_else(|| corrupt("delivery without event", &delivery.id))?;
            let secrets = match &delivery.endpoint_id {
                Some(endpoint_id) => {
                    let Some(endpoint) = self.endpoint(endpoint_id).await? else {
                        // Deleted while this delivery was being claimed.
                        sqlx::query(stmt(
                            self.dialect,
                            "UPDATE deliveries SET status = 'failed', lease_until_ms = NULL
                             WHERE id = ? AND status = 'pending'",
                        ))
                        .bind(&delivery.id)
                        .execute(&self.writer)
                        .await?;
                        continue;
                    };
                    let now = now_ms / 1000;
                    let mut secrets = vec![endpoint.secret];
                    if let (Some(old), Some(_)) = (
                        endpoint.previous_secret,
                        endpoint
                            .previous_secret_expires
                            .filter(|until| *until > now),
                    ) {
                        secrets.push(old);
                    }
                    secrets
                }
                None => self
                    .merchant(&delivery.merchant_id)
                    .await?
                    .and_then(|m| m.webhook_secret)
                    .into_iter()
                    .collect(),
            };
            claimed.push(ClaimedDelivery {
                delivery,
                event,
                secrets,
            });
        }
        Ok(claimed)
    }

    async fn record_attempt(&self, a: &Attempt, result: AttemptResult) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            stmt(self.dialect, "INSERT INTO delivery_attempts (delivery_id, event_id, attempted, http_status, latency_ms, error)
             VALUES (?, ?, ?, ?, ?, ?)"),
        )
        .bind(&a.delivery_id)
        .bind(&a.event_id)
        .bind(a.attempted)
        .bind(a.http_status.map(i64::from))
        .bind(a.latency_ms)
        .bind(&a.error)
        .execute(&mut *tx)
        .await?;
        let (status, next) = match result {
            AttemptResult::Delivered => ("delivered", None),
            AttemptResult::RetryAt(ms) => ("pending", Some(ms)),
            AttemptResult::GiveUp => ("failed", None),
        };
        sqlx::query(stmt(
            self.dialect,
            "UPDATE deliveries SET status = ?, attempts = attempts + 1,
                next_attempt_ms = coalesce(?, next_attempt_ms), lease_until_ms = NULL
             WHERE id = ?",
        ))
        .bind(status)
        .bind(next)
        .bind(&a.delivery_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

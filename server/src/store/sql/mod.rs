//! The store on SQL: SQLite by default (one file, WAL, commits that reach
//! the disk), PostgreSQL for several instances. One implementation over
//! sqlx's `Any` driver; where the two dialects differ, [`Dialect`] says how.

mod cache;
mod cards;
mod compat;
mod customers;
mod dialect;
mod idempotency;
mod ledger;
mod limits;
mod links;
mod merchants;
mod outbox;
mod payments;
mod payouts;
mod rows;
mod sessions;
mod staff;
mod subscriptions;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use kasse_core::RequestedLocale;
use kasse_core::api::{
    CaptureMethod, EventType, FutureUsage, PaymentChannel, RefundStatus, SaveCard, StaffRole,
};
use kasse_core::appearance::Appearance;
use kasse_core::error::DeclineCode;
use kasse_core::origin::MerchantOrigin;
use kasse_core::{CardBrand, Currency, PaymentStatus, SessionStatus};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row};

use crate::clock::now_ms;
use crate::ids::new_id;
use crate::secrets::Sealer;

use rows::*;

use super::{
    ApiKey, Attempt, AttemptResult, Claim, ClaimedDelivery, ConfirmClaim, Delivery, DeliveryStatus,
    Event, EventQuery, IdempotencyStart, KeyKind, Merchant, NewEvent, Payment, PaymentChange,
    PaymentQuery, Refund, Session, StaffLogin, StaffUser, Store, StoreError, StoreResult,
    WebhookEndpoint,
};
// The aggregates' traits, which the files below implement.
use super::{CompatCredential, CompatSession, CompatStore, PaymentRefs, Surface};
use super::{
    IdempotencyStore, LimitStore, MerchantStore, OutboxStore, PaymentStore, SessionStore,
    StaffStore,
};

pub use cache::STALENESS as CONFIG_STALENESS;

pub use dialect::Dialect;
use writer::{Done, Writer};

/// A statement with every value bound, owned, so that it can wait in the
/// writer's queue.
type Owned = Query<'static, Any, AnyArguments<'static>>;

/// Numbers the `?` placeholders of a statement built at run time (a list
/// with optional filters) as `$1`, `$2`, …, which both SQLite and
/// PostgreSQL read, so one statement and one bind order serve both. A `?`
/// inside a quoted SQL literal is left alone. Fixed statements are written
/// with `$n` already.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
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
    /// Writes. On SQLite, one connection whose writes are committed in
    /// groups: SQLite lets one writer in at a time, and writers that wait in
    /// its busy handler sleep in steps of up to 100 ms, so under load they
    /// queue here instead, in order. On PostgreSQL, the same pool as reads.
    writer: Writer,
    dialect: Dialect,
    /// Seals the secrets that must be read back, and replayed responses.
    sealer: Sealer,
    /// Merchants and endpoints, kept in memory for a moment.
    cache: cache::ConfigCache,
    /// Where deliveries leased as their events are written go once the
    /// transaction commits; none until a webhook worker asks for them.
    dispatch: std::sync::OnceLock<Dispatch>,
}

struct Dispatch {
    sink: tokio::sync::mpsc::UnboundedSender<Leased>,
    lease_ms: i64,
}

/// Deliveries leased as their events were written, with their events.
pub type Leased = Vec<(Delivery, Event)>;

impl SqlStore {
    /// Opens the database at `url`: a PostgreSQL URL, or a SQLite file
    /// (created if missing, with its directory).
    pub async fn connect(url: &str, sealer: Sealer) -> StoreResult<Self> {
        let (pool, dialect) = open_pool(url).await?;
        let writer = match dialect {
            Dialect::Postgres => Writer::pool(pool.clone()),
            Dialect::Sqlite => Writer::group_commit(open_pool_of(url, 1).await?.0),
        };
        Ok(Self {
            pool,
            writer,
            dialect,
            sealer,
            cache: cache::ConfigCache::default(),
            dispatch: std::sync::OnceLock::new(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The lease, (now, until), for the deliveries of events written now,
    /// if a worker sends them as soon as they commit.
    fn fresh_lease(&self) -> Option<(i64, i64)> {
        let dispatch = self.dispatch.get()?;
        let now = now_ms();
        Some((now, now + dispatch.lease_ms))
    }

    /// Runs `job`, which writes events and leases their deliveries,
    /// atomically; once it commits, what it leased goes to the worker, even
    /// if the caller has gone meanwhile (else those deliveries would wait
    /// for their lease to run out).
    async fn atomic_handing_over<F>(&self, job: F) -> StoreResult<bool>
    where
        F: for<'c> FnOnce(
                &'c mut AnyConnection,
            ) -> BoxFuture<'c, StoreResult<Done<(bool, Leased)>>>
            + Send
            + 'static,
    {
        let sink = self.dispatch.get().map(|d| d.sink.clone());
        let (done, _) = self
            .writer
            .atomic_then(job, move |(_, leased): &mut (bool, Leased)| {
                if let Some(sink) = sink.filter(|_| !leased.is_empty()) {
                    let _ = sink.send(std::mem::take(leased));
                }
            })
            .await?;
        Ok(done)
    }

    /// Runs `statement`, a guarded write, and only if it changed exactly
    /// one row writes `events` in the same transaction; whether it did.
    async fn guarded_with_events(
        &self,
        statement: Owned,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                if statement.execute(&mut *c).await?.rows_affected() != 1 {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    /// The secrets that sign a delivery: its endpoint's (the current one and
    /// one being rotated out), or the merchant's for a session's own URL.
    /// None if its endpoint is gone.
    pub(super) async fn delivery_secrets(
        &self,
        delivery: &Delivery,
        now_ms: i64,
    ) -> StoreResult<Option<Vec<String>>> {
        let Some(endpoint_id) = &delivery.endpoint_id else {
            return Ok(Some(
                self.merchant(&delivery.merchant_id)
                    .await?
                    .and_then(|m| m.webhook_secret)
                    .into_iter()
                    .collect(),
            ));
        };
        let Some(endpoint) = self.endpoint(&delivery.merchant_id, endpoint_id).await? else {
            return Ok(None);
        };
        let mut secrets = vec![endpoint.secret];
        if let (Some(old), Some(_)) = (
            endpoint.previous_secret,
            endpoint
                .previous_secret_expires
                .filter(|until| *until > now_ms / 1000),
        ) {
            secrets.push(old);
        }
        Ok(Some(secrets))
    }

    /// Runs one statement on the writer; how many rows it changed.
    async fn exec(&self, statement: Owned) -> StoreResult<u64> {
        self.writer
            .run(move |c| {
                Box::pin(async move {
                    Ok(Done::Kept(
                        statement.execute(&mut *c).await?.rows_affected(),
                    ))
                })
            })
            .await
    }

    /// Runs one statement on the writer that returns a row (`RETURNING`).
    async fn exec_returning(&self, statement: Owned) -> StoreResult<AnyRow> {
        self.writer
            .run(move |c| {
                Box::pin(async move { Ok(Done::Kept(statement.fetch_one(&mut *c).await?)) })
            })
            .await
    }

    /// Runs `job` on the writer, all of it or nothing: it may write several
    /// statements, and keeps them all unless it fails.
    async fn atomic<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
            + Send
            + 'static,
    {
        self.writer.atomic(job).await
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
            let update = format!("UPDATE {table} SET {column} = $1 WHERE id = $2");
            for row in sqlx::query(&select).fetch_all(&self.pool).await? {
                let id: String = row.try_get("id")?;
                let value: String = row.try_get("value")?;
                let (update, sealed_value) =
                    (update.clone(), self.sealer.seal_str(purpose, &value));
                self.writer
                    .run(move |c| {
                        Box::pin(async move {
                            sqlx::query(&update)
                                .bind(sealed_value)
                                .bind(id)
                                .execute(&mut *c)
                                .await?;
                            Ok(Done::Kept(()))
                        })
                    })
                    .await?;
                sealed += 1;
            }
        }
        let stored = sqlx::query(
            "SELECT merchant_id, key, response_body FROM idempotency_keys WHERE response_body IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let update =
            "UPDATE idempotency_keys SET response_body = $1 WHERE merchant_id = $2 AND key = $3";
        for row in stored {
            let body: Vec<u8> = row.try_get("response_body")?;
            if Sealer::is_sealed(&body) {
                continue;
            }
            let merchant_id: String = row.try_get("merchant_id")?;
            let key: String = row.try_get("key")?;
            self.exec(
                sqlx::query(update)
                    .bind(self.sealer.seal(RESPONSE_BODY, &body).into_bytes())
                    .bind(merchant_id)
                    .bind(key),
            )
            .await?;
            sealed += 1;
        }
        if sealed > 0 && self.dialect == Dialect::Sqlite {
            // The clear values' old pages are still in the write-ahead log:
            // copy the sealed pages into the file and empty the log.
            // (`secure_delete` has zeroed what was freed.)
            self.writer
                .alone(|c| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                            .execute(&mut *c)
                            .await?;
                        Ok(Done::Kept(()))
                    })
                })
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
        sqlx::query(sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(&read)
            .transpose()
    }

    /// The row `sql` finds by `$1` = `id` and `$2` = `merchant_id`: a
    /// merchant's own object, or none.
    async fn find_owned<T>(
        &self,
        sql: &'static str,
        merchant_id: &str,
        id: &str,
        read: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        sqlx::query(sql)
            .bind(id)
            .bind(merchant_id)
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
        sqlx::query(sql)
            .bind(key)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(&read)
            .collect()
    }
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

    async fn queue_stats(&self, now_ms: i64) -> StoreResult<Vec<(&'static str, i64, i64)>> {
        let webhooks = sqlx::query(
            "SELECT CAST(count(*) AS BIGINT) AS n, CAST(coalesce(min(next_attempt_ms), $1) AS BIGINT) AS since
             FROM deliveries WHERE status = 'pending' AND next_attempt_ms <= $2",
        )
        .bind(now_ms)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        let now = now_ms / 1000;
        let emails = sqlx::query(
            "SELECT CAST(count(*) AS BIGINT) AS n, CAST(coalesce(min(send_at), $1) AS BIGINT) AS since
             FROM notifications WHERE status = 'pending' AND send_at <= $2",
        )
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(vec![
            (
                "webhooks",
                webhooks.try_get("n")?,
                webhooks.try_get("since")?,
            ),
            (
                "emails",
                emails.try_get("n")?,
                emails.try_get::<i64, _>("since")? * 1000,
            ),
        ])
    }

    fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    async fn acquire_time(&self) -> StoreResult<std::time::Duration> {
        let started = std::time::Instant::now();
        let connection = self.pool.acquire().await?;
        drop(connection);
        Ok(started.elapsed())
    }

    async fn unapplied_migrations(&self) -> StoreResult<usize> {
        let migrator = match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        Ok(migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count())
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_but_not_inside_quoted_literals() {
        assert_eq!(
            numbered("SELECT * FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)"),
            "SELECT * FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
        );
        assert_eq!(
            numbered("UPDATE t SET note = 'it''s ?' WHERE id = ?"),
            "UPDATE t SET note = 'it''s ?' WHERE id = $1"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}

//! Each test gets its own Kasse on a free port, its own database (a SQLite
//! file, or with `KASSE_TEST_STORE=postgres` a PostgreSQL database), its own
//! clock, and a merchant whose keys it knows.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kasse_core::api::{CLIENT_SECRET_HEADER, CheckoutSession, ErrorBody};
use kasse_core::origin::MerchantOrigin;
use kasse_server::clock::ManualClock;
use kasse_server::config::{Limits, WebhookConfig};
use kasse_server::merchants::{self, Credentials};
use kasse_server::secrets::ServerSecret;
use kasse_server::store::Store;
use kasse_server::vault::Vault;
use kasse_server::{Application, Config};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The card vault's key-encryption key in tests (never a real one).
pub const TEST_VAULT_KEY: &str = "6b617373652074657374207661756c74206b6579206e6f7420666f7220757365";

pub fn test_secret() -> ServerSecret {
    ServerSecret::new(b"test server secret".to_vec())
}

/// 2026-11-21T12:00:00Z.
pub const START: i64 = 1_795_262_400;
pub const SHOP: &str = "https://shop.example";

pub struct TestApp {
    pub ctx: kasse_server::http::AppState,
    pub base: String,
    pub http: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub merchant: Credentials,
    pub dir: TempDir,
    pub database_url: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A test app whose configuration `adjust` may change first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let secret = test_secret();
    let mut config = Config {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        database_url: if crate::postgres::wanted() {
            crate::postgres::fresh_database().await
        } else {
            dir.path().join("kasse.db").display().to_string()
        },
        static_dir: fake_front_end(&dir),
        secret: secret.clone(),
        demo: false,
        sandbox_latency: Duration::ZERO,
        live: false,
        metrics_token: None,
        shutdown_grace: Duration::from_secs(30),
        limits: Limits {
            // Tests confirm, decline, key cards in and log in many times from
            // one address, on a clock that stands still; each limit has its
            // own test.
            confirms_per_minute: 10_000,
            declines_per_merchant_per_minute: 10_000,
            keyed_payments_per_merchant_per_minute: 10_000,
            keyed_payments_per_staff_per_minute: 10_000,
            logins_per_address_per_minute: 10_000,
            logins_per_account_per_minute: 10_000,
            ..Limits::default()
        },
        webhooks: WebhookConfig {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(400),
            attempt_timeout: Duration::from_secs(2),
            poll_interval: Duration::from_millis(50),
            // The receivers are on loopback; the refusals have their own tests.
            allow_private_addresses: true,
            ..WebhookConfig::default()
        },
        vault: Some(Vault::from_keys(TEST_VAULT_KEY).unwrap()),
        mail: None,
    };
    adjust(&mut config);
    let database_url = config.database_url.clone();
    let clock = ManualClock::new(START);
    let app = Application::build_with_clock(config, Arc::new(clock.clone()))
        .await
        .expect("kasse starts");
    // Where it listens, whatever public URL it was given.
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store.clone();
    let ctx = app.context();
    let merchant = merchants::create(
        store.as_ref(),
        &secret,
        "Test Shop",
        vec![MerchantOrigin::parse(SHOP).unwrap()],
        START,
    )
    .await
    .unwrap();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        ctx,
        base,
        http: reqwest::Client::new(),
        store,
        clock,
        merchant,
        dir,
        database_url,
    }
}

/// The inline bootstrap of the fake built page; its hash must be in the CSP.
pub const PAGE_SCRIPT: &str = "import init from '/static/app.js'; await init();";

/// The fake card update page's bootstrap: its own bundle, its own hash.
pub const UPDATE_SCRIPT: &str = "import init from '/static/update/app.js'; await init();";

/// A stand-in for trunk's `dist/`: an index.html with an inline script.
fn fake_front_end(dir: &TempDir) -> std::path::PathBuf {
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        format!("<!doctype html><html><head><script type=\"module\">{PAGE_SCRIPT}</script></head><body></body></html>"),
    )
    .unwrap();
    std::fs::write(
        dist.join("app.js"),
        "export default async function init() {}",
    )
    .unwrap();
    std::fs::create_dir_all(dist.join("update")).unwrap();
    std::fs::write(
        dist.join("update/index.html"),
        format!("<!doctype html><html><head><script type=\"module\">{UPDATE_SCRIPT}</script></head><body></body></html>"),
    )
    .unwrap();
    std::fs::create_dir_all(dist.join("terminal")).unwrap();
    std::fs::write(
        dist.join("terminal/index.html"),
        "<!doctype html><html><head><title>kasse-terminal</title></head><body></body></html>",
    )
    .unwrap();
    // A hashed stylesheet as trunk writes it, with its precompressed twins
    // (their bytes are markers: the server sends them as they are).
    std::fs::write(dist.join(HASHED_CSS), "body { color: black }").unwrap();
    std::fs::write(dist.join(format!("{HASHED_CSS}.gz")), "gzip bytes").unwrap();
    std::fs::write(dist.join(format!("{HASHED_CSS}.br")), "brotli bytes").unwrap();
    dist
}

/// A built asset whose name carries trunk's content hash.
pub const HASHED_CSS: &str = "main-0a1b2c3d4e5f6a7b.css";

pub fn session_body() -> Value {
    json!({
        "amount": 1250,
        "currency": "usd",
        "success_url": format!("{SHOP}/thanks?cart=7"),
        "cancel_url": format!("{SHOP}/cart"),
        "order_reference": "order-1001",
        "customer_email": "ada@example.com",
        "metadata": {"cart": "7"},
    })
}

pub fn good_card(number: &str) -> Value {
    json!({"card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123", "name": "Ada Lovelace"}})
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs JSON with the merchant's secret key.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.merchant.secret_key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.merchant.secret_key)
            .send()
            .await
            .unwrap()
    }

    /// A second merchant of this Kasse, with its own keys and origins.
    pub async fn other_merchant(&self, name: &str, origins: &[&str]) -> Credentials {
        let origins = origins
            .iter()
            .map(|o| MerchantOrigin::parse(o).unwrap())
            .collect();
        merchants::create(self.store.as_ref(), &test_secret(), name, origins, START)
            .await
            .unwrap()
    }

    /// POSTs JSON with another merchant's secret key.
    pub async fn post_as(&self, key: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(&self.merchant.secret_key)
            .send()
            .await
            .unwrap()
    }

    async fn database(&self) -> sqlx::AnyPool {
        database(&self.database_url).await
    }

    /// Runs a statement on the test's own database, behind Kasse's back.
    pub async fn execute(&self, sql: &str) {
        let pool = self.database().await;
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// The types of the merchant's newest `limit` events, newest first.
    pub async fn event_kinds(&self, limit: u32) -> Vec<String> {
        let events: Value = self
            .get(&format!("/v1/events?limit={limit}"))
            .await
            .json()
            .await
            .unwrap();
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// The ledger's invariant: for every merchant and currency, the sum of
    /// the ledger's `net` by status equals the balance row, and every
    /// captured or refunded amount is in the ledger exactly once.
    pub async fn assert_ledger_balances(&self) {
        let pool = self.database().await;
        let rows = sqlx::query(
            "SELECT b.merchant_id, b.currency, b.available, b.pending,
                CAST((SELECT coalesce(sum(net), 0) FROM balance_transactions t
                  WHERE t.merchant_id = b.merchant_id AND t.currency = b.currency
                    AND t.status = 'available') AS BIGINT) AS ledger_available,
                CAST((SELECT coalesce(sum(net), 0) FROM balance_transactions t
                  WHERE t.merchant_id = b.merchant_id AND t.currency = b.currency
                    AND t.status = 'pending') AS BIGINT) AS ledger_pending
             FROM balances b",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        use sqlx::Row;
        for row in &rows {
            let who: (String, String) = (row.get("merchant_id"), row.get("currency"));
            assert_eq!(
                (row.get::<i64, _>("available"), row.get::<i64, _>("pending")),
                (
                    row.get::<i64, _>("ledger_available"),
                    row.get::<i64, _>("ledger_pending")
                ),
                "the balance of {who:?} is not what its ledger adds up to"
            );
        }
        let unexplained: i64 = sqlx::query_scalar(
            "SELECT CAST(count(*) AS BIGINT) FROM payments p WHERE p.amount_captured <> CAST(coalesce(
                (SELECT sum(amount) FROM balance_transactions t WHERE t.type = 'charge' AND t.source_id = p.id), 0) AS BIGINT)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(unexplained, 0, "captures missing from the ledger");
        let unexplained: i64 = sqlx::query_scalar(
            "SELECT CAST(count(*) AS BIGINT) FROM refunds r WHERE r.status = 'succeeded' AND NOT EXISTS
                (SELECT 1 FROM balance_transactions t WHERE t.type = 'refund' AND t.source_id = r.id AND t.amount = -r.amount)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(unexplained, 0, "refunds missing from the ledger");
        let unreserved: i64 = sqlx::query_scalar(
            "SELECT CAST(count(*) AS BIGINT) FROM balances b WHERE b.reserved <> CAST(coalesce(
                (SELECT sum(amount) FROM payouts p WHERE p.merchant_id = b.merchant_id
                   AND p.currency = b.currency
                   AND p.status IN ('requires_approval', 'pending', 'in_transit')), 0) AS BIGINT)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            unreserved, 0,
            "reserved balances differ from the payouts on their way"
        );
        // Each payout's ledger: out once; back once if it failed, was
        // canceled or came back; nothing else.
        let unexplained: i64 = sqlx::query_scalar(
            "SELECT CAST(count(*) AS BIGINT) FROM payouts p WHERE CAST(coalesce(
                (SELECT sum(net) FROM balance_transactions t WHERE t.payout_id = p.id
                   AND t.type LIKE 'payout%'), 0) AS BIGINT)
                <> CASE WHEN p.status IN ('failed', 'canceled', 'returned') THEN 0 ELSE -p.amount END
                OR (SELECT count(*) FROM balance_transactions t WHERE t.type = 'payout' AND t.source_id = p.id) <> 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(unexplained, 0, "payouts whose ledger rows do not add up");
        pool.close().await;
    }

    /// Runs a counting query on the test's own database.
    pub async fn count(&self, sql: &str) -> i64 {
        count_in(&self.database_url, sql).await
    }

    /// Everything the database holds, as text: every byte of a SQLite file,
    /// its WAL and shared memory; every row of every PostgreSQL table.
    pub async fn stored_text(&self) -> String {
        stored_text(&self.database_url, self.dir.path()).await
    }

    /// A fresh session of another merchant, made with its own key.
    pub async fn session_of(&self, merchant: &Credentials) -> CheckoutSession {
        let response = self
            .post_as(
                &merchant.secret_key,
                "/v1/checkout/sessions",
                &session_body(),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn create_session(&self) -> CheckoutSession {
        self.create_session_with(session_body()).await
    }

    pub async fn create_session_with(&self, body: Value) -> CheckoutSession {
        let response = self.post("/v1/checkout/sessions", &body).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// A session paid with 4242…, captured at once or (manual) only authorised.
    pub async fn paid_payment(&self, amount: i64, manual: bool) -> kasse_core::api::Payment {
        let mut body = session_body();
        body["amount"] = json!(amount);
        if manual {
            body["capture_method"] = json!("manual");
        }
        let session = self.create_session_with(body).await;
        let response = self.confirm(&session, &good_card("4242424242424242")).await;
        assert_eq!(response.status(), 200);
        let confirmed: Value = response.json().await.unwrap();
        self.payment(confirmed["payment_id"].as_str().unwrap())
            .await
    }

    pub async fn payment(&self, id: &str) -> kasse_core::api::Payment {
        let response = self.get(&format!("/v1/payments/{id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn pay_get(&self, session: &CheckoutSession) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/v1/pay/{}", session.id)))
            .header(CLIENT_SECRET_HEADER, &session.client_secret)
            .send()
            .await
            .unwrap()
    }

    pub async fn confirm(&self, session: &CheckoutSession, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/v1/pay/{}/confirm", session.id)))
            .header(CLIENT_SECRET_HEADER, &session.client_secret)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

async fn database(database_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&kasse_server::config::database_url(database_url))
        .await
        .unwrap()
}

/// Runs a counting query on a database, behind Kasse's back.
pub async fn count_in(database_url: &str, sql: &str) -> i64 {
    let pool = database(database_url).await;
    let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// Everything a database holds, as text: for a SQLite database, every byte
/// of every file in `dir` (the database, its WAL and shared memory); for
/// PostgreSQL, every row of every table.
pub async fn stored_text(database_url: &str, dir: &std::path::Path) -> String {
    if !database_url.starts_with("postgres") {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                bytes.extend(std::fs::read(path).unwrap());
            }
        }
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut text = String::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" AS t"))
                .fetch_all(&pool)
                .await
                .unwrap();
        text.extend(rows.into_iter().map(|r| r + "\n"));
    }
    pool.close().await;
    text
}

/// Reads an error answer and checks its status and code; returns the detail.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> ErrorBody {
    assert_eq!(response.status(), status, "expected {status} {code}");
    let body: ErrorBody = response.json().await.expect("errors are JSON");
    assert_eq!(body.error.code.as_str(), code, "{body:?}");
    assert!(!body.error.message.is_empty());
    body
}

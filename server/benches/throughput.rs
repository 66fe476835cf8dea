//! `make bench`: how many checkout sessions and payments Kasse takes per
//! second and the latency it adds, each beside a bare axum handler that
//! writes one row of the same size to the same database; how fast webhooks
//! go out; and what the payment page weighs. One table, in Markdown, so that
//! BENCHMARKS.md can carry it as printed.
//!
//! wrk (Debian's) drives the release `kasse` binary over loopback with
//! `bench/kasse.lua`: once as fast as 32 connections go (the saturation
//! rate), then at half that rate on a fixed schedule (an open model: a
//! request is due every 1/rate seconds whether or not the last was
//! answered). The baseline is driven the same way at the same offered rate,
//! so "added" latency compares like with like. BENCHMARKS.md explains the
//! method and what the figures mean.
//!
//! `KASSE_BENCH_SECONDS` sets each run's length (8);
//! `KASSE_BENCH_POSTGRES_URL` the PostgreSQL server (127.0.0.1:5432), where a
//! database is created for the run and dropped after it.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use axum::extract::State;
use axum::http::StatusCode;
use flate2::Compression;
use flate2::write::GzEncoder;
use kasse_server::ids::new_id;
use kasse_server::secrets::ServerSecret;
use kasse_server::store::{Dialect, Store, open_pool};
use kasse_testkit::process::Serve;
use kasse_testkit::{Kasse, Receiver, any_port, create_merchant, postgres};
use serde::Deserialize;
use serde_json::json;
use sqlx::AnyPool;
use sqlx::Row;

/// The server secret of every run: the figures do not depend on it.
const SERVER_SECRET: &str = "kasse-bench-server-secret-0123456789abcdef";
/// Connections for the saturation runs, and for the paced runs (more, so
/// that a free one is there when a request falls due).
const SATURATION_CONNECTIONS: u32 = 32;
const PACED_CONNECTIONS: u32 = 64;
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let version = Command::new("wrk").arg("-v").output().map_err(|_| {
        anyhow::anyhow!("wrk is not installed: `make bench` installs it (Debian's package wrk)")
    })?;
    let wrk_version = String::from_utf8_lossy(&version.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_string();
    let seconds: u64 = std::env::var("KASSE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let scratch = tempfile::tempdir()?;
    let bench = Bench {
        run_for: Duration::from_secs(seconds),
        scratch: scratch.path().to_path_buf(),
    };

    eprintln!("==> SQLite");
    let sqlite_url = format!("sqlite://{}", scratch.path().join("kasse.db").display());
    let sqlite = bench.store("SQLite", &sqlite_url).await;
    eprintln!("==> PostgreSQL");
    let server = std::env::var("KASSE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let database = postgres::fresh_database_at(&server).await;
    let postgres = bench.store("PostgreSQL", &database).await;
    postgres::drop_database(&database).await;

    println!();
    println!(
        "Kasse {} · {} · wrk {wrk_version}, {seconds} s a run · {}",
        env!("CARGO_PKG_VERSION"),
        machine(),
        today()
    );
    println!();
    print_table(&[("SQLite", &sqlite), ("PostgreSQL", &postgres)]);
    for (name, figures) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        match figures {
            Ok(f) => {
                for note in &f.notes {
                    println!("- {name}: {note}");
                }
            }
            Err(e) => println!("- {name}: not measured: {e:#}"),
        }
    }
    Ok(())
}

/// What one wrk run reports (the `done` function of bench/kasse.lua).
#[derive(Debug, Clone, Deserialize)]
struct Run {
    requests: u64,
    duration_us: u64,
    errors: u64,
    status_errors: u64,
    p50_us: u64,
    p99_us: u64,
    p999_us: u64,
    late: u64,
    exhausted: u64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }

    /// Why these figures should not be trusted, if they should not.
    fn flaws(&self) -> Vec<String> {
        let mut flaws = Vec::new();
        if self.errors + self.status_errors > 0 {
            flaws.push(format!(
                "{} of {} requests failed ({} with an HTTP error status)",
                self.errors + self.status_errors,
                self.requests,
                self.status_errors
            ));
        }
        if self.exhausted > 0 {
            flaws.push(format!("ran out of open sessions {} times", self.exhausted));
        }
        // Sent late because every connection was busy: the queueing behind
        // them is not in the figures. A handful is noise.
        if self.late * 1000 > self.requests {
            flaws.push(format!(
                "{} of {} requests left late (all connections busy), so p99.9 understates queueing",
                self.late, self.requests
            ));
        }
        flaws
    }
}

/// A paced run beside the baseline at the same offered rate.
struct Paced {
    offered: f64,
    kasse: Run,
    baseline: Run,
}

impl Paced {
    fn added_p99_ms(&self) -> f64 {
        (self.kasse.p99_us as f64 - self.baseline.p99_us as f64) / 1000.0
    }
}

struct Figures {
    row_bytes: usize,
    baseline: Run,
    /// The second reference: the rows of a paid session, in the two
    /// transactions a confirm needs at least.
    paid_reference: Run,
    create: Run,
    create_paced: Paced,
    confirm: Run,
    confirm_paced: Paced,
    webhooks_per_second: f64,
    webhooks_draining: f64,
    webhook_p50_ms: f64,
    webhook_p99_ms: f64,
    /// One attempt's HTTP round trip, over every run.
    send_p50_ms: f64,
    send_p99_ms: f64,
    database: String,
    notes: Vec<String>,
}

struct Bench {
    run_for: Duration,
    scratch: PathBuf,
}

impl Bench {
    async fn store(&self, name: &str, url: &str) -> anyhow::Result<Figures> {
        let dir = self.scratch.join(name);
        std::fs::create_dir_all(&dir)?;
        let binary = Path::new(env!("CARGO_BIN_EXE_kasse"));
        let secret_key = create_merchant(
            binary,
            url,
            Some(SERVER_SECRET),
            "Bench shop",
            "http://127.0.0.1",
        )?;
        let receiver = Receiver::start().await;
        let log = dir.join("kasse.log");
        let static_dir = Path::new(ROOT).join("dist").display().to_string();
        let kasse = Kasse::serve(Serve {
            binary,
            database: url,
            secret: Some(SERVER_SECRET),
            addr: any_port(),
            log: &log,
            args: &[
                "--static-dir",
                &static_dir,
                // One client address makes every confirm here.
                "--confirms-per-minute",
                "4000000000",
                "--webhook-allow-private",
            ],
            env: &[],
        })
        .await?;
        if webhooks_on() {
            let endpoint = reqwest::Client::new()
                .post(format!("{}/v1/webhook_endpoints", kasse.base))
                .bearer_auth(&secret_key)
                .json(&json!({ "url": receiver.url("/hooks") }))
                .send()
                .await?;
            ensure!(
                endpoint.status().is_success(),
                "could not add the webhook endpoint: {}",
                endpoint.text().await?
            );
        }
        let (pool, dialect) = open_pool(url).await?;
        let store = kasse_server::store::connect(
            url,
            &ServerSecret::new(SERVER_SECRET.as_bytes().to_vec()),
        )
        .await?;
        let database = database_version(&pool, dialect).await?;

        let session_body = dir.join("session.json");
        std::fs::write(
            &session_body,
            json!({
                "amount": 1250,
                "currency": "usd",
                "success_url": "http://127.0.0.1/thanks?cart=7",
                "cancel_url": "http://127.0.0.1/cart",
                "order_reference": "order-1001",
                "customer_email": "ada@example.com",
                "metadata": {"cart": "7"},
            })
            .to_string(),
        )?;
        let sessions_url = format!("{}/v1/checkout/sessions", kasse.base);
        let auth = format!("Authorization: Bearer {secret_key}");
        let post_headers = [auth.as_str(), "Content-Type: application/json"];

        eprintln!("    creating checkout sessions, as fast as they go");
        let create = self
            .wrk(&sessions_url, &post_headers, "post", 0.0, &session_body)
            .await?;
        eprintln!("    creating checkout sessions at half that rate");
        let create_paced = self
            .wrk(
                &sessions_url,
                &post_headers,
                "post",
                create.rate() / 2.0,
                &session_body,
            )
            .await?;

        let sessions = dir.join("sessions");
        let confirm_url = format!("{}/v1/pay", kasse.base);
        eprintln!("    confirming payments, as fast as they go");
        open_sessions(&pool, store.as_ref(), &sessions).await?;
        let started = wall_ms();
        let confirm = self
            .wrk(&confirm_url, &[], "confirm", 0.0, &sessions)
            .await?;
        let ended = wall_ms();
        let webhooks_per_second = receiver
            .arrivals()
            .values()
            .filter(|&&at| at >= started && at <= ended)
            .count() as f64
            / ((ended - started) / 1000.0);
        // What is still pending from the saturation run gets 20 seconds.
        let drain_started = Instant::now();
        while pending(&pool).await? > 0 && drain_started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let set_aside = set_aside_backlog(&pool).await?;
        // What the worker can do alone: every delivery of that run made due
        // again at once, as after an endpoint's outage, and drained with
        // nothing else running (for at most 60 seconds).
        let backlog = sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_ms = 0, lease_until_ms = NULL
             WHERE status = 'delivered'",
        )
        .execute(&pool)
        .await?
        .rows_affected() as i64;
        let drain_started = Instant::now();
        let mut left = backlog;
        while left > 0 && drain_started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            left = pending(&pool).await?;
        }
        let webhooks_draining = (backlog - left) as f64 / drain_started.elapsed().as_secs_f64();

        eprintln!("    confirming payments at half that rate");
        open_sessions(&pool, store.as_ref(), &sessions).await?;
        let started = wall_ms();
        let confirm_paced = self
            .wrk(
                &confirm_url,
                &[],
                "confirm",
                confirm.rate() / 2.0,
                &sessions,
            )
            .await?;
        let ended = wall_ms();
        drain(&pool, &log).await?;
        let received = receiver.arrivals();
        let mut waits: Vec<f64> = deliveries(&pool, started, ended)
            .await?
            .iter()
            .filter_map(|(event, committed)| received.get(event).map(|r| r - committed))
            .collect();
        ensure!(
            waits.len() >= usize::from(webhooks_on()),
            "no webhook arrived"
        );
        waits.sort_by(f64::total_cmp);

        let mut sends: Vec<f64> = sqlx::query_scalar::<_, i64>(
            "SELECT latency_ms FROM delivery_attempts WHERE http_status IS NOT NULL",
        )
        .fetch_all(&pool)
        .await?
        .into_iter()
        .map(|ms| ms as f64)
        .collect();
        sends.sort_by(f64::total_cmp);
        let row_bytes = session_row_bytes(&pool, dialect).await?;
        drop(kasse);
        if let Ok(keep) = std::env::var("KASSE_BENCH_KEEP_LOGS") {
            std::fs::copy(&log, Path::new(&keep).join(format!("kasse-{name}.log")))?;
        }
        drop(receiver);

        eprintln!("    the baseline: one {row_bytes}-byte row a request");
        let baseline_server = start_baseline(url).await?;
        let row_body = dir.join("row.txt");
        std::fs::write(&row_body, "x".repeat(row_bytes - BASELINE_FIXED_BYTES))?;
        let rows_url = format!("http://{}/rows", baseline_server.addr);
        let baseline = self.wrk(&rows_url, &[], "post", 0.0, &row_body).await?;
        eprintln!("    the second reference: a paid session's rows, in two transactions");
        let paid_url = format!("http://{}/paid", baseline_server.addr);
        let paid_reference = self.wrk(&paid_url, &[], "post", 0.0, &row_body).await?;
        let create_paced = Paced {
            offered: create.rate() / 2.0,
            baseline: self
                .wrk(&rows_url, &[], "post", create.rate() / 2.0, &row_body)
                .await?,
            kasse: create_paced,
        };
        let confirm_paced = Paced {
            offered: confirm.rate() / 2.0,
            baseline: self
                .wrk(&rows_url, &[], "post", confirm.rate() / 2.0, &row_body)
                .await?,
            kasse: confirm_paced,
        };
        drop(baseline_server);

        let mut notes = Vec::new();
        if set_aside > 0 {
            notes.push(format!(
                "{set_aside} webhook deliveries were still pending 20 s after the saturation \
                 run; they were set aside so that the paced run started without a backlog"
            ));
        }
        for (what, run) in [
            ("baseline at saturation", &baseline),
            ("paid-session reference", &paid_reference),
            ("sessions at saturation", &create),
            ("sessions at half", &create_paced.kasse),
            ("baseline beside sessions", &create_paced.baseline),
            ("confirms at saturation", &confirm),
            ("confirms at half", &confirm_paced.kasse),
            ("baseline beside confirms", &confirm_paced.baseline),
        ] {
            for flaw in run.flaws() {
                notes.push(format!("{what}: {flaw}"));
            }
        }
        Ok(Figures {
            row_bytes,
            baseline,
            paid_reference,
            create,
            create_paced,
            confirm,
            confirm_paced,
            webhooks_per_second,
            webhooks_draining,
            webhook_p50_ms: percentile(&waits, 50.0),
            webhook_p99_ms: percentile(&waits, 99.0),
            send_p50_ms: percentile(&sends, 50.0),
            send_p99_ms: percentile(&sends, 99.0),
            database,
            notes,
        })
    }

    /// One wrk run with bench/kasse.lua; wrk runs off the async threads so
    /// that an in-process server keeps both of them.
    async fn wrk(
        &self,
        url: &str,
        headers: &[&str],
        mode: &str,
        rate: f64,
        file: &Path,
    ) -> anyhow::Result<Run> {
        let connections = if rate > 0.0 {
            PACED_CONNECTIONS
        } else {
            SATURATION_CONNECTIONS
        };
        let mut command = Command::new("wrk");
        command
            .args(["-t1", "-c", &connections.to_string()])
            .args(["-d", &format!("{}s", self.run_for.as_secs())])
            .args(["--timeout", "10s", "-s"])
            .arg(Path::new(ROOT).join("bench/kasse.lua"));
        for header in headers {
            command.args(["-H", header]);
        }
        command
            .arg(url)
            .args(["--", mode, &format!("{rate:.3}")])
            .arg(file);
        let output = tokio::task::spawn_blocking(move || command.output()).await??;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("KASSE-BENCH "))
            .with_context(|| {
                format!(
                    "wrk printed no figures:\n{stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
        Ok(serde_json::from_str(line)?)
    }
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        * 1000.0
}

/// `KASSE_BENCH_WEBHOOKS=0` leaves the webhook endpoint out, to show what
/// delivering costs the rest.
fn webhooks_on() -> bool {
    std::env::var("KASSE_BENCH_WEBHOOKS").map_or(true, |v| v != "0")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Serves an axum app on a free port until dropped.
struct Served {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(app: axum::Router) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serves");
        });
        Ok(Self { addr, task })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A baseline row's bytes besides the body: an id like Kasse's and a
/// timestamp.
const BASELINE_FIXED_BYTES: usize = 28 + 10;

/// Serves the bare handlers Kasse is measured against, through a pool
/// opened as Kasse's store opens its own. `/rows` takes the body and
/// inserts it as one row. `/paid` writes what a paid session writes, with
/// the body as each row's payload, in the two transactions a confirm needs
/// at least: the session's lease (which must be on disk before the
/// acquirer is asked), then the payment, the session's completion, two
/// events and their two deliveries (one endpoint) together.
async fn start_baseline(url: &str) -> anyhow::Result<Served> {
    let (pool, _) = open_pool(url).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_rows \
         (id TEXT PRIMARY KEY, created BIGINT NOT NULL, payload TEXT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let insert = "INSERT INTO bench_rows (id, created, payload) VALUES ($1, $2, $3)";
    let paid = move |State(pool): State<AnyPool>, body: String| async move {
        let created = (wall_ms() / 1000.0) as i64;
        let session = new_id("row");
        let write = async {
            sqlx::query(insert)
                .bind(&session)
                .bind(created)
                .bind(&body)
                .execute(&pool)
                .await?;
            let mut tx = pool.begin().await?;
            for _ in 0..5 {
                sqlx::query(insert)
                    .bind(new_id("row"))
                    .bind(created)
                    .bind(&body)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE bench_rows SET created = created + 1 WHERE id = $1")
                .bind(&session)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        match write.await {
            Ok(()) => Ok((StatusCode::OK, axum::Json(json!({ "id": session })))),
            Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
        }
    };
    let app = axum::Router::new()
        .route("/paid", axum::routing::post(paid))
        .route(
            "/rows",
            axum::routing::post(
                move |State(pool): State<AnyPool>, body: String| async move {
                    let id = new_id("row");
                    let created = (wall_ms() / 1000.0) as i64;
                    match sqlx::query(insert)
                        .bind(&id)
                        .bind(created)
                        .bind(body)
                        .execute(&pool)
                        .await
                    {
                        Ok(_) => Ok((StatusCode::CREATED, axum::Json(json!({ "id": id })))),
                        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
                    }
                },
            ),
        )
        .with_state(pool);
    Served::start(app).await
}

/// Writes the sessions still open and never tried, "id client_secret" a line, for wrk's
/// one thread (`FILE.0`).
async fn open_sessions(pool: &AnyPool, store: &dyn Store, path: &Path) -> anyhow::Result<()> {
    // Not one whose confirm was cut off when wrk stopped: it stays held
    // for a minute.
    let rows = sqlx::query(
        "SELECT id FROM checkout_sessions WHERE status = 'open' AND confirm_lease IS NULL",
    )
    .fetch_all(pool)
    .await?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path.with_extension("0"))?);
    for row in rows {
        // The client secret is sealed at rest: read through the store.
        let id: String = row.try_get(0)?;
        let session = store
            .session_for_payer(&id)
            .await?
            .context("a listed session is gone")?;
        writeln!(file, "{id} {}", session.client_secret)?;
    }
    Ok(())
}

async fn pending(pool: &AnyPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
            .fetch_one(pool)
            .await?
            .try_get(0)?,
    )
}

/// Marks the deliveries still pending as given up, and says how many.
async fn set_aside_backlog(pool: &AnyPool) -> anyhow::Result<u64> {
    Ok(
        sqlx::query("UPDATE deliveries SET status = 'failed' WHERE status = 'pending'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Waits until no webhook delivery is pending.
async fn drain(pool: &AnyPool, log: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let pending = pending(pool).await?;
        if pending == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            let problems: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("ERROR") || l.contains("WARN"))
                .take(5)
                .collect();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            let stuck: Vec<String> = sqlx::query(
                "SELECT d.id, d.attempts, d.lease_until_ms, count(a.delivery_id) AS recorded
                 FROM deliveries AS d LEFT JOIN delivery_attempts AS a ON a.delivery_id = d.id
                 WHERE d.status = 'pending' GROUP BY d.id, d.attempts, d.lease_until_ms",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                format!(
                    "{} attempts {} lease {:?} attempts recorded {}",
                    row.get::<String, _>(0),
                    row.get::<i64, _>(1),
                    row.get::<Option<i64>, _>(2),
                    row.get::<i64, _>(3)
                )
            })
            .collect();
            bail!(
                "{pending} webhook deliveries still pending after three minutes:\n{}\n\
                 Kasse's warnings begin:\n{}\nKasse's log ends:\n{}",
                stuck.join("\n"),
                problems.join("\n"),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The deliveries committed between `from` and `to` (Unix ms): event id →
/// commit time.
async fn deliveries(pool: &AnyPool, from: f64, to: f64) -> anyhow::Result<HashMap<String, f64>> {
    let rows = sqlx::query(
        "SELECT event_id, created_ms FROM deliveries WHERE created_ms >= $1 AND created_ms <= $2",
    )
    .bind(from.floor() as i64)
    .bind(to.ceil() as i64)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get::<i64, _>(1)? as f64)))
        .collect()
}

/// The average stored size of a checkout session: the sum of its columns
/// as text, which is what the baseline's row is made as large as.
async fn session_row_bytes(pool: &AnyPool, dialect: Dialect) -> anyhow::Result<usize> {
    let columns = match dialect {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info('checkout_sessions')",
        Dialect::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_name = 'checkout_sessions'"
        }
    };
    let columns: Vec<String> = sqlx::query(columns)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    let sum = columns
        .iter()
        .map(|c| format!("COALESCE(LENGTH(CAST({c} AS TEXT)), 0)"))
        .collect::<Vec<_>>()
        .join(" + ");
    let average: f64 = sqlx::query(&format!(
        "SELECT CAST(AVG({sum}) AS DOUBLE PRECISION) FROM checkout_sessions"
    ))
    .fetch_one(pool)
    .await?
    .try_get(0)?;
    Ok(average.round() as usize)
}

async fn database_version(pool: &AnyPool, dialect: Dialect) -> anyhow::Result<String> {
    let (query, name) = match dialect {
        Dialect::Sqlite => ("SELECT sqlite_version()", "SQLite"),
        Dialect::Postgres => ("SHOW server_version", "PostgreSQL"),
    };
    let version: String = sqlx::query(query).fetch_one(pool).await?.try_get(0)?;
    let version = version.split_whitespace().next().unwrap_or("").to_string();
    Ok(format!("{name} {version}"))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let kb: u64 = info
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches(" kB")
                .parse()
                .ok()?;
            Some(format!("{} GiB", (kb as f64 / 1048576.0).round()))
        })
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {memory}")
}

fn today() -> String {
    let (y, m, d) = kasse_core::time::civil_date((wall_ms() / 1000.0) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

fn gzipped(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory").len()
}

/// A bundle's files in `dir` (not its subfolders) gzipped, by kind.
fn bundle(dir: &Path) -> HashMap<&'static str, usize> {
    let mut by_kind: HashMap<&str, usize> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for path in entries.flatten().map(|e| e.path()) {
            let kind = match path.extension().and_then(|e| e.to_str()) {
                Some("wasm") => "wasm",
                Some("js") => "JS",
                Some("css") => "CSS",
                _ => continue,
            };
            if let Ok(bytes) = std::fs::read(&path) {
                *by_kind.entry(kind).or_default() += gzipped(&bytes);
            }
        }
    }
    by_kind
}

/// The payment page's files by kind, gzipped; the card update page and the
/// terminal in all; and checkout.js.
fn front_end() -> Vec<(String, Option<usize>, &'static str)> {
    let mut sizes: Vec<(String, Option<usize>, &'static str)> = Vec::new();
    let dist = Path::new(ROOT).join("dist");
    let page = bundle(&dist);
    let built = !page.is_empty();
    for kind in ["wasm", "JS", "CSS"] {
        sizes.push((
            format!("payment page {kind}, gzipped"),
            built.then(|| page.get(kind).copied().unwrap_or(0)),
            "",
        ));
    }
    sizes.push((
        "payment page in all, gzipped".into(),
        built.then(|| page.values().sum()),
        "≤ 110 KB",
    ));
    for (name, dir) in [
        ("card update page", "update"),
        ("merchant terminal", "terminal"),
    ] {
        let files = bundle(&dist.join(dir));
        sizes.push((
            format!("{name} in all, gzipped"),
            (!files.is_empty()).then(|| files.values().sum()),
            "",
        ));
    }
    sizes.push((
        "checkout.js, gzipped".into(),
        Some(gzipped(kasse_server::http::CHECKOUT_JS.as_bytes())),
        "< 3 KiB",
    ));
    sizes
}

fn per_second(rate: f64) -> String {
    format!("{rate:.0}/s")
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn latencies(run: &Run) -> String {
    format!(
        "{} / {} / {} ms",
        ms(run.p50_us),
        ms(run.p99_us),
        ms(run.p999_us)
    )
}

fn mark(met: bool) -> &'static str {
    if met { "✓" } else { "✗ (short)" }
}

type Cell = Box<dyn Fn(&Figures) -> String>;

/// The rows for one operation: its saturation rate against the baseline's,
/// and its latency at half that rate beside the baseline's.
fn operation_rows(name: &str, op: fn(&Figures) -> (&Run, &Paced)) -> Vec<(String, Cell, &str)> {
    vec![
        (
            format!("{name}, saturation"),
            Box::new(move |f| per_second(op(f).0.rate())),
            "",
        ),
        (
            "  ÷ baseline".into(),
            Box::new(move |f| {
                let r = op(f).0.rate() / f.baseline.rate();
                format!("{:.1} % {}", r * 100.0, mark(r >= 0.7))
            }),
            "≥ 70 %",
        ),
        (
            "  at half saturation: offered".into(),
            Box::new(move |f| per_second(op(f).1.offered)),
            "",
        ),
        (
            "  Kasse p50 / p99 / p99.9".into(),
            Box::new(move |f| latencies(&op(f).1.kasse)),
            "",
        ),
        (
            "  baseline p50 / p99 / p99.9".into(),
            Box::new(move |f| latencies(&op(f).1.baseline)),
            "",
        ),
        (
            "  p99 added".into(),
            Box::new(move |f| {
                let added = op(f).1.added_p99_ms();
                format!("{added:+.2} ms {}", mark(added < 5.0))
            }),
            "< 5 ms",
        ),
    ]
}

fn print_table(stores: &[(&str, &anyhow::Result<Figures>)]) {
    type Plain = fn(&Figures) -> String;
    let plain = |label: &str, cell: Plain, aim: &'static str| -> (String, Cell, &'static str) {
        (label.to_string(), Box::new(cell), aim)
    };
    let mut rows = vec![
        plain("database", |f| f.database.clone(), ""),
        plain(
            "baseline: insert one row, saturation",
            |f| {
                format!(
                    "{} ({} B a row)",
                    per_second(f.baseline.rate()),
                    f.row_bytes
                )
            },
            "",
        ),
    ];
    rows.extend(operation_rows("create checkout session", |f| {
        (&f.create, &f.create_paced)
    }));
    rows.extend(operation_rows(
        "confirm payment (sandbox, no latency)",
        |f| (&f.confirm, &f.confirm_paced),
    ));
    rows.extend([
        plain(
            "  reference: a paid session's rows in two transactions",
            |f| per_second(f.paid_reference.rate()),
            "",
        ),
        plain(
            "  confirm ÷ that reference",
            |f| {
                format!(
                    "{:.1} %",
                    f.confirm.rate() / f.paid_reference.rate() * 100.0
                )
            },
            "",
        ),
    ]);
    rows.extend([
        plain(
            "webhooks delivered, confirming at saturation",
            |f| per_second(f.webhooks_per_second),
            "",
        ),
        plain(
            "webhooks delivered, draining a backlog alone (the saturation run's, made due again)",
            |f| per_second(f.webhooks_draining),
            "",
        ),
        plain(
            "  one attempt's round trip, p50 / p99 (every run)",
            |f| format!("{:.1} / {:.1} ms", f.send_p50_ms, f.send_p99_ms),
            "",
        ),
        plain(
            "  commit → receiver's 2xx, p50 / p99 (confirms at half)",
            |f| format!("{:.1} / {:.1} ms", f.webhook_p50_ms, f.webhook_p99_ms),
            "",
        ),
    ]);
    print!("| measure |");
    for (name, _) in stores {
        print!(" {name} |");
    }
    println!(" aim |");
    println!("|---|{}---|", "---|".repeat(stores.len()));
    for (label, cell, aim) in rows {
        print!("| {label} |");
        for (_, figures) in stores {
            match figures {
                Ok(f) => print!(" {} |", cell(f)),
                Err(_) => print!(" — |"),
            }
        }
        println!(" {aim} |");
    }
    for (label, bytes, aim) in front_end() {
        let figure = bytes.map_or_else(
            || "not built (make frontend)".to_string(),
            |b| format!("{b} B ({:.1} KiB)", b as f64 / 1024.0),
        );
        print!("| {label} |");
        for i in 0..stores.len() {
            if i == 0 {
                print!(" {figure} |");
            } else {
                print!(" ″ |");
            }
        }
        println!(" {aim} |");
    }
}

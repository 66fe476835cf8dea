//! Readiness: `/readyz` follows the database, the schema and the workers,
//! while `/healthz` only says the process serves.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, good_card, spawn_app, spawn_app_with};

/// A TCP relay to PostgreSQL that the test can cut and restore, as if the
/// database server stopped and started again.
struct Gate {
    addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Gate {
    async fn open_on(addr: SocketAddr, target: SocketAddr) -> Self {
        let gate = Gate {
            addr,
            target,
            tasks: Arc::default(),
        };
        gate.open().await;
        gate
    }

    async fn open(&self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Refuses new connections and drops every open one.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn ready(app: &TestApp) -> (u16, Value) {
    let answer = app.http.get(app.url("/readyz")).send().await.unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

async fn wait_until(app: &TestApp, status: u16, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (now, body) = ready(app).await;
        if now == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz stayed {now}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_follows_postgresql_going_away_and_coming_back() {
    let real = crate::postgres::fresh_database().await;
    let mut url = reqwest::Url::parse(&real).unwrap();
    let target: SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .unwrap();
    let addr = crate::durability::free_addr();
    let gate = Gate::open_on(addr, target).await;
    url.set_port(Some(addr.port())).unwrap();
    let app = spawn_app_with(|c| {
        c.database_url = url.to_string();
        c.limits.sweep_interval = Duration::from_millis(200);
    })
    .await;
    let body = wait_until(&app, 200, Duration::from_secs(10)).await;
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["sweeper"], "ok");

    // PostgreSQL goes away: not ready within seconds, though alive.
    gate.cut();
    let started = Instant::now();
    let body = wait_until(&app, 503, Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_ne!(body["checks"]["database"], "ok", "{body}");
    assert!(
        body["reason"].as_str().unwrap().starts_with("database: "),
        "{body}"
    );
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // It comes back: ready again, and a payment goes through, no restart.
    gate.open().await;
    wait_until(&app, 200, Duration::from_secs(30)).await;
    let session = app.create_session().await;
    let paid = app.confirm(&session, &good_card("4242424242424242")).await;
    assert_eq!(paid.status(), 200);
    gate.cut();
}

#[tokio::test]
async fn readiness_names_missing_migrations() {
    let app = spawn_app().await;
    let body = wait_until(&app, 200, Duration::from_secs(10)).await;
    assert_eq!(body["status"], "ready");
    for check in ["database", "migrations", "sweeper", "webhooks"] {
        assert_eq!(body["checks"][check], "ok", "{body}");
    }
    // A database behind this build (as after restoring an old backup).
    app.execute(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .await;
    let (status, body) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(
        body["reason"],
        "migrations: 1 of this build's migrations are not applied; run `kasse migrate`"
    );
}

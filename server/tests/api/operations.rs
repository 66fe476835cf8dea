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

/// Every sample of a scrape as (family, labels, value; a histogram's
/// count), the whole output having been read by an OpenMetrics parser.
fn scrape(text: &str) -> Vec<(String, std::collections::HashMap<String, String>, f64)> {
    use openmetrics_parser::OpenMetricsValue;
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(text)
        .unwrap_or_else(|e| panic!("the exposition does not parse: {e:?}\n{text}"));
    let mut out = Vec::new();
    for family in parsed.families.values() {
        for sample in family.iter_samples() {
            let labels = sample
                .get_labelset()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let value = match &sample.value {
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                OpenMetricsValue::Gauge(v) | OpenMetricsValue::Unknown(v) => v.as_f64(),
                OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                _ => f64::NAN,
            };
            out.push((family.family_name.clone(), labels, value));
        }
    }
    assert!(!out.is_empty());
    out
}

fn sample(
    samples: &[(String, std::collections::HashMap<String, String>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
        .sum()
}

#[tokio::test]
async fn metrics_count_payments_webhooks_replays_and_refusals_without_ids() {
    let app = spawn_app_with(|c| c.limits.keyed_payments_per_merchant_per_minute = 1).await;
    let receiver = crate::receiver::Receiver::start().await;
    receiver.answer(&[500; 20]);
    let endpoint = app
        .post(
            "/v1/webhook_endpoints",
            &serde_json::json!({"url": receiver.url("/hooks")}),
        )
        .await;
    assert_eq!(endpoint.status(), 201);

    let session = app.create_session().await;
    let declined = app.confirm(&session, &good_card("4000000000000002")).await;
    assert_eq!(declined.status(), 402);
    let paid = app.confirm(&session, &good_card("4242424242424242")).await;
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    let payment = paid["payment_id"].as_str().unwrap().to_string();
    let refund = |key: &'static str| {
        app.http
            .post(app.url("/v1/refunds"))
            .bearer_auth(&app.merchant.secret_key)
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({"payment_id": payment, "amount": 100}))
            .send()
    };
    assert_eq!(refund("refund-1").await.unwrap().status(), 201);
    let replayed = refund("refund-1").await.unwrap();
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    let keyed = serde_json::json!({"amount": 500, "currency": "USD",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}});
    assert_eq!(app.post("/v1/payments", &keyed).await.status(), 201);
    assert_eq!(app.post("/v1/payments", &keyed).await.status(), 429);
    receiver
        .wait_for(Duration::from_secs(10), |got| got.len() >= 2)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = scrape(&text);
    let s = |name: &str, labels: &[(&str, &str)]| sample(&samples, name, labels);
    assert_eq!(
        s(
            "kasse_http_requests",
            &[
                ("route", "/v1/pay/{id}/confirm"),
                ("method", "POST"),
                ("status", "200")
            ]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        s(
            "kasse_http_requests",
            &[("route", "/v1/pay/{id}/confirm"), ("status", "402")]
        ),
        1.0
    );
    assert!(
        s(
            "kasse_http_request_duration_seconds",
            &[("route", "/v1/refunds")]
        ) >= 2.0
    );
    assert_eq!(
        s(
            "kasse_payments",
            &[("outcome", "failed"), ("decline_code", "card_declined")]
        ),
        1.0
    );
    assert_eq!(
        s(
            "kasse_payments",
            &[("outcome", "succeeded"), ("decline_code", "none")]
        ),
        2.0,
        "the page's payment and the keyed one"
    );
    assert_eq!(s("kasse_payment_changes", &[("kind", "refund")]), 1.0);
    assert_eq!(s("kasse_idempotent_replays", &[]), 1.0);
    assert_eq!(
        s("kasse_rate_limited", &[("limit", "keyed-merchant")]),
        1.0,
        "{text}"
    );
    assert!(
        s(
            "kasse_outbox_attempts",
            &[
                ("queue", "webhooks"),
                ("result", "retry"),
                ("reason", "http_5xx")
            ]
        ) >= 2.0,
        "{text}"
    );
    assert_eq!(
        s(
            "kasse_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert!(samples.iter().any(|(n, l, _)| n == "kasse_outbox_pending"
        && l.get("queue").map(String::as_str) == Some("emails")));
    assert!(s("kasse_db_pool_connections", &[]) >= 1.0);
    // No label holds an id, an email or a card.
    for (name, labels, _) in &samples {
        for value in labels.values() {
            for marker in ["pay_", "cs_", "re_", "evt_", "mer_", "@", "4242"] {
                assert!(!value.contains(marker), "{name} has a label {value}");
            }
        }
    }
}

#[tokio::test]
async fn metrics_can_ask_for_a_token() {
    let app = spawn_app_with(|c| c.metrics_token = Some("scrape-token-1".into())).await;
    let get = |token: Option<&str>| {
        let mut request = app.http.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("scrape-token-2")).await.unwrap().status(), 401);
    let ok = get(Some("scrape-token-1")).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("kasse_build_info"));
}

/// SIGTERM while fifty confirms are in flight: each finishes and is recorded,
/// and the process exits 0; with a short grace period it exits on time.
#[tokio::test]
async fn sigterm_lets_the_confirms_in_flight_finish_then_exits() {
    use crate::durability::{any_port, merchant, start_on};
    let dir = tempfile::tempdir().unwrap();
    let key = merchant(dir.path());
    let database = dir.path().join("kasse.db").display().to_string();
    let extra = [
        "--sandbox-latency-ms",
        "500",
        "--shutdown-grace-seconds",
        "20",
    ];
    let kasse = start_on(dir.path(), any_port(), &database, None, &extra).await;
    let http = reqwest::Client::new();
    let mut sessions = Vec::new();
    for _ in 0..50 {
        let made = http
            .post(format!("{}/v1/checkout/sessions", kasse.base))
            .bearer_auth(&key)
            .json(&crate::helpers::session_body())
            .send()
            .await
            .unwrap();
        sessions.push(
            made.json::<kasse_core::api::CheckoutSession>()
                .await
                .unwrap(),
        );
    }
    let confirms: Vec<_> = sessions
        .iter()
        .map(|s| {
            let request = http
                .post(format!("{}/v1/pay/{}/confirm", kasse.base, s.id))
                .header("Kasse-Client-Secret", &s.client_secret)
                .json(&good_card("4242424242424242"))
                .send();
            tokio::spawn(request)
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let exit = tokio::task::spawn_blocking(move || kasse.terminate())
        .await
        .unwrap()
        .expect("it exited");
    assert!(exit.success(), "{exit:?}");
    let mut paid = Vec::new();
    for confirm in confirms {
        let answer = confirm
            .await
            .unwrap()
            .expect("every confirm in flight was answered");
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        paid.push(body["payment_id"].as_str().unwrap().to_string());
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    // Each acknowledged payment is in the database, whole.
    let again = start_on(dir.path(), any_port(), &database, None, &[]).await;
    for id in &paid {
        let p: kasse_core::api::Payment = http
            .get(format!("{}/v1/payments/{id}", again.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(p.status, kasse_core::PaymentStatus::Succeeded);
    }
    let url = format!("sqlite://{database}");
    assert_eq!(
        crate::helpers::count_in(
            &url,
            "SELECT count(*) FROM checkout_sessions WHERE status = 'complete'"
        )
        .await,
        50
    );
    again.kill_9();

    // A request slower than the grace period does not hold the exit up.
    let slow = [
        "--sandbox-latency-ms",
        "5000",
        "--shutdown-grace-seconds",
        "1",
    ];
    let kasse = start_on(dir.path(), any_port(), &database, None, &slow).await;
    let s = {
        let made = http
            .post(format!("{}/v1/checkout/sessions", kasse.base))
            .bearer_auth(&key)
            .json(&crate::helpers::session_body())
            .send()
            .await
            .unwrap();
        made.json::<kasse_core::api::CheckoutSession>()
            .await
            .unwrap()
    };
    let pending = tokio::spawn(
        http.post(format!("{}/v1/pay/{}/confirm", kasse.base, s.id))
            .header("Kasse-Client-Secret", &s.client_secret)
            .json(&good_card("4242424242424242"))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let exit = tokio::task::spawn_blocking(move || kasse.terminate())
        .await
        .unwrap()
        .expect("it exited");
    let took = started.elapsed();
    assert!(exit.success(), "{exit:?}");
    assert!(took < Duration::from_secs(4), "it waited {took:?}");
    assert!(
        pending.await.unwrap().is_err(),
        "the cut request got no answer"
    );
}

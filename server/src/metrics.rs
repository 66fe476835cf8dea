//! `/metrics` in the Prometheus text format, with `prometheus-client`: one
//! registry per instance (no process-wide state). No label carries an id,
//! an email or anything a customer typed: routes are templates, codes come
//! from fixed lists.

use std::sync::Mutex;
use std::time::Instant;

use axum::extract::MatchedPath;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `succeeded`, `requires_capture`, `requires_action` or `failed`.
    pub outcome: String,
    /// A decline code from Kasse's fixed list, or `none`.
    pub decline_code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// `webhooks` or `emails`.
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub queue: String,
    /// `delivered`, `retry` or `gave_up`.
    pub result: String,
    /// `none`, `http_4xx`, `http_5xx`, `timeout`, `connect`, `refused_address`, `other`.
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
}

/// Every series Kasse keeps.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_latency: Family<RouteLabels, Histogram>,
    pub payments: Family<OutcomeLabels, Counter>,
    /// Captures, voids and refunds, by `kind`.
    pub changes: Family<KindLabels, Counter>,
    pub attempts: Family<AttemptLabels, Counter>,
    pub queue_pending: Family<QueueLabels, Gauge>,
    pub queue_oldest_seconds: Family<QueueLabels, Gauge>,
    pub idempotent_replays: Counter,
    pub rate_limited: Family<LimitLabels, Counter>,
    pub pool_size: Gauge,
    pub pool_idle: Gauge,
    pub pool_acquire_seconds: Histogram,
    /// Scrapes render one at a time.
    render: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kasse");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        let http_latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route template and method",
            http_latency.clone(),
        );
        let payments = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "payments",
            "Payment attempts, by outcome and decline code",
            payments.clone(),
        );
        let changes = Family::<KindLabels, Counter>::default();
        registry.register(
            "payment_changes",
            "Captures, voids and refunds made",
            changes.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "outbox_attempts",
            "Webhook and email attempts, by queue, result and failure reason",
            attempts.clone(),
        );
        let queue_pending = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "outbox_pending",
            "Webhook deliveries and emails waiting to be sent",
            queue_pending.clone(),
        );
        let queue_oldest_seconds = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "outbox_oldest_age_seconds",
            "How long the oldest waiting webhook delivery or email has waited",
            queue_oldest_seconds.clone(),
        );
        let idempotent_replays = Counter::default();
        registry.register(
            "idempotent_replays",
            "Answers replayed for a repeated Idempotency-Key",
            idempotent_replays.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by limit",
            rate_limited.clone(),
        );
        let pool_size = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open",
            pool_size.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and idle",
            pool_idle.clone(),
        );
        let pool_acquire_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "db_pool_acquire_seconds",
            "Time to get a database connection, measured at each scrape",
            pool_acquire_seconds.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        registry.register("build_info", "This build of Kasse", build);
        Self {
            registry,
            http_requests,
            http_latency,
            payments,
            changes,
            attempts,
            queue_pending,
            queue_oldest_seconds,
            idempotent_replays,
            rate_limited,
            pool_size,
            pool_idle,
            pool_acquire_seconds,
            render: Mutex::new(()),
        }
    }
}

impl Metrics {
    pub fn payment(&self, outcome: &str, decline: Option<&str>) {
        self.payments
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
                decline_code: decline.unwrap_or("none").to_string(),
            })
            .inc();
    }

    pub fn change(&self, kind: &str) {
        self.changes
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    pub fn attempt(&self, queue: &str, result: &str, reason: &str) {
        self.attempts
            .get_or_create(&AttemptLabels {
                queue: queue.to_string(),
                result: result.to_string(),
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn limited(&self, limit: &str) {
        self.rate_limited
            .get_or_create(&LimitLabels {
                limit: limit.to_string(),
            })
            .inc();
    }

    /// The text exposition of every series.
    pub fn render(&self) -> String {
        let _one = self.render.lock().expect("not poisoned");
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// What a failed attempt's error says, as one of a few reasons.
pub fn failure_reason(error: Option<&str>, status: Option<u16>) -> &'static str {
    match (error, status) {
        (None, _) => "none",
        (_, Some(s)) if (400..500).contains(&s) => "http_4xx",
        (_, Some(s)) if s >= 500 => "http_5xx",
        (Some(e), _) if e.contains("timed out") || e.contains("timeout") => "timeout",
        (Some(e), _) if e.contains("not allowed") || e.contains("private") => "refused_address",
        (Some(e), _) if e.contains("connect") => "connect",
        _ => "other",
    }
}

/// Counts every answer by its route template (`unmatched` for none),
/// method and status, with its latency.
pub async fn count(
    metrics: std::sync::Arc<Metrics>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .http_latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method: method.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

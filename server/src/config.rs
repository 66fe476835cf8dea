//! Everything `kasse serve` needs to know, gathered from flags and the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::secrets::ServerSecret;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one (tests).
    pub addr: SocketAddr,
    /// The URL customers reach this server at; defaults to `http://{addr}`.
    pub public_url: Option<String>,
    /// A path or `sqlite://` URL.
    pub database_url: String,
    /// The built front end (trunk's `dist/`).
    pub static_dir: PathBuf,
    pub secret: ServerSecret,
    /// Serve the demo shop at `/` with a demo merchant.
    pub demo: bool,
    /// Extra latency of the sandbox acquirer, for load tests.
    pub sandbox_latency: Duration,
    pub limits: Limits,
    pub webhooks: WebhookConfig,
}

/// How webhook deliveries are sent and retried.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The first retry waits this long; each next one twice as long…
    pub retry_base: Duration,
    /// …up to this, with ±20 % jitter.
    pub retry_max: Duration,
    /// After this long a delivery is given up (it stays listed and resendable).
    pub give_up_after: Duration,
    /// One attempt may take this long before it counts as failed.
    pub attempt_timeout: Duration,
    /// How often the worker looks for due deliveries.
    pub poll_interval: Duration,
    /// Deliveries in flight at once, in all.
    pub concurrency: usize,
    /// Deliveries in flight at once to one URL, so a slow endpoint cannot
    /// take every slot.
    pub per_url: usize,
    /// Let endpoints use private and link-local addresses (10.x, 192.168.x, …).
    pub allow_private_addresses: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(6 * 3600),
            give_up_after: Duration::from_secs(3 * 24 * 3600),
            attempt_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            concurrency: 32,
            per_url: 4,
            allow_private_addresses: false,
        }
    }
}

/// Guards against card testing and forgotten authorisations.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A session refuses to confirm after this many declined attempts.
    pub max_declined_attempts: u32,
    /// Confirm attempts one client address may make per minute.
    pub confirms_per_minute: u32,
    /// Authorisations not captured within this many seconds are voided.
    pub authorization_ttl: i64,
    /// How often the sweeper expires sessions and voids authorisations.
    pub sweep_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_declined_attempts: 5,
            confirms_per_minute: 20,
            authorization_ttl: 7 * 24 * 3600,
            sweep_interval: Duration::from_secs(30),
        }
    }
}

/// Turns `--database` into an sqlx URL: a bare path becomes `sqlite://path`.
pub fn database_url(input: &str) -> String {
    if input.contains("://") || input.starts_with("sqlite:") {
        input.to_string()
    } else {
        format!("sqlite://{input}")
    }
}

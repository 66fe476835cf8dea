//! Everything `kasse serve` needs to know, gathered from flags and the environment.

use std::net::{IpAddr, SocketAddr};
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
    /// This Kasse handles real money (`--live`): sandbox tools, such as
    /// balance top-ups, are refused.
    pub live: bool,
    /// `/metrics` asks for `Authorization: Bearer` this, if set.
    pub metrics_token: Option<String>,
    /// On SIGTERM or Ctrl-C, requests in flight get this long to finish.
    pub shutdown_grace: Duration,
    pub limits: Limits,
    pub webhooks: WebhookConfig,
    /// The card vault's keys; without them, cards cannot be saved.
    pub vault: Option<crate::vault::Vault>,
    /// The mail server; without it, Kasse sends no email.
    pub mail: Option<crate::mail::MailConfig>,
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
    /// Deliveries in flight at once for one merchant, whatever its URLs,
    /// so one merchant's slow endpoints cannot take every slot.
    pub per_merchant: usize,
    /// Let webhooks go to loopback, private and link-local addresses
    /// (127.x, 10.x, 192.168.x, 169.254.x, …) and over plain http there:
    /// for the demo and tests, never for a real deployment.
    pub allow_private_addresses: bool,
    /// PEM certificates trusted for webhook endpoints besides the web's roots.
    pub ca_file: Option<PathBuf>,
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
            per_merchant: 16,
            allow_private_addresses: false,
            ca_file: None,
        }
    }
}

/// Guards against card testing and forgotten authorisations.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A session refuses to confirm after this many declined attempts.
    pub max_declined_attempts: u32,
    /// Confirm attempts one client (IPv6: one /64) may make per minute.
    pub confirms_per_minute: u32,
    /// Declined card payments of one merchant per minute, from every
    /// session and channel, after which its card payments pause.
    pub declines_per_merchant_per_minute: u32,
    /// Keyed payments per minute, of one merchant and of one member of staff.
    pub keyed_payments_per_merchant_per_minute: u32,
    pub keyed_payments_per_staff_per_minute: u32,
    /// Emails of one payment link sent on request (`send`) per minute.
    pub link_sends_per_minute: u32,
    /// Terminal logins per minute, from one client and to one account.
    pub logins_per_address_per_minute: u32,
    pub logins_per_account_per_minute: u32,
    /// Password checks (argon2id, memory-hard) running at once.
    pub concurrent_password_checks: usize,
    /// Authorisations not captured within this many seconds are voided.
    pub authorization_ttl: i64,
    /// How often the sweeper expires sessions, voids authorisations and
    /// charges subscriptions' due cycles.
    pub sweep_interval: Duration,
    /// How long one instance holds a subscription cycle it is charging;
    /// after that, another instance asks the acquirer what became of it.
    pub subscription_lease: i64,
    /// Proxies (a load balancer) whose `X-Forwarded-For` names the client;
    /// from anyone else the header is ignored, so it cannot be forged.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Limits {
    /// The address a request comes from: the peer, or behind trusted
    /// proxies the right-most address they did not add themselves.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = forwarded_for
            .unwrap_or("")
            .split(',')
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.iter()
            .rev()
            .find(|hop| !self.trusted_proxies.contains(hop))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_declined_attempts: 5,
            confirms_per_minute: 20,
            declines_per_merchant_per_minute: 60,
            keyed_payments_per_merchant_per_minute: 60,
            keyed_payments_per_staff_per_minute: 20,
            link_sends_per_minute: 3,
            logins_per_address_per_minute: 10,
            logins_per_account_per_minute: 5,
            concurrent_password_checks: 4,
            authorization_ttl: 7 * 24 * 3600,
            sweep_interval: Duration::from_secs(30),
            subscription_lease: 120,
            trusted_proxies: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn behind(proxies: &[&str]) -> Limits {
        Limits {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..Limits::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let direct = behind(&[]);
        assert_eq!(
            direct.client_ip(ip("198.51.100.7"), Some("203.0.113.5")),
            ip("198.51.100.7")
        );

        let lb = behind(&["10.0.0.2", "10.0.0.3"]);
        // A forged first hop is ignored: the proxy appended the real one.
        assert_eq!(
            lb.client_ip(ip("10.0.0.2"), Some("1.2.3.4, 203.0.113.5")),
            ip("203.0.113.5")
        );
        assert_eq!(
            lb.client_ip(ip("10.0.0.2"), Some("203.0.113.5, 10.0.0.3")),
            ip("203.0.113.5")
        );
        assert_eq!(
            lb.client_ip(ip("10.0.0.2"), Some("10.0.0.3")),
            ip("10.0.0.3")
        );
        assert_eq!(lb.client_ip(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(lb.client_ip(ip("10.0.0.2"), Some("junk")), ip("10.0.0.2"));
        // Not from the proxy: the header is whatever the client wrote.
        assert_eq!(
            lb.client_ip(ip("198.51.100.7"), Some("203.0.113.5")),
            ip("198.51.100.7")
        );
    }
}

//! The application's state: configuration, the store, the acquirer and the
//! clock, shared by the HTTP handlers, the domain operations and the
//! background workers.

use std::sync::Arc;

use url::Url;

use crate::built::HostedPage;
use crate::clock::Clock;
use crate::config::{Limits, WebhookConfig};
use crate::processor::Processor;
use crate::secrets::ServerSecret;
use crate::store::Store;
use crate::vault::Vault;

/// What every handler, domain operation and background worker may use.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub processor: Arc<dyn Processor>,
    /// Where payouts go.
    pub rail: Arc<dyn crate::processor::PayoutRail>,
    /// Handles real money: sandbox tools are refused.
    pub live: bool,
    pub clock: Arc<dyn Clock>,
    pub secret: ServerSecret,
    /// Where customers reach Kasse: the base of every hosted page URL.
    pub public_url: Url,
    pub hosted_page: Arc<HostedPage>,
    /// The card update page, `/update/{id}`: its own bundle.
    pub update_page: Arc<HostedPage>,
    /// The merchant terminal's page, `/terminal`.
    pub terminal_page: Arc<HostedPage>,
    pub limits: Limits,
    /// Password checks running now; a login that finds none free is
    /// answered at once rather than queued.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    pub webhooks: WebhookConfig,
    /// Sends webhooks: TLS, no redirects, public addresses only unless allowed.
    pub webhook_client: reqwest::Client,
    /// Tells the delivery worker that new deliveries are due.
    pub wake_deliveries: Arc<tokio::sync::Notify>,
    /// Opens saved cards; none without `KASSE_VAULT_KEY`.
    pub vault: Option<Vault>,
    /// Sends email; none without `KASSE_SMTP_URL`.
    pub mail: Option<crate::mail::Mailer>,
    /// Tells the mail worker that new emails are due.
    pub wake_mail: Arc<tokio::sync::Notify>,
    /// When each background worker last went round its loop.
    pub heartbeats: Arc<Heartbeats>,
    /// What `/metrics` shows.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Unix milliseconds of each worker's last turn (0: not yet).
#[derive(Debug, Default)]
pub struct Heartbeats {
    pub sweeper: std::sync::atomic::AtomicI64,
    pub deliveries: std::sync::atomic::AtomicI64,
    pub mail: std::sync::atomic::AtomicI64,
}

impl Heartbeats {
    pub fn beat(which: &std::sync::atomic::AtomicI64) {
        which.store(crate::clock::now_ms(), std::sync::atomic::Ordering::Relaxed);
    }
}

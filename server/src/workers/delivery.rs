//! The webhook worker: takes due deliveries from the outbox under a lease,
//! signs and sends them, and records every attempt. A 2xx is delivered;
//! anything else is retried with exponential backoff and jitter until the
//! schedule runs out. Leases expire, so a delivery held by an instance that
//! died is taken up again: delivery is at least once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kasse_core::webhook::sign;
use rand::Rng;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::runtime::Handle;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use crate::compat;
use crate::config::WebhookConfig;
use crate::domain::events::now_ms;
use crate::outbound;
use crate::state::AppState;
use crate::store::{Attempt, AttemptResult, Claim, ClaimedDelivery, Leased, StoreError};

/// The wait before retry number `attempts` (0-based), with ±20 % jitter.
pub fn backoff(config: &WebhookConfig, attempts: i64) -> Duration {
    let exponent = attempts.clamp(0, 30) as u32;
    let base = config
        .retry_base
        .saturating_mul(2u32.saturating_pow(exponent));
    let capped = base.min(config.retry_max);
    capped.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
}

/// At most this many deliveries, leased, wait here for room.
const MAX_WAITING: usize = 4096;
/// At most this many are claimed from the outbox at once.
const CLAIM_AT_ONCE: usize = 256;

/// What this instance is sending now, by URL and by merchant, so that each
/// gets no more than its share of the slots.
#[derive(Default)]
struct InFlight {
    urls: HashMap<String, u32>,
    merchants: HashMap<String, u32>,
}

impl InFlight {
    fn has_room(&self, delivery: &ClaimedDelivery, config: &WebhookConfig) -> bool {
        let d = &delivery.delivery;
        self.urls.get(&d.url).copied().unwrap_or(0) < config.per_url as u32
            && self.merchants.get(&d.merchant_id).copied().unwrap_or(0) < config.per_merchant as u32
    }

    fn add(&mut self, delivery: &ClaimedDelivery) {
        *self.urls.entry(delivery.delivery.url.clone()).or_default() += 1;
        *self
            .merchants
            .entry(delivery.delivery.merchant_id.clone())
            .or_default() += 1;
    }

    fn remove(&mut self, url: &str, merchant_id: &str) {
        for (counts, key) in [(&mut self.urls, url), (&mut self.merchants, merchant_id)] {
            if let Some(n) = counts.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

/// The webhook worker, running on a thread of its own until stopped or
/// dropped (dropped: at once, its leases left to run out).
pub struct Running {
    stop: Option<tokio::sync::watch::Sender<bool>>,
    done: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Running {
    /// Stops taking deliveries, hands those it holds but has not started
    /// back to the outbox (another instance takes them at once), lets the
    /// attempts under way finish and records them; `grace` at most.
    pub async fn stop(mut self, grace: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(done) = self.done.take()
            && tokio::time::timeout(grace, done).await.is_err()
        {
            tracing::warn!("the webhook worker did not stop within the grace period");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

/// Starts the worker on a thread with a runtime of its own, so that a
/// delivery's steps are not scheduled behind every request the server is
/// answering: under load, each hop through a busy runtime took
/// milliseconds, and four deliveries in flight to a URL then made some
/// fifty a second. What it asks of the database still runs on the
/// server's runtime, which owns the connections.
pub fn start(ctx: AppState) -> Running {
    let server = tokio::runtime::Handle::current();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (finished, done) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("kasse-webhooks".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for webhooks");
            runtime.block_on(run(ctx, server, stopped));
            let _ = finished.send(());
        })
        .expect("a thread for webhooks");
    Running {
        stop: Some(stop),
        done: Some(done),
    }
}

/// Runs `work` on the server's runtime and waits for it.
async fn on_server<T, E>(
    server: &Handle,
    work: impl Future<Output = Result<T, E>> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    server.spawn(work).await.unwrap_or_else(|stopped| {
        Err(StoreError::Unavailable(format!("the server's runtime is stopping: {stopped}")).into())
    })
}

/// Deliveries ready to send, with the time by which each must start.
type Ready = (Instant, Vec<ClaimedDelivery>);

/// Runs until stopped. Deliveries come two ways: leased in the
/// transaction that wrote their event and handed over as it commits, so
/// they go out at once; and claimed from the outbox, for retries and for
/// whatever another instance or a crash left behind. Either way they wait
/// here, leased, for room at their URL and merchant. Two helpers fetch
/// them, so that sending never waits for the database.
async fn run(ctx: AppState, server: Handle, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let config = ctx.webhooks.clone();
    let http = ctx.webhook_client.clone();
    let slots = Arc::new(Semaphore::new(config.concurrency));
    let in_flight: Arc<Mutex<InFlight>> = Arc::default();
    let lease = config.attempt_timeout * 2 + Duration::from_secs(5);
    // After this, a delivery's lease could run out mid-attempt: it is left
    // to the outbox, which takes it when the lease has ended.
    let start_by = lease
        .saturating_sub(config.attempt_timeout)
        .saturating_sub(Duration::from_secs(1));
    let (fresh_sink, fresh) = mpsc::unbounded_channel();
    ctx.store
        .dispatch_after_commit(fresh_sink, lease.as_millis() as i64);
    let (ready_sink, mut ready) = mpsc::unbounded_channel::<Ready>();
    let waiting_now = Arc::new(AtomicUsize::new(0));
    let want_more = Arc::new(Notify::new());
    // Both helpers stop with the worker, and the worker waits for them
    // before it hands back what waits: a claim finishing after the hand-back
    // would lease again what the other instance should take at once.
    let handing_over = tokio::spawn(take_handed_over(
        ctx.clone(),
        server.clone(),
        fresh,
        ready_sink.clone(),
        start_by,
        stopped.clone(),
    ));
    let claiming = tokio::spawn(claim_from_outbox(Claimer {
        ctx: ctx.clone(),
        server: server.clone(),
        ready: ready_sink,
        in_flight: in_flight.clone(),
        waiting: waiting_now.clone(),
        want_more: want_more.clone(),
        lease,
        start_by,
        stopped: stopped.clone(),
    }));
    let (attempts, recorded) = record_attempts(ctx.clone(), &server);
    // Sends a delivery already counted in flight.
    let send = |delivery: ClaimedDelivery, permit: OwnedSemaphorePermit| {
        let (ctx, http, in_flight, attempts, server) = (
            ctx.clone(),
            http.clone(),
            in_flight.clone(),
            attempts.clone(),
            server.clone(),
        );
        tokio::spawn(async move {
            let attempt = deliver(&ctx, &server, &http, &delivery).await;
            let _ = attempts.send(attempt);
            in_flight
                .lock()
                .expect("not poisoned")
                .remove(&delivery.delivery.url, &delivery.delivery.merchant_id);
            drop(permit);
            // A slot is free: send the next at once.
            ctx.wake_deliveries.notify_one();
        });
    };
    let mut waiting: VecDeque<(Instant, ClaimedDelivery)> = VecDeque::new();
    let mut overflow = Vec::new();
    let take = |(by, batch): Ready,
                waiting: &mut VecDeque<(Instant, ClaimedDelivery)>,
                overflow: &mut Vec<String>| {
        for delivery in batch {
            if waiting.len() < MAX_WAITING {
                waiting.push_back((by, delivery));
            } else {
                overflow.push(delivery.delivery.id);
            }
        }
    };
    loop {
        while let Ok(batch) = ready.try_recv() {
            take(batch, &mut waiting, &mut overflow);
        }
        if !overflow.is_empty() {
            // Past what may wait here: back to the outbox at once.
            let (store, ids) = (ctx.store.clone(), std::mem::take(&mut overflow));
            server.spawn(async move {
                if let Err(error) = store.release_deliveries(&ids).await {
                    tracing::warn!(%error, "deliveries held back wait for their lease to end");
                }
            });
        }
        let now = Instant::now();
        waiting.retain(|(by, _)| *by > now);
        let mut chosen = Vec::new();
        {
            let mut counts = in_flight.lock().expect("not poisoned");
            let mut i = 0;
            while i < waiting.len() && chosen.len() < slots.available_permits() {
                if counts.has_room(&waiting[i].1, &config) {
                    let delivery = waiting.remove(i).expect("in range").1;
                    counts.add(&delivery);
                    chosen.push(delivery);
                } else {
                    i += 1;
                }
            }
        }
        for delivery in chosen {
            let permit = slots.clone().try_acquire_owned().expect("a free slot");
            send(delivery, permit);
        }
        waiting_now.store(waiting.len(), Ordering::Relaxed);
        if waiting.is_empty() && slots.available_permits() > 0 {
            want_more.notify_one();
        }
        tokio::select! {
            _ = tokio::time::sleep(config.poll_interval) => {}
            _ = ctx.wake_deliveries.notified() => {}
            Some(batch) = ready.recv() => take(batch, &mut waiting, &mut overflow),
            _ = stopped.wait_for(|s| *s) => break,
        }
    }
    // Stopping: once the helpers have stopped, what waits here goes back to
    // the outbox at once…
    let _ = tokio::join!(handing_over, claiming);
    while let Ok(batch) = ready.try_recv() {
        take(batch, &mut waiting, &mut overflow);
    }
    let mut ids = std::mem::take(&mut overflow);
    ids.extend(waiting.drain(..).map(|(_, d)| d.delivery.id));
    if !ids.is_empty() {
        let (store, count) = (ctx.store.clone(), ids.len());
        match on_server(&server, async move { store.release_deliveries(&ids).await }).await {
            Ok(()) => tracing::info!(deliveries = count, "stopping: deliveries handed back"),
            Err(error) => {
                tracing::warn!(%error, "stopping: deliveries wait for their lease to end")
            }
        }
    }
    // …the attempts under way finish, and every attempt is recorded.
    let _ = slots.acquire_many(config.concurrency as u32).await;
    drop(attempts);
    let _ = recorded.await;
}

/// Resolves what signs the deliveries handed over at commit, every
/// hand-over waiting in one trip to the server's runtime.
async fn take_handed_over(
    ctx: AppState,
    server: Handle,
    mut fresh: mpsc::UnboundedReceiver<Leased>,
    ready: mpsc::UnboundedSender<Ready>,
    start_by: Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        // Stopping, what was handed over and not yet taken still goes on,
        // for the worker to hand back with the rest.
        let (mut leased, stopping) = tokio::select! {
            leased = fresh.recv() => match leased {
                Some(leased) => (leased, false),
                None => return,
            },
            _ = stopped.wait_for(|s| *s) => match fresh.try_recv() {
                Ok(leased) => (leased, true),
                Err(_) => return,
            },
        };
        while let Ok(more) = fresh.try_recv() {
            leased.extend(more);
        }
        let by = Instant::now() + start_by;
        let store = ctx.store.clone();
        match on_server(&server, async move {
            store.ready_to_send(leased, now_ms()).await
        })
        .await
        {
            Ok(batch) => {
                if ready.send((by, batch)).is_err() {
                    return;
                }
            }
            // Their leases run out, and the outbox has them.
            Err(error) => tracing::warn!(%error, "deliveries wait for their lease to end"),
        }
        if stopping {
            return;
        }
    }
}

struct Claimer {
    ctx: AppState,
    server: Handle,
    ready: mpsc::UnboundedSender<Ready>,
    in_flight: Arc<Mutex<InFlight>>,
    waiting: Arc<AtomicUsize>,
    want_more: Arc<Notify>,
    lease: Duration,
    start_by: Duration,
    /// Set when the worker stops: no claim is begun after it.
    stopped: tokio::sync::watch::Receiver<bool>,
}

/// Claims from the outbox when nothing is waiting to be sent (a backlog
/// drains a claim at a time, not a slot at a time), and otherwise once a
/// poll: a claim is a write, and on SQLite it queues with the confirms.
async fn claim_from_outbox(mut c: Claimer) {
    let config = c.ctx.webhooks.clone();
    loop {
        if *c.stopped.borrow() {
            return;
        }
        crate::state::Heartbeats::beat(&c.ctx.heartbeats.deliveries);
        let room = MAX_WAITING.saturating_sub(c.waiting.load(Ordering::Relaxed));
        if room > 0 {
            let claim = {
                let counts = c.in_flight.lock().expect("not poisoned");
                Claim {
                    total: room.min(CLAIM_AT_ONCE) as u32,
                    per_url: (config.per_url * 16) as u32,
                    in_flight: counts.urls.clone(),
                    per_merchant: (config.per_merchant * 4) as u32,
                    in_flight_merchants: counts.merchants.clone(),
                }
            };
            let now = now_ms();
            let (store, lease) = (c.ctx.store.clone(), c.lease);
            let claimed = on_server(&c.server, async move {
                store
                    .claim_deliveries(now, now + lease.as_millis() as i64, &claim)
                    .await
            })
            .await;
            match claimed {
                Ok(claimed) if claimed.is_empty() => {}
                Ok(claimed) => {
                    let by = Instant::now() + c.start_by;
                    if c.ready.send((by, claimed)).is_err() {
                        return;
                    }
                    // More may be due: ask again once these are taken.
                    c.ctx.wake_deliveries.notify_one();
                }
                Err(error) => tracing::error!(%error, "could not claim webhook deliveries"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(config.poll_interval) => {}
            _ = c.want_more.notified() => {}
            _ = c.stopped.wait_for(|s| *s) => return,
        }
    }
}

/// Records attempts in batches: every attempt waiting is written in one
/// transaction. Returns where to send them.
fn record_attempts(
    ctx: AppState,
    server: &Handle,
) -> (
    mpsc::UnboundedSender<(Attempt, AttemptResult)>,
    tokio::task::JoinHandle<()>,
) {
    let (send, mut receive) = mpsc::unbounded_channel();
    let recorded = server.spawn(async move {
        let mut batch = Vec::new();
        while receive.recv_many(&mut batch, 256).await > 0 {
            if let Err(error) = ctx.store.record_attempts(&batch).await {
                // Their leases run out and they are tried again: at least once.
                tracing::error!(%error, attempts = batch.len(), "could not record webhook attempts");
            }
            batch.clear();
        }
    });
    (send, recorded)
}

/// What a delivery sends: a Standard Webhook, or an SSLCOMMERZ IPN when the
/// event is about a session that surface made and goes to its IPN URL.
enum Body {
    Webhook {
        body: Vec<u8>,
        signature: String,
        timestamp: i64,
    },
    Ipn(String),
}

/// One attempt at one delivery, and what became of the delivery.
async fn deliver(
    ctx: &AppState,
    server: &Handle,
    http: &reqwest::Client,
    claimed: &ClaimedDelivery,
) -> (Attempt, AttemptResult) {
    let event = &claimed.event;
    let delivery = &claimed.delivery;
    let ipn = match delivery.endpoint_id {
        None => {
            let (ctx, event) = (ctx.clone(), event.clone());
            on_server(
                server,
                async move { compat::ipn::for_event(&ctx, &event).await },
            )
            .await
        }
        Some(_) => Ok(None),
    };
    let body = match ipn {
        Ok(Some(form)) => Ok(Body::Ipn(form)),
        Ok(None) => {
            let body = serde_json::to_vec(&json!({
                "id": event.id,
                "type": event.kind,
                "created": event.created,
                "data": event.data,
            }))
            .expect("JSON");
            let timestamp = now_ms() / 1000;
            let signature = claimed
                .secrets
                .iter()
                .filter_map(|secret| sign(secret, &event.id, timestamp, &body).ok())
                .collect::<Vec<_>>()
                .join(" ");
            if signature.is_empty() {
                Err("no secret to sign with".to_string())
            } else {
                Ok(Body::Webhook {
                    body,
                    signature,
                    timestamp,
                })
            }
        }
        Err(e) => Err(format!("could not make the IPN: {e}")),
    };
    let allowed = url::Url::parse(&delivery.url)
        .map_err(|e| format!("not a URL: {e}"))
        .and_then(|url| {
            outbound::check_literal(&url, ctx.webhooks.allow_private_addresses)
                .map_err(|refused| format!("refused: {refused}"))
        });
    let started = Instant::now();
    let (http_status, error) = match (body, allowed) {
        (Err(why), _) | (_, Err(why)) => (None, Some(why)),
        (Ok(body), Ok(())) => {
            let request = match body {
                Body::Webhook {
                    body,
                    signature,
                    timestamp,
                } => http
                    .post(&delivery.url)
                    .header("webhook-id", &event.id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body),
                Body::Ipn(form) => http
                    .post(&delivery.url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form),
            };
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    (Some(response.status().as_u16()), None)
                }
                Ok(response) if response.status().is_redirection() => (
                    Some(response.status().as_u16()),
                    Some(format!(
                        "answered HTTP {} (Kasse follows no redirect; register the final URL)",
                        response.status()
                    )),
                ),
                Ok(response) => (
                    Some(response.status().as_u16()),
                    Some(format!("answered HTTP {}", response.status())),
                ),
                Err(e) => (
                    None,
                    Some(outbound::describe(&e, ctx.webhooks.attempt_timeout)),
                ),
            }
        }
    };
    let latency_ms = started.elapsed().as_millis() as i64;
    let now = now_ms();
    let result = if error.is_none() {
        AttemptResult::Delivered
    } else if now - delivery.created_ms >= ctx.webhooks.give_up_after.as_millis() as i64 {
        AttemptResult::GiveUp
    } else {
        AttemptResult::RetryAt(now + backoff(&ctx.webhooks, delivery.attempts).as_millis() as i64)
    };
    let attempt = Attempt {
        delivery_id: delivery.id.clone(),
        event_id: event.id.clone(),
        attempted: now / 1000,
        http_status,
        latency_ms,
        error: error.clone(),
    };
    ctx.metrics.attempt(
        "webhooks",
        match result {
            AttemptResult::Delivered => "delivered",
            AttemptResult::GiveUp => "gave_up",
            AttemptResult::RetryAt(_) => "retry",
        },
        crate::metrics::failure_reason(error.as_deref(), http_status),
    );
    tracing::info!(
        event = %event.id, request_id = event.request_id.as_deref().unwrap_or(""),
        url = %delivery.url, status = ?http_status, latency_ms,
        error = error.as_deref().unwrap_or(""), result = ?result, "webhook attempt"
    );
    (attempt, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let config = WebhookConfig {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(100),
            ..WebhookConfig::default()
        };
        for (attempts, nominal) in [
            (0, 10.0),
            (1, 20.0),
            (2, 40.0),
            (3, 80.0),
            (4, 100.0),
            (40, 100.0),
        ] {
            for _ in 0..50 {
                let wait = backoff(&config, attempts).as_secs_f64();
                assert!(
                    wait >= nominal * 0.8 && wait <= nominal * 1.2,
                    "{attempts}: {wait}"
                );
            }
        }
    }
}

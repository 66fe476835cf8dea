//! Merchants and their webhook endpoints, read once and kept in memory: the
//! payment page, every confirm and every webhook delivery ask for them.
//! A change this instance writes forgets its entry at once; a change
//! another instance writes is seen within [`STALENESS`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Merchant, WebhookEndpoint};

/// How long an entry is kept: the most a change made by another instance
/// can go unseen here.
pub const STALENESS: Duration = Duration::from_secs(1);

type Entries<T> = Mutex<HashMap<String, (Instant, T)>>;

#[derive(Default)]
pub(super) struct ConfigCache {
    merchants: Entries<Merchant>,
    /// A merchant's live endpoints, by merchant.
    endpoints: Entries<Vec<WebhookEndpoint>>,
    /// Counts the changes forgotten: a value read before a change is not
    /// kept after it.
    changes: AtomicU64,
}

/// The cache's count of changes when a read began.
#[derive(Clone, Copy)]
pub(super) struct Read(u64);

fn fresh<T: Clone>(entries: &Entries<T>, key: &str) -> Option<T> {
    let entries = entries.lock().expect("not poisoned");
    entries
        .get(key)
        .filter(|(kept, _)| kept.elapsed() < STALENESS)
        .map(|(_, value)| value.clone())
}

fn keep<T>(entries: &Entries<T>, changes: &AtomicU64, read: Read, key: &str, value: T) {
    let mut entries = entries.lock().expect("not poisoned");
    // Forgetting takes this lock after counting, so a change counted
    // after this check forgets what is kept here.
    if changes.load(Ordering::SeqCst) != read.0 {
        return;
    }
    // What has gone stale goes, so the map holds what is in use.
    if entries.len() > 1024 {
        entries.retain(|_, (kept, _)| kept.elapsed() < STALENESS);
    }
    entries.insert(key.to_string(), (Instant::now(), value));
}

impl ConfigCache {
    /// Call before reading what is to be kept.
    pub fn begin_read(&self) -> Read {
        Read(self.changes.load(Ordering::SeqCst))
    }

    pub fn merchant(&self, id: &str) -> Option<Merchant> {
        fresh(&self.merchants, id)
    }

    pub fn keep_merchant(&self, read: Read, merchant: &Merchant) {
        keep(
            &self.merchants,
            &self.changes,
            read,
            &merchant.id,
            merchant.clone(),
        );
    }

    pub fn forget_merchant(&self, id: &str) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.merchants.lock().expect("not poisoned").remove(id);
    }

    pub fn endpoints(&self, merchant_id: &str) -> Option<Vec<WebhookEndpoint>> {
        fresh(&self.endpoints, merchant_id)
    }

    pub fn keep_endpoints(&self, read: Read, merchant_id: &str, endpoints: &[WebhookEndpoint]) {
        keep(
            &self.endpoints,
            &self.changes,
            read,
            merchant_id,
            endpoints.to_vec(),
        );
    }

    pub fn forget_endpoints(&self, merchant_id: &str) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.endpoints
            .lock()
            .expect("not poisoned")
            .remove(merchant_id);
    }
}

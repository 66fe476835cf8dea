//! Time, injected so that tests can move it (sessions live for at least 30 minutes).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync + 'static {
    /// Unix seconds.
    fn now(&self) -> i64;

    /// `(year, month)` in UTC, for card expiry checks.
    fn year_month(&self) -> (u16, u8) {
        year_month_of(self.now())
    }
}

pub struct SystemClock;

/// Wall-clock Unix milliseconds, for delivery scheduling and leases: never
/// the injected clock, since a lease must run out in real time.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

/// A clock that stands still until told to move.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Civil year and month of a Unix time (UTC).
pub fn year_month_of(unix: i64) -> (u16, u8) {
    let (year, month, _) = kasse_core::time::civil_date(unix);
    (year as u16, month)
}

#[cfg(test)]
mod tests {
    use super::year_month_of;

    #[test]
    fn civil_months() {
        assert_eq!(year_month_of(0), (1970, 1));
        assert_eq!(year_month_of(1_763_683_200), (2025, 11)); // 2025-11-21
        assert_eq!(year_month_of(1_709_164_800), (2024, 2)); // 2024-02-29
        assert_eq!(year_month_of(1_709_251_199), (2024, 2)); // 2024-02-29 23:59:59
        assert_eq!(year_month_of(1_709_251_200), (2024, 3));
        assert_eq!(year_month_of(1_735_689_599), (2024, 12));
    }
}

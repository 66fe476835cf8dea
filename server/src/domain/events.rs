//! Building the events that go to the outbox with each state change.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::json;

use crate::ids::new_id;
use crate::state::AppState;
use crate::store::NewEvent;

pub const SESSION_COMPLETED: &str = "checkout.session.completed";
pub const SESSION_EXPIRED: &str = "checkout.session.expired";
pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
pub const PAYMENT_FAILED: &str = "payment.failed";
pub const PAYMENT_REQUIRES_CAPTURE: &str = "payment.requires_capture";
pub const PAYMENT_CAPTURED: &str = "payment.captured";
pub const PAYMENT_CANCELED: &str = "payment.canceled";
pub const REFUND_SUCCEEDED: &str = "refund.succeeded";

/// Wall-clock Unix milliseconds, for delivery scheduling.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An event about `object`, due for delivery at once.
pub fn new_event(
    ctx: &AppState,
    merchant_id: &str,
    kind: &str,
    object: &impl Serialize,
    notification_url: Option<&str>,
) -> NewEvent {
    NewEvent {
        id: new_id("evt"),
        merchant_id: merchant_id.to_string(),
        kind: kind.to_string(),
        created: ctx.clock.now(),
        data: json!({ "object": object }),
        notification_url: notification_url.map(str::to_string),
        due_ms: now_ms(),
    }
}

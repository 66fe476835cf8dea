//! Building the events that go to the outbox with each state change.

pub use kasse_core::api::EventType;
use serde::Serialize;
use serde_json::json;

use crate::ids::new_id;
use crate::state::AppState;
use crate::store::NewEvent;

pub const SESSION_COMPLETED: EventType = EventType::CheckoutSessionCompleted;
pub const SESSION_EXPIRED: EventType = EventType::CheckoutSessionExpired;
pub const PAYMENT_SUCCEEDED: EventType = EventType::PaymentSucceeded;
pub const PAYMENT_FAILED: EventType = EventType::PaymentFailed;
pub const PAYMENT_REQUIRES_CAPTURE: EventType = EventType::PaymentRequiresCapture;
pub const PAYMENT_CAPTURED: EventType = EventType::PaymentCaptured;
pub const PAYMENT_CANCELED: EventType = EventType::PaymentCanceled;
pub const REFUND_SUCCEEDED: EventType = EventType::RefundSucceeded;

pub use crate::clock::now_ms;

/// An event about `object`, due for delivery at once.
pub fn new_event(
    ctx: &AppState,
    merchant_id: &str,
    kind: EventType,
    object: &impl Serialize,
    notification_url: Option<&str>,
) -> NewEvent {
    NewEvent {
        id: new_id("evt"),
        merchant_id: merchant_id.to_string(),
        kind,
        created: ctx.clock.now(),
        data: json!({ "object": object }),
        notification_url: notification_url.map(str::to_string),
        due_ms: now_ms(),
        request_id: crate::request_id::current(),
    }
}

//! The events Kasse writes to its outbox and sends to webhooks.

use serde::{Deserialize, Serialize};

/// Every event type Kasse sends to webhooks, as a closed list; written on
/// the wire as its dotted name, `payment.succeeded`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "checkout.session.completed")]
    CheckoutSessionCompleted,
    #[serde(rename = "checkout.session.expired")]
    CheckoutSessionExpired,
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    #[serde(rename = "payment.requires_capture")]
    PaymentRequiresCapture,
    #[serde(rename = "payment.captured")]
    PaymentCaptured,
    #[serde(rename = "payment.canceled")]
    PaymentCanceled,
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
    #[serde(rename = "refund.failed")]
    RefundFailed,
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    #[serde(rename = "customer.deleted")]
    CustomerDeleted,
    #[serde(rename = "payment_method.attached")]
    PaymentMethodAttached,
    #[serde(rename = "payment_method.detached")]
    PaymentMethodDetached,
    #[serde(rename = "mandate.created")]
    MandateCreated,
    #[serde(rename = "mandate.revoked")]
    MandateRevoked,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.charged")]
    SubscriptionCharged,
    #[serde(rename = "subscription.past_due")]
    SubscriptionPastDue,
    #[serde(rename = "subscription.halted")]
    SubscriptionHalted,
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    #[serde(rename = "subscription.completed")]
    SubscriptionCompleted,
    #[serde(rename = "subscription.paused")]
    SubscriptionPaused,
    #[serde(rename = "subscription.resumed")]
    SubscriptionResumed,
    #[serde(rename = "payment_method.expiring")]
    PaymentMethodExpiring,
    #[serde(rename = "payment_method.expired")]
    PaymentMethodExpired,
    #[serde(rename = "payment_method.updated")]
    PaymentMethodUpdated,
    #[serde(rename = "payment_link.created")]
    PaymentLinkCreated,
    #[serde(rename = "payment_link.partially_paid")]
    PaymentLinkPartiallyPaid,
    #[serde(rename = "payment_link.paid")]
    PaymentLinkPaid,
    #[serde(rename = "payment_link.expired")]
    PaymentLinkExpired,
    #[serde(rename = "payment_link.canceled")]
    PaymentLinkCanceled,
    #[serde(rename = "notification.sent")]
    NotificationSent,
    #[serde(rename = "notification.failed")]
    NotificationFailed,
    #[serde(rename = "balance.available")]
    BalanceAvailable,
    #[serde(rename = "settlement.closed")]
    SettlementClosed,
    #[serde(rename = "payout.created")]
    PayoutCreated,
    #[serde(rename = "payout.approved")]
    PayoutApproved,
    #[serde(rename = "payout.in_transit")]
    PayoutInTransit,
    #[serde(rename = "payout.paid")]
    PayoutPaid,
    #[serde(rename = "payout.failed")]
    PayoutFailed,
    #[serde(rename = "payout.canceled")]
    PayoutCanceled,
    #[serde(rename = "payout.returned")]
    PayoutReturned,
    #[serde(rename = "settlement.paid_out")]
    SettlementPaidOut,
    #[serde(rename = "settlement.payout_failed")]
    SettlementPayoutFailed,
}

impl EventType {
    pub const ALL: [EventType; 45] = [
        EventType::CheckoutSessionCompleted,
        EventType::CheckoutSessionExpired,
        EventType::PaymentSucceeded,
        EventType::PaymentFailed,
        EventType::PaymentRequiresCapture,
        EventType::PaymentCaptured,
        EventType::PaymentCanceled,
        EventType::RefundSucceeded,
        EventType::RefundFailed,
        EventType::CustomerCreated,
        EventType::CustomerUpdated,
        EventType::CustomerDeleted,
        EventType::PaymentMethodAttached,
        EventType::PaymentMethodDetached,
        EventType::MandateCreated,
        EventType::MandateRevoked,
        EventType::SubscriptionCreated,
        EventType::SubscriptionCharged,
        EventType::SubscriptionPastDue,
        EventType::SubscriptionHalted,
        EventType::SubscriptionCanceled,
        EventType::SubscriptionCompleted,
        EventType::SubscriptionPaused,
        EventType::SubscriptionResumed,
        EventType::PaymentMethodExpiring,
        EventType::PaymentMethodExpired,
        EventType::PaymentMethodUpdated,
        EventType::PaymentLinkCreated,
        EventType::PaymentLinkPartiallyPaid,
        EventType::PaymentLinkPaid,
        EventType::PaymentLinkExpired,
        EventType::PaymentLinkCanceled,
        EventType::NotificationSent,
        EventType::NotificationFailed,
        EventType::BalanceAvailable,
        EventType::SettlementClosed,
        EventType::PayoutCreated,
        EventType::PayoutApproved,
        EventType::PayoutInTransit,
        EventType::PayoutPaid,
        EventType::PayoutFailed,
        EventType::PayoutCanceled,
        EventType::PayoutReturned,
        EventType::SettlementPaidOut,
        EventType::SettlementPayoutFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CheckoutSessionCompleted => "checkout.session.completed",
            EventType::CheckoutSessionExpired => "checkout.session.expired",
            EventType::PaymentSucceeded => "payment.succeeded",
            EventType::PaymentFailed => "payment.failed",
            EventType::PaymentRequiresCapture => "payment.requires_capture",
            EventType::PaymentCaptured => "payment.captured",
            EventType::PaymentCanceled => "payment.canceled",
            EventType::RefundSucceeded => "refund.succeeded",
            EventType::RefundFailed => "refund.failed",
            EventType::CustomerCreated => "customer.created",
            EventType::CustomerUpdated => "customer.updated",
            EventType::CustomerDeleted => "customer.deleted",
            EventType::PaymentMethodAttached => "payment_method.attached",
            EventType::PaymentMethodDetached => "payment_method.detached",
            EventType::MandateCreated => "mandate.created",
            EventType::MandateRevoked => "mandate.revoked",
            EventType::SubscriptionCreated => "subscription.created",
            EventType::SubscriptionCharged => "subscription.charged",
            EventType::SubscriptionPastDue => "subscription.past_due",
            EventType::SubscriptionHalted => "subscription.halted",
            EventType::SubscriptionCanceled => "subscription.canceled",
            EventType::SubscriptionCompleted => "subscription.completed",
            EventType::SubscriptionPaused => "subscription.paused",
            EventType::SubscriptionResumed => "subscription.resumed",
            EventType::PaymentMethodExpiring => "payment_method.expiring",
            EventType::PaymentMethodExpired => "payment_method.expired",
            EventType::PaymentMethodUpdated => "payment_method.updated",
            EventType::PaymentLinkCreated => "payment_link.created",
            EventType::PaymentLinkPartiallyPaid => "payment_link.partially_paid",
            EventType::PaymentLinkPaid => "payment_link.paid",
            EventType::PaymentLinkExpired => "payment_link.expired",
            EventType::PaymentLinkCanceled => "payment_link.canceled",
            EventType::NotificationSent => "notification.sent",
            EventType::NotificationFailed => "notification.failed",
            EventType::BalanceAvailable => "balance.available",
            EventType::SettlementClosed => "settlement.closed",
            EventType::PayoutCreated => "payout.created",
            EventType::PayoutApproved => "payout.approved",
            EventType::PayoutInTransit => "payout.in_transit",
            EventType::PayoutPaid => "payout.paid",
            EventType::PayoutFailed => "payout.failed",
            EventType::PayoutCanceled => "payout.canceled",
            EventType::PayoutReturned => "payout.returned",
            EventType::SettlementPaidOut => "settlement.paid_out",
            EventType::SettlementPayoutFailed => "settlement.payout_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

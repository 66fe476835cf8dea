//! Statuses of sessions and payments, as DESIGN.md lists them.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    RequiresPaymentMethod,
    RequiresAction,
    RequiresCapture,
    Succeeded,
    Failed,
    Canceled,
    PartiallyRefunded,
    Refunded,
}

macro_rules! str_enum {
    ($ty:ident { $($variant:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($ty::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(SessionStatus {
    Open => "open",
    Complete => "complete",
    Expired => "expired",
});

str_enum!(PaymentStatus {
    RequiresPaymentMethod => "requires_payment_method",
    RequiresAction => "requires_action",
    RequiresCapture => "requires_capture",
    Succeeded => "succeeded",
    Failed => "failed",
    Canceled => "canceled",
    PartiallyRefunded => "partially_refunded",
    Refunded => "refunded",
});

/// Something that happens to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentAction {
    /// The issuer asks the customer to authenticate (3-D Secure).
    RequireAction,
    /// The issuer approved; `manual` keeps the money authorised, not captured.
    Approve { manual: bool },
    /// The issuer refused, or the customer failed authentication.
    Decline,
    /// The merchant captures an authorisation (in full or in part).
    Capture,
    /// The merchant releases an authorisation, or it ran out of time.
    Void,
    /// Money goes back; `in_full` when nothing captured remains unrefunded.
    Refund { in_full: bool },
}

impl PaymentAction {
    pub fn name(self) -> &'static str {
        match self {
            PaymentAction::RequireAction => "require_action",
            PaymentAction::Approve { .. } => "approve",
            PaymentAction::Decline => "decline",
            PaymentAction::Capture => "capture",
            PaymentAction::Void => "void",
            PaymentAction::Refund { .. } => "refund",
        }
    }

    /// The statuses this action may start from.
    pub fn allowed_from(self) -> &'static [PaymentStatus] {
        use PaymentStatus::*;
        match self {
            PaymentAction::RequireAction => &[RequiresPaymentMethod],
            PaymentAction::Approve { .. } | PaymentAction::Decline => {
                &[RequiresPaymentMethod, RequiresAction]
            }
            PaymentAction::Capture | PaymentAction::Void => &[RequiresCapture],
            PaymentAction::Refund { .. } => &[Succeeded, PartiallyRefunded],
        }
    }
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a payment that is {from}; allowed from: {}", action.name(), list(action.allowed_from()))]
pub struct TransitionError {
    pub action: PaymentAction,
    pub from: PaymentStatus,
}

fn list(statuses: &[PaymentStatus]) -> String {
    statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl PaymentStatus {
    /// Whether a payment in this status pays its checkout session: approved,
    /// captured at once or authorised for a later capture.
    pub fn completes_session(self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
        )
    }

    /// The status after `action`, or why it may not happen now.
    pub fn apply(self, action: PaymentAction) -> Result<PaymentStatus, TransitionError> {
        if !action.allowed_from().contains(&self) {
            return Err(TransitionError { action, from: self });
        }
        Ok(match action {
            PaymentAction::RequireAction => PaymentStatus::RequiresAction,
            PaymentAction::Approve { manual: true } => PaymentStatus::RequiresCapture,
            PaymentAction::Approve { manual: false } | PaymentAction::Capture => {
                PaymentStatus::Succeeded
            }
            PaymentAction::Decline => PaymentStatus::Failed,
            PaymentAction::Void => PaymentStatus::Canceled,
            PaymentAction::Refund { in_full: true } => PaymentStatus::Refunded,
            PaymentAction::Refund { in_full: false } => PaymentStatus::PartiallyRefunded,
        })
    }

    /// Whether money moved to the merchant: what the validation API calls valid.
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_match_serde() {
        for s in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(PaymentStatus::parse("paid"), None);
    }

    const ACTIONS: [PaymentAction; 8] = [
        PaymentAction::RequireAction,
        PaymentAction::Approve { manual: false },
        PaymentAction::Approve { manual: true },
        PaymentAction::Decline,
        PaymentAction::Capture,
        PaymentAction::Void,
        PaymentAction::Refund { in_full: false },
        PaymentAction::Refund { in_full: true },
    ];

    /// DESIGN.md's table, written out: every allowed transition and its result.
    fn expected(from: PaymentStatus, action: PaymentAction) -> Option<PaymentStatus> {
        use PaymentAction as A;
        use PaymentStatus::*;
        Some(match (from, action) {
            (RequiresPaymentMethod, A::RequireAction) => RequiresAction,
            (RequiresPaymentMethod | RequiresAction, A::Approve { manual: false }) => Succeeded,
            (RequiresPaymentMethod | RequiresAction, A::Approve { manual: true }) => {
                RequiresCapture
            }
            (RequiresPaymentMethod | RequiresAction, A::Decline) => Failed,
            (RequiresCapture, A::Capture) => Succeeded,
            (RequiresCapture, A::Void) => Canceled,
            (Succeeded | PartiallyRefunded, A::Refund { in_full: false }) => PartiallyRefunded,
            (Succeeded | PartiallyRefunded, A::Refund { in_full: true }) => Refunded,
            _ => return None,
        })
    }

    #[test]
    fn every_transition_is_allowed_or_refused_as_designed() {
        let mut allowed = 0;
        for from in PaymentStatus::ALL {
            for action in ACTIONS {
                match (from.apply(action), expected(*from, action)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} + {action:?}");
                        allowed += 1;
                    }
                    (Err(e), None) => {
                        assert_eq!(e.from, *from);
                        assert!(!action.allowed_from().contains(from));
                        assert!(e.to_string().contains(from.as_str()), "{e}");
                    }
                    (got, want) => panic!("{from} + {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(allowed, 13);
    }

    #[test]
    fn terminal_statuses_accept_nothing() {
        for from in [
            PaymentStatus::Failed,
            PaymentStatus::Canceled,
            PaymentStatus::Refunded,
        ] {
            assert!(ACTIONS.iter().all(|a| from.apply(*a).is_err()), "{from}");
        }
    }

    #[test]
    fn refusals_name_the_states_that_allow_the_action() {
        let e = PaymentStatus::Canceled
            .apply(PaymentAction::Capture)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot capture a payment that is canceled; allowed from: requires_capture"
        );
    }
}

//! Stable error vocabulary shared by the server and the page.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `type` of an API error, as in `{"error": {"type": …}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The request was malformed or named something that does not exist.
    InvalidRequestError,
    /// No key, a wrong key, or a wrong client secret.
    AuthenticationError,
    /// Authenticated, but the role does not allow it (a terminal login).
    PermissionError,
    /// The card was refused by Kasse's checks or by the issuer.
    CardError,
    /// Kasse failed; the request may be retried.
    ApiError,
}

/// Why an issuer (here, the sandbox acquirer) refused a card.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineCode {
    CardDeclined,
    InsufficientFunds,
    LostCard,
    StolenCard,
    ExpiredCard,
    IncorrectCvc,
    ProcessingError,
    /// The customer did not pass 3-D Secure.
    AuthenticationFailed,
}

impl DeclineCode {
    pub const ALL: [DeclineCode; 8] = [
        DeclineCode::CardDeclined,
        DeclineCode::InsufficientFunds,
        DeclineCode::LostCard,
        DeclineCode::StolenCard,
        DeclineCode::ExpiredCard,
        DeclineCode::IncorrectCvc,
        DeclineCode::ProcessingError,
        DeclineCode::AuthenticationFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::CardDeclined => "card_declined",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::LostCard => "lost_card",
            DeclineCode::StolenCard => "stolen_card",
            DeclineCode::ExpiredCard => "expired_card",
            DeclineCode::IncorrectCvc => "incorrect_cvc",
            DeclineCode::ProcessingError => "processing_error",
            DeclineCode::AuthenticationFailed => "authentication_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code the customer's page is told. Lost and stolen cards are told
    /// as the generic decline, as issuers ask, so that whoever holds the
    /// card learns nothing; the merchant's API keeps the real code.
    pub fn for_customer(self) -> DeclineCode {
        match self {
            DeclineCode::LostCard | DeclineCode::StolenCard => DeclineCode::CardDeclined,
            other => other,
        }
    }

    /// What the customer reads: the text of [`DeclineCode::for_customer`].
    pub fn customer_message(self) -> &'static str {
        match self {
            DeclineCode::CardDeclined | DeclineCode::LostCard | DeclineCode::StolenCard => {
                "Your card was declined. Try another card or contact your bank."
            }
            DeclineCode::InsufficientFunds => "Your card has insufficient funds. Try another card.",
            DeclineCode::ExpiredCard => "Your card has expired. Try another card.",
            DeclineCode::IncorrectCvc => "The security code is incorrect. Check it and try again.",
            DeclineCode::ProcessingError => {
                "We could not process your card just now. Please try again."
            }
            DeclineCode::AuthenticationFailed => {
                "Your bank could not confirm it was you. Try again or use another card."
            }
        }
    }

    /// Whether the same card may succeed if tried again unchanged.
    pub fn retryable(self) -> bool {
        matches!(self, DeclineCode::ProcessingError)
    }
}

impl fmt::Display for DeclineCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// The stable `code` of every error Kasse answers, as a closed list: the
/// server answers with these, the page and the terminal match on them, and
/// the OpenAPI document lists them. Serialised as the snake_case strings
/// the wire has always carried; a code this build does not know reads as
/// `Unknown`, so an older client keeps working against a newer server.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A parameter's value breaks its rule.
    ParameterInvalid,
    /// A required parameter is missing.
    ParameterMissing,
    /// A parameter Kasse does not know.
    ParameterUnknown,
    /// A number outside its bounds.
    ParameterOutOfRange,
    /// The body is not JSON.
    InvalidJson,
    /// The body could not be read, or is over 1 MiB.
    InvalidBody,
    /// The body is not sent as application/json.
    InvalidContentType,
    /// Not an ISO 4217 currency Kasse charges in.
    InvalidCurrency,
    /// Not an email address.
    InvalidEmail,
    /// Not a language the page speaks.
    InvalidLocale,
    /// Not an absolute URL Kasse accepts there.
    InvalidUrl,
    /// A URL off the merchant's registered origins.
    UrlNotAllowed,
    /// An amount that is not a positive integer.
    AmountTooSmall,
    /// An amount over the largest Kasse takes.
    AmountTooLarge,
    /// An Idempotency-Key that is empty or too long.
    IdempotencyKeyInvalid,
    /// An Idempotency-Key used with another request.
    IdempotencyKeyReused,
    /// An Idempotency-Key whose first request is still running.
    IdempotencyKeyInUse,
    /// No such object, or not this merchant's.
    ResourceMissing,
    /// No key, a wrong key or a wrong client secret.
    Unauthorized,
    /// A card number that is incomplete or not digits.
    InvalidNumber,
    /// A card number that fails the Luhn check.
    IncorrectNumber,
    /// A card network Kasse does not accept.
    UnsupportedCardBrand,
    /// An expiry month that is not 1 to 12.
    InvalidExpiryMonth,
    /// An expiry in the past or too far ahead.
    InvalidExpiryYear,
    /// A security code of the wrong length.
    InvalidCvc,
    /// A cardholder name too long or with control characters.
    InvalidName,
    /// The issuer asked for 3-D Secure where none can be done.
    AuthenticationRequired,
    /// The session is paid already.
    CheckoutSessionComplete,
    /// The session has expired.
    CheckoutSessionExpired,
    /// The session can no longer be paid or expired.
    CheckoutSessionNotOpen,
    /// Another confirm of the session is running, or finished first.
    PaymentInProgress,
    /// The session has used up its attempts.
    TooManyAttempts,
    /// The payment is being changed by other requests.
    PaymentBusy,
    /// The payment's status does not allow this.
    PaymentInvalidStatus,
    /// More than is left to capture.
    AmountExceedsCapturable,
    /// More than is left to refund.
    AmountExceedsRefundable,
    /// The merchant has as many webhook endpoints as it may.
    TooManyEndpoints,
    /// No webhook endpoint wants the event.
    NoDestination,
    /// The member of staff's role does not allow this.
    RoleInsufficient,
    /// A terminal call without its CSRF token.
    CsrfTokenInvalid,
    /// A terminal call from another origin.
    CrossOrigin,
    /// Too many requests of this kind in the last minute.
    RateLimited,
    /// The merchant's card payments pause after many declines.
    TooManyDeclines,
    /// Every password check is busy.
    LoginBusy,
    /// Kasse failed; the request may be retried.
    InternalError,
    /// Saving or charging a saved card needs the card vault, which this
    /// server has no key for (`KASSE_VAULT_KEY`).
    VaultUnavailable,
    /// The saved card's expiry has passed.
    PaymentMethodExpired,
    /// The saved card was detached from its customer.
    PaymentMethodDetached,
    /// A charge over the mandate's `max_amount`.
    MandateAmountExceeded,
    /// The mandate was revoked (by the merchant, or with its customer).
    MandateRevoked,
    /// A charge in another currency than the mandate's.
    CurrencyMismatch,
    /// An off-session charge of a card the customer never agreed to have
    /// charged in their absence (no mandate from a payment they made).
    MitWithoutCustomerInitiatedPayment,
    /// The subscription's status does not allow this.
    SubscriptionInvalidStatus,
    /// The issuer declined the card when it was checked (a card update).
    CardDeclined,
    /// The payment link is paid, expired or canceled: it takes no payment
    /// and no change.
    PaymentLinkNotOpen,
    /// This Kasse has no mail server (`KASSE_SMTP_URL`), so it sends no email.
    MailUnavailable,
    /// The merchant's available balance in that currency is less than the payout.
    BalanceInsufficient,
    /// This call moves money out and must carry an `Idempotency-Key`.
    IdempotencyKeyRequired,
    /// A payout with this `merchant_reference` exists already (references are never reused).
    PayoutReferenceReused,
    /// The payout's status does not allow this.
    PayoutInvalidStatus,
    /// A payout must be approved by a person (an admin logged in to the terminal) other than the one who made it.
    ApprovalNotAllowed,
    /// A sandbox tool, refused by a Kasse that handles real money.
    SandboxOnly,
    /// A code from a newer Kasse than this build knows.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 62] = [
        ErrorCode::ParameterInvalid,
        ErrorCode::ParameterMissing,
        ErrorCode::ParameterUnknown,
        ErrorCode::ParameterOutOfRange,
        ErrorCode::InvalidJson,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidContentType,
        ErrorCode::InvalidCurrency,
        ErrorCode::InvalidEmail,
        ErrorCode::InvalidLocale,
        ErrorCode::InvalidUrl,
        ErrorCode::UrlNotAllowed,
        ErrorCode::AmountTooSmall,
        ErrorCode::AmountTooLarge,
        ErrorCode::IdempotencyKeyInvalid,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::IdempotencyKeyInUse,
        ErrorCode::ResourceMissing,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidNumber,
        ErrorCode::IncorrectNumber,
        ErrorCode::UnsupportedCardBrand,
        ErrorCode::InvalidExpiryMonth,
        ErrorCode::InvalidExpiryYear,
        ErrorCode::InvalidCvc,
        ErrorCode::InvalidName,
        ErrorCode::AuthenticationRequired,
        ErrorCode::CheckoutSessionComplete,
        ErrorCode::CheckoutSessionExpired,
        ErrorCode::CheckoutSessionNotOpen,
        ErrorCode::PaymentInProgress,
        ErrorCode::TooManyAttempts,
        ErrorCode::PaymentBusy,
        ErrorCode::PaymentInvalidStatus,
        ErrorCode::AmountExceedsCapturable,
        ErrorCode::AmountExceedsRefundable,
        ErrorCode::TooManyEndpoints,
        ErrorCode::NoDestination,
        ErrorCode::RoleInsufficient,
        ErrorCode::CsrfTokenInvalid,
        ErrorCode::CrossOrigin,
        ErrorCode::RateLimited,
        ErrorCode::TooManyDeclines,
        ErrorCode::LoginBusy,
        ErrorCode::InternalError,
        ErrorCode::VaultUnavailable,
        ErrorCode::PaymentMethodExpired,
        ErrorCode::PaymentMethodDetached,
        ErrorCode::MandateAmountExceeded,
        ErrorCode::MandateRevoked,
        ErrorCode::CurrencyMismatch,
        ErrorCode::MitWithoutCustomerInitiatedPayment,
        ErrorCode::SubscriptionInvalidStatus,
        ErrorCode::CardDeclined,
        ErrorCode::PaymentLinkNotOpen,
        ErrorCode::MailUnavailable,
        ErrorCode::BalanceInsufficient,
        ErrorCode::IdempotencyKeyRequired,
        ErrorCode::PayoutReferenceReused,
        ErrorCode::PayoutInvalidStatus,
        ErrorCode::ApprovalNotAllowed,
        ErrorCode::SandboxOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ParameterInvalid => "parameter_invalid",
            ErrorCode::ParameterMissing => "parameter_missing",
            ErrorCode::ParameterUnknown => "parameter_unknown",
            ErrorCode::ParameterOutOfRange => "parameter_out_of_range",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidContentType => "invalid_content_type",
            ErrorCode::InvalidCurrency => "invalid_currency",
            ErrorCode::InvalidEmail => "invalid_email",
            ErrorCode::InvalidLocale => "invalid_locale",
            ErrorCode::InvalidUrl => "invalid_url",
            ErrorCode::UrlNotAllowed => "url_not_allowed",
            ErrorCode::AmountTooSmall => "amount_too_small",
            ErrorCode::AmountTooLarge => "amount_too_large",
            ErrorCode::IdempotencyKeyInvalid => "idempotency_key_invalid",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::IdempotencyKeyInUse => "idempotency_key_in_use",
            ErrorCode::ResourceMissing => "resource_missing",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidNumber => "invalid_number",
            ErrorCode::IncorrectNumber => "incorrect_number",
            ErrorCode::UnsupportedCardBrand => "unsupported_card_brand",
            ErrorCode::InvalidExpiryMonth => "invalid_expiry_month",
            ErrorCode::InvalidExpiryYear => "invalid_expiry_year",
            ErrorCode::InvalidCvc => "invalid_cvc",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::AuthenticationRequired => "authentication_required",
            ErrorCode::CheckoutSessionComplete => "checkout_session_complete",
            ErrorCode::CheckoutSessionExpired => "checkout_session_expired",
            ErrorCode::CheckoutSessionNotOpen => "checkout_session_not_open",
            ErrorCode::PaymentInProgress => "payment_in_progress",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::PaymentBusy => "payment_busy",
            ErrorCode::PaymentInvalidStatus => "payment_invalid_status",
            ErrorCode::AmountExceedsCapturable => "amount_exceeds_capturable",
            ErrorCode::AmountExceedsRefundable => "amount_exceeds_refundable",
            ErrorCode::TooManyEndpoints => "too_many_endpoints",
            ErrorCode::NoDestination => "no_destination",
            ErrorCode::RoleInsufficient => "role_insufficient",
            ErrorCode::CsrfTokenInvalid => "csrf_token_invalid",
            ErrorCode::CrossOrigin => "cross_origin",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyDeclines => "too_many_declines",
            ErrorCode::LoginBusy => "login_busy",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::VaultUnavailable => "vault_unavailable",
            ErrorCode::PaymentMethodExpired => "payment_method_expired",
            ErrorCode::PaymentMethodDetached => "payment_method_detached",
            ErrorCode::MandateAmountExceeded => "mandate_amount_exceeded",
            ErrorCode::MandateRevoked => "mandate_revoked",
            ErrorCode::CurrencyMismatch => "currency_mismatch",
            ErrorCode::MitWithoutCustomerInitiatedPayment => {
                "mit_without_customer_initiated_payment"
            }
            ErrorCode::SubscriptionInvalidStatus => "subscription_invalid_status",
            ErrorCode::CardDeclined => "card_declined",
            ErrorCode::PaymentLinkNotOpen => "payment_link_not_open",
            ErrorCode::MailUnavailable => "mail_unavailable",
            ErrorCode::BalanceInsufficient => "balance_insufficient",
            ErrorCode::IdempotencyKeyRequired => "idempotency_key_required",
            ErrorCode::PayoutReferenceReused => "payout_reference_reused",
            ErrorCode::PayoutInvalidStatus => "payout_invalid_status",
            ErrorCode::ApprovalNotAllowed => "approval_not_allowed",
            ErrorCode::SandboxOnly => "sandbox_only",
            ErrorCode::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// The issuer wants the cardholder to authenticate, which a charge
    /// made in their absence cannot do: bring them back to pay.
    AuthenticationRequired,
}

impl DeclineCode {
    pub const ALL: [DeclineCode; 9] = [
        DeclineCode::CardDeclined,
        DeclineCode::InsufficientFunds,
        DeclineCode::LostCard,
        DeclineCode::StolenCard,
        DeclineCode::ExpiredCard,
        DeclineCode::IncorrectCvc,
        DeclineCode::ProcessingError,
        DeclineCode::AuthenticationFailed,
        DeclineCode::AuthenticationRequired,
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
            DeclineCode::AuthenticationRequired => "authentication_required",
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
            DeclineCode::AuthenticationRequired => {
                "Your bank asks you to confirm this payment. Pay again to confirm it."
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

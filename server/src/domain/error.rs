//! What a domain operation can refuse, with stable codes; the HTTP layer
//! maps each to its status in one place (`http::error`).

use kasse_core::TransitionError;
use kasse_core::error::ErrorCode;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A value the caller gave breaks a rule; `param` names it.
    #[error("{message}")]
    Invalid {
        code: ErrorCode,
        message: String,
        param: Option<String>,
    },
    /// A card that fails Kasse's own checks, before any acquirer.
    #[error("{message}")]
    Card {
        code: ErrorCode,
        message: String,
        param: Option<String>,
    },
    #[error("No such {kind}: '{id}'")]
    NotFound { kind: &'static str, id: String },
    /// The object is not in a state that allows this.
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// The payment's status does not allow this operation.
    #[error("This payment cannot be changed that way: {0}.")]
    Transition(#[from] TransitionError),
    /// Not open to whoever asked, whatever the request says.
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    /// A rule the request's own content cannot fix.
    #[error("{message}")]
    Unprocessable { code: ErrorCode, message: String },
    /// A rate limit: again after `retry_after` seconds.
    #[error("{message}")]
    Limited {
        code: ErrorCode,
        message: String,
        retry_after: u64,
    },
    /// Busy for everyone for a moment: again after `retry_after` seconds.
    #[error("{message}")]
    Busy {
        code: ErrorCode,
        message: String,
        retry_after: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    pub fn invalid(code: ErrorCode, param: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
            param: Some(param.to_string()),
        }
    }
}

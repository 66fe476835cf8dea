//! One error type for every handler, answered as
//! `{"error": {"type", "code", "message", "param"}}` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kasse_core::TransitionError;
use kasse_core::api::{ErrorBody, ErrorDetail};
use kasse_core::error::ErrorCode;
use kasse_core::error::ErrorType;

use crate::domain::DomainError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or breaks a rule; `param` names the field.
    #[error("{message}")]
    InvalidRequest {
        code: ErrorCode,
        message: String,
        param: Option<String>,
    },
    /// The card was refused before it reached the acquirer.
    #[error("{message}")]
    Card {
        code: ErrorCode,
        message: String,
        param: Option<String>,
    },
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed to do this.
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    #[error("No such {kind}: '{id}'")]
    NotFound { kind: &'static str, id: String },
    /// The object is not in a state that allows the request.
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// The payment's status does not allow this operation.
    #[error("This payment cannot be changed that way: {0}.")]
    Transition(#[from] TransitionError),
    /// The request breaks a rule that its own content cannot fix (422).
    #[error("{message}")]
    Unprocessable { code: ErrorCode, message: String },
    /// A rate limit: try again after `retry_after` seconds (429).
    #[error("{message}")]
    TooManyRequests {
        code: ErrorCode,
        message: String,
        retry_after: u64,
    },
    /// Busy for a moment, for everyone: try again after `retry_after` seconds (503).
    #[error("{message}")]
    Unavailable {
        code: ErrorCode,
        message: String,
        retry_after: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every refusal of a domain operation, as the API answers it.
impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Invalid {
                code,
                message,
                param,
            } => ApiError::InvalidRequest {
                code,
                message,
                param,
            },
            DomainError::Card {
                code,
                message,
                param,
            } => ApiError::Card {
                code,
                message,
                param,
            },
            DomainError::NotFound { kind, id } => ApiError::NotFound { kind, id },
            DomainError::Conflict { code, message } => ApiError::Conflict { code, message },
            DomainError::Forbidden { code, message } => ApiError::Forbidden { code, message },
            DomainError::Transition(e) => ApiError::Transition(e),
            DomainError::Unprocessable { code, message } => {
                ApiError::Unprocessable { code, message }
            }
            DomainError::Limited {
                code,
                message,
                retry_after,
            } => ApiError::TooManyRequests {
                code,
                message,
                retry_after,
            },
            DomainError::Busy {
                code,
                message,
                retry_after,
            } => ApiError::Unavailable {
                code,
                message,
                retry_after,
            },
            DomainError::Store(e) => ApiError::Store(e),
        }
    }
}

impl ApiError {
    pub fn invalid(code: ErrorCode, param: &str, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            code,
            message: message.into(),
            param: Some(param.to_string()),
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest { .. } | ApiError::Card { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::Transition(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> ErrorDetail {
        let (kind, code, param) = match self {
            ApiError::InvalidRequest { code, param, .. } => {
                (ErrorType::InvalidRequestError, *code, param.clone())
            }
            ApiError::Card { code, param, .. } => (ErrorType::CardError, *code, param.clone()),
            ApiError::Unauthorized(_) => (
                ErrorType::AuthenticationError,
                ErrorCode::Unauthorized,
                None,
            ),
            ApiError::Forbidden { code, .. } => (ErrorType::PermissionError, *code, None),
            ApiError::NotFound { .. } => (
                ErrorType::InvalidRequestError,
                ErrorCode::ResourceMissing,
                None,
            ),
            ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::TooManyRequests { code, .. } => {
                (ErrorType::InvalidRequestError, *code, None)
            }
            ApiError::Unavailable { code, .. } => (ErrorType::ApiError, *code, None),
            ApiError::Transition(_) => (
                ErrorType::InvalidRequestError,
                ErrorCode::PaymentInvalidStatus,
                None,
            ),
            ApiError::Store(_) => (ErrorType::ApiError, ErrorCode::InternalError, None),
        };
        let allowed_from = match self {
            ApiError::Transition(e) => Some(e.action.allowed_from().to_vec()),
            _ => None,
        };
        let message = match self {
            ApiError::Store(_) => "Kasse could not complete the request. Please try again.".into(),
            other => other.to_string(),
        };
        ErrorDetail {
            kind,
            code,
            message,
            param,
            allowed_from,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Store(error) = &self {
            tracing::error!(%error, "request failed inside Kasse");
        }
        let body = ErrorBody {
            error: self.detail(),
        };
        let mut response = (self.status_code(), Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after, .. }
        | ApiError::Unavailable { retry_after, .. } = &self
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*retry_after).into());
        }
        response
    }
}

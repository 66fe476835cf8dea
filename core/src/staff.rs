//! The terminal's staff: their roles, and the login that carries them. Part
//! of the API's shapes (`kasse_core::api` re-exports them).

use serde::{Deserialize, Serialize};

use crate::sensitive::Sensitive;

/// What a member of a merchant's staff may do in the terminal.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Looks payments and events up.
    Viewer,
    /// Also charges, captures, voids, refunds and sends payment links.
    Operator,
    /// Also manages webhook endpoints, resends events, sets the appearance.
    Admin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 3] = [StaffRole::Viewer, StaffRole::Operator, StaffRole::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Viewer => "viewer",
            StaffRole::Operator => "operator",
            StaffRole::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// `POST /terminal/login`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub password: Sensitive<String>,
}

/// The header that carries a staff session's CSRF token on every
/// state-changing call the terminal makes.
pub const CSRF_HEADER: &str = "Kasse-Csrf-Token";

/// Who is logged in to the terminal: `POST /terminal/login`, `GET /terminal/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSession {
    pub user_id: String,
    pub email: String,
    pub role: StaffRole,
    pub merchant_id: String,
    pub merchant_name: String,
    /// Where the merchant's payment links send customers back to.
    pub merchant_origins: Vec<String>,
    /// Send it back in the `Kasse-Csrf-Token` header on every POST.
    pub csrf_token: String,
    /// Unix seconds; the session ends then unless it is used before.
    pub expires_at: i64,
}

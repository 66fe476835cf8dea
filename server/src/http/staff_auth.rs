//! Who is calling from the terminal: a staff login read from its cookie,
//! with the CSRF token and own-origin checks that every state-changing call
//! passes, and the role each call needs.

use axum::http::header::{COOKIE, ORIGIN};
use std::collections::HashMap;

use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use kasse_core::api::{CSRF_HEADER, StaffRole};
use kasse_core::error::ErrorCode;

use super::{ApiError, AppState};
use crate::secrets::constant_time_eq;
use crate::staff::{self, COOKIE as COOKIE_NAME};
use crate::store::{Merchant, StaffLogin, StaffUser};

/// Under https the cookie carries the `__Host-` prefix: browsers then keep
/// it only if it is Secure, for `/`, and set by this host itself, so a
/// sibling subdomain cannot plant or overwrite it.
pub(super) fn cookie_name(ctx: &AppState) -> String {
    if ctx.public_url.scheme() == "https" {
        format!("__Host-{COOKIE_NAME}")
    } else {
        COOKIE_NAME.to_string()
    }
}

/// The login token from the request's cookies, if it has one.
pub fn login_token<'h>(ctx: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    let wanted = cookie_name(ctx);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// A browser that says where the request came from must say this Kasse.
pub(super) fn same_origin(ctx: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let ours = ctx.public_url.origin().ascii_serialization();
    if origin.as_bytes() == ours.as_bytes() {
        Ok(())
    } else {
        Err(forbidden(
            ErrorCode::CrossOrigin,
            "The terminal only accepts requests from its own pages.",
        ))
    }
}

fn forbidden(code: ErrorCode, message: &str) -> ApiError {
    ApiError::Forbidden {
        code,
        message: message.to_string(),
    }
}

/// A member of staff, logged in by cookie, whose request passed the CSRF
/// check and whose login was just extended.
pub struct StaffAuth {
    pub user: StaffUser,
    pub merchant: Merchant,
    pub login: StaffLogin,
}

impl StaffAuth {
    /// The login of this request; `role` is what its route declares, if
    /// it declares one (see [`RouteRoles`]).
    pub async fn from_parts(
        parts: &mut Parts,
        ctx: &AppState,
        role: Option<StaffRole>,
    ) -> Result<Self, ApiError> {
        let ended = || {
            ApiError::Unauthorized(
                "You are not logged in, or your login has ended. Log in again.".to_string(),
            )
        };
        let token = login_token(ctx, &parts.headers).ok_or_else(ended)?;
        let now = ctx.clock.now();
        let login = ctx
            .store
            .staff_login(&ctx.secret.hash_key(token))
            .await?
            .filter(|l| l.expires_at > now)
            .ok_or_else(ended)?;
        if staff::needs_csrf(&parts.method, role) {
            same_origin(ctx, &parts.headers)?;
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &login.csrf_token) {
                return Err(forbidden(
                    ErrorCode::CsrfTokenInvalid,
                    "This request lacks the terminal's CSRF token; reload the terminal.",
                ));
            }
        }
        let user = ctx
            .store
            .staff_user(&login.user_id)
            .await?
            .ok_or_else(ended)?;
        let merchant = ctx
            .store
            .merchant(&user.merchant_id)
            .await?
            .ok_or_else(ended)?;
        // Extend the login, at most once a minute.
        let expires_at = staff::sliding_expiry(login.created, now);
        let login = if expires_at - login.expires_at >= 60 {
            ctx.store
                .extend_staff_login(&login.token_hash, expires_at)
                .await?;
            StaffLogin {
                expires_at,
                ..login
            }
        } else {
            login
        };
        Ok(Self {
            user,
            merchant,
            login,
        })
    }

    /// Refuses a call the member of staff's role does not allow.
    /// Refuses a call whose route declares no role (deny by default), or one
    /// above the member of staff's.
    pub fn allow(&self, needed: Option<StaffRole>) -> Result<(), ApiError> {
        let Some(needed) = needed else {
            tracing::info!(user = %self.user.id, "refused: the route declares no role");
            return Err(forbidden(
                ErrorCode::RoleInsufficient,
                "This call is not open to the terminal.",
            ));
        };
        if self.user.role >= needed {
            return Ok(());
        }
        tracing::info!(user = %self.user.id, needed = needed.as_str(), "refused by role");
        Err(forbidden(
            ErrorCode::RoleInsufficient,
            &format!(
                "Your role, {}, cannot do this; it takes an {}.",
                self.user.role.as_str(),
                needed.as_str()
            ),
        ))
    }
}

/// The role each merchant API route declares (`x-kasse-role` in its
/// OpenAPI annotation), by method and route template: read from the
/// document once, so that the role is written beside the route and a route
/// without one is closed to the terminal.
#[derive(Debug, Default)]
pub struct RouteRoles(HashMap<(Method, String), StaffRole>);

impl RouteRoles {
    pub fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let doc = serde_json::to_value(doc).expect("the document serialises");
        let mut roles = HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let role = operation
                    .get("x-kasse-role")
                    .and_then(serde_json::Value::as_str)
                    .and_then(StaffRole::parse);
                if let (Ok(method), Some(role)) =
                    (method.to_ascii_uppercase().parse::<Method>(), role)
                {
                    roles.insert((method, path.clone()), role);
                }
            }
        }
        Self(roles)
    }

    /// The role this request's route declares.
    pub fn of(&self, parts: &Parts) -> Option<StaffRole> {
        let route = parts.extensions.get::<MatchedPath>()?;
        self.0
            .get(&(parts.method.clone(), route.as_str().to_string()))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: StaffRole) -> StaffAuth {
        StaffAuth {
            user: StaffUser {
                id: "usr_1".into(),
                merchant_id: "mer_1".into(),
                email: "a@b.example".into(),
                password_hash: String::new(),
                role,
                created: 0,
            },
            merchant: Merchant {
                id: "mer_1".into(),
                name: "Shop".into(),
                origins: Vec::new(),
                signing_secret: String::new(),
                webhook_secret: None,
                appearance: Default::default(),
                created: 0,
            },
            login: StaffLogin {
                token_hash: String::new(),
                user_id: "usr_1".into(),
                csrf_token: String::new(),
                created: 0,
                expires_at: 0,
            },
        }
    }

    #[test]
    fn a_route_that_declares_no_role_is_closed_even_to_an_admin() {
        assert!(staff(StaffRole::Admin).allow(None).is_err());
        assert!(
            staff(StaffRole::Admin)
                .allow(Some(StaffRole::Admin))
                .is_ok()
        );
        assert!(
            staff(StaffRole::Operator)
                .allow(Some(StaffRole::Admin))
                .is_err()
        );
        assert!(
            staff(StaffRole::Viewer)
                .allow(Some(StaffRole::Viewer))
                .is_ok()
        );
    }

    #[test]
    fn what_takes_more_than_a_viewer_needs_the_csrf_token_even_on_get() {
        assert!(staff::needs_csrf(&Method::POST, None));
        assert!(staff::needs_csrf(&Method::GET, Some(StaffRole::Operator)));
        assert!(!staff::needs_csrf(&Method::GET, Some(StaffRole::Viewer)));
        assert!(!staff::needs_csrf(&Method::GET, None));
    }
}

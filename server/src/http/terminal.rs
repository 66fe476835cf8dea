//! `/terminal`: the merchant terminal's page, and its staff logins.
//!
//! A login is a random token in an HttpOnly, SameSite=Strict cookie (Secure
//! when Kasse is served over https), kept by the server only as a keyed
//! hash. With it the terminal calls the ordinary merchant API (`/v1/…`), so
//! the secret API key never reaches a browser; every call that changes
//! something must also carry the login's CSRF token in `Kasse-Csrf-Token`,
//! and each call is held to the member of staff's role.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{COOKIE, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kasse_core::api::{CSRF_HEADER, LoginRequest, StaffSession};

use super::{ApiError, ApiJson, AppState};
use crate::domain::limits::{self, Limit};
use crate::ids::new_secret;
use crate::secrets::constant_time_eq;
use crate::staff::{self, COOKIE as COOKIE_NAME};
use crate::store::{Merchant, StaffLogin, StaffUser};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/terminal", get(page))
        .route("/terminal/login", post(login))
        .route("/terminal/logout", post(logout))
        .route("/terminal/me", get(me))
}

async fn page(State(ctx): State<AppState>) -> Response {
    let page = &ctx.terminal_page;
    let Some(html) = page.html() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The terminal has not been built. Run `make run`, which builds it.",
        )
            .into_response();
    };
    super::pages::page_response(html, &format!("{}; frame-ancestors 'none'", page.csp()))
}

/// Log in to the terminal with an email and a password.
async fn login(
    State(ctx): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    same_origin(&ctx, &headers)?;
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = ctx.limits.client_ip(peer.ip(), forwarded);
    limits::hit(&ctx, Limit::LoginsPerAddress, &limits::client_key(client)).await?;
    limits::hit(
        &ctx,
        Limit::LoginsPerAccount,
        &req.email.trim().to_lowercase(),
    )
    .await?;
    // Each check holds tens of MiB for a moment: a flood of logins is
    // turned away at once instead of queueing until memory runs out.
    let Ok(_checking) = ctx.password_checks.clone().try_acquire_owned() else {
        return Err(ApiError::Unavailable {
            code: "login_busy",
            message: "Too many logins are being checked right now. Try again in a second.".into(),
            retry_after: 1,
        });
    };
    let password = req.password.expose().clone();
    let user = ctx.store.staff_user_by_email(&req.email).await?;
    // Hashing is slow on purpose: off the async threads.
    let verified = tokio::task::spawn_blocking({
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        move || match hash {
            Some(hash) => staff::verify_password(&password, &hash),
            None => {
                staff::verify_nothing(&password);
                false
            }
        }
    })
    .await
    .unwrap_or(false);
    let (Some(user), true) = (user, verified) else {
        tracing::info!(%client, "terminal login refused");
        return Err(ApiError::Unauthorized(
            "Wrong email or password.".to_string(),
        ));
    };
    let merchant = ctx
        .store
        .merchant(&user.merchant_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("Wrong email or password.".to_string()))?;
    let token = new_secret("");
    let now = ctx.clock.now();
    let login = StaffLogin {
        token_hash: ctx.secret.hash_key(&token),
        user_id: user.id.clone(),
        csrf_token: new_secret(""),
        created: now,
        expires_at: staff::sliding_expiry(now, now),
    };
    ctx.store.insert_staff_login(&login, now).await?;
    tracing::info!(user = %user.id, merchant = %merchant.id, "terminal login");
    let mut response = Json(session_body(&user, &merchant, &login)).into_response();
    let cookie = cookie(&ctx, &token, staff::MAX_SECONDS);
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

/// Ends this login, whatever state it is in.
async fn logout(State(ctx): State<AppState>, mut parts: Parts) -> Result<Response, ApiError> {
    let staff = StaffAuth::from_parts(&mut parts, &ctx).await?;
    ctx.store
        .delete_staff_login(&staff.login.token_hash)
        .await?;
    tracing::info!(user = %staff.user.id, "terminal logout");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&ctx, "", 0));
    Ok(response)
}

/// Who is logged in, with the CSRF token for this login.
async fn me(State(ctx): State<AppState>, mut parts: Parts) -> Result<Json<StaffSession>, ApiError> {
    let staff = StaffAuth::from_parts(&mut parts, &ctx).await?;
    Ok(Json(session_body(
        &staff.user,
        &staff.merchant,
        &staff.login,
    )))
}

fn session_body(user: &StaffUser, merchant: &Merchant, login: &StaffLogin) -> StaffSession {
    StaffSession {
        user_id: user.id.clone(),
        email: user.email.clone(),
        role: user.role,
        merchant_id: merchant.id.clone(),
        merchant_name: merchant.name.clone(),
        merchant_origins: merchant
            .origins
            .iter()
            .map(|o| o.as_str().to_string())
            .collect(),
        csrf_token: login.csrf_token.clone(),
        expires_at: login.expires_at,
    }
}

/// Under https the cookie carries the `__Host-` prefix: browsers then keep
/// it only if it is Secure, for `/`, and set by this host itself, so a
/// sibling subdomain cannot plant or overwrite it.
fn cookie_name(ctx: &AppState) -> String {
    if ctx.public_url.scheme() == "https" {
        format!("__Host-{COOKIE_NAME}")
    } else {
        COOKIE_NAME.to_string()
    }
}

fn cookie(ctx: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if ctx.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let name = cookie_name(ctx);
    HeaderValue::from_str(&format!(
        "{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("tokens are base62")
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
fn same_origin(ctx: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let ours = ctx.public_url.origin().ascii_serialization();
    if origin.as_bytes() == ours.as_bytes() {
        Ok(())
    } else {
        Err(forbidden(
            "cross_origin",
            "The terminal only accepts requests from its own pages.",
        ))
    }
}

fn forbidden(code: &'static str, message: &str) -> ApiError {
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
    pub async fn from_parts(parts: &mut Parts, ctx: &AppState) -> Result<Self, ApiError> {
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
        if staff::changes_state(&parts.method, parts.uri.path()) {
            same_origin(ctx, &parts.headers)?;
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &login.csrf_token) {
                return Err(forbidden(
                    "csrf_token_invalid",
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
    pub fn allow(&self, method: &Method, path: &str) -> Result<(), ApiError> {
        let needed = staff::required_role(method, path);
        if self.user.role >= needed {
            return Ok(());
        }
        tracing::info!(user = %self.user.id, %method, path, "refused by role");
        Err(forbidden(
            "role_insufficient",
            &format!(
                "Your role, {}, cannot do this; it takes an {}.",
                self.user.role.as_str(),
                needed.as_str()
            ),
        ))
    }
}

//! `/terminal`: the merchant terminal's page, and its staff logins.
//!
//! A login is a random token in an HttpOnly, SameSite=Strict cookie (Secure
//! when Kasse is served over https), kept by the server only as a keyed
//! hash. With it the terminal calls the ordinary merchant API (`/v1/…`), so
//! the secret API key never reaches a browser; every call that changes
//! something must also carry the login's CSRF token in `Kasse-Csrf-Token`,
//! and each call is held to the member of staff's role.

use kasse_core::error::ErrorCode;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kasse_core::api::{LoginRequest, StaffSession};

use super::staff_auth::{StaffAuth, cookie_name, same_origin};
use super::{ApiError, ApiJson, AppState};
use crate::domain::limits::{self, Limit};
use crate::ids::new_secret;
use crate::staff;
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
    let client = super::client_ip(&ctx, peer, &headers);
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
            code: ErrorCode::LoginBusy,
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
    let staff = StaffAuth::from_parts(&mut parts, &ctx, None).await?;
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
    let staff = StaffAuth::from_parts(&mut parts, &ctx, None).await?;
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

//! The terminal's calls: its login at `/terminal/…`, and the ordinary
//! merchant API, authorised by the login's cookie (never an API key) with
//! the CSRF token on every change.

use kasse_core::Sensitive;
use kasse_core::api::{CSRF_HEADER, ErrorBody, LoginRequest, StaffSession};
use kasse_core::error::ErrorCode;
use kasse_core::wire;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// Why a call failed, as the API said it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The HTTP status; 0 when the server was not reached.
    pub status: u16,
    /// The API's stable error code; `None` when Kasse was not reached or
    /// gave no explanation.
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl Failure {
    fn unreachable(detail: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            code: None,
            message: format!(
                "Kasse could not be reached ({detail}); check the connection and try again."
            ),
        }
    }

    /// The login is gone: log in again.
    pub fn logged_out(&self) -> bool {
        self.status == 401
    }
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, Failure> {
    let status = response.status();
    if (200..300).contains(&status) || status == 402 {
        return wire::read_json(&response)
            .await
            .map_err(|_| Failure::unreachable("the answer is not what the terminal expects"));
    }
    match wire::read_json::<ErrorBody>(&response).await {
        Ok(body) => Err(Failure {
            status,
            code: Some(body.error.code),
            message: body.error.message,
        }),
        Err(_) => Err(Failure {
            status,
            code: None,
            message: format!("Kasse answered {status} without an explanation."),
        }),
    }
}

/// What the browser said when a call got no answer.
fn browser_error(error: JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.to_string()),
        None => "no answer".into(),
    }
}

async fn send(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response, Failure> {
    wire::fetch(method, path, headers, body)
        .await
        .map_err(|e| Failure::unreachable(browser_error(e)))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    read(send("GET", path, &[], None).await?).await
}

/// A file the API serves (a report): its bytes and the headers named.
pub async fn download(path: &str, headers: &[&str]) -> Result<(Vec<u8>, Vec<String>), Failure> {
    let response = send("GET", path, &[], None).await?;
    if !response.ok() {
        return read::<IgnoredAny>(response)
            .await
            .map(|_| (Vec::new(), Vec::new()));
    }
    let values = headers
        .iter()
        .map(|h| response.headers().get(h).ok().flatten().unwrap_or_default())
        .collect();
    let bytes = match response.array_buffer() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(error) => Err(error),
    }
    .map_err(|e| Failure::unreachable(browser_error(e)))?;
    let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
    Ok((bytes, values))
}

/// A change: with the CSRF token, and an idempotency key so that a retry
/// never charges twice.
pub async fn post<T: DeserializeOwned>(
    path: &str,
    csrf: &str,
    body: Option<&impl Serialize>,
) -> Result<T, Failure> {
    let body = match body {
        Some(body) => Some(wire::to_json(body).map_err(|_| Failure {
            status: 0,
            code: None,
            message: "The terminal could not write this request.".into(),
        })?),
        None => None,
    };
    let headers = [(CSRF_HEADER, csrf), ("Idempotency-Key", &idempotency_key())];
    read(send("POST", path, &headers, body.as_deref()).await?).await
}

fn idempotency_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("{}", js_sys::Math::random()))
}

pub async fn me() -> Result<StaffSession, Failure> {
    get("/terminal/me").await
}

pub async fn login(email: &str, password: String) -> Result<StaffSession, Failure> {
    let body = LoginRequest {
        email: email.to_string(),
        password: Sensitive(password),
    };
    let body = wire::to_json(&body).map_err(|_| Failure {
        status: 0,
        code: None,
        message: "The terminal could not write the login.".into(),
    })?;
    read(send("POST", "/terminal/login", &[], Some(&body)).await?).await
}

pub async fn logout(csrf: &str) -> Result<(), Failure> {
    let response = send("POST", "/terminal/logout", &[(CSRF_HEADER, csrf)], None).await?;
    if response.ok() || response.status() == 401 {
        Ok(())
    } else {
        read::<IgnoredAny>(response).await.map(|_| ())
    }
}

//! The terminal's calls: its login at `/terminal/…`, and the ordinary
//! merchant API, authorised by the login's cookie (never an API key) with
//! the CSRF token on every change.

use gloo_net::http::{Request, RequestBuilder, Response};
use kasse_core::Sensitive;
use kasse_core::api::{CSRF_HEADER, ErrorBody, LoginRequest, StaffSession};
use kasse_core::error::ErrorCode;
use kasse_core::wire;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use wasm_bindgen_futures::JsFuture;

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

/// The body as the browser parsed it (`Response.json()`), typed by
/// [`wire`]: no JSON parser of the terminal's own.
async fn body<T: DeserializeOwned>(response: Response) -> Result<T, &'static str> {
    let response = web_sys::Response::from(response);
    let promise = response.json().map_err(|_| "the body was read already")?;
    let parsed = JsFuture::from(promise)
        .await
        .map_err(|_| "the answer is not JSON")?;
    wire::from_js(parsed).map_err(|_| "the answer is not what the terminal expects")
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, Failure> {
    let status = response.status();
    if (200..300).contains(&status) || status == 402 {
        return body(response).await.map_err(Failure::unreachable);
    }
    match body::<ErrorBody>(response).await {
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

async fn send(request: RequestBuilder, body: Option<String>) -> Result<Response, Failure> {
    let sent = match body {
        Some(body) => {
            request
                .header("Content-Type", "application/json")
                .body(body)
                .map_err(Failure::unreachable)?
                .send()
                .await
        }
        None => request.send().await,
    };
    sent.map_err(Failure::unreachable)
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    read(send(Request::get(path), None).await?).await
}

/// A file the API serves (a report): its bytes and the headers named.
pub async fn download(path: &str, headers: &[&str]) -> Result<(Vec<u8>, Vec<String>), Failure> {
    let response = send(Request::get(path), None).await?;
    if !response.ok() {
        return read::<IgnoredAny>(response)
            .await
            .map(|_| (Vec::new(), Vec::new()));
    }
    let values = headers
        .iter()
        .map(|h| response.headers().get(h).unwrap_or_default())
        .collect();
    let bytes = response.binary().await.map_err(Failure::unreachable)?;
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
    let request = Request::post(path)
        .header(CSRF_HEADER, csrf)
        .header("Idempotency-Key", &idempotency_key());
    read(send(request, body).await?).await
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
    read(send(Request::post("/terminal/login"), Some(body)).await?).await
}

pub async fn logout(csrf: &str) -> Result<(), Failure> {
    let response = send(
        Request::post("/terminal/logout").header(CSRF_HEADER, csrf),
        None,
    )
    .await?;
    if response.ok() || response.status() == 401 {
        Ok(())
    } else {
        read::<IgnoredAny>(response).await.map(|_| ())
    }
}

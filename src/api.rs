//! The payment page API (`/v1/pay/…`), called with the session's client secret.

use gloo_net::http::{Request, Response};
use kasse_core::api::{
    CLIENT_SECRET_HEADER, ConfirmRequest, ConfirmResponse, ErrorBody, PaySession, UpdatePage,
    UpdateRequest, UpdateResponse,
};
use kasse_core::error::ErrorCode;
use serde::de::DeserializeOwned;

/// Why a call failed, in words for the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    /// The API's stable error code; `None` when the server was not reached.
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl ApiFailure {
    fn unreachable() -> Self {
        Self {
            code: None,
            message: "We could not reach the payment server. Check your connection and try again."
                .into(),
        }
    }
}

async fn read<T: DeserializeOwned>(response: Response, ok: &[u16]) -> Result<T, ApiFailure> {
    if ok.contains(&response.status()) {
        return response.json().await.map_err(|_| ApiFailure::unreachable());
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiFailure {
            code: Some(body.error.code),
            message: body.error.message,
        }),
        Err(_) => Err(ApiFailure::unreachable()),
    }
}

pub async fn load_session(id: &str, secret: &str) -> Result<PaySession, ApiFailure> {
    let response = Request::get(&format!("/v1/pay/{id}"))
        .header(CLIENT_SECRET_HEADER, secret)
        .send()
        .await
        .map_err(|_| ApiFailure::unreachable())?;
    read(response, &[200]).await
}

/// A decline (402) is an answer, not a failure: it carries the reason.
pub async fn confirm(
    id: &str,
    secret: &str,
    request: &ConfirmRequest,
) -> Result<ConfirmResponse, ApiFailure> {
    let response = Request::post(&format!("/v1/pay/{id}/confirm"))
        .header(CLIENT_SECRET_HEADER, secret)
        .json(request)
        .map_err(|_| ApiFailure::unreachable())?
        .send()
        .await
        .map_err(|_| ApiFailure::unreachable())?;
    read(response, &[200, 402]).await
}

/// The card update page's link.
pub async fn load_update(id: &str, secret: &str) -> Result<UpdatePage, ApiFailure> {
    let response = Request::get(&format!("/v1/pay/update/{id}"))
        .header(CLIENT_SECRET_HEADER, secret)
        .send()
        .await
        .map_err(|_| ApiFailure::unreachable())?;
    read(response, &[200]).await
}

pub async fn update_card(
    id: &str,
    secret: &str,
    request: &UpdateRequest,
) -> Result<UpdateResponse, ApiFailure> {
    let response = Request::post(&format!("/v1/pay/update/{id}/confirm"))
        .header(CLIENT_SECRET_HEADER, secret)
        .json(request)
        .map_err(|_| ApiFailure::unreachable())?
        .send()
        .await
        .map_err(|_| ApiFailure::unreachable())?;
    read(response, &[200]).await
}

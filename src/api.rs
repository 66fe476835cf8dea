//! The payment page API (`/v1/pay/…`), called with the session's client secret.
//!
//! Bodies go through the browser's own JSON (`Response.json()`,
//! `JSON.stringify`), so the page carries no JSON parser of its own: answers
//! are read field by field ([`kasse_core::decode`]), requests written with
//! serde ([`kasse_core::wire`]).

use kasse_core::api::{
    CLIENT_SECRET_HEADER, ConfirmRequest, ConfirmResponse, NextAction, PaySession, UpdatePage,
    UpdateRequest, UpdateResponse,
};
use kasse_core::decode::{self, Decode, Fields};
use kasse_core::error::{DeclineCode, ErrorCode};
use kasse_core::wire;
use serde::Serialize;
use wasm_bindgen::JsValue;

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

async fn read<T: Decode>(response: web_sys::Response, ok: &[u16]) -> Result<T, ApiFailure> {
    if ok.contains(&response.status()) {
        return decode::read(&response)
            .await
            .map_err(|_| ApiFailure::unreachable());
    }
    match decode::read::<Refusal>(&response).await {
        Ok(refusal) => Err(ApiFailure {
            code: Some(refusal.error.code),
            message: refusal.error.message,
        }),
        Err(_) => Err(ApiFailure::unreachable()),
    }
}

/// The part of an error body ([`kasse_core::api::ErrorBody`]) the page
/// uses: the code and the message. Reading only these leaves the readers
/// of the rest (error types, payment statuses) out of the page.
#[derive(Debug)]
pub struct Refusal {
    pub error: RefusalDetail,
}

#[derive(Debug)]
pub struct RefusalDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl Decode for Refusal {
    fn decode(value: JsValue) -> Option<Self> {
        let error: Fields = Fields::of(value)?.get("error")?;
        Some(Refusal {
            error: RefusalDetail {
                code: error.get("code")?,
                message: error.get("message")?,
            },
        })
    }
}

/// [`ConfirmResponse`] read flat, its variant by `status`.
#[derive(Debug)]
pub struct ConfirmAnswer {
    pub status: String,
    pub payment_id: String,
    pub redirect_url: Option<String>,
    pub decline_code: Option<DeclineCode>,
    pub message: Option<String>,
    pub next_action: Option<NextAction>,
}

impl Decode for ConfirmAnswer {
    fn decode(value: JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(ConfirmAnswer {
            status: f.get("status")?,
            payment_id: f.get("payment_id")?,
            redirect_url: f.get("redirect_url")?,
            decline_code: f.get("decline_code")?,
            message: f.get("message")?,
            next_action: f.get("next_action")?,
        })
    }
}

impl ConfirmAnswer {
    /// The answer as the API type; `None` when a field its status needs is
    /// missing or the status is unknown.
    pub fn into_response(self) -> Option<ConfirmResponse> {
        let payment_id = self.payment_id;
        Some(match self.status.as_str() {
            "succeeded" => ConfirmResponse::Succeeded {
                payment_id,
                redirect_url: self.redirect_url?,
            },
            "declined" => ConfirmResponse::Declined {
                payment_id,
                decline_code: self.decline_code?,
                message: self.message?,
                redirect_url: self.redirect_url,
            },
            "requires_action" => ConfirmResponse::RequiresAction {
                payment_id,
                next_action: self.next_action?,
            },
            _ => return None,
        })
    }
}

/// `GET` or `POST` with the client secret; a `POST` carries `body` as JSON.
async fn call<T: Decode>(
    method: &str,
    url: &str,
    secret: &str,
    body: Option<&impl Serialize>,
    ok: &[u16],
) -> Result<T, ApiFailure> {
    let body = match body {
        None => None,
        Some(body) => Some(wire::to_json(body).map_err(|_| ApiFailure::unreachable())?),
    };
    let response = wire::fetch(
        method,
        url,
        &[(CLIENT_SECRET_HEADER, secret)],
        body.as_deref(),
    )
    .await
    .map_err(|_| ApiFailure::unreachable())?;
    read(response, ok).await
}

/// A request with no body.
const NO_BODY: Option<&()> = None;

pub async fn load_session(id: &str, secret: &str) -> Result<PaySession, ApiFailure> {
    let url = ["/v1/pay/", id].concat();
    call("GET", &url, secret, NO_BODY, &[200]).await
}

/// A decline (402) is an answer, not a failure: it carries the reason.
pub async fn confirm(
    id: &str,
    secret: &str,
    request: &ConfirmRequest,
) -> Result<ConfirmResponse, ApiFailure> {
    let url = ["/v1/pay/", id, "/confirm"].concat();
    let answer: ConfirmAnswer = call("POST", &url, secret, Some(request), &[200, 402]).await?;
    answer.into_response().ok_or_else(ApiFailure::unreachable)
}

/// The card update page's link.
pub async fn load_update(id: &str, secret: &str) -> Result<UpdatePage, ApiFailure> {
    let url = ["/v1/pay/update/", id].concat();
    call("GET", &url, secret, NO_BODY, &[200]).await
}

pub async fn update_card(
    id: &str,
    secret: &str,
    request: &UpdateRequest,
) -> Result<UpdateResponse, ApiFailure> {
    let url = ["/v1/pay/update/", id, "/confirm"].concat();
    call("POST", &url, secret, Some(request), &[200]).await
}

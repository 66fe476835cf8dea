//! Second wire formats over the same domain operations as Kasse's own API,
//! so that a merchant's existing integration works by changing only its
//! base URL (Hyperswitch's `compatibility/stripe` is the model):
//!
//! - [`sslcommerz`]: the SSLCOMMERZ v4 API, its IPN and its form-POST return
//!   (`../shared/compat/SSLCOMMERZ.md`);
//! - [`simple`]: the simple checkout API (`POST /api/v1/checkout`).
//!
//! Each turns its request into a domain call and the domain's answer into
//! its own shape; Kasse's own API does not change for them.

pub mod credentials;
pub mod ipn;
mod params;
mod returns;
pub mod simple;
pub mod sslcommerz;
mod validator;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::views;
use crate::http::Surfaces;
use crate::state::AppState;
use crate::store::{CompatSession, Session, StoreError};

/// Both surfaces, for the HTTP router to serve and document beside Kasse's
/// own API.
pub fn surfaces() -> Surfaces {
    Surfaces {
        // SSLCOMMERZ's calls carry their own credentials.
        public: sslcommerz::router().merge(validator::router()),
        // The simple surface takes the merchant's secret key.
        merchant: simple::router().merge(credentials::router()),
        pages: returns::router()
            .merge(sslcommerz::pages())
            .merge(simple::pages()),
    }
}

/// The answer to a surface's page URL (SSLCOMMERZ's `GatewayPageURL`, the
/// simple surface's `payment_url`): on to the session behind `token`, its
/// client secret in the fragment, with `extra` query pairs.
async fn to_hosted_page(ctx: &AppState, token: &str, extra: &[(&str, &str)]) -> Response {
    let found = match ctx.store.compat_session_by_token(token).await {
        Ok(Some(compat)) => {
            ctx.store
                .session(&compat.merchant_id, &compat.session_id)
                .await
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    match found {
        Ok(Some(session)) => {
            let mut to = url::Url::parse(&views::hosted_page_url(ctx, &session)).expect("a URL");
            if !extra.is_empty() {
                to.query_pairs_mut().extend_pairs(extra.iter().copied());
            }
            Redirect::to(to.as_str()).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            "No such payment. Go back to the shop and start again.",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not find a payment page");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Kasse could not open the payment just now; reload this page.",
            )
                .into_response()
        }
    }
}

/// Stores a session a surface made, with the surface's record of it: the
/// `token` in its page URL, the SSLCOMMERZ store that made it, the fields it
/// echoes back.
async fn keep_session(
    ctx: &AppState,
    session: &Session,
    token: String,
    store_id: Option<String>,
    fields: BTreeMap<String, String>,
) -> Result<CompatSession, StoreError> {
    let compat = CompatSession {
        session_id: session.id.clone(),
        merchant_id: session.merchant_id.clone(),
        token,
        store_id,
        fields,
        canceled: None,
        created: session.created,
    };
    ctx.store.insert_compat_session(&compat, session).await?;
    tracing::info!(
        session = %session.id, merchant = %session.merchant_id,
        surface = session.surface.as_str(), "checkout session created"
    );
    Ok(compat)
}

//! `/v1/pay/update/{id}`: the card update page's own API, authorised by the
//! link's secret (in `Kasse-Client-Secret`), as the payment page's is.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use kasse_core::api::{ErrorBody, UpdatePage, UpdateRequest, UpdateResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, ClientSecret};
use crate::domain::card_update;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(confirm))
}

/// Read a card update link for its page
#[utoipa::path(
    get, path = "/v1/pay/update/{id}", tag = "Payment page",
    params(("id" = String, Path, description = "The link's id, `pmu_…`")),
    responses(
        (status = 200, description = "What the page shows", body = UpdatePage),
        (status = 401, description = "No secret", body = ErrorBody),
        (status = 404, description = "No such link, or a wrong secret", body = ErrorBody),
    ),
    security(("client_secret" = []))
)]
async fn show(
    State(ctx): State<AppState>,
    Path(id): Path<String>,
    secret: ClientSecret,
) -> Result<Json<UpdatePage>, ApiError> {
    Ok(Json(card_update::page(&ctx, &id, &secret.0).await?))
}

/// Replace the saved card
///
/// Checks the new card with the acquirer without charging it; it then
/// takes the old card's place under the same `pm_…`.
#[utoipa::path(
    post, path = "/v1/pay/update/{id}/confirm", tag = "Payment page",
    params(("id" = String, Path, description = "The link's id, `pmu_…`")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "Replaced", body = UpdateResponse),
        (status = 400, description = "The card fails Kasse's checks, is declined, or is saved already", body = ErrorBody),
        (status = 401, description = "No secret", body = ErrorBody),
        (status = 404, description = "No such link, or a wrong secret", body = ErrorBody),
        (status = 409, description = "The link was used or has expired", body = ErrorBody),
        (status = 422, description = "This Kasse has no card vault key", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ),
    security(("client_secret" = []))
)]
async fn confirm(
    State(ctx): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    secret: ClientSecret,
    ApiJson(req): ApiJson<UpdateRequest>,
) -> Result<Json<UpdateResponse>, ApiError> {
    let client = super::client_ip(&ctx, peer, &headers);
    let (card, return_url) = card_update::update(&ctx, &id, &secret.0, client, &req.card).await?;
    Ok(Json(UpdateResponse {
        card: kasse_core::api::SavedCard {
            id: card.id,
            brand: card.card_brand,
            last4: card.card_last4,
            exp_month: card.card_exp_month,
            exp_year: card.card_exp_year,
        },
        return_url,
    }))
}

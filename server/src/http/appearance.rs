//! `/v1/merchant/appearance`: the look of a merchant's payment pages, and
//! the checks a session's own `appearance` passes too. Values are design
//! tokens checked by kasse-core; raw CSS is refused with a clear error.

use axum::Json;
use axum::extract::State;
use kasse_core::api::ErrorBody;
use kasse_core::appearance::Appearance;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, MerchantAuth};
use crate::domain::appearance;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_appearance, set_appearance))
}

/// Read the merchant's appearance
#[utoipa::path(
    get, path = "/v1/merchant/appearance", tag = "Appearance",
    responses((status = 200, description = "The default look of the merchant's pages", body = Appearance)),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn read_appearance(MerchantAuth(merchant): MerchantAuth) -> Json<Appearance> {
    Json(merchant.appearance)
}

/// Set the merchant's appearance
///
/// Replaces the default look of every payment page of the merchant; a
/// session's own `appearance` goes over it. See docs/THEMING.md for the tokens.
#[utoipa::path(
    put, path = "/v1/merchant/appearance", tag = "Appearance",
    request_body = Appearance,
    responses(
        (status = 200, description = "Stored", body = Appearance),
        (status = 400, description = "A value is not a valid token value", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn set_appearance(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(appearance): ApiJson<Appearance>,
) -> Result<Json<Appearance>, ApiError> {
    let appearance = appearance::checked(&merchant, &Appearance::default(), appearance)?;
    ctx.store
        .set_merchant_appearance(&merchant.id, &appearance)
        .await?;
    Ok(Json(appearance))
}

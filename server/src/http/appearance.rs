//! `/v1/merchant/appearance`: the look of a merchant's payment pages, and
//! the checks a session's own `appearance` passes too. Values are design
//! tokens checked by kasse-core; raw CSS is refused with a clear error.

use axum::Json;
use axum::extract::State;
use kasse_core::api::ErrorBody;
use kasse_core::appearance::Appearance;
use kasse_core::origin::redirect_url_on;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, MerchantAuth};
use crate::store::{Merchant, Session};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_appearance, set_appearance))
}

/// An appearance as it may be stored: every token checked, the logo on
/// one of the merchant's origins, and the amount legible once it is laid
/// over `base` (nothing for a merchant's default; the merchant's default
/// for a session's own).
pub fn checked(
    merchant: &Merchant,
    base: &Appearance,
    appearance: Appearance,
) -> Result<Appearance, ApiError> {
    let refused = |e: kasse_core::appearance::AppearanceError| {
        ApiError::invalid(
            "parameter_invalid",
            &e.field,
            format!("{} {}.", e.field, e.message),
        )
    };
    appearance.validate().map_err(refused)?;
    base.overlaid(&appearance)
        .check_legible()
        .map_err(refused)?;
    if let Some(logo) = &appearance.logo_url {
        redirect_url_on(logo, &merchant.origins).map_err(|e| {
            let origins: Vec<&str> = merchant.origins.iter().map(|o| o.as_str()).collect();
            ApiError::invalid(
                "url_not_allowed",
                "appearance.logo_url",
                format!(
                    "appearance.logo_url '{logo}' {e}. Registered origins: {}.",
                    origins.join(", ")
                ),
            )
        })?;
    }
    Ok(appearance)
}

/// How a session's page looks: the merchant's default with the session's changes.
pub fn effective_appearance(merchant: &Merchant, session: &Session) -> Appearance {
    match &session.appearance {
        Some(own) => merchant.appearance.overlaid(own),
        None => merchant.appearance.clone(),
    }
}

/// Read the merchant's appearance
#[utoipa::path(
    get, path = "/v1/merchant/appearance", tag = "Appearance",
    responses((status = 200, description = "The default look of the merchant's pages", body = Appearance)),
    security(("secret_key" = []))
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
    security(("secret_key" = []))
)]
async fn set_appearance(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(appearance): ApiJson<Appearance>,
) -> Result<Json<Appearance>, ApiError> {
    let appearance = checked(&merchant, &Appearance::default(), appearance)?;
    ctx.store
        .set_merchant_appearance(&merchant.id, &appearance)
        .await?;
    Ok(Json(appearance))
}

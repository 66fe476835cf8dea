//! A merchant's look for its payment pages, as it may be stored: design
//! tokens checked, the logo on its origins, the amount legible.

use kasse_core::appearance::Appearance;
use kasse_core::error::ErrorCode;
use kasse_core::origin::redirect_url_on;

use super::DomainError;
use crate::store::{Merchant, Session};

/// An appearance as it may be stored: every token checked, the logo on
/// one of the merchant's origins, and the amount legible once it is laid
/// over `base` (nothing for a merchant's default; the merchant's default
/// for a session's own).
pub fn checked(
    merchant: &Merchant,
    base: &Appearance,
    appearance: Appearance,
) -> Result<Appearance, DomainError> {
    let refused = |e: kasse_core::appearance::AppearanceError| {
        DomainError::invalid(
            ErrorCode::ParameterInvalid,
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
            DomainError::invalid(
                ErrorCode::UrlNotAllowed,
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
pub fn effective(merchant: &Merchant, session: &Session) -> Appearance {
    match &session.appearance {
        Some(own) => merchant.appearance.overlaid(own),
        None => merchant.appearance.clone(),
    }
}

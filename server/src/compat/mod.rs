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

use crate::http::Surfaces;

/// Both surfaces, for the HTTP router to serve and document beside Kasse's
/// own API.
pub fn surfaces() -> Surfaces {
    Surfaces {
        // SSLCOMMERZ's calls carry their own credentials.
        public: sslcommerz::router(),
        // The simple surface takes the merchant's secret key.
        merchant: simple::router().merge(credentials::router()),
        pages: returns::router()
            .merge(sslcommerz::pages())
            .merge(simple::pages()),
    }
}

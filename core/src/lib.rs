//! Kasse's domain core: pure logic shared by the server and the payment page.
//!
//! Nothing here does I/O, so the page validates a card with exactly the code
//! the server runs, and both agree on money, statuses and the API's shapes.

pub mod api;
pub mod appearance;
pub mod card;
pub mod consent;
#[cfg(feature = "wire")]
pub mod decode;
pub mod error;
pub mod event;
pub mod fees;
pub mod locale;
pub mod money;
pub mod origin;
pub mod redirect;
pub mod sensitive;
pub mod staff;
pub mod status;
pub mod time;
pub mod webhook;
#[cfg(feature = "wire")]
pub mod wire;

pub use card::{CardBrand, CardNumber, Cvc, Expiry};
pub use locale::{Locale, RequestedLocale};
pub use money::{Currency, Money};
pub use sensitive::Sensitive;
pub use status::{PaymentAction, PaymentStatus, SessionStatus, TransitionError};

//! Kasse's hosted payment page: Leptos, rendered in the browser.
//!
//! The page reads its session id from the path (`/pay/{id}`) and the client
//! secret from the URL fragment, which no server and no `Referer` sees.

pub mod answer;
pub mod api;
pub mod card_form;
pub mod checkout;
pub mod embed;
pub mod i18n;
pub mod theme;
pub mod update;

pub use card_form::CardForm;
pub use checkout::App;
pub use update::UpdateApp;

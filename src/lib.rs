//! Kasse's hosted payment page: Leptos, rendered in the browser.
//!
//! The page reads its session id from the path (`/pay/{id}`) and the client
//! secret from the URL fragment, which no server and no `Referer` sees. The
//! same build serves the card update page (`/update/{id}`), which a
//! customer opens to replace a saved card.

pub mod answer;
pub mod api;
pub mod card_form;
pub mod checkout;
pub mod embed;
pub mod i18n;
pub mod theme;
pub mod update;
pub mod wire;

pub use card_form::CardForm;
pub use checkout::App;
pub use update::UpdateApp;

use leptos::prelude::*;

/// The page for the path: the card update page at `/update/…`, else the
/// payment page; one build serves both.
#[component]
pub fn Root() -> impl IntoView {
    let path = window().location().pathname().unwrap_or_default();
    if path.starts_with("/update/") {
        view! { <UpdateApp /> }.into_any()
    } else {
        view! { <App /> }.into_any()
    }
}

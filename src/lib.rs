//! Kasse's hosted payment page: Leptos, rendered in the browser.
//!
//! The page reads its session id from the path (`/pay/{id}`) and the client
//! secret from the URL fragment, which no server and no `Referer` sees. The
//! card update page (`/update/{id}`), which a customer opens to replace a
//! saved card, shares the card form but is its own bundle (the `kasse-update`
//! binary, `update.html`): the payment page's customers do not download it.

pub mod answer;
pub mod api;
pub mod card_form;
pub mod checkout;
pub mod embed;
pub mod fresh;
pub mod i18n;
pub mod plain;
pub mod theme;
pub mod update;

pub use card_form::CardForm;
pub use checkout::App;
pub use update::UpdateApp;

/// An ARIA true/false state's value (`aria-busy`, `aria-invalid`), without
/// `bool`'s `Display`, which the pages would carry for this alone.
pub(crate) fn aria(state: bool) -> &'static str {
    if state { "true" } else { "false" }
}

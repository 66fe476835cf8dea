//! Puts a session's appearance on the page: the colour scheme as
//! `data-color-scheme` on `<html>`, and the design tokens as CSS custom
//! properties on it. Values are checked again here with kasse-core's rules,
//! so the page never sets what the server would have refused.

use kasse_core::appearance::{Appearance, ColorScheme, TOKENS};
use wasm_bindgen::JsCast;

/// Whether the dark tokens apply: forced, or the device prefers dark.
fn is_dark(scheme: ColorScheme) -> bool {
    match scheme {
        ColorScheme::Dark => true,
        ColorScheme::Light => false,
        ColorScheme::Auto => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|query| query.matches()),
    }
}

/// Applies `appearance` to the document, replacing any applied before.
pub fn apply(appearance: &Appearance) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let scheme = appearance.color_scheme.unwrap_or_default();
    let _ = match scheme {
        ColorScheme::Auto => root.remove_attribute("data-color-scheme"),
        ColorScheme::Light => root.set_attribute("data-color-scheme", "light"),
        ColorScheme::Dark => root.set_attribute("data-color-scheme", "dark"),
    };
    let style = root.style();
    for token in TOKENS {
        let _ = style.remove_property(&["--kasse-", token.name].concat());
    }
    let (light, dark) = appearance.properties();
    let chosen = if is_dark(scheme) {
        // Dark values go over the shared ones, token by token.
        light.into_iter().chain(dark).collect::<Vec<_>>()
    } else {
        light
    };
    for (name, value) in chosen {
        let _ = style.set_property(&name, &value);
    }
}

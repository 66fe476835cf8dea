//! A session's appearance on the page, in a real browser.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use kasse_core::appearance::{Appearance, ColorScheme};
use kasse_web::theme::apply;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn root() -> web_sys::HtmlElement {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .document_element()
        .unwrap()
        .dyn_into()
        .unwrap()
}

fn token(name: &str) -> String {
    root().style().get_property_value(name).unwrap()
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[wasm_bindgen_test]
fn a_forced_dark_scheme_sets_the_attribute_and_the_dark_tokens() {
    apply(&Appearance {
        color_scheme: Some(ColorScheme::Dark),
        variables: vars(&[("color-primary", "#0a7d5a"), ("radius", "12px")]),
        dark_variables: vars(&[("color-primary", "#5fd4a8")]),
        logo_url: None,
    });
    assert_eq!(
        root().get_attribute("data-color-scheme").as_deref(),
        Some("dark")
    );
    assert_eq!(token("--kasse-color-primary"), "#5fd4a8");
    assert_eq!(token("--kasse-radius"), "12px");

    // Applying another appearance replaces the first entirely.
    apply(&Appearance {
        color_scheme: Some(ColorScheme::Light),
        variables: vars(&[("font-family", "serif")]),
        dark_variables: vars(&[("color-primary", "#5fd4a8")]),
        logo_url: None,
    });
    assert_eq!(
        root().get_attribute("data-color-scheme").as_deref(),
        Some("light")
    );
    assert_eq!(token("--kasse-color-primary"), "");
    assert_eq!(token("--kasse-radius"), "");
    assert!(token("--kasse-font-family").starts_with("Georgia"));

    apply(&Appearance::default());
    assert_eq!(root().get_attribute("data-color-scheme"), None);
    assert_eq!(token("--kasse-font-family"), "");
}

#[wasm_bindgen_test]
fn values_the_server_would_refuse_are_never_set() {
    apply(&Appearance {
        variables: vars(&[
            (
                "color-primary",
                "red; background: url(https://evil.example/)",
            ),
            ("radius", "900px"),
            ("space", "20px"),
        ]),
        ..Appearance::default()
    });
    assert_eq!(token("--kasse-color-primary"), "");
    assert_eq!(token("--kasse-radius"), "");
    assert_eq!(token("--kasse-space"), "20px");
    apply(&Appearance::default());
}

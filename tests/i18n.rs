//! The page's languages in a real browser: the card form's words, its
//! errors, and amounts written as the browser's own ICU writes them.
#![cfg(target_arch = "wasm32")]

use kasse_core::{Currency, Locale};
use kasse_web::CardForm;
use kasse_web::i18n::EN;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

mod common;
use common::{new_root, settle};

wasm_bindgen_test_configure!(run_in_browser);

/// A card form with `locale` in context; the root is removed by the caller.
async fn form_in(locale: Locale) -> HtmlElement {
    let root = new_root();
    leptos::mount::mount_to(root.clone(), move || {
        provide_context(locale);
        view! {
            <CardForm
                busy=RwSignal::new(false)
                pay_label="Pay".to_string()
                on_submit=Callback::new(|_| {})
                today=(2026, 11)
            />
        }
    })
    .forget();
    settle().await;
    root
}

fn text(root: &HtmlElement, css: &str) -> String {
    root.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("{css} exists"))
        .text_content()
        .unwrap_or_default()
}

async fn submit_empty(root: &HtmlElement) {
    let button: HtmlElement = root
        .query_selector("#pay-button")
        .unwrap()
        .unwrap()
        .unchecked_into();
    button.click();
    settle().await;
}

#[wasm_bindgen_test]
async fn the_form_speaks_bangla_labels_and_errors_with_bengali_digits() {
    let root = form_in(Locale::Bn).await;
    assert_eq!(text(&root, "label[for=card-number]"), "কার্ড নম্বর");
    assert_eq!(text(&root, "label[for=card-name]"), "কার্ডে লেখা নাম");
    submit_empty(&root).await;
    assert_eq!(text(&root, "#card-number-error"), "কার্ড নম্বর লিখুন।");
    assert_eq!(text(&root, "#card-expiry-error"), "মেয়াদ MM / YY আকারে লিখুন।");
    assert_eq!(
        text(&root, "#card-cvc-error"),
        "নিরাপত্তা কোডে ৩টি অঙ্ক থাকে।",
        "the digit count in Bengali digits"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn the_form_speaks_mongolian() {
    let root = form_in(Locale::Mn).await;
    assert_eq!(text(&root, "label[for=card-number]"), "Картын дугаар");
    assert_eq!(text(&root, "label[for=card-cvc]"), "Аюулгүйн код");
    submit_empty(&root).await;
    assert_eq!(
        text(&root, "#card-number-error"),
        "Картын дугаараа оруулна уу."
    );
    assert_eq!(text(&root, "#card-cvc-error"), "Аюулгүйн код 3 оронтой.");
    root.remove();
}

#[wasm_bindgen_test]
async fn without_a_language_in_context_the_form_is_english() {
    let root = new_root();
    leptos::mount::mount_to(root.clone(), || {
        view! {
            <CardForm busy=RwSignal::new(false) pay_label="Pay".to_string() on_submit=Callback::new(|_| {}) />
        }
    })
    .forget();
    settle().await;
    assert_eq!(text(&root, "label[for=card-number]"), EN.card_number);
    root.remove();
}

/// `Intl.NumberFormat(locale, {style: "currency", currency, currencyDisplay: "narrowSymbol"})`.
fn browser_format(locale: &str, currency: &str, amount: f64) -> String {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"style".into(), &"currency".into()).unwrap();
    js_sys::Reflect::set(&options, &"currency".into(), &currency.into()).unwrap();
    js_sys::Reflect::set(&options, &"currencyDisplay".into(), &"narrowSymbol".into()).unwrap();
    let locales = js_sys::Array::of1(&locale.into());
    js_sys::Intl::NumberFormat::new(&locales, &options)
        .format()
        .call1(&wasm_bindgen::JsValue::NULL, &amount.into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// Whether the browser's ICU has the language's own data (Chromium ships
/// Bangla but may leave Mongolian out, falling back to English).
fn browser_speaks(tag: &str) -> bool {
    let asked = js_sys::Array::of1(&tag.into());
    js_sys::Intl::NumberFormat::supported_locales_of(&asked, &js_sys::Object::new()).length() > 0
}

#[wasm_bindgen_test]
fn amounts_are_written_as_the_browsers_icu_writes_them() {
    assert!(
        browser_speaks("en") && browser_speaks("bn"),
        "the comparison means something"
    );
    let amounts = [
        0i64,
        5,
        99,
        1_250,
        125_050,
        1_234_567,
        123_456_789,
        99_999_999_999,
    ];
    let currencies = ["USD", "BDT", "MNT", "JPY", "BHD", "EUR"];
    // Mongolian is held to CLDR's patterns in kasse-core's own tests.
    for locale in Locale::ALL.iter().filter(|l| browser_speaks(l.tag())) {
        for code in currencies {
            let currency = Currency::parse(code).unwrap();
            for minor in amounts {
                let major = minor as f64 / 10f64.powi(currency.exponent() as i32);
                let ours = kasse_web::i18n::amount(*locale, minor, code);
                let icu = browser_format(locale.tag(), code, major);
                assert_eq!(ours, icu, "{locale} {code} {minor}");
            }
        }
    }
}

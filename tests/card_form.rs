//! The card form in a real browser: typing, grouping, brand, errors, submit.
#![cfg(target_arch = "wasm32")]

use std::sync::{Arc, Mutex};

use kasse_core::api::CardInput;
use kasse_web::CardForm;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, EventInit, HtmlButtonElement, HtmlElement, HtmlInputElement};

mod common;
use common::{document, new_root, settle};

wasm_bindgen_test_configure!(run_in_browser);

struct Form {
    submitted: Arc<Mutex<Vec<CardInput>>>,
    busy: RwSignal<bool>,
    root: HtmlElement,
}

impl Drop for Form {
    fn drop(&mut self) {
        self.root.remove();
    }
}

async fn mount() -> Form {
    let root = new_root();
    let submitted = Arc::new(Mutex::new(Vec::new()));
    let busy = RwSignal::new(false);
    let sink = submitted.clone();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <CardForm
                busy=busy
                pay_label="Pay $12.50".to_string()
                on_submit=Callback::new(move |card| sink.lock().unwrap().push(card))
                today=(2026, 11)
            />
        }
    });
    handle.forget();
    settle().await;
    Form {
        submitted,
        busy,
        root,
    }
}

impl Form {
    fn input(&self, id: &str) -> HtmlInputElement {
        self.root
            .query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap_or_else(|| panic!("#{id} exists"))
            .unchecked_into()
    }

    fn text(&self, id: &str) -> String {
        self.root
            .query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap_or_default()
    }

    fn button(&self) -> HtmlButtonElement {
        self.root
            .query_selector("#pay-button")
            .unwrap()
            .unwrap()
            .unchecked_into()
    }

    async fn type_into(&self, id: &str, value: &str) {
        let input = self.input(id);
        input.set_value(value);
        let init = EventInit::new();
        init.set_bubbles(true);
        input
            .dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap())
            .unwrap();
        settle().await;
    }

    async fn submit(&self) {
        self.button().click();
        settle().await;
    }

    async fn fill(&self, number: &str, expiry: &str, cvc: &str) {
        self.type_into("card-number", number).await;
        self.type_into("card-expiry", expiry).await;
        self.type_into("card-cvc", cvc).await;
        self.type_into("card-name", "Ada Lovelace").await;
    }
}

#[wasm_bindgen_test]
async fn digits_are_grouped_and_the_brand_is_named_while_typing() {
    let form = mount().await;
    form.type_into("card-number", "42424242").await;
    assert_eq!(form.input("card-number").value(), "4242 4242");
    assert_eq!(form.text("card-brand"), "Visa");

    form.type_into("card-number", "378282246310005").await;
    assert_eq!(form.input("card-number").value(), "3782 822463 10005");
    assert_eq!(form.text("card-brand"), "American Express");
    assert_eq!(
        form.input("card-cvc").max_length(),
        4,
        "Amex has a four-digit code"
    );

    form.type_into("card-number", "5").await;
    assert_eq!(
        form.text("card-brand"),
        "",
        "5 alone could be several brands"
    );

    form.type_into("card-expiry", "1230").await;
    assert_eq!(form.input("card-expiry").value(), "12 / 30");
}

#[wasm_bindgen_test]
async fn an_empty_form_shows_every_error_and_focuses_the_first() {
    let form = mount().await;
    form.submit().await;
    assert!(form.submitted.lock().unwrap().is_empty());
    assert_eq!(form.text("card-number-error"), "Enter a card number.");
    assert_eq!(
        form.text("card-expiry-error"),
        "Enter the expiry date as MM / YY."
    );
    assert_eq!(
        form.text("card-cvc-error"),
        "The security code has 3 digits."
    );
    assert_eq!(
        form.input("card-number")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        form.input("card-number")
            .get_attribute("aria-describedby")
            .as_deref(),
        Some("card-number-error")
    );
    let focused = document().active_element().map(|e| e.id());
    assert_eq!(focused.as_deref(), Some("card-number"));
}

#[wasm_bindgen_test]
async fn the_same_checks_as_the_server() {
    let form = mount().await;
    form.fill("4242 4242 4242 4241", "10 / 26", "12").await;
    form.submit().await;
    assert!(form.submitted.lock().unwrap().is_empty());
    assert_eq!(
        form.text("card-number-error"),
        "The card number is not valid."
    );
    assert_eq!(form.text("card-expiry-error"), "The card has expired.");
    assert_eq!(
        form.text("card-cvc-error"),
        "The security code has 3 digits."
    );
    let focused = document().active_element().map(|e| e.id());
    assert_eq!(focused.as_deref(), Some("card-number"));

    form.type_into("card-number", "4242424242424242").await;
    form.submit().await;
    let focused = document().active_element().map(|e| e.id());
    assert_eq!(
        focused.as_deref(),
        Some("card-expiry"),
        "the first field still wrong"
    );
    assert_eq!(form.text("card-number-error"), "");
    assert_eq!(
        form.input("card-number")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("false")
    );
}

#[wasm_bindgen_test]
async fn a_valid_card_is_submitted_once_and_not_while_busy() {
    let form = mount().await;
    form.fill("4242 4242 4242 4242", "12 / 30", "123").await;
    form.submit().await;
    {
        let submitted = form.submitted.lock().unwrap();
        assert_eq!(submitted.len(), 1);
        let card = &submitted[0];
        assert_eq!(card.number.expose(), "4242424242424242");
        assert_eq!((card.exp_month, card.exp_year), (12, 2030));
        assert_eq!(card.cvc.expose(), "123");
        assert_eq!(card.name.as_deref(), Some("Ada Lovelace"));
    }

    form.busy.set(true);
    settle().await;
    assert!(form.button().disabled());
    assert_eq!(form.button().text_content().unwrap(), "Processing…");
    form.submit().await;
    assert_eq!(
        form.submitted.lock().unwrap().len(),
        1,
        "no second submit while busy"
    );

    form.busy.set(false);
    settle().await;
    assert!(!form.button().disabled());
    assert_eq!(form.button().text_content().unwrap(), "Pay $12.50");
}

#[wasm_bindgen_test]
async fn leaving_an_empty_field_is_not_an_error_but_leaving_a_wrong_one_is() {
    let form = mount().await;
    let blur = |id: &str| {
        let init = EventInit::new();
        init.set_bubbles(true);
        form.input(id)
            .dispatch_event(&Event::new_with_event_init_dict("focusout", &init).unwrap())
            .unwrap();
        form.input(id)
            .dispatch_event(&Event::new("blur").unwrap())
            .unwrap();
    };
    blur("card-number");
    settle().await;
    assert_eq!(
        form.text("card-number-error"),
        "",
        "empty and left: no error yet"
    );
    form.type_into("card-number", "4242 4242 4242 4241").await;
    blur("card-number");
    settle().await;
    assert_eq!(
        form.text("card-number-error"),
        "The card number is not valid."
    );
}

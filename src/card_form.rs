//! The card form: groups digits and names the brand as the customer types,
//! and checks every field with `kasse-core`, the code the server runs.

use kasse_core::api::CardInput;
use kasse_core::card::{
    CardNumberError, CvcError, ExpiryError, detect_brand, format_card_input, format_expiry_input,
};
use kasse_core::{CardBrand, CardNumber, Cvc, Expiry};
use leptos::either::Either;
use leptos::html;
use leptos::prelude::*;

use crate::fresh::Fresh;

/// The current year and month from the browser's clock.
pub fn today() -> (u16, u8) {
    let now = js_sys::Date::new_0();
    (now.get_full_year() as u16, (now.get_month() + 1) as u8)
}

/// The longest name on a card the page accepts, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// What is wrong with each field, if anything; the view words it in the
/// page's language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors {
    pub number: Option<CardNumberError>,
    pub expiry: Option<ExpiryError>,
    pub cvc: Option<CvcError>,
    /// Longer than [`MAX_NAME_CHARS`].
    pub name_too_long: bool,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.number.is_some() || self.expiry.is_some() || self.cvc.is_some() || self.name_too_long
    }
}

/// Checks the four fields; on success, the request body for `confirm`.
pub fn validate(
    number: &str,
    expiry: &str,
    cvc: &str,
    name: &str,
    today: (u16, u8),
) -> Result<CardInput, FieldErrors> {
    let card = CardNumber::parse(number);
    let brand = card
        .as_ref()
        .map(CardNumber::brand)
        .ok()
        .or_else(|| detect_brand(number));
    let exp = Expiry::parse(expiry, today);
    let code = Cvc::parse(cvc, brand);
    let name = name.trim();
    let errors = FieldErrors {
        number: card.as_ref().err().cloned(),
        expiry: exp.as_ref().err().cloned(),
        cvc: code.as_ref().err().cloned(),
        name_too_long: name.chars().count() > MAX_NAME_CHARS,
    };
    match (card, exp, code) {
        (Ok(card), Ok(exp), Ok(code)) if !errors.any() => Ok(CardInput {
            number: card.expose_digits().to_string().into(),
            exp_month: exp.month,
            exp_year: exp.year,
            cvc: code.expose().to_string().into(),
            name: (!name.is_empty()).then(|| name.to_string()),
        }),
        _ => Err(errors),
    }
}

/// The consent the page shows before the pay button when the card is
/// saved: a box the customer may tick (`ticked`), or, when the session
/// requires saving, the same words as a note.
#[derive(Clone)]
pub struct SaveConsent {
    pub text: String,
    pub optional: bool,
    pub ticked: RwSignal<bool>,
}

/// The consent before the pay button, if any.
pub fn consent_view(consent: Option<SaveConsent>) -> impl IntoView {
    consent.map(|c| {
        if c.optional {
            Either::Left(view! {
                <div class="kasse-field kasse-save">
                    <input
                        id="save-card"
                        type="checkbox"
                        prop:checked=move || c.ticked.get()
                        on:change=move |ev| c.ticked.set(event_target_checked(&ev))
                    />
                    <label for="save-card">{c.text}</label>
                </div>
            })
        } else {
            Either::Right(view! { <p class="kasse-save" id="save-card-note">{c.text}</p> })
        }
    })
}

#[component]
pub fn CardForm(
    /// True while a payment is in flight: the button is disabled.
    busy: RwSignal<bool>,
    /// The button's text, e.g. "Pay $12.50".
    pay_label: String,
    /// Called with a card that passed every check.
    on_submit: Callback<CardInput>,
    /// The date expiry is checked against; the browser's clock by default.
    #[prop(optional)]
    today: Option<(u16, u8)>,
    /// Saving the card: the consent shown before the pay button.
    #[prop(optional_no_strip)]
    consent: Option<SaveConsent>,
) -> impl IntoView {
    let today = today.unwrap_or_else(self::today);
    let locale = crate::i18n::use_locale();
    let t = crate::i18n::text(locale);
    let number = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
    let cvc = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    // Each field, once left.
    let touched: [RwSignal<bool>; 4] = std::array::from_fn(|_| RwSignal::new(false));
    let submitted = RwSignal::new(false);

    let brand = Memo::new(move |_| detect_brand(&number.get()));
    // What a field would say, in the page's language.
    let message = move |field: usize| {
        let e = validate(&number.get(), &expiry.get(), &cvc.get(), &name.get(), today)
            .err()
            .unwrap_or_default();
        match field {
            0 => e.number.as_ref().map(|e| t.number_error(e).to_string()),
            1 => e.expiry.as_ref().map(|e| t.expiry_error(e).to_string()),
            2 => e.cvc.as_ref().map(|e| crate::i18n::cvc_error(locale, e)),
            _ => e.name_too_long.then(|| t.name_long.to_string()),
        }
    };
    // A field's error shows once it was left with something in it, or after
    // a submit: leaving an empty field (say, to press Cancel) is no mistake.
    let shown = move |field: usize, value: RwSignal<String>| {
        move || {
            (submitted.get() || (touched[field].get() && !value.get().is_empty()))
                .then(|| message(field))
                .flatten()
        }
    };
    let number_error = Memo::new(move |_| shown(0, number)());
    let expiry_error = Memo::new(move |_| shown(1, expiry)());
    let cvc_error = Memo::new(move |_| shown(2, cvc)());
    let name_error = Memo::new(move |_| shown(3, name)());
    let touch = move |field: usize| touched[field].set(true);

    let number_ref = NodeRef::<html::Input>::new();
    let expiry_ref = NodeRef::<html::Input>::new();
    let cvc_ref = NodeRef::<html::Input>::new();
    let name_ref = NodeRef::<html::Input>::new();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        submitted.set(true);
        match validate(
            &number.get_untracked(),
            &expiry.get_untracked(),
            &cvc.get_untracked(),
            &name.get_untracked(),
            today,
        ) {
            Ok(card) => on_submit.run(card),
            Err(e) => {
                let first = [
                    (e.number.is_some(), number_ref),
                    (e.expiry.is_some(), expiry_ref),
                    (e.cvc.is_some(), cvc_ref),
                    (e.name_too_long, name_ref),
                ]
                .into_iter()
                .find_map(|(bad, node)| bad.then_some(node));
                if let Some(input) = first.and_then(|n| n.get_untracked()) {
                    let _ = input.focus();
                }
            }
        }
    };

    // The form is on screen and takes input: a User Timing mark that the
    // page-load benchmark (and any RUM tool) reads.
    Effect::new(move |_| {
        if let Some(performance) = window().performance() {
            let _ = performance.mark("kasse-interactive");
        }
    });

    view! {
        <form class="kasse-card-form" novalidate=true on:submit=submit>
            <Field
                id="card-number"
                label=t.card_number
                value=number
                error=number_error
                node_ref=number_ref
                inputmode="numeric"
                autocomplete="cc-number"
                placeholder=Memo::new(|_| Some("1234 1234 1234 1234".to_string()))
                clean=Callback::new(|typed: String| format_card_input(&typed))
                on_blur=Callback::new(move |()| touch(0))
                brand=brand
            />
            <div class="kasse-row">
                <Field
                    id="card-expiry"
                    label=t.expiry
                    value=expiry
                    error=expiry_error
                    node_ref=expiry_ref
                    inputmode="numeric"
                    autocomplete="cc-exp"
                    placeholder=Memo::new(|_| Some("MM / YY".to_string()))
                    clean=Callback::new(|typed: String| format_expiry_input(&typed))
                    on_blur=Callback::new(move |()| touch(1))
                />
                <CvcField
                    id="card-cvc"
                    value=cvc
                    error=cvc_error
                    node_ref=cvc_ref
                    brand=brand
                    on_blur=Callback::new(move |()| touch(2))
                />
            </div>
            <Field
                id="card-name"
                label=t.name
                value=name
                error=name_error
                node_ref=name_ref
                autocomplete="cc-name"
                clean=Callback::new(|typed: String| typed)
                on_blur=Callback::new(move |()| touch(3))
            />
            {consent_view(consent)}
            <PayButton id="pay-button" busy=busy label=pay_label />
        </form>
    }
}

/// The customer's saved cards: pick one, type its security code, pay.
/// "Use another card" hands over to the card form (`choice` set to None).
#[component]
pub fn SavedCards(
    cards: Vec<kasse_core::api::SavedCard>,
    /// The card picked; None for another card.
    choice: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    pay_label: String,
    /// Called with the card's id and its security code, once it checks.
    on_submit: Callback<(String, String)>,
) -> impl IntoView {
    let locale = crate::i18n::use_locale();
    let t = crate::i18n::text(locale);
    let cvc = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let brand_of = {
        let cards = cards.clone();
        move |id: &str| cards.iter().find(|c| c.id == id).map(|c| c.brand)
    };
    let brand = {
        let brand_of = brand_of.clone();
        Memo::new(move |_| choice.get().and_then(|id| brand_of(&id)))
    };
    let error = Memo::new(move |_| {
        Cvc::parse(&cvc.get(), brand.get())
            .err()
            .map(|e| crate::i18n::cvc_error(locale, &e))
    });
    let cvc_ref = NodeRef::<html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        submitted.set(true);
        match (choice.get_untracked(), error.get_untracked()) {
            (Some(id), None) => on_submit.run((id, cvc.get_untracked())),
            _ => {
                if let Some(input) = cvc_ref.get_untracked() {
                    let _ = input.focus();
                }
            }
        }
    };
    // The code and the button show while a saved card is picked; a memo,
    // so that picking another keeps what was typed.
    let picked = Memo::new(move |_| choice.get().is_some());
    let shown_error = Memo::new(move |_| submitted.get().then(|| error.get()).flatten());
    view! {
        <form class="kasse-card-form kasse-saved" novalidate=true on:submit=submit>
            <fieldset class="kasse-field">
                <legend>{t.saved_cards}</legend>
                {cards.into_iter().map(|card| {
                    let id = card.id.clone();
                    let picked = id.clone();
                    let input_id = ["saved-", &card.id].concat();
                    view! {
                        <div class="kasse-saved-card">
                            <input
                                type="radio"
                                name="saved-card"
                                id=input_id.clone()
                                prop:checked=move || choice.get().as_deref() == Some(id.as_str())
                                on:change=move |_| choice.set(Some(picked.clone()))
                            />
                            <label for=input_id>{card.label()}</label>
                        </div>
                    }
                }).collect_view()}
                <div class="kasse-saved-card">
                    <input
                        type="radio"
                        name="saved-card"
                        id="saved-another"
                        prop:checked=move || choice.get().is_none()
                        on:change=move |_| choice.set(None)
                    />
                    <label for="saved-another">{t.another_card}</label>
                </div>
            </fieldset>
            {move || Fresh(picked.get().then(|| view! {
                <CvcField
                    id="saved-cvc"
                    value=cvc
                    error=shown_error
                    node_ref=cvc_ref
                    brand=brand
                    on_blur=Callback::new(|()| {})
                />
                <PayButton id="pay-saved" busy=busy label=pay_label.clone() />
            }))}
        </form>
    }
}

/// A security code's field: as many digits as the card's brand asks for,
/// a dot per digit as its placeholder.
#[component]
fn CvcField(
    id: &'static str,
    value: RwSignal<String>,
    error: Memo<Option<String>>,
    node_ref: NodeRef<html::Input>,
    /// The card's brand, if known (three digits if not).
    brand: Memo<Option<CardBrand>>,
    on_blur: Callback<()>,
) -> impl IntoView {
    let t = crate::i18n::text(crate::i18n::use_locale());
    // Three digits until the brand is known.
    let length_of = |brand: Option<CardBrand>| brand.map_or(3, CardBrand::cvc_length);
    let length = move || length_of(brand.get());
    view! {
        <Field
            id=id
            label=t.cvc
            value=value
            error=error
            node_ref=node_ref
            inputmode="numeric"
            autocomplete="cc-csc"
            placeholder=Memo::new(move |_| Some("•".repeat(length())))
            maxlength=Memo::new(move |_| Some(kasse_core::locale::ascii_digits(length() as u64, 1)))
            clean=Callback::new(move |typed: String| {
                typed
                    .chars()
                    .filter(char::is_ascii_digit)
                    .take(length_of(brand.get_untracked()))
                    .collect()
            })
            on_blur=on_blur
        />
    }
}

/// One field of a form: its label, the input and the line for its error.
/// The forms' fields share it, so the page carries its code once.
#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    /// The error to show now, if any.
    error: Memo<Option<String>>,
    node_ref: NodeRef<html::Input>,
    #[prop(optional)] inputmode: Option<&'static str>,
    autocomplete: &'static str,
    #[prop(optional)] placeholder: Option<Memo<Option<String>>>,
    #[prop(optional)] maxlength: Option<Memo<Option<String>>>,
    /// What the field keeps of what was typed (digits, grouped, …).
    clean: Callback<String, String>,
    on_blur: Callback<()>,
    /// The card number's field: the brand its digits name, as a badge in
    /// the field.
    #[prop(optional)]
    brand: Option<Memo<Option<CardBrand>>>,
) -> impl IntoView {
    let error_id = [id, "-error"].concat();
    let input = view! {
        <input
            id=id
            node_ref=node_ref
            type="text"
            inputmode=inputmode
            autocomplete=autocomplete
            placeholder=move || placeholder.and_then(|p| p.get())
            maxlength=move || maxlength.and_then(|m| m.get())
            prop:value=move || value.get()
            aria-invalid=move || crate::aria(error.with(Option::is_some))
            aria-describedby=error_id.clone()
            on:input=move |ev| value.set(clean.run(event_target_value(&ev)))
            on:blur=move |_| on_blur.run(())
        />
    };
    let input = match brand {
        Some(brand) => Either::Left(view! {
            <div class="kasse-input-with-badge">
                {input}
                <span id="card-brand" class="kasse-brand" data-brand=move || brand.get().map(CardBrand::as_str)>
                    {move || brand.get().map(CardBrand::display_name)}
                </span>
            </div>
        }),
        None => Either::Right(input),
    };
    view! {
        <div class="kasse-field">
            <label for=id>{label}</label>
            {input}
            <p id=error_id class="kasse-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

/// The pay button: "Processing…" and disabled while a payment is in flight.
#[component]
fn PayButton(id: &'static str, busy: RwSignal<bool>, label: String) -> impl IntoView {
    let t = crate::i18n::text(crate::i18n::use_locale());
    view! {
        <button id=id type="submit" class="kasse-pay" disabled=move || busy.get()>
            {move || if busy.get() { t.processing.to_string() } else { label.clone() }}
        </button>
    }
}

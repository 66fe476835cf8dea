//! The page API's bodies through the browser's own JSON: what the server
//! writes (serde_json, as in `kasse-server`) is read back exactly by the
//! page's field-by-field reader (`kasse_core::decode`), and what the page
//! sends is what the server's types read. The terminal's serde reader
//! (`kasse_core::wire::from_js`) is checked at the end.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use kasse_core::api::{
    CardInput, ConfirmRequest, ConfirmResponse, ErrorBody, ErrorDetail, FutureUsage, NextAction,
    PayError, PaySession, SaveCard, SavedCard, UpdatePage, UpdateRequest, UpdateResponse,
};
use kasse_core::appearance::{Appearance, ColorScheme};
use kasse_core::decode::{Decode, decode};
use kasse_core::error::{DeclineCode, ErrorCode, ErrorType};
use kasse_core::wire::{Invalid, from_js, to_json};
use kasse_core::{CardBrand, Locale, PaymentStatus, RequestedLocale, SessionStatus};
use kasse_web::api::{ConfirmAnswer, Refusal};
use serde::de::DeserializeOwned;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// As the page reads a body: the server's JSON text, `JSON.parse`d, typed.
fn read<T: Decode>(json: &str) -> Result<T, Invalid> {
    decode(js_sys::JSON::parse(json).expect("valid JSON"))
}

/// As the terminal reads a body: through serde.
fn read_serde<T: DeserializeOwned>(json: &str) -> Result<T, Invalid> {
    from_js(js_sys::JSON::parse(json).expect("valid JSON"))
}

fn session() -> PaySession {
    PaySession {
        id: "cs_1".into(),
        merchant_name: "Café Ünïcode · কফি".into(),
        amount: 99_999_999_999,
        currency: "BDT".into(),
        status: SessionStatus::Open,
        accepted_brands: vec![CardBrand::Visa, CardBrand::Amex],
        cancel_url: "https://shop.example/cancel?a=1&b=\"2\"".into(),
        order_reference: Some("ORD-7".into()),
        customer_name: None,
        expires_at: 1_780_000_000,
        redirect_url: None,
        last_error: Some(PayError {
            decline_code: DeclineCode::InsufficientFunds,
            message: "Declined.".into(),
        }),
        merchant_origins: vec!["https://shop.example".into()],
        appearance: Appearance {
            color_scheme: Some(ColorScheme::Dark),
            variables: BTreeMap::from([("radius".to_string(), "4px".to_string())]),
            dark_variables: BTreeMap::from([("color-primary".to_string(), "#8c9bff".to_string())]),
            logo_url: Some("https://shop.example/logo.png".into()),
        },
        locale: RequestedLocale::Fixed(Locale::Bn),
        payment_id: None,
        save_card: SaveCard::Optional,
        setup_future_usage: FutureUsage::OnSession,
        saved_cards: vec![SavedCard {
            id: "pm_1".into(),
            brand: CardBrand::Mastercard,
            last4: "4444".into(),
            exp_month: 12,
            exp_year: 2031,
        }],
    }
}

#[wasm_bindgen_test]
fn a_session_reads_back_exactly_as_the_server_wrote_it() {
    let sent = session();
    let json = serde_json::to_string(&sent).unwrap();
    assert_eq!(read::<PaySession>(&json), Ok(sent));

    // Defaults the server may leave out, and fields it may add later.
    let mut value = serde_json::to_value(session()).unwrap();
    let object = value.as_object_mut().unwrap();
    for absent in ["appearance", "locale", "saved_cards", "save_card"] {
        object.remove(absent);
    }
    object.insert("added_later".into(), serde_json::json!({"x": [1, 2.5]}));
    let read_back: PaySession = read(&value.to_string()).unwrap();
    assert_eq!(read_back.appearance, Appearance::default());
    assert_eq!(read_back.locale, RequestedLocale::Auto);
    assert!(read_back.saved_cards.is_empty());
}

#[wasm_bindgen_test]
fn bodies_of_the_wrong_shape_are_invalid() {
    let mut value = serde_json::to_value(session()).unwrap();
    value["amount"] = serde_json::json!(12.5);
    assert_eq!(read::<PaySession>(&value.to_string()), Err(Invalid));
    value["amount"] = serde_json::json!("1250");
    assert_eq!(read::<PaySession>(&value.to_string()), Err(Invalid));
    let mut value = serde_json::to_value(session()).unwrap();
    value["status"] = serde_json::json!("reopened");
    assert_eq!(read::<PaySession>(&value.to_string()), Err(Invalid));
    let mut value = serde_json::to_value(session()).unwrap();
    value.as_object_mut().unwrap().remove("merchant_name");
    assert_eq!(read::<PaySession>(&value.to_string()), Err(Invalid));
    assert_eq!(read::<PaySession>("null"), Err(Invalid));
    assert_eq!(read::<PaySession>("[]"), Err(Invalid));

    // Each kind where another is wanted, at every depth.
    let wrong = [
        ("merchant_name", serde_json::json!(7)),
        ("merchant_name", serde_json::json!(null)),
        ("amount", serde_json::json!(-1.5)),
        ("amount", serde_json::json!(1e300)),
        ("accepted_brands", serde_json::json!({"0": "visa"})),
        ("accepted_brands", serde_json::json!(["visa", 3])),
        (
            "saved_cards",
            serde_json::json!([{"id": "pm_1", "brand": "visa",
            "last4": "4242", "exp_month": 300, "exp_year": 2031}]),
        ),
        (
            "saved_cards",
            serde_json::json!([{"id": "pm_1", "brand": "visa",
            "last4": "4242", "exp_month": -1, "exp_year": 2031}]),
        ),
        (
            "saved_cards",
            serde_json::json!([["pm_1", "visa", "4242", 12, 2031]]),
        ),
        (
            "appearance",
            serde_json::json!({"variables": [["radius", "4px"]]}),
        ),
        (
            "appearance",
            serde_json::json!({"variables": {"radius": 4}}),
        ),
        (
            "last_error",
            serde_json::json!(["insufficient_funds", "Declined."]),
        ),
        ("order_reference", serde_json::json!(true)),
        // `null` stands only for an absent `Option`, not for a default.
        ("appearance", serde_json::json!(null)),
        ("saved_cards", serde_json::json!(null)),
        ("locale", serde_json::json!("xx")),
        ("status", serde_json::json!("Open")),
    ];
    for (field, bad) in wrong {
        let mut value = serde_json::to_value(session()).unwrap();
        value[field] = bad.clone();
        assert_eq!(
            read::<PaySession>(&value.to_string()),
            Err(Invalid),
            "{field}: {bad}"
        );
    }
    // A struct written as the array of its fields (which serde_json would
    // read) is not what the API writes, and is refused.
    let fields: Vec<serde_json::Value> = serde_json::to_value(session())
        .unwrap()
        .as_object()
        .unwrap()
        .values()
        .cloned()
        .collect();
    assert_eq!(
        read::<PaySession>(&serde_json::Value::Array(fields).to_string()),
        Err(Invalid)
    );
}

#[wasm_bindgen_test]
fn every_confirm_answer_reads_as_the_servers_type() {
    let answers = [
        ConfirmResponse::Succeeded {
            payment_id: "pay_1".into(),
            redirect_url: "https://shop.example/paid?sig=1".into(),
        },
        ConfirmResponse::Declined {
            payment_id: "pay_2".into(),
            decline_code: DeclineCode::IncorrectCvc,
            message: "The security code is incorrect.".into(),
            redirect_url: None,
        },
        ConfirmResponse::Declined {
            payment_id: "pay_3".into(),
            decline_code: DeclineCode::CardDeclined,
            message: "Declined.".into(),
            redirect_url: Some("https://kasse.example/compat/return/cs_1?outcome=fail".into()),
        },
        ConfirmResponse::RequiresAction {
            payment_id: "pay_4".into(),
            next_action: NextAction {
                redirect_url: "https://kasse.example/acs/pay_4#t".into(),
            },
        },
    ];
    for answer in answers {
        let json = serde_json::to_string(&answer).unwrap();
        let read_back = read::<ConfirmAnswer>(&json).unwrap().into_response();
        assert_eq!(read_back, Some(answer), "{json}");
    }
    // A status the page does not know, or one missing what it needs.
    for json in [
        r#"{"status":"refunded","payment_id":"pay_1"}"#,
        r#"{"status":"succeeded","payment_id":"pay_1"}"#,
        r#"{"status":"requires_action","payment_id":"pay_1"}"#,
    ] {
        assert_eq!(
            read::<ConfirmAnswer>(json).unwrap().into_response(),
            None,
            "{json}"
        );
    }
}

#[wasm_bindgen_test]
fn an_error_body_gives_its_code_and_message() {
    let body = ErrorBody {
        error: ErrorDetail {
            kind: ErrorType::InvalidRequestError,
            code: ErrorCode::CheckoutSessionExpired,
            message: "This checkout session has expired.".into(),
            param: Some("id".into()),
            allowed_from: Some(vec![PaymentStatus::RequiresCapture]),
        },
    };
    let refusal: Refusal = read(&serde_json::to_string(&body).unwrap()).unwrap();
    assert_eq!(refusal.error.code, ErrorCode::CheckoutSessionExpired);
    assert_eq!(refusal.error.message, "This checkout session has expired.");
    // A code newer than this page is `unknown`, not a failure to read.
    let newer: Refusal =
        read(r#"{"error":{"type":"api_error","code":"from_the_future","message":"m"}}"#).unwrap();
    assert_eq!(newer.error.code, ErrorCode::Unknown);
}

#[wasm_bindgen_test]
fn what_the_page_sends_is_what_the_server_reads() {
    let card = CardInput {
        number: "4242 4242 4242 4242".to_string().into(),
        exp_month: 12,
        exp_year: 2031,
        cvc: "123".to_string().into(),
        name: Some("Zoë \"Q\" Ångström".into()),
    };
    let typed = ConfirmRequest {
        card: Some(card.clone()),
        payment_method: None,
        cvc: None,
        save_card: true,
        locale: Some("bn".into()),
    };
    let saved = ConfirmRequest {
        card: None,
        payment_method: Some("pm_1".into()),
        cvc: Some("1234".to_string().into()),
        save_card: false,
        locale: None,
    };
    for request in [typed, saved] {
        let sent: serde_json::Value = serde_json::from_str(&to_json(&request).unwrap()).unwrap();
        assert_eq!(sent, serde_json::to_value(&request).unwrap());
        // The server refuses unknown fields: the page's body must pass.
        let _: ConfirmRequest = serde_json::from_value(sent).unwrap();
    }
    let update = UpdateRequest { card };
    let sent = to_json(&update).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sent).unwrap(),
        serde_json::to_value(&update).unwrap()
    );
}

#[wasm_bindgen_test]
fn an_update_page_reads_back_exactly() {
    let page = UpdatePage {
        id: "pmu_1".into(),
        merchant_name: "Shop".into(),
        card: SavedCard {
            id: "pm_1".into(),
            brand: CardBrand::Visa,
            last4: "4242".into(),
            exp_month: 1,
            exp_year: 2027,
        },
        status: "open".into(),
        return_url: "https://shop.example/account".into(),
        appearance: Appearance::default(),
        locale: RequestedLocale::Auto,
        accepted_brands: vec![CardBrand::Visa],
    };
    let json = serde_json::to_string(&page).unwrap();
    assert_eq!(read::<UpdatePage>(&json), Ok(page.clone()));
    let themed = UpdatePage {
        appearance: session().appearance,
        locale: RequestedLocale::Fixed(Locale::Mn),
        ..page
    };
    let json = serde_json::to_string(&themed).unwrap();
    assert_eq!(read::<UpdatePage>(&json), Ok(themed));
}

#[wasm_bindgen_test]
fn every_variant_reads_as_the_server_writes_it() {
    fn check<T: Decode + serde::Serialize + PartialEq + std::fmt::Debug>(values: &[T]) {
        for value in values {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(read::<T>(&json).as_ref(), Ok(value), "{json}");
        }
    }
    check(&CardBrand::ALL);
    check(&DeclineCode::ALL);
    check(&ErrorCode::ALL);
    check(SessionStatus::ALL);
    check(&[SaveCard::Off, SaveCard::Optional, SaveCard::Required]);
    check(&[FutureUsage::OffSession, FutureUsage::OnSession]);
    check(&[ColorScheme::Auto, ColorScheme::Light, ColorScheme::Dark]);
    let mut locales = vec![RequestedLocale::Auto];
    locales.extend(Locale::ALL.iter().map(|l| RequestedLocale::Fixed(*l)));
    check(&locales);
    // What serde would refuse is refused.
    assert_eq!(read::<CardBrand>(r#""VISA""#), Err(Invalid));
    assert_eq!(read::<DeclineCode>(r#""no_such_decline""#), Err(Invalid));
    assert_eq!(read::<ColorScheme>(r#""sepia""#), Err(Invalid));
    assert_eq!(read::<SessionStatus>("1"), Err(Invalid));
}

#[wasm_bindgen_test]
fn an_appearance_from_a_newer_server_reads_without_what_it_added() {
    let json = r#"{"color_scheme":"light","variables":{"radius":"4px"},"shadow":"none"}"#;
    let read_back: Appearance = read(json).unwrap();
    assert_eq!(read_back.color_scheme, Some(ColorScheme::Light));
    assert_eq!(read_back.variables["radius"], "4px");
    assert!(read_back.dark_variables.is_empty() && read_back.logo_url.is_none());
}

#[wasm_bindgen_test]
fn an_updated_card_reads_back_exactly() {
    let answer = UpdateResponse {
        card: SavedCard {
            id: "pm_2".into(),
            brand: CardBrand::Amex,
            last4: "0005".into(),
            exp_month: 9,
            exp_year: 2030,
        },
        return_url: "https://shop.example/account?updated=1".into(),
    };
    let json = serde_json::to_string(&answer).unwrap();
    assert_eq!(read::<UpdateResponse>(&json), Ok(answer));
    assert_eq!(
        read::<UpdateResponse>(r#"{"return_url":"https://shop.example/"}"#),
        Err(Invalid)
    );
}

/// serde's default enum form, which the terminal's types may use.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Shape {
    Empty,
    Named(String),
    Pair(u8, i64),
    Box { width: u32, label: Option<String> },
}

#[wasm_bindgen_test]
fn externally_tagged_enums_go_both_ways() {
    let shapes = vec![
        Shape::Empty,
        Shape::Named("x".into()),
        Shape::Pair(7, -9_007_199_254_740_991),
        Shape::Box {
            width: 3,
            label: None,
        },
    ];
    let json = serde_json::to_string(&shapes).unwrap();
    assert_eq!(read_serde::<Vec<Shape>>(&json), Ok(shapes.clone()));
    let sent: serde_json::Value = serde_json::from_str(&to_json(&shapes).unwrap()).unwrap();
    assert_eq!(sent, serde_json::to_value(&shapes).unwrap());
    assert_eq!(
        read_serde::<Shape>(r#"{"Named":"a","Empty":null}"#),
        Err(Invalid)
    );
    assert_eq!(read_serde::<Shape>(r#"{"Round":1}"#), Err(Invalid));
    // Integers beyond what a JavaScript number holds exactly are refused.
    assert_eq!(to_json(&Shape::Pair(1, i64::MAX)), Err(Invalid));
}

/// Both readers (the page's `decode`, the terminal's serde) take as an
/// integer a whole number a JavaScript number holds exactly, and nothing
/// else.
#[wasm_bindgen_test]
fn both_readers_take_the_same_integers() {
    for (json, whole) in [
        ("0", Some(0)),
        ("-0", Some(0)),
        ("-3", Some(-3)),
        ("9007199254740991", Some(9_007_199_254_740_991)),
        ("-9007199254740991", Some(-9_007_199_254_740_991)),
        ("9007199254740992", None),
        ("2.5", None),
        ("1e300", None),
        ("\"7\"", None),
    ] {
        assert_eq!(read::<i64>(json).ok(), whole, "decode {json}");
        assert_eq!(read_serde::<i64>(json).ok(), whole, "serde {json}");
    }
    // Narrower types refuse what does not fit them, in both.
    assert_eq!(read::<u8>("-3"), Err(Invalid));
    assert_eq!(read_serde::<u8>("-3"), Err(Invalid));
    assert_eq!(read::<u16>("65536"), Err(Invalid));
    assert_eq!(read_serde::<u16>("65536"), Err(Invalid));
    // A fraction is a float to serde.
    assert_eq!(read_serde::<f64>("2.5"), Ok(2.5));
}

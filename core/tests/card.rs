use kasse_core::card::{
    CardNumberError, CvcError, ExpiryError, detect_brand, format_card_input, format_expiry_input,
    luhn_valid,
};
use kasse_core::{CardBrand, CardNumber, Cvc, Expiry};
use proptest::prelude::*;

const TODAY: (u16, u8) = (2026, 11);

#[test]
fn sandbox_cards_parse_with_their_brands() {
    for (number, brand) in [
        ("4242 4242 4242 4242", CardBrand::Visa),
        ("5555 5555 5555 4444", CardBrand::Mastercard),
        ("2223 0031 2200 3222", CardBrand::Mastercard),
        ("3782 822463 10005", CardBrand::Amex),
        ("6011 1111 1111 1117", CardBrand::Discover),
        ("3566 0020 2036 0505", CardBrand::Jcb),
        ("6200 0000 0000 0005", CardBrand::Unionpay),
        ("3056 9300 0902 0004", CardBrand::Diners),
        ("3622 720627 1667", CardBrand::Diners),
        ("6759 6498 2643 8453", CardBrand::Maestro),
        ("6521 5000 0000 0006", CardBrand::Rupay),
        ("4000-0000-0000-9995", CardBrand::Visa),
    ] {
        let card = CardNumber::parse(number).unwrap_or_else(|e| panic!("{number}: {e}"));
        assert_eq!(card.brand(), brand, "{number}");
    }
}

#[test]
fn bad_numbers_say_why() {
    assert_eq!(CardNumber::parse("  "), Err(CardNumberError::Empty));
    assert_eq!(
        CardNumber::parse("4242 4242 4242 424x"),
        Err(CardNumberError::NotDigits)
    );
    assert_eq!(
        CardNumber::parse("4242 4242 4242 4241"),
        Err(CardNumberError::FailsLuhn)
    );
    assert_eq!(
        CardNumber::parse("4242 4242 4242"),
        Err(CardNumberError::WrongLength)
    );
    assert_eq!(
        CardNumber::parse("3782 822463 100050"),
        Err(CardNumberError::WrongLength),
        "Amex has 15 digits"
    );
    assert_eq!(
        CardNumber::parse("9999 9999 9999 9995"),
        Err(CardNumberError::UnknownBrand)
    );
    assert_eq!(
        CardNumberError::FailsLuhn.code().as_str(),
        "incorrect_number"
    );
    assert_eq!(
        CardNumberError::WrongLength.code().as_str(),
        "invalid_number"
    );
}

#[test]
fn card_numbers_never_print_in_full() {
    let card = CardNumber::parse("4242424242424242").unwrap();
    let debug = format!("{card:?}");
    let display = card.to_string();
    assert!(!debug.contains("4242424242424242"), "{debug}");
    assert!(!display.contains("4242424242424242"), "{display}");
    assert_eq!(card.masked(), "424242******4242");
    assert_eq!(display, "Visa •••• 4242");
    assert_eq!(card.bin(), "424242");
    assert_eq!(card.last4(), "4242");
    let cvc = Cvc::parse("123", Some(CardBrand::Visa)).unwrap();
    assert!(!format!("{cvc:?}").contains("123"));
}

#[test]
fn brand_is_known_while_typing_only_when_unambiguous() {
    assert_eq!(detect_brand("4"), Some(CardBrand::Visa));
    assert_eq!(detect_brand("34"), Some(CardBrand::Amex));
    assert_eq!(detect_brand("37"), Some(CardBrand::Amex));
    assert_eq!(detect_brand("5"), None);
    assert_eq!(detect_brand("51"), Some(CardBrand::Mastercard));
    assert_eq!(detect_brand("2221"), Some(CardBrand::Mastercard));
    assert_eq!(detect_brand("62"), None, "UnionPay or Discover");
    assert_eq!(detect_brand("6011"), Some(CardBrand::Discover));
    assert_eq!(detect_brand("3"), None, "Amex, Diners or JCB");
    assert_eq!(detect_brand("3566"), Some(CardBrand::Jcb));
    assert_eq!(detect_brand(""), None);
    assert_eq!(detect_brand("9"), None);
}

#[test]
fn typed_numbers_are_grouped_as_the_brand_prints_them() {
    assert_eq!(format_card_input("4242424242424242"), "4242 4242 4242 4242");
    assert_eq!(format_card_input("42424"), "4242 4");
    assert_eq!(format_card_input("378282246310005"), "3782 822463 10005");
    assert_eq!(
        format_card_input("3782 8224 6310 0059 99"),
        "3782 822463 10005"
    );
    assert_eq!(format_card_input("36227206271667"), "3622 720627 1667");
    assert_eq!(format_card_input("4x2-4 2"), "4242");
    assert_eq!(
        format_card_input("55555555555544449"),
        "5555 5555 5555 4444"
    );
    assert_eq!(format_card_input(""), "");
}

#[test]
fn expiry_checks() {
    assert_eq!(
        Expiry::new(12, 29, TODAY),
        Ok(Expiry {
            month: 12,
            year: 2029
        })
    );
    assert_eq!(
        Expiry::new(11, 2026, TODAY).unwrap().year,
        2026,
        "this month is fine"
    );
    assert_eq!(Expiry::new(10, 2026, TODAY), Err(ExpiryError::Expired));
    assert_eq!(Expiry::new(13, 2030, TODAY), Err(ExpiryError::BadMonth));
    assert_eq!(Expiry::new(0, 2030, TODAY), Err(ExpiryError::BadMonth));
    assert_eq!(Expiry::new(1, 2060, TODAY), Err(ExpiryError::TooFar));
    assert_eq!(Expiry::parse("12 / 29", TODAY).unwrap().year, 2029);
    assert_eq!(Expiry::parse("0130", TODAY).unwrap().month, 1);
    assert_eq!(Expiry::parse("12/2031", TODAY).unwrap().year, 2031);
    assert_eq!(Expiry::parse("1/2", TODAY), Err(ExpiryError::Malformed));
    assert_eq!(Expiry::parse("ab/cd", TODAY), Err(ExpiryError::Malformed));
    assert_eq!(format_expiry_input("1"), "1");
    assert_eq!(format_expiry_input("12"), "12 /");
    assert_eq!(format_expiry_input("1229"), "12 / 29");
    assert_eq!(format_expiry_input("12 / 2"), "12 / 2");
}

#[test]
fn cvc_length_follows_the_brand() {
    assert!(Cvc::parse("123", Some(CardBrand::Visa)).is_ok());
    assert_eq!(
        Cvc::parse("1234", Some(CardBrand::Visa)),
        Err(CvcError::WrongLength(3))
    );
    assert!(Cvc::parse("1234", Some(CardBrand::Amex)).is_ok());
    assert_eq!(
        Cvc::parse("123", Some(CardBrand::Amex)),
        Err(CvcError::WrongLength(4))
    );
    assert!(Cvc::parse("12a", None).is_err());
}

/// Appends the Luhn check digit to a payload of digits.
fn with_check_digit(payload: &str) -> String {
    (0..10)
        .map(|d| format!("{payload}{d}"))
        .find(|n| luhn_valid(n))
        .unwrap()
}

proptest! {
    #[test]
    fn any_single_digit_change_breaks_luhn(payload in "4[0-9]{14}", pos in 0usize..16, delta in 1u8..10) {
        let number = with_check_digit(&payload);
        prop_assert!(luhn_valid(&number));
        let mut bytes = number.into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        prop_assert!(!luhn_valid(std::str::from_utf8(&bytes).unwrap()));
    }

    #[test]
    fn valid_visa_numbers_parse_and_mask(payload in "4[0-9]{14}") {
        let number = with_check_digit(&payload);
        let card = CardNumber::parse(&number).unwrap();
        prop_assert_eq!(card.brand(), CardBrand::Visa);
        let debug = format!("{:?}", card);
        prop_assert!(!debug.contains(&number));
        prop_assert!(!card.to_string().contains(&number));
        prop_assert_eq!(card.expose_digits(), number.as_str());
    }

    #[test]
    fn grouping_keeps_the_digits_and_parses_back(payload in "[2-6][0-9]{14}") {
        let number = with_check_digit(&payload);
        let grouped = format_card_input(&number);
        let digits: String = grouped.chars().filter(char::is_ascii_digit).collect();
        // Digits beyond the brand's length (an Amex has 15) are dropped.
        prop_assert!(number.starts_with(&digits));
        if let Ok(card) = CardNumber::parse(&grouped) {
            prop_assert_eq!(card.expose_digits(), digits.as_str());
        }
    }

    #[test]
    fn parse_never_panics(input in ".{0,40}") {
        let _ = CardNumber::parse(&input);
        let _ = Expiry::parse(&input, TODAY);
        let _ = format_card_input(&input);
        let _ = detect_brand(&input);
    }
}

#[test]
fn error_codes_travel_as_the_strings_they_always_were() {
    use kasse_core::error::ErrorCode;
    for code in ErrorCode::ALL {
        let wire = serde_json::to_string(&code).unwrap();
        assert_eq!(wire, format!("\"{}\"", code.as_str()));
        assert_eq!(serde_json::from_str::<ErrorCode>(&wire).unwrap(), code);
        assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
    }
    assert_eq!(ErrorCode::RateLimited.as_str(), "rate_limited");
    assert_eq!(
        ErrorCode::CheckoutSessionExpired.as_str(),
        "checkout_session_expired"
    );
    // A code from a newer server is not an error for an older client.
    assert_eq!(
        serde_json::from_str::<ErrorCode>("\"some_future_code\"").unwrap(),
        ErrorCode::Unknown
    );
    let distinct: std::collections::HashSet<_> =
        ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(distinct.len(), ErrorCode::ALL.len());
}

#[test]
fn an_approved_or_authorised_payment_completes_its_session_and_nothing_else_does() {
    use kasse_core::PaymentStatus;
    for status in PaymentStatus::ALL {
        assert_eq!(
            status.completes_session(),
            matches!(
                status,
                PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
            ),
            "{status}"
        );
    }
}

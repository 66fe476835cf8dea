use kasse_core::money::{
    AmountError, CurrencyError, DecimalError, MAX_AMOUNT_MINOR, exponent_of, format_amount,
};
use kasse_core::{Currency, Locale, Money};
use proptest::prelude::*;

fn c(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

#[test]
fn exponents_come_from_iso_4217() {
    for (code, exponent) in [
        ("USD", 2),
        ("BDT", 2),
        ("MNT", 2),
        ("INR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
    ] {
        assert_eq!(c(code).exponent(), exponent, "{code}");
    }
}

/// The payment page's exponents without the table agree with the table for
/// every three-letter code Kasse accepts, and so does what it writes.
#[test]
fn the_pages_exponents_match_iso_4217_for_every_accepted_code() {
    let letters = b'A'..=b'Z';
    let mut accepted = 0;
    for a in letters.clone() {
        for b in letters.clone() {
            for c in letters.clone() {
                let code = String::from_utf8(vec![a, b, c]).unwrap();
                let Ok(currency) = Currency::parse(&code) else {
                    continue;
                };
                accepted += 1;
                assert_eq!(exponent_of(&code), currency.exponent(), "{code}");
                for locale in Locale::ALL {
                    for minor in [0, 5, 1_234_567, -99_999_999_999] {
                        assert_eq!(
                            locale.format_minor(minor, &code, exponent_of(&code)),
                            locale.format_amount(minor, currency),
                            "{locale} {code} {minor}"
                        );
                    }
                }
            }
        }
    }
    assert!(accepted > 150, "only {accepted} codes accepted");
}

#[test]
fn codes_parse_in_any_case_and_unknown_ones_are_refused() {
    assert_eq!(c("usd").code(), "USD");
    assert_eq!(c(" Jpy ").code(), "JPY");
    assert_eq!(
        Currency::parse("ABC"),
        Err(CurrencyError::Unknown("ABC".into()))
    );
    assert_eq!(
        Currency::parse("XAU"),
        Err(CurrencyError::NotChargeable("XAU".into()))
    );
    assert!(Currency::parse("").is_err());
}

#[test]
fn amounts_must_be_positive_and_sane() {
    let usd = c("USD");
    assert_eq!(Money::new(0, usd), Err(AmountError::NotPositive));
    assert_eq!(Money::new(-5, usd), Err(AmountError::NotPositive));
    assert_eq!(
        Money::new(MAX_AMOUNT_MINOR + 1, usd),
        Err(AmountError::TooLarge)
    );
    assert_eq!(
        Money::new(MAX_AMOUNT_MINOR, usd).unwrap().amount(),
        MAX_AMOUNT_MINOR
    );
}

#[test]
fn formatting_uses_the_currency_exponent_and_symbol() {
    assert_eq!(format_amount(123_450, c("USD")), "$1,234.50");
    assert_eq!(format_amount(5, c("USD")), "$0.05");
    assert_eq!(format_amount(500, c("JPY")), "¥500");
    assert_eq!(format_amount(1_250, c("BHD")), "BHD\u{a0}1.250");
    assert_eq!(format_amount(150_050, c("BDT")), "৳1,500.50");
    assert_eq!(format_amount(1_000_000, c("MNT")), "₮10,000.00");
    assert_eq!(format_amount(-100, c("EUR")), "-€1.00");
    assert_eq!(Money::new(99, c("GBP")).unwrap().to_string(), "£0.99");
}

#[test]
fn currency_serialises_as_its_code() {
    let json = serde_json::to_string(&c("bdt")).unwrap();
    assert_eq!(json, "\"BDT\"");
    let back: Currency = serde_json::from_str("\"mnt\"").unwrap();
    assert_eq!(back, c("MNT"));
    assert!(serde_json::from_str::<Currency>("\"nope\"").is_err());
}

#[test]
fn decimals_parse_exactly_in_the_currency_exponent() {
    let minor = |text: &str, code: &str| Money::parse_decimal(text, c(code)).map(Money::amount);
    assert_eq!(minor("12.50", "USD"), Ok(1250));
    assert_eq!(minor("12.5", "USD"), Ok(1250));
    assert_eq!(minor("12", "USD"), Ok(1200));
    assert_eq!(minor(".5", "USD"), Ok(50));
    assert_eq!(minor("1,234.05", "USD"), Ok(123_405));
    assert_eq!(minor("500", "JPY"), Ok(500));
    assert_eq!(minor("1.250", "BHD"), Ok(1250));
    assert_eq!(
        minor("12.505", "USD"),
        Err(DecimalError::TooManyDecimals {
            text: "12.505".into(),
            currency: c("USD"),
            exponent: 2
        })
    );
    assert!(matches!(
        minor("5.5", "JPY"),
        Err(DecimalError::TooManyDecimals { exponent: 0, .. })
    ));
    for bad in ["", ".", "12a", "-5", "1.2.3", "1e3", "$5"] {
        assert_eq!(
            minor(bad, "USD"),
            Err(DecimalError::NotANumber(bad.into())),
            "{bad:?}"
        );
    }
    assert_eq!(minor("0.00", "USD"), Err(AmountError::NotPositive.into()));
    assert_eq!(
        minor("4242424242424242", "USD"),
        Err(AmountError::TooLarge.into())
    );
    assert_eq!(
        minor("99999999999999999999999", "USD"),
        Err(AmountError::TooLarge.into())
    );
}

proptest! {
    #[test]
    fn parsing_what_was_formatted_gives_the_amount_back(amount in 1i64..=MAX_AMOUNT_MINOR,
                                                        code in prop::sample::select(vec!["USD", "JPY", "BHD", "BDT"])) {
        let exponent = c(code).exponent() as usize;
        let digits = format!("{amount:0>width$}", width = exponent + 1);
        let (whole, fraction) = digits.split_at(digits.len() - exponent);
        let text = if exponent == 0 { whole.to_string() } else { format!("{whole}.{fraction}") };
        prop_assert_eq!(Money::parse_decimal(&text, c(code)).map(Money::amount), Ok(amount));
    }

    #[test]
    fn formatted_digits_are_exactly_the_minor_units(amount in 1i64..=MAX_AMOUNT_MINOR,
                                                    code in prop::sample::select(vec!["USD", "JPY", "BHD", "BDT"])) {
        let text = format_amount(amount, c(code));
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        prop_assert_eq!(digits.trim_start_matches('0'), amount.to_string());
        let decimals = text.rsplit_once('.').map_or(0, |(_, d)| d.len());
        prop_assert_eq!(decimals as u32, c(code).exponent());
    }

    #[test]
    fn money_accepts_exactly_the_valid_range(amount in any::<i64>()) {
        let ok = Money::new(amount, c("USD")).is_ok();
        prop_assert_eq!(ok, (1..=MAX_AMOUNT_MINOR).contains(&amount));
    }
}

#[test]
fn symbols_are_the_unambiguous_ones() {
    use kasse_core::money::symbol_of;
    for (code, symbol) in [
        ("USD", "$"),
        ("EUR", "€"),
        ("GBP", "£"),
        ("JPY", "¥"),
        ("CNY", "¥"),
        ("INR", "₹"),
        ("BDT", "৳"),
        ("MNT", "₮"),
        ("KRW", "₩"),
    ] {
        assert_eq!(symbol_of(code), Some(symbol), "{code}");
    }
    for code in ["BHD", "CAD", "AUD", "usd", "", "USDX"] {
        assert_eq!(symbol_of(code), None, "{code}");
    }
}

use kasse_core::locale::{Locale, RequestedLocale, UnsupportedLocale};
use kasse_core::money::Currency;
use proptest::prelude::*;

fn c(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

#[test]
fn english_writes_the_symbol_before_and_groups_by_thousands() {
    let en = Locale::En;
    assert_eq!(en.format_amount(123_450, c("USD")), "$1,234.50");
    assert_eq!(en.format_amount(125_000, c("JPY")), "¥125,000");
    assert_eq!(en.format_amount(150_050, c("BDT")), "৳1,500.50");
    assert_eq!(en.format_amount(1_000_000, c("MNT")), "₮10,000.00");
    assert_eq!(en.format_amount(1_250, c("BHD")), "BHD\u{a0}1.250");
}

#[test]
fn bangla_writes_bengali_digits_in_lakhs_with_the_symbol_after() {
    let bn = Locale::Bn;
    assert_eq!(bn.format_amount(125_050, c("BDT")), "১,২৫০.৫০৳");
    assert_eq!(bn.format_amount(123_456_750, c("BDT")), "১২,৩৪,৫৬৭.৫০৳");
    assert_eq!(
        bn.format_amount(123_456_789_012, c("BDT")),
        "১,২৩,৪৫,৬৭,৮৯০.১২৳"
    );
    assert_eq!(bn.format_amount(500, c("JPY")), "৫০০¥");
    assert_eq!(bn.format_amount(150, c("USD")), "১.৫০$");
    assert_eq!(bn.format_amount(1_250, c("BHD")), "১.২৫০\u{a0}BHD");
}

#[test]
fn mongolian_writes_the_symbol_before_with_a_no_break_space() {
    let mn = Locale::Mn;
    assert_eq!(mn.format_amount(125_050, c("MNT")), "₮\u{a0}1,250.50");
    assert_eq!(mn.format_amount(1_250, c("USD")), "$\u{a0}12.50");
    assert_eq!(mn.format_amount(1_250, c("JPY")), "¥\u{a0}1,250");
    assert_eq!(mn.format_amount(1_250, c("BHD")), "BHD\u{a0}1.250");
}

#[test]
fn a_tag_is_read_by_its_language_whatever_its_region_or_case() {
    assert_eq!(Locale::from_tag("bn"), Some(Locale::Bn));
    assert_eq!(Locale::from_tag("bn-BD"), Some(Locale::Bn));
    assert_eq!(Locale::from_tag("BN_in"), Some(Locale::Bn));
    assert_eq!(Locale::from_tag("mn-Cyrl-MN"), Some(Locale::Mn));
    assert_eq!(Locale::from_tag("en-GB"), Some(Locale::En));
    assert_eq!(Locale::from_tag("mn;q=0.8"), Some(Locale::Mn));
    assert_eq!(Locale::from_tag("fr-FR"), None);
    assert_eq!(Locale::from_tag("bnx"), None);
    assert_eq!(Locale::from_tag(""), None);
}

#[test]
fn the_session_wins_then_the_browser_then_english() {
    let fixed = Some(RequestedLocale::Fixed(Locale::Mn));
    assert_eq!(Locale::negotiate(fixed, ["bn-BD", "en"]), Locale::Mn);
    let auto = Some(RequestedLocale::Auto);
    assert_eq!(Locale::negotiate(auto, ["fr", "bn-BD", "mn"]), Locale::Bn);
    assert_eq!(Locale::negotiate(None, ["de", "fr"]), Locale::En);
    assert_eq!(Locale::negotiate(None, []), Locale::En);
}

#[test]
fn a_requested_locale_is_auto_or_a_language_the_page_speaks() {
    assert_eq!(RequestedLocale::parse("AUTO"), Ok(RequestedLocale::Auto));
    assert_eq!(
        RequestedLocale::parse("bn-BD"),
        Ok(RequestedLocale::Fixed(Locale::Bn))
    );
    let refused = RequestedLocale::parse("fr").unwrap_err();
    assert_eq!(refused, UnsupportedLocale("fr".into()));
    assert!(refused.to_string().contains("auto, en, bn or mn"));
    let json = serde_json::to_string(&RequestedLocale::Fixed(Locale::Mn)).unwrap();
    assert_eq!(json, "\"mn\"");
    assert!(serde_json::from_str::<RequestedLocale>("\"klingon\"").is_err());
}

proptest! {
    /// Whatever the language, the digits read back (in ASCII) to the amount.
    #[test]
    fn every_locale_keeps_the_digits(amount in 0i64..99_999_999_999, code in "(USD|JPY|BDT|MNT|BHD)") {
        let currency = c(&code);
        for locale in Locale::ALL {
            let text = locale.format_amount(amount, currency);
            let digits: String = text
                .chars()
                .filter_map(|ch| match ch {
                    '0'..='9' => Some(ch),
                    '০'..='৯' => char::from_digit(ch as u32 - '০' as u32, 10),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(digits.parse::<i64>().unwrap(), amount, "{}", text);
        }
    }
}

#[test]
fn digits_are_written_as_format_pads_them() {
    use kasse_core::locale::ascii_digits;
    for n in [0, 1, 5, 9, 10, 99, 100, 12_345, 1_000_000, u64::MAX] {
        for width in 0..=4 {
            assert_eq!(
                ascii_digits(n, width),
                format!("{n:0width$}"),
                "{n}, {width}"
            );
        }
    }
    let en = Locale::En;
    assert_eq!(en.format_minor(0, "USD", 2), "$0.00");
    assert_eq!(en.format_minor(-5, "USD", 2), "-$0.05");
    assert_eq!(en.format_minor(7, "BHD", 3), "BHD\u{a0}0.007");
}

//! The languages of the payment page, how one is chosen, and how amounts are
//! written in each (the digits, grouping and symbol placement of CLDR, as
//! `Intl.NumberFormat` with `currencyDisplay: "narrowSymbol"` writes them).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::Currency;

/// A language the payment page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    /// Bangla, as in Bangladesh: Bengali digits, lakh grouping, `৳` after the number.
    Bn,
    /// Mongolian in Cyrillic: `₮` before the number.
    Mn,
}

/// A session's `locale` that names no language the page speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a supported locale: use auto, en, bn or mn (a region such as bn-BD is fine)")]
pub struct UnsupportedLocale(pub String);

impl Locale {
    pub const ALL: &'static [Locale] = &[Locale::En, Locale::Bn, Locale::Mn];

    /// The BCP 47 language subtag: `en`, `bn`, `mn`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Bn => "bn",
            Locale::Mn => "mn",
        }
    }

    /// The language's name in itself, for a language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Bn => "বাংলা",
            Locale::Mn => "Монгол",
        }
    }

    /// Reads a language tag by its primary subtag, in any case and with `-`
    /// or `_`, and with an Accept-Language weight: `bn`, `bn-BD`,
    /// `mn_Cyrl_MN`, `EN-us`, `mn;q=0.8`. `None` for any other.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_', ';']).next()?;
        Locale::ALL
            .iter()
            .copied()
            .find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    /// The page's language: the session's, unless it is `auto` or absent;
    /// then the first of the browser's languages the page speaks; else English.
    pub fn negotiate<'a>(
        session: Option<RequestedLocale>,
        browser: impl IntoIterator<Item = &'a str>,
    ) -> Locale {
        match session {
            Some(RequestedLocale::Fixed(locale)) => locale,
            Some(RequestedLocale::Auto) | None => browser
                .into_iter()
                .find_map(Locale::from_tag)
                .unwrap_or_default(),
        }
    }

    /// Writes minor units as this language does: `$1,234.50`,
    /// `১২,৩৪,৫৬৭.৫০৳`, `₮ 1,250.50`, `¥500`; a currency without a symbol by
    /// its code (`BHD 1.250`, `১.২৫০ BHD`).
    pub fn format_amount(self, amount: i64, currency: Currency) -> String {
        self.format_minor(amount, currency.code(), currency.exponent())
    }

    /// [`Locale::format_amount`] for a currency by its code and exponent
    /// (the payment page's, which carries no ISO 4217 table:
    /// [`crate::money::exponent_of`]).
    pub fn format_minor(self, amount: i64, code: &str, exponent: u32) -> String {
        // Digits written by hand, not with `format!`: the payment page
        // formats amounts with this, and would otherwise carry the
        // formatter's zero padding for it.
        let magnitude = amount.unsigned_abs();
        let divisor = 10u64.pow(exponent);
        let whole = ascii_digits(magnitude / divisor, 1);
        let whole = match self {
            Locale::Bn => group(&whole, 2),
            Locale::En | Locale::Mn => group(&whole, 3),
        };
        let number = if exponent == 0 {
            whole
        } else {
            let fraction = ascii_digits(magnitude % divisor, exponent as usize);
            [whole.as_str(), ".", &fraction].concat()
        };
        let number = self.write_digits(&number);
        let sign = if amount < 0 { "-" } else { "" };
        let nbsp = "\u{a0}";
        match (self, crate::money::symbol_of(code)) {
            (Locale::Bn, Some(symbol)) => [sign, &number, symbol].concat(),
            (Locale::Bn, None) => [sign, &number, nbsp, code].concat(),
            (Locale::Mn, Some(symbol)) => [sign, symbol, nbsp, &number].concat(),
            (Locale::En, Some(symbol)) => [sign, symbol, &number].concat(),
            (_, None) => [sign, code, nbsp, &number].concat(),
        }
    }
}

/// `n` in ASCII digits, at least `width` of them (zeros in front):
/// `ascii_digits(5, 2)` is `05`.
pub fn ascii_digits(mut n: u64, width: usize) -> String {
    let mut reversed = Vec::with_capacity(20);
    loop {
        reversed.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 && reversed.len() >= width {
            break;
        }
    }
    reversed
        .iter()
        .rev()
        .map(|&digit| char::from(digit))
        .collect()
}

impl Locale {
    /// ASCII digits as the language writes them: Bangla uses ০–৯.
    pub fn write_digits(self, ascii: &str) -> String {
        match self {
            Locale::Bn => ascii.chars().map(bengali_digit).collect(),
            Locale::En | Locale::Mn => ascii.to_string(),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Groups digits by thousands, then (for Bangla's lakh and crore) by `rest`:
/// `group("1234567", 3)` is `1,234,567`, `group("1234567", 2)` is `12,34,567`.
fn group(digits: &str, rest: usize) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / rest);
    let mut left = digits.len();
    for digit in digits.chars() {
        out.push(digit);
        left -= 1;
        if left == 3 || (left > 3 && (left - 3).is_multiple_of(rest)) {
            out.push(',');
        }
    }
    out
}

/// `template` with every `marker` (ASCII, such as `{m}` or `{}`) replaced
/// by `value`, as `str::replace` would, but found by bytes and cut with
/// `get`: the payment page fills its words with this, and `str::replace`
/// (like any string slicing) brings into it the code that words a panic for
/// a cut inside a character, with `char`'s `Debug` and Unicode's printable
/// tables, 4 KB gzipped.
pub fn fill(template: &str, marker: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len() + value.len());
    let mut rest = template;
    while let Some(at) = rest
        .as_bytes()
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
    {
        let (Some(before), Some(after)) = (rest.get(..at), rest.get(at + marker.len()..)) else {
            break;
        };
        out.push_str(before);
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    out
}

fn bengali_digit(c: char) -> char {
    match c.to_digit(10) {
        Some(d) => char::from_u32(0x09E6 + d).unwrap_or(c),
        None => c,
    }
}

/// A session's `locale`: a fixed language, or `auto` (the browser's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RequestedLocale {
    #[default]
    Auto,
    Fixed(Locale),
}

impl RequestedLocale {
    pub fn parse(tag: &str) -> Result<Self, UnsupportedLocale> {
        if tag.trim().eq_ignore_ascii_case("auto") {
            return Ok(RequestedLocale::Auto);
        }
        Locale::from_tag(tag)
            .map(RequestedLocale::Fixed)
            .ok_or_else(|| UnsupportedLocale(tag.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestedLocale::Auto => "auto",
            RequestedLocale::Fixed(locale) => locale.tag(),
        }
    }
}

impl Serialize for RequestedLocale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RequestedLocale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(d)?;
        RequestedLocale::parse(&tag).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_as_str_replace_does() {
        for template in [
            "",
            "{m}",
            "{m}{m}",
            "a {m} b {m}",
            "{{m}}",
            "{m",
            "কফি {m}-এর",
            "{m}}",
        ] {
            for value in ["", "x", "{m}", "{}", "Rose & Co", "কফি"] {
                for marker in ["{m}", "{}"] {
                    let template = template.replace("{m}", marker);
                    assert_eq!(
                        fill(&template, marker, value),
                        template.replace(marker, value),
                        "{template} with {value}"
                    );
                }
            }
        }
    }
}

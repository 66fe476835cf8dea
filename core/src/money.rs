//! Money in integer minor units with ISO 4217 exponents. No floats anywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount Kasse accepts, in minor units, whatever the currency.
///
/// It keeps every amount exactly representable in JavaScript (2^53) and
/// rejects typos such as a card number pasted into the amount field.
pub const MAX_AMOUNT_MINOR: i64 = 99_999_999_999;

/// An ISO 4217 currency that has a minor-unit exponent (so not XAU, XDR, …).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    Unknown(String),
    #[error("`{0}` has no minor unit and cannot be charged")]
    NotChargeable(String),
}

impl Currency {
    /// Parses a three-letter code in any case: `usd`, `USD`.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let upper = code.trim().to_ascii_uppercase();
        let currency = iso_currency::Currency::from_code(&upper)
            .ok_or_else(|| CurrencyError::Unknown(code.to_string()))?;
        if currency.exponent().is_none() {
            return Err(CurrencyError::NotChargeable(upper));
        }
        Ok(Self(currency))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point: USD 2, JPY 0, BHD 3.
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }

    /// The symbol customers recognise, where it is unambiguous.
    pub fn symbol(self) -> Option<&'static str> {
        symbol_of(self.code())
    }
}

/// The symbol customers recognise for a code, where it is unambiguous.
pub fn symbol_of(code: &str) -> Option<&'static str> {
    // A table searched in a loop, not a `match`: the payment page formats
    // amounts with this, and a `match` on strings is a comparison each.
    const SYMBOLS: &[(&str, &str)] = &[
        ("USD", "$"),
        ("EUR", "€"),
        ("GBP", "£"),
        ("JPY", "¥"),
        ("CNY", "¥"),
        ("INR", "₹"),
        ("BDT", "৳"),
        ("MNT", "₮"),
        ("KRW", "₩"),
    ];
    SYMBOLS
        .iter()
        .find(|(listed, _)| *listed == code)
        .map(|(_, symbol)| *symbol)
}

/// The minor-unit digits of a currency the server accepted, without the
/// ISO 4217 table: 2, but for the codes listed. For the payment page, which
/// only formats amounts in a currency Kasse took; a test checks it against
/// the table for every code [`Currency::parse`] accepts.
pub fn exponent_of(code: &str) -> u32 {
    // Codes side by side, three letters each, searched in a loop (as in
    // `symbol_of`).
    const BY_EXPONENT: &[(u32, &str)] = &[
        (0, "BIFCLPDJFGNFISKJPYKMFKRWPYGRWFUGXUYIVNDVUVXAFXOFXPF"),
        (3, "BHDIQDJODKWDLYDOMRTND"),
        (4, "CLFUYW"),
    ];
    BY_EXPONENT
        .iter()
        .find(|(_, codes)| {
            codes
                .as_bytes()
                .chunks(3)
                .any(|listed| listed == code.as_bytes())
        })
        .map_or(2, |(exponent, _)| *exponent)
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// A positive amount of a currency, in its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount must be a positive integer of minor units (e.g. 1050 for 10.50)")]
    NotPositive,
    #[error("amount must be at most {MAX_AMOUNT_MINOR} minor units")]
    TooLarge,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Result<Self, AmountError> {
        if amount <= 0 {
            return Err(AmountError::NotPositive);
        }
        if amount > MAX_AMOUNT_MINOR {
            return Err(AmountError::TooLarge);
        }
        Ok(Self { amount, currency })
    }

    pub fn amount(self) -> i64 {
        self.amount
    }

    pub fn currency(self) -> Currency {
        self.currency
    }
}

/// Formats minor units for people in English: `$1,234.50`, `¥500`,
/// `BHD 1.250` (a no-break space); [`crate::Locale`] writes other languages.
pub fn format_amount(amount: i64, currency: Currency) -> String {
    crate::Locale::En.format_amount(amount, currency)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_amount(self.amount, self.currency))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("`{0}` is not an amount: write digits with at most one `.`, like 12.50")]
    NotANumber(String),
    #[error("{currency} has {exponent} decimal places; `{text}` has more")]
    TooManyDecimals {
        text: String,
        currency: Currency,
        exponent: u32,
    },
    #[error("{0}")]
    Amount(#[from] AmountError),
}

impl Money {
    /// Parses an amount as people write it, in major units: `12.5` USD is
    /// 1250, `500` JPY is 500. Exact: more decimals than the currency has
    /// is an error, never a rounding. `,` between thousands is allowed.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, DecimalError> {
        let not_a_number = || DecimalError::NotANumber(text.to_string());
        let cleaned: String = text.trim().chars().filter(|&c| c != ',').collect();
        let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(not_a_number());
        }
        let exponent = currency.exponent();
        if fraction.len() > exponent as usize {
            return Err(DecimalError::TooManyDecimals {
                text: text.trim().to_string(),
                currency,
                exponent,
            });
        }
        // Eleven digits of minor units is the most Kasse takes; more is
        // too large whatever the digits say, so stop before overflowing.
        let minor_digits = format!("{whole}{fraction:0<width$}", width = exponent as usize);
        let minor_digits = minor_digits.trim_start_matches('0');
        if minor_digits.len() > 18 {
            return Err(AmountError::TooLarge.into());
        }
        let amount: i64 = if minor_digits.is_empty() {
            0
        } else {
            minor_digits.parse().map_err(|_| not_a_number())?
        };
        Ok(Money::new(amount, currency)?)
    }
}

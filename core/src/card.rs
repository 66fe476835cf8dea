//! Card numbers, expiry dates and CVCs, checked the same way on the page and
//! on the server. Types that hold card data never print it in full.

use std::fmt;

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};

/// Card networks Kasse recognises by their issuer identification number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
    Unionpay,
    Diners,
    Maestro,
    Rupay,
}

impl CardBrand {
    pub const ALL: [CardBrand; 9] = [
        CardBrand::Visa,
        CardBrand::Mastercard,
        CardBrand::Amex,
        CardBrand::Discover,
        CardBrand::Jcb,
        CardBrand::Unionpay,
        CardBrand::Diners,
        CardBrand::Maestro,
        CardBrand::Rupay,
    ];

    pub fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Discover => "Discover",
            CardBrand::Jcb => "JCB",
            CardBrand::Unionpay => "UnionPay",
            CardBrand::Diners => "Diners Club",
            CardBrand::Maestro => "Maestro",
            CardBrand::Rupay => "RuPay",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Discover => "discover",
            CardBrand::Jcb => "jcb",
            CardBrand::Unionpay => "unionpay",
            CardBrand::Diners => "diners",
            CardBrand::Maestro => "maestro",
            CardBrand::Rupay => "rupay",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Valid lengths of a full card number of this brand.
    pub fn lengths(self) -> std::ops::RangeInclusive<usize> {
        match self {
            CardBrand::Visa => 13..=19,
            CardBrand::Mastercard | CardBrand::Rupay => 16..=16,
            CardBrand::Amex => 15..=15,
            CardBrand::Discover | CardBrand::Jcb | CardBrand::Unionpay => 16..=19,
            CardBrand::Diners => 14..=19,
            CardBrand::Maestro => 12..=19,
        }
    }

    pub fn max_length(self) -> usize {
        *self.lengths().end()
    }

    pub fn cvc_length(self) -> usize {
        match self {
            CardBrand::Amex => 4,
            _ => 3,
        }
    }

    /// Sizes of the digit groups people see: Amex 4-6-5, Diners 4-6-4, else fours.
    fn groups(self, len: usize) -> &'static [usize] {
        match (self, len) {
            (CardBrand::Amex, _) => &[4, 6, 5],
            (CardBrand::Diners, 0..=14) => &[4, 6, 4],
            _ => &[4, 4, 4, 4, 3],
        }
    }
}

impl fmt::Display for CardBrand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// IIN ranges over the first six digits, most specific first: the first
/// range that contains a number's prefix names its brand.
const IIN_RANGES: &[(u32, u32, CardBrand)] = &[
    (508_500, 508_999, CardBrand::Rupay),
    (606_985, 607_984, CardBrand::Rupay),
    (608_001, 608_500, CardBrand::Rupay),
    (652_150, 653_149, CardBrand::Rupay),
    (622_126, 622_925, CardBrand::Discover),
    (601_100, 601_199, CardBrand::Discover),
    (644_000, 659_999, CardBrand::Discover),
    (620_000, 629_999, CardBrand::Unionpay),
    (810_000, 817_199, CardBrand::Unionpay),
    (400_000, 499_999, CardBrand::Visa),
    (510_000, 559_999, CardBrand::Mastercard),
    (222_100, 272_099, CardBrand::Mastercard),
    (340_000, 349_999, CardBrand::Amex),
    (370_000, 379_999, CardBrand::Amex),
    (352_800, 358_999, CardBrand::Jcb),
    (300_000, 305_999, CardBrand::Diners),
    (309_500, 309_599, CardBrand::Diners),
    (360_000, 369_999, CardBrand::Diners),
    (380_000, 399_999, CardBrand::Diners),
    (500_000, 509_999, CardBrand::Maestro),
    (560_000, 589_999, CardBrand::Maestro),
    (630_400, 630_499, CardBrand::Maestro),
    (675_900, 675_999, CardBrand::Maestro),
    (676_100, 676_399, CardBrand::Maestro),
];

/// The brand of a number, or of the start of one as it is typed.
///
/// With fewer than six digits the brand is named only when every range the
/// prefix could still fall into agrees: "4" is Visa, "5" is not yet known.
pub fn detect_brand(input: &str) -> Option<CardBrand> {
    let digits: Vec<u32> = input
        .chars()
        .filter(|c| !is_separator(*c))
        .map_while(|c| c.to_digit(10))
        .take(6)
        .collect();
    if digits.is_empty() {
        return None;
    }
    let prefix = digits.iter().fold(0u32, |acc, d| acc * 10 + d);
    let scale = 10u32.pow(6 - digits.len() as u32);
    let (low, high) = (prefix * scale, prefix * scale + scale - 1);
    if digits.len() == 6 {
        return IIN_RANGES
            .iter()
            .find(|(lo, hi, _)| (*lo..=*hi).contains(&low))
            .map(|(_, _, brand)| *brand);
    }
    let mut candidates = IIN_RANGES
        .iter()
        .filter(|(lo, hi, _)| *lo <= high && low <= *hi)
        .map(|(_, _, brand)| *brand);
    let first = candidates.next()?;
    candidates.all(|b| b == first).then_some(first)
}

fn is_separator(c: char) -> bool {
    c == ' ' || c == '-'
}

/// The Luhn (mod 10) check every card number carries in its last digit.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Groups the digits typed so far as the brand prints them ("4242 4242 42"),
/// dropping anything that is not a digit and stopping at the brand's length.
pub fn format_card_input(input: &str) -> String {
    // Digits are ASCII: counted, never sliced, so that the payment page
    // carries no code for slicing a string between the bytes of a character.
    let mut digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let brand = detect_brand(&digits);
    digits.truncate(digits.len().min(brand.map_or(19, CardBrand::max_length)));
    let mut groups = brand
        .unwrap_or(CardBrand::Visa)
        .groups(digits.len())
        .iter()
        .copied()
        .chain(std::iter::repeat(4));
    let mut out = String::with_capacity(digits.len() + 4);
    let mut left = 0;
    for digit in digits.chars() {
        if left == 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            left = groups.next().unwrap_or(4);
        }
        out.push(digit);
        left -= 1;
    }
    out
}

/// Why a card number was refused; `code()` is the stable API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardNumberError {
    #[error("Enter a card number.")]
    Empty,
    #[error("A card number has only digits.")]
    NotDigits,
    #[error("The card number is incomplete.")]
    WrongLength,
    #[error("The card number is not valid.")]
    FailsLuhn,
    #[error("This card's network is not accepted.")]
    UnknownBrand,
}

impl CardNumberError {
    pub fn code(self) -> ErrorCode {
        match self {
            CardNumberError::Empty | CardNumberError::NotDigits | CardNumberError::WrongLength => {
                ErrorCode::InvalidNumber
            }
            CardNumberError::FailsLuhn => ErrorCode::IncorrectNumber,
            CardNumberError::UnknownBrand => ErrorCode::UnsupportedCardBrand,
        }
    }
}

/// A card number that passed the Luhn check and belongs to a known brand.
///
/// `Debug` and `Display` show only the BIN and the last four digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl CardNumber {
    /// Accepts digits with the spaces or dashes people type between groups.
    pub fn parse(input: &str) -> Result<Self, CardNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CardNumberError::Empty);
        }
        let mut digits = String::with_capacity(19);
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                c if is_separator(c) => {}
                _ => return Err(CardNumberError::NotDigits),
            }
        }
        if !(12..=19).contains(&digits.len()) {
            return Err(CardNumberError::WrongLength);
        }
        let brand = detect_brand(&digits).ok_or(CardNumberError::UnknownBrand)?;
        if !brand.lengths().contains(&digits.len()) {
            return Err(CardNumberError::WrongLength);
        }
        if !luhn_valid(&digits) {
            return Err(CardNumberError::FailsLuhn);
        }
        Ok(Self { digits, brand })
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    /// The first six digits: the issuer identification number.
    pub fn bin(&self) -> &str {
        &self.digits[..6]
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// The full number, for the acquirer and for keyed fingerprints only.
    /// Never log or store what this returns.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }

    /// `424242******4242`: the PCI-permitted masked form.
    pub fn masked(&self) -> String {
        let hidden = self.digits.len() - 10;
        format!("{}{}{}", self.bin(), "*".repeat(hidden), self.last4())
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({} {})", self.brand.as_str(), self.masked())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} •••• {}", self.brand.display_name(), self.last4())
    }
}

/// A card's expiry month and four-digit year, not in the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub month: u8,
    pub year: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("Enter the expiry date as MM / YY.")]
    Malformed,
    #[error("The expiry month must be 01 to 12.")]
    BadMonth,
    #[error("The card has expired.")]
    Expired,
    #[error("The expiry year is too far in the future.")]
    TooFar,
}

impl ExpiryError {
    pub fn code(self) -> ErrorCode {
        match self {
            ExpiryError::Malformed | ExpiryError::BadMonth => ErrorCode::InvalidExpiryMonth,
            ExpiryError::Expired => ErrorCode::InvalidExpiryYear,
            ExpiryError::TooFar => ErrorCode::InvalidExpiryYear,
        }
    }
}

/// Cards are not issued for longer than this.
const MAX_YEARS_AHEAD: u16 = 20;

impl Expiry {
    /// `year` may have two digits (`29`) or four (`2029`); `today` is
    /// `(year, month)` and comes from the caller, since this crate has no clock.
    pub fn new(month: u8, year: u16, today: (u16, u8)) -> Result<Self, ExpiryError> {
        if !(1..=12).contains(&month) {
            return Err(ExpiryError::BadMonth);
        }
        let year = if year < 100 { 2000 + year } else { year };
        let (this_year, this_month) = today;
        if (year, month) < (this_year, this_month) {
            return Err(ExpiryError::Expired);
        }
        if year > this_year + MAX_YEARS_AHEAD {
            return Err(ExpiryError::TooFar);
        }
        Ok(Self { month, year })
    }

    /// Parses what a person types: `12/29`, `12 / 29`, `1229`, `12/2029`.
    pub fn parse(input: &str, today: (u16, u8)) -> Result<Self, ExpiryError> {
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if input
            .chars()
            .any(|c| !(c.is_ascii_digit() || c == '/' || c == ' '))
        {
            return Err(ExpiryError::Malformed);
        }
        if !matches!(digits.len(), 4 | 6) {
            return Err(ExpiryError::Malformed);
        }
        // The first two digits are the month, the rest the year.
        let (mut month, mut year) = (0u8, 0u16);
        for (i, digit) in digits.bytes().map(|b| b - b'0').enumerate() {
            if i < 2 {
                month = month * 10 + digit;
            } else {
                year = year * 10 + u16::from(digit);
            }
        }
        Self::new(month, year, today)
    }
}

/// Formats an expiry as it is typed: `1` → `1`, `12` → `12 /`, `1229` → `12 / 29`.
pub fn format_expiry_input(input: &str) -> String {
    let mut out = String::with_capacity(7);
    for (i, digit) in input
        .chars()
        .filter(char::is_ascii_digit)
        .take(4)
        .enumerate()
    {
        if i == 2 {
            out.push(' ');
        }
        out.push(digit);
        if i == 1 {
            out.push_str(" /");
        }
    }
    out
}

/// A card verification code: digits, as many as the brand asks for.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvc(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CvcError {
    #[error("The security code has {0} digits.")]
    WrongLength(usize),
}

impl CvcError {
    pub fn code(self) -> ErrorCode {
        ErrorCode::InvalidCvc
    }
}

impl Cvc {
    pub fn parse(input: &str, brand: Option<CardBrand>) -> Result<Self, CvcError> {
        let expected = brand.map_or(3, CardBrand::cvc_length);
        let input = input.trim();
        if input.len() != expected || !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CvcError::WrongLength(expected));
        }
        Ok(Self(input.to_string()))
    }

    /// For the acquirer only. Never log or store what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

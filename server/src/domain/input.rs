//! The rules for values a caller gives, shared by every operation that
//! takes them: money, free text, URLs on the merchant's origins, metadata.

use kasse_core::error::ErrorCode;
use std::collections::BTreeMap;

use kasse_core::money::{AmountError, CurrencyError, MAX_AMOUNT_MINOR};
use kasse_core::origin::{RedirectUrlError, redirect_url_on};
use kasse_core::{Currency, Money};

use super::DomainError;
use crate::store::Merchant;

const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY_LEN: usize = 40;
const MAX_METADATA_VALUE_LEN: usize = 500;

/// The `amount` and `currency` parameters, as money Kasse can charge.
pub fn money_params(currency: &str, amount: i64) -> Result<Money, DomainError> {
    let currency = Currency::parse(currency).map_err(|e| {
        let message = match e {
            CurrencyError::Unknown(code) => format!(
                "Unknown currency '{code}': use a three-letter ISO 4217 code such as USD, BDT or MNT."
            ),
            e @ CurrencyError::NotChargeable(_) => format!("{e}."),
        };
        DomainError::invalid(ErrorCode::InvalidCurrency, "currency", message)
    })?;
    Money::new(amount, currency).map_err(|e| match e {
        AmountError::NotPositive => DomainError::invalid(
            ErrorCode::AmountTooSmall,
            "amount",
            format!(
                "The amount must be a positive integer in the currency's minor units (e.g. 1050 for 10.50 {currency}); got {}.",
                amount
            ),
        ),
        AmountError::TooLarge => DomainError::invalid(
            ErrorCode::AmountTooLarge,
            "amount",
            format!("The amount must be at most {MAX_AMOUNT_MINOR} minor units; got {}.", amount),
        ),
    })
}

pub fn merchant_url(merchant: &Merchant, param: &str, input: &str) -> Result<String, DomainError> {
    redirect_url_on(input, &merchant.origins)
        .map(String::from)
        .map_err(|e| {
            let code = match e {
                RedirectUrlError::OffOrigin => ErrorCode::UrlNotAllowed,
                RedirectUrlError::NotAUrl | RedirectUrlError::Insecure => ErrorCode::InvalidUrl,
            };
            let origins: Vec<&str> = merchant.origins.iter().map(|o| o.as_str()).collect();
            DomainError::invalid(
                code,
                param,
                format!(
                    "{param} '{input}' {e}. Registered origins: {}.",
                    origins.join(", ")
                ),
            )
        })
}

/// Where a customer goes after a page Kasse made for them: `given`, on the
/// merchant's origins, or else the merchant's first origin.
pub fn return_url(
    ctx: &crate::state::AppState,
    merchant: &Merchant,
    given: Option<&str>,
) -> Result<String, DomainError> {
    match given {
        Some(url) => merchant_url(merchant, "return_url", url),
        None => Ok(format!(
            "{}/",
            merchant
                .origins
                .first()
                .map(|o| o.as_str())
                .unwrap_or_else(|| ctx.public_url.as_str().trim_end_matches('/'))
        )),
    }
}

pub fn text_field(
    param: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let Some(value) = value.map(|v| v.trim().to_string()) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            param,
            format!("{param} must not be empty; leave it out instead."),
        ));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            param,
            format!("{param} must be at most {max} characters of text without control characters."),
        ));
    }
    Ok(Some(value))
}

/// An optional email address, trimmed: something@domain.tld, no spaces.
pub fn email(param: &str, value: Option<String>) -> Result<Option<String>, DomainError> {
    let email = text_field(param, value, 254)?;
    if let Some(email) = &email {
        let valid = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !email.contains(char::is_whitespace);
        if !valid {
            return Err(DomainError::invalid(
                ErrorCode::InvalidEmail,
                param,
                format!("'{email}' is not an email address."),
            ));
        }
    }
    Ok(email)
}

pub fn metadata(
    metadata: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, DomainError> {
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "metadata",
            format!(
                "metadata may have at most {MAX_METADATA_KEYS} keys; got {}.",
                metadata.len()
            ),
        ));
    }
    for (key, value) in &metadata {
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_LEN {
            return Err(DomainError::invalid(
                ErrorCode::ParameterInvalid,
                &format!("metadata.{key}"),
                format!("metadata keys must have 1 to {MAX_METADATA_KEY_LEN} characters."),
            ));
        }
        if value.chars().count() > MAX_METADATA_VALUE_LEN {
            return Err(DomainError::invalid(
                ErrorCode::ParameterInvalid,
                &format!("metadata.{key}"),
                format!("metadata values must have at most {MAX_METADATA_VALUE_LEN} characters."),
            ));
        }
    }
    Ok(metadata)
}

//! Signed redirects back to the merchant.
//!
//! The customer's browser carries the outcome to `success_url`, so a
//! merchant must be able to tell a real `status=succeeded` from one typed by
//! hand. Kasse appends `signature`: hex HMAC-SHA256, under the merchant's
//! signing secret, of the canonical query string — every other query
//! parameter, sorted by name then value, each name and value
//! percent-encoded per RFC 3986 (only `A-Z a-z 0-9 - . _ ~` left bare),
//! joined as `name=value` with `&`.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;
use url::Url;

/// The query parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "signature";

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The string that is signed, from a URL's decoded query pairs.
pub fn canonical_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter(|(name, _)| *name != SIGNATURE_PARAM)
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, UNRESERVED),
                utf8_percent_encode(value, UNRESERVED)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn mac(secret: &str, canonical: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(canonical.as_bytes());
    mac
}

/// Appends `params` and their signature to `base`, keeping its own query.
pub fn sign_url(base: &Url, params: &[(&str, &str)], secret: &str) -> Url {
    let mut url = base.clone();
    url.query_pairs_mut()
        .extend_pairs(params.iter().copied())
        .finish();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let canonical = canonical_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let signature = hex::encode(mac(secret, &canonical).finalize().into_bytes());
    url.query_pairs_mut()
        .append_pair(SIGNATURE_PARAM, &signature)
        .finish();
    url
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the URL has no signature parameter")]
    Missing,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a redirect URL's signature in constant time.
pub fn verify_url(url: &Url, secret: &str) -> Result<(), VerifyError> {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut signatures = pairs.iter().filter(|(k, _)| k == SIGNATURE_PARAM);
    let signature = match (signatures.next(), signatures.next()) {
        (Some((_, s)), None) => s,
        _ => return Err(VerifyError::Missing),
    };
    let expected = hex::decode(signature).map_err(|_| VerifyError::Mismatch)?;
    let canonical = canonical_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    mac(secret, &canonical)
        .verify_slice(&expected)
        .map_err(|_| VerifyError::Mismatch)
}

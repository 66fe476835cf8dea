//! Random identifiers and secrets: a type prefix and base62 characters.

use rand::Rng;
use rand::distributions::Alphanumeric;

fn random_base62(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `cs_…`, `pay_…`, `mer_…`: 24 base62 characters (about 143 bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(24))
}

/// A secret with `prefix`: 32 base62 characters (about 190 bits).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", random_base62(32))
}

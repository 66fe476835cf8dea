//! Keyed hashes: API keys are stored only as HMACs under the server's
//! secret, and card fingerprints use a key derived from the same secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ids::new_secret;

pub const SECRET_KEY_PREFIX: &str = "sk_test_";
pub const PUBLISHABLE_KEY_PREFIX: &str = "pk_test_";
pub const SIGNING_SECRET_PREFIX: &str = "rsig_test_";
/// Characters of a key, after its type prefix, kept in clear to find it.
const LOOKUP_CHARS: usize = 8;

/// The server's own secret. Losing it invalidates every stored key hash.
#[derive(Clone)]
pub struct ServerSecret(Vec<u8>);

impl ServerSecret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    fn derive(&self, purpose: &str) -> Hmac<Sha256> {
        let mut outer = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        outer.update(purpose.as_bytes());
        let subkey = outer.finalize().into_bytes();
        Hmac::<Sha256>::new_from_slice(&subkey).expect("HMAC takes any key")
    }

    /// The stored form of an API key.
    pub fn hash_key(&self, key: &str) -> String {
        let mut mac = self.derive("kasse api key v1");
        mac.update(key.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn key_matches(&self, key: &str, stored_hash: &str) -> bool {
        self.hash_key(key)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }

    /// Tells the same card apart across payments without storing its number.
    pub fn card_fingerprint(&self, digits: &str) -> String {
        let mut mac = self.derive("kasse card fingerprint v1");
        mac.update(digits.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret([redacted])")
    }
}

/// A new API key and what is stored of it.
pub struct IssuedKey {
    pub key: String,
    pub lookup: String,
    pub hash: String,
}

pub fn issue_key(prefix: &str, secret: &ServerSecret) -> IssuedKey {
    let key = new_secret(prefix);
    IssuedKey {
        lookup: key_lookup(&key)
            .expect("a fresh key is long enough")
            .to_string(),
        hash: secret.hash_key(&key),
        key,
    }
}

/// The clear prefix a key is found by: its type and the first characters.
pub fn key_lookup(key: &str) -> Option<&str> {
    let type_len = [SECRET_KEY_PREFIX, PUBLISHABLE_KEY_PREFIX]
        .iter()
        .find(|p| key.starts_with(**p))?
        .len();
    key.get(..type_len + LOOKUP_CHARS)
        .filter(|_| key.len() > type_len + LOOKUP_CHARS)
}

/// A Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
pub fn new_webhook_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Compares two secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_verify_only_against_their_own_hash() {
        let secret = ServerSecret::new(b"server".to_vec());
        let issued = issue_key(SECRET_KEY_PREFIX, &secret);
        assert!(issued.key.starts_with("sk_test_"));
        assert!(!issued.hash.contains(&issued.key[8..]));
        assert!(secret.key_matches(&issued.key, &issued.hash));
        assert!(!secret.key_matches(&format!("{}x", issued.key), &issued.hash));
        let other = ServerSecret::new(b"other".to_vec());
        assert!(!other.key_matches(&issued.key, &issued.hash));
        assert_eq!(key_lookup(&issued.key), Some(&issued.key[..16]));
        assert_eq!(key_lookup("sk_test_short"), None);
        assert_eq!(key_lookup("Bearer nonsense"), None);
    }

    #[test]
    fn fingerprints_are_stable_keyed_and_hide_the_number() {
        let secret = ServerSecret::new(b"server".to_vec());
        let a = secret.card_fingerprint("4242424242424242");
        assert_eq!(a, secret.card_fingerprint("4242424242424242"));
        assert_ne!(a, secret.card_fingerprint("5555555555554444"));
        assert_ne!(
            a,
            ServerSecret::new(b"x".to_vec()).card_fingerprint("4242424242424242")
        );
        assert!(!a.contains("4242"));
    }
}

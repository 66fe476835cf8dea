//! Keyed hashes and encryption at rest: API keys are stored only as HMACs
//! under the server's secret; card fingerprints and idempotency request
//! hashes use keys derived from it; secrets that must be read back (signing
//! and webhook secrets, client secrets, replayed responses) are stored
//! sealed with AES-256-GCM under another key derived from it.

use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
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

    /// Tells the same card apart across one merchant's payments without
    /// storing its number. Scoped to the merchant, so one merchant's
    /// fingerprints say nothing about another's customers.
    pub fn card_fingerprint(&self, merchant_id: &str, digits: &str) -> String {
        let mut mac = self.derive("kasse card fingerprint v2");
        mac.update(merchant_id.as_bytes());
        mac.update(b"\0");
        mac.update(digits.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// A keyed digest of a request, for telling a retried request from
    /// another: without the server's secret it cannot be tested against
    /// guesses of what the request held.
    pub fn request_digest(&self, parts: &[&[u8]]) -> String {
        let mut mac = self.derive("kasse idempotency request v2");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whom a rate limit counts (an address, an email, a merchant), as the
    /// shared counters name it: a keyed hash, so the table of counters
    /// holds no address or email.
    pub fn limit_key(&self, who: &str) -> String {
        let mut mac = self.derive("kasse rate limit v1");
        mac.update(who.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The stored form of a page's secret (a card update link's): a keyed
    /// hash, so a copy of the database opens no page.
    pub fn page_secret_hash(&self, secret: &str) -> String {
        let mut mac = self.derive("kasse page secret v1");
        mac.update(secret.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts what is stored at rest.
    pub fn sealer(&self) -> Sealer {
        let key = self
            .derive("kasse at-rest encryption v1")
            .finalize()
            .into_bytes();
        Sealer(Arc::new(
            <Aes256Gcm as aes_gcm::KeyInit>::new_from_slice(&key).expect("a 32-byte key"),
        ))
    }
}

/// AES-256-GCM with a random nonce per value. A sealed value reads
/// `kv1:` and the base64 of nonce and ciphertext; the column it belongs to is
/// bound in as associated data, so a value cannot be moved to another column.
#[derive(Clone)]
pub struct Sealer(Arc<Aes256Gcm>);

const SEALED_PREFIX: &str = "kv1:";

#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened (wrong KASSE_SECRET, or damaged data)")]
pub struct OpenError;

impl Sealer {
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        use base64::Engine;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: purpose.as_bytes(),
                },
            )
            .expect("AES-GCM encrypts any length Kasse stores");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    pub fn seal_str(&self, purpose: &str, plain: &str) -> String {
        self.seal(purpose, plain.as_bytes())
    }

    /// Opens a sealed value. A value without the prefix was stored before
    /// values were sealed and is returned as it is (until it is resealed).
    pub fn open(&self, purpose: &str, stored: &[u8]) -> Result<Vec<u8>, OpenError> {
        use base64::Engine;
        let Some(body) = stored.strip_prefix(SEALED_PREFIX.as_bytes()) else {
            return Ok(stored.to_vec());
        };
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| OpenError)?;
        if bytes.len() < 12 {
            return Err(OpenError);
        }
        let (nonce, sealed) = bytes.split_at(12);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| OpenError)
    }

    pub fn open_str(&self, purpose: &str, stored: &str) -> Result<String, OpenError> {
        String::from_utf8(self.open(purpose, stored.as_bytes())?).map_err(|_| OpenError)
    }

    pub fn is_sealed(stored: &[u8]) -> bool {
        stored.starts_with(SEALED_PREFIX.as_bytes())
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
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
    fn fingerprints_are_stable_keyed_per_merchant_and_hide_the_number() {
        let secret = ServerSecret::new(b"server".to_vec());
        let a = secret.card_fingerprint("mer_a", "4242424242424242");
        assert_eq!(a, secret.card_fingerprint("mer_a", "4242424242424242"));
        assert_ne!(a, secret.card_fingerprint("mer_a", "5555555555554444"));
        assert_ne!(a, secret.card_fingerprint("mer_b", "4242424242424242"));
        assert_ne!(
            a,
            ServerSecret::new(b"x".to_vec()).card_fingerprint("mer_a", "4242424242424242")
        );
        assert!(!a.contains("4242"));
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let sealer = ServerSecret::new(b"server".to_vec()).sealer();
        let sealed = sealer.seal_str("sessions.client_secret", "cs_1_secret_abc");
        assert!(sealed.starts_with("kv1:") && !sealed.contains("abc"));
        assert_ne!(
            sealed,
            sealer.seal_str("sessions.client_secret", "cs_1_secret_abc")
        );
        assert_eq!(
            sealer.open_str("sessions.client_secret", &sealed).unwrap(),
            "cs_1_secret_abc"
        );
        assert!(
            sealer
                .open_str("merchants.signing_secret", &sealed)
                .is_err()
        );
        let other = ServerSecret::new(b"other".to_vec()).sealer();
        assert!(other.open_str("sessions.client_secret", &sealed).is_err());
        // Stored before sealing: read as it is.
        assert_eq!(
            sealer.open_str("x", "rsig_test_old").unwrap(),
            "rsig_test_old"
        );
    }
}

//! The card vault: a saved card's number, sealed with AES-256-GCM under a
//! data key of its merchant, with the merchant and the payment method
//! bound in as associated data so that a sealed number cannot be moved to
//! another row. Each data key is stored wrapped by a key-encryption key
//! (KEK) that comes from the environment or a key file and is never stored
//! in the database. Several KEKs may be given: the first wraps, every one
//! unwraps, which is how `kasse vault rotate` moves to a new one without
//! stopping.

use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

const WRAPPED_PREFIX: &str = "vk1:";
const CARD_PREFIX: &str = "vc1:";

/// Why the vault could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{0}")]
    Config(String),
    #[error(
        "the data key of {merchant} is wrapped by key-encryption key {kek_id}, which this server was not given (KASSE_VAULT_KEY)"
    )]
    UnknownKek { merchant: String, kek_id: String },
    #[error("a vault value could not be opened: wrong key, or a value moved or damaged")]
    Damaged,
}

/// One key-encryption key and the id it is known by.
struct Kek {
    id: String,
    cipher: Aes256Gcm,
}

impl Kek {
    fn new(bytes: &[u8; 32]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("HMAC takes any key");
        mac.update(b"kasse vault key id v1");
        Self {
            id: hex::encode(&mac.finalize().into_bytes()[..8]),
            cipher: Aes256Gcm::new_from_slice(bytes).expect("a 32-byte key"),
        }
    }
}

/// The vault's keys: the current KEK first, then older ones still read.
#[derive(Clone)]
pub struct Vault(Arc<Vec<Kek>>);

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault(current key {})", self.current_kek_id())
    }
}

/// A merchant's data key, unwrapped; zeroed when dropped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl Vault {
    /// Reads KEKs as `KASSE_VAULT_KEY` holds them: comma-separated, each 32
    /// bytes as 64 hex digits or as base64; the first is current.
    pub fn from_keys(text: &str) -> Result<Self, VaultError> {
        let keys = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(parse_key)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(VaultError::Config(
                "the vault key is empty: give 32 random bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)".into(),
            ));
        }
        Ok(Self(Arc::new(keys.iter().map(Kek::new).collect())))
    }

    /// The vault `KASSE_VAULT_KEY` or `KASSE_VAULT_KEY_FILE` gives, if any.
    /// A key file in the database's own directory is refused: a copy of
    /// the database would carry the key that opens its cards.
    pub fn from_env(database_dir: Option<&Path>) -> Result<Option<Self>, VaultError> {
        if let Ok(keys) = std::env::var("KASSE_VAULT_KEY") {
            return Self::from_keys(&keys).map(Some);
        }
        let Ok(file) = std::env::var("KASSE_VAULT_KEY_FILE") else {
            return Ok(None);
        };
        Self::from_file(Path::new(&file), database_dir).map(Some)
    }

    pub fn from_file(file: &Path, database_dir: Option<&Path>) -> Result<Self, VaultError> {
        let canonical = |p: &Path| std::fs::canonicalize(p).ok();
        if let (Some(key_dir), Some(db_dir)) = (
            file.parent().and_then(|d| {
                canonical(if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                })
            }),
            database_dir.and_then(canonical),
        ) && key_dir == db_dir
        {
            return Err(VaultError::Config(format!(
                "the vault key file {} is in the database's directory; keep it elsewhere, so that a copy of the database does not carry the key to its cards",
                file.display()
            )));
        }
        let text = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| {
            VaultError::Config(format!(
                "could not read the vault key file {}: {e}",
                file.display()
            ))
        })?);
        Self::from_keys(&text)
    }

    /// A fresh random key, as 64 hex digits, for `make run` and tests.
    pub fn generate_key() -> String {
        hex::encode(Aes256Gcm::generate_key(OsRng))
    }

    pub fn current_kek_id(&self) -> &str {
        &self.0[0].id
    }

    fn kek(&self, merchant: &str, kek_id: &str) -> Result<&Kek, VaultError> {
        self.0
            .iter()
            .find(|k| k.id == kek_id)
            .ok_or_else(|| VaultError::UnknownKek {
                merchant: merchant.to_string(),
                kek_id: kek_id.to_string(),
            })
    }

    /// A new data key for `merchant`, and its wrapped form under the current KEK.
    pub fn new_data_key(&self, merchant: &str) -> (DataKey, String) {
        let key = DataKey(Zeroizing::new(Aes256Gcm::generate_key(OsRng).into()));
        let wrapped = self.wrap(merchant, &key);
        (key, wrapped)
    }

    /// `key` wrapped by the current KEK.
    pub fn wrap(&self, merchant: &str, key: &DataKey) -> String {
        seal(
            &self.0[0].cipher,
            WRAPPED_PREFIX,
            &wrap_aad(merchant),
            key.0.as_slice(),
        )
    }

    /// Unwraps a data key stored wrapped by KEK `kek_id`.
    pub fn unwrap(
        &self,
        merchant: &str,
        kek_id: &str,
        wrapped: &str,
    ) -> Result<DataKey, VaultError> {
        let kek = self.kek(merchant, kek_id)?;
        let plain = Zeroizing::new(open(
            &kek.cipher,
            WRAPPED_PREFIX,
            &wrap_aad(merchant),
            wrapped,
        )?);
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Damaged)?;
        Ok(DataKey(Zeroizing::new(bytes)))
    }

    /// A card number sealed for payment method `pm` of `merchant`.
    pub fn seal_card(key: &DataKey, merchant: &str, pm: &str, digits: &str) -> String {
        let cipher = Aes256Gcm::new_from_slice(key.0.as_slice()).expect("a 32-byte key");
        seal(
            &cipher,
            CARD_PREFIX,
            &card_aad(merchant, pm),
            digits.as_bytes(),
        )
    }

    /// The card number of payment method `pm`, which only its own row opens.
    pub fn open_card(
        key: &DataKey,
        merchant: &str,
        pm: &str,
        sealed: &str,
    ) -> Result<Zeroizing<String>, VaultError> {
        let cipher = Aes256Gcm::new_from_slice(key.0.as_slice()).expect("a 32-byte key");
        let plain = open(&cipher, CARD_PREFIX, &card_aad(merchant, pm), sealed)?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Damaged)
    }
}

fn wrap_aad(merchant: &str) -> String {
    format!("kasse vault data key\0{merchant}")
}

fn card_aad(merchant: &str, pm: &str) -> String {
    format!("kasse vault card\0{merchant}\0{pm}")
}

fn parse_key(text: &str) -> Result<[u8; 32], VaultError> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .or_else(|| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(text)
                    .ok()
            })
    };
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            VaultError::Config(
                "a vault key must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)".into(),
            )
        })
}

fn seal(cipher: &Aes256Gcm, prefix: &str, aad: &str, plain: &[u8]) -> String {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .expect("AES-GCM encrypts a card number");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
    )
}

fn open(cipher: &Aes256Gcm, prefix: &str, aad: &str, sealed: &str) -> Result<Vec<u8>, VaultError> {
    let body = sealed.strip_prefix(prefix).ok_or(VaultError::Damaged)?;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(body)
        .map_err(|_| VaultError::Damaged)?;
    if bytes.len() < 12 {
        return Err(VaultError::Damaged);
    }
    let (nonce, sealed) = bytes.split_at(12);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| VaultError::Damaged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_opens_only_in_its_own_row_under_its_own_merchants_key() {
        let vault = Vault::from_keys(&Vault::generate_key()).unwrap();
        let (key, wrapped) = vault.new_data_key("mer_a");
        let sealed = Vault::seal_card(&key, "mer_a", "pm_1", "4242424242424242");
        assert!(sealed.starts_with("vc1:") && !sealed.contains("4242"));
        let again = vault
            .unwrap("mer_a", vault.current_kek_id(), &wrapped)
            .unwrap();
        assert_eq!(
            Vault::open_card(&again, "mer_a", "pm_1", &sealed)
                .unwrap()
                .as_str(),
            "4242424242424242"
        );
        // Moved to another payment method or merchant: refused.
        assert!(Vault::open_card(&again, "mer_a", "pm_2", &sealed).is_err());
        assert!(Vault::open_card(&again, "mer_b", "pm_1", &sealed).is_err());
        // A data key wrapped for one merchant is not another's.
        assert!(
            vault
                .unwrap("mer_b", vault.current_kek_id(), &wrapped)
                .is_err()
        );
    }

    #[test]
    fn an_older_key_still_unwraps_and_the_first_one_wraps() {
        let (old_text, new_text) = (Vault::generate_key(), Vault::generate_key());
        let old = Vault::from_keys(&old_text).unwrap();
        let (key, wrapped) = old.new_data_key("mer_a");
        let both = Vault::from_keys(&format!("{new_text},{old_text}")).unwrap();
        assert_ne!(both.current_kek_id(), old.current_kek_id());
        let opened = both
            .unwrap("mer_a", old.current_kek_id(), &wrapped)
            .unwrap();
        assert_eq!(*opened.0, *key.0);
        let rewrapped = both.wrap("mer_a", &opened);
        let new = Vault::from_keys(&new_text).unwrap();
        assert!(new.unwrap("mer_a", old.current_kek_id(), &wrapped).is_err());
        assert_eq!(
            *new.unwrap("mer_a", new.current_kek_id(), &rewrapped)
                .unwrap()
                .0,
            *key.0
        );
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_and_bad_ones_are_refused() {
        let hex_key = "00".repeat(32);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        assert_eq!(
            Vault::from_keys(&hex_key).unwrap().current_kek_id(),
            Vault::from_keys(&b64).unwrap().current_kek_id()
        );
        assert!(Vault::from_keys("").is_err());
        assert!(Vault::from_keys("too short").is_err());
        assert!(Vault::from_keys(&"00".repeat(31)).is_err());
    }
}

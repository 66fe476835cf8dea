//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): what
//! Kasse signs deliveries with, and a verifier for Rust receivers.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the key
//! is the base64 after `whsec_`; `webhook-signature` holds one or more
//! space-separated `v1,<base64 HMAC-SHA256>` (more than one while a secret
//! is being rotated).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a timestamp may be from the receiver's clock.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the secret is not `whsec_` followed by base64")]
    BadSecret,
    #[error("the webhook-timestamp header is not a Unix time")]
    BadTimestamp,
    #[error("the timestamp is too far from now; a replay or a wrong clock")]
    StaleTimestamp,
    #[error("no signature matches")]
    Mismatch,
}

fn key(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .map_err(|_| WebhookError::BadSecret)
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// One `v1,<signature>` for the `webhook-signature` header.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
    let key = key(secret)?;
    let signature = mac(&key, id, timestamp, body).finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(signature)))
}

/// Checks a delivery: its headers' values, the raw body, and the receiver's
/// clock (`now`, Unix seconds). Compares in constant time.
pub fn verify(
    secret: &str,
    webhook_id: &str,
    webhook_timestamp: &str,
    webhook_signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let key = key(secret)?;
    let timestamp: i64 = webhook_timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadTimestamp)?;
    if (now - timestamp).abs() > DEFAULT_TOLERANCE_SECONDS {
        return Err(WebhookError::StaleTimestamp);
    }
    let matches = webhook_signature
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| STANDARD.decode(s).ok())
        .any(|candidate| {
            mac(&key, webhook_id, timestamp, body)
                .verify_slice(&candidate)
                .is_ok()
        });
    if matches {
        Ok(())
    } else {
        Err(WebhookError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example in the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn matches_the_specifications_example() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), SIGNATURE);
        assert_eq!(
            verify(SECRET, ID, &TS.to_string(), SIGNATURE, BODY, TS + 10),
            Ok(())
        );
    }

    #[test]
    fn refuses_tampering_staleness_and_wrong_secrets() {
        let ts = TS.to_string();
        assert_eq!(
            verify(SECRET, ID, &ts, SIGNATURE, br#"{"test": 1}"#, TS),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, ID, &(TS + 1).to_string(), SIGNATURE, BODY, TS),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, ID, &ts, SIGNATURE, BODY, TS + 301),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            verify("whsec_c2VjcmV0", ID, &ts, SIGNATURE, BODY, TS),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify("whsec_%%%", ID, &ts, SIGNATURE, BODY, TS),
            Err(WebhookError::BadSecret)
        );
        // During a rotation either signature will do.
        let both = format!("v1,bm9wZQ== {SIGNATURE}");
        assert_eq!(verify(SECRET, ID, &ts, &both, BODY, TS), Ok(()));
    }
}

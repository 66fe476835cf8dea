//! When two requests with one `Idempotency-Key` are the same request, and
//! how long a key is remembered.

use axum::http::Method;

use crate::secrets::ServerSecret;

/// How long a key and its response are kept.
pub const TTL_SECONDS: i64 = 24 * 3600;

/// What makes two requests "the same" for a key: method, path and body,
/// under a key only the server has, so the stored digest cannot be tested
/// against guesses of a card number. The CVC is left out before that, so
/// it is not in the digest at all.
pub fn request_hash(secret: &ServerSecret, method: &Method, path: &str, body: &[u8]) -> String {
    let body = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut json) => {
            drop_cvc(&mut json);
            serde_json::to_vec(&json).expect("a JSON value serialises")
        }
        Err(_) => body.to_vec(),
    };
    secret.request_digest(&[method.as_str().as_bytes(), path.as_bytes(), &body])
}

fn drop_cvc(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("cvc");
            map.values_mut().for_each(drop_cvc);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_cvc),
        _ => {}
    }
}

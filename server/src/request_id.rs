//! Every request's id: taken from `x-request-id` when a trusted proxy sent
//! one, else made here; echoed in the answer, named in the span of every
//! log line the request writes, and kept on the events it causes, so that
//! their webhook deliveries log it too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request this task serves, if it serves one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A proxy's id is kept if it is short and plain: at most 64 letters,
/// digits and `-_.:`.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Gives the request its id (before the trace layer makes its span), runs
/// it with that id current, and echoes the id in the answer.
pub async fn assign(
    trusted: Arc<Vec<IpAddr>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let given = request
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
        .filter(|_| peer.is_some_and(|p| trusted.contains(&p)))
        .map(str::to_string);
    let id = given.unwrap_or_else(|| crate::ids::new_id("req"));
    let value = HeaderValue::from_str(&id).expect("an acceptable id is a header value");
    request.headers_mut().insert(HEADER, value.clone());
    let mut response = CURRENT.scope(id, next.run(request)).await;
    response.headers_mut().insert(HEADER, value);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(acceptable("2f0c1e9a-7b3d-4c1e-9f00-5d2b8e7a6c41"));
        assert!(acceptable("lb-01:1733100000.123"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("id with spaces"));
        assert!(!acceptable("id\u{7f}"));
        assert!(!acceptable("4242424242424242 cvc=123;"));
    }
}

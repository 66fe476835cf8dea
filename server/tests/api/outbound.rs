//! Webhooks leave Kasse over real TLS, and never into the network Kasse
//! runs in: IP literals are refused when an endpoint is added, names when
//! they resolve, and redirects are not followed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kasse_core::api::{EventDetail, EventList, WebhookEndpoint};
use serde_json::json;
use standardwebhooks::Webhook;

use crate::helpers::{TestApp, expect_error, good_card, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

const PATIENCE: Duration = Duration::from_secs(15);

/// A certificate authority made for one test, and a server certificate for
/// `localhost` that it signed.
struct TestPki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

fn test_pki() -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Kasse test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

async fn add_endpoint(app: &TestApp, url: &str) -> WebhookEndpoint {
    let response = app
        .post("/v1/webhook_endpoints", &json!({ "url": url }))
        .await;
    assert_eq!(response.status(), 201, "{url}");
    response.json().await.unwrap()
}

async fn pay(app: &TestApp) {
    let session = app.create_session().await;
    let response = app.confirm(&session, &good_card("4242424242424242")).await;
    assert_eq!(response.status(), 200);
}

/// The errors of the attempts at the payment.succeeded event, once there
/// are `at_least` of them.
async fn attempt_errors(app: &TestApp, at_least: usize) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let events: EventList = app
            .get("/v1/events?type=payment.succeeded")
            .await
            .json()
            .await
            .unwrap();
        if let Some(event) = events.data.first() {
            let detail: EventDetail = app
                .get(&format!("/v1/events/{}", event.id))
                .await
                .json()
                .await
                .unwrap();
            if detail.attempts.len() >= at_least {
                return detail
                    .attempts
                    .iter()
                    .map(|a| a.error.clone().unwrap_or_default())
                    .collect();
            }
        }
        assert!(Instant::now() < deadline, "no attempt was recorded in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_https_endpoint_under_the_operators_ca_receives_a_delivery_that_verifies() {
    let pki = test_pki();
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = ca_dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let app = spawn_app_with(|c| c.webhooks.ca_file = Some(ca_file)).await;
    let receiver = Receiver::start_tls(pki.server.clone()).await;
    let url = receiver.url("/hooks");
    assert!(url.starts_with("https://localhost:"), "{url}");
    let endpoint = add_endpoint(&app, &url).await;
    pay(&app).await;
    // The payment's event and the session's, in whichever order they land.
    let received = receiver.wait_for(PATIENCE, |r| r.len() >= 2).await;
    let verifier = Webhook::new(endpoint.secret.as_deref().unwrap()).unwrap();
    for delivery in &received {
        verifier
            .verify(&delivery.body, &delivery.headers)
            .expect("the delivery verifies under the endpoint's secret");
    }
    assert!(received.iter().any(|d| d.kind() == "payment.succeeded"));
}

#[tokio::test]
async fn an_https_endpoint_whose_certificate_is_not_trusted_gets_nothing_and_the_log_says_why() {
    // The same kind of receiver, but Kasse was not told of its CA.
    let app = spawn_app().await;
    let receiver = Receiver::start_tls(test_pki().server).await;
    add_endpoint(&app, &receiver.url("/hooks")).await;
    pay(&app).await;
    let errors = attempt_errors(&app, 1).await;
    assert!(
        errors[0].starts_with("could not connect") && errors[0].contains("certificate"),
        "{errors:?}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn internal_addresses_are_refused_unless_private_webhooks_are_allowed() {
    let app = spawn_app_with(|c| c.webhooks.allow_private_addresses = false).await;
    for (url, class) in [
        ("https://127.0.0.1/in", "loopback"),
        ("https://127.1.2.3:8443/in", "loopback"),
        ("https://[::1]/in", "loopback"),
        ("https://10.0.0.5/in", "private"),
        ("https://172.16.4.4/in", "private"),
        ("https://192.168.1.9/in", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://100.64.0.1/in", "CGNAT"),
        ("https://[fd00::5]/in", "unique-local"),
        ("https://[fe80::1]/in", "link-local"),
        ("https://[::ffff:127.0.0.1]/in", "loopback"),
        ("https://[::ffff:10.0.0.1]/in", "private"),
        ("https://[64:ff9b::a9fe:a9fe]/in", "link-local"),
        ("https://224.0.0.1/in", "multicast"),
        ("https://[ff02::1]/in", "multicast"),
        ("https://0.0.0.0/in", "unspecified"),
        ("https://[::]/in", "unspecified"),
        ("http://127.0.0.1:9/in", "https"),
        ("http://localhost:9/in", "https"),
    ] {
        let response = app
            .post("/v1/webhook_endpoints", &json!({ "url": url }))
            .await;
        let error = expect_error(response, 400, "invalid_url").await.error;
        assert!(error.message.contains(class), "{url}: {}", error.message);
        assert_eq!(error.param.as_deref(), Some("url"));
    }

    // A session's own notification URL, on a registered origin, is held to
    // the same rule.
    let internal = app.other_merchant("Internal", &["https://10.1.2.3"]).await;
    let refused = app
        .post_as(
            &internal.secret_key,
            "/v1/checkout/sessions",
            &json!({
                "amount": 1000, "currency": "USD",
                "success_url": "https://10.1.2.3/thanks",
                "cancel_url": "https://10.1.2.3/cart",
                "notification_url": "https://10.1.2.3/hooks",
            }),
        )
        .await;
    let error = expect_error(refused, 400, "invalid_url").await.error;
    assert_eq!(error.param.as_deref(), Some("notification_url"));
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_when_it_would_connect() {
    let app = spawn_app_with(|c| c.webhooks.allow_private_addresses = false).await;
    let receiver = Receiver::start().await;
    // A name is not judged by its spelling but by what it resolves to.
    add_endpoint(
        &app,
        &format!("https://localhost:{}/hooks", receiver.addr.port()),
    )
    .await;
    pay(&app).await;
    let errors = attempt_errors(&app, 1).await;
    assert!(
        errors[0].starts_with("refused: localhost resolves only to")
            && errors[0].contains("127.0.0.1 (loopback)")
            && errors[0].contains("--webhook-allow-private"),
        "{errors:?}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let app = spawn_app().await;
    let inside = Receiver::start().await;
    let redirector = Receiver::start().await;
    redirector.redirect_to(&inside.url("/hooks"));
    add_endpoint(&app, &redirector.url("/hooks")).await;
    pay(&app).await;
    let errors = attempt_errors(&app, 1).await;
    assert!(
        errors[0].contains("307") && errors[0].contains("follows no redirect"),
        "{errors:?}"
    );
    assert!(!redirector.received().is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        inside.received().is_empty(),
        "the redirect's target got nothing"
    );
}

//! README's Python verifiers, of redirects and of webhooks, run on real ones.

use std::process::Command;

use kasse_core::api::ConfirmResponse;
use serde_json::json;

use crate::helpers::{good_card, spawn_app};

/// The README's Python example that defines `function`.
fn readme_python(function: &str) -> String {
    let readme = include_str!("../../../README.md");
    readme
        .split("```python\n")
        .skip(1)
        .map(|block| &block[..block.find("```").unwrap()])
        .find(|block| block.contains(&format!("def {function}(")))
        .unwrap_or_else(|| panic!("README defines {function} in Python"))
        .to_string()
}

fn run_python(program: &str, args: &[&str]) -> bool {
    let out = Command::new("python3")
        .arg("-c")
        .arg(program)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match String::from_utf8_lossy(&out.stdout).trim() {
        "True" => true,
        "False" => false,
        other => panic!("unexpected output {other}"),
    }
}

fn python_says(url: &str, secret: &str) -> bool {
    let program = format!(
        "{}\nimport sys\nprint(kasse_redirect_is_genuine(sys.argv[1], sys.argv[2]))",
        readme_python("kasse_redirect_is_genuine")
    );
    run_python(&program, &[url, secret])
}

/// Runs the README's webhook verifier on a delivery, body from a file.
fn python_accepts_webhook(secret: &str, d: &crate::receiver::Delivery, body: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body");
    std::fs::write(&path, body).unwrap();
    let program = format!(
        "{}\nimport sys\nheaders = {{'webhook-id': sys.argv[2], 'webhook-timestamp': sys.argv[3], 'webhook-signature': sys.argv[4]}}\nprint(kasse_webhook_is_genuine(sys.argv[1], headers, open(sys.argv[5], 'rb').read()))",
        readme_python("kasse_webhook_is_genuine")
    );
    run_python(
        &program,
        &[
            secret,
            &d.header("webhook-id"),
            &d.header("webhook-timestamp"),
            &d.header("webhook-signature"),
            path.to_str().unwrap(),
        ],
    )
}

#[tokio::test]
async fn the_readme_python_webhook_verifier_accepts_real_deliveries_only() {
    let app = spawn_app().await;
    let receiver = crate::receiver::Receiver::start().await;
    let response = app
        .post(
            "/v1/webhook_endpoints",
            &json!({"url": receiver.url("/hooks")}),
        )
        .await;
    let endpoint: kasse_core::api::WebhookEndpoint = response.json().await.unwrap();
    let secret = endpoint.secret.unwrap();
    let session = app.create_session().await;
    app.confirm(&session, &good_card("4242424242424242")).await;
    let received = receiver
        .wait_for(std::time::Duration::from_secs(15), |r| !r.is_empty())
        .await;
    let delivery = &received[0];
    assert!(python_accepts_webhook(&secret, delivery, &delivery.body));
    let mut tampered = delivery.body.to_vec();
    tampered[5] ^= 1;
    assert!(!python_accepts_webhook(&secret, delivery, &tampered));
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert!(!python_accepts_webhook(other, delivery, &delivery.body));
}

#[tokio::test]
async fn the_readme_python_verifier_accepts_real_redirects_and_rejects_forged_ones() {
    let app = spawn_app().await;
    let mut body = crate::helpers::session_body();
    // Characters that the canonical form must escape the same way in both languages.
    body["success_url"] = json!("https://shop.example/thanks?note=a%20b~c*d%2F%C3%A9&cart=7");
    let response = app.post("/v1/checkout/sessions", &body).await;
    assert_eq!(response.status(), 201);
    let session: kasse_core::api::CheckoutSession = response.json().await.unwrap();
    let ConfirmResponse::Succeeded { redirect_url, .. } = app
        .confirm(&session, &good_card("4242424242424242"))
        .await
        .json()
        .await
        .unwrap()
    else {
        panic!("the payment succeeds");
    };
    let secret = &app.merchant.signing_secret;
    assert!(python_says(&redirect_url, secret));
    assert!(!python_says(
        &redirect_url.replace("succeeded", "failed"),
        secret
    ));
    assert!(!python_says(&redirect_url, "rsig_test_wrong"));
}

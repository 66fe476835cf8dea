//! 3-D Secure through the API and the sandbox issuer's page.

use kasse_core::api::{CheckoutSession, ConfirmResponse, PaySession};
use kasse_core::error::DeclineCode;
use kasse_core::{PaymentStatus, SessionStatus};

use crate::helpers::{TestApp, good_card, spawn_app};

/// Confirms with a 3-D Secure card; returns the payment id and the ACS URL.
async fn challenge(app: &TestApp, session: &CheckoutSession, number: &str) -> (String, String) {
    let response = app.confirm(session, &good_card(number)).await;
    assert_eq!(response.status(), 200);
    match response.json().await.unwrap() {
        ConfirmResponse::RequiresAction {
            payment_id,
            next_action,
        } => (payment_id, next_action.redirect_url),
        other => panic!("expected requires_action, got {other:?}"),
    }
}

/// Presses a button on the ACS page; returns where it sends the browser.
pub async fn answer(app: &TestApp, acs_url: &str, outcome: &str) -> String {
    let url = url::Url::parse(acs_url).unwrap();
    let token = url.fragment().unwrap().to_string();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects
        .post(format!("{}{}", app.base, url.path()))
        .form(&[("token", token.as_str()), ("outcome", outcome)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_passed_challenge_pays_and_returns_to_the_page() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let (payment_id, acs) = challenge(&app, &session, "4000 0000 0000 3220").await;
    // The token rides in the fragment: no server, proxy or log sees it.
    assert!(
        acs.starts_with(&format!("{}/acs/{payment_id}#", app.base)),
        "{acs}"
    );
    let token = url::Url::parse(&acs)
        .unwrap()
        .fragment()
        .unwrap()
        .to_string();
    assert_eq!(
        app.payment(&payment_id).await.status,
        PaymentStatus::RequiresAction
    );

    // The page at that address knows no token: it shows nothing of the
    // payment, and its one script (allowed by hash) posts the fragment on.
    let page = app.http.get(&acs).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"acs-start\"") && html.contains("method=\"post\""));
    assert!(!html.contains("$12.50") && !html.contains("3220") && !html.contains(&token));
    // Posted, the token opens the challenge.
    let page = app
        .http
        .post(format!("{}/acs/{payment_id}", app.base))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"acs-complete\"") && html.contains("id=\"acs-fail\""));
    assert!(html.contains("$12.50") && html.contains("3220"));
    // A token in the query string opens nothing.
    let queried = app
        .http
        .get(format!("{}/acs/{payment_id}?token={token}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!queried.contains("$12.50"));
    let wrong = app
        .http
        .post(format!("{}/acs/{payment_id}", app.base))
        .form(&[("token", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);

    let back = answer(&app, &acs, "complete").await;
    assert_eq!(
        back,
        session.url.replace('#', "?from=3ds#"),
        "back to the hosted page, which learns the customer comes from the bank; secret in the fragment"
    );
    assert_eq!(
        app.payment(&payment_id).await.status,
        PaymentStatus::Succeeded
    );
    let shown: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(shown.status, SessionStatus::Complete);
    assert!(shown.redirect_url.unwrap().contains(&payment_id));

    // The challenge cannot be answered twice.
    let replay = app.http.get(&acs).send().await.unwrap();
    assert_eq!(replay.status(), 404);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_failed_or_declined_challenge_leaves_the_session_open_with_the_reason() {
    let app = spawn_app().await;
    let session = app.create_session().await;

    let (failed, acs) = challenge(&app, &session, "4000000000003220").await;
    answer(&app, &acs, "fail").await;
    let payment = app.payment(&failed).await;
    assert_eq!(payment.status, PaymentStatus::Failed);
    assert_eq!(
        payment.decline_code,
        Some(DeclineCode::AuthenticationFailed)
    );
    let shown: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(shown.status, SessionStatus::Open);
    assert_eq!(
        shown.last_error.unwrap().decline_code,
        DeclineCode::AuthenticationFailed
    );

    let (declined, acs) = challenge(&app, &session, "4000 0084 0000 1629").await;
    answer(&app, &acs, "complete").await;
    assert_eq!(
        app.payment(&declined).await.decline_code,
        Some(DeclineCode::CardDeclined)
    );
    let shown: PaySession = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(
        shown.last_error.unwrap().decline_code,
        DeclineCode::CardDeclined
    );

    let paid = app.confirm(&session, &good_card("4242424242424242")).await;
    assert_eq!(paid.status(), 200, "and the customer can still pay");
}

#[tokio::test]
async fn a_wrong_token_is_not_accepted() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    let (payment_id, acs) = challenge(&app, &session, "4000000000003220").await;
    assert!(acs.contains('#'));
    let shown = app
        .http
        .post(app.url(&format!("/acs/{payment_id}")))
        .form(&[("token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        shown.status(),
        404,
        "a wrong token does not open the challenge"
    );
    let response = app
        .http
        .post(app.url(&format!("/acs/{payment_id}")))
        .form(&[("token", "nope"), ("outcome", "complete")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        app.payment(&payment_id).await.status,
        PaymentStatus::RequiresAction
    );
}

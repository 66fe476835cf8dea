//! Defences against card testing, and the sweeper's upkeep.

use kasse_core::api::{CLIENT_SECRET_HEADER, CheckoutSession};
use kasse_core::{PaymentStatus, SessionStatus};
use kasse_server::sweeper::sweep;

use crate::helpers::{expect_error, good_card, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_session_refuses_after_five_declines() {
    let app = spawn_app().await;
    let session = app.create_session().await;
    for _ in 0..5 {
        let declined = app.confirm(&session, &good_card("4000000000000002")).await;
        assert_eq!(declined.status(), 402);
    }
    let sixth = app.confirm(&session, &good_card("4242424242424242")).await;
    let message = expect_error(sixth, 409, "too_many_attempts")
        .await
        .error
        .message;
    assert!(message.contains("Test Shop"), "{message}");
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 5);
}

#[tokio::test]
async fn the_attempt_limit_is_configurable() {
    let app = spawn_app_with(|c| c.limits.max_declined_attempts = 2).await;
    let session = app.create_session().await;
    for _ in 0..2 {
        app.confirm(&session, &good_card("4000000000000002")).await;
    }
    let third = app.confirm(&session, &good_card("4242424242424242")).await;
    expect_error(third, 409, "too_many_attempts").await;
}

#[tokio::test]
async fn one_address_is_limited_in_confirms_per_minute() {
    let app = spawn_app_with(|c| c.limits.confirms_per_minute = 3).await;
    let sessions = [
        app.create_session().await,
        app.create_session().await,
        app.create_session().await,
        app.create_session().await,
    ];
    for session in &sessions[..3] {
        let response = app.confirm(session, &good_card("4000000000000002")).await;
        assert_eq!(response.status(), 402);
    }
    let limited = app
        .confirm(&sessions[3], &good_card("4242424242424242"))
        .await;
    expect_error(limited, 429, "rate_limited").await;
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 3);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_is_per_forwarded_client() {
    let app = spawn_app_with(|c| {
        c.limits.confirms_per_minute = 2;
        c.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let confirm_from = |forwarded: &'static str| {
        let app = &app;
        async move {
            let session = app.create_session().await;
            app.http
                .post(app.url(&format!("/v1/pay/{}/confirm", session.id)))
                .header(CLIENT_SECRET_HEADER, &session.client_secret)
                .header("X-Forwarded-For", forwarded)
                .json(&good_card("4000000000000002"))
                .send()
                .await
                .unwrap()
        }
    };
    // The proxy appends the real client; what the client wrote first is ignored.
    for forged in ["1.1.1.1, 203.0.113.5", "2.2.2.2, 203.0.113.5"] {
        assert_eq!(confirm_from(forged).await.status(), 402);
    }
    expect_error(
        confirm_from("3.3.3.3, 203.0.113.5").await,
        429,
        "rate_limited",
    )
    .await;
    // Another customer behind the same proxy is not held up.
    assert_eq!(confirm_from("203.0.113.6").await.status(), 402);
}

#[tokio::test]
async fn a_forwarded_for_header_from_anyone_else_changes_nothing() {
    let app = spawn_app_with(|c| c.limits.confirms_per_minute = 2).await;
    for (i, forwarded) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .into_iter()
        .enumerate()
    {
        let session = app.create_session().await;
        let response = app
            .http
            .post(app.url(&format!("/v1/pay/{}/confirm", session.id)))
            .header(CLIENT_SECRET_HEADER, &session.client_secret)
            .header("X-Forwarded-For", forwarded)
            .json(&good_card("4000000000000002"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), if i < 2 { 402 } else { 429 });
    }
}

#[tokio::test]
async fn the_sweeper_expires_sessions_and_voids_stale_authorisations() {
    let app = spawn_app().await;
    let open = app.create_session().await;
    let authorised = app.paid_payment(900, true).await;
    let captured = app.paid_payment(800, false).await;

    app.clock.advance(3600);
    assert_eq!(sweep(&app.ctx).await.unwrap(), (1, 0));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM checkout_sessions WHERE id = '{}' AND status = 'expired'",
            open.id
        ))
        .await,
        1,
        "written down, not only computed"
    );
    let read: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{}", open.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read.status, SessionStatus::Expired);

    app.clock.advance(7 * 24 * 3600);
    assert_eq!(sweep(&app.ctx).await.unwrap(), (0, 1));
    assert_eq!(
        app.payment(&authorised.id).await.status,
        PaymentStatus::Canceled
    );
    assert_eq!(
        app.payment(&captured.id).await.status,
        PaymentStatus::Succeeded
    );
    assert_eq!(
        sweep(&app.ctx).await.unwrap(),
        (0, 0),
        "a second pass finds nothing"
    );
}

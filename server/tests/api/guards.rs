//! Defences against card testing, and the sweeper's upkeep.

use kasse_core::api::{CLIENT_SECRET_HEADER, CheckoutSession};
use kasse_core::{PaymentStatus, SessionStatus};
use kasse_server::workers::sweeper::sweep;

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

/// A confirm of `session` with `card` from `client`, as a trusted proxy
/// (127.0.0.1 in these tests) forwards it.
async fn confirm_from(
    app: &crate::helpers::TestApp,
    session: &CheckoutSession,
    client: &str,
    card: &str,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/pay/{}/confirm", session.id)))
        .header(CLIENT_SECRET_HEADER, &session.client_secret)
        .header("X-Forwarded-For", client)
        .json(&good_card(card))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn ipv6_clients_are_limited_by_their_64_however_they_rotate() {
    let app = spawn_app_with(|c| {
        c.limits.confirms_per_minute = 2;
        c.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for (client, status) in [
        ("2001:db8:7:1::1", 402),
        ("2001:db8:7:1:dead:beef:0:2", 402),
        // A third address of the same /64: the same subscriber.
        ("2001:db8:7:1:ffff::3", 429),
        // Another /64 is another client.
        ("2001:db8:7:2::1", 402),
    ] {
        let session = app.create_session().await;
        let response = confirm_from(&app, &session, client, "4000000000000002").await;
        assert_eq!(response.status(), status, "{client}");
        if status == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
        }
    }
}

#[tokio::test]
async fn a_merchants_declines_across_many_sessions_pause_its_card_payments() {
    let app = spawn_app_with(|c| {
        c.limits.declines_per_merchant_per_minute = 3;
        c.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // A card tester: a fresh session and a fresh address for every guess.
    for i in 0..3 {
        let session = app.create_session().await;
        let response = confirm_from(
            &app,
            &session,
            &format!("198.51.100.{i}"),
            "4000000000000002",
        )
        .await;
        assert_eq!(response.status(), 402);
    }
    let session = app.create_session().await;
    let paused = confirm_from(&app, &session, "198.51.100.9", "4242424242424242").await;
    assert!(paused.headers().contains_key("retry-after"));
    expect_error(paused, 429, "too_many_declines").await;
    // Keyed payments of the same merchant pause too.
    let keyed = app
        .post(
            "/v1/payments",
            &serde_json::json!({"amount": 500, "currency": "USD",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}),
        )
        .await;
    expect_error(keyed, 429, "too_many_declines").await;
    // Another merchant's customers are not held up.
    let other = app.other_merchant("Other", &[crate::helpers::SHOP]).await;
    let theirs = app.session_of(&other).await;
    assert_eq!(
        confirm_from(&app, &theirs, "198.51.100.10", "4242424242424242")
            .await
            .status(),
        200
    );
    // Two minutes on, the declines have slid out of the window.
    app.clock.advance(120);
    assert_eq!(
        confirm_from(&app, &session, "198.51.100.9", "4242424242424242")
            .await
            .status(),
        200
    );
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 5);
}

#[tokio::test]
async fn three_d_secure_challenges_count_towards_a_sessions_attempts() {
    let app = spawn_app_with(|c| c.limits.max_declined_attempts = 2).await;
    let session = app.create_session().await;
    // Two challenges the customer never answers: each told the guesser the
    // card is real enough to be challenged.
    for _ in 0..2 {
        let challenged = app.confirm(&session, &good_card("4000000000003220")).await;
        assert_eq!(challenged.status(), 200);
    }
    let third = app.confirm(&session, &good_card("4242424242424242")).await;
    expect_error(third, 409, "too_many_attempts").await;
}

#[tokio::test]
async fn racing_confirms_cannot_all_pass_the_attempt_count() {
    let app = spawn_app_with(|c| c.limits.max_declined_attempts = 2).await;
    let session = app.create_session().await;
    let card = good_card("4000000000000002");
    for _ in 0..6 {
        let answers =
            futures_util::future::join_all((0..8).map(|_| app.confirm(&session, &card))).await;
        for answer in answers {
            assert!(
                [402, 409].contains(&answer.status().as_u16()),
                "{}",
                answer.status()
            );
        }
    }
    assert_eq!(
        app.count("SELECT count(*) FROM payments").await,
        2,
        "no more declines than the cap, however the confirms raced"
    );
}

/// What the store fails at is an error, logged and answered 500: never a
/// verdict on a payment, a refusal of the merchant's input, or a step the
/// sweeper skips without a word.
#[tokio::test]
async fn a_store_failure_is_an_error_and_never_an_answer() {
    let app = spawn_app().await;
    let paid = app.paid_payment(700, false).await;
    let authorised = app.paid_payment(900, true).await;
    // The database loses its payments table under the running Kasse.
    app.execute("ALTER TABLE payments RENAME TO payments_elsewhere")
        .await;
    let verdict = app.get(&format!("/v1/payments/{}/validate", paid.id)).await;
    expect_error(verdict, 500, "internal_error").await;
    let page = app
        .get(&format!("/v1/payments?starting_after={}", paid.id))
        .await;
    expect_error(page, 500, "internal_error").await;
    app.execute("ALTER TABLE payments_elsewhere RENAME TO payments")
        .await;

    // A void the sweeper cannot write is an error of the sweep.
    app.execute("ALTER TABLE events RENAME TO events_elsewhere")
        .await;
    app.clock.advance(8 * 24 * 3600);
    assert!(sweep(&app.ctx).await.is_err());
    app.execute("ALTER TABLE events_elsewhere RENAME TO events")
        .await;
    assert_eq!(sweep(&app.ctx).await.unwrap().1, 1);
    assert_eq!(
        app.payment(&authorised.id).await.status,
        PaymentStatus::Canceled
    );
}

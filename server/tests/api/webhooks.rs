use std::time::Duration;

use axum::http::HeaderValue;
use kasse_core::api::{
    CheckoutSession, EventDetail, EventList, WebhookEndpoint, WebhookEndpointList,
};
use serde_json::{Value, json};
use standardwebhooks::Webhook;

use crate::helpers::{
    SHOP, TestApp, expect_error, good_card, session_body, spawn_app, spawn_app_with,
};
use crate::receiver::Receiver;

const PATIENCE: Duration = Duration::from_secs(15);

async fn add_endpoint(app: &TestApp, url: &str, events: Option<&[&str]>) -> WebhookEndpoint {
    let mut body = json!({ "url": url });
    if let Some(events) = events {
        body["enabled_events"] = json!(events);
    }
    let response = app.post("/v1/webhook_endpoints", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Pays a fresh session with 4242 and never follows the redirect.
async fn pay(app: &TestApp) -> (CheckoutSession, String) {
    let session = app.create_session().await;
    let confirmed: Value = app
        .confirm(&session, &good_card("4242424242424242"))
        .await
        .json()
        .await
        .unwrap();
    (
        session,
        confirmed["payment_id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_payment_nobody_returns_from_is_still_announced_and_signed_per_the_spec() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let endpoint = add_endpoint(&app, &receiver.url("/hooks"), None).await;
    let secret = endpoint.secret.clone().expect("shown once, on creation");
    assert!(secret.starts_with("whsec_"));

    let (session, payment_id) = pay(&app).await;
    let received = receiver.wait_for(PATIENCE, |r| r.len() >= 2).await;
    let mut kinds: Vec<String> = received.iter().map(|d| d.kind()).collect();
    kinds.sort();
    assert_eq!(kinds, ["checkout.session.completed", "payment.succeeded"]);

    let verifier = Webhook::new(&secret).unwrap();
    for delivery in &received {
        verifier
            .verify(&delivery.body, &delivery.headers)
            .expect("an independent implementation accepts the signature");
        let body = delivery.json();
        assert_eq!(body["id"], delivery.header("webhook-id"));
        assert!(body["created"].is_i64());
        match body["type"].as_str().unwrap() {
            "payment.succeeded" => {
                assert_eq!(body["data"]["object"]["id"], payment_id);
                assert_eq!(body["data"]["object"]["status"], "succeeded");
                assert_eq!(body["data"]["object"]["amount"], 1250);
            }
            _ => {
                assert_eq!(body["data"]["object"]["id"], session.id);
                assert_eq!(body["data"]["object"]["status"], "complete");
                assert_eq!(body["data"]["object"]["payment_id"], payment_id);
            }
        }
    }

    let genuine = &received[0];
    let mut tampered_body = genuine.body.to_vec();
    tampered_body[10] ^= 1;
    assert!(
        verifier.verify(&tampered_body, &genuine.headers).is_err(),
        "tampered body"
    );
    let mut tampered_headers = genuine.headers.clone();
    let ts: i64 = genuine.header("webhook-timestamp").parse().unwrap();
    tampered_headers.insert("webhook-timestamp", HeaderValue::from(ts + 1));
    assert!(
        verifier.verify(&genuine.body, &tampered_headers).is_err(),
        "tampered timestamp"
    );
    // A replay from long ago, even correctly signed for its time, is refused.
    let stale = ts - 3600;
    let mut stale_headers = genuine.headers.clone();
    stale_headers.insert("webhook-timestamp", HeaderValue::from(stale));
    let resigned = verifier
        .sign(&genuine.header("webhook-id"), stale, &genuine.body)
        .unwrap();
    stale_headers.insert(
        "webhook-signature",
        HeaderValue::from_str(&resigned).unwrap(),
    );
    assert!(
        verifier.verify(&genuine.body, &stale_headers).is_err(),
        "stale timestamp"
    );
    // Kasse's own verifier agrees.
    kasse_core::webhook::verify(
        &secret,
        &genuine.header("webhook-id"),
        &genuine.header("webhook-timestamp"),
        &genuine.header("webhook-signature"),
        &genuine.body,
        ts,
    )
    .unwrap();
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_every_attempt_is_listed() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    add_endpoint(&app, &receiver.url("/hooks"), Some(&["payment.succeeded"])).await;
    receiver.answer(&[500]);
    pay(&app).await;
    let received = receiver
        .wait_for(PATIENCE, |r| r.iter().any(|d| d.status == 200))
        .await;
    assert_eq!(received.len(), 2, "one failure, one success");
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert!(received.iter().all(|d| d.kind() == "payment.succeeded"));

    let id = received[0].header("webhook-id");
    // The attempt is recorded right after the receiver answers.
    let mut detail: EventDetail;
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        detail = app
            .get(&format!("/v1/events/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if detail.deliveries[0].status == "delivered" || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(detail.event.kind, "payment.succeeded");
    assert_eq!(detail.deliveries.len(), 1);
    assert_eq!(detail.deliveries[0].status, "delivered");
    assert_eq!(detail.deliveries[0].attempts, 2);
    let statuses: Vec<Option<u16>> = detail.attempts.iter().map(|a| a.http_status).collect();
    assert_eq!(statuses, [Some(500), Some(200)]);
    assert_eq!(
        detail.attempts[0].error.as_deref(),
        Some("answered HTTP 500 Internal Server Error")
    );
    assert!(detail.attempts.iter().all(|a| a.latency_ms >= 0));
}

#[tokio::test]
async fn an_unreachable_endpoint_keeps_its_events_listed_and_resendable() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    // Nothing listens here: every attempt is refused.
    let dead = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    };
    add_endpoint(&app, &format!("http://{dead}/hooks"), None).await;
    pay(&app).await;
    let events: EventList = app
        .get("/v1/events?type=payment.succeeded")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events.data.len(), 1);
    let id = events.data[0].id.clone();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let detail: EventDetail = app
        .get(&format!("/v1/events/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.deliveries[0].status, "pending", "still retrying");
    assert!(detail.attempts.len() >= 2, "{:?}", detail.attempts);
    assert!(detail.attempts.iter().all(|a| {
        a.http_status.is_none()
            && a.error
                .as_deref()
                .unwrap_or("")
                .starts_with("could not connect: ")
    }));

    // The merchant fixes its server and asks for the event again.
    add_endpoint(&app, &receiver.url("/hooks"), Some(&["payment.succeeded"])).await;
    let resent = app
        .post(&format!("/v1/events/{id}/resend"), &json!({}))
        .await;
    assert_eq!(resent.status(), 200);
    let received = receiver.wait_for(PATIENCE, |r| !r.is_empty()).await;
    assert_eq!(
        received[0].header("webhook-id"),
        id,
        "the same id, so receivers deduplicate"
    );
}

#[tokio::test]
async fn endpoints_are_validated_filtered_listed_removed_and_rotated() {
    let app = spawn_app().await;
    for (url, code) in [
        ("http://hooks.example/in", "invalid_url"),
        ("not a url", "invalid_url"),
    ] {
        let response = app
            .post("/v1/webhook_endpoints", &json!({"url": url}))
            .await;
        let error = expect_error(response, 400, code).await.error;
        assert_eq!(error.param.as_deref(), Some("url"), "{url}");
    }
    let unknown = app
        .post(
            "/v1/webhook_endpoints",
            &json!({"url": "https://hooks.example/in", "enabled_events": ["payment.exploded"]}),
        )
        .await;
    expect_error(unknown, 400, "parameter_invalid").await;
    assert_eq!(
        app.post(
            "/v1/webhook_endpoints",
            &json!({"url": "https://hooks.example/in"})
        )
        .await
        .status(),
        201
    );

    let receiver = Receiver::start().await;
    let refunds_only =
        add_endpoint(&app, &receiver.url("/hooks"), Some(&["refund.succeeded"])).await;
    let listed: WebhookEndpointList = app.get("/v1/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(listed.data.len(), 2);
    assert!(
        listed.data.iter().all(|e| e.secret.is_none()),
        "secrets are shown once"
    );

    let rotated: WebhookEndpoint = app
        .post(
            &format!("/v1/webhook_endpoints/{}/rotate_secret", refunds_only.id),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_secret = rotated.secret.unwrap();
    assert_ne!(Some(new_secret.clone()), refunds_only.secret);

    let (_, payment_id) = pay(&app).await;
    app.post(
        "/v1/refunds",
        &json!({"payment_id": payment_id, "amount": 100}),
    )
    .await;
    let received = receiver.wait_for(PATIENCE, |r| !r.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_now = receiver.received();
    assert_eq!(received_now.len(), 1, "only the event type it asked for");
    assert_eq!(received[0].kind(), "refund.succeeded");
    assert_eq!(received[0].json()["data"]["object"]["amount"], 100);
    // Both the old and the new secret verify during the overlap.
    for secret in [new_secret, refunds_only.secret.unwrap()] {
        Webhook::new(&secret)
            .unwrap()
            .verify(&received[0].body, &received[0].headers)
            .unwrap();
    }

    let path = format!("/v1/webhook_endpoints/{}", refunds_only.id);
    let removed = app.delete(&path).await;
    assert_eq!(removed.status(), 200);
    let listed: WebhookEndpointList = app.get("/v1/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(listed.data.len(), 1);
    let again = app.delete(&path).await;
    expect_error(again, 404, "resource_missing").await;
}

#[tokio::test]
async fn a_sessions_own_notification_url_hears_of_it_signed_with_the_merchants_webhook_secret() {
    let app = spawn_app_with(|_| {}).await;
    let receiver = Receiver::start().await;
    // The notification URL must be on the merchant's origins; make the receiver one.
    let merchant = app
        .other_merchant("Receiver Shop", &[&receiver.url(""), SHOP])
        .await;
    let mut body = session_body();
    body["notification_url"] = json!(receiver.url("/session-hooks"));
    let response = app
        .post_as(&merchant.secret_key, "/v1/checkout/sessions", &body)
        .await;
    assert_eq!(response.status(), 201);
    let session: CheckoutSession = response.json().await.unwrap();
    assert_eq!(
        session.notification_url.as_deref(),
        Some(receiver.url("/session-hooks").as_str())
    );
    app.confirm(&session, &good_card("4242424242424242")).await;
    let received = receiver.wait_for(PATIENCE, |r| r.len() >= 2).await;
    let verifier = Webhook::new(merchant.webhook_secret.as_deref().unwrap()).unwrap();
    for delivery in &received {
        verifier.verify(&delivery.body, &delivery.headers).unwrap();
    }

    let mut off_origin = session_body();
    off_origin["notification_url"] = json!("https://elsewhere.example/hooks");
    let refused = app.post("/v1/checkout/sessions", &off_origin).await;
    expect_error(refused, 400, "url_not_allowed").await;
}

#[tokio::test]
async fn events_cover_every_operation_and_are_listed_newest_first() {
    let app = spawn_app().await;
    let manual = app.paid_payment(1000, true).await;
    app.post(
        &format!("/v1/payments/{}/capture", manual.id),
        &json!({"amount": 600}),
    )
    .await;
    app.post(
        "/v1/refunds",
        &json!({"payment_id": manual.id, "amount": 100}),
    )
    .await;
    let voided = app.paid_payment(500, true).await;
    app.post(&format!("/v1/payments/{}/void", voided.id), &json!({}))
        .await;
    let declined = app.create_session().await;
    app.confirm(&declined, &good_card("4000000000000002")).await;
    let expired = app.create_session().await;
    app.post(
        &format!("/v1/checkout/sessions/{}/expire", expired.id),
        &json!({}),
    )
    .await;

    let all: EventList = app.get("/v1/events?limit=100").await.json().await.unwrap();
    let kinds: Vec<&str> = all.data.iter().rev().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "payment.requires_capture",
            "checkout.session.completed",
            "payment.captured",
            "refund.succeeded",
            "payment.requires_capture",
            "checkout.session.completed",
            "payment.canceled",
            "payment.failed",
            "checkout.session.expired",
        ]
    );
    let captured = all
        .data
        .iter()
        .find(|e| e.kind == "payment.captured")
        .unwrap();
    assert_eq!(captured.data["object"]["amount_captured"], 600);

    let page: EventList = app.get("/v1/events?limit=4").await.json().await.unwrap();
    assert!(page.has_more);
    let next: EventList = app
        .get(&format!(
            "/v1/events?limit=100&starting_after={}",
            page.data[3].id
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next.data.len(), 5);
    expect_error(
        app.get("/v1/events?type=nope").await,
        400,
        "parameter_invalid",
    )
    .await;
    expect_error(
        app.get("/v1/events/evt_nope").await,
        404,
        "resource_missing",
    )
    .await;
    let nowhere = app
        .post(&format!("/v1/events/{}/resend", all.data[0].id), &json!({}))
        .await;
    expect_error(nowhere, 409, "no_destination").await;
}

/// Waits until `slow` holds `n` requests open.
async fn wait_until_open(slow: &Receiver, n: usize) {
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while slow.open_requests().0 < n {
        assert!(
            std::time::Instant::now() < until,
            "the slow endpoints got no deliveries: {:?}",
            slow.open_requests()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Another merchant, with an endpoint at a receiver of its own, is paid
/// once: what that receiver gets of it.
async fn another_merchant_paid(app: &TestApp) -> Vec<crate::receiver::Delivery> {
    let other = app.other_merchant("Other", &[SHOP]).await;
    let fast = Receiver::start().await;
    let created = app
        .post_as(
            &other.secret_key,
            "/v1/webhook_endpoints",
            &json!({"url": fast.url("/hooks")}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let session: CheckoutSession = app
        .post_as(&other.secret_key, "/v1/checkout/sessions", &session_body())
        .await
        .json()
        .await
        .unwrap();
    app.confirm(&session, &good_card("4242424242424242")).await;
    fast.wait_for(Duration::from_secs(60), |r| r.len() >= 2)
        .await
}

#[tokio::test]
async fn a_slow_endpoint_does_not_hold_up_another_merchants() {
    // The slow endpoint answers nothing while the test runs, and there are
    // fewer slots than deliveries to it: only the per-URL limit leaves room.
    let app = spawn_app_with(|c| {
        c.webhooks.concurrency = 8;
        c.webhooks.per_url = 3;
        c.webhooks.attempt_timeout = Duration::from_secs(600);
    })
    .await;
    let slow = Receiver::start().await;
    slow.delay(Duration::from_secs(3600));
    add_endpoint(&app, &slow.url("/hooks"), None).await;
    for _ in 0..10 {
        pay(&app).await; // twenty deliveries to the slow endpoint
    }
    wait_until_open(&slow, 3).await;

    // Well inside the slow endpoint's attempt timeout: nothing was freed.
    let delivered = another_merchant_paid(&app).await;
    assert_eq!(delivered.len(), 2);
    assert_eq!(
        slow.open_requests(),
        (3, 3),
        "(now, at most) at the slow endpoint"
    );
    assert!(slow.received().is_empty());
}

#[tokio::test]
async fn a_deleted_endpoint_stops_receiving_even_what_was_due_to_it() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    // It fails at first, so its delivery stays due and is retried.
    receiver.answer(&[500; 50]);
    let endpoint = add_endpoint(&app, &receiver.url("/hooks"), Some(&["payment.succeeded"])).await;
    pay(&app).await;
    receiver.wait_for(PATIENCE, |r| !r.is_empty()).await;
    let removed = app
        .delete(&format!("/v1/webhook_endpoints/{}", endpoint.id))
        .await;
    assert_eq!(removed.status(), 200);
    // An attempt already in flight may still land; nothing after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_delete = receiver.received().len();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        receiver.received().len(),
        after_delete,
        "retries continued after the endpoint was deleted"
    );
    let events: EventList = app
        .get("/v1/events?type=payment.succeeded")
        .await
        .json()
        .await
        .unwrap();
    let detail: EventDetail = app
        .get(&format!("/v1/events/{}", events.data[0].id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.deliveries[0].status, "failed");
    // New events do not go there either.
    pay(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), after_delete);
}

#[tokio::test]
async fn one_merchants_many_slow_urls_take_no_more_than_its_share() {
    // Six slow URLs at three deliveries each would take every one of the
    // eight slots; the merchant's share leaves four.
    let app = spawn_app_with(|c| {
        c.webhooks.concurrency = 8;
        c.webhooks.per_url = 3;
        c.webhooks.per_merchant = 4;
        c.webhooks.attempt_timeout = Duration::from_secs(600);
    })
    .await;
    let slow = Receiver::start().await;
    slow.delay(Duration::from_secs(3600));
    for n in 0..6 {
        add_endpoint(&app, &slow.url(&format!("/hooks?n={n}")), None).await;
    }
    for _ in 0..5 {
        pay(&app).await; // sixty deliveries to slow URLs
    }
    wait_until_open(&slow, 4).await;

    let delivered = another_merchant_paid(&app).await;
    assert_eq!(delivered.len(), 2);
    assert_eq!(
        slow.open_requests(),
        (4, 4),
        "(now, at most) at the slow merchant's URLs"
    );
}

#[tokio::test]
async fn a_payments_webhooks_go_out_as_it_commits_without_waiting_for_a_poll() {
    // The outbox is polled once an hour: only the hand-over at commit can
    // deliver these in time.
    let app = spawn_app_with(|c| c.webhooks.poll_interval = Duration::from_secs(3600)).await;
    let receiver = Receiver::start().await;
    add_endpoint(&app, &receiver.url("/hooks"), None).await;
    let (_, payment_id) = pay(&app).await;
    let received = receiver.wait_for(PATIENCE, |r| r.len() >= 2).await;
    // Sent at once, side by side: in either order.
    let mut kinds: Vec<String> = received
        .iter()
        .map(|d| d.json()["type"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["checkout.session.completed", "payment.succeeded"]);
    // Each attempt is recorded as delivered.
    let until = std::time::Instant::now() + PATIENCE;
    loop {
        let events: EventList = app
            .get(&format!("/v1/events?payment={payment_id}"))
            .await
            .json()
            .await
            .unwrap();
        let mut delivered = 0;
        for event in &events.data {
            let detail: EventDetail = app
                .get(&format!("/v1/events/{}", event.id))
                .await
                .json()
                .await
                .unwrap();
            delivered += detail
                .deliveries
                .iter()
                .filter(|d| d.status == "delivered")
                .count();
        }
        if delivered == 2 {
            break;
        }
        assert!(std::time::Instant::now() < until, "attempts not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

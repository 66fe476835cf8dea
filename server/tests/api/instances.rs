//! Two `kasse serve` processes on one PostgreSQL database: nothing about
//! correctness may depend on there being one process.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use kasse_core::PaymentStatus;
use kasse_core::api::{CheckoutSession, ErrorBody, Event, EventList, Payment};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::durability::{Kasse, add_endpoint, any_port, ids, merchant_on, start_on};
use crate::helpers::{good_card, session_body};
use crate::receiver::Receiver;

const SECRET: &str = "one secret that every instance of this test shares";

struct Pair {
    dir: TempDir,
    database: String,
    key: String,
    /// None once the test has killed it.
    a: Option<Kasse>,
    b: Kasse,
    http: reqwest::Client,
}

async fn two_instances(extra: &[&str]) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::postgres::fresh_database().await;
    // The first `kasse` to touch the database migrates it.
    let key = merchant_on(&database, Some(SECRET));
    let a = start_on(dir.path(), any_port(), &database, Some(SECRET), extra).await;
    let b = start_on(dir.path(), any_port(), &database, Some(SECRET), extra).await;
    Pair {
        dir,
        database,
        key,
        a: Some(a),
        b,
        http: reqwest::Client::new(),
    }
}

impl Pair {
    /// Instance A for even `i` while it lives, else B.
    fn base(&self, i: usize) -> &str {
        match &self.a {
            Some(a) if i.is_multiple_of(2) => &a.base,
            _ => &self.b.base,
        }
    }

    async fn post(&self, i: usize, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base(i)))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, i: usize, path: &str) -> T {
        let response = self
            .http
            .get(format!("{}{path}", self.base(i)))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    async fn session(&self, i: usize, body: &Value) -> CheckoutSession {
        let response = self.post(i, "/v1/checkout/sessions", body).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    async fn confirm(&self, i: usize, session: &CheckoutSession) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/pay/{}/confirm", self.base(i), session.id))
            .header("Kasse-Client-Secret", &session.client_secret)
            .json(&good_card("4242424242424242"))
            .send()
            .await
            .unwrap()
    }

    /// Every event of the merchant, through instance `i`.
    async fn events(&self, i: usize) -> Vec<Event> {
        let mut all = Vec::new();
        let mut after = String::new();
        loop {
            let page: EventList = self.get(i, &format!("/v1/events?limit=100{after}")).await;
            let more = page.has_more;
            all.extend(page.data);
            if !more {
                return all;
            }
            after = format!("&starting_after={}", all.last().unwrap().id);
        }
    }

    async fn sql(&self, statement: &str) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.database).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn confirms_refunds_and_idempotency_keys_hold_across_instances() {
    let pair = two_instances(&[]).await;

    // Twenty confirms of one session, half to each instance: one charge.
    let session = pair.session(0, &session_body()).await;
    let answers = join_all((0..20).map(|i| pair.confirm(i, &session))).await;
    let mut charged = 0;
    for answer in answers {
        match answer.status().as_u16() {
            200 => charged += 1,
            409 => {
                let error: ErrorBody = answer.json().await.unwrap();
                assert!(
                    ["payment_in_progress", "checkout_session_complete"]
                        .contains(&error.error.code.as_str()),
                    "{error:?}"
                );
            }
            other => panic!("confirm answered {other}"),
        }
    }
    assert_eq!(charged, 1);
    let payments: kasse_core::api::PaymentList = pair.get(1, "/v1/payments?limit=100").await;
    assert_eq!(payments.data.len(), 1);
    let payment = &payments.data[0];
    assert_eq!(payment.status, PaymentStatus::Succeeded);

    // Twenty refunds of 100 through both: 12 fit in 1250, a 13th does not.
    let body = json!({"payment_id": payment.id, "amount": 100});
    let answers = join_all((0..20).map(|i| pair.post(i, "/v1/refunds", &body))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        12,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409));
    let after: Payment = pair.get(0, &format!("/v1/payments/{}", payment.id)).await;
    assert_eq!(after.amount_refunded, 1200);

    // An Idempotency-Key used on A is honoured on B: one session, same answer.
    let send = |i: usize| {
        pair.http
            .post(format!("{}/v1/checkout/sessions", pair.base(i)))
            .bearer_auth(&pair.key)
            .header("Idempotency-Key", "order-77-attempt-1")
            .json(&session_body())
            .send()
    };
    let first = send(0).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let second = send(1).await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    let reused = pair
        .http
        .post(format!("{}/v1/checkout/sessions", pair.b.base))
        .bearer_auth(&pair.key)
        .header("Idempotency-Key", "order-77-attempt-1")
        .json(&json!({"amount": 1, "currency": "usd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 422);
}

/// SIGTERM to one of two instances while it holds webhook deliveries: it
/// hands back those it has not started, finishes those under way, and the
/// other sends the rest long before their leases would have run out; each
/// event arrives once.
#[tokio::test]
async fn a_stopping_instance_hands_its_deliveries_to_the_other() {
    // Leases of 25 s: waiting them out would show.
    let mut pair = two_instances(&["--webhook-timeout-ms", "10000"]).await;
    let receiver = Receiver::start().await;
    receiver.delay(Duration::from_millis(400));
    add_endpoint(&pair.http, &pair.b.base, &pair.key, &receiver.url("/hooks")).await;
    // Every payment through A, whose worker takes their events at commit.
    let a = pair.a.take().unwrap();
    let payments = 12;
    for _ in 0..payments {
        crate::durability::pay(&pair.http, &a.base, &pair.key).await;
    }
    let sent_before = receiver.received().len();
    let exit = tokio::task::spawn_blocking(move || a.terminate())
        .await
        .unwrap()
        .expect("A exited");
    let stopped = Instant::now();
    assert!(exit.success(), "{exit:?}");
    let events = 2 * payments;
    let got = receiver
        .wait_for(Duration::from_secs(20), |got| ids(got).len() >= events)
        .await;
    let took = stopped.elapsed();
    assert!(
        sent_before < events,
        "A had not sent everything before it was stopped ({sent_before})"
    );
    assert!(
        took < Duration::from_secs(12),
        "B took {took:?}: it waited for leases instead of taking what A handed back"
    );
    assert_eq!(got.len(), events, "each event arrived once");
}

/// SIGTERM to an instance in the middle of a batch of emails: it finishes
/// the one under way and hands the rest back, which the other instance
/// sends at once rather than after their leases; each email arrives once.
#[tokio::test]
async fn a_stopping_instance_hands_its_emails_to_the_other() {
    let sink = kasse_testkit::smtp::SmtpSink::start();
    sink.set_delay(Duration::from_millis(600));
    let (url, ca) = (sink.url(), sink.ca_file().display().to_string());
    let mail = [
        "--smtp-url",
        url.as_str(),
        "--mail-from",
        "Shop <billing@shop.example>",
        "--smtp-ca-file",
        ca.as_str(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let database = crate::postgres::fresh_database().await;
    let key = merchant_on(&database, Some(SECRET));
    let a = start_on(dir.path(), any_port(), &database, Some(SECRET), &mail).await;
    let http = reqwest::Client::new();
    let emails = 8;
    for i in 0..emails {
        let made = http
            .post(format!("{}/v1/payment_links", a.base))
            .bearer_auth(&key)
            .json(&json!({"amount": 1500, "currency": "usd",
                "customer_data": {"email": format!("customer-{i}@example.com")},
                "notify": {"email": true}}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
    }
    // A is under way with its batch; B starts; A is stopped.
    sink.wait_for(Duration::from_secs(10), |got| !got.is_empty())
        .await;
    let b = start_on(dir.path(), any_port(), &database, Some(SECRET), &mail).await;
    let held = emails - sink.received().len();
    let exit = tokio::task::spawn_blocking(move || a.terminate())
        .await
        .unwrap()
        .expect("A exited");
    assert!(exit.success(), "{exit:?}");
    let stopped = Instant::now();
    let got = sink
        .wait_for(Duration::from_secs(30), |got| got.len() >= emails)
        .await;
    let took = stopped.elapsed();
    assert!(held > 2, "A held emails when it was stopped ({held})");
    // Their leases are 25 s: B sent them long before.
    assert!(took < Duration::from_secs(15), "B took {took:?}");
    let ids: HashSet<String> = got
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!((ids.len(), got.len()), (emails, emails), "each email once");
    b.kill_9();
}

/// Fifty payouts at once through two instances, worth more than the
/// balance: those accepted never add up to more than was available.
#[tokio::test]
async fn concurrent_payouts_never_take_more_than_is_available() {
    let pair = two_instances(&[]).await;
    let top_up = pair
        .post(
            0,
            "/v1/sandbox/top_ups",
            &json!({"amount": 10_000, "currency": "USD"}),
        )
        .await;
    assert_eq!(top_up.status(), 201);
    let payout = |i: usize| {
        // Cards are paid at once; bank payouts stay reserved in transit.
        let destination = if i.is_multiple_of(3) {
            json!({"bank_account": {"account_number": format!("0001{i:04}0000"),
                "bank_code": "SANDBDDH", "account_holder": "Supplier", "country": "BD"}})
        } else {
            json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034}})
        };
        pair.http
            .post(format!("{}/v1/payouts", pair.base(i)))
            .bearer_auth(&pair.key)
            .header("Idempotency-Key", format!("payout-{i}"))
            .json(
                &json!({"amount": 300, "currency": "USD", "destination": destination,
                "merchant_reference": format!("ref-{i}"), "purpose": "Supplier"}),
            )
            .send()
    };
    let answers = join_all((0..50).map(payout)).await;
    let mut accepted = 0;
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status().as_u16() {
            201 => accepted += 1,
            409 => {
                let error: ErrorBody = answer.json().await.unwrap();
                assert_eq!(
                    error.error.code.as_str(),
                    "balance_insufficient",
                    "{error:?}"
                );
            }
            other => panic!(
                "a payout answered {other}: {}",
                answer.text().await.unwrap()
            ),
        }
    }
    assert_eq!(
        accepted,
        10_000 / 300,
        "every payout that fits, and no more"
    );
    let balance: Value = pair.get(1, "/v1/balance").await;
    let available = balance["available"][0]["amount"].as_i64().unwrap();
    let reserved = balance["reserved"][0]["amount"].as_i64().unwrap();
    assert_eq!(available, 10_000 - accepted * 300);
    assert!(available >= 0);
    let count = |sql: &'static str| crate::helpers::count_in(&pair.database, sql);
    assert_eq!(
        count("SELECT CAST(count(*) AS BIGINT) FROM payouts").await,
        accepted
    );
    assert_eq!(
        reserved,
        count("SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) FROM payouts WHERE status = 'in_transit'")
            .await
    );
    // The ledger equals the balance, and each payout went to the rail once.
    assert_eq!(
        count("SELECT CAST(sum(net) AS BIGINT) FROM balance_transactions").await,
        available
    );
    assert_eq!(
        count("SELECT CAST(count(*) AS BIGINT) FROM sandbox_transfers").await,
        accepted
    );
    assert_eq!(
        count("SELECT CAST(count(DISTINCT reference) AS BIGINT) FROM sandbox_transfers").await,
        accepted
    );
}

#[tokio::test]
async fn each_delivery_attempt_is_made_by_one_instance_and_sweeps_happen_once() {
    let pair = two_instances(&["--sweep-interval-ms", "100"]).await;
    let receiver = Receiver::start().await;
    add_endpoint(&pair.http, pair.base(0), &pair.key, &receiver.url("/hooks")).await;

    // Fifteen payments through both: thirty events, each delivered once.
    for i in 0..15 {
        let session = pair.session(i, &session_body()).await;
        assert_eq!(pair.confirm(i + 1, &session).await.status(), 200);
    }
    let expected: HashSet<String> = pair.events(0).await.into_iter().map(|e| e.id).collect();
    assert_eq!(expected.len(), 30);
    let received = receiver
        .wait_for(Duration::from_secs(30), |r| ids(r) == expected)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await; // room for a double
    assert_eq!(receiver.received().len(), received.len());
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for delivery in receiver.received() {
        *per_event.entry(delivery.header("webhook-id")).or_default() += 1;
    }
    assert!(per_event.values().all(|n| *n == 1), "{per_event:?}");
    let one: Value = pair
        .get(
            1,
            &format!("/v1/events/{}", received[0].header("webhook-id")),
        )
        .await;
    assert_eq!(one["attempts"].as_array().unwrap().len(), 1, "{one}");

    // Ten sessions past their time and five stale authorisations, swept by
    // both instances every 100 ms: each expired and each voided once.
    for i in 0..10 {
        pair.session(i, &session_body()).await;
    }
    for i in 0..5 {
        let mut body = session_body();
        body["capture_method"] = json!("manual");
        let session = pair.session(i, &body).await;
        assert_eq!(pair.confirm(i, &session).await.status(), 200);
    }
    pair.sql("UPDATE checkout_sessions SET expires_at = created - 1 WHERE status = 'open'")
        .await;
    pair.sql("UPDATE payments SET created = created - 8 * 86400 WHERE status = 'requires_capture'")
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let (expired, canceled) = loop {
        let events = pair.events(0).await;
        let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
        let counts = (count("checkout.session.expired"), count("payment.canceled"));
        if counts.0 >= 10 && counts.1 >= 5 || Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // several more sweeps
    let events = pair.events(1).await;
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    assert_eq!((expired, canceled), (10, 5));
    assert_eq!(count("checkout.session.expired"), 10);
    assert_eq!(count("payment.canceled"), 5);
}

#[tokio::test]
async fn one_instance_killed_mid_load_loses_no_payment_and_no_event() {
    let mut pair = two_instances(&[]).await;
    let receiver = Receiver::start().await;
    // Slow answers keep deliveries in flight on both when the blow falls.
    receiver.delay(Duration::from_millis(300));
    add_endpoint(&pair.http, pair.base(1), &pair.key, &receiver.url("/hooks")).await;

    // Customers pay through both; A is killed half way, B carries on alone.
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        if i == 10 {
            pair.a.take().unwrap().kill_9();
        }
        let session = pair.session(i, &session_body()).await;
        let paid = pair.confirm(i + 1, &session).await;
        assert_eq!(paid.status(), 200);
        acknowledged.push(session.id);
    }

    for id in &acknowledged {
        let session: Value = pair.get(1, &format!("/v1/checkout/sessions/{id}")).await;
        assert_eq!(session["status"], "complete", "{session}");
        assert!(session["payment_id"].is_string());
    }
    let payments: kasse_core::api::PaymentList = pair.get(1, "/v1/payments?limit=100").await;
    assert_eq!(payments.data.len(), 20);
    assert!(
        payments
            .data
            .iter()
            .all(|p| p.status == PaymentStatus::Succeeded)
    );

    // What A held when it died is taken up by B once A's leases run out.
    let expected: HashSet<String> = pair.events(1).await.into_iter().map(|e| e.id).collect();
    assert_eq!(expected.len(), 40);
    receiver
        .wait_for(Duration::from_secs(60), |r| ids(r).is_superset(&expected))
        .await;
    let log = std::fs::read_to_string(pair.dir.path().join("kasse.log")).unwrap();
    assert!(!log.contains("4242424242424242"));
}

#[tokio::test]
async fn rate_limits_are_shared_by_every_instance() {
    let pair = two_instances(&[
        "--confirms-per-minute",
        "4",
        "--declines-per-merchant-per-minute",
        "2",
    ])
    .await;
    let confirm_with = |i: usize, card: &'static str| {
        let pair = &pair;
        async move {
            let session = pair.session(i, &session_body()).await;
            pair.http
                .post(format!("{}/v1/pay/{}/confirm", pair.base(i), session.id))
                .header("Kasse-Client-Secret", &session.client_secret)
                .json(&good_card(card))
                .send()
                .await
                .unwrap()
        }
    };
    let code = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (
            status,
            body["error"]["code"].as_str().unwrap_or("").to_string(),
        )
    };
    // One decline on each instance reaches the merchant's limit of two…
    assert_eq!(confirm_with(0, "4000000000000002").await.status(), 402);
    assert_eq!(confirm_with(1, "4000000000000002").await.status(), 402);
    // …which both instances then hold to.
    for i in [0, 1] {
        assert_eq!(
            code(confirm_with(i, "4242424242424242").await).await,
            (429, "too_many_declines".into()),
            "instance {i}"
        );
    }
    // And this address has made its four confirms, two on each.
    assert_eq!(
        code(confirm_with(0, "4242424242424242").await).await,
        (429, "rate_limited".into())
    );
}

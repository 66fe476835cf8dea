//! The `Store` conformance suite: every test runs on SQLite and on
//! PostgreSQL, and asserts exactly what the trait promises, races included.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use futures_util::future::join_all;
use kasse_core::api::{CaptureMethod, EventType, PaymentChannel, RefundStatus};
use kasse_core::appearance::{Appearance, ColorScheme};
use kasse_core::error::DeclineCode;
use kasse_core::origin::MerchantOrigin;
use kasse_core::{CardBrand, Currency, Locale, PaymentStatus, RequestedLocale, SessionStatus};
use kasse_server::ids::new_id;
use kasse_server::secrets::ServerSecret;
use kasse_server::store::{
    ApiKey, AttemptResult, CardRules, Claim, ConfirmClaim, DeliveryStatus, EventQuery,
    IdempotencyStart, KeyKind, Merchant, NewEvent, Payment, PaymentChange, PaymentQuery,
    PaymentState, Refund, Session, Store, Surface, WebhookEndpoint, connect,
};
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::START;

/// A store on a fresh database, and what keeps it alive.
struct Db {
    store: Arc<dyn Store>,
    _dir: TempDir,
}

fn usd() -> Currency {
    Currency::parse("usd").unwrap()
}

fn suite_secret() -> ServerSecret {
    ServerSecret::new(b"store suite secret".to_vec())
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kasse.db").display());
    Db {
        store: connect(&url, &suite_secret()).await.unwrap(),
        _dir: dir,
    }
}

async fn postgres() -> Db {
    Db {
        store: connect(&crate::postgres::fresh_database().await, &suite_secret())
            .await
            .unwrap(),
        _dir: tempfile::tempdir().unwrap(),
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                super::$name(super::sqlite().await.store).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                super::$name(super::postgres().await.store).await
            })*
        }
    };
}

conformance!(
    merchants_keys_and_secrets,
    one_confirm_holds_a_session_at_a_time,
    a_payment_change_applies_only_from_the_state_it_expects,
    a_three_d_secure_outcome_is_written_once,
    idempotency_keys_start_once_replay_and_expire,
    rate_limit_hits_are_counted_once_each_by_window,
    events_fan_out_to_the_endpoints_that_want_them,
    lists_are_newest_first_with_stable_cursors,
    deliveries_are_leased_to_one_claim_within_their_limits,
    sessions_expire_once,
);

async fn merchant(store: &dyn Store) -> Merchant {
    let merchant = Merchant {
        id: new_id("mer"),
        name: "Shop".into(),
        origins: vec![MerchantOrigin::parse("https://shop.example").unwrap()],
        signing_secret: "sign".into(),
        webhook_secret: None,
        appearance: Appearance {
            variables: BTreeMap::from([("color-primary".into(), "#0a7d5a".into())]),
            ..Appearance::default()
        },
        created: START,
    };
    store.insert_merchant(&merchant).await.unwrap();
    merchant
}

async fn session(store: &dyn Store, merchant: &Merchant, expires_at: i64) -> Session {
    let session = Session {
        id: new_id("cs"),
        merchant_id: merchant.id.clone(),
        client_secret: "secret".into(),
        status: SessionStatus::Open,
        amount: 1250,
        currency: usd(),
        success_url: "https://shop.example/ok".into(),
        cancel_url: "https://shop.example/cart".into(),
        fail_url: None,
        order_reference: Some("order-1".into()),
        customer_name: None,
        customer_email: Some("ada@example.com".into()),
        metadata: BTreeMap::from([("cart".into(), "7".into())]),
        capture_method: CaptureMethod::Automatic,
        notification_url: None,
        appearance: Some(Appearance {
            color_scheme: Some(ColorScheme::Dark),
            ..Appearance::default()
        }),
        locale: RequestedLocale::Fixed(Locale::Mn),
        payment_id: None,
        created: START,
        expires_at,
        surface: Surface::Sslcommerz,
        card_rules: Some(CardRules {
            brands: vec![CardBrand::Visa],
            bins: vec!["424242".into()],
        }),
        customer_id: Some("cus_store_test".into()),
        save_card: kasse_core::api::SaveCard::Optional,
        future_usage: kasse_core::api::FutureUsage::OnSession,
        mandate_options: Some(kasse_core::api::MandateOptions {
            max_amount: Some(5000),
            frequency: Some("month".into()),
        }),
        payment_link_id: None,
    };
    store.insert_session(&session).await.unwrap();
    session
}

/// Records a session's payment as a confirm does: under the session's lease.
async fn confirmed(store: &dyn Store, p: &Payment, events: &[NewEvent]) {
    let session = p.session_id.as_deref().expect("a session's payment");
    assert_eq!(
        store
            .claim_session_for_confirm(session, &p.id, START, START + 30)
            .await
            .unwrap(),
        ConfirmClaim::Claimed
    );
    assert!(
        store
            .finish_confirm(p, p.status.completes_session(), events, None)
            .await
            .unwrap()
    );
}

fn payment(merchant: &Merchant, session: Option<&Session>, status: PaymentStatus) -> Payment {
    let captured = if status == PaymentStatus::Succeeded {
        1250
    } else {
        0
    };
    Payment {
        id: new_id("pay"),
        merchant_id: merchant.id.clone(),
        session_id: session.map(|s| s.id.clone()),
        amount: 1250,
        currency: usd(),
        status,
        card_brand: CardBrand::Visa,
        card_bin: "424242".into(),
        card_last4: "4242".into(),
        card_exp_month: 12,
        card_exp_year: 2030,
        card_fingerprint: "fp".into(),
        cardholder_name: Some("Ada Lovelace".into()),
        decline_code: None,
        authorization_code: Some("A1".into()),
        capture_method: CaptureMethod::Automatic,
        channel: PaymentChannel::Checkout,
        amount_captured: captured,
        amount_refunded: 0,
        action_token: None,
        validated: None,
        order_reference: Some("order-1".into()),
        created: START,
        updated: START,
        customer_id: None,
        payment_method_id: None,
        mandate_id: None,
        off_session: false,
        recovery_session_id: None,
    }
}

fn event(merchant: &Merchant, kind: &str, created: i64) -> NewEvent {
    NewEvent {
        id: new_id("evt"),
        merchant_id: merchant.id.clone(),
        kind: EventType::parse(kind).expect("an event type"),
        created,
        data: json!({"object": {"kind": kind}}),
        notification_url: None,
        due_ms: created * 1000,
        request_id: None,
    }
}

/// Every event of the merchant, newest first.
async fn all_events(store: &dyn Store, m: &Merchant) -> Vec<kasse_server::store::Event> {
    let query = EventQuery {
        limit: 100,
        ..EventQuery::default()
    };
    store.list_events(&m.id, &query).await.unwrap()
}

async fn merchants_keys_and_secrets(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    assert_eq!(store.merchant(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(store.merchant("mer_nobody").await.unwrap(), None);

    // The first webhook secret stays; a later one does not replace it.
    let first = store.ensure_webhook_secret(&m.id, "whsec_a").await.unwrap();
    let again = store.ensure_webhook_secret(&m.id, "whsec_b").await.unwrap();
    assert_eq!((first.as_str(), again.as_str()), ("whsec_a", "whsec_a"));
    let renamed = store
        .upsert_merchant(&Merchant {
            name: "Renamed".into(),
            webhook_secret: Some("whsec_c".into()),
            ..m.clone()
        })
        .await
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(
        renamed.appearance, m.appearance,
        "an upsert keeps the appearance"
    );
    let plain = Appearance::default();
    assert!(store.set_merchant_appearance(&m.id, &plain).await.unwrap());
    assert_eq!(
        store.merchant(&m.id).await.unwrap().unwrap().appearance,
        plain
    );
    assert!(
        !store
            .set_merchant_appearance("mer_nobody", &plain)
            .await
            .unwrap()
    );
    assert_eq!(renamed.webhook_secret.as_deref(), Some("whsec_a"));

    let key = ApiKey {
        merchant_id: m.id.clone(),
        kind: KeyKind::Secret,
        lookup: "sk_test_abcd".into(),
        hash: "h".into(),
        created: START + 5,
    };
    store.insert_api_key(&key).await.unwrap();
    let (found, owner) = store
        .api_key_with_merchant("sk_test_abcd")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.kind, found.hash.as_str()), (KeyKind::Secret, "h"));
    assert_eq!(found.created, START + 5);
    assert_eq!(
        (owner.id.as_str(), owner.created),
        (m.id.as_str(), m.created)
    );
    assert_eq!(owner.webhook_secret.as_deref(), Some("whsec_a"));
    assert!(
        store
            .api_key_with_merchant("sk_test_none")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.revoke_api_keys(&m.id, START + 1).await.unwrap(), 1);
    assert!(
        store
            .api_key_with_merchant("sk_test_abcd")
            .await
            .unwrap()
            .is_none()
    );
}

async fn one_confirm_holds_a_session_at_a_time(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let s = session(store.as_ref(), &m, START + 3600).await;
    assert_eq!(store.session(&m.id, &s.id).await.unwrap(), Some(s.clone()));
    // Ownership is in the read: another merchant finds nothing.
    assert_eq!(
        store.session("mer_someone_else", &s.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.session_for_payer(&s.id).await.unwrap(),
        Some(s.clone())
    );

    // Twenty at once: exactly one holds it.
    let claims = join_all((0..20).map(|i| {
        let store = store.clone();
        let id = s.id.clone();
        async move {
            store
                .claim_session_for_confirm(&id, &format!("pay_c{i}"), START, START + 30)
                .await
                .unwrap()
        }
    }))
    .await;
    let held = claims
        .iter()
        .filter(|c| **c == ConfirmClaim::Claimed)
        .count();
    assert_eq!(held, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, ConfirmClaim::Claimed | ConfirmClaim::InProgress))
    );

    // A declined attempt lets go; the lease also runs out on its own.
    let holder = claims
        .iter()
        .position(|c| *c == ConfirmClaim::Claimed)
        .unwrap();
    let declined = Payment {
        id: format!("pay_c{holder}"),
        decline_code: Some(DeclineCode::CardDeclined),
        ..payment(&m, Some(&s), PaymentStatus::Failed)
    };
    assert!(
        store
            .finish_confirm(&declined, declined.status.completes_session(), &[], None)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .claim_session_for_confirm(&s.id, "pay_slow", START, START + 30)
            .await
            .unwrap(),
        ConfirmClaim::Claimed
    );
    let paid = payment(&m, Some(&s), PaymentStatus::Succeeded);
    assert_eq!(
        store
            .claim_session_for_confirm(&s.id, &paid.id, START + 31, START + 60)
            .await
            .unwrap(),
        ConfirmClaim::Claimed
    );
    assert!(
        store
            .finish_confirm(
                &paid,
                paid.status.completes_session(),
                &[event(&m, "payment.succeeded", START)],
                None
            )
            .await
            .unwrap()
    );
    // The confirm whose lease ran out answers late: it records nothing, so
    // the session keeps one authorisation.
    let late = Payment {
        id: "pay_slow".into(),
        ..payment(&m, Some(&s), PaymentStatus::Succeeded)
    };
    assert!(
        !store
            .finish_confirm(&late, late.status.completes_session(), &[], None)
            .await
            .unwrap()
    );
    assert_eq!(store.payment(&m.id, "pay_slow").await.unwrap(), None);
    let after = store.session(&m.id, &s.id).await.unwrap().unwrap();
    assert_eq!(after.status, SessionStatus::Complete);
    assert_eq!(after.payment_id.as_deref(), Some(paid.id.as_str()));
    assert_eq!(
        store.payment(&m.id, &paid.id).await.unwrap(),
        Some(paid.clone())
    );
    let tried = store.session_payments(&s.id).await.unwrap();
    assert_eq!(tried.len(), 2);
    assert_eq!(
        store
            .claim_session_for_confirm(&s.id, "pay_x", START + 61, START + 90)
            .await
            .unwrap(),
        ConfirmClaim::NotOpen
    );
    assert_eq!(
        store
            .claim_session_for_confirm("cs_nothing", "pay_y", START, START + 30)
            .await
            .unwrap(),
        ConfirmClaim::NotOpen
    );

    // A slow confirm whose lease was taken and released by a declined one
    // records nothing either, even though no one holds the session now.
    let s = session(store.as_ref(), &m, START + 3600).await;
    store
        .claim_session_for_confirm(&s.id, "pay_first", START, START + 30)
        .await
        .unwrap();
    let second = payment(&m, Some(&s), PaymentStatus::Failed);
    store
        .claim_session_for_confirm(&s.id, &second.id, START + 31, START + 60)
        .await
        .unwrap();
    assert!(
        store
            .finish_confirm(&second, second.status.completes_session(), &[], None)
            .await
            .unwrap()
    );
    let first = Payment {
        id: "pay_first".into(),
        ..payment(&m, Some(&s), PaymentStatus::Succeeded)
    };
    assert!(
        !store
            .finish_confirm(&first, first.status.completes_session(), &[], None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.session(&m.id, &s.id).await.unwrap().unwrap().status,
        SessionStatus::Open
    );
}

async fn a_payment_change_applies_only_from_the_state_it_expects(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let p = payment(&m, None, PaymentStatus::Succeeded);
    store
        .finish_confirm(&p, p.status.completes_session(), &[], None)
        .await
        .unwrap();

    // Twenty refunds of 100 from the same state: exactly one applies.
    let from = p.state();
    let to = PaymentState {
        status: PaymentStatus::PartiallyRefunded,
        amount_refunded: 100,
        ..from
    };
    let outcomes = join_all((0..20).map(|_| {
        let store = store.clone();
        let change = PaymentChange {
            payment_id: p.id.clone(),
            from,
            to,
            now: START + 5,
            refund: Some(Refund {
                id: new_id("re"),
                payment_id: p.id.clone(),
                merchant_id: m.id.clone(),
                amount: 100,
                currency: usd(),
                status: RefundStatus::Succeeded,
                reason: None,
                created: START + 5,
            }),
            events: vec![event(&m, "refund.succeeded", START + 5)],
        };
        async move { store.change_payment(&change).await.unwrap() }
    }))
    .await;
    assert_eq!(outcomes.iter().filter(|applied| **applied).count(), 1);
    let now = store.payment(&m.id, &p.id).await.unwrap().unwrap();
    assert_eq!(
        store.payment("mer_someone_else", &p.id).await.unwrap(),
        None
    );
    assert_eq!(now.state(), to);
    assert_eq!(now.updated, START + 5);
    let refunds = store.payment_refunds(&p.id).await.unwrap();
    assert_eq!(refunds.len(), 1, "a refused change writes no refund");
    assert_eq!(
        store.refund(&m.id, &refunds[0].id).await.unwrap().as_ref(),
        Some(&refunds[0])
    );
    let events = all_events(store.as_ref(), &m).await;
    assert_eq!(events.len(), 1, "nor any event");

    // The database itself refuses refunding more than was captured.
    let over = PaymentChange {
        payment_id: p.id.clone(),
        from: to,
        to: PaymentState {
            amount_refunded: 5000,
            ..to
        },
        now: START + 6,
        refund: None,
        events: vec![],
    };
    assert!(store.change_payment(&over).await.is_err());
    assert_eq!(
        store.payment(&m.id, &p.id).await.unwrap().unwrap().state(),
        to
    );

    assert!(store.mark_validated(&p.id, START + 7).await.unwrap());
    assert!(!store.mark_validated(&p.id, START + 8).await.unwrap());
    assert_eq!(
        store
            .payment(&m.id, &p.id)
            .await
            .unwrap()
            .unwrap()
            .validated,
        Some(START + 7)
    );
}

async fn a_three_d_secure_outcome_is_written_once(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let s = session(store.as_ref(), &m, START + 3600).await;
    let p = Payment {
        action_token: Some("tok".into()),
        ..payment(&m, Some(&s), PaymentStatus::RequiresAction)
    };
    store
        .claim_session_for_confirm(&s.id, &p.id, START, START + 30)
        .await
        .unwrap();
    assert!(
        store
            .finish_confirm(&p, p.status.completes_session(), &[], None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.session(&m.id, &s.id).await.unwrap().unwrap().status,
        SessionStatus::Open
    );

    let outcomes = join_all((0..10).map(|i| {
        let store = store.clone();
        let (p, m) = (p.clone(), m.clone());
        async move {
            let to = if i % 2 == 0 {
                PaymentStatus::Succeeded
            } else {
                PaymentStatus::Failed
            };
            let after = Payment {
                status: to,
                amount_captured: if to == PaymentStatus::Succeeded {
                    p.amount
                } else {
                    0
                },
                ..p
            };
            let events = [event(&m, "payment.succeeded", START + 9)];
            store
                .finish_action(&after, to.completes_session(), START + 9, &events, None)
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(outcomes.iter().filter(|done| **done).count(), 1);
    let finished = store.payment(&m.id, &p.id).await.unwrap().unwrap();
    assert_eq!(finished.action_token, None);
    let session = store.session(&m.id, &s.id).await.unwrap().unwrap();
    match finished.status {
        PaymentStatus::Succeeded => {
            assert_eq!(finished.amount_captured, 1250);
            assert_eq!(session.status, SessionStatus::Complete);
        }
        PaymentStatus::Failed => assert_eq!(session.status, SessionStatus::Open),
        other => panic!("finished as {other:?}"),
    }
    let events = all_events(store.as_ref(), &m).await;
    assert_eq!(events.len(), 1);
}

async fn idempotency_keys_start_once_replay_and_expire(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let day = 86_400;
    let starts = join_all((0..10).map(|_| {
        let store = store.clone();
        let id = m.id.clone();
        async move {
            store
                .start_idempotent(&id, "key-1", "hash-a", START, day)
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(
        starts
            .iter()
            .filter(|s| **s == IdempotencyStart::Started)
            .count(),
        1
    );
    assert!(
        starts
            .iter()
            .all(|s| matches!(s, IdempotencyStart::Started | IdempotencyStart::InFlight))
    );
    let start = |hash: &'static str, now: i64| {
        let store = store.clone();
        let id = m.id.clone();
        async move {
            store
                .start_idempotent(&id, "key-1", hash, now, day)
                .await
                .unwrap()
        }
    };
    assert_eq!(start("hash-b", START).await, IdempotencyStart::Mismatch);
    store
        .finish_idempotent(&m.id, "key-1", 201, b"{\"id\":1}")
        .await
        .unwrap();
    assert_eq!(
        start("hash-a", START + 10).await,
        IdempotencyStart::Replay {
            status: 201,
            body: b"{\"id\":1}".to_vec()
        }
    );
    assert_eq!(
        start("hash-b", START + day).await,
        IdempotencyStart::Started
    );

    // An abandoned key can be used again at once; a finished one cannot.
    store
        .start_idempotent(&m.id, "key-2", "h", START, day)
        .await
        .unwrap();
    store.abandon_idempotent(&m.id, "key-2").await.unwrap();
    assert_eq!(
        store
            .start_idempotent(&m.id, "key-2", "h", START, day)
            .await
            .unwrap(),
        IdempotencyStart::Started
    );

    // The sweeper's purge forgets keys made up to its cut-off, and only those.
    store
        .start_idempotent(&m.id, "key-3", "h", START + 5, day)
        .await
        .unwrap();
    assert_eq!(store.purge_idempotent(START + 4).await.unwrap(), 1);
    assert_eq!(
        store
            .start_idempotent(&m.id, "key-3", "other", START + 6, day)
            .await
            .unwrap(),
        IdempotencyStart::Mismatch,
        "made after the cut-off, still kept"
    );
    assert_eq!(store.purge_idempotent(START + day).await.unwrap(), 2);
}

fn endpoint(m: &Merchant, url: &str, events: Option<&[&str]>) -> WebhookEndpoint {
    WebhookEndpoint {
        id: new_id("we"),
        merchant_id: m.id.clone(),
        url: url.into(),
        enabled_events: events.map(|e| e.iter().map(|s| s.to_string()).collect()),
        secret: "whsec_1".into(),
        previous_secret: None,
        previous_secret_expires: None,
        created: START,
    }
}

async fn events_fan_out_to_the_endpoints_that_want_them(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let all = endpoint(&m, "https://a.example/hooks", None);
    let refunds = endpoint(&m, "https://b.example/hooks", Some(&["refund.succeeded"]));
    let gone = endpoint(&m, "https://c.example/hooks", None);
    for e in [&all, &refunds, &gone] {
        store.insert_endpoint(e).await.unwrap();
    }
    assert!(store.delete_endpoint(&gone.id, &m.id, START).await.unwrap());
    assert!(!store.delete_endpoint(&gone.id, &m.id, START).await.unwrap());
    assert!(store.endpoint(&m.id, &gone.id).await.unwrap().is_none());
    assert_eq!(
        store.endpoints(&m.id).await.unwrap(),
        vec![all.clone(), refunds.clone()]
    );
    assert!(
        store
            .rotate_endpoint_secret(&all.id, &m.id, "whsec_2", START + 86_400)
            .await
            .unwrap()
    );
    let rotated = store.endpoint(&m.id, &all.id).await.unwrap().unwrap();
    assert!(
        store
            .endpoint("mer_someone_else", &all.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        (
            rotated.secret.as_str(),
            rotated.previous_secret.as_deref(),
            rotated.previous_secret_expires
        ),
        ("whsec_2", Some("whsec_1"), Some(START + 86_400))
    );

    let s = session(store.as_ref(), &m, START + 3600).await;
    let paid = event(&m, "payment.succeeded", START);
    let refunded = NewEvent {
        notification_url: Some("https://shop.example/ipn".into()),
        ..event(&m, "refund.succeeded", START + 1)
    };
    let p = payment(&m, Some(&s), PaymentStatus::Succeeded);
    confirmed(store.as_ref(), &p, &[paid.clone(), refunded.clone()]).await;
    let urls = |deliveries: Vec<kasse_server::store::Delivery>| {
        let mut urls: Vec<String> = deliveries.into_iter().map(|d| d.url).collect();
        urls.sort();
        urls
    };
    assert_eq!(
        urls(store.event_deliveries(&paid.id).await.unwrap()),
        vec!["https://a.example/hooks"]
    );
    assert_eq!(
        urls(store.event_deliveries(&refunded.id).await.unwrap()),
        vec![
            "https://a.example/hooks",
            "https://b.example/hooks",
            "https://shop.example/ipn"
        ]
    );
    let stored = store.event(&m.id, &refunded.id).await.unwrap().unwrap();
    assert!(
        store
            .event("mer_someone_else", &refunded.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stored.data, refunded.data);
    assert_eq!(stored.notification_url, refunded.notification_url);
    assert_eq!(store.resend_event(&stored, START * 1000).await.unwrap(), 3);
    assert_eq!(store.event_deliveries(&refunded.id).await.unwrap().len(), 6);
}

async fn lists_are_newest_first_with_stable_cursors(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let other = merchant(store.as_ref()).await;
    // Five payments in one second, two later, one of another merchant.
    let mut ids = Vec::new();
    for (i, created) in [START, START, START, START, START, START + 1, START + 2]
        .into_iter()
        .enumerate()
    {
        let status = if i % 2 == 0 {
            PaymentStatus::Succeeded
        } else {
            PaymentStatus::Failed
        };
        let p = Payment {
            created,
            order_reference: Some(format!("order-{i}")),
            ..payment(&m, None, status)
        };
        store
            .finish_confirm(&p, p.status.completes_session(), &[], None)
            .await
            .unwrap();
        ids.push(p.id);
    }
    store
        .finish_confirm(
            &payment(&other, None, PaymentStatus::Succeeded),
            false,
            &[],
            None,
        )
        .await
        .unwrap();
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_payments(
                &m.id,
                &PaymentQuery {
                    starting_after: after.clone(),
                    limit: 2,
                    ..PaymentQuery::default()
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|p| p.id.clone());
        seen.extend(page.into_iter().map(|p| p.id));
    }
    assert_eq!(seen, newest_first);

    let query = |q: PaymentQuery| {
        let store = store.clone();
        let id = m.id.clone();
        async move {
            store
                .list_payments(&id, &PaymentQuery { limit: 100, ..q })
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    let failed = query(PaymentQuery {
        status: Some(PaymentStatus::Failed),
        ..PaymentQuery::default()
    })
    .await;
    assert_eq!(failed, vec![ids[5].clone(), ids[3].clone(), ids[1].clone()]);
    let window = query(PaymentQuery {
        created_gte: Some(START + 1),
        created_lt: Some(START + 2),
        ..PaymentQuery::default()
    })
    .await;
    assert_eq!(window, vec![ids[5].clone()]);
    let by_reference = query(PaymentQuery {
        order_reference: Some("order-4".into()),
        ..PaymentQuery::default()
    })
    .await;
    assert_eq!(by_reference, vec![ids[4].clone()]);

    // Events: same order, filter by type, cursor.
    let s = session(store.as_ref(), &m, START + 3600).await;
    let events: Vec<NewEvent> = (0..5)
        .map(|i| {
            let kind = if i < 3 {
                "payment.succeeded"
            } else {
                "refund.succeeded"
            };
            event(&m, kind, START + i / 2)
        })
        .collect();
    confirmed(
        store.as_ref(),
        &payment(&m, Some(&s), PaymentStatus::Failed),
        &events,
    )
    .await;
    let listed = |q: EventQuery| {
        let store = store.clone();
        let id = m.id.clone();
        async move {
            store
                .list_events(&id, &q)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    let all = listed(EventQuery {
        limit: 10,
        ..EventQuery::default()
    })
    .await;
    let expected: Vec<String> = events.iter().rev().map(|e| e.id.clone()).collect();
    assert_eq!(all, expected);
    let rest = listed(EventQuery {
        starting_after: Some(expected[1].clone()),
        limit: 2,
        ..EventQuery::default()
    })
    .await;
    assert_eq!(rest, expected[2..4]);
    let typed = listed(EventQuery {
        kind: Some(EventType::RefundSucceeded),
        limit: 10,
        ..EventQuery::default()
    })
    .await;
    assert_eq!(typed, expected[..2]);
}

async fn deliveries_are_leased_to_one_claim_within_their_limits(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    for url in ["https://a.example/hooks", "https://b.example/hooks"] {
        store
            .insert_endpoint(&endpoint(&m, url, None))
            .await
            .unwrap();
    }
    let s = session(store.as_ref(), &m, START + 3600).await;
    let events: Vec<NewEvent> = (0..6)
        .map(|_| event(&m, "payment.succeeded", START))
        .collect();
    confirmed(
        store.as_ref(),
        &payment(&m, Some(&s), PaymentStatus::Failed),
        &events,
    )
    .await;
    let now = START * 1000;
    let claim = |total: u32, per_url: u32, in_flight: &[(&str, u32)]| Claim {
        total,
        per_url,
        in_flight: in_flight
            .iter()
            .map(|(url, n)| (url.to_string(), *n))
            .collect::<HashMap<_, _>>(),
        per_merchant: 100,
        in_flight_merchants: HashMap::new(),
    };

    // Not yet due: nothing.
    let early = store
        .claim_deliveries(now - 1, now + 60_000, &claim(100, 100, &[]))
        .await
        .unwrap();
    assert!(early.is_empty());

    // Per URL: at most 4 less what is in flight (a: 1 already, so 3; b: 4).
    let first = store
        .claim_deliveries(
            now,
            now + 60_000,
            &claim(100, 4, &[("https://a.example/hooks", 1)]),
        )
        .await
        .unwrap();
    let count = |claimed: &[kasse_server::store::ClaimedDelivery], url: &str| {
        claimed.iter().filter(|c| c.delivery.url == url).count()
    };
    assert_eq!(count(&first, "https://a.example/hooks"), 3);
    assert_eq!(count(&first, "https://b.example/hooks"), 4);
    assert!(
        first
            .iter()
            .all(|c| c.secrets == vec!["whsec_1".to_string()])
    );
    assert!(
        first
            .iter()
            .all(|c| c.event.kind == EventType::PaymentSucceeded)
    );

    // Eight claims racing for the remaining five: each taken exactly once.
    let racing = join_all((0..8).map(|_| {
        let store = store.clone();
        let claim = claim(2, 100, &[]);
        async move {
            store
                .claim_deliveries(now, now + 60_000, &claim)
                .await
                .unwrap()
        }
    }))
    .await;
    let taken: Vec<String> = racing
        .iter()
        .flatten()
        .map(|c| c.delivery.id.clone())
        .collect();
    let unique: HashSet<&String> = taken.iter().collect();
    assert_eq!(taken.len(), 5, "{taken:?}");
    assert_eq!(unique.len(), 5);
    assert!(
        unique
            .iter()
            .all(|id| !first.iter().any(|c| &&c.delivery.id == id))
    );

    // Leased: nothing more until a lease runs out or an attempt is recorded.
    let none = store
        .claim_deliveries(now + 1, now + 60_000, &claim(100, 100, &[]))
        .await
        .unwrap();
    assert!(none.is_empty());
    let delivered = &first[0].delivery;
    let retried = &first[1].delivery;
    for (d, result) in [
        (delivered, AttemptResult::Delivered),
        (retried, AttemptResult::RetryAt(now + 5_000)),
    ] {
        let attempt = kasse_server::store::Attempt {
            delivery_id: d.id.clone(),
            event_id: d.event_id.clone(),
            attempted: START,
            http_status: Some(if result == AttemptResult::Delivered {
                200
            } else {
                500
            }),
            latency_ms: 12,
            error: None,
        };
        store.record_attempt(&attempt, result).await.unwrap();
    }
    let attempts = store.event_attempts(&retried.event_id).await.unwrap();
    assert!(attempts.iter().any(|a| a.http_status == Some(500)));
    let after_retry = store
        .claim_deliveries(now + 5_000, now + 60_000, &claim(100, 100, &[]))
        .await
        .unwrap();
    assert_eq!(after_retry.len(), 1);
    assert_eq!(after_retry[0].delivery.id, retried.id);
    assert_eq!(after_retry[0].delivery.attempts, 1);

    // Every lease runs out: all but the delivered one come back.
    let expired = store
        .claim_deliveries(now + 120_000, now + 180_000, &claim(100, 100, &[]))
        .await
        .unwrap();
    assert_eq!(expired.len(), 11);
    let states = store.event_deliveries(&delivered.event_id).await.unwrap();
    let done = states.iter().find(|d| d.id == delivered.id).unwrap();
    assert_eq!(done.status, DeliveryStatus::Delivered);
}

async fn sessions_expire_once(store: Arc<dyn Store>) {
    let m = merchant(store.as_ref()).await;
    let due = session(store.as_ref(), &m, START + 60).await;
    let later = session(store.as_ref(), &m, START + 7200).await;
    let held = session(store.as_ref(), &m, START + 60).await;
    store
        .claim_session_for_confirm(&held.id, "pay_held", START + 50, START + 90)
        .await
        .unwrap();

    let listed: Vec<String> = store
        .due_sessions(START + 61)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        listed,
        vec![due.id.clone()],
        "a held session waits for its confirm"
    );

    let outcomes = join_all((0..6).map(|_| {
        let store = store.clone();
        let (id, m) = (due.id.clone(), m.clone());
        async move {
            store
                .expire_session(
                    &id,
                    &m.id,
                    START + 61,
                    &[event(&m, "checkout.session.expired", START + 61)],
                )
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(outcomes.iter().filter(|done| **done).count(), 1);
    let expired = store.session(&m.id, &due.id).await.unwrap().unwrap();
    assert_eq!(expired.status, SessionStatus::Expired);
    assert_eq!(
        expired.expires_at,
        START + 60,
        "expiring keeps the earlier time"
    );

    // Expiring early (the merchant's call) moves the time forward to now.
    assert!(
        store
            .expire_session(&later.id, &m.id, START + 100, &[])
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .session(&m.id, &later.id)
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        START + 100
    );
    let events = all_events(store.as_ref(), &m).await;
    assert_eq!(events.len(), 1);
}

async fn rate_limit_hits_are_counted_once_each_by_window(store: Arc<dyn Store>) {
    // Forty hits at once, as from many instances: every one counted.
    let counts = join_all((0..40).map(|_| {
        let store = store.clone();
        async move { store.count_hit("confirm:a", 600, 60).await.unwrap() }
    }))
    .await;
    let mut seen: Vec<i64> = counts.iter().map(|(current, _)| *current).collect();
    seen.sort();
    assert_eq!(seen, (1..=40).collect::<Vec<_>>());
    assert_eq!(store.hits("confirm:a", 600, 60).await.unwrap(), (40, 0));
    assert_eq!(
        store.count_hit("confirm:a", 660, 60).await.unwrap(),
        (1, 40)
    );
    assert_eq!(store.hits("confirm:b", 660, 60).await.unwrap(), (0, 0));
    assert_eq!(store.purge_hits(660).await.unwrap(), 1);
    assert_eq!(store.hits("confirm:a", 660, 60).await.unwrap(), (1, 0));
}

/// Two instances on one database: each keeps merchants and endpoints in
/// memory; its own changes it sees at once, another's within the bound.
async fn config_changes_reach_other_instances_within_the_bound(url: String) {
    let a = connect(&url, &suite_secret()).await.unwrap();
    let b = connect(&url, &suite_secret()).await.unwrap();
    let m = merchant(a.as_ref()).await;
    let e = endpoint(&m, "https://a.example/hooks", None);
    a.insert_endpoint(&e).await.unwrap();
    let secret = |store: Arc<dyn Store>| {
        let (m, e) = (m.id.clone(), e.id.clone());
        async move { store.endpoint(&m, &e).await.unwrap().unwrap().secret }
    };
    let look = |store: Arc<dyn Store>| {
        let m = m.id.clone();
        async move { store.merchant(&m).await.unwrap().unwrap().appearance }
    };
    assert_eq!(secret(b.clone()).await, "whsec_1");
    let before = look(b.clone()).await;

    let changed = Appearance {
        color_scheme: Some(ColorScheme::Dark),
        ..Appearance::default()
    };
    assert!(a.set_merchant_appearance(&m.id, &changed).await.unwrap());
    assert!(
        a.rotate_endpoint_secret(&e.id, &m.id, "whsec_2", START + 86_400)
            .await
            .unwrap()
    );
    // The writer sees its change at once…
    assert_eq!(secret(a.clone()).await, "whsec_2");
    assert_eq!(look(a.clone()).await, changed);
    // …the other instance answers from memory for a moment…
    assert_eq!(secret(b.clone()).await, "whsec_1");
    assert_eq!(look(b.clone()).await, before);
    // …and no longer than the bound.
    tokio::time::sleep(
        kasse_server::store::CONFIG_STALENESS + std::time::Duration::from_millis(50),
    )
    .await;
    assert_eq!(secret(b.clone()).await, "whsec_2");
    assert_eq!(look(b).await, changed);
}

#[tokio::test]
async fn config_changes_reach_other_instances_within_the_bound_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kasse.db").display());
    config_changes_reach_other_instances_within_the_bound(url).await;
}

#[tokio::test]
async fn config_changes_reach_other_instances_within_the_bound_on_postgres() {
    config_changes_reach_other_instances_within_the_bound(crate::postgres::fresh_database().await)
        .await;
}

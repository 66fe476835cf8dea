//! Customers, saved cards, mandates and off-session charges through the
//! API, on SQLite and (with `KASSE_TEST_STORE=postgres`) on PostgreSQL.

use kasse_core::api::{
    CheckoutSession, ConfirmResponse, Customer, CustomerList, Mandate, Payment, PaymentMethod,
    PaymentMethodList,
};
use kasse_core::{PaymentStatus, SessionStatus};
use serde_json::{Value, json};

use crate::helpers::{SHOP, TestApp, expect_error, good_card, session_body, spawn_app};

pub(crate) async fn new_customer(app: &TestApp, body: Value) -> Customer {
    let response = app.post("/v1/customers", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A session for `customer` that saves the card as `save_card` says.
async fn saving_session(app: &TestApp, customer: &str, extra: Value) -> CheckoutSession {
    let mut body = session_body();
    body["customer"] = json!(customer);
    body["save_card"] = json!("required");
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create_session_with(body).await
}

/// Pays a session with `number`; returns the payment.
async fn pay(app: &TestApp, session: &CheckoutSession, number: &str, extra: Value) -> Payment {
    let mut body = good_card(number);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let response = app.confirm(session, &body).await;
    assert_eq!(response.status(), 200, "{number}");
    let confirmed: ConfirmResponse = response.json().await.unwrap();
    let ConfirmResponse::Succeeded { payment_id, .. } = confirmed else {
        panic!("expected success, got {confirmed:?}");
    };
    app.payment(&payment_id).await
}

/// Saves `number` for `customer` by paying a session that requires it.
pub(crate) async fn save(app: &TestApp, customer: &str, number: &str) -> Payment {
    let session = saving_session(app, customer, json!({})).await;
    pay(app, &session, number, json!({})).await
}

async fn cards(app: &TestApp, customer: &str) -> Vec<PaymentMethod> {
    let response = app
        .get(&format!("/v1/customers/{customer}/payment_methods"))
        .await;
    assert_eq!(response.status(), 200);
    let list: PaymentMethodList = response.json().await.unwrap();
    list.data
}

async fn off_session(app: &TestApp, body: Value) -> reqwest::Response {
    let mut request = json!({"amount": 990, "currency": "USD", "off_session": true});
    for (k, v) in body.as_object().unwrap() {
        request[k] = v.clone();
    }
    app.post("/v1/payments", &request).await
}

#[tokio::test]
async fn customers_are_made_found_by_email_and_reference_paged_updated_and_deleted() {
    let app = spawn_app().await;
    let ada = new_customer(
        &app,
        json!({"email": "Ada@Example.com", "name": "Ada", "reference": "u-1", "locale": "bn", "metadata": {"tier": "gold"}}),
    )
    .await;
    assert!(ada.id.starts_with("cus_"));
    assert_eq!(ada.locale.as_deref(), Some("bn"));
    for i in 2..=4 {
        app.clock.advance(1);
        new_customer(
            &app,
            json!({"email": format!("c{i}@example.com"), "reference": format!("u-{i}")}),
        )
        .await;
    }
    // The same reference again is refused, and nothing is made.
    let taken = app
        .post("/v1/customers", &json!({"reference": "u-1"}))
        .await;
    expect_error(taken, 400, "parameter_invalid").await;
    let bad = app
        .post("/v1/customers", &json!({"email": "not an email"}))
        .await;
    expect_error(bad, 400, "invalid_email").await;
    let bad = app.post("/v1/customers", &json!({"locale": "fr"})).await;
    expect_error(bad, 400, "invalid_locale").await;

    let by_email: CustomerList = app
        .get("/v1/customers?email=ada@example.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_email.data.len(), 1);
    assert_eq!(by_email.data[0].id, ada.id);
    let by_reference: CustomerList = app
        .get("/v1/customers?reference=u-3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_reference.data[0].reference.as_deref(), Some("u-3"));

    // Newest first, two to a page, across every page once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(id) => format!("/v1/customers?limit=2&starting_after={id}"),
            None => "/v1/customers?limit=2".to_string(),
        };
        let page: CustomerList = app.get(&path).await.json().await.unwrap();
        seen.extend(page.data.iter().map(|c| c.reference.clone().unwrap()));
        after = page.data.last().map(|c| c.id.clone());
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, ["u-4", "u-3", "u-2", "u-1"]);

    // Updated: what is given changes, the rest stays.
    let response = app
        .post(
            &format!("/v1/customers/{}", ada.id),
            &json!({"name": "Ada L."}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated: Customer = response.json().await.unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ada L."));
    assert_eq!(updated.email, ada.email);
    assert_eq!(updated.metadata["tier"], "gold");
    let clash = app
        .post(
            &format!("/v1/customers/{}", ada.id),
            &json!({"reference": "u-2"}),
        )
        .await;
    expect_error(clash, 400, "parameter_invalid").await;

    // Another merchant sees none of them.
    let other = app
        .other_merchant("Other", &["https://other.example"])
        .await;
    let theirs = app
        .http
        .get(app.url(&format!("/v1/customers/{}", ada.id)))
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(theirs, 404, "resource_missing").await;

    let deleted = app.delete(&format!("/v1/customers/{}", ada.id)).await;
    assert_eq!(deleted.status(), 200);
    let gone = app.get(&format!("/v1/customers/{}", ada.id)).await;
    expect_error(gone, 404, "resource_missing").await;
    // Its reference is free again.
    new_customer(&app, json!({"reference": "u-1"})).await;
}

#[tokio::test]
async fn a_card_saved_at_checkout_is_the_customers_once_however_often_it_is_saved() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({"email": "ada@example.com"})).await;
    let first = save(&app, &customer.id, "4242424242424242").await;
    let pm = first
        .payment_method
        .clone()
        .expect("the payment names its card");
    assert_eq!(first.customer.as_deref(), Some(customer.id.as_str()));
    let second = save(&app, &customer.id, "4242 4242 4242 4242").await;
    assert_eq!(second.payment_method.as_deref(), Some(pm.as_str()));
    save(&app, &customer.id, "5555555555554444").await;

    let saved = cards(&app, &customer.id).await;
    assert_eq!(saved.len(), 2, "{saved:?}");
    let visa = saved.iter().find(|c| c.id == pm).unwrap();
    assert_eq!(visa.status, "active");
    assert_eq!(visa.card.last4, "4242");
    assert_eq!(visa.card.exp_month, 12);
    assert_eq!(visa.customer.as_deref(), Some(customer.id.as_str()));
    assert_eq!(app.count("SELECT count(*) FROM vault_cards").await, 2);
    // One mandate for the card, though it was saved twice.
    let mandates: Value = app
        .get(&format!("/v1/customers/{}/mandates", customer.id))
        .await
        .json()
        .await
        .unwrap();
    let mandates = mandates["data"].as_array().unwrap();
    assert_eq!(mandates.len(), 2);
    // The same card for another customer is another payment method.
    let other = new_customer(&app, json!({})).await;
    let theirs = save(&app, &other.id, "4242424242424242").await;
    assert_ne!(theirs.payment_method.as_deref(), Some(pm.as_str()));
}

#[tokio::test]
async fn optional_saving_keeps_the_card_only_when_ticked_and_records_the_consent_shown() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    let offered = json!({"save_card": "optional", "mandate_options": {"max_amount": 5000, "frequency": "month"}});
    let session = saving_session(&app, &customer.id, offered.clone()).await;
    let page: Value = app.pay_get(&session).await.json().await.unwrap();
    assert_eq!(page["save_card"], "optional");
    let unticked = pay(&app, &session, "4242424242424242", json!({})).await;
    assert_eq!(unticked.payment_method, None);
    assert!(cards(&app, &customer.id).await.is_empty());

    let session = saving_session(&app, &customer.id, offered).await;
    let ticked = app
        .http
        .post(app.url(&format!("/v1/pay/{}/confirm", session.id)))
        .header(kasse_core::api::CLIENT_SECRET_HEADER, &session.client_secret)
        .header("user-agent", "TestBrowser/1.0")
        .json(&json!({"card": good_card("4242424242424242")["card"], "save_card": true, "locale": "bn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ticked.status(), 200);
    let confirmed: Value = ticked.json().await.unwrap();
    let payment = app.payment(confirmed["payment_id"].as_str().unwrap()).await;
    let mandate_id = payment.mandate.clone().expect("a mandate was given");
    let mandate: Mandate = app
        .get(&format!("/v1/mandates/{mandate_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mandate.status, "active");
    assert_eq!(mandate.max_amount, Some(5000));
    assert_eq!(mandate.frequency.as_deref(), Some("month"));
    assert_eq!(mandate.payment.as_deref(), Some(payment.id.as_str()));
    let acceptance = &mandate.customer_acceptance;
    assert_eq!(acceptance.locale, "bn");
    assert_eq!(
        acceptance.text,
        kasse_core::consent::save_card_text(
            kasse_core::Locale::Bn,
            "Test Shop",
            kasse_core::api::FutureUsage::OffSession
        )
    );
    assert_eq!(
        acceptance.text_version,
        kasse_core::consent::CONSENT_VERSION
    );
    assert_eq!(acceptance.user_agent.as_deref(), Some("TestBrowser/1.0"));
    assert_eq!(acceptance.ip_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(acceptance.channel, "payment_page");
}

#[tokio::test]
async fn a_session_that_saves_cards_needs_a_customer_and_can_make_one() {
    let app = spawn_app().await;
    let mut body = session_body();
    body["save_card"] = json!("required");
    let missing = app.post("/v1/checkout/sessions", &body).await;
    expect_error(missing, 400, "parameter_missing").await;
    body["customer"] = json!("cus_nobody");
    let unknown = app.post("/v1/checkout/sessions", &body).await;
    expect_error(unknown, 400, "resource_missing").await;
    body["customer"] = Value::Null;
    body["customer_data"] = json!({"email": "new@example.com", "name": "New"});
    let session = app.create_session_with(body.clone()).await;
    let customer = session.customer.clone().expect("a customer was made");
    let found: Customer = app
        .get(&format!("/v1/customers/{customer}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.email.as_deref(), Some("new@example.com"));
    body["mandate_options"] = json!({"max_amount": 100});
    let too_small = app.post("/v1/checkout/sessions", &body).await;
    expect_error(too_small, 400, "parameter_out_of_range").await;
    body["mandate_options"] = json!({"frequency": "fortnightly"});
    let unknown = app.post("/v1/checkout/sessions", &body).await;
    expect_error(unknown, 400, "parameter_invalid").await;
}

#[tokio::test]
async fn without_a_vault_key_no_card_is_saved_and_the_reason_is_given() {
    let app = crate::helpers::spawn_app_with(|config| config.vault = None).await;
    let customer = new_customer(&app, json!({})).await;
    let mut body = session_body();
    body["customer"] = json!(customer.id);
    body["save_card"] = json!("optional");
    let refused = app.post("/v1/checkout/sessions", &body).await;
    let detail = expect_error(refused, 422, "vault_unavailable").await;
    assert!(detail.error.message.contains("KASSE_VAULT_KEY"));
}

#[tokio::test]
async fn a_saved_card_is_charged_off_session_under_its_mandate() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    let saved = save(&app, &customer.id, "4242424242424242").await;
    let pm = saved.payment_method.unwrap();
    let response = off_session(
        &app,
        json!({"customer": customer.id, "payment_method": pm, "order_reference": "renewal-1"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let charged: Payment = response.json().await.unwrap();
    assert_eq!(charged.status, PaymentStatus::Succeeded);
    assert!(charged.off_session);
    assert_eq!(charged.amount, 990);
    assert_eq!(charged.card.last4, "4242");
    assert_eq!(charged.mandate, saved.mandate);
    assert_eq!(
        charged.channel,
        kasse_core::api::PaymentChannel::MerchantInitiated
    );
    // Its event says it was off-session.
    let events: Value = app
        .get(&format!("/v1/events?payment={}", charged.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["data"][0]["type"], "payment.succeeded");
    assert_eq!(events["data"][0]["data"]["object"]["off_session"], true);

    // A card saved for payments the customer makes has no mandate.
    let on_session = saving_session(
        &app,
        &customer.id,
        json!({"setup_future_usage": "on_session"}),
    )
    .await;
    let paid = pay(&app, &on_session, "5555555555554444", json!({})).await;
    assert_eq!(paid.mandate, None);
    let refused = off_session(
        &app,
        json!({"customer": customer.id, "payment_method": paid.payment_method.unwrap()}),
    )
    .await;
    expect_error(refused, 409, "mit_without_customer_initiated_payment").await;
}

#[tokio::test]
async fn every_mandate_refusal_has_its_own_code_and_charges_nothing() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    let session = saving_session(
        &app,
        &customer.id,
        json!({"mandate_options": {"max_amount": 2000}}),
    )
    .await;
    let saved = pay(&app, &session, "4242424242424242", json!({})).await;
    let pm = saved.payment_method.clone().unwrap();
    let mandate = saved.mandate.clone().unwrap();
    let base = json!({"customer": customer.id, "payment_method": pm});
    let payments_before = app.count("SELECT count(*) FROM payments").await;

    let mut over = base.clone();
    over["amount"] = json!(2001);
    expect_error(
        off_session(&app, over).await,
        400,
        "mandate_amount_exceeded",
    )
    .await;
    let mut euros = base.clone();
    euros["currency"] = json!("EUR");
    expect_error(off_session(&app, euros).await, 400, "currency_mismatch").await;
    let mut no_customer = base.clone();
    no_customer.as_object_mut().unwrap().remove("customer");
    expect_error(
        off_session(&app, no_customer).await,
        400,
        "parameter_missing",
    )
    .await;
    let other = new_customer(&app, json!({})).await;
    let mut wrong_customer = base.clone();
    wrong_customer["customer"] = json!(other.id);
    expect_error(
        off_session(&app, wrong_customer).await,
        400,
        "parameter_invalid",
    )
    .await;
    let on_session = app
        .post(
            "/v1/payments",
            &json!({"amount": 990, "currency": "USD", "customer": customer.id, "payment_method": pm}),
        )
        .await;
    expect_error(on_session, 400, "parameter_invalid").await;
    assert_eq!(
        app.count("SELECT count(*) FROM payments").await,
        payments_before
    );

    // Within its bounds it charges.
    assert_eq!(off_session(&app, base.clone()).await.status(), 201);

    // Revoked: refused.
    let revoked = app
        .post(&format!("/v1/mandates/{mandate}/revoke"), &json!({}))
        .await;
    assert_eq!(revoked.status(), 200);
    let again = app
        .post(&format!("/v1/mandates/{mandate}/revoke"), &json!({}))
        .await;
    expect_error(again, 409, "mandate_revoked").await;
    expect_error(
        off_session(&app, base.clone()).await,
        409,
        "mandate_revoked",
    )
    .await;
    let mut named = base.clone();
    named["mandate"] = json!(mandate);
    expect_error(off_session(&app, named).await, 409, "mandate_revoked").await;

    // An expired card: by its date, whatever its status says.
    let expiring = saving_session(&app, &customer.id, json!({})).await;
    let old = pay(
        &app,
        &expiring,
        "5555555555554444",
        json!({"card": {"number": "5555555555554444", "exp_month": 11, "exp_year": 2026, "cvc": "123"}}),
    )
    .await;
    app.clock.advance(40 * 24 * 3600);
    let expired = off_session(
        &app,
        json!({"customer": customer.id, "payment_method": old.payment_method.clone().unwrap()}),
    )
    .await;
    expect_error(expired, 409, "payment_method_expired").await;

    // Detached: refused, and its number is gone from the vault.
    let detached = app
        .post(&format!("/v1/payment_methods/{pm}/detach"), &json!({}))
        .await;
    assert_eq!(detached.status(), 200);
    let detached: PaymentMethod = detached.json().await.unwrap();
    assert_eq!(detached.status, "detached");
    assert_eq!(detached.customer, None);
    expect_error(
        off_session(&app, base).await,
        409,
        "payment_method_detached",
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM vault_cards WHERE payment_method_id = '{pm}'"
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn an_issuer_that_wants_authentication_gets_a_recovery_page_that_completes_the_payment() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({"name": "Ada"})).await;
    // Saved through 3-D Secure: the card becomes the customer's only once
    // the challenge passes.
    let session = saving_session(&app, &customer.id, json!({})).await;
    let response = app.confirm(&session, &good_card("4000002760003184")).await;
    let ConfirmResponse::RequiresAction {
        payment_id,
        next_action,
    } = response.json().await.unwrap()
    else {
        panic!("the card asks for 3-D Secure when the customer pays");
    };
    assert!(
        cards(&app, &customer.id).await.is_empty(),
        "pending until it passes"
    );
    crate::threeds::answer(&app, &next_action.redirect_url, "complete").await;
    let saved = app.payment(&payment_id).await;
    assert_eq!(saved.status, PaymentStatus::Succeeded);
    let pm = saved.payment_method.clone().unwrap();
    assert_eq!(cards(&app, &customer.id).await[0].id, pm);

    let response = off_session(
        &app,
        json!({"customer": customer.id, "payment_method": pm, "return_url": format!("{SHOP}/account")}),
    )
    .await;
    assert_eq!(response.status(), 402);
    let failed: Payment = response.json().await.unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(
        failed.decline_code,
        Some(kasse_core::error::DeclineCode::AuthenticationRequired)
    );
    let recovery_url = failed.recovery_url.clone().expect("a recovery page");
    let recovery_id = failed.recovery_session.clone().unwrap();
    assert!(recovery_url.contains(&recovery_id));
    // The recovery page is a session for that customer and amount.
    let recovery: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{recovery_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(recovery.amount, 990);
    assert_eq!(recovery.customer.as_deref(), Some(customer.id.as_str()));
    assert_eq!(
        recovery.success_url.split('?').next(),
        Some(format!("{SHOP}/account").as_str())
    );
    // The customer authenticates there, and the payment completes.
    let response = app.confirm(&recovery, &good_card("4000002760003184")).await;
    let ConfirmResponse::RequiresAction {
        payment_id,
        next_action,
    } = response.json().await.unwrap()
    else {
        panic!("the customer is challenged on the recovery page");
    };
    crate::threeds::answer(&app, &next_action.redirect_url, "complete").await;
    assert_eq!(
        app.payment(&payment_id).await.status,
        PaymentStatus::Succeeded
    );
    let recovery: CheckoutSession = app
        .get(&format!("/v1/checkout/sessions/{recovery_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(recovery.status, SessionStatus::Complete);
    assert_eq!(recovery.metadata["recovers_payment"], failed.id);
}

#[tokio::test]
async fn the_sandboxs_saved_card_numbers_behave_as_documented() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    // 3155: challenged when saved, then charged off-session without one.
    let session = saving_session(&app, &customer.id, json!({})).await;
    let response = app.confirm(&session, &good_card("4000002500003155")).await;
    let ConfirmResponse::RequiresAction {
        payment_id,
        next_action,
    } = response.json().await.unwrap()
    else {
        panic!("3155 asks for 3-D Secure when saved");
    };
    crate::threeds::answer(&app, &next_action.redirect_url, "complete").await;
    let pm = app.payment(&payment_id).await.payment_method.unwrap();
    let charged = off_session(&app, json!({"customer": customer.id, "payment_method": pm})).await;
    assert_eq!(charged.status(), 201);
    // 0341: saves fine, then every charge declines.
    let saved = save(&app, &customer.id, "4000000000000341").await;
    let declined = off_session(
        &app,
        json!({"customer": customer.id, "payment_method": saved.payment_method.unwrap()}),
    )
    .await;
    assert_eq!(declined.status(), 402);
    let declined: Payment = declined.json().await.unwrap();
    assert_eq!(
        declined.decline_code,
        Some(kasse_core::error::DeclineCode::CardDeclined)
    );
    assert_eq!(declined.recovery_url, None);
    // A declined save keeps nothing, not even the number in the vault.
    let before = app.count("SELECT count(*) FROM vault_cards").await;
    let session = saving_session(&app, &customer.id, json!({})).await;
    let response = app.confirm(&session, &good_card("4000000000000002")).await;
    assert_eq!(response.status(), 402);
    assert_eq!(app.count("SELECT count(*) FROM vault_cards").await, before);
    assert_eq!(
        app.count("SELECT count(*) FROM payment_methods WHERE status = 'pending'")
            .await,
        0
    );
}

#[tokio::test]
async fn deleting_a_customer_detaches_their_cards_destroys_their_numbers_and_revokes_mandates() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({"email": "gone@example.com"})).await;
    let saved = save(&app, &customer.id, "4242424242424242").await;
    save(&app, &customer.id, "5555555555554444").await;
    let keep = new_customer(&app, json!({"name": "Kept"})).await;
    save(&app, &keep.id, "4242424242424242").await;
    assert_eq!(app.count("SELECT count(*) FROM vault_cards").await, 3);

    assert_eq!(
        app.delete(&format!("/v1/customers/{}", customer.id))
            .await
            .status(),
        200
    );
    assert_eq!(app.count("SELECT count(*) FROM vault_cards").await, 1);
    let pm: PaymentMethod = app
        .get(&format!(
            "/v1/payment_methods/{}",
            saved.payment_method.clone().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pm.status, "detached");
    let mandate: Mandate = app
        .get(&format!("/v1/mandates/{}", saved.mandate.clone().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mandate.status, "revoked");
    let response = app.get("/v1/customers?email=gone@example.com").await;
    let found: CustomerList = response.json().await.unwrap();
    assert!(found.data.is_empty());
    let erased = app
        .count("SELECT count(*) FROM customers WHERE email IS NOT NULL OR name IS NOT NULL")
        .await;
    assert_eq!(erased, 1, "only the kept customer has details left");
    // Their payments stay, naming them.
    assert_eq!(
        app.payment(&saved.id).await.customer,
        Some(customer.id.clone())
    );
    let kinds = app.event_kinds(20).await;
    for kind in [
        "customer.deleted",
        "payment_method.detached",
        "mandate.revoked",
        "payment_method.attached",
        "mandate.created",
        "customer.created",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn the_page_offers_the_customers_cards_and_pays_with_one_and_its_cvc() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    let saved = save(&app, &customer.id, "4242424242424242").await;
    let pm = saved.payment_method.clone().unwrap();
    let other = new_customer(&app, json!({})).await;
    let theirs = save(&app, &other.id, "5555555555554444").await;

    let mut body = session_body();
    body["customer"] = json!(customer.id);
    let session = app.create_session_with(body).await;
    let page: Value = app.pay_get(&session).await.json().await.unwrap();
    let offered = page["saved_cards"].as_array().unwrap();
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0]["id"], pm.as_str());
    assert_eq!(offered[0]["last4"], "4242");
    assert_eq!(offered[0]["brand"], "visa");
    assert!(offered[0].get("fingerprint").is_none());
    // A session without a customer offers none.
    let anonymous: Value = app
        .pay_get(&app.create_session().await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous["saved_cards"], json!([]));

    let without_cvc = app.confirm(&session, &json!({"payment_method": pm})).await;
    expect_error(without_cvc, 400, "parameter_missing").await;
    let bad_cvc = app
        .confirm(&session, &json!({"payment_method": pm, "cvc": "12"}))
        .await;
    expect_error(bad_cvc, 400, "invalid_cvc").await;
    let not_theirs = app
        .confirm(
            &session,
            &json!({"payment_method": theirs.payment_method.unwrap(), "cvc": "123"}),
        )
        .await;
    expect_error(not_theirs, 400, "resource_missing").await;
    let both = app
        .confirm(
            &session,
            &json!({"payment_method": pm, "cvc": "123", "card": good_card("4242424242424242")["card"]}),
        )
        .await;
    expect_error(both, 400, "parameter_invalid").await;

    let vault_rows = app.count("SELECT count(*) FROM vault_cards").await;
    let response = app
        .confirm(&session, &json!({"payment_method": pm, "cvc": "123"}))
        .await;
    assert_eq!(response.status(), 200);
    let confirmed: Value = response.json().await.unwrap();
    assert_eq!(confirmed["status"], "succeeded");
    let paid = app.payment(confirmed["payment_id"].as_str().unwrap()).await;
    assert_eq!(paid.payment_method.as_deref(), Some(pm.as_str()));
    assert_eq!(paid.card.last4, "4242");
    assert!(!paid.off_session);
    assert_eq!(
        app.count("SELECT count(*) FROM vault_cards").await,
        vault_rows
    );

    // 0341 saves fine, then declines when charged from the vault.
    let declines = save(&app, &customer.id, "4000000000000341").await;
    let mut body = session_body();
    body["customer"] = json!(customer.id);
    let session = app.create_session_with(body).await;
    let response = app
        .confirm(
            &session,
            &json!({"payment_method": declines.payment_method.unwrap(), "cvc": "123"}),
        )
        .await;
    assert_eq!(response.status(), 402);
}

#[tokio::test]
async fn merchants_hear_of_cards_expiring_within_thirty_days_once_then_of_their_expiry() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    // Valid through December 2026; START is 2026-11-21.
    let session = saving_session(&app, &customer.id, json!({})).await;
    let saved = pay(
        &app,
        &session,
        "4242424242424242",
        json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2026, "cvc": "123"}}),
    )
    .await;
    let pm = saved.payment_method.unwrap();
    let sweep = || kasse_server::domain::saved_cards::sweep_expiry(&app.ctx);
    assert_eq!(sweep().await.unwrap(), (0, 0), "more than 30 days left");
    app.clock.set(1_796_428_800); // 2026-12-05
    assert_eq!(sweep().await.unwrap(), (1, 0));
    assert_eq!(sweep().await.unwrap(), (0, 0), "told once");
    app.clock.set(1_798_761_600); // 2027-01-01
    assert_eq!(sweep().await.unwrap(), (0, 1));
    assert_eq!(sweep().await.unwrap(), (0, 0));
    let card: PaymentMethod = app
        .get(&format!("/v1/payment_methods/{pm}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card.status, "expired");
    let refused = off_session(&app, json!({"customer": customer.id, "payment_method": pm})).await;
    expect_error(refused, 409, "payment_method_expired").await;
    let kinds = app.event_kinds(50).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "payment_method.expiring")
            .count(),
        1
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "payment_method.expired")
            .count(),
        1
    );
    // The page no longer offers it.
    let mut body = session_body();
    body["customer"] = json!(customer.id);
    body["expires_in_seconds"] = json!(3600);
    let next = app.create_session_with(body).await;
    let page: Value = app.pay_get(&next).await.json().await.unwrap();
    assert_eq!(page["saved_cards"], json!([]));
}

#[tokio::test]
async fn an_update_link_lets_the_customer_replace_an_expired_card_under_the_same_id() {
    let app = spawn_app().await;
    let customer = new_customer(&app, json!({})).await;
    let session = saving_session(&app, &customer.id, json!({})).await;
    let saved = pay(
        &app,
        &session,
        "4242424242424242",
        json!({"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2026, "cvc": "123"}}),
    )
    .await;
    let pm = saved.payment_method.unwrap();
    app.clock.set(1_798_761_600); // 2027-01-01: expired
    kasse_server::domain::saved_cards::sweep_expiry(&app.ctx)
        .await
        .unwrap();
    let before = app
        .count(&format!(
            "SELECT count(*) FROM vault_cards WHERE payment_method_id = '{pm}'"
        ))
        .await;
    assert_eq!(before, 1);

    let response = app
        .post(
            &format!("/v1/payment_methods/{pm}/update_link"),
            &json!({"return_url": format!("{SHOP}/account")}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let link: Value = response.json().await.unwrap();
    let url = url::Url::parse(link["url"].as_str().unwrap()).unwrap();
    let id = link["id"].as_str().unwrap();
    assert_eq!(url.path(), format!("/update/{id}"));
    let secret = url.fragment().unwrap().to_string();
    assert!(
        !app.stored_text().await.contains(&secret),
        "the secret is kept hashed"
    );
    // The page is served, never in a frame.
    let page = app.http.get(app.url(url.path())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let read = |secret: String| {
        let request = app
            .http
            .get(app.url(&format!("/v1/pay/update/{id}")))
            .header(kasse_core::api::CLIENT_SECRET_HEADER, secret);
        async move { request.send().await.unwrap() }
    };
    expect_error(read("wrong".into()).await, 404, "resource_missing").await;
    let shown: Value = read(secret.clone()).await.json().await.unwrap();
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["merchant_name"], "Test Shop");
    assert_eq!(shown["card"]["last4"], "4242");
    let replace = |card: Value| {
        let request = app
            .http
            .post(app.url(&format!("/v1/pay/update/{id}/confirm")))
            .header(kasse_core::api::CLIENT_SECRET_HEADER, secret.clone())
            .json(&json!({ "card": card }));
        async move { request.send().await.unwrap() }
    };
    // A declined card changes nothing.
    let declined = replace(
        json!({"number": "4000000000000002", "exp_month": 5, "exp_year": 2031, "cvc": "123"}),
    )
    .await;
    expect_error(declined, 400, "card_declined").await;
    let unchanged: PaymentMethod = app
        .get(&format!("/v1/payment_methods/{pm}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (unchanged.status.as_str(), unchanged.card.last4.as_str()),
        ("expired", "4242")
    );

    let replaced = replace(
        json!({"number": "5555555555554444", "exp_month": 5, "exp_year": 2031, "cvc": "123"}),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    let answer: Value = replaced.json().await.unwrap();
    assert_eq!(answer["return_url"], format!("{SHOP}/account"));
    let card: PaymentMethod = app
        .get(&format!("/v1/payment_methods/{pm}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card.status, "active");
    assert_eq!(card.card.last4, "4444");
    assert_eq!((card.card.exp_month, card.card.exp_year), (5, 2031));
    // Its mandate stands: the merchant charges the new card under it.
    let charged = off_session(&app, json!({"customer": customer.id, "payment_method": pm})).await;
    assert_eq!(charged.status(), 201);
    let charged: Payment = charged.json().await.unwrap();
    assert_eq!(charged.card.last4, "4444");
    let events: Value = app.get("/v1/events?limit=20").await.json().await.unwrap();
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "payment_method.updated")
    );
    // Once only.
    let again = replace(
        json!({"number": "5555555555554444", "exp_month": 5, "exp_year": 2031, "cvc": "123"}),
    )
    .await;
    expect_error(again, 409, "checkout_session_not_open").await;
    let used: Value = read(secret.clone()).await.json().await.unwrap();
    assert_eq!(used["status"], "used");
    // A detached card gets no link.
    app.post(&format!("/v1/payment_methods/{pm}/detach"), &json!({}))
        .await;
    let refused = app
        .post(&format!("/v1/payment_methods/{pm}/update_link"), &json!({}))
        .await;
    expect_error(refused, 409, "payment_method_detached").await;
}

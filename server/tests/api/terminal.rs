//! The terminal's server side: keyed (card-not-present) payments, staff
//! logins by cookie with CSRF tokens, roles, expiry and logout.

use kasse_core::api::{
    CSRF_HEADER, EventList, PaymentChannel, RefundList, StaffRole, StaffSession,
};
use kasse_core::{PaymentStatus, api};
use kasse_server::clock::Clock;
use kasse_server::staff;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, spawn_app};

const PASSWORD: &str = "correct horse battery";

fn keyed(number: &str, amount: i64) -> Value {
    json!({
        "amount": amount,
        "currency": "usd",
        "order_reference": "phone-17",
        "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123", "name": "Ada Lovelace"},
    })
}

/// A logged-in terminal: its cookie and CSRF token.
struct Terminal {
    cookie: String,
    session: StaffSession,
}

impl TestApp {
    async fn staff(&self, email: &str, role: StaffRole) {
        staff::create_user(
            self.store.as_ref(),
            &self.merchant.merchant_id,
            email,
            role,
            PASSWORD,
            self.clock.now(),
        )
        .await
        .unwrap();
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/terminal/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    async fn logged_in(&self, email: &str) -> Terminal {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        Terminal {
            cookie,
            session: response.json().await.unwrap(),
        }
    }

    /// A call from the terminal: its cookie, and its CSRF token on a POST.
    async fn call(
        &self,
        t: &Terminal,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method.parse().unwrap(), self.url(path))
            .header(COOKIE, &t.cookie);
        if method != "GET" {
            request = request.header(CSRF_HEADER, &t.session.csrf_token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn a_keyed_card_is_charged_as_a_mail_or_telephone_order() {
    let app = spawn_app().await;
    let response = app
        .post("/v1/payments", &keyed("4242 4242 4242 4242", 2500))
        .await;
    assert_eq!(response.status(), 201);
    let paid: api::Payment = response.json().await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert_eq!(paid.channel, PaymentChannel::Moto);
    assert_eq!(paid.amount_captured, 2500);
    assert_eq!(paid.card.last4, "4242");
    assert_eq!(paid.checkout_session, None);
    assert_eq!(paid.order_reference.as_deref(), Some("phone-17"));

    // No cardholder to challenge: the 3-D Secure card is approved as is.
    let mut manual = keyed("4000 0000 0000 3220", 900);
    manual["capture_method"] = json!("manual");
    let response = app.post("/v1/payments", &manual).await;
    assert_eq!(response.status(), 201);
    let held: api::Payment = response.json().await.unwrap();
    assert_eq!(held.status, PaymentStatus::RequiresCapture);
    assert_eq!(held.amount_capturable, 900);

    let response = app
        .post("/v1/payments", &keyed("4000000000009995", 100))
        .await;
    assert_eq!(response.status(), 402);
    let declined: api::Payment = response.json().await.unwrap();
    assert_eq!(declined.status, PaymentStatus::Failed);
    assert_eq!(
        declined.decline_code.map(|d| d.as_str()),
        Some("insufficient_funds")
    );

    expect_error(
        app.post("/v1/payments", &keyed("4242424242424241", 100))
            .await,
        400,
        "incorrect_number",
    )
    .await;
    let body = expect_error(
        app.post("/v1/payments", &keyed("4242424242424242", 0))
            .await,
        400,
        "amount_too_small",
    )
    .await;
    assert_eq!(body.error.param.as_deref(), Some("amount"));

    // Its events name the payment; no card number is stored.
    let events: EventList = app
        .get(&format!("/v1/events?payment={}", paid.id))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events.data.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["payment.succeeded"]);
    assert!(!app.stored_text().await.contains("4242424242424242"));
}

#[tokio::test]
async fn a_payments_refunds_and_events_are_listed_with_it() {
    let app = spawn_app().await;
    let paid = app.paid_payment(1000, false).await;
    for amount in [300, 200] {
        let response = app
            .post(
                "/v1/refunds",
                &json!({"payment_id": paid.id, "amount": amount}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let refunds: RefundList = app
        .get(&format!("/v1/refunds?payment_id={}", paid.id))
        .await
        .json()
        .await
        .unwrap();
    let amounts: Vec<i64> = refunds.data.iter().map(|r| r.amount).collect();
    assert_eq!(amounts, [300, 200]);
    let events: EventList = app
        .get(&format!("/v1/events?payment={}", paid.id))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events.data.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "refund.succeeded",
            "refund.succeeded",
            "checkout.session.completed",
            "payment.succeeded"
        ]
    );
    expect_error(
        app.get("/v1/refunds?payment_id=pay_nope").await,
        404,
        "resource_missing",
    )
    .await;
    expect_error(app.get("/v1/refunds").await, 400, "parameter_missing").await;
}

#[tokio::test]
async fn staff_log_in_with_their_password_only() {
    let app = spawn_app().await;
    app.staff("Clerk@Shop.example", StaffRole::Operator).await;

    let wrong = expect_error(
        app.login("clerk@shop.example", "wrong password!").await,
        401,
        "unauthorized",
    )
    .await;
    let unknown = expect_error(
        app.login("nobody@shop.example", PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(wrong.error.message, "Wrong email or password.");
    assert_eq!(wrong.error.message, unknown.error.message);

    let response = app.login(" CLERK@shop.example ", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for attribute in [
        "kasse_staff=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
    let session: StaffSession = response.json().await.unwrap();
    assert_eq!(session.email, "clerk@shop.example");
    assert_eq!(session.role, StaffRole::Operator);
    assert_eq!(session.merchant_id, app.merchant.merchant_id);

    // Neither the password nor the login token is stored.
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("kasse_staff=");
    let stored = app.stored_text().await;
    assert!(!stored.contains(PASSWORD));
    assert!(!stored.contains(token));
}

#[tokio::test]
async fn every_change_needs_the_csrf_token_and_the_right_role() {
    let app = spawn_app().await;
    app.staff("viewer@shop.example", StaffRole::Viewer).await;
    app.staff("operator@shop.example", StaffRole::Operator)
        .await;
    app.staff("admin@shop.example", StaffRole::Admin).await;
    let viewer = app.logged_in("viewer@shop.example").await;
    let operator = app.logged_in("operator@shop.example").await;
    let admin = app.logged_in("admin@shop.example").await;
    let paid = app.paid_payment(1000, false).await;
    let refund = json!({"payment_id": paid.id, "amount": 100});

    // Everyone reads.
    let response = app.call(&viewer, "GET", "/v1/payments", None).await;
    assert_eq!(response.status(), 200);
    let me: StaffSession = app
        .call(&viewer, "GET", "/terminal/me", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.role, StaffRole::Viewer);

    // A viewer cannot refund; an operator can, but not without the token.
    let refused = expect_error(
        app.call(&viewer, "POST", "/v1/refunds", Some(refund.clone()))
            .await,
        403,
        "role_insufficient",
    )
    .await;
    assert!(refused.error.message.contains("viewer"), "{refused:?}");
    let no_token = app
        .http
        .post(app.url("/v1/refunds"))
        .header(COOKIE, &operator.cookie)
        .json(&refund)
        .send()
        .await
        .unwrap();
    expect_error(no_token, 403, "csrf_token_invalid").await;
    let cross_site = app
        .http
        .post(app.url("/v1/refunds"))
        .header(COOKIE, &operator.cookie)
        .header(CSRF_HEADER, &operator.session.csrf_token)
        .header(ORIGIN, "https://evil.example")
        .json(&refund)
        .send()
        .await
        .unwrap();
    expect_error(cross_site, 403, "cross_origin").await;
    let response = app
        .call(&operator, "POST", "/v1/refunds", Some(refund.clone()))
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.payment(&paid.id).await.amount_refunded, 100);

    // Keyed charges take an operator; webhook endpoints an admin.
    let charge = keyed("4242424242424242", 700);
    expect_error(
        app.call(&viewer, "POST", "/v1/payments", Some(charge.clone()))
            .await,
        403,
        "role_insufficient",
    )
    .await;
    assert_eq!(
        app.call(&operator, "POST", "/v1/payments", Some(charge))
            .await
            .status(),
        201
    );
    let endpoint = json!({"url": "https://shop.example/hooks"});
    expect_error(
        app.call(
            &operator,
            "POST",
            "/v1/webhook_endpoints",
            Some(endpoint.clone()),
        )
        .await,
        403,
        "role_insufficient",
    )
    .await;
    assert_eq!(
        app.call(&admin, "POST", "/v1/webhook_endpoints", Some(endpoint))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn logins_end_when_idle_after_twelve_hours_and_on_logout() {
    let app = spawn_app().await;
    app.staff("clerk@shop.example", StaffRole::Operator).await;
    let clerk = app.logged_in("clerk@shop.example").await;

    // Used every 25 minutes, a login lives on…
    for _ in 0..4 {
        app.clock.advance(25 * 60);
        assert_eq!(
            app.call(&clerk, "GET", "/terminal/me", None).await.status(),
            200
        );
    }
    // …but 31 idle minutes end it.
    app.clock.advance(31 * 60);
    expect_error(
        app.call(&clerk, "GET", "/v1/payments", None).await,
        401,
        "unauthorized",
    )
    .await;

    // However busy, a login ends 12 hours after it began.
    let busy = app.logged_in("clerk@shop.example").await;
    for _ in 0..((staff::MAX_SECONDS / (20 * 60)) + 1) {
        app.clock.advance(20 * 60);
        app.call(&busy, "GET", "/terminal/me", None).await;
    }
    expect_error(
        app.call(&busy, "GET", "/terminal/me", None).await,
        401,
        "unauthorized",
    )
    .await;

    // Logging out needs the token, clears the cookie and ends the login.
    let clerk = app.logged_in("clerk@shop.example").await;
    let response = app.call(&clerk, "POST", "/terminal/logout", None).await;
    assert_eq!(response.status(), 204);
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("kasse_staff=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    expect_error(
        app.call(&clerk, "GET", "/terminal/me", None).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn the_terminal_page_is_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/terminal")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.text().await.unwrap().contains("kasse-terminal"));
}

#[tokio::test]
async fn staff_are_created_with_a_valid_email_a_long_password_and_once() {
    let app = spawn_app().await;
    let create = |email: &'static str, password: &'static str, merchant: String| {
        let store = app.store.clone();
        async move {
            staff::create_user(
                store.as_ref(),
                &merchant,
                email,
                StaffRole::Viewer,
                password,
                0,
            )
            .await
        }
    };
    let merchant = app.merchant.merchant_id.clone();
    assert!(
        create("a@shop.example", PASSWORD, merchant.clone())
            .await
            .is_ok()
    );
    let taken = create("A@SHOP.example", PASSWORD, merchant.clone())
        .await
        .unwrap_err();
    assert!(matches!(taken, staff::StaffError::EmailTaken(_)), "{taken}");
    let short = create("b@shop.example", "short", merchant.clone())
        .await
        .unwrap_err();
    assert!(matches!(short, staff::StaffError::ShortPassword), "{short}");
    let email = create("not an email", PASSWORD, merchant)
        .await
        .unwrap_err();
    assert!(
        matches!(email, staff::StaffError::InvalidEmail(_)),
        "{email}"
    );
    let merchant = create("c@shop.example", PASSWORD, "mer_nope".into())
        .await
        .unwrap_err();
    assert!(
        matches!(merchant, staff::StaffError::NoSuchMerchant(_)),
        "{merchant}"
    );
}

#[tokio::test]
async fn a_hosted_payments_fingerprint_cannot_be_matched_by_a_keyed_payment() {
    let app = spawn_app().await;
    let hosted = app.paid_payment(1000, false).await;
    let fingerprint = hosted
        .card
        .fingerprint
        .clone()
        .expect("a hosted card has one");
    // The same number typed in, approved or not: no fingerprint comes back,
    // so trying candidate numbers tells the caller nothing.
    for (number, status) in [("4242424242424242", 201), ("4000000000000002", 402)] {
        let response = app.post("/v1/payments", &keyed(number, 500)).await;
        assert_eq!(response.status(), status);
        let body: Value = response.json().await.unwrap();
        let id = body["id"].as_str().unwrap();
        assert_eq!(body["card"]["fingerprint"], Value::Null, "{body}");
        let fetched = app.payment(id).await;
        assert_eq!(fetched.card.fingerprint, None);
        assert_eq!(fetched.channel, PaymentChannel::Moto);
    }
    let listed: Value = app
        .get("/v1/payments?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<&Value> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["card"]["fingerprint"] == json!(fingerprint))
        .collect();
    assert_eq!(seen.len(), 1, "only the hosted payment carries it");
    // Another merchant's customer with the same card has another fingerprint.
    let other = app.other_merchant("Other", &[crate::helpers::SHOP]).await;
    let session = app.session_of(&other).await;
    let paid: Value = app
        .confirm(&session, &crate::helpers::good_card("4242424242424242"))
        .await
        .json()
        .await
        .unwrap();
    let theirs: Value = app
        .http
        .get(app.url(&format!(
            "/v1/payments/{}",
            paid["payment_id"].as_str().unwrap()
        )))
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(theirs["card"]["fingerprint"], json!(fingerprint));
    assert!(theirs["card"]["fingerprint"].is_string());
}

#[tokio::test]
async fn under_https_the_login_cookie_is_a_host_only_secure_cookie() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.public_url = Some("https://pay.example/".into());
    })
    .await;
    app.staff("ada@tea.example", StaffRole::Admin).await;
    let t = app.logged_in("ada@tea.example").await;
    assert!(t.cookie.starts_with("__Host-kasse_staff="), "{}", t.cookie);
    let response = app.login("ada@tea.example", PASSWORD).await;
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("; Secure") && set_cookie.contains("Path=/"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
    assert_eq!(
        app.call(&t, "GET", "/terminal/me", None).await.status(),
        200
    );
    // The same token under the plain name is not a login here.
    let plain = Terminal {
        cookie: t.cookie.replacen("__Host-", "", 1),
        session: t.session.clone(),
    };
    assert_eq!(
        app.call(&plain, "GET", "/terminal/me", None).await.status(),
        401
    );
}

#[tokio::test]
async fn marking_a_payment_validated_from_the_terminal_takes_an_operator_and_the_csrf_token() {
    let app = spawn_app().await;
    let paid = app.paid_payment(1000, false).await;
    let path = format!("/v1/payments/{}/validate", paid.id);
    app.staff("viewer@tea.example", StaffRole::Viewer).await;
    app.staff("op@tea.example", StaffRole::Operator).await;
    let viewer = app.logged_in("viewer@tea.example").await;
    let operator = app.logged_in("op@tea.example").await;

    let refused = app
        .http
        .get(app.url(&path))
        .header(COOKIE, &viewer.cookie)
        .header(CSRF_HEADER, &viewer.session.csrf_token)
        .send()
        .await
        .unwrap();
    expect_error(refused, 403, "role_insufficient").await;
    // Reading the payment stays open to a viewer.
    let read = app
        .call(&viewer, "GET", &format!("/v1/payments/{}", paid.id), None)
        .await;
    assert_eq!(read.status(), 200);
    // A GET that changes state is held to the CSRF token like a POST: a
    // page elsewhere cannot make the operator's browser use it up.
    let no_token = app
        .http
        .get(app.url(&path))
        .header(COOKIE, &operator.cookie)
        .send()
        .await
        .unwrap();
    expect_error(no_token, 403, "csrf_token_invalid").await;
    let foreign = app
        .http
        .get(app.url(&path))
        .header(COOKIE, &operator.cookie)
        .header(CSRF_HEADER, &operator.session.csrf_token)
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    expect_error(foreign, 403, "cross_origin").await;

    // None of that used the first verdict up.
    let with_token = app
        .http
        .get(app.url(&path))
        .header(COOKIE, &operator.cookie)
        .header(CSRF_HEADER, &operator.session.csrf_token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    let verdict: Value = with_token.json().await.unwrap();
    assert_eq!(verdict["status"], "VALID");
    let again: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(again["status"], "VALIDATED");
}

#[tokio::test]
async fn keyed_payments_are_limited_per_merchant_and_per_member_of_staff() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.limits.keyed_payments_per_merchant_per_minute = 3;
        c.limits.keyed_payments_per_staff_per_minute = 1;
    })
    .await;
    app.staff("ada@tea.example", StaffRole::Operator).await;
    app.staff("bob@tea.example", StaffRole::Operator).await;
    let ada = app.logged_in("ada@tea.example").await;
    let bob = app.logged_in("bob@tea.example").await;
    let charge = |t| {
        app.call(
            t,
            "POST",
            "/v1/payments",
            Some(keyed("4242424242424242", 500)),
        )
    };
    assert_eq!(charge(&ada).await.status(), 201);
    let again = charge(&ada).await;
    assert!(again.headers().contains_key("retry-after"));
    expect_error(again, 429, "rate_limited").await;
    // Someone else at the same merchant still can, until the merchant's own
    // limit (three, counting the refused attempt) is reached.
    assert_eq!(charge(&bob).await.status(), 201);
    let by_key = app
        .post("/v1/payments", &keyed("4242424242424242", 500))
        .await;
    expect_error(by_key, 429, "rate_limited").await;
    assert_eq!(
        app.count("SELECT count(*) FROM payments").await,
        2,
        "refused payments reach no acquirer"
    );
    app.clock.advance(120);
    assert_eq!(charge(&bob).await.status(), 201);
}

#[tokio::test]
async fn logins_are_limited_per_account_and_per_address_and_password_checks_are_capped() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.limits.logins_per_account_per_minute = 2;
        c.limits.logins_per_address_per_minute = 4;
        c.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.staff("ada@tea.example", StaffRole::Operator).await;
    let login_from = |client: &'static str, email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/terminal/login"))
                .header("X-Forwarded-For", client)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // A guesser spreading over addresses: the account itself is limited,
    // even against the right password.
    assert_eq!(
        login_from("203.0.113.1", "ada@tea.example", "guess one!!")
            .await
            .status(),
        401
    );
    assert_eq!(
        login_from("203.0.113.2", "ADA@tea.example", "guess two!!")
            .await
            .status(),
        401
    );
    let locked = login_from("203.0.113.3", "ada@tea.example", PASSWORD).await;
    expect_error(locked, 429, "rate_limited").await;
    // One address trying many accounts is limited too.
    for email in ["a@x.example", "b@x.example", "c@x.example", "d@x.example"] {
        let status = login_from("203.0.113.9", email, "nothing!!!!")
            .await
            .status();
        assert_eq!(status, 401, "{email}");
    }
    let refused = login_from("203.0.113.9", "e@x.example", "nothing!!!!").await;
    expect_error(refused, 429, "rate_limited").await;

    // Every password check busy: a login is answered at once with 503.
    app.clock.advance(120);
    let all = app
        .ctx
        .password_checks
        .clone()
        .acquire_many_owned(app.ctx.limits.concurrent_password_checks as u32)
        .await
        .unwrap();
    let busy = login_from("203.0.113.20", "ada@tea.example", PASSWORD).await;
    assert_eq!(busy.headers()["retry-after"], "1");
    expect_error(busy, 503, "login_busy").await;
    drop(all);
    let ok = login_from("203.0.113.21", "ada@tea.example", PASSWORD).await;
    assert_eq!(ok.status(), 200);
}

/// Every merchant API operation declares the role it takes, beside its
/// route; from the terminal, the role below it is refused and the role
/// itself gets past the role check.
#[tokio::test]
async fn every_operation_declares_its_role_and_a_lower_one_is_refused() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let roles = [StaffRole::Viewer, StaffRole::Operator, StaffRole::Admin];
    for role in roles {
        app.staff(&format!("{}@tea.example", role.as_str()), role)
            .await;
    }
    let mut logged_in = Vec::new();
    for role in roles {
        logged_in.push(
            app.logged_in(&format!("{}@tea.example", role.as_str()))
                .await,
        );
    }
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("secret_key").is_some()));
            if !secured {
                continue;
            }
            let declared = operation["x-kasse-role"]
                .as_str()
                .and_then(StaffRole::parse)
                .unwrap_or_else(|| panic!("{method} {path} declares no role"));
            let concrete = path.replace("{id}", "pay_nothing");
            let call = |t: &Terminal| {
                let request = app
                    .http
                    .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                    .header(COOKIE, &t.cookie)
                    .header(CSRF_HEADER, &t.session.csrf_token)
                    .header("content-type", "application/json")
                    .body("{}");
                async move { request.send().await.unwrap() }
            };
            let at = roles.iter().position(|r| *r == declared).unwrap();
            if at > 0 {
                let refused = call(&logged_in[at - 1]).await;
                let body: Value = refused.json().await.unwrap();
                assert_eq!(
                    body["error"]["code"],
                    "role_insufficient",
                    "{method} {path} as {}",
                    roles[at - 1].as_str()
                );
            }
            let allowed = call(&logged_in[at]).await;
            let status = allowed.status();
            let body: Value = allowed.json().await.unwrap_or(Value::Null);
            assert!(
                status != 403 && status != 401,
                "{method} {path} as {}: {status} {body}",
                declared.as_str()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 67, "every merchant API operation was tried");
}

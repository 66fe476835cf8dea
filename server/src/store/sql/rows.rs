//! Rows read into the store's types, and the few writes several
//! aggregates share: the values sealed at rest, JSON columns, and an event
//! written to the outbox with its deliveries.

use super::*;

/// The columns whose values are sealed at rest, each its own purpose.
pub(super) const SIGNING_SECRET: &str = "merchants.signing_secret";
pub(super) const MERCHANT_WEBHOOK_SECRET: &str = "merchants.webhook_secret";
/// Both an endpoint's current and its rotated-out secret: rotation moves one
/// column's value to the other.
pub(super) const ENDPOINT_SECRET: &str = "webhook_endpoints.secret";
pub(super) const CLIENT_SECRET: &str = "checkout_sessions.client_secret";
pub(super) const RESPONSE_BODY: &str = "idempotency_keys.response_body";
pub(super) const COMPAT_PASSWORD_MD5: &str = "compat_credentials.password_md5";
pub(super) const COMPAT_PASSWORD_SHA256: &str = "compat_credentials.password_sha256";

/// A sealed text column, opened.
pub(super) fn opened(
    row: &AnyRow,
    column: &str,
    purpose: &str,
    sealer: &Sealer,
) -> StoreResult<String> {
    let stored: String = row.try_get(column)?;
    sealer
        .open_str(purpose, &stored)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(super) fn opened_opt(
    row: &AnyRow,
    column: &str,
    purpose: &str,
    sealer: &Sealer,
) -> StoreResult<Option<String>> {
    let stored: Option<String> = row.try_get(column)?;
    stored
        .map(|v| {
            sealer
                .open_str(purpose, &v)
                .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
        })
        .transpose()
}

/// A row's currency, parsed once here: the rest of Kasse gets a `Currency`.
pub(super) fn currency(row: &AnyRow) -> StoreResult<Currency> {
    let code: String = row.try_get("currency")?;
    Currency::parse(&code).map_err(|_| corrupt("currency", &code))
}

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

pub(super) fn merchant_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<Merchant> {
    let origins: String = row.try_get("origins")?;
    let origins: Vec<MerchantOrigin> =
        serde_json::from_str(&origins).map_err(|_| corrupt("merchant origins", &origins))?;
    Ok(Merchant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        origins,
        signing_secret: opened(row, "signing_secret", SIGNING_SECRET, sealer)?,
        webhook_secret: opened_opt(row, "webhook_secret", MERCHANT_WEBHOOK_SECRET, sealer)?,
        appearance: json_column::<Appearance>(row, "appearance")?.unwrap_or_default(),
        created: row.try_get("created")?,
    })
}

/// A row of `api_keys`, its `created` read as `key_created`.
pub(super) fn api_key_from_row(row: &AnyRow) -> StoreResult<ApiKey> {
    let kind: String = row.try_get("kind")?;
    Ok(ApiKey {
        merchant_id: row.try_get("merchant_id")?,
        kind: match kind.as_str() {
            "secret" => KeyKind::Secret,
            "publishable" => KeyKind::Publishable,
            other => return Err(corrupt("key kind", other)),
        },
        lookup: row.try_get("lookup")?,
        hash: row.try_get("hash")?,
        created: row.try_get("key_created")?,
    })
}

/// A nullable JSON column.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> StoreResult<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| corrupt(column, &t)))
        .transpose()
}

pub(super) fn appearance_json(appearance: &Appearance) -> Option<String> {
    (appearance != &Appearance::default())
        .then(|| serde_json::to_string(appearance).expect("appearance serialises"))
}

/// Writes events and, for each, one pending delivery per destination: the
/// merchant's endpoints that want its type, and a session's own URL. With
/// `lease`, (now, until) in Unix milliseconds, the deliveries already due
/// are leased to this instance until then and returned, to be sent as soon
/// as the transaction commits.
pub(super) async fn insert_events(
    dialect: Dialect,
    conn: &mut AnyConnection,
    events: &[NewEvent],
    lease: Option<(i64, i64)>,
) -> StoreResult<Vec<(Delivery, Event)>> {
    let mut leased = Vec::new();
    for e in events {
        sqlx::query(
            "INSERT INTO events (id, merchant_id, type, created, data, notification_url, payment_id, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.id)
        .bind(&e.merchant_id)
        .bind(e.kind.as_str())
        .bind(e.created)
        .bind(e.data.to_string())
        .bind(&e.notification_url)
        .bind(e.payment_id())
        .bind(&e.request_id)
        .execute(&mut *conn)
        .await?;
        let until = lease
            .filter(|(now, _)| e.due_ms <= *now)
            .map(|(_, until)| until);
        let deliveries = fan_out(
            dialect,
            conn,
            &e.id,
            &e.merchant_id,
            e.kind.as_str(),
            e.notification_url.as_deref(),
            e.due_ms,
            until,
        )
        .await?;
        if until.is_some() && !deliveries.is_empty() {
            let event = Event {
                id: e.id.clone(),
                merchant_id: e.merchant_id.clone(),
                kind: e.kind,
                created: e.created,
                data: e.data.clone(),
                notification_url: e.notification_url.clone(),
                request_id: e.request_id.clone(),
            };
            leased.extend(deliveries.into_iter().map(|d| (d, event.clone())));
        }
    }
    Ok(leased)
}

/// The deliveries of one event, leased until `lease_until` if given.
#[allow(clippy::too_many_arguments)]
pub(super) async fn fan_out(
    dialect: Dialect,
    conn: &mut AnyConnection,
    event_id: &str,
    merchant_id: &str,
    kind: &str,
    notification_url: Option<&str>,
    due_ms: i64,
    lease_until: Option<i64>,
) -> StoreResult<Vec<Delivery>> {
    let mut rows = sqlx::query(dialect.fan_out_to_endpoints())
        .bind(event_id)
        .bind(due_ms)
        .bind(due_ms)
        .bind(merchant_id)
        .bind(kind)
        .bind(lease_until)
        .fetch_all(&mut *conn)
        .await?;
    if let Some(url) = notification_url {
        rows.push(
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, url, status, next_attempt_ms, created_ms, lease_until_ms)
                 VALUES ($1, $2, $3, NULL, $4, 'pending', $5, $6, $7) RETURNING *",
            )
            .bind(new_id("dlv"))
            .bind(event_id)
            .bind(merchant_id)
            .bind(url)
            .bind(due_ms)
            .bind(due_ms)
            .bind(lease_until)
            .fetch_one(&mut *conn)
            .await?,
        );
    }
    rows.iter().map(delivery_from_row).collect()
}

pub(super) fn event_from_row(row: &AnyRow) -> StoreResult<Event> {
    let data: String = row.try_get("data")?;
    Ok(Event {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        kind: {
            let kind: String = row.try_get("type")?;
            EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?
        },
        created: row.try_get("created")?,
        data: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        notification_url: row.try_get("notification_url")?,
        request_id: row.try_get("request_id")?,
    })
}

pub(super) fn endpoint_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<WebhookEndpoint> {
    let events: Option<String> = row.try_get("enabled_events")?;
    Ok(WebhookEndpoint {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        url: row.try_get("url")?,
        enabled_events: events
            .map(|e| serde_json::from_str(&e).map_err(|_| corrupt("enabled events", &e)))
            .transpose()?,
        secret: opened(row, "secret", ENDPOINT_SECRET, sealer)?,
        previous_secret: opened_opt(row, "previous_secret", ENDPOINT_SECRET, sealer)?,
        previous_secret_expires: row.try_get("previous_secret_expires")?,
        created: row.try_get("created")?,
    })
}

pub(super) fn delivery_from_row(row: &AnyRow) -> StoreResult<Delivery> {
    let status: String = row.try_get("status")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        merchant_id: row.try_get("merchant_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        url: row.try_get("url")?,
        status: match status.as_str() {
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            other => return Err(corrupt("delivery status", other)),
        },
        attempts: row.try_get("attempts")?,
        next_attempt_ms: row.try_get("next_attempt_ms")?,
        created_ms: row.try_get("created_ms")?,
    })
}

/// A small unsigned number, stored as a 64-bit integer.
pub(super) fn small<T: TryFrom<i64>>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let value: i64 = row.try_get(column)?;
    T::try_from(value).map_err(|_| corrupt(column, &value.to_string()))
}

pub(super) fn capture_method(row: &AnyRow) -> StoreResult<CaptureMethod> {
    let method: String = row.try_get("capture_method")?;
    CaptureMethod::parse(&method).ok_or_else(|| corrupt("capture method", &method))
}

pub(super) fn session_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<Session> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Session {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        client_secret: opened(row, "client_secret", CLIENT_SECRET, sealer)?,
        status: SessionStatus::parse(&status).ok_or_else(|| corrupt("session status", &status))?,
        amount: row.try_get("amount")?,
        currency: currency(row)?,
        success_url: row.try_get("success_url")?,
        cancel_url: row.try_get("cancel_url")?,
        fail_url: row.try_get("fail_url")?,
        order_reference: row.try_get("order_reference")?,
        customer_name: row.try_get("customer_name")?,
        customer_email: row.try_get("customer_email")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|_| corrupt("session metadata", &metadata))?,
        capture_method: capture_method(row)?,
        payment_id: row.try_get("payment_id")?,
        created: row.try_get("created")?,
        expires_at: row.try_get("expires_at")?,
        notification_url: row.try_get("notification_url")?,
        appearance: json_column(row, "appearance")?,
        locale: {
            let locale: String = row.try_get("locale")?;
            RequestedLocale::parse(&locale).map_err(|_| corrupt("session locale", &locale))?
        },
        surface: {
            let surface: String = row.try_get("surface")?;
            Surface::parse(&surface).ok_or_else(|| corrupt("session surface", &surface))?
        },
        card_rules: json_column(row, "card_rules")?,
        customer_id: row.try_get("customer_id")?,
        save_card: {
            let v: String = row.try_get("save_card")?;
            SaveCard::parse(&v).ok_or_else(|| corrupt("session save_card", &v))?
        },
        future_usage: {
            let v: String = row.try_get("future_usage")?;
            FutureUsage::parse(&v).ok_or_else(|| corrupt("session future_usage", &v))?
        },
        mandate_options: json_column(row, "mandate_options")?,
        payment_link_id: row.try_get("payment_link_id")?,
    })
}

pub(super) fn payment_from_row(row: &AnyRow) -> StoreResult<Payment> {
    let status: String = row.try_get("status")?;
    let brand: String = row.try_get("card_brand")?;
    Ok(Payment {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        session_id: row.try_get("session_id")?,
        amount: row.try_get("amount")?,
        currency: currency(row)?,
        status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("payment status", &status))?,
        card_brand: CardBrand::parse(&brand).ok_or_else(|| corrupt("card brand", &brand))?,
        card_bin: row.try_get("card_bin")?,
        card_last4: row.try_get("card_last4")?,
        card_exp_month: small(row, "card_exp_month")?,
        card_exp_year: small(row, "card_exp_year")?,
        card_fingerprint: row.try_get("card_fingerprint")?,
        cardholder_name: row.try_get("cardholder_name")?,
        decline_code: {
            let code: Option<String> = row.try_get("decline_code")?;
            code.map(|c| DeclineCode::parse(&c).ok_or_else(|| corrupt("decline code", &c)))
                .transpose()?
        },
        authorization_code: row.try_get("authorization_code")?,
        capture_method: capture_method(row)?,
        channel: {
            let channel: String = row.try_get("channel")?;
            PaymentChannel::parse(&channel).ok_or_else(|| corrupt("payment channel", &channel))?
        },
        amount_captured: row.try_get("amount_captured")?,
        amount_refunded: row.try_get("amount_refunded")?,
        action_token: row.try_get("action_token")?,
        validated: row.try_get("validated")?,
        order_reference: row.try_get("order_reference")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
        customer_id: row.try_get("customer_id")?,
        payment_method_id: row.try_get("payment_method_id")?,
        mandate_id: row.try_get("mandate_id")?,
        off_session: row.try_get::<i64, _>("off_session")? != 0,
        recovery_session_id: row.try_get("recovery_session_id")?,
    })
}

pub(super) fn staff_user_from_row(row: &AnyRow) -> StoreResult<StaffUser> {
    let role: String = row.try_get("role")?;
    Ok(StaffUser {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: StaffRole::parse(&role).ok_or_else(|| corrupt("staff role", &role))?,
        created: row.try_get("created")?,
    })
}

pub(super) fn staff_login_from_row(row: &AnyRow) -> StoreResult<StaffLogin> {
    Ok(StaffLogin {
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        csrf_token: row.try_get("csrf_token")?,
        created: row.try_get("created")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub(super) fn refund_from_row(row: &AnyRow) -> StoreResult<Refund> {
    let status: String = row.try_get("status")?;
    Ok(Refund {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        merchant_id: row.try_get("merchant_id")?,
        amount: row.try_get("amount")?,
        currency: currency(row)?,
        status: RefundStatus::parse(&status).ok_or_else(|| corrupt("refund status", &status))?,
        reason: row.try_get("reason")?,
        created: row.try_get("created")?,
    })
}

pub(super) fn origins_json(merchant: &Merchant) -> String {
    serde_json::to_string(&merchant.origins).expect("origins serialise")
}

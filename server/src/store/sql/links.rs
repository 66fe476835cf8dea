//! Payment links, their invoice numbers, and the emails about them.

use std::sync::{Arc, Mutex};

use super::*;
use crate::store::{
    Completion, LinkPayment, LinkQuery, LinkStatus, LinkStore, LinkWrites, Notification,
    NotificationStatus, PaymentLink, Sent,
};

pub(super) const LINK_TOKEN: &str = "payment_links.token";

fn link_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<PaymentLink> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    let usage: String = row.try_get("usage")?;
    let max: Option<i64> = row.try_get("max_completions")?;
    Ok(PaymentLink {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        token: opened(row, "token_sealed", LINK_TOKEN, sealer)?,
        token_hash: row.try_get("token_hash")?,
        status: LinkStatus::parse(&status).ok_or_else(|| corrupt("link status", &status))?,
        amount: row.try_get("amount")?,
        amount_paid: row.try_get("amount_paid")?,
        currency: currency(row)?,
        description: row.try_get("description")?,
        line_items: json_column(row, "line_items")?.unwrap_or_default(),
        customer_id: row.try_get("customer_id")?,
        customer_email: row.try_get("customer_email")?,
        customer_name: row.try_get("customer_name")?,
        locale: row.try_get("locale")?,
        merchant_reference: row.try_get("merchant_reference")?,
        expires_at: row.try_get("expires_at")?,
        partial_enabled: row.try_get::<i64, _>("partial_enabled")? != 0,
        minimum_first: row.try_get("minimum_first")?,
        reusable: usage == "reusable",
        max_completions: max.map(|m| m as u32),
        completions: row.try_get::<i64, _>("completions")? as u32,
        notify_email: row.try_get::<i64, _>("notify_email")? != 0,
        reminders: json_column(row, "reminders")?.unwrap_or_default(),
        time_zone: row.try_get("time_zone")?,
        success_url: row.try_get("success_url")?,
        invoice: json_column(row, "invoice")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|_| corrupt("link metadata", &metadata))?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn notification_from_row(row: &AnyRow) -> StoreResult<Notification> {
    let status: String = row.try_get("status")?;
    let data: String = row.try_get("data")?;
    Ok(Notification {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        payment_link_id: row.try_get("payment_link_id")?,
        payment_id: row.try_get("payment_id")?,
        template: row.try_get("template")?,
        recipient: row.try_get("recipient")?,
        locale: row.try_get("locale")?,
        data: serde_json::from_str(&data).map_err(|_| corrupt("notification data", &data))?,
        status: NotificationStatus::parse(&status)
            .ok_or_else(|| corrupt("notification status", &status))?,
        send_at: row.try_get("send_at")?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        lease_until: row.try_get("lease_until")?,
        last_reply: row.try_get("last_reply")?,
        message_id: row.try_get("message_id")?,
        sent_at: row.try_get("sent_at")?,
        created: row.try_get("created")?,
    })
}

/// Inserts queued emails on `c`.
pub(super) async fn insert_notifications_on(
    c: &mut AnyConnection,
    notifications: &[Notification],
) -> StoreResult<()> {
    for n in notifications {
        sqlx::query(
            "INSERT INTO notifications (id, merchant_id, payment_link_id, payment_id, template,
                recipient, locale, data, status, send_at, attempts, lease_until, last_reply,
                message_id, sent_at, created)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&n.id)
        .bind(&n.merchant_id)
        .bind(&n.payment_link_id)
        .bind(&n.payment_id)
        .bind(&n.template)
        .bind(&n.recipient)
        .bind(&n.locale)
        .bind(n.data.to_string())
        .bind(n.status.as_str())
        .bind(n.send_at)
        .bind(i64::from(n.attempts))
        .bind(n.lease_until)
        .bind(&n.last_reply)
        .bind(&n.message_id)
        .bind(n.sent_at)
        .bind(n.created)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Cancels the reminders a link has not sent yet.
async fn cancel_reminders(c: &mut AnyConnection, link_id: &str, why: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE notifications SET status = 'canceled', last_reply = $1, lease_until = NULL
         WHERE payment_link_id = $2 AND template = 'reminder' AND status IN ('queued', 'deferred')",
    )
    .bind(why)
    .bind(link_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What else a payment that completed its session writes, on `c`: false if
/// the link it pays is no longer as the payment found it, or not open.
pub(super) async fn complete(
    c: &mut AnyConnection,
    also: &Completion,
    owner: &str,
) -> StoreResult<bool> {
    if let Some(lp) = &also.link
        && !pay_link(c, lp, owner).await?
    {
        return Ok(false);
    }
    insert_notifications_on(c, &also.notifications).await?;
    Ok(true)
}

/// The link's side of a payment that completed its session.
async fn pay_link(c: &mut AnyConnection, lp: &LinkPayment, owner: &str) -> StoreResult<bool> {
    let query = if lp.exact {
        sqlx::query(
            "UPDATE payment_links SET amount_paid = amount_paid + $1, completions = completions + 1,
                status = $2, pay_owner = NULL, pay_lease = NULL, updated = $3
             WHERE id = $4 AND status IN ('open', 'partially_paid') AND expires_at > $5
               AND amount_paid = $6 AND completions = $7
               AND (pay_owner IS NULL OR pay_owner = $8 OR pay_lease <= $9)",
        )
    } else {
        // A reusable link without a limit: payments do not wait for each
        // other, and only add up.
        sqlx::query(
            "UPDATE payment_links SET amount_paid = amount_paid + $1, completions = completions + 1,
                status = $2, updated = $3
             WHERE id = $4 AND status IN ('open', 'partially_paid') AND expires_at > $5",
        )
    };
    let query = query
        .bind(lp.amount)
        .bind(lp.status_after.as_str())
        .bind(lp.now)
        .bind(&lp.link_id)
        .bind(lp.now);
    let query = if lp.exact {
        query
            .bind(lp.paid_before)
            .bind(i64::from(lp.completions_before))
            .bind(owner)
            .bind(lp.now)
    } else {
        query
    };
    let changed = query.execute(&mut *c).await?.rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    if !lp.status_after.is_open() {
        cancel_reminders(c, &lp.link_id, "the link was paid").await?;
    }
    Ok(true)
}

#[async_trait]
impl LinkStore for SqlStore {
    async fn insert_link(
        &self,
        link: &PaymentLink,
        invoice_year: Option<i16>,
        then: LinkWrites,
    ) -> StoreResult<Option<PaymentLink>> {
        let (mut link, dialect, sealed) = (
            link.clone(),
            self.dialect,
            self.sealer.seal_str(LINK_TOKEN, &link.token),
        );
        let lease = self.fresh_lease();
        let made: Arc<Mutex<Option<PaymentLink>>> = Arc::default();
        let out = made.clone();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                if let (Some(year), Some(invoice)) = (invoice_year, link.invoice.as_mut()) {
                    let last: i64 = sqlx::query_scalar(
                        "INSERT INTO invoice_numbers (merchant_id, year, last) VALUES ($1, $2, 1)
                         ON CONFLICT (merchant_id, year) DO UPDATE SET last = invoice_numbers.last + 1
                         RETURNING last",
                    )
                    .bind(&link.merchant_id)
                    .bind(i64::from(year))
                    .fetch_one(&mut *c)
                    .await?;
                    invoice.number = format!("INV-{year}-{last:04}");
                }
                let inserted = sqlx::query(
                    "INSERT INTO payment_links (id, merchant_id, token_hash, token_sealed, status,
                        amount, amount_paid, currency, description, line_items, customer_id,
                        customer_email, customer_name, locale, merchant_reference, expires_at,
                        partial_enabled, minimum_first, usage, max_completions, completions,
                        notify_email, reminders, time_zone, success_url, invoice, metadata,
                        created, updated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&link.id)
                .bind(&link.merchant_id)
                .bind(&link.token_hash)
                .bind(sealed)
                .bind(link.status.as_str())
                .bind(link.amount)
                .bind(link.amount_paid)
                .bind(link.currency.code())
                .bind(&link.description)
                .bind(serde_json::to_string(&link.line_items).expect("items serialise"))
                .bind(&link.customer_id)
                .bind(&link.customer_email)
                .bind(&link.customer_name)
                .bind(&link.locale)
                .bind(&link.merchant_reference)
                .bind(link.expires_at)
                .bind(i64::from(link.partial_enabled))
                .bind(link.minimum_first)
                .bind(if link.reusable { "reusable" } else { "single" })
                .bind(link.max_completions.map(i64::from))
                .bind(i64::from(link.completions))
                .bind(i64::from(link.notify_email))
                .bind(serde_json::to_string(&link.reminders).expect("reminders serialise"))
                .bind(&link.time_zone)
                .bind(&link.success_url)
                .bind(
                    link.invoice
                        .as_ref()
                        .map(|i| serde_json::to_string(i).expect("invoice serialises")),
                )
                .bind(serde_json::to_string(&link.metadata).expect("metadata serialises"))
                .bind(link.created)
                .bind(link.updated)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if inserted != 1 {
                    // The reference is taken: the invoice number goes back.
                    return Ok(Done::Undone((false, Vec::new())));
                }
                let (events, notifications) = then(&link);
                insert_notifications_on(c, &notifications).await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                *out.lock().expect("not poisoned") = Some(link);
                Ok(Done::Kept((true, leased)))
            })
        })
        .await?;
        Ok(made.lock().expect("not poisoned").take())
    }

    async fn payment_link(&self, merchant_id: &str, id: &str) -> StoreResult<Option<PaymentLink>> {
        self.find_owned(
            "SELECT * FROM payment_links WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            |row| link_from_row(row, &self.sealer),
        )
        .await
    }

    async fn payment_link_by_token(&self, token_hash: &str) -> StoreResult<Option<PaymentLink>> {
        self.find_one(
            "SELECT * FROM payment_links WHERE token_hash = $1",
            token_hash,
            |row| link_from_row(row, &self.sealer),
        )
        .await
    }

    async fn list_payment_links(
        &self,
        merchant_id: &str,
        q: &LinkQuery,
    ) -> StoreResult<Vec<PaymentLink>> {
        let mut sql = String::from("SELECT * FROM payment_links WHERE merchant_id = ?");
        if q.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if q.customer.is_some() {
            sql.push_str(" AND customer_id = ?");
        }
        if q.merchant_reference.is_some() {
            sql.push_str(" AND merchant_reference = ?");
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM payment_links WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(status) = q.status {
            query = query.bind(status.as_str());
        }
        if let Some(customer) = &q.customer {
            query = query.bind(customer);
        }
        if let Some(reference) = &q.merchant_reference {
            query = query.bind(reference);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| link_from_row(row, &self.sealer))
            .collect()
    }

    async fn update_link(
        &self,
        link: &PaymentLink,
        updated_before: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        self.guarded_with_events(
            sqlx::query(
                "UPDATE payment_links SET description = $1, success_url = $2, metadata = $3, updated = $4
                 WHERE id = $5 AND merchant_id = $6 AND status IN ('open', 'partially_paid')
                   AND updated = $7",
            )
            .bind(link.description.clone())
            .bind(link.success_url.clone())
            .bind(serde_json::to_string(&link.metadata).expect("metadata serialises"))
            .bind(link.updated)
            .bind(link.id.clone())
            .bind(link.merchant_id.clone())
            .bind(updated_before),
            events,
        )
        .await
    }

    async fn end_link(
        &self,
        merchant_id: &str,
        id: &str,
        to: LinkStatus,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (id, merchant_id) = (id.to_owned(), merchant_id.to_owned());
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let ended = sqlx::query(
                    "UPDATE payment_links SET status = $1, updated = $2
                     WHERE id = $3 AND merchant_id = $4 AND status IN ('open', 'partially_paid')
                       AND (pay_lease IS NULL OR pay_lease <= $5)",
                )
                .bind(to.as_str())
                .bind(now)
                .bind(&id)
                .bind(&merchant_id)
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if ended != 1 {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                cancel_reminders(c, &id, &format!("the link was {}", to.as_str())).await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn replace_link_token(&self, link: &PaymentLink) -> StoreResult<bool> {
        let changed = self
            .exec(
                sqlx::query(
                    "UPDATE payment_links SET token_hash = $1, token_sealed = $2, updated = $3
                     WHERE id = $4 AND merchant_id = $5 AND status IN ('open', 'partially_paid')",
                )
                .bind(link.token_hash.clone())
                .bind(self.sealer.seal_str(LINK_TOKEN, &link.token))
                .bind(link.updated)
                .bind(link.id.clone())
                .bind(link.merchant_id.clone()),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn due_links(&self, now: i64) -> StoreResult<Vec<PaymentLink>> {
        sqlx::query(
            "SELECT * FROM payment_links WHERE status IN ('open', 'partially_paid')
               AND expires_at <= $1 AND (pay_lease IS NULL OR pay_lease <= $2) LIMIT 500",
        )
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| link_from_row(row, &self.sealer))
        .collect()
    }

    async fn claim_link(
        &self,
        id: &str,
        owner: &str,
        amount: i64,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        let claimed = self
            .exec(
                sqlx::query(
                    "UPDATE payment_links SET pay_owner = $1, pay_lease = $2
                     WHERE id = $3 AND status IN ('open', 'partially_paid') AND expires_at > $4
                       AND (pay_lease IS NULL OR pay_lease <= $5)
                       AND (usage = 'reusable' OR amount_paid + $6 <= amount)
                       AND (max_completions IS NULL OR completions < max_completions)",
                )
                .bind(owner.to_owned())
                .bind(lease_until)
                .bind(id.to_owned())
                .bind(now)
                .bind(now)
                .bind(amount),
            )
            .await?;
        Ok(claimed == 1)
    }

    async fn release_link(&self, id: &str, owner: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE payment_links SET pay_owner = NULL, pay_lease = NULL
                 WHERE id = $1 AND pay_owner = $2",
            )
            .bind(id.to_owned())
            .bind(owner.to_owned()),
        )
        .await?;
        Ok(())
    }

    async fn link_session(
        &self,
        link_id: &str,
        amount: i64,
        now: i64,
    ) -> StoreResult<Option<Session>> {
        sqlx::query(
            "SELECT * FROM checkout_sessions WHERE payment_link_id = $1 AND amount = $2
               AND status = 'open' AND expires_at > $3
             ORDER BY created DESC LIMIT 1",
        )
        .bind(link_id)
        .bind(amount)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(|row| session_from_row(row, &self.sealer))
        .transpose()
    }

    async fn insert_notifications(
        &self,
        notifications: &[Notification],
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let (notifications, events, dialect) =
            (notifications.to_vec(), events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                insert_notifications_on(c, &notifications).await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await?;
        Ok(())
    }

    async fn link_notifications(&self, link_id: &str) -> StoreResult<Vec<Notification>> {
        sqlx::query(
            "SELECT * FROM notifications WHERE payment_link_id = $1 ORDER BY created, rowid",
        )
        .bind(link_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(notification_from_row)
        .collect()
    }

    async fn release_notifications(&self, ids: &[String], now: i64) -> StoreResult<()> {
        for id in ids {
            // Not attempted: the claim counted an attempt, which is taken back.
            self.exec(
                sqlx::query(
                    "UPDATE notifications SET lease_until = $1, attempts = attempts - 1
                     WHERE id = $2 AND status = 'sending'",
                )
                .bind(now)
                .bind(id.clone()),
            )
            .await?;
        }
        Ok(())
    }

    async fn claim_notifications(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let candidates: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM notifications
             WHERE (status IN ('queued', 'deferred') AND send_at <= $1)
                OR (status = 'sending' AND lease_until <= $2)
             ORDER BY send_at LIMIT $3",
        )
        .bind(now)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for id in candidates {
            let row = self
                .writer
                .run(move |c| {
                    Box::pin(async move {
                        Ok(Done::Kept(
                            sqlx::query(
                                "UPDATE notifications SET status = 'sending', lease_until = $1,
                                    attempts = attempts + 1
                                 WHERE id = $2 AND ((status IN ('queued', 'deferred') AND send_at <= $3)
                                    OR (status = 'sending' AND lease_until <= $4))
                                 RETURNING *",
                            )
                            .bind(lease_until)
                            .bind(id)
                            .bind(now)
                            .bind(now)
                            .fetch_optional(&mut *c)
                            .await?,
                        ))
                    })
                })
                .await?;
            if let Some(row) = row {
                claimed.push(notification_from_row(&row)?);
            }
        }
        Ok(claimed)
    }

    async fn finish_notification(
        &self,
        n: &Notification,
        outcome: &Sent,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (status, reply, send_at, sent_at) = match outcome {
            Sent::Accepted { reply } => (NotificationStatus::Sent, reply, n.send_at, Some(now)),
            Sent::Deferred { reply, retry_at } => {
                (NotificationStatus::Deferred, reply, *retry_at, None)
            }
            Sent::Failed { reply } => (NotificationStatus::Failed, reply, n.send_at, None),
            Sent::Canceled { reason } => (NotificationStatus::Canceled, reason, n.send_at, None),
        };
        self.guarded_with_events(
            sqlx::query(
                "UPDATE notifications SET status = $1, last_reply = $2, send_at = $3, sent_at = $4,
                    lease_until = NULL
                 WHERE id = $5 AND status = 'sending' AND lease_until = $6",
            )
            .bind(status.as_str())
            .bind(reply.clone())
            .bind(send_at)
            .bind(sent_at)
            .bind(n.id.clone())
            .bind(n.lease_until),
            events,
        )
        .await
    }
}

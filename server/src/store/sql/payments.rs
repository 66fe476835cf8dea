//! Payments and their refunds: guarded changes, lookups and lists.

use super::*;
use crate::store::Completion;

#[async_trait]
impl PaymentStore for SqlStore {
    async fn payment(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Payment>> {
        self.find_owned(
            "SELECT * FROM payments WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            payment_from_row,
        )
        .await
    }

    async fn payment_awaiting_action(&self, id: &str) -> StoreResult<Option<Payment>> {
        self.find_one(
            "SELECT * FROM payments WHERE id = $1 AND status = 'requires_action'",
            id,
            payment_from_row,
        )
        .await
    }

    async fn session_payments(&self, session_id: &str) -> StoreResult<Vec<Payment>> {
        self.find_all(
            "SELECT * FROM payments WHERE session_id = $1 ORDER BY created DESC, rowid DESC",
            session_id,
            payment_from_row,
        )
        .await
    }

    async fn list_payments(
        &self,
        merchant_id: &str,
        q: &PaymentQuery,
    ) -> StoreResult<Vec<Payment>> {
        // Newest first; the cursor is the (created, rowid) of `starting_after`.
        let mut sql = String::from("SELECT * FROM payments WHERE merchant_id = ?");
        if q.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if q.order_reference.is_some() {
            sql.push_str(" AND order_reference = ?");
        }
        if q.created_gte.is_some() {
            sql.push_str(" AND created >= ?");
        }
        if q.created_lt.is_some() {
            sql.push_str(" AND created < ?");
        }
        if q.payment_link.is_some() {
            sql.push_str(
                " AND session_id IN (SELECT id FROM checkout_sessions WHERE payment_link_id = ?)",
            );
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM payments WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(status) = q.status {
            query = query.bind(status.as_str());
        }
        if let Some(reference) = &q.order_reference {
            query = query.bind(reference);
        }
        if let Some(t) = q.created_gte {
            query = query.bind(t);
        }
        if let Some(t) = q.created_lt {
            query = query.bind(t);
        }
        if let Some(link) = &q.payment_link {
            query = query.bind(link);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(payment_from_row)
            .collect()
    }

    async fn change_payment(&self, c: &PaymentChange) -> StoreResult<bool> {
        let (c, dialect) = (c.clone(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |conn| {
            Box::pin(async move {
                let changed = sqlx::query("UPDATE payments SET status = $1, amount_captured = $2, amount_refunded = $3, updated = $4
                     WHERE id = $5 AND status = $6 AND amount_captured = $7 AND amount_refunded = $8")
                .bind(c.to.status.as_str())
                .bind(c.to.amount_captured)
                .bind(c.to.amount_refunded)
                .bind(c.now)
                .bind(&c.payment_id)
                .bind(c.from.status.as_str())
                .bind(c.from.amount_captured)
                .bind(c.from.amount_refunded)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if changed != 1 {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                if let Some(r) = &c.refund {
                    sqlx::query(
                        "INSERT INTO refunds (id, payment_id, merchant_id, amount, currency, status, reason, created)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&r.id)
                    .bind(&r.payment_id)
                    .bind(&r.merchant_id)
                    .bind(r.amount)
                    .bind(r.currency.code())
                    .bind(r.status.as_str())
                    .bind(&r.reason)
                    .bind(r.created)
                    .execute(&mut *conn)
                    .await?;
                }
                super::ledger::sync(conn, &c.payment_id, c.now).await?;
                let leased = insert_events(dialect, conn, &c.events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn finish_action(
        &self,
        after: &Payment,
        completes_session: bool,
        now: i64,
        events: &[NewEvent],
        also: Option<&Completion>,
    ) -> StoreResult<bool> {
        // The guarded write comes first: it decides which of two racing
        // finishes wins, and SQLite never has to upgrade a read to a write.
        let (after, mut events, dialect) = (after.clone(), events.to_vec(), self.dialect);
        let also = also.filter(|_| completes_session).cloned();
        events.extend(also.iter().flat_map(|a| a.events.clone()));
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let Some(row) = sqlx::query(
                    "UPDATE payments SET status = $1, decline_code = $2, action_token = NULL, updated = $3,
                        amount_captured = $4
                     WHERE id = $5 AND status = 'requires_action'
                     RETURNING session_id",
                )
                .bind(after.status.as_str())
                .bind(after.decline_code.map(DeclineCode::as_str))
                .bind(now)
                .bind(after.amount_captured)
                .bind(&after.id)
                .fetch_optional(&mut *c)
                .await?
                else {
                    return Ok(Done::Kept((false, Vec::new())));
                };
                let session_id: Option<String> = row.try_get("session_id")?;
                if let Some(session_id) = session_id.filter(|_| completes_session) {
                    let completed = sqlx::query(
                        "UPDATE checkout_sessions SET status = 'complete', payment_id = $1
                         WHERE id = $2 AND status = 'open' AND expires_at > $3",
                    )
                    .bind(&after.id)
                    .bind(session_id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
                    if completed != 1 {
                        // The payment stays as it was.
                        return Ok(Done::Undone((false, Vec::new())));
                    }
                    if let Some(also) = &also
                        && !super::links::complete(c, also, &after.id).await?
                    {
                        return Ok(Done::Undone((false, Vec::new())));
                    }
                }
                super::ledger::sync(c, &after.id, now).await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn mark_validated(&self, payment_id: &str, now: i64) -> StoreResult<bool> {
        let first = self
            .exec(
                sqlx::query(
                    "UPDATE payments SET validated = $1 WHERE id = $2 AND validated IS NULL",
                )
                .bind(now)
                .bind(payment_id.to_owned()),
            )
            .await?;
        Ok(first == 1)
    }

    async fn refund(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Refund>> {
        self.find_owned(
            "SELECT * FROM refunds WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            refund_from_row,
        )
        .await
    }

    async fn payment_refunds(&self, payment_id: &str) -> StoreResult<Vec<Refund>> {
        self.find_all(
            "SELECT * FROM refunds WHERE payment_id = $1 ORDER BY created, rowid",
            payment_id,
            refund_from_row,
        )
        .await
    }

    async fn stale_authorizations(&self, cutoff: i64) -> StoreResult<Vec<Payment>> {
        sqlx::query(
            "SELECT * FROM payments WHERE status = 'requires_capture' AND created < $1 LIMIT 500",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payment_from_row)
        .collect()
    }
}

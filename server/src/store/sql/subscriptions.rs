//! Subscriptions and their cycles: each cycle claimed by a guarded write,
//! as webhook deliveries are, so that several instances charge it once.

use super::*;
use crate::store::{
    CycleClaim, CycleOutcome, Subscription, SubscriptionChange, SubscriptionStatus,
    SubscriptionStore,
};

fn subscription_from_row(row: &AnyRow) -> StoreResult<Subscription> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    let end: Option<i64> = row.try_get("end_after_cycles")?;
    Ok(Subscription {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        customer_id: row.try_get("customer_id")?,
        payment_method_id: row.try_get("payment_method_id")?,
        mandate_id: row.try_get("mandate_id")?,
        amount: row.try_get("amount")?,
        currency: currency(row)?,
        description: row.try_get("description")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|_| corrupt("subscription metadata", &metadata))?,
        interval_unit: row.try_get("interval_unit")?,
        interval_count: small(row, "interval_count")?,
        time_zone: row.try_get("time_zone")?,
        first_local: row.try_get("first_local")?,
        anchor_day: small(row, "anchor_day")?,
        end_after_cycles: end
            .map(|e| u32::try_from(e).map_err(|_| corrupt("end_after_cycles", &e.to_string())))
            .transpose()?,
        status: SubscriptionStatus::parse(&status)
            .ok_or_else(|| corrupt("subscription status", &status))?,
        next_cycle: small(row, "next_cycle")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        cycles_paid: small(row, "cycles_paid")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

#[async_trait]
impl SubscriptionStore for SqlStore {
    async fn insert_subscription(&self, s: &Subscription, events: &[NewEvent]) -> StoreResult<()> {
        let (s, events, dialect) = (s.clone(), events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO subscriptions (id, merchant_id, customer_id, payment_method_id,
                        mandate_id, amount, currency, description, metadata, interval_unit,
                        interval_count, time_zone, first_local, anchor_day, end_after_cycles,
                        status, next_cycle, next_attempt_at, cycles_paid, created, updated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        $16, $17, $18, $19, $20, $21)",
                )
                .bind(&s.id)
                .bind(&s.merchant_id)
                .bind(&s.customer_id)
                .bind(&s.payment_method_id)
                .bind(&s.mandate_id)
                .bind(s.amount)
                .bind(s.currency.code())
                .bind(&s.description)
                .bind(serde_json::to_string(&s.metadata).expect("metadata serialises"))
                .bind(&s.interval_unit)
                .bind(i64::from(s.interval_count))
                .bind(&s.time_zone)
                .bind(&s.first_local)
                .bind(i64::from(s.anchor_day))
                .bind(s.end_after_cycles.map(i64::from))
                .bind(s.status.as_str())
                .bind(i64::from(s.next_cycle))
                .bind(s.next_attempt_at)
                .bind(i64::from(s.cycles_paid))
                .bind(s.created)
                .bind(s.updated)
                .execute(&mut *c)
                .await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await?;
        Ok(())
    }

    async fn subscription(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Subscription>> {
        self.find_owned(
            "SELECT * FROM subscriptions WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            subscription_from_row,
        )
        .await
    }

    async fn list_subscriptions(
        &self,
        merchant_id: &str,
        customer: Option<&str>,
        starting_after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Subscription>> {
        let mut sql = String::from("SELECT * FROM subscriptions WHERE merchant_id = ?");
        if customer.is_some() {
            sql.push_str(" AND customer_id = ?");
        }
        if starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM subscriptions WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(customer) = customer {
            query = query.bind(customer);
        }
        if let Some(after) = starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(subscription_from_row)
            .collect()
    }

    async fn due_subscriptions(&self, now: i64, limit: u32) -> StoreResult<Vec<Subscription>> {
        sqlx::query(
            "SELECT * FROM subscriptions WHERE status IN ('active', 'past_due')
               AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(subscription_from_row)
        .collect()
    }

    async fn claim_cycle(
        &self,
        subscription_id: &str,
        number: u32,
        due_at: i64,
        now: i64,
        lease_until: i64,
        owner: &str,
        fresh_payment_id: &str,
    ) -> StoreResult<Option<CycleClaim>> {
        let (id, owner, fresh) = (
            subscription_id.to_owned(),
            owner.to_owned(),
            fresh_payment_id.to_owned(),
        );
        let number = i64::from(number);
        self.atomic(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO subscription_cycles (subscription_id, number, due_at, status, attempts, next_attempt_at)
                     VALUES ($1, $2, $3, 'waiting', 0, $4) ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(number)
                .bind(due_at)
                .bind(due_at)
                .execute(&mut *c)
                .await?;
                // Waiting and due: a fresh attempt. Held by an instance
                // whose lease ran out: the same attempt, to be asked about.
                let claimed = sqlx::query(
                    "UPDATE subscription_cycles SET
                        attempts = CASE WHEN status = 'charging' THEN attempts ELSE attempts + 1 END,
                        payment_id = CASE WHEN status = 'charging' THEN payment_id ELSE $1 END,
                        status = 'charging', lease_until = $2, lease_owner = $3
                     WHERE subscription_id = $4 AND number = $5
                       AND ((status IN ('waiting', 'retrying') AND next_attempt_at <= $6)
                            OR (status = 'charging' AND lease_until <= $7))
                       AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = $8
                            AND s.status IN ('active', 'past_due') AND s.next_cycle = $9)
                     RETURNING payment_id, attempts",
                )
                .bind(&fresh)
                .bind(lease_until)
                .bind(&owner)
                .bind(&id)
                .bind(number)
                .bind(now)
                .bind(now)
                .bind(&id)
                .bind(number)
                .fetch_optional(&mut *c)
                .await?;
                let Some(row) = claimed else {
                    return Ok(Done::Kept(None));
                };
                let payment_id: String = row.try_get("payment_id")?;
                Ok(Done::Kept(Some(CycleClaim {
                    recovering: payment_id != fresh,
                    attempts: small(&row, "attempts")?,
                    payment_id,
                })))
            })
        })
        .await
    }

    async fn finish_cycle(&self, o: &CycleOutcome) -> StoreResult<bool> {
        let (o, dialect) = (o.clone(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let held = sqlx::query(
                    "UPDATE subscription_cycles SET status = $1, next_attempt_at = $2,
                        last_decline = $3, lease_until = NULL, lease_owner = NULL
                     WHERE subscription_id = $4 AND number = $5 AND status = 'charging'
                       AND lease_owner = $6",
                )
                .bind(o.cycle_status)
                .bind(o.cycle_next_attempt_at)
                .bind(&o.last_decline)
                .bind(&o.subscription_id)
                .bind(i64::from(o.number))
                .bind(&o.owner)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if held != 1 {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                if let Some(payment) = &o.payment {
                    super::sessions::payment_insert(payment)
                        .execute(&mut *c)
                        .await?;
                    super::ledger::new_payment(c, payment, o.now).await?;
                }
                sqlx::query(
                    "UPDATE subscriptions SET status = $1, next_cycle = $2, next_attempt_at = $3,
                        cycles_paid = cycles_paid + $4, updated = $5
                     WHERE id = $6 AND next_cycle = $7 AND status IN ('active', 'past_due')",
                )
                .bind(o.status.as_str())
                .bind(i64::from(o.next_cycle))
                .bind(o.next_attempt_at)
                .bind(i64::from(o.paid))
                .bind(o.now)
                .bind(&o.subscription_id)
                .bind(i64::from(o.number))
                .execute(&mut *c)
                .await?;
                let leased = insert_events(dialect, c, &o.events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn change_subscription(&self, ch: &SubscriptionChange) -> StoreResult<bool> {
        self.guarded_with_events(
            sqlx::query(
                "UPDATE subscriptions SET status = $1, next_cycle = $2, next_attempt_at = $3,
                    updated = $4
                 WHERE id = $5 AND merchant_id = $6 AND status = $7",
            )
            .bind(ch.to.as_str())
            .bind(i64::from(ch.next_cycle))
            .bind(ch.next_attempt_at)
            .bind(ch.now)
            .bind(ch.id.clone())
            .bind(ch.merchant_id.clone())
            .bind(ch.from.as_str()),
            &ch.events,
        )
        .await
    }

    async fn record_sandbox_authorization(
        &self,
        reference: &str,
        outcome: &str,
        amount: i64,
        currency: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sandbox_authorizations (reference, outcome, amount, currency, created)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(reference.to_owned())
            .bind(outcome.to_owned())
            .bind(amount)
            .bind(currency.to_owned())
            .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn sandbox_authorization(&self, reference: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT outcome FROM sandbox_authorizations WHERE reference = $1
                 ORDER BY created DESC LIMIT 1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?)
    }
}

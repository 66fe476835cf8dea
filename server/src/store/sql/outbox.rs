//! Webhook endpoints, events, and the outbox of their deliveries.

use super::*;

#[async_trait]
impl OutboxStore for SqlStore {
    async fn insert_endpoint(&self, e: &WebhookEndpoint) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, merchant_id, url, enabled_events, secret, created)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(e.id.clone())
            .bind(e.merchant_id.clone())
            .bind(e.url.clone())
            .bind(
                e.enabled_events
                    .as_ref()
                    .map(|v| serde_json::to_string(v).expect("strings")),
            )
            .bind(self.sealer.seal_str(ENDPOINT_SECRET, &e.secret))
            .bind(e.created),
        )
        .await?;
        self.cache.forget_endpoints(&e.merchant_id);
        Ok(())
    }

    async fn endpoints(&self, merchant_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
        if let Some(kept) = self.cache.endpoints(merchant_id) {
            return Ok(kept);
        }
        let read = self.cache.begin_read();
        let endpoints = self.find_all("SELECT * FROM webhook_endpoints WHERE merchant_id = $1 AND deleted IS NULL ORDER BY created, rowid", merchant_id, |row| endpoint_from_row(row, &self.sealer)).await?;
        self.cache.keep_endpoints(read, merchant_id, &endpoints);
        Ok(endpoints)
    }

    async fn endpoint(&self, merchant_id: &str, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(self
            .endpoints(merchant_id)
            .await?
            .into_iter()
            .find(|e| e.id == id))
    }

    async fn delete_endpoint(&self, id: &str, merchant_id: &str, now: i64) -> StoreResult<bool> {
        let (id, owner) = (id.to_owned(), merchant_id.to_owned());
        let deleted = self.atomic(move |c| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET deleted = $1 WHERE id = $2 AND merchant_id = $3 AND deleted IS NULL",
                )
                .bind(now)
                .bind(&id)
                .bind(&owner)
                .execute(&mut *c)
                .await?;
                // What was still due to it goes nowhere now; it stays listed,
                // failed, and can be resent to the endpoints the merchant has.
                sqlx::query(
                    "UPDATE deliveries SET status = 'failed', lease_until_ms = NULL
                     WHERE endpoint_id = $1 AND status = 'pending'",
                )
                .bind(&id)
                .execute(&mut *c)
                .await?;
                Ok(Done::Kept(done.rows_affected() == 1))
            })
        })
        .await;
        // Forgotten once the change is committed, as after any other write:
        // forgotten before, a read in between (the webhook worker's, say)
        // could keep the endpoint as it was, and it would stay listed.
        self.cache.forget_endpoints(merchant_id);
        deleted
    }

    async fn rotate_endpoint_secret(
        &self,
        id: &str,
        merchant_id: &str,
        secret: &str,
        old_until: i64,
    ) -> StoreResult<bool> {
        let done = self
            .exec(
                sqlx::query(
                    "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires = $1, secret = $2
                     WHERE id = $3 AND merchant_id = $4 AND deleted IS NULL",
                )
                .bind(old_until)
                .bind(self.sealer.seal_str(ENDPOINT_SECRET, secret))
                .bind(id.to_owned())
                .bind(merchant_id.to_owned()),
            )
            .await?;
        self.cache.forget_endpoints(merchant_id);
        Ok(done == 1)
    }

    async fn event(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Event>> {
        self.find_owned(
            "SELECT * FROM events WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            event_from_row,
        )
        .await
    }

    async fn list_events(&self, merchant_id: &str, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let mut sql = String::from("SELECT * FROM events WHERE merchant_id = ?");
        if q.kind.is_some() {
            sql.push_str(" AND type = ?");
        }
        if q.payment_id.is_some() {
            sql.push_str(" AND payment_id = ?");
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM events WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(kind) = &q.kind {
            query = query.bind(kind.as_str());
        }
        if let Some(payment_id) = &q.payment_id {
            query = query.bind(payment_id);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    async fn event_deliveries(&self, event_id: &str) -> StoreResult<Vec<Delivery>> {
        self.find_all(
            "SELECT * FROM deliveries WHERE event_id = $1 ORDER BY created_ms, rowid",
            event_id,
            delivery_from_row,
        )
        .await
    }

    async fn event_attempts(&self, event_id: &str) -> StoreResult<Vec<Attempt>> {
        let rows =
            sqlx::query("SELECT * FROM delivery_attempts WHERE event_id = $1 ORDER BY rowid")
                .bind(event_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let status: Option<i64> = row.try_get("http_status")?;
                Ok(Attempt {
                    delivery_id: row.try_get("delivery_id")?,
                    event_id: row.try_get("event_id")?,
                    attempted: row.try_get("attempted")?,
                    http_status: status.and_then(|s| u16::try_from(s).ok()),
                    latency_ms: row.try_get("latency_ms")?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    async fn resend_event(&self, event: &Event, due_ms: i64) -> StoreResult<u64> {
        let (event, dialect) = (event.clone(), self.dialect);
        self.atomic(move |c| {
            Box::pin(async move {
                let created = fan_out(
                    dialect,
                    c,
                    &event.id,
                    &event.merchant_id,
                    event.kind.as_str(),
                    event.notification_url.as_deref(),
                    due_ms,
                    None,
                )
                .await?;
                Ok(Done::Kept(created.len() as u64))
            })
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        claim: &Claim,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let in_flight = serde_json::to_string(&claim.in_flight).expect("counts");
        let merchants_in_flight =
            serde_json::to_string(&claim.in_flight_merchants).expect("counts");
        let claim_sql = self.dialect.claim_deliveries();
        let per_url = i64::from(claim.per_url);
        // One bind order for both dialects: the statements number their
        // parameters alike.
        let query = sqlx::query(claim_sql)
            .bind(lease_until_ms)
            .bind(now_ms)
            .bind(in_flight)
            .bind(per_url)
            .bind(CLAIM_CANDIDATES)
            .bind(i64::from(claim.total))
            .bind(merchants_in_flight)
            .bind(i64::from(claim.per_merchant));
        let rows = self
            .writer
            .run(move |c| Box::pin(async move { Ok(Done::Kept(query.fetch_all(&mut *c).await?)) }))
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let delivery = delivery_from_row(row)?;
            let event = self
                .event(&delivery.merchant_id, &delivery.event_id)
                .await?
                .ok_or_else(|| corrupt("delivery without event", &delivery.id))?;
            let Some(secrets) = self.delivery_secrets(&delivery, now_ms).await? else {
                // Deleted while this delivery was being claimed.
                self.exec(
                    sqlx::query(
                        "UPDATE deliveries SET status = 'failed', lease_until_ms = NULL
                         WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(delivery.id.clone()),
                )
                .await?;
                continue;
            };
            claimed.push(ClaimedDelivery {
                delivery,
                event,
                secrets,
            });
        }
        Ok(claimed)
    }

    fn dispatch_after_commit(
        &self,
        sink: tokio::sync::mpsc::UnboundedSender<Leased>,
        lease_ms: i64,
    ) {
        let _ = self.dispatch.set(Dispatch { sink, lease_ms });
    }

    async fn ready_to_send(
        &self,
        leased: Leased,
        now_ms: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let mut ready = Vec::with_capacity(leased.len());
        for (delivery, event) in leased {
            if let Some(secrets) = self.delivery_secrets(&delivery, now_ms).await? {
                ready.push(ClaimedDelivery {
                    delivery,
                    event,
                    secrets,
                });
            }
        }
        Ok(ready)
    }

    async fn release_deliveries(&self, ids: &[String]) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.atomic(move |c| {
            Box::pin(async move {
                for id in &ids {
                    sqlx::query(
                        "UPDATE deliveries SET lease_until_ms = NULL WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                }
                Ok(Done::Kept(()))
            })
        })
        .await
    }

    async fn record_attempts(&self, batch: &[(Attempt, AttemptResult)]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (batch, dialect) = (batch.to_vec(), self.dialect);
        self.atomic(move |c| {
            Box::pin(async move {
                if dialect == Dialect::Postgres {
                    // An attempt lost to a crash only means the event is
                    // delivered again, which at-least-once allows: these
                    // commits need not wait for the disk.
                    sqlx::query("SET LOCAL synchronous_commit = off")
                        .execute(&mut *c)
                        .await?;
                }
                // A few statements for the whole batch: one insert of every
                // attempt, one update for each final status, and one for
                // each retry (its own time).
                for chunk in batch.chunks(100) {
                    let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                    let sql = numbered(&format!(
                        "INSERT INTO delivery_attempts (delivery_id, event_id, attempted, http_status, latency_ms, error)
                         VALUES {values}"
                    ));
                    let mut insert = sqlx::query(&sql);
                    for (a, _) in chunk {
                        insert = insert
                            .bind(&a.delivery_id)
                            .bind(&a.event_id)
                            .bind(a.attempted)
                            .bind(a.http_status.map(i64::from))
                            .bind(a.latency_ms)
                            .bind(&a.error);
                    }
                    insert.execute(&mut *c).await?;
                    for status in ["delivered", "failed"] {
                        let ids: Vec<&str> = chunk
                            .iter()
                            .filter(|(_, r)| match r {
                                AttemptResult::Delivered => status == "delivered",
                                AttemptResult::GiveUp => status == "failed",
                                AttemptResult::RetryAt(_) => false,
                            })
                            .map(|(a, _)| a.delivery_id.as_str())
                            .collect();
                        if ids.is_empty() {
                            continue;
                        }
                        let sql = numbered(&format!(
                            "UPDATE deliveries SET status = ?, attempts = attempts + 1, lease_until_ms = NULL
                             WHERE id IN ({})",
                            vec!["?"; ids.len()].join(", ")
                        ));
                        let mut update = sqlx::query(&sql).bind(status);
                        for id in ids {
                            update = update.bind(id);
                        }
                        update.execute(&mut *c).await?;
                    }
                    for (a, result) in chunk {
                        let AttemptResult::RetryAt(next) = result else {
                            continue;
                        };
                        sqlx::query(
                            "UPDATE deliveries SET status = 'pending', attempts = attempts + 1,
                                next_attempt_ms = $1, lease_until_ms = NULL
                             WHERE id = $2",
                        )
                        .bind(*next)
                        .bind(&a.delivery_id)
                        .execute(&mut *c)
                        .await?;
                    }
                }
                Ok(Done::Kept(()))
            })
        })
        .await
    }
}

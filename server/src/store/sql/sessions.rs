//! Checkout sessions, and the lease one confirm holds on a session.

use super::*;

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO checkout_sessions (id, merchant_id, client_secret, status, amount, currency,
                success_url, cancel_url, fail_url, order_reference, customer_name, customer_email,
                metadata, payment_id, created, expires_at, capture_method, notification_url, appearance, locale, surface, card_rules)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(&s.id)
        .bind(&s.merchant_id)
        .bind(self.sealer.seal_str(CLIENT_SECRET, &s.client_secret))
        .bind(s.status.as_str())
        .bind(s.amount)
        .bind(s.currency.code())
        .bind(&s.success_url)
        .bind(&s.cancel_url)
        .bind(&s.fail_url)
        .bind(&s.order_reference)
        .bind(&s.customer_name)
        .bind(&s.customer_email)
        .bind(serde_json::to_string(&s.metadata).expect("metadata serialises"))
        .bind(&s.payment_id)
        .bind(s.created)
        .bind(s.expires_at)
        .bind(s.capture_method.as_str())
        .bind(&s.notification_url)
        .bind(s.appearance.as_ref().and_then(appearance_json))
        .bind(s.locale.as_str())
        .bind(s.surface.as_str())
        .bind(
            s.card_rules
                .as_ref()
                .map(|r| serde_json::to_string(r).expect("rules serialise")),
        )
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn session(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Session>> {
        self.find_owned(
            "SELECT * FROM checkout_sessions WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            |row| session_from_row(row, &self.sealer),
        )
        .await
    }

    async fn session_for_payer(&self, id: &str) -> StoreResult<Option<Session>> {
        self.find_one("SELECT * FROM checkout_sessions WHERE id = $1", id, |row| {
            session_from_row(row, &self.sealer)
        })
        .await
    }

    async fn claim_session_for_confirm(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<ConfirmClaim> {
        let claimed = sqlx::query(
            "UPDATE checkout_sessions SET confirm_lease = $1, confirm_lease_owner = $2
             WHERE id = $3 AND status = 'open' AND expires_at > $4
               AND (confirm_lease IS NULL OR confirm_lease <= $5)",
        )
        .bind(lease_until)
        .bind(owner)
        .bind(id)
        .bind(now)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(ConfirmClaim::Claimed);
        }
        let open = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM checkout_sessions WHERE id = $1 AND status = 'open' AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(if open == 1 {
            ConfirmClaim::InProgress
        } else {
            ConfirmClaim::NotOpen
        })
    }

    async fn finish_confirm(
        &self,
        p: &Payment,
        completes: bool,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO payments (id, merchant_id, session_id, amount, currency, status, card_brand,
                card_bin, card_last4, card_exp_month, card_exp_year, card_fingerprint,
                cardholder_name, decline_code, authorization_code, created, capture_method,
                amount_captured, amount_refunded, action_token, validated, updated, order_reference, channel)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
        )
        .bind(&p.id)
        .bind(&p.merchant_id)
        .bind(&p.session_id)
        .bind(p.amount)
        .bind(p.currency.code())
        .bind(p.status.as_str())
        .bind(p.card_brand.as_str())
        .bind(&p.card_bin)
        .bind(&p.card_last4)
        .bind(i64::from(p.card_exp_month))
        .bind(i64::from(p.card_exp_year))
        .bind(&p.card_fingerprint)
        .bind(&p.cardholder_name)
        .bind(p.decline_code.map(DeclineCode::as_str))
        .bind(&p.authorization_code)
        .bind(p.created)
        .bind(p.capture_method.as_str())
        .bind(p.amount_captured)
        .bind(p.amount_refunded)
        .bind(&p.action_token)
        .bind(p.validated)
        .bind(p.updated)
        .bind(&p.order_reference)
        .bind(p.channel.as_str())
        .execute(&mut *tx)
        .await?;
        if let Some(session_id) = &p.session_id {
            let updated = if completes {
                sqlx::query(
                    "UPDATE checkout_sessions SET status = 'complete', payment_id = $1,
                        confirm_lease = NULL, confirm_lease_owner = NULL
                     WHERE id = $2 AND status = 'open' AND confirm_lease_owner = $3",
                )
                .bind(&p.id)
                .bind(session_id)
                .bind(&p.id)
                .execute(&mut *tx)
                .await?
            } else {
                sqlx::query(
                    "UPDATE checkout_sessions SET confirm_lease = NULL, confirm_lease_owner = NULL
                     WHERE id = $1 AND confirm_lease_owner = $2",
                )
                .bind(session_id)
                .bind(&p.id)
                .execute(&mut *tx)
                .await?
            };
            if updated.rows_affected() != 1 {
                // The lease is no longer this payment's: write nothing.
                tx.rollback().await?;
                return Ok(false);
            }
        }
        insert_events(self.dialect, &mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn release_confirm(&self, session_id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE checkout_sessions SET confirm_lease = NULL, confirm_lease_owner = NULL
             WHERE id = $1 AND confirm_lease_owner = $2",
        )
        .bind(session_id)
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn expire_session(
        &self,
        id: &str,
        merchant_id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE checkout_sessions SET status = 'expired',
                expires_at = CASE WHEN expires_at < $1 THEN expires_at ELSE $2 END
             WHERE id = $3 AND merchant_id = $4 AND status = 'open'
               AND (confirm_lease IS NULL OR confirm_lease <= $5)",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(merchant_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(self.dialect, &mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn due_sessions(&self, now: i64) -> StoreResult<Vec<Session>> {
        sqlx::query(
            "SELECT * FROM checkout_sessions WHERE status = 'open' AND expires_at <= $1
               AND (confirm_lease IS NULL OR confirm_lease <= $2) LIMIT 500",
        )
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| session_from_row(row, &self.sealer))
        .collect()
    }
}

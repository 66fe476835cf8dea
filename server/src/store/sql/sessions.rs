//! Checkout sessions, and the lease one confirm holds on a session.

use super::*;
use crate::store::Completion;

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        self.exec(session_insert(s, &self.sealer)).await?;
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
        let claimed = self
            .exec(
                sqlx::query(
                    "UPDATE checkout_sessions SET confirm_lease = $1, confirm_lease_owner = $2
                     WHERE id = $3 AND status = 'open' AND expires_at > $4
                       AND (confirm_lease IS NULL OR confirm_lease <= $5)",
                )
                .bind(lease_until)
                .bind(owner.to_owned())
                .bind(id.to_owned())
                .bind(now)
                .bind(now),
            )
            .await?;
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
        also: Option<&Completion>,
    ) -> StoreResult<bool> {
        let (p, mut events, dialect) = (p.clone(), events.to_vec(), self.dialect);
        let also = also.filter(|_| completes).cloned();
        events.extend(also.iter().flat_map(|a| a.events.clone()));
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                // The lease is checked first: if it is no longer this
                // payment's, nothing is written.
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
                        .execute(&mut *c)
                        .await?
                    } else {
                        sqlx::query(
                            "UPDATE checkout_sessions SET confirm_lease = NULL, confirm_lease_owner = NULL
                             WHERE id = $1 AND confirm_lease_owner = $2",
                        )
                        .bind(session_id)
                        .bind(&p.id)
                        .execute(&mut *c)
                        .await?
                    };
                    if updated.rows_affected() != 1 {
                        return Ok(Done::Undone((false, Vec::new())));
                    }
                }
                if let Some(also) = &also
                    && !super::links::complete(c, also, &p.id).await?
                {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                payment_insert(&p).execute(&mut *c).await?;
                super::ledger::new_payment(c, &p, p.updated).await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn release_confirm(&self, session_id: &str, owner: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE checkout_sessions SET confirm_lease = NULL, confirm_lease_owner = NULL
                 WHERE id = $1 AND confirm_lease_owner = $2",
            )
            .bind(session_id.to_owned())
            .bind(owner.to_owned()),
        )
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
        let (id, merchant_id) = (id.to_owned(), merchant_id.to_owned());
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE checkout_sessions SET status = 'expired',
                        expires_at = CASE WHEN expires_at < $1 THEN expires_at ELSE $2 END
                     WHERE id = $3 AND merchant_id = $4 AND status = 'open'
                       AND (confirm_lease IS NULL OR confirm_lease <= $5)",
                )
                .bind(now)
                .bind(now)
                .bind(&id)
                .bind(&merchant_id)
                .bind(now)
                .execute(&mut *c)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
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

/// The insert of a new session, every value owned.
pub(crate) fn session_insert(s: &Session, sealer: &Sealer) -> Owned {
    sqlx::query(
        "INSERT INTO checkout_sessions (id, merchant_id, client_secret, status, amount, currency,
            success_url, cancel_url, fail_url, order_reference, customer_name, customer_email,
            metadata, payment_id, created, expires_at, capture_method, notification_url, appearance, locale, surface, card_rules,
            customer_id, save_card, future_usage, mandate_options, payment_link_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
            $23, $24, $25, $26, $27)",
    )
    .bind(s.id.clone())
    .bind(s.merchant_id.clone())
    .bind(sealer.seal_str(CLIENT_SECRET, &s.client_secret))
    .bind(s.status.as_str())
    .bind(s.amount)
    .bind(s.currency.code())
    .bind(s.success_url.clone())
    .bind(s.cancel_url.clone())
    .bind(s.fail_url.clone())
    .bind(s.order_reference.clone())
    .bind(s.customer_name.clone())
    .bind(s.customer_email.clone())
    .bind(serde_json::to_string(&s.metadata).expect("metadata serialises"))
    .bind(s.payment_id.clone())
    .bind(s.created)
    .bind(s.expires_at)
    .bind(s.capture_method.as_str())
    .bind(s.notification_url.clone())
    .bind(s.appearance.as_ref().and_then(appearance_json))
    .bind(s.locale.as_str())
    .bind(s.surface.as_str())
    .bind(
        s.card_rules
            .as_ref()
            .map(|r| serde_json::to_string(r).expect("rules serialise")),
    )
    .bind(s.customer_id.clone())
    .bind(s.save_card.as_str())
    .bind(s.future_usage.as_str())
    .bind(
        s.mandate_options
            .as_ref()
            .map(|o| serde_json::to_string(o).expect("options serialise")),
    )
    .bind(s.payment_link_id.clone())
}

/// The insert of a payment attempt's record.
pub(super) fn payment_insert(p: &Payment) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
    sqlx::query(
        "INSERT INTO payments (id, merchant_id, session_id, amount, currency, status, card_brand,
            card_bin, card_last4, card_exp_month, card_exp_year, card_fingerprint,
            cardholder_name, decline_code, authorization_code, created, capture_method,
            amount_captured, amount_refunded, action_token, validated, updated, order_reference, channel,
            customer_id, payment_method_id, mandate_id, off_session, recovery_session_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
            $25, $26, $27, $28, $29)",
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
    .bind(&p.customer_id)
    .bind(&p.payment_method_id)
    .bind(&p.mandate_id)
    .bind(i64::from(p.off_session))
    .bind(&p.recovery_session_id)
}

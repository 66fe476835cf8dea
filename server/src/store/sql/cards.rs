//! Saved cards and what goes with them: the vault's rows (the wrapped data
//! keys and the sealed card numbers), the cards, their update links, and
//! the mandates under which they are charged.

use kasse_core::api::FutureUsage;

use super::*;
use crate::store::{
    Activated, CardStore, CardUpdate, Mandate, MandateStatus, PaymentMethod, PaymentMethodStatus,
    PendingCard, WrappedKey,
};

fn payment_method_from_row(row: &AnyRow) -> StoreResult<PaymentMethod> {
    let status: String = row.try_get("status")?;
    let brand: String = row.try_get("card_brand")?;
    let usage: String = row.try_get("usage")?;
    Ok(PaymentMethod {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        customer_id: row.try_get("customer_id")?,
        status: PaymentMethodStatus::parse(&status)
            .ok_or_else(|| corrupt("payment method status", &status))?,
        card_brand: CardBrand::parse(&brand).ok_or_else(|| corrupt("card brand", &brand))?,
        card_bin: row.try_get("card_bin")?,
        card_last4: row.try_get("card_last4")?,
        card_exp_month: small(row, "card_exp_month")?,
        card_exp_year: small(row, "card_exp_year")?,
        card_fingerprint: row.try_get("card_fingerprint")?,
        cardholder_name: row.try_get("cardholder_name")?,
        usage: FutureUsage::parse(&usage).ok_or_else(|| corrupt("card usage", &usage))?,
        first_payment_id: row.try_get("first_payment_id")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn mandate_from_row(row: &AnyRow) -> StoreResult<Mandate> {
    let status: String = row.try_get("status")?;
    Ok(Mandate {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        customer_id: row.try_get("customer_id")?,
        payment_method_id: row.try_get("payment_method_id")?,
        status: MandateStatus::parse(&status).ok_or_else(|| corrupt("mandate status", &status))?,
        currency: currency(row)?,
        max_amount: row.try_get("max_amount")?,
        frequency: row.try_get("frequency")?,
        consent_text: row.try_get("consent_text")?,
        consent_version: row.try_get("consent_version")?,
        consent_locale: row.try_get("consent_locale")?,
        accepted_at: row.try_get("accepted_at")?,
        ip_address: row.try_get("ip_address")?,
        user_agent: row.try_get("user_agent")?,
        channel: row.try_get("channel")?,
        payment_id: row.try_get("payment_id")?,
        created: row.try_get("created")?,
        revoked: row.try_get("revoked")?,
    })
}

fn wrapped_key_from_row(row: &AnyRow) -> StoreResult<WrappedKey> {
    Ok(WrappedKey {
        merchant_id: row.try_get("merchant_id")?,
        kek_id: row.try_get("kek_id")?,
        wrapped_key: row.try_get("wrapped_key")?,
        created: row.try_get("created")?,
    })
}
async fn insert_mandate(conn: &mut AnyConnection, m: &Mandate) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO mandates (id, merchant_id, customer_id, payment_method_id, status, currency,
            max_amount, frequency, consent_text, consent_version, consent_locale, accepted_at,
            ip_address, user_agent, channel, payment_id, created, revoked)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&m.id)
    .bind(&m.merchant_id)
    .bind(&m.customer_id)
    .bind(&m.payment_method_id)
    .bind(m.status.as_str())
    .bind(m.currency.code())
    .bind(m.max_amount)
    .bind(&m.frequency)
    .bind(&m.consent_text)
    .bind(&m.consent_version)
    .bind(&m.consent_locale)
    .bind(m.accepted_at)
    .bind(&m.ip_address)
    .bind(&m.user_agent)
    .bind(&m.channel)
    .bind(&m.payment_id)
    .bind(m.created)
    .bind(m.revoked)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Detaches a card: it is no longer charged, its mandates are revoked,
/// and its number is destroyed.
pub(super) async fn detach_card(
    conn: &mut AnyConnection,
    pm_id: &str,
    now: i64,
) -> StoreResult<bool> {
    let detached = sqlx::query(
        "UPDATE payment_methods SET status = 'detached', updated = $1
         WHERE id = $2 AND status IN ('active', 'expired')",
    )
    .bind(now)
    .bind(pm_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE mandates SET status = 'revoked', revoked = $1
         WHERE payment_method_id = $2 AND status <> 'revoked'",
    )
    .bind(now)
    .bind(pm_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM vault_cards WHERE payment_method_id = $1")
        .bind(pm_id)
        .execute(&mut *conn)
        .await?;
    Ok(detached == 1)
}
#[async_trait]
impl CardStore for SqlStore {
    async fn vault_key(&self, merchant_id: &str) -> StoreResult<Option<WrappedKey>> {
        self.find_one(
            "SELECT * FROM vault_keys WHERE merchant_id = $1",
            merchant_id,
            wrapped_key_from_row,
        )
        .await
    }

    async fn ensure_vault_key(&self, fresh: &WrappedKey) -> StoreResult<WrappedKey> {
        let k = fresh.clone();
        let merchant_id = k.merchant_id.clone();
        self.exec(
            sqlx::query(
                "INSERT INTO vault_keys (merchant_id, kek_id, wrapped_key, created)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id) DO NOTHING",
            )
            .bind(k.merchant_id)
            .bind(k.kek_id)
            .bind(k.wrapped_key)
            .bind(k.created),
        )
        .await?;
        // Read from the writer's side, so a key just written is seen.
        self.writer
            .run(move |c| {
                Box::pin(async move {
                    let row = sqlx::query("SELECT * FROM vault_keys WHERE merchant_id = $1")
                        .bind(merchant_id)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(Done::Kept(wrapped_key_from_row(&row)?))
                })
            })
            .await
    }

    async fn vault_keys(&self) -> StoreResult<Vec<WrappedKey>> {
        sqlx::query("SELECT * FROM vault_keys ORDER BY merchant_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(wrapped_key_from_row)
            .collect()
    }

    async fn rewrap_vault_key(
        &self,
        from_kek: &str,
        to: &WrappedKey,
        now: i64,
    ) -> StoreResult<bool> {
        let to = to.clone();
        Ok(self
            .exec(
                sqlx::query(
                    "UPDATE vault_keys SET kek_id = $1, wrapped_key = $2, rotated = $3
                     WHERE merchant_id = $4 AND kek_id = $5",
                )
                .bind(to.kek_id)
                .bind(to.wrapped_key)
                .bind(now)
                .bind(to.merchant_id)
                .bind(from_kek.to_owned()),
            )
            .await?
            == 1)
    }

    async fn insert_pending(
        &self,
        card: Option<&PendingCard>,
        mandate: Option<&Mandate>,
    ) -> StoreResult<()> {
        let (card, mandate) = (card.cloned(), mandate.cloned());
        self.atomic(move |conn| {
            Box::pin(async move {
                if let Some(PendingCard { method: m, ciphertext }) = &card {
                    sqlx::query(
                        "INSERT INTO payment_methods (id, merchant_id, customer_id, status, card_brand,
                            card_bin, card_last4, card_exp_month, card_exp_year, card_fingerprint,
                            cardholder_name, usage, first_payment_id, created, updated)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(&m.id)
                    .bind(&m.merchant_id)
                    .bind(&m.customer_id)
                    .bind(m.status.as_str())
                    .bind(m.card_brand.as_str())
                    .bind(&m.card_bin)
                    .bind(&m.card_last4)
                    .bind(i64::from(m.card_exp_month))
                    .bind(i64::from(m.card_exp_year))
                    .bind(&m.card_fingerprint)
                    .bind(&m.cardholder_name)
                    .bind(m.usage.as_str())
                    .bind(&m.first_payment_id)
                    .bind(m.created)
                    .bind(m.updated)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query(
                        "INSERT INTO vault_cards (payment_method_id, merchant_id, ciphertext)
                         VALUES ($1, $2, $3)",
                    )
                    .bind(&m.id)
                    .bind(&m.merchant_id)
                    .bind(ciphertext)
                    .execute(&mut *conn)
                    .await?;
                }
                if let Some(mandate) = &mandate {
                    insert_mandate(conn, mandate).await?;
                }
                Ok(Done::Kept(()))
            })
        })
        .await
    }

    async fn activate_saved_card(
        &self,
        pm_id: &str,
        mandate_id: Option<&str>,
        payment_id: &str,
        now: i64,
        attached: &[NewEvent],
        mandated: &[NewEvent],
    ) -> StoreResult<Option<Activated>> {
        let (pm_id, mandate_id, payment_id) = (
            pm_id.to_owned(),
            mandate_id.map(str::to_owned),
            payment_id.to_owned(),
        );
        let (attached, mandated, dialect) = (attached.to_vec(), mandated.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        let sink = self.dispatch.get().map(|d| d.sink.clone());
        let (outcome, _) = self
            .writer
            .atomic_then(
                move |conn| {
                    Box::pin(async move {
                        let Some(row) =
                            sqlx::query("SELECT * FROM payment_methods WHERE id = $1")
                                .bind(&pm_id)
                                .fetch_optional(&mut *conn)
                                .await?
                        else {
                            return Ok(Done::Kept((None, Vec::new())));
                        };
                        let card = payment_method_from_row(&row)?;
                        let mut events = Vec::new();
                        let mut target = card.clone();
                        let outcome = match card.status {
                            PaymentMethodStatus::Pending => {
                                let existing = sqlx::query(
                                    "SELECT * FROM payment_methods
                                     WHERE customer_id = $1 AND card_fingerprint = $2 AND status = 'active'",
                                )
                                .bind(&card.customer_id)
                                .bind(&card.card_fingerprint)
                                .fetch_optional(&mut *conn)
                                .await?;
                                match existing {
                                    Some(row) => {
                                        // Saved meanwhile by another payment: one card stands.
                                        target = payment_method_from_row(&row)?;
                                        sqlx::query("DELETE FROM vault_cards WHERE payment_method_id = $1")
                                            .bind(&pm_id)
                                            .execute(&mut *conn)
                                            .await?;
                                        sqlx::query("DELETE FROM payment_methods WHERE id = $1")
                                            .bind(&pm_id)
                                            .execute(&mut *conn)
                                            .await?;
                                        Activated::Existing(target.clone())
                                    }
                                    None => {
                                        sqlx::query(
                                            "UPDATE payment_methods SET status = 'active', first_payment_id = $1, updated = $2
                                             WHERE id = $3 AND status = 'pending'",
                                        )
                                        .bind(&payment_id)
                                        .bind(now)
                                        .bind(&pm_id)
                                        .execute(&mut *conn)
                                        .await?;
                                        target.status = PaymentMethodStatus::Active;
                                        target.first_payment_id = Some(payment_id.clone());
                                        events.extend(attached);
                                        Activated::New(target.clone())
                                    }
                                }
                            }
                            _ => Activated::Existing(card.clone()),
                        };
                        if let Some(mandate_id) = &mandate_id {
                            let done = sqlx::query(
                                "UPDATE mandates SET status = 'active', payment_method_id = $1, payment_id = $2
                                 WHERE id = $3 AND status = 'pending'",
                            )
                            .bind(&target.id)
                            .bind(&payment_id)
                            .bind(mandate_id)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected();
                            if done == 1 {
                                events.extend(mandated);
                            }
                        }
                        let leased = insert_events(dialect, conn, &events, lease).await?;
                        Ok(Done::Kept((Some(outcome), leased)))
                    })
                },
                move |(_, leased): &mut (Option<Activated>, Leased)| {
                    if let Some(sink) = sink.filter(|_| !leased.is_empty()) {
                        let _ = sink.send(std::mem::take(leased));
                    }
                },
            )
            .await?;
        Ok(outcome)
    }

    async fn discard_pending(
        &self,
        pm_id: Option<&str>,
        mandate_id: Option<&str>,
    ) -> StoreResult<()> {
        let (pm_id, mandate_id) = (pm_id.map(str::to_owned), mandate_id.map(str::to_owned));
        self.atomic(move |conn| {
            Box::pin(async move {
                if let Some(pm_id) = &pm_id {
                    let gone = sqlx::query(
                        "DELETE FROM payment_methods WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(pm_id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if gone == 1 {
                        sqlx::query("DELETE FROM vault_cards WHERE payment_method_id = $1")
                            .bind(pm_id)
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                if let Some(mandate_id) = &mandate_id {
                    sqlx::query("DELETE FROM mandates WHERE id = $1 AND status = 'pending'")
                        .bind(mandate_id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(Done::Kept(()))
            })
        })
        .await
    }

    async fn payment_method(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> StoreResult<Option<PaymentMethod>> {
        self.find_owned(
            "SELECT * FROM payment_methods WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            payment_method_from_row,
        )
        .await
    }

    async fn active_payment_method(
        &self,
        customer_id: &str,
        fingerprint: &str,
    ) -> StoreResult<Option<PaymentMethod>> {
        sqlx::query(
            "SELECT * FROM payment_methods
             WHERE customer_id = $1 AND card_fingerprint = $2 AND status = 'active'",
        )
        .bind(customer_id)
        .bind(fingerprint)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(payment_method_from_row)
        .transpose()
    }

    async fn customer_payment_methods(&self, customer_id: &str) -> StoreResult<Vec<PaymentMethod>> {
        self.find_all(
            "SELECT * FROM payment_methods WHERE customer_id = $1 AND status IN ('active', 'expired')
             ORDER BY created DESC, rowid DESC",
            customer_id,
            payment_method_from_row,
        )
        .await
    }

    async fn vault_card(&self, pm_id: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT ciphertext FROM vault_cards WHERE payment_method_id = $1")
                .bind(pm_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn detach_payment_method(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (merchant_id, id) = (merchant_id.to_owned(), id.to_owned());
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |conn| {
            Box::pin(async move {
                let mine: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM payment_methods WHERE id = $1 AND merchant_id = $2",
                )
                .bind(&id)
                .bind(&merchant_id)
                .fetch_optional(&mut *conn)
                .await?;
                if mine.is_none() || !detach_card(conn, &id, now).await? {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                let leased = insert_events(dialect, conn, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn cards_expiring_before(&self, month_index: i64) -> StoreResult<Vec<PaymentMethod>> {
        sqlx::query(
            "SELECT * FROM payment_methods WHERE status = 'active' AND expiring_notified IS NULL
               AND card_exp_year * 12 + card_exp_month < $1 LIMIT 500",
        )
        .bind(month_index)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payment_method_from_row)
        .collect()
    }

    async fn mark_card_expiring(
        &self,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        self.guarded_with_events(
            sqlx::query(
                "UPDATE payment_methods SET expiring_notified = $1
                 WHERE id = $2 AND expiring_notified IS NULL",
            )
            .bind(now)
            .bind(id.to_owned()),
            events,
        )
        .await
    }

    async fn cards_expired_before(&self, month_index: i64) -> StoreResult<Vec<PaymentMethod>> {
        sqlx::query(
            "SELECT * FROM payment_methods WHERE status = 'active'
               AND card_exp_year * 12 + card_exp_month < $1 LIMIT 500",
        )
        .bind(month_index)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payment_method_from_row)
        .collect()
    }

    async fn expire_card(&self, id: &str, now: i64, events: &[NewEvent]) -> StoreResult<bool> {
        self.guarded_with_events(
            sqlx::query(
                "UPDATE payment_methods SET status = 'expired', updated = $1
                 WHERE id = $2 AND status = 'active'",
            )
            .bind(now)
            .bind(id.to_owned()),
            events,
        )
        .await
    }

    async fn insert_card_update(&self, u: &CardUpdate) -> StoreResult<()> {
        let u = u.clone();
        self.exec(
            sqlx::query(
                "INSERT INTO card_updates (id, merchant_id, payment_method_id, secret_hash,
                    return_url, created, expires_at, used_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(u.id)
            .bind(u.merchant_id)
            .bind(u.payment_method_id)
            .bind(u.secret_hash)
            .bind(u.return_url)
            .bind(u.created)
            .bind(u.expires_at)
            .bind(u.used_at),
        )
        .await?;
        Ok(())
    }

    async fn card_update(&self, id: &str) -> StoreResult<Option<CardUpdate>> {
        self.find_one("SELECT * FROM card_updates WHERE id = $1", id, |row| {
            Ok(CardUpdate {
                id: row.try_get("id")?,
                merchant_id: row.try_get("merchant_id")?,
                payment_method_id: row.try_get("payment_method_id")?,
                secret_hash: row.try_get("secret_hash")?,
                return_url: row.try_get("return_url")?,
                created: row.try_get("created")?,
                expires_at: row.try_get("expires_at")?,
                used_at: row.try_get("used_at")?,
            })
        })
        .await
    }

    async fn finish_card_update(
        &self,
        update: &CardUpdate,
        m: &PaymentMethod,
        ciphertext: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (update, m, ciphertext) = (update.clone(), m.clone(), ciphertext.to_owned());
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let used = sqlx::query(
                    "UPDATE card_updates SET used_at = $1
                     WHERE id = $2 AND used_at IS NULL AND expires_at > $3",
                )
                .bind(now)
                .bind(&update.id)
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if used != 1 {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                let replaced = sqlx::query(
                    "UPDATE payment_methods SET status = 'active', card_brand = $1, card_bin = $2,
                        card_last4 = $3, card_exp_month = $4, card_exp_year = $5,
                        card_fingerprint = $6, cardholder_name = $7, expiring_notified = NULL,
                        updated = $8
                     WHERE id = $9 AND status IN ('active', 'expired')",
                )
                .bind(m.card_brand.as_str())
                .bind(&m.card_bin)
                .bind(&m.card_last4)
                .bind(i64::from(m.card_exp_month))
                .bind(i64::from(m.card_exp_year))
                .bind(&m.card_fingerprint)
                .bind(&m.cardholder_name)
                .bind(now)
                .bind(&m.id)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if replaced != 1 {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                let sealed = sqlx::query(
                    "UPDATE vault_cards SET ciphertext = $1 WHERE payment_method_id = $2",
                )
                .bind(&ciphertext)
                .bind(&m.id)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if sealed != 1 {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn mandate(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Mandate>> {
        self.find_owned(
            "SELECT * FROM mandates WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            mandate_from_row,
        )
        .await
    }

    async fn payment_method_mandates(&self, pm_id: &str) -> StoreResult<Vec<Mandate>> {
        self.find_all(
            "SELECT * FROM mandates WHERE payment_method_id = $1 AND status <> 'pending'
             ORDER BY created DESC, rowid DESC",
            pm_id,
            mandate_from_row,
        )
        .await
    }

    async fn customer_mandates(&self, customer_id: &str) -> StoreResult<Vec<Mandate>> {
        self.find_all(
            "SELECT * FROM mandates WHERE customer_id = $1 AND status <> 'pending'
             ORDER BY created DESC, rowid DESC",
            customer_id,
            mandate_from_row,
        )
        .await
    }

    async fn revoke_mandate(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        self.guarded_with_events(
            sqlx::query(
                "UPDATE mandates SET status = 'revoked', revoked = $1
                 WHERE id = $2 AND merchant_id = $3 AND status = 'active'",
            )
            .bind(now)
            .bind(id.to_owned())
            .bind(merchant_id.to_owned()),
            events,
        )
        .await
    }
}

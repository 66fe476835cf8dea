//! What the compatibility surfaces keep: SSLCOMMERZ store credentials, the
//! sessions they made, the names of their payments, and refund keys.

use std::collections::BTreeMap;

use super::*;

fn credential_from_row(row: &AnyRow, sealer: &Sealer) -> StoreResult<CompatCredential> {
    Ok(CompatCredential {
        store_id: row.try_get("store_id")?,
        merchant_id: row.try_get("merchant_id")?,
        mode: row.try_get("mode")?,
        password_hash: row.try_get("password_hash")?,
        password_md5: opened(row, "password_md5", COMPAT_PASSWORD_MD5, sealer)?,
        password_sha256: opened(row, "password_sha256", COMPAT_PASSWORD_SHA256, sealer)?,
        created: row.try_get("created")?,
        revoked: row.try_get("revoked")?,
    })
}

fn compat_session_from_row(row: &AnyRow) -> StoreResult<CompatSession> {
    let fields: String = row.try_get("fields")?;
    Ok(CompatSession {
        session_id: row.try_get("session_id")?,
        merchant_id: row.try_get("merchant_id")?,
        token: row.try_get("token")?,
        store_id: row.try_get("store_id")?,
        fields: serde_json::from_str::<BTreeMap<String, String>>(&fields)
            .map_err(|_| corrupt("compat session fields", &fields))?,
        canceled: row.try_get("canceled")?,
        created: row.try_get("created")?,
    })
}

fn refs_from_row(row: &AnyRow) -> StoreResult<PaymentRefs> {
    Ok(PaymentRefs {
        payment_id: row.try_get("payment_id")?,
        merchant_id: row.try_get("merchant_id")?,
        val_id: row.try_get("val_id")?,
        short_ref: row.try_get("short_ref")?,
    })
}

#[async_trait]
impl CompatStore for SqlStore {
    async fn insert_compat_credential(&self, c: &CompatCredential) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO compat_credentials (store_id, merchant_id, mode, password_hash,
                    password_md5, password_sha256, created, revoked)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(c.store_id.clone())
            .bind(c.merchant_id.clone())
            .bind(c.mode.clone())
            .bind(c.password_hash.clone())
            .bind(self.sealer.seal_str(COMPAT_PASSWORD_MD5, &c.password_md5))
            .bind(
                self.sealer
                    .seal_str(COMPAT_PASSWORD_SHA256, &c.password_sha256),
            )
            .bind(c.created)
            .bind(c.revoked),
        )
        .await?;
        Ok(())
    }

    async fn compat_credential(&self, store_id: &str) -> StoreResult<Option<CompatCredential>> {
        self.find_one(
            "SELECT * FROM compat_credentials WHERE store_id = $1",
            store_id,
            |row| credential_from_row(row, &self.sealer),
        )
        .await
    }

    async fn revoke_compat_credentials(&self, merchant_id: &str, now: i64) -> StoreResult<u64> {
        self.exec(
            sqlx::query(
                "UPDATE compat_credentials SET revoked = $1 WHERE merchant_id = $2 AND revoked IS NULL",
            )
            .bind(now)
            .bind(merchant_id.to_owned()),
        )
        .await
    }

    async fn client_base_url(&self, merchant_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .find_one(
                "SELECT client_base_url FROM merchants WHERE id = $1",
                merchant_id,
                |row| Ok(row.try_get::<Option<String>, _>("client_base_url")?),
            )
            .await?
            .flatten())
    }

    async fn set_client_base_url(&self, merchant_id: &str, url: Option<&str>) -> StoreResult<bool> {
        let done = self
            .exec(
                sqlx::query("UPDATE merchants SET client_base_url = $1 WHERE id = $2")
                    .bind(url.map(str::to_owned))
                    .bind(merchant_id.to_owned()),
            )
            .await?;
        self.cache.forget_merchant(merchant_id);
        Ok(done == 1)
    }

    async fn insert_compat_session(
        &self,
        compat: &CompatSession,
        session: &Session,
    ) -> StoreResult<()> {
        // Both rows or neither: a session is never without its surface's.
        let surface = sqlx::query(
            "INSERT INTO compat_sessions (session_id, merchant_id, token, store_id, fields, canceled, created)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(compat.session_id.clone())
        .bind(compat.merchant_id.clone())
        .bind(compat.token.clone())
        .bind(compat.store_id.clone())
        .bind(serde_json::to_string(&compat.fields).expect("strings"))
        .bind(compat.canceled)
        .bind(compat.created);
        let session = super::sessions::session_insert(session, &self.sealer);
        self.atomic(move |c| {
            Box::pin(async move {
                surface.execute(&mut *c).await?;
                session.execute(&mut *c).await?;
                Ok(Done::Kept(()))
            })
        })
        .await
    }

    async fn compat_session(&self, session_id: &str) -> StoreResult<Option<CompatSession>> {
        self.find_one(
            "SELECT * FROM compat_sessions WHERE session_id = $1",
            session_id,
            compat_session_from_row,
        )
        .await
    }

    async fn compat_session_by_token(&self, token: &str) -> StoreResult<Option<CompatSession>> {
        self.find_one(
            "SELECT * FROM compat_sessions WHERE token = $1",
            token,
            compat_session_from_row,
        )
        .await
    }

    async fn cancel_compat_session(&self, session_id: &str, now: i64) -> StoreResult<bool> {
        let done = self
            .exec(
                sqlx::query(
                    "UPDATE compat_sessions SET canceled = $1 WHERE session_id = $2 AND canceled IS NULL",
                )
                .bind(now)
                .bind(session_id.to_owned()),
            )
            .await?;
        Ok(done == 1)
    }

    async fn payment_refs(&self, fresh: &PaymentRefs) -> StoreResult<PaymentRefs> {
        let fresh = fresh.clone();
        self.atomic(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO compat_payment_refs (payment_id, merchant_id, val_id, short_ref)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (payment_id) DO NOTHING",
                )
                .bind(&fresh.payment_id)
                .bind(&fresh.merchant_id)
                .bind(&fresh.val_id)
                .bind(&fresh.short_ref)
                .execute(&mut *c)
                .await?;
                let row = sqlx::query("SELECT * FROM compat_payment_refs WHERE payment_id = $1")
                    .bind(&fresh.payment_id)
                    .fetch_one(&mut *c)
                    .await?;
                refs_from_row(&row).map(Done::Kept)
            })
        })
        .await
    }

    async fn payment_refs_by_val_id(&self, val_id: &str) -> StoreResult<Option<PaymentRefs>> {
        self.find_one(
            "SELECT * FROM compat_payment_refs WHERE val_id = $1",
            val_id,
            refs_from_row,
        )
        .await
    }

    async fn payment_refs_by_short_ref(&self, short_ref: &str) -> StoreResult<Option<PaymentRefs>> {
        self.find_one(
            "SELECT * FROM compat_payment_refs WHERE short_ref = $1",
            short_ref,
            refs_from_row,
        )
        .await
    }

    async fn payments_for_reference(
        &self,
        merchant_id: &str,
        order_reference: &str,
    ) -> StoreResult<Vec<Payment>> {
        sqlx::query(
            "SELECT * FROM payments WHERE merchant_id = $1 AND order_reference = $2
             ORDER BY created DESC, rowid DESC",
        )
        .bind(merchant_id)
        .bind(order_reference)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payment_from_row)
        .collect()
    }

    async fn claim_compat_refund(
        &self,
        merchant_id: &str,
        refund_trans_id: &str,
        fresh: &str,
    ) -> StoreResult<String> {
        let (merchant_id, refund_trans_id, fresh) = (
            merchant_id.to_owned(),
            refund_trans_id.to_owned(),
            fresh.to_owned(),
        );
        self.atomic(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO compat_refunds (merchant_id, refund_trans_id, refund_id) VALUES ($1, $2, $3)
                     ON CONFLICT (merchant_id, refund_trans_id) DO NOTHING",
                )
                .bind(&merchant_id)
                .bind(&refund_trans_id)
                .bind(&fresh)
                .execute(&mut *c)
                .await?;
                let row = sqlx::query(
                    "SELECT refund_id FROM compat_refunds WHERE merchant_id = $1 AND refund_trans_id = $2",
                )
                .bind(&merchant_id)
                .bind(&refund_trans_id)
                .fetch_one(&mut *c)
                .await?;
                Ok(Done::Kept(row.try_get("refund_id")?))
            })
        })
        .await
    }

    async fn release_compat_refund(
        &self,
        merchant_id: &str,
        refund_trans_id: &str,
        refund_id: &str,
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "DELETE FROM compat_refunds WHERE merchant_id = $1 AND refund_trans_id = $2 AND refund_id = $3",
            )
            .bind(merchant_id.to_owned())
            .bind(refund_trans_id.to_owned())
            .bind(refund_id.to_owned()),
        )
        .await?;
        Ok(())
    }
}

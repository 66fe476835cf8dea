//! Merchants, their API keys and their webhook secret.

use super::*;

#[async_trait]
impl MerchantStore for SqlStore {
    async fn insert_merchant(&self, m: &Merchant) -> StoreResult<()> {
        self.exec(sqlx::query("INSERT INTO merchants (id, name, origins, signing_secret, webhook_secret, created, appearance)
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(m.id.clone())
        .bind(m.name.clone())
        .bind(origins_json(m))
        .bind(self.sealer.seal_str(SIGNING_SECRET, &m.signing_secret))
        .bind(
            m.webhook_secret
                .as_ref()
                .map(|w| self.sealer.seal_str(MERCHANT_WEBHOOK_SECRET, w)),
        )
        .bind(m.created)
        .bind(appearance_json(&m.appearance)))
        .await?;
        Ok(())
    }

    async fn merchant(&self, id: &str) -> StoreResult<Option<Merchant>> {
        if let Some(kept) = self.cache.merchant(id) {
            return Ok(Some(kept));
        }
        let read = self.cache.begin_read();
        let merchant = self
            .find_one("SELECT * FROM merchants WHERE id = $1", id, |row| {
                merchant_from_row(row, &self.sealer)
            })
            .await?;
        if let Some(merchant) = &merchant {
            self.cache.keep_merchant(read, merchant);
        }
        Ok(merchant)
    }

    async fn set_merchant_appearance(
        &self,
        merchant_id: &str,
        appearance: &Appearance,
    ) -> StoreResult<bool> {
        let done = self
            .exec(
                sqlx::query("UPDATE merchants SET appearance = $1 WHERE id = $2")
                    .bind(appearance_json(appearance))
                    .bind(merchant_id.to_owned()),
            )
            .await?;
        self.cache.forget_merchant(merchant_id);
        Ok(done == 1)
    }

    async fn upsert_merchant(&self, m: &Merchant) -> StoreResult<Merchant> {
        let row = self.exec_returning(sqlx::query(
            "INSERT INTO merchants (id, name, origins, signing_secret, webhook_secret, created)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, origins = excluded.origins,
                webhook_secret = coalesce(merchants.webhook_secret, excluded.webhook_secret)
             RETURNING *",
        )
        .bind(m.id.clone())
        .bind(m.name.clone())
        .bind(origins_json(m))
        .bind(self.sealer.seal_str(SIGNING_SECRET, &m.signing_secret))
        .bind(
            m.webhook_secret
                .as_ref()
                .map(|w| self.sealer.seal_str(MERCHANT_WEBHOOK_SECRET, w)),
        )
        .bind(m.created))
        .await?;
        self.cache.forget_merchant(&m.id);
        merchant_from_row(&row, &self.sealer)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO api_keys (lookup, hash, merchant_id, kind, created) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key.lookup.clone())
            .bind(key.hash.clone())
            .bind(key.merchant_id.clone())
            .bind(key.kind.as_str())
            .bind(key.created),
        )
        .await?;
        Ok(())
    }

    async fn api_key_with_merchant(&self, lookup: &str) -> StoreResult<Option<(ApiKey, Merchant)>> {
        self.find_one(
            "SELECT k.lookup, k.hash, k.merchant_id, k.kind, k.created AS key_created, m.*
             FROM api_keys AS k JOIN merchants AS m ON m.id = k.merchant_id
             WHERE k.lookup = $1 AND k.revoked IS NULL",
            lookup,
            |row| {
                Ok((
                    api_key_from_row(row)?,
                    merchant_from_row(row, &self.sealer)?,
                ))
            },
        )
        .await
    }

    async fn revoke_api_keys(&self, merchant_id: &str, now: i64) -> StoreResult<u64> {
        self.exec(
            sqlx::query(
                "UPDATE api_keys SET revoked = $1 WHERE merchant_id = $2 AND revoked IS NULL",
            )
            .bind(now)
            .bind(merchant_id.to_owned()),
        )
        .await
    }

    async fn ensure_webhook_secret(&self, merchant_id: &str, fresh: &str) -> StoreResult<String> {
        let row = self
            .exec_returning(
                sqlx::query(
                    "UPDATE merchants SET webhook_secret = coalesce(webhook_secret, $1) WHERE id = $2 RETURNING webhook_secret",
                )
                .bind(self.sealer.seal_str(MERCHANT_WEBHOOK_SECRET, fresh))
                .bind(merchant_id.to_owned()),
            )
            .await?;
        self.cache.forget_merchant(merchant_id);
        opened(
            &row,
            "webhook_secret",
            MERCHANT_WEBHOOK_SECRET,
            &self.sealer,
        )
    }
}

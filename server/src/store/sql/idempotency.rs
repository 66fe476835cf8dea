//! `Idempotency-Key`s and the answers they replay.

use super::*;

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn start_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        ttl: i64,
    ) -> StoreResult<IdempotencyStart> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND created <= $3",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(now - ttl)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (merchant_id, key, request_hash, created) VALUES ($1, $2, $3, $4)
             ON CONFLICT (merchant_id, key) DO NOTHING",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if inserted == 1 {
            IdempotencyStart::Started
        } else {
            let row = sqlx::query(
                "SELECT request_hash, response_status, response_body FROM idempotency_keys
                 WHERE merchant_id = $1 AND key = $2",
            )
            .bind(merchant_id)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            let hash: String = row.try_get("request_hash")?;
            let status: Option<i64> = row.try_get("response_status")?;
            match status {
                _ if hash != request_hash => IdempotencyStart::Mismatch,
                None => IdempotencyStart::InFlight,
                Some(status) => IdempotencyStart::Replay {
                    status: u16::try_from(status)
                        .map_err(|_| corrupt("stored status", &status.to_string()))?,
                    body: {
                        let stored: Vec<u8> = row.try_get("response_body")?;
                        self.sealer.open(RESPONSE_BODY, &stored).map_err(|e| {
                            StoreError::Corrupt(format!("idempotency response: {e}"))
                        })?
                    },
                },
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn finish_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE merchant_id = $3 AND key = $4",
        )
        .bind(i64::from(status))
        .bind(self.sealer.seal(RESPONSE_BODY, body).into_bytes())
        .bind(merchant_id)
        .bind(key)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn abandon_idempotent(&self, merchant_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND response_status IS NULL")
            .bind(merchant_id)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn purge_idempotent(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created <= $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}

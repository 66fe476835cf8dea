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
        let (merchant_id, key, request_hash) = (
            merchant_id.to_owned(),
            key.to_owned(),
            request_hash.to_owned(),
        );
        let stored = self
            .atomic(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND created <= $3",
                    )
                    .bind(&merchant_id)
                    .bind(&key)
                    .bind(now - ttl)
                    .execute(&mut *c)
                    .await?;
                    let inserted = sqlx::query(
                        "INSERT INTO idempotency_keys (merchant_id, key, request_hash, created) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (merchant_id, key) DO NOTHING",
                    )
                    .bind(&merchant_id)
                    .bind(&key)
                    .bind(&request_hash)
                    .bind(now)
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
                    if inserted == 1 {
                        return Ok(Done::Kept(None));
                    }
                    let row = sqlx::query(
                        "SELECT request_hash, response_status, response_body FROM idempotency_keys
                         WHERE merchant_id = $1 AND key = $2",
                    )
                    .bind(&merchant_id)
                    .bind(&key)
                    .fetch_one(&mut *c)
                    .await?;
                    let hash: String = row.try_get("request_hash")?;
                    let status: Option<i64> = row.try_get("response_status")?;
                    let body: Option<Vec<u8>> = row.try_get("response_body")?;
                    Ok(Done::Kept(Some((hash == request_hash, status, body))))
                })
            })
            .await?;
        Ok(match stored {
            None => IdempotencyStart::Started,
            Some((false, _, _)) => IdempotencyStart::Mismatch,
            Some((true, None, _)) => IdempotencyStart::InFlight,
            Some((true, Some(status), body)) => IdempotencyStart::Replay {
                status: u16::try_from(status)
                    .map_err(|_| corrupt("stored status", &status.to_string()))?,
                body: self
                    .sealer
                    .open(RESPONSE_BODY, &body.unwrap_or_default())
                    .map_err(|e| StoreError::Corrupt(format!("idempotency response: {e}")))?,
            },
        })
    }

    async fn finish_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE merchant_id = $3 AND key = $4",
            )
            .bind(i64::from(status))
            .bind(self.sealer.seal(RESPONSE_BODY, body).into_bytes())
            .bind(merchant_id.to_owned())
            .bind(key.to_owned()),
        )
        .await?;
        Ok(())
    }

    async fn abandon_idempotent(&self, merchant_id: &str, key: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND response_status IS NULL")
                .bind(merchant_id.to_owned())
                .bind(key.to_owned()),
        )
        .await?;
        Ok(())
    }

    async fn purge_idempotent(&self, before: i64) -> StoreResult<u64> {
        self.exec(sqlx::query("DELETE FROM idempotency_keys WHERE created <= $1").bind(before))
            .await
    }
}

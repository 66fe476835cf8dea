//! The counters of rate limits that hold across instances.

use super::*;

#[async_trait]
impl LimitStore for SqlStore {
    async fn count_hit(
        &self,
        bucket: &str,
        window_start: i64,
        window: i64,
    ) -> StoreResult<(i64, i64)> {
        let bucket_owned = bucket.to_owned();
        let current: i64 = self
            .writer
            .run(move |c| {
                Box::pin(async move {
                    Ok(Done::Kept(
                        sqlx::query_scalar(
                            "INSERT INTO rate_hits (bucket, window_start, hits) VALUES ($1, $2, 1)
                             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_hits.hits + 1
                             RETURNING hits",
                        )
                        .bind(bucket_owned)
                        .bind(window_start)
                        .fetch_one(&mut *c)
                        .await?,
                    ))
                })
            })
            .await?;
        let previous = self.window_hits(bucket, window_start - window).await?;
        Ok((current, previous))
    }

    async fn hits(&self, bucket: &str, window_start: i64, window: i64) -> StoreResult<(i64, i64)> {
        Ok((
            self.window_hits(bucket, window_start).await?,
            self.window_hits(bucket, window_start - window).await?,
        ))
    }

    async fn purge_hits(&self, before: i64) -> StoreResult<u64> {
        self.exec(sqlx::query("DELETE FROM rate_hits WHERE window_start < $1").bind(before))
            .await
    }
}

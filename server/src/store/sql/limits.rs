//! The counters of rate limits that hold across instances.

use super::*;

/// A bucket's hits in the window starting at `$2` and in the one at `$3`.
const WINDOWS: &str = "SELECT
        CAST(coalesce(sum(CASE WHEN window_start = $2 THEN hits END), 0) AS BIGINT),
        CAST(coalesce(sum(CASE WHEN window_start = $3 THEN hits END), 0) AS BIGINT)
     FROM rate_hits WHERE bucket = $1 AND window_start IN ($2, $3)";

#[async_trait]
impl LimitStore for SqlStore {
    async fn count_hit(
        &self,
        bucket: &str,
        window_start: i64,
        window: i64,
    ) -> StoreResult<(i64, i64)> {
        let bucket = bucket.to_owned();
        // This hit's own count comes back with it, so that concurrent hits
        // each see a different one; the closed window is read beside it,
        // on the writer's connection, which sees every hit answered so far.
        // A hit lost to a crash lets one more attempt through: no reason
        // to wait for the disk.
        self.writer
            .run_unsynced(move |c| {
                Box::pin(async move {
                    let current: i64 = sqlx::query_scalar(
                        "INSERT INTO rate_hits (bucket, window_start, hits) VALUES ($1, $2, 1)
                         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_hits.hits + 1
                         RETURNING hits",
                    )
                    .bind(&bucket)
                    .bind(window_start)
                    .fetch_one(&mut *c)
                    .await?;
                    let previous: Option<i64> = sqlx::query_scalar(
                        "SELECT hits FROM rate_hits WHERE bucket = $1 AND window_start = $2",
                    )
                    .bind(&bucket)
                    .bind(window_start - window)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(Done::Kept((current, previous.unwrap_or(0))))
                })
            })
            .await
    }

    async fn hits(&self, bucket: &str, window_start: i64, window: i64) -> StoreResult<(i64, i64)> {
        // On SQLite, read where the hits are written: a hit is answered
        // before its group commits, and must count from then on.
        let bucket = bucket.to_owned();
        self.writer
            .run_unsynced(move |c| {
                Box::pin(async move {
                    let row = sqlx::query(WINDOWS)
                        .bind(&bucket)
                        .bind(window_start)
                        .bind(window_start - window)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(Done::Kept((row.try_get(0)?, row.try_get(1)?)))
                })
            })
            .await
    }

    async fn purge_hits(&self, before: i64) -> StoreResult<u64> {
        self.exec(sqlx::query("DELETE FROM rate_hits WHERE window_start < $1").bind(before))
            .await
    }
}

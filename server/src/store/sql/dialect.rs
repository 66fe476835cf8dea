//! Where SQLite and PostgreSQL differ, in one place: which database a URL
//! names, and the two statements that need each its own SQL. Every other
//! statement is written once, with `$n` placeholders both read.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect a database URL names: `postgres://` or `postgresql://`
    /// is PostgreSQL; anything else is a SQLite file or `sqlite:` URL.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }

    /// Leases due webhook deliveries: `$1` lease until, `$2` now, `$3`
    /// what this instance has in flight by URL (JSON), `$4` the share per
    /// URL, `$5` how many of the earliest due to consider, `$6` how many in
    /// all, `$7` what this instance has in flight by merchant (JSON), `$8`
    /// the share per merchant.
    ///
    /// Numbered per URL, so one claim never takes more than a URL's share,
    /// then what is left per merchant, so that one merchant with many slow
    /// URLs cannot take every slot. The numbering looks only at the
    /// earliest due deliveries of URLs and merchants with a free slot (by
    /// the deliveries_due index), so a claim costs the same whatever the
    /// backlog: numbering every pending delivery took 17 ms a claim with
    /// 6,000 waiting. PostgreSQL also skips rows another instance is
    /// claiming right now.
    pub(super) fn claim_deliveries(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "UPDATE deliveries SET lease_until_ms = $1
                 WHERE id IN (
                    SELECT fair.id FROM (
                        SELECT by_url.id, by_url.merchant_id, by_url.next_attempt_ms,
                               ROW_NUMBER() OVER (PARTITION BY by_url.merchant_id
                                                  ORDER BY by_url.next_attempt_ms, by_url.id) AS mth
                        FROM (
                            SELECT due.id, due.merchant_id, due.next_attempt_ms FROM (
                                SELECT id, url, merchant_id, next_attempt_ms,
                                       ROW_NUMBER() OVER (PARTITION BY url ORDER BY next_attempt_ms, id) AS nth
                                FROM (
                                    SELECT id, url, merchant_id, next_attempt_ms FROM deliveries
                                    WHERE status = 'pending' AND next_attempt_ms <= $2
                                      AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                                      AND url NOT IN (SELECT key FROM json_each($3) WHERE value >= $4)
                                      AND merchant_id NOT IN (SELECT key FROM json_each($7) WHERE value >= $8)
                                    ORDER BY next_attempt_ms, id LIMIT $5)
                            ) AS due
                            LEFT JOIN json_each($3) AS busy ON busy.key = due.url
                            WHERE due.nth + COALESCE(busy.value, 0) <= $4
                        ) AS by_url
                    ) AS fair
                    LEFT JOIN json_each($7) AS mbusy ON mbusy.key = fair.merchant_id
                    WHERE fair.mth + COALESCE(mbusy.value, 0) <= $8
                    ORDER BY fair.next_attempt_ms LIMIT $6)
                 RETURNING *"
            }
            // Only the rows picked are locked, and the lock re-checks each
            // as it is now, so that concurrent claims (other instances) skip
            // them and take the next. Materialised, so the planner cannot
            // fold the ranking into joins over the whole table: before the
            // table had statistics, that plan took over 100 ms a claim with a
            // few thousand waiting.
            Self::Postgres => {
                "WITH candidates AS MATERIALIZED (
                    SELECT id, url, merchant_id, next_attempt_ms FROM deliveries
                    WHERE status = 'pending' AND next_attempt_ms <= $2
                      AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                      AND url NOT IN (SELECT key FROM json_each_text($3::json)
                                      WHERE value::bigint >= $4)
                      AND merchant_id NOT IN (SELECT key FROM json_each_text($7::json)
                                              WHERE value::bigint >= $8)
                    ORDER BY next_attempt_ms, id LIMIT $5
                 ), shared AS MATERIALIZED (
                    SELECT due.id, due.merchant_id, due.next_attempt_ms FROM (
                        SELECT id, url, merchant_id, next_attempt_ms,
                               ROW_NUMBER() OVER (PARTITION BY url ORDER BY next_attempt_ms, id) AS nth
                        FROM candidates
                    ) AS due
                    LEFT JOIN json_each_text($3::json) AS busy ON busy.key = due.url
                    WHERE due.nth + COALESCE(busy.value::bigint, 0) <= $4
                 ), fair AS MATERIALIZED (
                    SELECT ranked.id FROM (
                        SELECT id, merchant_id,
                               ROW_NUMBER() OVER (PARTITION BY merchant_id ORDER BY next_attempt_ms, id) AS mth
                        FROM shared
                    ) AS ranked
                    LEFT JOIN json_each_text($7::json) AS mbusy ON mbusy.key = ranked.merchant_id
                    WHERE ranked.mth + COALESCE(mbusy.value::bigint, 0) <= $8
                 ), picked AS MATERIALIZED (
                    SELECT d.id FROM deliveries AS d JOIN fair ON fair.id = d.id
                    WHERE d.status = 'pending'
                      AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= $2)
                    ORDER BY d.next_attempt_ms LIMIT $6
                    FOR UPDATE OF d SKIP LOCKED
                 )
                 UPDATE deliveries SET lease_until_ms = $1
                 FROM picked WHERE deliveries.id = picked.id
                 RETURNING deliveries.*"
            }
        }
    }

    /// One pending delivery per endpoint that wants an event's type, ids
    /// drawn in SQL: `$1` event, `$2` and `$3` due and created (ms), `$4`
    /// merchant, `$5` event type.
    pub(super) fn fan_out_to_endpoints(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, url, status, next_attempt_ms, created_ms, lease_until_ms)
                 SELECT 'dlv_' || lower(hex(randomblob(12))), $1, merchant_id, id, url, 'pending', $2, $3, $6
                 FROM webhook_endpoints
                 WHERE merchant_id = $4 AND deleted IS NULL
                   AND (enabled_events IS NULL
                        OR EXISTS (SELECT 1 FROM json_each(enabled_events) WHERE value = $5))
                 RETURNING *"
            }
            Self::Postgres => {
                "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, url, status, next_attempt_ms, created_ms, lease_until_ms)
                 SELECT 'dlv_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 24), $1, merchant_id, id, url, 'pending', $2, $3, $6
                 FROM webhook_endpoints
                 WHERE merchant_id = $4 AND deleted IS NULL
                   AND (enabled_events IS NULL
                        OR EXISTS (SELECT 1 FROM json_array_elements_text(enabled_events::json) AS e (value)
                                   WHERE e.value = $5))
                 RETURNING *"
            }
        }
    }
}

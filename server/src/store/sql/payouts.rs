//! Payouts: each reserved from the available balance in the transaction
//! that makes it, and each change of status written with what it does to
//! the balances, the ledger and its settlement.

use std::collections::HashMap;

use super::ledger::{insert_txn, move_balance, txn_from_row};
use super::*;
use crate::store::{
    BalanceTransaction, LedgerSum, Payout, PayoutRefused, PayoutStore, ReportRecord,
};

fn payout_from_row(row: &AnyRow) -> StoreResult<Payout> {
    Ok(Payout {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        amount: row.try_get("amount")?,
        currency: currency(row)?,
        status: row.try_get("status")?,
        method: row.try_get("method")?,
        payment_method_id: row.try_get("payment_method_id")?,
        brand: row.try_get("brand")?,
        last4: row.try_get("last4")?,
        exp_month: row.try_get("exp_month")?,
        exp_year: row.try_get("exp_year")?,
        sealed: row.try_get("sealed")?,
        bank_code: row.try_get("bank_code")?,
        account_holder: row.try_get("account_holder")?,
        country: row.try_get("country")?,
        merchant_reference: row.try_get("merchant_reference")?,
        purpose: row.try_get("purpose")?,
        settlement_id: row.try_get("settlement_id")?,
        created_by: row.try_get("created_by")?,
        approved_by: row.try_get("approved_by")?,
        failure_code: row.try_get("failure_code")?,
        failure_message: row.try_get("failure_message")?,
        rail_state: row.try_get("rail_state")?,
        check_after: row.try_get("check_after")?,
        arrival_date: row.try_get("arrival_date")?,
        paid_at: row.try_get("paid_at")?,
        returned_at: row.try_get("returned_at")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn report_from_row(row: &AnyRow) -> StoreResult<ReportRecord> {
    Ok(ReportRecord {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        kind: row.try_get("type")?,
        version: row.try_get::<i64, _>("report_version")? as u32,
        interval_start: row.try_get("interval_start")?,
        interval_end: row.try_get("interval_end")?,
        format: row.try_get("format")?,
        time_zone: row.try_get("time_zone")?,
        sha256: row.try_get("sha256")?,
        body: row.try_get("body")?,
        created: row.try_get("created")?,
    })
}

/// Statuses whose money is still reserved.
const RESERVED: [&str; 3] = ["requires_approval", "pending", "in_transit"];

/// Takes a payout's amount off the reserved balance, and puts `back` of
/// it on the available one.
async fn unreserve(c: &mut AnyConnection, p: &Payout, back: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE balances SET reserved = reserved - $1, available = available + $2,
            updated = $3 WHERE merchant_id = $4 AND currency = $5",
    )
    .bind(p.amount)
    .bind(back)
    .bind(p.updated)
    .bind(&p.merchant_id)
    .bind(p.currency.code())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What a change of status does to the balances and the ledger.
async fn follow_status(c: &mut AnyConnection, old: &Payout, new: &Payout) -> StoreResult<()> {
    let (m, cur, x, now) = (
        new.merchant_id.as_str(),
        new.currency.code(),
        new.amount,
        new.updated,
    );
    let was_reserved = RESERVED.contains(&old.status.as_str());
    let settlement_status = match (was_reserved, new.status.as_str()) {
        (true, "paid") => {
            unreserve(c, new, 0).await?;
            Some("paid_out")
        }
        (true, status @ ("failed" | "canceled")) => {
            unreserve(c, new, x).await?;
            let kind = if status == "failed" {
                "payout_failure"
            } else {
                "payout_cancel"
            };
            insert_txn(c, m, kind, &new.id, None, cur, x, 0, "available", now, now).await?;
            Some("payout_failed")
        }
        (false, "returned") if old.status == "paid" => {
            insert_txn(
                c,
                m,
                "payout_return",
                &new.id,
                None,
                cur,
                x,
                0,
                "available",
                now,
                now,
            )
            .await?;
            move_balance(c, m, cur, x, 0, now).await?;
            Some("payout_failed")
        }
        _ => None,
    };
    if let (Some(status), Some(settlement)) = (settlement_status, &new.settlement_id) {
        sqlx::query("UPDATE settlements SET status = $1 WHERE id = $2 AND payout_id = $3")
            .bind(status)
            .bind(settlement)
            .bind(&new.id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl PayoutStore for SqlStore {
    async fn create_payout(
        &self,
        p: &Payout,
        events: &[NewEvent],
    ) -> StoreResult<Result<(), PayoutRefused>> {
        let (p, events, dialect) = (p.clone(), events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        let refused = std::sync::Arc::new(std::sync::Mutex::new(None));
        let why = refused.clone();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let refuse = |r: PayoutRefused| {
                    *why.lock().expect("not poisoned") = Some(r);
                    Ok(Done::Undone((false, Vec::new())))
                };
                if let Some(settlement) = &p.settlement_id {
                    let claimed = sqlx::query(
                        "UPDATE settlements SET payout_id = $1, status = 'closed'
                         WHERE id = $2 AND merchant_id = $3 AND net = $4 AND currency = $5
                           AND (status = 'payout_failed' OR (status = 'closed' AND payout_id IS NULL))",
                    )
                    .bind(&p.id)
                    .bind(settlement)
                    .bind(&p.merchant_id)
                    .bind(p.amount)
                    .bind(p.currency.code())
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
                    if claimed != 1 {
                        return refuse(PayoutRefused::SettlementTaken);
                    }
                    sqlx::query(
                        "UPDATE balance_transactions SET payout_id = $1 WHERE settlement_id = $2",
                    )
                    .bind(&p.id)
                    .bind(settlement)
                    .execute(&mut *c)
                    .await?;
                }
                let inserted = sqlx::query(
                    "INSERT INTO payouts (id, merchant_id, amount, currency, status, method,
                        payment_method_id, brand, last4, exp_month, exp_year, sealed, bank_code,
                        account_holder, country, merchant_reference, purpose, settlement_id,
                        created_by, approved_by, check_after, created, updated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        $16, $17, $18, $19, $20, $21, $22, $23)
                     ON CONFLICT (merchant_id, merchant_reference) DO NOTHING",
                )
                .bind(&p.id)
                .bind(&p.merchant_id)
                .bind(p.amount)
                .bind(p.currency.code())
                .bind(&p.status)
                .bind(&p.method)
                .bind(&p.payment_method_id)
                .bind(&p.brand)
                .bind(&p.last4)
                .bind(p.exp_month)
                .bind(p.exp_year)
                .bind(&p.sealed)
                .bind(&p.bank_code)
                .bind(&p.account_holder)
                .bind(&p.country)
                .bind(&p.merchant_reference)
                .bind(&p.purpose)
                .bind(&p.settlement_id)
                .bind(&p.created_by)
                .bind(&p.approved_by)
                .bind(p.check_after)
                .bind(p.created)
                .bind(p.updated)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if inserted != 1 {
                    let existing: String = sqlx::query(
                        "SELECT id FROM payouts WHERE merchant_id = $1 AND merchant_reference = $2",
                    )
                    .bind(&p.merchant_id)
                    .bind(&p.merchant_reference)
                    .fetch_one(&mut *c)
                    .await?
                    .try_get("id")?;
                    return refuse(PayoutRefused::ReferenceTaken(existing));
                }
                // The guard: never more than is available, whoever else
                // pays out at the same moment.
                let reserved = sqlx::query(
                    "UPDATE balances SET available = available - $1, reserved = reserved + $2,
                        updated = $3
                     WHERE merchant_id = $4 AND currency = $5 AND available >= $6",
                )
                .bind(p.amount)
                .bind(p.amount)
                .bind(p.created)
                .bind(&p.merchant_id)
                .bind(p.currency.code())
                .bind(p.amount)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if reserved != 1 {
                    let available = sqlx::query(
                        "SELECT available FROM balances WHERE merchant_id = $1 AND currency = $2",
                    )
                    .bind(&p.merchant_id)
                    .bind(p.currency.code())
                    .fetch_optional(&mut *c)
                    .await?
                    .map(|row| row.try_get::<i64, _>("available"))
                    .transpose()?
                    .unwrap_or(0);
                    return refuse(PayoutRefused::Insufficient { available });
                }
                insert_txn(
                    c,
                    &p.merchant_id,
                    "payout",
                    &p.id,
                    None,
                    p.currency.code(),
                    -p.amount,
                    0,
                    "available",
                    p.created,
                    p.created,
                )
                .await?;
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await?;
        let refused = refused.lock().expect("not poisoned").take();
        Ok(refused.map_or(Ok(()), Err))
    }

    async fn payout(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Payout>> {
        self.find_owned(
            "SELECT * FROM payouts WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            payout_from_row,
        )
        .await
    }

    async fn payout_by_reference(
        &self,
        merchant_id: &str,
        reference: &str,
    ) -> StoreResult<Option<Payout>> {
        self.find_owned(
            "SELECT * FROM payouts WHERE merchant_reference = $1 AND merchant_id = $2",
            merchant_id,
            reference,
            payout_from_row,
        )
        .await
    }

    async fn payouts(
        &self,
        merchant_id: &str,
        status: Option<&str>,
        starting_after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Payout>> {
        let mut sql = String::from("SELECT * FROM payouts WHERE merchant_id = ?");
        if status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM payouts WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(status) = status {
            query = query.bind(status);
        }
        if let Some(after) = starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(payout_from_row)
            .collect()
    }

    async fn change_payout(
        &self,
        old: &Payout,
        new: &Payout,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (old, new, events, dialect) = (old.clone(), new.clone(), events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let changed = sqlx::query(
                    "UPDATE payouts SET status = $1, approved_by = $2, failure_code = $3,
                        failure_message = $4, rail_state = $5, check_after = $6,
                        arrival_date = $7, paid_at = $8, returned_at = $9, updated = $10
                     WHERE id = $11 AND status = $12 AND coalesce(rail_state, '') = $13
                       AND coalesce(check_after, -1) = $14",
                )
                .bind(&new.status)
                .bind(&new.approved_by)
                .bind(&new.failure_code)
                .bind(&new.failure_message)
                .bind(&new.rail_state)
                .bind(new.check_after)
                .bind(new.arrival_date)
                .bind(new.paid_at)
                .bind(new.returned_at)
                .bind(new.updated)
                .bind(&old.id)
                .bind(&old.status)
                .bind(old.rail_state.as_deref().unwrap_or(""))
                .bind(old.check_after.unwrap_or(-1))
                .execute(&mut *c)
                .await?
                .rows_affected();
                if changed != 1 {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                if old.status != new.status {
                    follow_status(c, &old, &new).await?;
                }
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn due_payouts(&self, now: i64, limit: u32) -> StoreResult<Vec<Payout>> {
        sqlx::query(
            "SELECT * FROM payouts WHERE check_after <= $1 ORDER BY check_after, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payout_from_row)
        .collect()
    }

    async fn payout_threshold(
        &self,
        merchant_id: &str,
        currency_code: &str,
    ) -> StoreResult<Option<i64>> {
        sqlx::query(
            "SELECT approval_threshold FROM payout_settings
             WHERE merchant_id = $1 AND currency = $2",
        )
        .bind(merchant_id)
        .bind(currency_code)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.try_get("approval_threshold"))
        .transpose()
        .map_err(Into::into)
    }

    async fn set_payout_threshold(
        &self,
        merchant_id: &str,
        currency_code: &str,
        threshold: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let statement = match threshold {
            Some(threshold) => sqlx::query(
                "INSERT INTO payout_settings (merchant_id, currency, approval_threshold, updated)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (merchant_id, currency) DO UPDATE SET approval_threshold = $5,
                    updated = $6",
            )
            .bind(merchant_id.to_owned())
            .bind(currency_code.to_owned())
            .bind(threshold)
            .bind(now)
            .bind(threshold)
            .bind(now),
            None => {
                sqlx::query("DELETE FROM payout_settings WHERE merchant_id = $1 AND currency = $2")
                    .bind(merchant_id.to_owned())
                    .bind(currency_code.to_owned())
            }
        };
        self.exec(statement).await?;
        Ok(())
    }

    async fn top_up(
        &self,
        merchant_id: &str,
        id: &str,
        currency_code: &str,
        amount: i64,
        now: i64,
    ) -> StoreResult<String> {
        let (m, id, cur) = (
            merchant_id.to_owned(),
            id.to_owned(),
            currency_code.to_owned(),
        );
        self.atomic(move |c| {
            Box::pin(async move {
                let txn = insert_txn(
                    c,
                    &m,
                    "top_up",
                    &id,
                    None,
                    &cur,
                    amount,
                    0,
                    "available",
                    now,
                    now,
                )
                .await?;
                move_balance(c, &m, &cur, amount, 0, now).await?;
                Ok(Done::Kept(txn))
            })
        })
        .await
    }

    async fn record_sandbox_transfer(
        &self,
        reference: &str,
        last4: &str,
        amount: i64,
        currency_code: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sandbox_transfers (reference, last4, amount, currency, received)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(reference.to_owned())
            .bind(last4.to_owned())
            .bind(amount)
            .bind(currency_code.to_owned())
            .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn sandbox_transfers(&self, reference: &str) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query(
            "SELECT last4, received FROM sandbox_transfers WHERE reference = $1 ORDER BY received",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("last4")?, row.try_get("received")?)))
        .collect()
    }

    async fn payment_settlements(
        &self,
        payment_ids: &[String],
    ) -> StoreResult<HashMap<String, (Option<String>, Option<String>)>> {
        if payment_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let marks = vec!["?"; payment_ids.len()].join(", ");
        let sql = numbered(&format!(
            "SELECT t.payment_id, t.settlement_id, s.status FROM balance_transactions t
             LEFT JOIN settlements s ON s.id = t.settlement_id
             WHERE t.type = 'charge' AND t.payment_id IN ({marks})"
        ));
        let mut query = sqlx::query(&sql);
        for id in payment_ids {
            query = query.bind(id);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get("payment_id")?,
                    (row.try_get("settlement_id")?, row.try_get("status")?),
                ))
            })
            .collect()
    }

    async fn insert_report(&self, r: &ReportRecord) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO reports (id, merchant_id, type, report_version, interval_start,
                    interval_end, format, time_zone, sha256, body, created)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(r.id.clone())
            .bind(r.merchant_id.clone())
            .bind(r.kind.clone())
            .bind(i64::from(r.version))
            .bind(r.interval_start)
            .bind(r.interval_end)
            .bind(r.format.clone())
            .bind(r.time_zone.clone())
            .bind(r.sha256.clone())
            .bind(r.body.clone())
            .bind(r.created),
        )
        .await?;
        Ok(())
    }

    async fn report(&self, merchant_id: &str, id: &str) -> StoreResult<Option<ReportRecord>> {
        self.find_owned(
            "SELECT * FROM reports WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            report_from_row,
        )
        .await
    }

    async fn payouts_between(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<Payout>> {
        sqlx::query(
            "SELECT * FROM payouts WHERE merchant_id = $1 AND created >= $2 AND created < $3
             ORDER BY created, id",
        )
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(payout_from_row)
        .collect()
    }

    async fn settled_rows_between(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<(BalanceTransaction, Option<String>)>> {
        sqlx::query(
            "SELECT t.*, p.order_reference FROM balance_transactions t
             JOIN settlements s ON s.id = t.settlement_id
             LEFT JOIN payments p ON p.id = t.payment_id
             WHERE s.merchant_id = $1 AND s.period_end >= $2 AND s.period_end < $3
             ORDER BY s.period_end, s.currency, t.created, t.rowid",
        )
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((txn_from_row(row)?, row.try_get("order_reference")?)))
        .collect()
    }

    async fn ledger_summary(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<LedgerSum>> {
        sqlx::query(
            "SELECT currency, CASE WHEN created < $1 THEN 'opening' ELSE type END AS kind,
                CAST(count(*) AS BIGINT) AS n, CAST(sum(amount) AS BIGINT) AS amount,
                CAST(sum(fee) AS BIGINT) AS fee, CAST(sum(net) AS BIGINT) AS net
             FROM balance_transactions WHERE merchant_id = $2 AND created < $3
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(start)
        .bind(merchant_id)
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(LedgerSum {
                currency: currency(row)?,
                kind: row.try_get("kind")?,
                count: row.try_get("n")?,
                amount: row.try_get("amount")?,
                fee: row.try_get("fee")?,
                net: row.try_get("net")?,
            })
        })
        .collect()
    }
}

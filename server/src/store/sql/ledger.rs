//! The ledger: each capture and refund written once, as a balance
//! transaction, in the transaction that records it, with the balance it
//! moves; pending money released when its day comes.

use kasse_core::fees::FeePlan;

use super::*;
use crate::store::{
    BalanceRow, BalanceTransaction, LedgerStore, Release, Settlement, SettlementSettings,
    SettlementStore, TxnQuery, Unsettled,
};

const DAY: i64 = 24 * 3600;

pub(super) fn txn_from_row(row: &AnyRow) -> StoreResult<BalanceTransaction> {
    Ok(BalanceTransaction {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        kind: row.try_get("type")?,
        source_id: row.try_get("source_id")?,
        payment_id: row.try_get("payment_id")?,
        currency: currency(row)?,
        amount: row.try_get("amount")?,
        fee: row.try_get("fee")?,
        net: row.try_get("net")?,
        status: row.try_get("status")?,
        available_on: row.try_get("available_on")?,
        settlement_id: row.try_get("settlement_id")?,
        payout_id: row.try_get("payout_id")?,
        created: row.try_get("created")?,
    })
}

/// The merchant's plan for `currency` (its own, else its `*` one, else
/// none) and its delay in days, in one statement.
async fn terms_on(
    c: &mut AnyConnection,
    merchant_id: &str,
    currency: &str,
) -> StoreResult<(FeePlan, i64)> {
    let row = sqlx::query(
        "SELECT f.percent_bps, f.fixed, f.refund_fees,
            (SELECT s.delay_days FROM settlement_settings s WHERE s.merchant_id = $1) AS delay_days
         FROM (SELECT 1 AS one) o
         LEFT JOIN fee_plans f ON f.merchant_id = $2 AND f.currency IN ($3, '*')
         ORDER BY CASE WHEN f.currency = '*' THEN 1 ELSE 0 END LIMIT 1",
    )
    .bind(merchant_id)
    .bind(merchant_id)
    .bind(currency)
    .fetch_one(&mut *c)
    .await?;
    let plan = match row.try_get::<Option<i64>, _>("percent_bps")? {
        Some(bps) => FeePlan {
            percent_bps: bps as u32,
            fixed: row.try_get("fixed")?,
            refund_fees: row.try_get::<i64, _>("refund_fees")? != 0,
        },
        None => FeePlan::default(),
    };
    let delay = row
        .try_get::<Option<i64>, _>("delay_days")?
        .unwrap_or(DEFAULT_DELAY_DAYS);
    Ok((plan, delay))
}

/// The pending charge of a capture, and its balance move.
async fn charge(
    c: &mut AnyConnection,
    p: (&str, &str, &str, i64),
    plan: &FeePlan,
    delay: i64,
    now: i64,
) -> StoreResult<i64> {
    let (merchant_id, currency, payment_id, captured) = p;
    let fee = plan.fee(captured);
    insert_txn(
        c,
        merchant_id,
        "charge",
        payment_id,
        Some(payment_id),
        currency,
        captured,
        fee,
        "pending",
        now + delay * DAY,
        now,
    )
    .await?;
    move_balance(c, merchant_id, currency, 0, captured - fee, now).await?;
    Ok(fee)
}

/// The ledger's side of a payment just recorded (it has no refunds and no
/// ledger rows yet): its capture, if it captured anything.
pub(super) async fn new_payment(c: &mut AnyConnection, p: &Payment, now: i64) -> StoreResult<()> {
    if p.amount_captured <= 0 {
        return Ok(());
    }
    let currency = p.currency.code();
    let (plan, delay) = terms_on(c, &p.merchant_id, currency).await?;
    charge(
        c,
        (&p.merchant_id, currency, &p.id, p.amount_captured),
        &plan,
        delay,
        now,
    )
    .await?;
    Ok(())
}

/// Moves a merchant's balance in one currency, making its row if need be.
pub(super) async fn move_balance(
    c: &mut AnyConnection,
    merchant_id: &str,
    currency: &str,
    available: i64,
    pending: i64,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO balances (merchant_id, currency, available, pending, reserved, updated)
         VALUES ($1, $2, $3, $4, 0, $5)
         ON CONFLICT (merchant_id, currency) DO UPDATE SET
            available = balances.available + $6, pending = balances.pending + $7, updated = $8",
    )
    .bind(merchant_id)
    .bind(currency)
    .bind(available)
    .bind(pending)
    .bind(now)
    .bind(available)
    .bind(pending)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_txn(
    c: &mut AnyConnection,
    merchant_id: &str,
    kind: &str,
    source_id: &str,
    payment_id: Option<&str>,
    currency: &str,
    amount: i64,
    fee: i64,
    status: &str,
    available_on: i64,
    now: i64,
) -> StoreResult<String> {
    let id = new_id("txn");
    // A payout's own rows name it.
    let payout_id = kind.starts_with("payout").then_some(source_id);
    sqlx::query(
        "INSERT INTO balance_transactions (id, merchant_id, type, source_id, payment_id, currency,
            amount, fee, net, status, available_on, payout_id, created)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(merchant_id)
    .bind(kind)
    .bind(source_id)
    .bind(payment_id)
    .bind(currency)
    .bind(amount)
    .bind(fee)
    .bind(amount - fee)
    .bind(status)
    .bind(available_on)
    .bind(payout_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(id)
}

/// Brings the ledger up to date with payment `payment_id` on `c`, inside
/// the transaction that changed it: its capture, once, as a pending charge
/// (less the fee) available after the merchant's delay; each succeeded
/// refund, once, out of the available balance (with its share of the fee
/// back, if the plan says so).
pub(super) async fn sync(c: &mut AnyConnection, payment_id: &str, now: i64) -> StoreResult<()> {
    let Some(p) =
        sqlx::query("SELECT merchant_id, currency, amount_captured FROM payments WHERE id = $1")
            .bind(payment_id)
            .fetch_optional(&mut *c)
            .await?
    else {
        return Ok(());
    };
    let merchant_id: String = p.try_get("merchant_id")?;
    let currency: String = p.try_get("currency")?;
    let captured: i64 = p.try_get("amount_captured")?;
    if captured <= 0 {
        return Ok(());
    }
    let (plan, delay) = terms_on(c, &merchant_id, &currency).await?;
    let recorded = sqlx::query(
        "SELECT fee FROM balance_transactions WHERE type = 'charge' AND source_id = $1",
    )
    .bind(payment_id)
    .fetch_optional(&mut *c)
    .await?;
    let charge_fee = match recorded {
        Some(row) => row.try_get::<i64, _>("fee")?,
        None => {
            charge(
                c,
                (&merchant_id, &currency, payment_id, captured),
                &plan,
                delay,
                now,
            )
            .await?
        }
    };
    // Refunds not yet in the ledger, oldest first; each gives back the
    // difference its total makes to the fee share, so they add up exactly.
    let refunds = sqlx::query(
        "SELECT r.id, r.amount FROM refunds r
         WHERE r.payment_id = $1 AND r.status = 'succeeded'
           AND NOT EXISTS (SELECT 1 FROM balance_transactions t
                           WHERE t.type = 'refund' AND t.source_id = r.id)
         ORDER BY r.created, r.id",
    )
    .bind(payment_id)
    .fetch_all(&mut *c)
    .await?;
    if refunds.is_empty() {
        return Ok(());
    }
    let row = sqlx::query(
        "SELECT CAST(coalesce(sum(-amount), 0) AS BIGINT) AS refunded,
                CAST(coalesce(sum(-fee), 0) AS BIGINT) AS fee_back
         FROM balance_transactions WHERE type = 'refund' AND payment_id = $1",
    )
    .bind(payment_id)
    .fetch_one(&mut *c)
    .await?;
    let (mut refunded, mut fee_back): (i64, i64) =
        (row.try_get("refunded")?, row.try_get("fee_back")?);
    for refund in refunds {
        let id: String = refund.try_get("id")?;
        let amount: i64 = refund.try_get("amount")?;
        refunded += amount;
        let share = plan.refunded_fee(charge_fee, captured, refunded) - fee_back;
        fee_back += share;
        insert_txn(
            c,
            &merchant_id,
            "refund",
            &id,
            Some(payment_id),
            &currency,
            -amount,
            -share,
            "available",
            now,
            now,
        )
        .await?;
        move_balance(c, &merchant_id, &currency, -(amount - share), 0, now).await?;
    }
    Ok(())
}

/// Days after a capture its money is available, unless the merchant's
/// settlement settings say otherwise.
pub const DEFAULT_DELAY_DAYS: i64 = 2;

#[async_trait]
impl LedgerStore for SqlStore {
    async fn balances(&self, merchant_id: &str) -> StoreResult<Vec<BalanceRow>> {
        sqlx::query("SELECT * FROM balances WHERE merchant_id = $1 ORDER BY currency")
            .bind(merchant_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(BalanceRow {
                    currency: currency(row)?,
                    available: row.try_get("available")?,
                    pending: row.try_get("pending")?,
                    reserved: row.try_get("reserved")?,
                })
            })
            .collect()
    }

    async fn balance_transactions(
        &self,
        merchant_id: &str,
        q: &TxnQuery,
    ) -> StoreResult<Vec<BalanceTransaction>> {
        let mut sql = String::from("SELECT * FROM balance_transactions WHERE merchant_id = ?");
        let mut binds: Vec<String> = Vec::new();
        for (value, clause) in [
            (&q.kind, " AND type = ?"),
            (&q.source, " AND (source_id = ? OR payment_id = ?)"),
            (&q.payout, " AND payout_id = ?"),
            (&q.settlement, " AND settlement_id = ?"),
        ] {
            if let Some(value) = value {
                sql.push_str(clause);
                binds.extend(std::iter::repeat_n(
                    value.clone(),
                    clause.matches('?').count(),
                ));
            }
        }
        if q.created_gte.is_some() {
            sql.push_str(" AND created >= ?");
        }
        if q.created_lt.is_some() {
            sql.push_str(" AND created < ?");
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM balance_transactions WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        for value in binds {
            query = query.bind(value);
        }
        if let Some(t) = q.created_gte {
            query = query.bind(t);
        }
        if let Some(t) = q.created_lt {
            query = query.bind(t);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(txn_from_row)
            .collect()
    }

    async fn balance_transaction(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> StoreResult<Option<BalanceTransaction>> {
        self.find_owned(
            "SELECT * FROM balance_transactions WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            txn_from_row,
        )
        .await
    }

    async fn due_releases(&self, now: i64) -> StoreResult<Vec<Release>> {
        sqlx::query(
            "SELECT merchant_id, currency, CAST(sum(net) AS BIGINT) AS amount
             FROM balance_transactions WHERE status = 'pending' AND available_on <= $1
             GROUP BY merchant_id, currency",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Release {
                merchant_id: row.try_get("merchant_id")?,
                currency: currency(row)?,
                amount: row.try_get("amount")?,
            })
        })
        .collect()
    }

    async fn release(
        &self,
        merchant_id: &str,
        currency_code: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<i64> {
        let (merchant_id, currency_code) = (merchant_id.to_owned(), currency_code.to_owned());
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        let released = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        let out = released.clone();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                // Each row moves once: whichever instance flips it.
                let rows = sqlx::query(
                    "UPDATE balance_transactions SET status = 'available'
                     WHERE merchant_id = $1 AND currency = $2 AND status = 'pending'
                       AND available_on <= $3
                     RETURNING net",
                )
                .bind(&merchant_id)
                .bind(&currency_code)
                .bind(now)
                .fetch_all(&mut *c)
                .await?;
                let mut amount = 0i64;
                for row in &rows {
                    amount += row.try_get::<i64, _>("net")?;
                }
                if rows.is_empty() {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                move_balance(c, &merchant_id, &currency_code, amount, -amount, now).await?;
                out.store(amount, std::sync::atomic::Ordering::SeqCst);
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await?;
        Ok(released.load(std::sync::atomic::Ordering::SeqCst))
    }

    async fn set_fee_plan(
        &self,
        merchant_id: &str,
        currency_code: &str,
        plan: &FeePlan,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO fee_plans (merchant_id, currency, percent_bps, fixed, refund_fees, updated)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (merchant_id, currency) DO UPDATE SET percent_bps = $7, fixed = $8,
                    refund_fees = $9, updated = $10",
            )
            .bind(merchant_id.to_owned())
            .bind(currency_code.to_owned())
            .bind(i64::from(plan.percent_bps))
            .bind(plan.fixed)
            .bind(i64::from(plan.refund_fees))
            .bind(now)
            .bind(i64::from(plan.percent_bps))
            .bind(plan.fixed)
            .bind(i64::from(plan.refund_fees))
            .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn set_settlement_settings(&self, s: &SettlementSettings, now: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO settlement_settings (merchant_id, time_zone, cutoff, delay_days, updated)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (merchant_id) DO UPDATE SET time_zone = $6, cutoff = $7,
                    delay_days = $8, updated = $9",
            )
            .bind(s.merchant_id.clone())
            .bind(s.time_zone.clone())
            .bind(s.cutoff.clone())
            .bind(s.delay_days)
            .bind(now)
            .bind(s.time_zone.clone())
            .bind(s.cutoff.clone())
            .bind(s.delay_days)
            .bind(now),
        )
        .await?;
        Ok(())
    }
}

fn settlement_from_row(row: &AnyRow) -> StoreResult<Settlement> {
    Ok(Settlement {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        currency: currency(row)?,
        local_date: row.try_get("local_date")?,
        time_zone: row.try_get("time_zone")?,
        period_start: row.try_get("period_start")?,
        period_end: row.try_get("period_end")?,
        charge_count: row.try_get("charge_count")?,
        refund_count: row.try_get("refund_count")?,
        gross: row.try_get("gross")?,
        refunded: row.try_get("refunded")?,
        fees: row.try_get("fees")?,
        carried: row.try_get("carried")?,
        net: row.try_get("net")?,
        status: row.try_get("status")?,
        payout_id: row.try_get("payout_id")?,
        created: row.try_get("created")?,
    })
}

#[async_trait]
impl SettlementStore for SqlStore {
    async fn settlement_settings(
        &self,
        merchant_id: &str,
    ) -> StoreResult<Option<SettlementSettings>> {
        self.find_one(
            "SELECT * FROM settlement_settings WHERE merchant_id = $1",
            merchant_id,
            |row| {
                Ok(SettlementSettings {
                    merchant_id: row.try_get("merchant_id")?,
                    time_zone: row.try_get("time_zone")?,
                    cutoff: row.try_get("cutoff")?,
                    delay_days: row.try_get("delay_days")?,
                })
            },
        )
        .await
    }

    async fn unsettled(&self, before: i64) -> StoreResult<Vec<Unsettled>> {
        sqlx::query(
            "SELECT merchant_id, currency, CAST(min(created) AS BIGINT) AS since
             FROM balance_transactions WHERE settlement_id IS NULL AND created < $1
               AND type IN ('charge', 'refund')
             GROUP BY merchant_id, currency",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Unsettled {
                merchant_id: row.try_get("merchant_id")?,
                currency: currency(row)?,
                since: row.try_get("since")?,
            })
        })
        .collect()
    }

    async fn unsettled_sums(
        &self,
        merchant_id: &str,
        currency_code: &str,
        before: i64,
    ) -> StoreResult<Settlement> {
        let row = sqlx::query(
            "SELECT
                CAST(coalesce(sum(CASE WHEN type = 'charge' THEN 1 ELSE 0 END), 0) AS BIGINT) AS charge_count,
                CAST(coalesce(sum(CASE WHEN type = 'refund' THEN 1 ELSE 0 END), 0) AS BIGINT) AS refund_count,
                CAST(coalesce(sum(CASE WHEN type = 'charge' THEN amount ELSE 0 END), 0) AS BIGINT) AS gross,
                CAST(coalesce(sum(CASE WHEN type = 'refund' THEN -amount ELSE 0 END), 0) AS BIGINT) AS refunded,
                CAST(coalesce(sum(fee), 0) AS BIGINT) AS fees,
                CAST(coalesce(sum(net), 0) AS BIGINT) AS net,
                CAST(coalesce(min(created), 0) AS BIGINT) AS first
             FROM balance_transactions
             WHERE merchant_id = $1 AND currency = $2 AND settlement_id IS NULL AND created < $3
               AND type IN ('charge', 'refund')",
        )
        .bind(merchant_id)
        .bind(currency_code)
        .bind(before)
        .fetch_one(&self.pool)
        .await?;
        Ok(Settlement {
            id: String::new(),
            merchant_id: merchant_id.to_string(),
            currency: kasse_core::Currency::parse(currency_code)
                .map_err(|_| corrupt("currency", currency_code))?,
            local_date: String::new(),
            time_zone: String::new(),
            period_start: row.try_get("first")?,
            period_end: before,
            charge_count: row.try_get("charge_count")?,
            refund_count: row.try_get("refund_count")?,
            gross: row.try_get("gross")?,
            refunded: row.try_get("refunded")?,
            fees: row.try_get("fees")?,
            carried: 0,
            net: row.try_get("net")?,
            status: "closed".into(),
            payout_id: None,
            created: 0,
        })
    }

    async fn last_settlement(
        &self,
        merchant_id: &str,
        currency_code: &str,
    ) -> StoreResult<Option<Settlement>> {
        sqlx::query(
            "SELECT * FROM settlements WHERE merchant_id = $1 AND currency = $2
             ORDER BY period_end DESC LIMIT 1",
        )
        .bind(merchant_id)
        .bind(currency_code)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(settlement_from_row)
        .transpose()
    }

    async fn close_settlement(
        &self,
        s: &Settlement,
        rows: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (s, events, dialect) = (s.clone(), events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |c| {
            Box::pin(async move {
                let inserted = sqlx::query(
                    "INSERT INTO settlements (id, merchant_id, currency, local_date, time_zone,
                        period_start, period_end, charge_count, refund_count, gross, refunded, fees,
                        carried, net, status, created)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&s.id)
                .bind(&s.merchant_id)
                .bind(s.currency.code())
                .bind(&s.local_date)
                .bind(&s.time_zone)
                .bind(s.period_start)
                .bind(s.period_end)
                .bind(s.charge_count)
                .bind(s.refund_count)
                .bind(s.gross)
                .bind(s.refunded)
                .bind(s.fees)
                .bind(s.carried)
                .bind(s.net)
                .bind(&s.status)
                .bind(s.created)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if inserted != 1 {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                let marked = sqlx::query(
                    "UPDATE balance_transactions SET settlement_id = $1
                     WHERE merchant_id = $2 AND currency = $3 AND settlement_id IS NULL
                       AND created < $4 AND type IN ('charge', 'refund')",
                )
                .bind(&s.id)
                .bind(&s.merchant_id)
                .bind(s.currency.code())
                .bind(s.period_end)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if marked as i64 != rows {
                    return Ok(Done::Undone((false, Vec::new())));
                }
                let leased = insert_events(dialect, c, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }

    async fn settlement_rows(
        &self,
        settlement_id: &str,
    ) -> StoreResult<Vec<(BalanceTransaction, Option<String>)>> {
        sqlx::query(
            "SELECT t.*, p.order_reference FROM balance_transactions t
             LEFT JOIN payments p ON p.id = t.payment_id
             WHERE t.settlement_id = $1 ORDER BY t.created, t.rowid",
        )
        .bind(settlement_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((txn_from_row(row)?, row.try_get("order_reference")?)))
        .collect()
    }

    async fn settlement(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Settlement>> {
        self.find_owned(
            "SELECT * FROM settlements WHERE id = $1 AND merchant_id = $2",
            merchant_id,
            id,
            settlement_from_row,
        )
        .await
    }

    async fn settlements(
        &self,
        merchant_id: &str,
        starting_after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Settlement>> {
        let mut sql = String::from("SELECT * FROM settlements WHERE merchant_id = ?");
        if starting_after.is_some() {
            sql.push_str(
                " AND (period_end, rowid) < (SELECT period_end, rowid FROM settlements WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY period_end DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(after) = starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(settlement_from_row)
            .collect()
    }
}

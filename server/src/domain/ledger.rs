//! The merchant's money: the balance, the ledger that explains it, and the
//! release of pending money when its day comes. The ledger itself is
//! written by the store, in the transaction of each capture and refund.

use kasse_core::api::{self, CurrencyAmount, EventType};
use kasse_core::error::ErrorCode;
use serde_json::json;

use super::DomainError;
use super::events::new_event;
use crate::state::AppState;
use crate::store::{BalanceTransaction, TxnQuery};

/// The kinds of ledger row.
pub const KINDS: [&str; 7] = [
    "charge",
    "refund",
    "payout",
    "payout_failure",
    "payout_cancel",
    "payout_return",
    "top_up",
];

pub fn transaction_view(t: &BalanceTransaction) -> api::BalanceTransaction {
    api::BalanceTransaction {
        id: t.id.clone(),
        object: "balance_transaction".into(),
        kind: t.kind.clone(),
        amount: t.amount,
        fee: t.fee,
        net: t.net,
        currency: t.currency.code().to_string(),
        source: t.source_id.clone(),
        payment: t.payment_id.clone(),
        status: t.status.clone(),
        available_on: t.available_on,
        settlement: t.settlement_id.clone(),
        payout: t.payout_id.clone(),
        created: t.created,
    }
}

/// Fills in where each payment's captured money is: its settlement and
/// that settlement's status, or `unsettled`.
pub async fn with_settlements(
    ctx: &AppState,
    payments: &mut [api::Payment],
) -> Result<(), DomainError> {
    let ids: Vec<String> = payments
        .iter()
        .filter(|p| p.amount_captured > 0)
        .map(|p| p.id.clone())
        .collect();
    let found = ctx.store.payment_settlements(&ids).await?;
    for p in payments.iter_mut() {
        if let Some((settlement, status)) = found.get(&p.id) {
            p.settlement = settlement.clone();
            p.settlement_status = Some(match status.as_deref() {
                None => "unsettled".into(),
                Some("closed") => "settled".into(),
                Some(other) => other.to_string(),
            });
        }
    }
    Ok(())
}

/// The merchant's balance, per currency.
pub async fn balance(ctx: &AppState, merchant_id: &str) -> Result<api::Balance, DomainError> {
    let rows = ctx.store.balances(merchant_id).await?;
    let of = |pick: fn(&crate::store::BalanceRow) -> i64| {
        rows.iter()
            .map(|r| CurrencyAmount {
                amount: pick(r),
                currency: r.currency.code().to_string(),
            })
            .collect()
    };
    Ok(api::Balance {
        object: "balance".into(),
        available: of(|r| r.available),
        pending: of(|r| r.pending),
        reserved: of(|r| r.reserved),
    })
}

/// One page of the ledger, newest first, and whether more follow.
pub async fn transactions(
    ctx: &AppState,
    merchant_id: &str,
    mut query: TxnQuery,
) -> Result<(Vec<BalanceTransaction>, bool), DomainError> {
    if let Some(kind) = &query.kind
        && !KINDS.contains(&kind.as_str())
    {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "type",
            format!("type must be one of {}; got '{kind}'.", KINDS.join(", ")),
        ));
    }
    if let Some(after) = &query.starting_after
        && ctx
            .store
            .balance_transaction(merchant_id, after)
            .await?
            .is_none()
    {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "starting_after",
            format!("starting_after names no balance transaction of yours: '{after}'."),
        ));
    }
    let limit = query.limit;
    query.limit = limit + 1;
    let mut found = ctx.store.balance_transactions(merchant_id, &query).await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok((found, more))
}

/// Makes pending money whose day has come available, telling each
/// merchant with `balance.available`; how much moved in all, per row.
pub async fn sweep(ctx: &AppState) -> Result<u32, DomainError> {
    let now = ctx.clock.now();
    let mut released = 0;
    for due in ctx.store.due_releases(now).await? {
        let event = new_event(
            ctx,
            &due.merchant_id,
            EventType::BalanceAvailable,
            &json!({"object": "balance_release", "amount": due.amount,
                    "currency": due.currency.code(), "released_at": now}),
            None,
        );
        if ctx
            .store
            .release(&due.merchant_id, due.currency.code(), now, &[event])
            .await?
            != 0
        {
            released += 1;
        }
    }
    Ok(released)
}

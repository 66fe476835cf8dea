//! `/v1/balance` and `/v1/balance_transactions`: what Kasse holds for the
//! merchant, and the movements that explain every figure.

use axum::Json;
use axum::extract::{Path, Query, State};
use kasse_core::api::{self, BalanceTransactionList, ErrorBody, SettlementList};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState, MerchantAuth, page_limit, query_params};
use crate::domain::{DomainError, ledger, reports, settlements};
use crate::store::TxnQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(balance))
        .routes(routes!(list))
        .routes(routes!(retrieve))
        .routes(routes!(settlements))
        .routes(routes!(settlement))
        .routes(routes!(settlement_transactions))
        .routes(routes!(settlement_report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ReportParams {
    /// `csv` (default) or `json`.
    format: Option<String>,
}

/// A settlement's report
///
/// Version 1: one row per ledger row, each amount as integer minor units
/// and as an exact decimal, each time in UTC and in the merchant's zone
/// with its offset; RFC 4180 CSV (free-text cells that a spreadsheet would
/// run as a formula start with `'`), or JSON with the totals. The same
/// settlement always gives the same bytes; `Kasse-Report-Sha256` is their
/// SHA-256.
#[utoipa::path(
    get, path = "/v1/settlements/{id}/report", tag = "Balance",
    params(("id" = String, Path, description = "The settlement's id, `stl_…`"), ReportParams),
    responses(
        (status = 200, description = "The report",
            content((String = "text/csv"), (serde_json::Value = "application/json")),
            headers(("Kasse-Report-Sha256" = String, description = "The SHA-256 of the body, in hex"))),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 404, description = "No such settlement of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn settlement_report(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    params: Result<Query<ReportParams>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let params = query_params(params)?;
    let report = reports::settlement_report(
        &ctx,
        &merchant.id,
        &id,
        params.format.as_deref().unwrap_or("csv"),
    )
    .await?;
    Ok(report_response(report))
}

/// A report as a download, with its SHA-256 in `Kasse-Report-Sha256`.
pub(super) fn report_response(report: reports::Report) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut response = report.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(report.content_type),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", report.file_name))
            .expect("ids and dates are ASCII"),
    );
    headers.insert(
        "kasse-report-sha256",
        HeaderValue::from_str(&report.sha256).expect("hex"),
    );
    response
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageParams {
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List settlements
///
/// Newest first: each a business day (from one cut-off in the merchant's
/// zone to the next) in one currency.
#[utoipa::path(
    get, path = "/v1/settlements", tag = "Balance",
    params(PageParams),
    responses(
        (status = 200, description = "One page", body = SettlementList),
        (status = 400, description = "A bad cursor or limit", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn settlements(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SettlementList>, ApiError> {
    let params = query_params(params)?;
    let limit = page_limit(params.limit)?;
    if let Some(after) = &params.starting_after {
        settlements::find(&ctx, &merchant.id, after)
            .await
            .map_err(|_| {
                ApiError::invalid(
                    kasse_core::error::ErrorCode::ParameterInvalid,
                    "starting_after",
                    format!("starting_after names no settlement of yours: '{after}'."),
                )
            })?;
    }
    let mut found = ctx
        .store
        .settlements(&merchant.id, params.starting_after.as_deref(), limit + 1)
        .await?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok(Json(SettlementList {
        object: "list".into(),
        data: found.iter().map(settlements::view).collect(),
        has_more,
    }))
}

/// Retrieve a settlement
#[utoipa::path(
    get, path = "/v1/settlements/{id}", tag = "Balance",
    params(("id" = String, Path, description = "The settlement's id, `stl_…`")),
    responses(
        (status = 200, description = "The settlement", body = api::Settlement),
        (status = 404, description = "No such settlement of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn settlement(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Settlement>, ApiError> {
    Ok(Json(settlements::view(
        &settlements::find(&ctx, &merchant.id, &id).await?,
    )))
}

/// A settlement's transactions
///
/// The ledger rows it holds, newest first; they add up to its totals.
#[utoipa::path(
    get, path = "/v1/settlements/{id}/transactions", tag = "Balance",
    params(("id" = String, Path, description = "The settlement's id, `stl_…`"), PageParams),
    responses(
        (status = 200, description = "One page", body = BalanceTransactionList),
        (status = 400, description = "A bad cursor or limit", body = ErrorBody),
        (status = 404, description = "No such settlement of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn settlement_transactions(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BalanceTransactionList>, ApiError> {
    let params = query_params(params)?;
    let found = settlements::find(&ctx, &merchant.id, &id).await?;
    let (rows, has_more) = ledger::transactions(
        &ctx,
        &merchant.id,
        TxnQuery {
            settlement: Some(found.id),
            starting_after: params.starting_after,
            limit: page_limit(params.limit)?,
            ..TxnQuery::default()
        },
    )
    .await?;
    Ok(Json(BalanceTransactionList {
        object: "list".into(),
        data: rows.iter().map(ledger::transaction_view).collect(),
        has_more,
    }))
}

/// The balance
///
/// Per currency: `available` (captured, less fees and refunds, past the
/// merchant's delay), `pending` (not yet available) and `reserved`. The sum
/// of the ledger's `net` always equals these.
#[utoipa::path(
    get, path = "/v1/balance", tag = "Balance",
    responses((status = 200, description = "The balance", body = api::Balance)),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn balance(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
) -> Result<Json<api::Balance>, ApiError> {
    Ok(Json(ledger::balance(&ctx, &merchant.id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// `charge`, `refund`, `payout`, `payout_failure`, `payout_cancel`,
    /// `payout_return` or `top_up`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// A payment (its capture and refunds) or a refund.
    source: Option<String>,
    payout: Option<String>,
    settlement: Option<String>,
    /// Created at or after this Unix time.
    created_gte: Option<i64>,
    /// Created before this Unix time.
    created_lt: Option<i64>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List balance transactions
///
/// The ledger, newest first: one row per capture (`charge`: amount, fee,
/// net) and per refund.
#[utoipa::path(
    get, path = "/v1/balance_transactions", tag = "Balance",
    params(ListParams),
    responses(
        (status = 200, description = "One page", body = BalanceTransactionList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BalanceTransactionList>, ApiError> {
    let params = query_params(params)?;
    let (found, has_more) = ledger::transactions(
        &ctx,
        &merchant.id,
        TxnQuery {
            kind: params.kind,
            source: params.source,
            payout: params.payout,
            settlement: params.settlement,
            created_gte: params.created_gte,
            created_lt: params.created_lt,
            starting_after: params.starting_after,
            limit: page_limit(params.limit)?,
        },
    )
    .await?;
    Ok(Json(BalanceTransactionList {
        object: "list".into(),
        data: found.iter().map(ledger::transaction_view).collect(),
        has_more,
    }))
}

/// Retrieve a balance transaction
#[utoipa::path(
    get, path = "/v1/balance_transactions/{id}", tag = "Balance",
    params(("id" = String, Path, description = "The transaction's id, `txn_…`")),
    responses(
        (status = 200, description = "The transaction", body = api::BalanceTransaction),
        (status = 404, description = "No such transaction of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::BalanceTransaction>, ApiError> {
    let found = ctx
        .store
        .balance_transaction(&merchant.id, &id)
        .await?
        .ok_or(DomainError::NotFound {
            kind: "balance transaction",
            id,
        })?;
    Ok(Json(ledger::transaction_view(&found)))
}

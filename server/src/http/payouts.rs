//! `/v1/payouts`: money sent from the merchant's balance to a card or a
//! bank account; `/v1/sandbox/top_ups`; `/v1/reports` over an interval.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use kasse_core::api::{
    self, CreatePayoutRequest, CreateReportRequest, ErrorBody, PayoutList, ReportRun, TopUpRequest,
};
use kasse_core::error::ErrorCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth, page_limit, query_params};
use crate::domain::{payouts, reports};
use crate::store::StaffUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve))
        .routes(routes!(approve))
        .routes(routes!(cancel))
        .routes(routes!(top_up))
        .routes(routes!(create_report))
        .routes(routes!(report))
        .routes(routes!(report_file))
}

const STATUSES: [&str; 7] = [
    "requires_approval",
    "pending",
    "in_transit",
    "paid",
    "failed",
    "canceled",
    "returned",
];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// `requires_approval`, `pending`, `in_transit`, `paid`, `failed`,
    /// `canceled` or `returned`.
    status: Option<String>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List payouts
#[utoipa::path(
    get, path = "/v1/payouts", tag = "Payouts",
    params(ListParams),
    responses(
        (status = 200, description = "One page, newest first", body = PayoutList),
        (status = 400, description = "A bad filter or cursor", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PayoutList>, ApiError> {
    let params = query_params(params)?;
    let limit = page_limit(params.limit)?;
    if let Some(status) = &params.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::invalid(
            ErrorCode::ParameterInvalid,
            "status",
            format!(
                "status must be one of {}; got '{status}'.",
                STATUSES.join(", ")
            ),
        ));
    }
    if let Some(after) = &params.starting_after
        && ctx.store.payout(&merchant.id, after).await?.is_none()
    {
        return Err(ApiError::invalid(
            ErrorCode::ParameterInvalid,
            "starting_after",
            format!("starting_after names no payout of yours: '{after}'."),
        ));
    }
    let mut found = ctx
        .store
        .payouts(
            &merchant.id,
            params.status.as_deref(),
            params.starting_after.as_deref(),
            limit + 1,
        )
        .await?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok(Json(PayoutList {
        object: "list".into(),
        data: found.iter().map(payouts::view).collect(),
        has_more,
    }))
}

/// Create a payout
///
/// Sends `amount` from the available balance to a saved card, a card typed
/// in, or a bank account. The amount is reserved at once (`409
/// balance_insufficient` if it is not available). `Idempotency-Key` is
/// required, and `merchant_reference` is unique forever, so a retry can
/// never pay twice. A payout at or above the merchant's approval
/// threshold is `requires_approval` until an admin other than its maker
/// approves it; card payouts are usually `paid` at once, bank payouts
/// `in_transit` until the bank's next cycle.
#[utoipa::path(
    post, path = "/v1/payouts", tag = "Payouts",
    params(IdempotencyKey),
    request_body = CreatePayoutRequest,
    responses(
        (status = 201, description = "The payout", body = api::Payout),
        (status = 400, description = "Bad input, or no Idempotency-Key", body = ErrorBody),
        (status = 404, description = "No such saved card or settlement", body = ErrorBody),
        (status = 409, description = "Not enough available, a reused reference, or a settlement paid out already", body = ErrorBody),
        (status = 422, description = "This Kasse has no card vault key", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create(
    State(ctx): State<AppState>,
    headers: HeaderMap,
    MerchantAuth(merchant): MerchantAuth,
    staff: Option<Extension<StaffUser>>,
    ApiJson(req): ApiJson<CreatePayoutRequest>,
) -> Result<(StatusCode, Json<api::Payout>), ApiError> {
    if !headers.contains_key(super::idempotency::HEADER) {
        return Err(ApiError::invalid(
            ErrorCode::IdempotencyKeyRequired,
            "Idempotency-Key",
            "A payout moves money out: send an Idempotency-Key header (a UUID you keep with the payout), so that a retry cannot pay twice.",
        ));
    }
    let created_by = staff.map_or_else(|| "api".to_string(), |Extension(user)| user.id);
    let payout = payouts::create(&ctx, &merchant.id, &created_by, req).await?;
    Ok((StatusCode::CREATED, Json(payouts::view(&payout))))
}

/// Retrieve a payout
#[utoipa::path(
    get, path = "/v1/payouts/{id}", tag = "Payouts",
    params(("id" = String, Path, description = "The payout's id, `po_…`")),
    responses(
        (status = 200, description = "The payout", body = api::Payout),
        (status = 404, description = "No such payout of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Payout>, ApiError> {
    let payout = payouts::find(&ctx, &merchant.id, &id).await?;
    Ok(Json(payouts::view(&payout)))
}

/// Approve a payout
///
/// By an admin logged in to the terminal who did not make it (a secret
/// key is not a person, and is refused); the payout then goes to the rail.
#[utoipa::path(
    post, path = "/v1/payouts/{id}/approve", tag = "Payouts",
    params(("id" = String, Path, description = "The payout's id, `po_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The payout, approved", body = api::Payout),
        (status = 403, description = "Not an admin, the payout's maker, or a secret key", body = ErrorBody),
        (status = 404, description = "No such payout of this merchant", body = ErrorBody),
        (status = 409, description = "It does not wait for approval", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn approve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    staff: Option<Extension<StaffUser>>,
    Path(id): Path<String>,
) -> Result<Json<api::Payout>, ApiError> {
    let staff = staff.map(|Extension(user)| user.id);
    let payout = payouts::approve(&ctx, &merchant.id, &id, staff.as_deref()).await?;
    Ok(Json(payouts::view(&payout)))
}

/// Cancel a payout
///
/// While it waits for approval, or before it went to the rail; its money
/// is available again.
#[utoipa::path(
    post, path = "/v1/payouts/{id}/cancel", tag = "Payouts",
    params(("id" = String, Path, description = "The payout's id, `po_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The payout, canceled", body = api::Payout),
        (status = 404, description = "No such payout of this merchant", body = ErrorBody),
        (status = 409, description = "It went to the rail already", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn cancel(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Payout>, ApiError> {
    let payout = payouts::cancel(&ctx, &merchant.id, &id).await?;
    Ok(Json(payouts::view(&payout)))
}

/// Top up the balance (sandbox)
///
/// Adds money to the available balance, to try payouts; refused by a
/// Kasse started with `--live`.
#[utoipa::path(
    post, path = "/v1/sandbox/top_ups", tag = "Payouts",
    params(IdempotencyKey),
    request_body = TopUpRequest,
    responses(
        (status = 201, description = "The top-up", body = api::TopUp),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 403, description = "This Kasse handles real money", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn top_up(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<TopUpRequest>,
) -> Result<(StatusCode, Json<api::TopUp>), ApiError> {
    let top_up = payouts::top_up(&ctx, &merchant.id, req.amount, &req.currency).await?;
    Ok((StatusCode::CREATED, Json(top_up)))
}

/// Make a report
///
/// Over `[interval_start, interval_end)`, version 1: `itemised_settlement`,
/// `balance_summary` or `payouts`, in CSV (RFC 4180, formula-safe) or
/// JSON, with every amount as minor units and as an exact decimal and
/// every time in UTC and in the merchant's zone. It is kept as made: its
/// file is the same bytes every time, with the SHA-256 shown here.
#[utoipa::path(
    post, path = "/v1/reports", tag = "Balance",
    params(IdempotencyKey),
    request_body = CreateReportRequest,
    responses(
        (status = 201, description = "The report", body = ReportRun),
        (status = 400, description = "An unknown type or format, or a bad interval", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn create_report(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateReportRequest>,
) -> Result<(StatusCode, Json<ReportRun>), ApiError> {
    let report = reports::interval_report(&ctx, &merchant.id, &req).await?;
    Ok((StatusCode::CREATED, Json(reports::run_view(&report))))
}

/// Retrieve a report
#[utoipa::path(
    get, path = "/v1/reports/{id}", tag = "Balance",
    params(("id" = String, Path, description = "The report's id, `rep_…`")),
    responses(
        (status = 200, description = "The report", body = ReportRun),
        (status = 404, description = "No such report of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn report(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<ReportRun>, ApiError> {
    let report = reports::find(&ctx, &merchant.id, &id).await?;
    Ok(Json(reports::run_view(&report)))
}

/// Download a report
#[utoipa::path(
    get, path = "/v1/reports/{id}/file", tag = "Balance",
    params(("id" = String, Path, description = "The report's id, `rep_…`")),
    responses(
        (status = 200, description = "The report's file",
            content((String = "text/csv"), (serde_json::Value = "application/json")),
            headers(("Kasse-Report-Sha256" = String, description = "The SHA-256 of the body, in hex"))),
        (status = 404, description = "No such report of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn report_file(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let report = reports::find(&ctx, &merchant.id, &id).await?;
    Ok(super::balance::report_response(reports::file(&report)))
}

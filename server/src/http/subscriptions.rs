//! `/v1/subscriptions`: a customer's saved card charged on a calendar.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kasse_core::api::{
    self, CreateSubscription, ErrorBody, SubscriptionList, UpcomingCharge, UpcomingList,
};
use kasse_core::error::ErrorCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth, page_limit, query_params};
use crate::domain::subscriptions;
use crate::domain::views;
use crate::store::Subscription;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve))
        .routes(routes!(upcoming))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(cancel))
}

fn view(s: &Subscription) -> Result<Json<api::Subscription>, ApiError> {
    let schedule = subscriptions::schedule_of(s)?;
    Ok(Json(views::subscription(s, &schedule)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Only this customer's.
    customer: Option<String>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List subscriptions
#[utoipa::path(
    get, path = "/v1/subscriptions", tag = "Subscriptions",
    params(ListParams),
    responses(
        (status = 200, description = "One page, newest first", body = SubscriptionList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SubscriptionList>, ApiError> {
    let params = query_params(params)?;
    let limit = page_limit(params.limit)?;
    if let Some(after) = &params.starting_after
        && ctx.store.subscription(&merchant.id, after).await?.is_none()
    {
        return Err(ApiError::invalid(
            ErrorCode::ParameterInvalid,
            "starting_after",
            format!("starting_after names no subscription of yours: '{after}'."),
        ));
    }
    let mut found = ctx
        .store
        .list_subscriptions(
            &merchant.id,
            params.customer.as_deref(),
            params.starting_after.as_deref(),
            limit + 1,
        )
        .await?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let data = found
        .iter()
        .map(|s| view(s).map(|Json(v)| v))
        .collect::<Result<_, _>>()?;
    Ok(Json(SubscriptionList {
        object: "list".into(),
        data,
        has_more,
    }))
}

/// Create a subscription
///
/// Charges the customer's saved card (`payment_method`) every
/// `interval_count` `interval`s under its mandate, from the first anchored
/// moment at or after `start_at` in `time_zone`. Each cycle's date is
/// computed from that anchor in that zone (the 31st falls on shorter
/// months' last day), never by adding days.
#[utoipa::path(
    post, path = "/v1/subscriptions", tag = "Subscriptions",
    params(IdempotencyKey),
    request_body = CreateSubscription,
    responses(
        (status = 201, description = "The subscription", body = api::Subscription),
        (status = 400, description = "Bad input, or a mandate's bounds", body = ErrorBody),
        (status = 409, description = "The card or its mandate cannot be charged", body = ErrorBody),
        (status = 422, description = "This Kasse has no card vault key", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateSubscription>,
) -> Result<(StatusCode, Json<api::Subscription>), ApiError> {
    let s = subscriptions::create(&ctx, &merchant.id, req).await?;
    Ok((StatusCode::CREATED, view(&s)?))
}

/// Retrieve a subscription
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}", tag = "Subscriptions",
    params(("id" = String, Path, description = "The subscription's id, `sub_…`")),
    responses(
        (status = 200, description = "The subscription", body = api::Subscription),
        (status = 404, description = "No such subscription of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Subscription>, ApiError> {
    view(&subscriptions::find(&ctx, &merchant.id, &id).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UpcomingParams {
    /// How many charges, 1 to 36 (default 12).
    count: Option<u32>,
}

/// The next charges of a subscription
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}/upcoming", tag = "Subscriptions",
    params(("id" = String, Path, description = "The subscription's id, `sub_…`"), UpcomingParams),
    responses(
        (status = 200, description = "The next charges, soonest first; none once nothing more will be charged", body = UpcomingList),
        (status = 400, description = "A bad count", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn upcoming(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    params: Result<Query<UpcomingParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UpcomingList>, ApiError> {
    let params = query_params(params)?;
    let count = params.count.unwrap_or(12);
    if !(1..=36).contains(&count) {
        return Err(ApiError::invalid(
            ErrorCode::ParameterOutOfRange,
            "count",
            format!("count must be between 1 and 36; got {count}."),
        ));
    }
    let s = subscriptions::find(&ctx, &merchant.id, &id).await?;
    let data = subscriptions::upcoming(&s, count)?
        .into_iter()
        .map(|(cycle, at, local)| UpcomingCharge {
            cycle,
            at,
            local,
            amount: s.amount,
            currency: s.currency.code().into(),
        })
        .collect();
    Ok(Json(UpcomingList {
        object: "list".into(),
        data,
    }))
}

/// Pause a subscription
///
/// Nothing is charged while it is paused.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/pause", tag = "Subscriptions",
    params(("id" = String, Path, description = "The subscription's id, `sub_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "Paused", body = api::Subscription),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "Not active or past due", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn pause(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Subscription>, ApiError> {
    view(&subscriptions::pause(&ctx, &merchant.id, &id).await?)
}

/// Resume a paused subscription
///
/// From the first cycle not yet due; cycles whose time passed while it was
/// paused are not charged.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/resume", tag = "Subscriptions",
    params(("id" = String, Path, description = "The subscription's id, `sub_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "Active again", body = api::Subscription),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "Not paused", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn resume(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Subscription>, ApiError> {
    view(&subscriptions::resume(&ctx, &merchant.id, &id).await?)
}

/// Cancel a subscription
///
/// Nothing more is charged.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/cancel", tag = "Subscriptions",
    params(("id" = String, Path, description = "The subscription's id, `sub_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "Canceled", body = api::Subscription),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "Canceled or completed already", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn cancel(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Subscription>, ApiError> {
    view(&subscriptions::cancel(&ctx, &merchant.id, &id).await?)
}

//! `/v1/payment_links`: links (and invoices) the customer pays by email or
//! wherever the merchant shares them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kasse_core::api::{
    self, CreatePaymentLink, ErrorBody, NotificationList, PaymentLinkList, UpdatePaymentLink,
};
use kasse_core::error::ErrorCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth, page_limit, query_params};
use crate::domain::links;
use crate::store::{LinkQuery, LinkStatus};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update))
        .routes(routes!(cancel))
        .routes(routes!(send))
        .routes(routes!(new_url))
        .routes(routes!(notifications))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// `open`, `partially_paid`, `paid`, `expired` or `canceled`.
    status: Option<String>,
    /// Only this customer's.
    customer: Option<String>,
    merchant_reference: Option<String>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List payment links
#[utoipa::path(
    get, path = "/v1/payment_links", tag = "Payment links",
    params(ListParams),
    responses(
        (status = 200, description = "One page, newest first", body = PaymentLinkList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PaymentLinkList>, ApiError> {
    let params = query_params(params)?;
    let status = params
        .status
        .map(|s| {
            LinkStatus::parse(&s).ok_or_else(|| {
                ApiError::invalid(
                    ErrorCode::ParameterInvalid,
                    "status",
                    format!(
                        "status must be open, partially_paid, paid, expired or canceled; got '{s}'."
                    ),
                )
            })
        })
        .transpose()?;
    let (found, has_more) = links::list(
        &ctx,
        &merchant.id,
        LinkQuery {
            status,
            customer: params.customer,
            merchant_reference: params.merchant_reference,
            starting_after: params.starting_after,
            limit: page_limit(params.limit)?,
        },
    )
    .await?;
    Ok(Json(PaymentLinkList {
        object: "list".into(),
        data: found.iter().map(|l| links::view(&ctx, l)).collect(),
        has_more,
    }))
}

/// Create a payment link
///
/// A link the customer opens to pay `amount` (or the sum of `line_items`)
/// until `expires_at`: in parts if `partial.enabled`, or, if `reusable`,
/// in full by anyone up to `max_completions` times. With `notify.email`
/// the customer is emailed the link at once, reminded at each of
/// `reminders.offsets` from expiry while it is unpaid, and sent a receipt
/// after each payment. With `invoice` it is an invoice, numbered
/// `INV-YYYY-NNNN` without gaps, with a printable page.
#[utoipa::path(
    post, path = "/v1/payment_links", tag = "Payment links",
    params(IdempotencyKey),
    request_body = CreatePaymentLink,
    responses(
        (status = 201, description = "The link; its url is what the customer opens", body = api::PaymentLink),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 422, description = "Email asked for, but this Kasse has no mail server", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreatePaymentLink>,
) -> Result<(StatusCode, Json<api::PaymentLink>), ApiError> {
    let link = links::create(&ctx, &merchant, req).await?;
    Ok((StatusCode::CREATED, Json(links::view(&ctx, &link))))
}

/// Retrieve a payment link
#[utoipa::path(
    get, path = "/v1/payment_links/{id}", tag = "Payment links",
    params(("id" = String, Path, description = "The link's id, `plink_…`")),
    responses(
        (status = 200, description = "The link", body = api::PaymentLink),
        (status = 404, description = "No such link of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::PaymentLink>, ApiError> {
    Ok(Json(links::view(
        &ctx,
        &links::find(&ctx, &merchant.id, &id).await?,
    )))
}

/// Update an open payment link
///
/// Its description, success URL and metadata; what it asks for stays.
#[utoipa::path(
    post, path = "/v1/payment_links/{id}", tag = "Payment links",
    params(("id" = String, Path, description = "The link's id, `plink_…`"), IdempotencyKey),
    request_body = UpdatePaymentLink,
    responses(
        (status = 200, description = "The link as changed", body = api::PaymentLink),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 409, description = "Paid, expired or canceled, or changed meanwhile", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn update(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdatePaymentLink>,
) -> Result<Json<api::PaymentLink>, ApiError> {
    let link = links::update(&ctx, &merchant, &id, req).await?;
    Ok(Json(links::view(&ctx, &link)))
}

/// Cancel a payment link
///
/// It takes no more payments; reminders not yet sent are cancelled.
#[utoipa::path(
    post, path = "/v1/payment_links/{id}/cancel", tag = "Payment links",
    params(("id" = String, Path, description = "The link's id, `plink_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "Canceled", body = api::PaymentLink),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 409, description = "Paid, expired or canceled already, or being paid this minute", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn cancel(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::PaymentLink>, ApiError> {
    let link = links::cancel(&ctx, &merchant.id, &id).await?;
    Ok(Json(links::view(&ctx, &link)))
}

/// Email a payment link again
///
/// Queues the link's email to its customer now; a few times a minute at most.
#[utoipa::path(
    post, path = "/v1/payment_links/{id}/send", tag = "Payment links",
    params(("id" = String, Path, description = "The link's id, `plink_…`"), IdempotencyKey),
    responses(
        (status = 202, description = "Queued", body = api::Notification),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 409, description = "Paid, expired or canceled", body = ErrorBody),
        (status = 422, description = "No mail server, or no address to send to", body = ErrorBody),
        (status = 429, description = "Sent too often this minute", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn send(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<api::Notification>), ApiError> {
    let n = links::send(&ctx, &merchant.id, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(links::notification_view(&n))))
}

/// Give a payment link a new URL
///
/// The old URL stops working at once (it was forwarded, or leaked); emails
/// not yet sent carry the new one.
#[utoipa::path(
    post, path = "/v1/payment_links/{id}/new_url", tag = "Payment links",
    params(("id" = String, Path, description = "The link's id, `plink_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The link with its new url", body = api::PaymentLink),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 409, description = "Paid, expired or canceled", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn new_url(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::PaymentLink>, ApiError> {
    let link = links::new_url(&ctx, &merchant.id, &id).await?;
    Ok(Json(links::view(&ctx, &link)))
}

/// A payment link's emails
///
/// Every email about the link, oldest first: the link, its reminders (sent,
/// to come, or cancelled) and its receipts, with each one's attempts and
/// the mail server's last reply.
#[utoipa::path(
    get, path = "/v1/payment_links/{id}/notifications", tag = "Payment links",
    params(("id" = String, Path, description = "The link's id, `plink_…`")),
    responses(
        (status = 200, description = "Its emails", body = NotificationList),
        (status = 404, description = "No such link", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn notifications(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<NotificationList>, ApiError> {
    let link = links::find(&ctx, &merchant.id, &id).await?;
    let data = ctx
        .store
        .link_notifications(&link.id)
        .await?
        .iter()
        .map(links::notification_view)
        .collect();
    Ok(Json(NotificationList {
        object: "list".into(),
        data,
        has_more: false,
    }))
}

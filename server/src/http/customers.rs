//! `/v1/customers`, `/v1/payment_methods` and `/v1/mandates`: the people a
//! merchant charges again, their saved cards, and what they agreed to.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kasse_core::api::{
    self, CreateCustomer, CreateUpdateLink, CustomerList, ErrorBody, MandateList,
    PaymentMethodList, UpdateLink,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    ApiError, ApiJson, AppState, IdempotencyKey, MerchantAuth, OptionalJson, page_limit,
    query_params,
};
use crate::domain::{card_update, customers, saved_cards, views};
use crate::store::CustomerQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(customer_payment_methods))
        .routes(routes!(customer_mandates))
        .routes(routes!(retrieve_payment_method))
        .routes(routes!(detach_payment_method))
        .routes(routes!(update_link))
        .routes(routes!(retrieve_mandate))
        .routes(routes!(revoke_mandate))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Only customers with this email, in any case.
    email: Option<String>,
    /// Only the customer with this reference of yours.
    reference: Option<String>,
    /// The last id of the previous page.
    starting_after: Option<String>,
    /// 1 to 100, default 10.
    limit: Option<u32>,
}

/// List customers
///
/// Newest first. For the next page, pass the last id as `starting_after`.
#[utoipa::path(
    get, path = "/v1/customers", tag = "Customers",
    params(ListParams),
    responses(
        (status = 200, description = "One page of customers", body = CustomerList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn list(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CustomerList>, ApiError> {
    let params = query_params(params)?;
    let limit = page_limit(params.limit)?;
    let query = CustomerQuery {
        email: params.email,
        reference: params.reference,
        starting_after: params.starting_after,
        limit,
    };
    let (found, has_more) = customers::list(&ctx, &merchant.id, query).await?;
    Ok(Json(CustomerList {
        object: "list".into(),
        data: found.iter().map(views::customer).collect(),
        has_more,
    }))
}

/// Create a customer
#[utoipa::path(
    post, path = "/v1/customers", tag = "Customers",
    params(IdempotencyKey),
    request_body = CreateCustomer,
    responses(
        (status = 201, description = "The customer", body = api::Customer),
        (status = 400, description = "Bad input, or a reference another customer has", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn create(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiJson(req): ApiJson<CreateCustomer>,
) -> Result<(StatusCode, Json<api::Customer>), ApiError> {
    let customer = customers::create(&ctx, &merchant.id, req).await?;
    Ok((StatusCode::CREATED, Json(views::customer(&customer))))
}

/// Retrieve a customer
#[utoipa::path(
    get, path = "/v1/customers/{id}", tag = "Customers",
    params(("id" = String, Path, description = "The customer's id, `cus_…`")),
    responses(
        (status = 200, description = "The customer", body = api::Customer),
        (status = 404, description = "No such customer of this merchant, or deleted", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Customer>, ApiError> {
    Ok(Json(views::customer(
        &customers::find(&ctx, &merchant.id, &id).await?,
    )))
}

/// Update a customer
///
/// The fields given replace the customer's; those left out keep their value.
#[utoipa::path(
    post, path = "/v1/customers/{id}", tag = "Customers",
    params(("id" = String, Path, description = "The customer's id, `cus_…`"), IdempotencyKey),
    request_body = CreateCustomer,
    responses(
        (status = 200, description = "The customer", body = api::Customer),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn update(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CreateCustomer>,
) -> Result<Json<api::Customer>, ApiError> {
    Ok(Json(views::customer(
        &customers::update(&ctx, &merchant.id, &id, req).await?,
    )))
}

/// Delete a customer
///
/// Their saved cards are detached and their numbers destroyed, and their
/// mandates revoked, in one transaction. Their payments stay, naming the
/// customer's id.
#[utoipa::path(
    delete, path = "/v1/customers/{id}", tag = "Customers",
    params(("id" = String, Path, description = "The customer's id, `cus_…`")),
    responses(
        (status = 200, description = "Deleted", body = serde_json::Value),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn delete(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    customers::delete(&ctx, &merchant.id, &id).await?;
    Ok(Json(
        serde_json::json!({"id": id, "object": "customer", "deleted": true}),
    ))
}

/// List a customer's saved cards
///
/// Active and expired cards, newest first; detached cards are gone.
#[utoipa::path(
    get, path = "/v1/customers/{id}/payment_methods", tag = "Customers",
    params(("id" = String, Path, description = "The customer's id, `cus_…`")),
    responses(
        (status = 200, description = "The customer's cards", body = PaymentMethodList),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn customer_payment_methods(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<PaymentMethodList>, ApiError> {
    let cards = saved_cards::of_customer(&ctx, &merchant.id, &id).await?;
    Ok(Json(PaymentMethodList {
        object: "list".into(),
        data: cards.iter().map(views::payment_method).collect(),
    }))
}

/// List a customer's mandates
#[utoipa::path(
    get, path = "/v1/customers/{id}/mandates", tag = "Customers",
    params(("id" = String, Path, description = "The customer's id, `cus_…`")),
    responses(
        (status = 200, description = "The customer's mandates, newest first", body = MandateList),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn customer_mandates(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<MandateList>, ApiError> {
    customers::find(&ctx, &merchant.id, &id).await?;
    let mandates = ctx.store.customer_mandates(&id).await?;
    Ok(Json(MandateList {
        object: "list".into(),
        data: mandates.iter().map(views::mandate).collect(),
    }))
}

/// Retrieve a saved card
#[utoipa::path(
    get, path = "/v1/payment_methods/{id}", tag = "Customers",
    params(("id" = String, Path, description = "The card's id, `pm_…`")),
    responses(
        (status = 200, description = "The card (never its number)", body = api::PaymentMethod),
        (status = 404, description = "No such card of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve_payment_method(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::PaymentMethod>, ApiError> {
    Ok(Json(views::payment_method(
        &saved_cards::find(&ctx, &merchant.id, &id).await?,
    )))
}

/// Detach a saved card
///
/// It can no longer be charged; its mandates are revoked and its number is
/// destroyed.
#[utoipa::path(
    post, path = "/v1/payment_methods/{id}/detach", tag = "Customers",
    params(("id" = String, Path, description = "The card's id, `pm_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The detached card", body = api::PaymentMethod),
        (status = 404, description = "No such card", body = ErrorBody),
        (status = 409, description = "Detached already", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn detach_payment_method(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::PaymentMethod>, ApiError> {
    Ok(Json(views::payment_method(
        &saved_cards::detach(&ctx, &merchant.id, &id).await?,
    )))
}

/// A link for the customer to replace a saved card
///
/// A hosted page, for 7 days and one use, where the customer types a new
/// card (an expired or reissued one's successor). Kasse checks it with the
/// acquirer without charging it; it then takes the old card's place under
/// the same `pm_…`, so its mandates and subscriptions go on
/// (`payment_method.updated`). Send the customer the `url`: its secret is in
/// the fragment.
#[utoipa::path(
    post, path = "/v1/payment_methods/{id}/update_link", tag = "Customers",
    params(("id" = String, Path, description = "The card's id, `pm_…`"), IdempotencyKey),
    request_body(content = Option<CreateUpdateLink>, description = "Optional"),
    responses(
        (status = 201, description = "The link", body = UpdateLink),
        (status = 400, description = "A return_url off your origins", body = ErrorBody),
        (status = 404, description = "No such card", body = ErrorBody),
        (status = 409, description = "The card was detached", body = ErrorBody),
        (status = 422, description = "This Kasse has no card vault key", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn update_link(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CreateUpdateLink>,
) -> Result<(StatusCode, Json<UpdateLink>), ApiError> {
    let (link, url) = card_update::link(&ctx, &merchant, &id, body.return_url.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(UpdateLink {
            id: link.id,
            object: "payment_method_update_link".into(),
            payment_method: link.payment_method_id,
            url,
            expires_at: link.expires_at,
        }),
    ))
}

/// Retrieve a mandate
///
/// With the exact words the customer agreed to, when, from where and how.
#[utoipa::path(
    get, path = "/v1/mandates/{id}", tag = "Customers",
    params(("id" = String, Path, description = "The mandate's id, `mdt_…`")),
    responses(
        (status = 200, description = "The mandate", body = api::Mandate),
        (status = 404, description = "No such mandate of this merchant", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("viewer")))
)]
async fn retrieve_mandate(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Mandate>, ApiError> {
    Ok(Json(views::mandate(
        &saved_cards::find_mandate(&ctx, &merchant.id, &id).await?,
    )))
}

/// Revoke a mandate
///
/// Off-session charges under it are refused with `mandate_revoked` from now on.
#[utoipa::path(
    post, path = "/v1/mandates/{id}/revoke", tag = "Customers",
    params(("id" = String, Path, description = "The mandate's id, `mdt_…`"), IdempotencyKey),
    responses(
        (status = 200, description = "The revoked mandate", body = api::Mandate),
        (status = 404, description = "No such mandate", body = ErrorBody),
        (status = 409, description = "Revoked already", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("operator")))
)]
async fn revoke_mandate(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<api::Mandate>, ApiError> {
    Ok(Json(views::mandate(
        &saved_cards::revoke_mandate(&ctx, &merchant.id, &id).await?,
    )))
}

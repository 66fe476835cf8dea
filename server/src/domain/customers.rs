//! A merchant's customers: made, read, listed, changed and deleted, each
//! change with its event. Deleting a customer detaches their cards (their
//! numbers destroyed) and revokes their mandates in the same transaction.

use kasse_core::api::CreateCustomer;
use kasse_core::error::ErrorCode;
use kasse_core::{Locale, RequestedLocale};

use super::DomainError;
use super::events::{EventType, new_event};
use super::input;
use super::views;
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{Customer, CustomerQuery};

/// A customer's fields, checked, for a new customer of `merchant_id`.
fn checked(
    ctx: &AppState,
    merchant_id: &str,
    req: CreateCustomer,
    id: String,
    created: i64,
) -> Result<Customer, DomainError> {
    let locale = req
        .locale
        .as_deref()
        .map(|l| match RequestedLocale::parse(l) {
            Ok(RequestedLocale::Fixed(locale)) => Ok(locale.tag().to_string()),
            _ => Err(DomainError::invalid(
                ErrorCode::InvalidLocale,
                "locale",
                format!(
                    "'{l}' is not a language Kasse writes in; use one of {}.",
                    Locale::ALL
                        .iter()
                        .map(|l| l.tag())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        })
        .transpose()?;
    Ok(Customer {
        id,
        merchant_id: merchant_id.to_string(),
        email: input::email("email", req.email)?,
        name: input::text_field("name", req.name, 200)?,
        phone: input::text_field("phone", req.phone, 40)?,
        reference: input::text_field("reference", req.reference, 128)?,
        locale,
        metadata: input::metadata(req.metadata.unwrap_or_default())?,
        created,
        updated: ctx.clock.now(),
    })
}

fn reference_taken(reference: &str) -> DomainError {
    DomainError::invalid(
        ErrorCode::ParameterInvalid,
        "reference",
        format!("Another customer of yours has the reference '{reference}'."),
    )
}

pub async fn create(
    ctx: &AppState,
    merchant_id: &str,
    req: CreateCustomer,
) -> Result<Customer, DomainError> {
    let customer = checked(ctx, merchant_id, req, new_id("cus"), ctx.clock.now())?;
    let event = new_event(
        ctx,
        merchant_id,
        EventType::CustomerCreated,
        &views::customer(&customer),
        None,
    );
    if !ctx.store.insert_customer(&customer, &[event]).await? {
        return Err(reference_taken(customer.reference.as_deref().unwrap_or("")));
    }
    tracing::info!(customer = %customer.id, merchant = %merchant_id, "customer created");
    Ok(customer)
}

pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Customer, DomainError> {
    ctx.store
        .customer(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "customer",
            id: id.to_string(),
        })
}

/// One page of customers, newest first, and whether more follow.
pub async fn list(
    ctx: &AppState,
    merchant_id: &str,
    mut query: CustomerQuery,
) -> Result<(Vec<Customer>, bool), DomainError> {
    if let Some(after) = &query.starting_after
        && ctx.store.customer(merchant_id, after).await?.is_none()
    {
        return Err(DomainError::invalid(
            ErrorCode::ParameterInvalid,
            "starting_after",
            format!("starting_after names no customer of yours: '{after}'."),
        ));
    }
    let limit = query.limit as usize;
    query.limit += 1;
    let mut customers = ctx.store.list_customers(merchant_id, &query).await?;
    let has_more = customers.len() > limit;
    customers.truncate(limit);
    Ok((customers, has_more))
}

/// Changes the fields given; a field left out keeps its value.
pub async fn update(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
    req: CreateCustomer,
) -> Result<Customer, DomainError> {
    let before = find(ctx, merchant_id, id).await?;
    let merged = CreateCustomer {
        email: req.email.or(before.email.clone()),
        name: req.name.or(before.name.clone()),
        phone: req.phone.or(before.phone.clone()),
        reference: req.reference.or(before.reference.clone()),
        locale: req.locale.or(before.locale.clone()),
        metadata: Some(req.metadata.unwrap_or(before.metadata.clone())),
    };
    let after = checked(ctx, merchant_id, merged, before.id.clone(), before.created)?;
    if let Some(reference) = after
        .reference
        .as_deref()
        .filter(|r| Some(*r) != before.reference.as_deref())
    {
        let (taken, _) = list(
            ctx,
            merchant_id,
            CustomerQuery {
                reference: Some(reference.to_string()),
                limit: 1,
                ..CustomerQuery::default()
            },
        )
        .await?;
        if !taken.is_empty() {
            return Err(reference_taken(reference));
        }
    }
    let event = new_event(
        ctx,
        merchant_id,
        EventType::CustomerUpdated,
        &views::customer(&after),
        None,
    );
    if !ctx.store.update_customer(&after, &[event]).await? {
        return Err(DomainError::NotFound {
            kind: "customer",
            id: id.to_string(),
        });
    }
    Ok(after)
}

/// Deletes a customer: their cards are detached and their numbers
/// destroyed, their mandates revoked, their subscriptions canceled.
pub async fn delete(ctx: &AppState, merchant_id: &str, id: &str) -> Result<(), DomainError> {
    let customer = find(ctx, merchant_id, id).await?;
    let mut events = Vec::new();
    for card in ctx.store.customer_payment_methods(&customer.id).await? {
        events.extend(super::saved_cards::detach_events(ctx, &card).await?);
    }
    let subscriptions = ctx
        .store
        .list_subscriptions(merchant_id, Some(&customer.id), None, 1000)
        .await?;
    for s in subscriptions {
        if let Some(event) = super::subscriptions::canceled_with_customer(ctx, &s) {
            events.push(event);
        }
    }
    events.push(new_event(
        ctx,
        merchant_id,
        EventType::CustomerDeleted,
        &serde_json::json!({"id": customer.id, "object": "customer", "deleted": true}),
        None,
    ));
    if !ctx
        .store
        .delete_customer(merchant_id, id, ctx.clock.now(), &events)
        .await?
    {
        return Err(DomainError::NotFound {
            kind: "customer",
            id: id.to_string(),
        });
    }
    tracing::info!(customer = %id, merchant = %merchant_id, "customer deleted with their cards");
    Ok(())
}

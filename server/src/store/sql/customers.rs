//! A merchant's customers: made, read, listed, changed, and deleted with
//! everything that hangs on them.

use super::cards::detach_card;
use super::*;
use crate::store::{Customer, CustomerQuery, CustomerStore};

fn customer_from_row(row: &AnyRow) -> StoreResult<Customer> {
    let metadata: String = row.try_get("metadata")?;
    Ok(Customer {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        reference: row.try_get("reference")?,
        locale: row.try_get("locale")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|_| corrupt("customer metadata", &metadata))?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn customer_values(c: &Customer) -> (String, String) {
    (
        serde_json::to_string(&c.metadata).expect("metadata serialises"),
        c.id.clone(),
    )
}

#[async_trait]
impl CustomerStore for SqlStore {
    async fn insert_customer(&self, c: &Customer, events: &[NewEvent]) -> StoreResult<bool> {
        let (metadata, id) = customer_values(c);
        // A reference another live customer has: nothing inserted, no event.
        self.guarded_with_events(
            sqlx::query(
                "INSERT INTO customers (id, merchant_id, email, name, phone, reference, locale,
                    metadata, created, updated)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(c.merchant_id.clone())
            .bind(c.email.clone())
            .bind(c.name.clone())
            .bind(c.phone.clone())
            .bind(c.reference.clone())
            .bind(c.locale.clone())
            .bind(metadata)
            .bind(c.created)
            .bind(c.updated),
            events,
        )
        .await
    }

    async fn customer(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Customer>> {
        self.find_owned(
            "SELECT * FROM customers WHERE id = $1 AND merchant_id = $2 AND deleted IS NULL",
            merchant_id,
            id,
            customer_from_row,
        )
        .await
    }

    async fn list_customers(
        &self,
        merchant_id: &str,
        q: &CustomerQuery,
    ) -> StoreResult<Vec<Customer>> {
        let mut sql =
            String::from("SELECT * FROM customers WHERE merchant_id = ? AND deleted IS NULL");
        if q.email.is_some() {
            sql.push_str(" AND lower(email) = lower(?)");
        }
        if q.reference.is_some() {
            sql.push_str(" AND reference = ?");
        }
        if q.starting_after.is_some() {
            sql.push_str(
                " AND (created, rowid) < (SELECT created, rowid FROM customers WHERE id = ? AND merchant_id = ?)",
            );
        }
        sql.push_str(" ORDER BY created DESC, rowid DESC LIMIT ?");
        let sql = numbered(&sql);
        let mut query = sqlx::query(&sql).bind(merchant_id);
        if let Some(email) = &q.email {
            query = query.bind(email);
        }
        if let Some(reference) = &q.reference {
            query = query.bind(reference);
        }
        if let Some(after) = &q.starting_after {
            query = query.bind(after).bind(merchant_id);
        }
        query
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(customer_from_row)
            .collect()
    }

    async fn update_customer(&self, c: &Customer, events: &[NewEvent]) -> StoreResult<bool> {
        let (metadata, id) = customer_values(c);
        self.guarded_with_events(
            sqlx::query(
                "UPDATE customers SET email = $1, name = $2, phone = $3, reference = $4,
                    locale = $5, metadata = $6, updated = $7
                 WHERE id = $8 AND merchant_id = $9 AND deleted IS NULL",
            )
            .bind(c.email.clone())
            .bind(c.name.clone())
            .bind(c.phone.clone())
            .bind(c.reference.clone())
            .bind(c.locale.clone())
            .bind(metadata)
            .bind(c.updated)
            .bind(id)
            .bind(c.merchant_id.clone()),
            events,
        )
        .await
    }

    async fn delete_customer(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let (merchant_id, id) = (merchant_id.to_owned(), id.to_owned());
        let (events, dialect) = (events.to_vec(), self.dialect);
        let lease = self.fresh_lease();
        self.atomic_handing_over(move |conn| {
            Box::pin(async move {
                // What identifies the customer goes; the id stays, for the
                // payments that name it.
                let deleted = sqlx::query(
                    "UPDATE customers SET deleted = $1, updated = $2, email = NULL, name = NULL,
                        phone = NULL, reference = NULL, metadata = '{}'
                     WHERE id = $3 AND merchant_id = $4 AND deleted IS NULL",
                )
                .bind(now)
                .bind(now)
                .bind(&id)
                .bind(&merchant_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if deleted != 1 {
                    return Ok(Done::Kept((false, Vec::new())));
                }
                let cards: Vec<String> =
                    sqlx::query_scalar("SELECT id FROM payment_methods WHERE customer_id = $1")
                        .bind(&id)
                        .fetch_all(&mut *conn)
                        .await?;
                for card in cards {
                    detach_card(conn, &card, now).await?;
                }
                sqlx::query(
                    "UPDATE payment_methods SET status = 'detached', updated = $1
                     WHERE customer_id = $2 AND status = 'pending'",
                )
                .bind(now)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "UPDATE mandates SET status = 'revoked', revoked = $1
                     WHERE customer_id = $2 AND status <> 'revoked'",
                )
                .bind(now)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "UPDATE subscriptions SET status = 'canceled', next_attempt_at = NULL, updated = $1
                     WHERE customer_id = $2 AND status NOT IN ('canceled', 'completed')",
                )
                .bind(now)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
                let leased = insert_events(dialect, conn, &events, lease).await?;
                Ok(Done::Kept((true, leased)))
            })
        })
        .await
    }
}

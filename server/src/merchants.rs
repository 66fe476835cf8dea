//! Creating merchants and issuing their keys, for the CLI and the demo.

use kasse_core::origin::MerchantOrigin;
use serde::Serialize;

use crate::ids::{new_id, new_secret};
use crate::secrets::{
    PUBLISHABLE_KEY_PREFIX, SECRET_KEY_PREFIX, SIGNING_SECRET_PREFIX, ServerSecret, issue_key,
    new_webhook_secret,
};
use crate::store::{ApiKey, KeyKind, Merchant, Store, StoreResult};

/// What a merchant is shown once: its keys are stored only hashed.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    pub merchant_id: String,
    pub name: String,
    pub origins: Vec<MerchantOrigin>,
    pub secret_key: String,
    pub publishable_key: String,
    /// Verifies the `signature` on redirects back to the merchant.
    pub signing_secret: String,
    /// Verifies deliveries to sessions' own `notification_url`s.
    pub webhook_secret: Option<String>,
}

pub async fn create(
    store: &dyn Store,
    secret: &ServerSecret,
    name: &str,
    origins: Vec<MerchantOrigin>,
    now: i64,
) -> StoreResult<Credentials> {
    let merchant = Merchant {
        appearance: Default::default(),
        id: new_id("mer"),
        name: name.to_string(),
        origins,
        signing_secret: new_secret(SIGNING_SECRET_PREFIX),
        webhook_secret: Some(new_webhook_secret()),
        created: now,
    };
    store.insert_merchant(&merchant).await?;
    issue_keys(store, secret, merchant, now).await
}

/// Creates the merchant with this id, or updates its name and origins, and
/// replaces its keys with new ones.
pub async fn ensure_with_new_keys(
    store: &dyn Store,
    secret: &ServerSecret,
    id: &str,
    name: &str,
    origins: Vec<MerchantOrigin>,
    now: i64,
) -> StoreResult<Credentials> {
    let merchant = store
        .upsert_merchant(&Merchant {
            appearance: Default::default(),
            id: id.to_string(),
            name: name.to_string(),
            origins,
            signing_secret: new_secret(SIGNING_SECRET_PREFIX),
            webhook_secret: Some(new_webhook_secret()),
            created: now,
        })
        .await?;
    store.revoke_api_keys(id, now).await?;
    issue_keys(store, secret, merchant, now).await
}

async fn issue_keys(
    store: &dyn Store,
    secret: &ServerSecret,
    merchant: Merchant,
    now: i64,
) -> StoreResult<Credentials> {
    let mut issued = Vec::new();
    for (kind, prefix) in [
        (KeyKind::Secret, SECRET_KEY_PREFIX),
        (KeyKind::Publishable, PUBLISHABLE_KEY_PREFIX),
    ] {
        let key = issue_key(prefix, secret);
        store
            .insert_api_key(&ApiKey {
                merchant_id: merchant.id.clone(),
                kind,
                lookup: key.lookup,
                hash: key.hash,
                created: now,
            })
            .await?;
        issued.push(key.key);
    }
    let [secret_key, publishable_key]: [String; 2] = issued.try_into().expect("two keys");
    Ok(Credentials {
        merchant_id: merchant.id,
        name: merchant.name,
        origins: merchant.origins,
        secret_key,
        publishable_key,
        signing_secret: merchant.signing_secret,
        webhook_secret: merchant.webhook_secret,
    })
}

//! SSLCOMMERZ store credentials: a public `store_id` and a random
//! `store_passwd`, shown once. The password is checked against a keyed hash
//! like Kasse's API keys; its md5 and sha256 digests, which sign IPNs, are
//! kept sealed at rest.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kasse_core::api::{ErrorBody, SslcommerzCredentials};
use md5::Md5;
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::{ApiError, IdempotencyKey, MerchantAuth};
use crate::secrets::ServerSecret;
use crate::state::AppState;
use crate::store::{CompatCredential, Merchant, Store, StoreResult};

/// Kasse's sandbox has one mode; a live mode would issue `…_live_…` ids.
pub const MODE: &str = "test";

/// What the merchant is shown once.
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub merchant_id: String,
    pub store_id: String,
    pub store_passwd: String,
    pub mode: &'static str,
}

fn random(len: usize, lower: bool) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .map(|c| if lower { c.to_ascii_lowercase() } else { c })
        .collect()
}

pub fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Issues a new pair for `merchant_id`, revoking the ones it had.
pub async fn issue(
    store: &dyn Store,
    secret: &ServerSecret,
    merchant_id: &str,
    now: i64,
) -> StoreResult<Issued> {
    // 22 characters: within SSLCOMMERZ's 30, lower case as its own ids are.
    let store_id = format!("kasse_{MODE}_{}", random(11, true));
    let store_passwd = random(24, false);
    store.revoke_compat_credentials(merchant_id, now).await?;
    store
        .insert_compat_credential(&CompatCredential {
            store_id: store_id.clone(),
            merchant_id: merchant_id.to_string(),
            mode: MODE.to_string(),
            password_hash: secret.hash_key(&store_passwd),
            password_md5: md5_hex(&store_passwd),
            password_sha256: sha256_hex(&store_passwd),
            created: now,
            revoked: None,
        })
        .await?;
    Ok(Issued {
        merchant_id: merchant_id.to_string(),
        store_id,
        store_passwd,
        mode: MODE,
    })
}

/// Issuing credentials from Kasse's merchant API (the terminal's admins).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_for_merchant))
}

/// Issue SSLCOMMERZ credentials
///
/// A new `store_id` and `store_passwd` for the SSLCOMMERZ-compatible API;
/// the password is shown only in this answer, and the merchant's earlier
/// pair stops working at once.
#[utoipa::path(
    post, path = "/v1/merchant/sslcommerz_credentials", tag = "SSLCOMMERZ compatibility",
    params(IdempotencyKey),
    responses(
        (status = 201, description = "The new pair", body = SslcommerzCredentials),
        (status = 401, description = "No API key", body = ErrorBody),
    ),
    security(("secret_key" = [])),
    extensions(("x-kasse-role" = json!("admin")))
)]
async fn issue_for_merchant(
    State(ctx): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
) -> Result<(StatusCode, Json<SslcommerzCredentials>), ApiError> {
    let issued = issue(
        ctx.store.as_ref(),
        &ctx.secret,
        &merchant.id,
        ctx.clock.now(),
    )
    .await
    .map_err(crate::domain::DomainError::from)?;
    tracing::info!(merchant = %merchant.id, store_id = %issued.store_id, "SSLCOMMERZ credentials issued");
    Ok((
        StatusCode::CREATED,
        Json(SslcommerzCredentials {
            store_id: issued.store_id,
            store_passwd: issued.store_passwd,
            mode: issued.mode.to_string(),
        }),
    ))
}

/// The live credential and its merchant, if `store_passwd` is its password.
pub async fn check(
    ctx: &AppState,
    store_id: Option<&str>,
    store_passwd: Option<&str>,
) -> StoreResult<Option<(CompatCredential, Merchant)>> {
    let (Some(store_id), Some(password)) = (store_id, store_passwd) else {
        return Ok(None);
    };
    let Some(credential) = ctx.store.compat_credential(store_id).await? else {
        // The same work as a wrong password, so that timing does not tell
        // which store ids exist.
        let _ = ctx
            .secret
            .key_matches(password, &ctx.secret.hash_key(store_id));
        return Ok(None);
    };
    if credential.revoked.is_some() || !ctx.secret.key_matches(password, &credential.password_hash)
    {
        return Ok(None);
    }
    Ok(ctx
        .store
        .merchant(&credential.merchant_id)
        .await?
        .map(|merchant| (credential, merchant)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_the_published_example_password() {
        // SSLCOMMERZ.md §6.2.
        assert_eq!(
            md5_hex("test_testemi@ssl"),
            "1b41a39d56805bad5982ddff7a9841b1"
        );
        assert_eq!(
            sha256_hex("test_testemi@ssl"),
            "cd31b1c3dd6145382edcab82f03ae808188b1d69a2f80d63a0e7edc140197f5c"
        );
    }
}

//! Merchant staff: accounts that log in to the terminal, their passwords
//! (argon2id only) and what each role may do through the API.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::Method;
use kasse_core::api::StaffRole;

use crate::ids::new_id;
use crate::store::{StaffUser, Store, StoreError};

/// The cookie that holds a terminal's login token.
pub const COOKIE: &str = "kasse_staff";
/// A login ends after this long unused…
pub const IDLE_SECONDS: i64 = 30 * 60;
/// …and after this long in any case.
pub const MAX_SECONDS: i64 = 12 * 3600;
/// The shortest password `kasse user create` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("`{0}` is not an email address")]
    InvalidEmail(String),
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("no merchant has the id `{0}`")]
    NoSuchMerchant(String),
    #[error("a member of staff with the email `{0}` already exists")]
    EmailTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An argon2id hash (OWASP's parameters: 19 MiB, 2 passes) in PHC format.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password with default parameters")
        .to_string()
}

/// Whether `password` is the one `hash` was made from.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time a real verification takes, so that an unknown email
/// answers no faster than a wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not anybody's password"));
    verify_password(password, hash);
}

pub fn normalise_email(email: &str) -> Result<String, StaffError> {
    let email = email.trim().to_lowercase();
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && email.len() <= 254
        && !email.contains(|c: char| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(StaffError::InvalidEmail(email))
    }
}

/// Adds a member of staff to a merchant.
pub async fn create_user(
    store: &dyn Store,
    merchant_id: &str,
    email: &str,
    role: StaffRole,
    password: &str,
    now: i64,
) -> Result<StaffUser, StaffError> {
    let email = normalise_email(email)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::ShortPassword);
    }
    if store.merchant(merchant_id).await?.is_none() {
        return Err(StaffError::NoSuchMerchant(merchant_id.to_string()));
    }
    let user = StaffUser {
        id: new_id("usr"),
        merchant_id: merchant_id.to_string(),
        email: email.clone(),
        password_hash: hash_password(password),
        role,
        created: now,
    };
    if !store.insert_staff_user(&user).await? {
        return Err(StaffError::EmailTaken(email));
    }
    Ok(user)
}

/// Whether a terminal call must carry the CSRF token and come from Kasse's
/// own origin: every call that writes, and every call whose route takes
/// more than a viewer (the validation API's first GET marks a payment
/// validated).
pub fn needs_csrf(method: &Method, role: Option<StaffRole>) -> bool {
    !(method == Method::GET || method == Method::HEAD)
        || role.is_some_and(|r| r > StaffRole::Viewer)
}

/// When a login used at `now` should end: `IDLE_SECONDS` on, but never
/// more than `MAX_SECONDS` after it began.
pub fn sliding_expiry(created: i64, now: i64) -> i64 {
    (now + IDLE_SECONDS).min(created + MAX_SECONDS)
}

/// The demo shop's admin, with a fresh password on every start.
pub async fn ensure_demo_user(
    store: &dyn Store,
    merchant_id: &str,
    email: &str,
    now: i64,
) -> Result<String, StaffError> {
    let password = crate::ids::new_secret("")
        .chars()
        .take(16)
        .collect::<String>();
    match store.staff_user_by_email(email).await? {
        Some(user) => {
            store
                .set_staff_password(&user.id, &hash_password(&password))
                .await?;
        }
        None => {
            create_user(store, merchant_id, email, StaffRole::Admin, &password, now).await?;
        }
    }
    Ok(password)
}

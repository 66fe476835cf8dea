//! Merchants' staff and their terminal logins.

use super::*;

#[async_trait]
impl StaffStore for SqlStore {
    async fn insert_staff_user(&self, u: &StaffUser) -> StoreResult<bool> {
        let inserted = self
            .exec(
                sqlx::query(
                    "INSERT INTO staff_users (id, merchant_id, email, password_hash, role, created)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
                )
                .bind(u.id.clone())
                .bind(u.merchant_id.clone())
                .bind(u.email.to_lowercase())
                .bind(u.password_hash.clone())
                .bind(u.role.as_str())
                .bind(u.created),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn staff_user_by_email(&self, email: &str) -> StoreResult<Option<StaffUser>> {
        self.find_one(
            "SELECT * FROM staff_users WHERE email = $1",
            &email.trim().to_lowercase(),
            staff_user_from_row,
        )
        .await
    }

    async fn staff_user(&self, id: &str) -> StoreResult<Option<StaffUser>> {
        self.find_one(
            "SELECT * FROM staff_users WHERE id = $1",
            id,
            staff_user_from_row,
        )
        .await
    }

    async fn set_staff_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        let updated = self
            .exec(
                sqlx::query("UPDATE staff_users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash.to_owned())
                    .bind(id.to_owned()),
            )
            .await?;
        Ok(updated == 1)
    }

    async fn insert_staff_login(&self, l: &StaffLogin, now: i64) -> StoreResult<()> {
        let l = l.clone();
        self.atomic(move |c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND expires_at <= $2")
                    .bind(&l.user_id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "INSERT INTO staff_sessions (token_hash, user_id, csrf_token, created, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&l.token_hash)
                .bind(&l.user_id)
                .bind(&l.csrf_token)
                .bind(l.created)
                .bind(l.expires_at)
                .execute(&mut *c)
                .await?;
                Ok(Done::Kept(()))
            })
        })
        .await
    }

    async fn staff_login(&self, token_hash: &str) -> StoreResult<Option<StaffLogin>> {
        self.find_one(
            "SELECT * FROM staff_sessions WHERE token_hash = $1",
            token_hash,
            staff_login_from_row,
        )
        .await
    }

    async fn extend_staff_login(&self, token_hash: &str, expires_at: i64) -> StoreResult<bool> {
        let updated = self
            .exec(
                sqlx::query("UPDATE staff_sessions SET expires_at = $1 WHERE token_hash = $2")
                    .bind(expires_at)
                    .bind(token_hash.to_owned()),
            )
            .await?;
        Ok(updated == 1)
    }

    async fn delete_staff_login(&self, token_hash: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
                .bind(token_hash.to_owned()),
        )
        .await?;
        Ok(())
    }
}

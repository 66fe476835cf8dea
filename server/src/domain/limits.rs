//! Limits against card testing and password guessing that hold across
//! instances: counted in the database, per minute, over a sliding window
//! (this minute's hits plus the share of the last minute's still inside
//! it). Clients are counted by address, IPv6 by its /64, which one
//! subscriber gets whole.

use kasse_core::error::ErrorCode;
use std::net::IpAddr;

use super::DomainError;
use crate::config::Limits;
use crate::state::AppState;

/// Every limit counts per minute.
pub const WINDOW: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Confirms on the payment page, per client.
    Confirms,
    /// Declined card payments of one merchant, from every channel.
    MerchantDeclines,
    /// Keyed (card-not-present) payments of one merchant.
    KeyedPerMerchant,
    /// Keyed payments by one member of staff.
    KeyedPerStaff,
    /// Emails of one payment link sent on request.
    LinkSends,
    /// Terminal logins from one client.
    LoginsPerAddress,
    /// Terminal logins to one account, from anywhere.
    LoginsPerAccount,
}

impl Limit {
    fn name(self) -> &'static str {
        match self {
            Limit::Confirms => "confirm",
            Limit::MerchantDeclines => "declines",
            Limit::KeyedPerMerchant => "keyed-merchant",
            Limit::KeyedPerStaff => "keyed-staff",
            Limit::LinkSends => "link-sends",
            Limit::LoginsPerAddress => "login-address",
            Limit::LoginsPerAccount => "login-account",
        }
    }

    fn per_minute(self, limits: &Limits) -> u32 {
        match self {
            Limit::Confirms => limits.confirms_per_minute,
            Limit::MerchantDeclines => limits.declines_per_merchant_per_minute,
            Limit::KeyedPerMerchant => limits.keyed_payments_per_merchant_per_minute,
            Limit::KeyedPerStaff => limits.keyed_payments_per_staff_per_minute,
            Limit::LinkSends => limits.link_sends_per_minute,
            Limit::LoginsPerAddress => limits.logins_per_address_per_minute,
            Limit::LoginsPerAccount => limits.logins_per_account_per_minute,
        }
    }

    fn refusal(self, retry_after: u64) -> DomainError {
        let (code, message) = match self {
            Limit::Confirms => (
                ErrorCode::RateLimited,
                "Too many payment attempts from your network. Wait a minute and try again.",
            ),
            Limit::MerchantDeclines => (
                ErrorCode::TooManyDeclines,
                "Too many card payments to this shop were declined in the last minute, so it takes none for a moment. Try again in a minute.",
            ),
            Limit::KeyedPerMerchant | Limit::KeyedPerStaff => (
                ErrorCode::RateLimited,
                "Too many keyed payments in the last minute. Wait a minute and try again.",
            ),
            Limit::LinkSends => (
                ErrorCode::RateLimited,
                "This link was emailed several times in the last minute. Wait a minute and send it again.",
            ),
            Limit::LoginsPerAddress | Limit::LoginsPerAccount => (
                ErrorCode::RateLimited,
                "Too many login attempts. Wait a minute and try again.",
            ),
        };
        DomainError::Limited {
            code,
            message: message.into(),
            retry_after,
        }
    }
}

/// How a client is counted: an IPv4 address alone, an IPv6 address by its
/// /64 (an IPv4-mapped one as its IPv4 address).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The sliding count, and the seconds until the current window ends.
fn estimate(now: i64, (current, previous): (i64, i64)) -> (f64, u64) {
    let elapsed = now.rem_euclid(WINDOW);
    let weight = (WINDOW - elapsed) as f64 / WINDOW as f64;
    (
        current as f64 + previous as f64 * weight,
        (WINDOW - elapsed).max(1) as u64,
    )
}

fn bucket(ctx: &AppState, limit: Limit, who: &str) -> String {
    format!("{}:{}", limit.name(), ctx.secret.limit_key(who))
}

/// Counts this request against `limit` for `who`, and refuses it if that
/// goes over.
pub async fn hit(ctx: &AppState, limit: Limit, who: &str) -> Result<(), DomainError> {
    let (now, counts) = record(ctx, limit, who).await?;
    judge(ctx, limit, now, counts, |count, most| count > most)
        .inspect_err(|_| ctx.metrics.limited(limit.name()))
}

/// Counts one event (a decline) against `limit` for `who`, refusing nothing.
pub async fn count(ctx: &AppState, limit: Limit, who: &str) -> Result<(), DomainError> {
    record(ctx, limit, who).await.map(drop)
}

/// Refuses if what `limit` counts for `who` has already reached it.
pub async fn check(ctx: &AppState, limit: Limit, who: &str) -> Result<(), DomainError> {
    let now = ctx.clock.now();
    let counts = ctx
        .store
        .hits(&bucket(ctx, limit, who), window_start(now), WINDOW)
        .await?;
    judge(ctx, limit, now, counts, |count, most| count >= most)
}

fn window_start(now: i64) -> i64 {
    now - now.rem_euclid(WINDOW)
}

/// One more hit; the time and the counts of this window and the last.
async fn record(ctx: &AppState, limit: Limit, who: &str) -> Result<(i64, (i64, i64)), DomainError> {
    let now = ctx.clock.now();
    let counts = ctx
        .store
        .count_hit(&bucket(ctx, limit, who), window_start(now), WINDOW)
        .await?;
    Ok((now, counts))
}

/// Refuses when `over` holds for the sliding count and the limit.
fn judge(
    ctx: &AppState,
    limit: Limit,
    now: i64,
    counts: (i64, i64),
    over: impl Fn(f64, f64) -> bool,
) -> Result<(), DomainError> {
    let (count, retry_after) = estimate(now, counts);
    if over(count, f64::from(limit.per_minute(&ctx.limits))) {
        tracing::info!(limit = limit.name(), "rate limit reached");
        return Err(limit.refusal(retry_after));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.5"), key("203.0.113.5"));
        assert_ne!(key("203.0.113.5"), key("203.0.113.6"));
    }

    #[test]
    fn the_last_minute_counts_for_what_is_left_of_it() {
        // 30 s into this minute: half of the last minute's 10 still count.
        assert_eq!(estimate(90, (4, 10)), (9.0, 30));
        assert_eq!(estimate(120, (1, 10)), (11.0, 60));
        assert_eq!(estimate(179, (0, 60)).0, 1.0);
    }
}

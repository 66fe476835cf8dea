//! Settlements: at each of a merchant's daily cut-offs (a local time in its
//! zone), what its ledger moved since the last one, per currency, closed
//! once by whichever instance sweeps first. A negative net carries into the
//! next day.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use kasse_core::api::{self, EventType};

use super::DomainError;
use super::events::new_event;
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::Settlement;

/// A business day: its local date and its bounds in UTC seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub local_date: String,
    pub start: i64,
    pub end: i64,
}

/// `date` at `cutoff` in `tz`, in UTC seconds (a time the clocks skip is
/// taken as the moment after the gap).
fn at(date: Date, cutoff: Time, tz: &TimeZone) -> Option<i64> {
    Some(
        date.to_datetime(cutoff)
            .to_zoned(tz.clone())
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// The business days that ended after `since` and by `now`: each from one
/// cut-off to the next, named by the date of its last second.
pub fn days(since: i64, now: i64, tz: &TimeZone, cutoff: Time) -> Vec<Day> {
    let Ok(since_at) = Timestamp::from_second(since) else {
        return Vec::new();
    };
    let mut date = since_at.to_zoned(tz.clone()).date();
    let mut out = Vec::new();
    for _ in 0..400 {
        let (Some(end), Ok(before)) = (at(date, cutoff, tz), date.checked_sub(1.day())) else {
            break;
        };
        if end > now {
            break;
        }
        if end > since
            && let Some(start) = at(before, cutoff, tz)
        {
            let last_second = Timestamp::from_second(end - 1)
                .map(|t| t.to_zoned(tz.clone()).date().to_string())
                .unwrap_or_default();
            out.push(Day {
                local_date: last_second,
                start,
                end,
            });
        }
        match date.checked_add(1.day()) {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    out
}

pub fn view(s: &Settlement) -> api::Settlement {
    api::Settlement {
        id: s.id.clone(),
        object: "settlement".into(),
        currency: s.currency.code().to_string(),
        local_date: s.local_date.clone(),
        time_zone: s.time_zone.clone(),
        period_start: s.period_start,
        period_end: s.period_end,
        charge_count: s.charge_count,
        refund_count: s.refund_count,
        gross: s.gross,
        refunded: s.refunded,
        fees: s.fees,
        carried: s.carried,
        net: s.net,
        status: s.status.clone(),
        payout: s.payout_id.clone(),
        created: s.created,
    }
}

pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Settlement, DomainError> {
    ctx.store
        .settlement(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "settlement",
            id: id.to_string(),
        })
}

/// Closes every business day that has ended with money no settlement
/// holds; how many settlements it closed.
pub async fn sweep(ctx: &AppState) -> Result<u32, DomainError> {
    let now = ctx.clock.now();
    let mut closed = 0;
    for unsettled in ctx.store.unsettled(now).await? {
        let settings = ctx
            .store
            .settlement_settings(&unsettled.merchant_id)
            .await?;
        let (zone, cutoff) = settings.as_ref().map_or(("UTC", "00:00"), |s| {
            (s.time_zone.as_str(), s.cutoff.as_str())
        });
        let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
        let cutoff: Time = cutoff.parse().unwrap_or(Time::midnight());
        let currency = unsettled.currency.code();
        for day in days(unsettled.since, now, &tz, cutoff) {
            let sums = ctx
                .store
                .unsettled_sums(&unsettled.merchant_id, currency, day.end)
                .await?;
            let rows = sums.charge_count + sums.refund_count;
            if rows == 0 {
                continue;
            }
            let carried = ctx
                .store
                .last_settlement(&unsettled.merchant_id, currency)
                .await?
                .map_or(0, |last| last.net.min(0));
            let settlement = Settlement {
                id: new_id("stl"),
                local_date: day.local_date.clone(),
                time_zone: zone.to_string(),
                period_start: day.start,
                period_end: day.end,
                carried,
                net: sums.net + carried,
                status: "closed".into(),
                created: now,
                ..sums
            };
            let event = new_event(
                ctx,
                &settlement.merchant_id,
                EventType::SettlementClosed,
                &view(&settlement),
                None,
            );
            if ctx
                .store
                .close_settlement(&settlement, rows, &[event])
                .await?
            {
                closed += 1;
            }
        }
    }
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(zone: &str, text: &str) -> i64 {
        text.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get(zone).unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    }

    #[test]
    fn a_day_across_the_end_of_summer_time_lasts_twenty_five_hours() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let since = local("Europe/Berlin", "2026-10-24T23:59:59");
        let now = local("Europe/Berlin", "2026-10-26T00:00:01");
        let found = days(since, now, &tz, Time::midnight());
        assert_eq!(
            found
                .iter()
                .map(|d| d.local_date.as_str())
                .collect::<Vec<_>>(),
            ["2026-10-24", "2026-10-25"]
        );
        assert_eq!(found[0].end - found[0].start, 24 * 3600);
        assert_eq!(found[1].end - found[1].start, 25 * 3600);
        assert_eq!(found[1].start, found[0].end);
    }

    #[test]
    fn an_evening_cut_off_names_the_day_it_closes() {
        let tz = TimeZone::get("Asia/Dhaka").unwrap();
        let cutoff: Time = "18:00".parse().unwrap();
        let since = local("Asia/Dhaka", "2026-12-01T17:59:59");
        let found = days(
            since,
            local("Asia/Dhaka", "2026-12-02T18:00:00"),
            &tz,
            cutoff,
        );
        assert_eq!(
            found
                .iter()
                .map(|d| (d.local_date.as_str(), d.end))
                .collect::<Vec<_>>(),
            [
                ("2026-12-01", local("Asia/Dhaka", "2026-12-01T18:00")),
                ("2026-12-02", local("Asia/Dhaka", "2026-12-02T18:00")),
            ]
        );
        // Not yet at the cut-off: nothing has ended.
        assert!(
            days(
                since,
                local("Asia/Dhaka", "2026-12-01T17:59:59"),
                &tz,
                cutoff
            )
            .is_empty()
        );
    }
}

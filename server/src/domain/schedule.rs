//! When a subscription charges. Every cycle's date is computed from the
//! first one in the subscription's time zone: a monthly charge anchored on
//! the 31st falls on the last day of shorter months and on the 31st again
//! after them, and a charge at 09:00 stays at 09:00 local time across
//! daylight-saving changes. Never "30 days later".

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The unit of a subscription's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
    Month,
    Year,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Unit::Day, Unit::Week, Unit::Month, Unit::Year]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

/// A subscription's calendar.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub unit: Unit,
    pub count: u32,
    pub time_zone: String,
    tz: TimeZone,
    /// Cycle 0, in local time.
    pub first: DateTime,
    /// The day of the month a monthly or yearly charge aims for.
    pub anchor_day: i8,
}

/// Where a schedule is anchored, besides its start: a day of the month
/// (monthly and yearly charges) and a local time of day.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anchor {
    pub day: Option<i8>,
    pub time: Option<Time>,
}

impl Schedule {
    /// The schedule whose first charge is the first anchored moment at or
    /// after `start_at` (Unix seconds) in `time_zone`.
    pub fn new(
        unit: Unit,
        count: u32,
        time_zone: &str,
        start_at: i64,
        anchor: Anchor,
    ) -> Result<Self, String> {
        if !(1..=366).contains(&count) {
            return Err("interval_count must be between 1 and 366".into());
        }
        let tz = TimeZone::get(time_zone)
            .map_err(|_| format!("'{time_zone}' is not an IANA time zone, such as Asia/Dhaka"))?;
        let start = Timestamp::from_second(start_at)
            .map_err(|e| e.to_string())?
            .to_zoned(tz.clone())
            .datetime();
        let anchor_day = anchor.day.unwrap_or(start.day());
        if !(1..=31).contains(&anchor_day) {
            return Err("anchor.day must be between 1 and 31".into());
        }
        let time = anchor.time.unwrap_or(start.time());
        let mut schedule = Self {
            unit,
            count,
            time_zone: time_zone.to_string(),
            tz,
            first: start,
            anchor_day,
        };
        let mut first = match unit {
            Unit::Day | Unit::Week => start.date().to_datetime(time),
            Unit::Month | Unit::Year => {
                clamped(start.year(), start.month(), anchor_day).to_datetime(time)
            }
        };
        if first < start {
            first = match unit {
                Unit::Day | Unit::Week => first + 1.day(),
                Unit::Month => {
                    let next = start.date().first_of_month() + 1.month();
                    clamped(next.year(), next.month(), anchor_day).to_datetime(time)
                }
                Unit::Year => {
                    clamped(start.year() + 1, start.month(), anchor_day).to_datetime(time)
                }
            };
        }
        schedule.first = first;
        Ok(schedule)
    }

    /// A schedule as stored.
    pub fn stored(
        unit: Unit,
        count: u32,
        time_zone: &str,
        first_local: &str,
        anchor_day: i8,
    ) -> Result<Self, String> {
        Ok(Self {
            unit,
            count,
            time_zone: time_zone.to_string(),
            tz: TimeZone::get(time_zone).map_err(|e| e.to_string())?,
            first: first_local
                .parse()
                .map_err(|e: jiff::Error| e.to_string())?,
            anchor_day,
        })
    }

    /// Cycle `n`'s local date and time.
    pub fn local(&self, n: u32) -> DateTime {
        let steps = i64::from(n) * i64::from(self.count);
        let time = self.first.time();
        match self.unit {
            Unit::Day => self.first + steps.days(),
            Unit::Week => self.first + (steps * 7).days(),
            Unit::Month => {
                let month = self.first.date().first_of_month() + steps.months();
                clamped(month.year(), month.month(), self.anchor_day).to_datetime(time)
            }
            Unit::Year => {
                let year = self.first.year() as i64 + steps;
                clamped(year as i16, self.first.month(), self.anchor_day).to_datetime(time)
            }
        }
    }

    /// Cycle `n`'s moment, Unix seconds. A local time that a clock change
    /// skips is taken as the moment after the gap.
    pub fn due(&self, n: u32) -> i64 {
        self.tz
            .to_ambiguous_zoned(self.local(n))
            .compatible()
            .map(|z| z.timestamp().as_second())
            .unwrap_or(i64::MAX)
    }

    /// Cycle `n`'s moment with its offset, RFC 3339, for people to read.
    pub fn due_rfc3339(&self, n: u32) -> String {
        self.tz
            .to_ambiguous_zoned(self.local(n))
            .compatible()
            .map(|z| z.timestamp().display_with_offset(z.offset()).to_string())
            .unwrap_or_default()
    }
}

/// `day` of the month, or the month's last day if it has fewer.
fn clamped(year: i16, month: i8, day: i8) -> Date {
    let first = Date::new(year, month, 1).expect("a real month");
    Date::new(year, month, day.min(first.days_in_month())).expect("a day of the month")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, local: &str) -> i64 {
        let dt: DateTime = local.parse().unwrap();
        TimeZone::get(zone)
            .unwrap()
            .to_ambiguous_zoned(dt)
            .compatible()
            .unwrap()
            .timestamp()
            .as_second()
    }

    #[test]
    fn the_31st_clamps_to_each_months_end_and_comes_back() {
        let s = Schedule::new(
            Unit::Month,
            1,
            "Asia/Dhaka",
            at("Asia/Dhaka", "2027-01-31T09:00"),
            Anchor::default(),
        )
        .unwrap();
        let dates: Vec<String> = (0..5).map(|n| s.local(n).date().to_string()).collect();
        assert_eq!(
            dates,
            [
                "2027-01-31",
                "2027-02-28",
                "2027-03-31",
                "2027-04-30",
                "2027-05-31"
            ]
        );
        // 2028 is a leap year.
        assert_eq!(s.local(13).date().to_string(), "2028-02-29");
        assert_eq!(s.due(1), at("Asia/Dhaka", "2027-02-28T09:00"));
    }

    #[test]
    fn local_time_holds_across_daylight_saving_changes() {
        // New York moves its clocks on 2027-03-14 and 2027-11-07.
        let s = Schedule::new(
            Unit::Week,
            1,
            "America/New_York",
            at("America/New_York", "2027-03-08T09:30"),
            Anchor::default(),
        )
        .unwrap();
        assert_eq!(
            s.due(1) - s.due(0),
            7 * 86400 - 3600,
            "a week with an hour less"
        );
        assert_eq!(s.local(1).time().to_string(), "09:30:00");
        assert!(s.due_rfc3339(1).ends_with("-04:00"), "{}", s.due_rfc3339(1));
        assert!(s.due_rfc3339(0).ends_with("-05:00"), "{}", s.due_rfc3339(0));
    }

    #[test]
    fn an_anchor_day_and_time_move_the_first_charge_to_the_next_such_moment() {
        let anchor = Anchor {
            day: Some(1),
            time: Some(Time::new(6, 0, 0, 0).unwrap()),
        };
        let s = Schedule::new(
            Unit::Month,
            3,
            "Asia/Ulaanbaatar",
            at("Asia/Ulaanbaatar", "2027-01-15T12:00"),
            anchor,
        )
        .unwrap();
        assert_eq!(s.local(0).to_string(), "2027-02-01T06:00:00");
        assert_eq!(s.local(1).to_string(), "2027-05-01T06:00:00");
        let yearly = Schedule::new(
            Unit::Year,
            1,
            "UTC",
            at("UTC", "2028-02-29T00:00"),
            Anchor::default(),
        )
        .unwrap();
        assert_eq!(yearly.local(1).date().to_string(), "2029-02-28");
        assert_eq!(yearly.local(4).date().to_string(), "2032-02-29");
        // Stored and read back, the same calendar.
        let again = Schedule::stored(
            s.unit,
            s.count,
            &s.time_zone,
            &s.first.to_string(),
            s.anchor_day,
        )
        .unwrap();
        assert_eq!(again.due(7), s.due(7));
    }

    #[test]
    fn bad_zones_counts_and_days_are_refused() {
        assert!(Schedule::new(Unit::Day, 1, "Mars/Olympus", 0, Anchor::default()).is_err());
        assert!(Schedule::new(Unit::Day, 0, "UTC", 0, Anchor::default()).is_err());
        let bad_day = Anchor {
            day: Some(32),
            time: None,
        };
        assert!(Schedule::new(Unit::Month, 1, "UTC", 0, bad_day).is_err());
    }
}

//! Units of the case clock: the +08:00 day, an amount of working time, and a
//! validated share of a time limit.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarError;

/// Seconds in one (working) day.
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;

/// China Standard Time, UTC+08:00 (no daylight saving).
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The calendar date of `at` in China Standard Time.
pub fn date_in_china(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_offset()).date_naive()
}

/// The instant at which `date` begins (00:00 +08:00); 24:00 of a date is the
/// start of the next one.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN)
        .and_local_timezone(china_offset())
        .single()
        .expect("a fixed offset maps every local time to one instant")
        .with_timezone(&Utc)
}

/// An amount of working time: seconds that fell on working days. One working
/// day is 24 hours of it. Never negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkingTime(TimeDelta);

impl WorkingTime {
    /// No working time.
    pub const ZERO: Self = Self(TimeDelta::zero());

    /// `days` full working days.
    pub fn from_days(days: u32) -> Self {
        Self(TimeDelta::seconds(i64::from(days) * SECONDS_PER_DAY))
    }

    /// Working time of the given length; negative durations become zero.
    pub fn from_duration(duration: TimeDelta) -> Self {
        Self(duration.max(TimeDelta::zero()))
    }

    /// The length as a duration (one working day = 24 h).
    pub fn as_duration(self) -> TimeDelta {
        self.0
    }

    /// The length in working days, fractional (2.4 = two days and 9 h 36 min).
    pub fn as_days(self) -> f64 {
        self.0.num_seconds() as f64 / SECONDS_PER_DAY as f64
            + f64::from(self.0.subsec_nanos()) / 1e9 / SECONDS_PER_DAY as f64
    }

    /// The number of complete working days in it (rounded down).
    pub fn whole_days(self) -> i64 {
        self.0.num_days()
    }
}

impl Add for WorkingTime {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl AddAssign for WorkingTime {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

impl Sub for WorkingTime {
    type Output = Self;
    /// Saturates at zero.
    fn sub(self, rhs: Self) -> Self {
        Self::from_duration(self.0 - rhs.0)
    }
}

impl fmt::Display for WorkingTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} working days", self.as_days())
    }
}

/// A fraction of a time limit, between 0 and 1 inclusive (0.8 = yellow at 80 %).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Share(f64);

impl Share {
    /// The whole limit.
    pub const WHOLE: Self = Self(1.0);

    /// A share; rejects NaN and anything outside `0.0..=1.0`.
    pub fn new(fraction: f64) -> Result<Self, CalendarError> {
        if (0.0..=1.0).contains(&fraction) { Ok(Self(fraction)) } else { Err(CalendarError::InvalidShare(fraction)) }
    }

    /// The fraction, in `0.0..=1.0`.
    pub fn get(self) -> f64 {
        self.0
    }

    /// This share of `limit_days` working days, rounded to the second.
    pub fn of_days(self, limit_days: u32) -> WorkingTime {
        let seconds = (self.0 * f64::from(limit_days) * SECONDS_PER_DAY as f64).round();
        // At most u32::MAX days of seconds, far inside i64.
        WorkingTime(TimeDelta::seconds(seconds as i64))
    }
}

impl TryFrom<f64> for Share {
    type Error = CalendarError;
    fn try_from(fraction: f64) -> Result<Self, Self::Error> {
        Self::new(fraction)
    }
}

impl From<Share> for f64 {
    fn from(share: Share) -> f64 {
        share.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_midnight_in_china_which_is_sixteen_hundred_utc_the_day_before() {
        let date = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        assert_eq!(start_of_day(date).to_rfc3339(), "2026-09-30T16:00:00+00:00");
        assert_eq!(date_in_china(start_of_day(date)), date);
    }

    #[test]
    fn an_instant_late_in_the_utc_evening_is_already_the_next_date_in_china() {
        let at: DateTime<Utc> = "2026-09-30T17:00:00Z".parse().unwrap();
        assert_eq!(date_in_china(at), NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
    }

    #[test]
    fn eight_tenths_of_three_days_is_two_point_four_days_to_the_second() {
        let share = Share::new(0.8).unwrap().of_days(3);
        assert_eq!(share.as_duration(), TimeDelta::seconds(207_360));
        assert!((share.as_days() - 2.4).abs() < 1e-12);
        assert_eq!(share.whole_days(), 2);
    }

    #[test]
    fn a_share_outside_zero_to_one_or_nan_is_rejected() {
        assert!(Share::new(1.2).is_err());
        assert!(Share::new(-0.1).is_err());
        assert!(Share::new(f64::NAN).is_err());
        assert!(serde_json::from_str::<Share>("1.5").is_err());
        assert_eq!(serde_json::from_str::<Share>("0.8").unwrap().get(), 0.8);
    }

    #[test]
    fn subtracting_more_working_time_than_there_is_gives_zero() {
        assert_eq!(WorkingTime::from_days(1) - WorkingTime::from_days(2), WorkingTime::ZERO);
    }
}

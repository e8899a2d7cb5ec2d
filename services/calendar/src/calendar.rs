//! The working-day calendar: which dates are 工作日, loaded from the published
//! holiday schedule (holidays and 调休 make-up days per year), and the deadline
//! arithmetic of continuous working time on it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc, Weekday};
use serde::Deserialize;

use crate::answer::Answer;
use crate::working_time::{SECONDS_PER_DAY, Share, WorkingTime, date_in_china, start_of_day};
use crate::year::CalendarYear;

/// The State Council schedules embedded in the crate (`data/calendar-cn.json`).
const CHINA_CALENDAR_JSON: &str = include_str!("../data/calendar-cn.json");

/// Why calendar data could not be loaded, or a calendar answer was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The text is not JSON of the shape
    /// `{"years": {"2026": {"holidays": [...], "workdays": [...]}}}`.
    #[error("calendar data is not JSON of the expected shape")]
    Json(#[from] serde_json::Error),
    /// A year key outside 1..=9999.
    #[error("calendar year {0} is outside 1..=9999")]
    YearOutOfRange(i32),
    /// A date filed under a year it does not belong to.
    #[error("{date} is listed under year {year}")]
    DateOutsideYear {
        /// The year key it was filed under.
        year: i32,
        /// The misfiled date.
        date: NaiveDate,
    },
    /// A date listed both as a holiday and as a make-up working day.
    #[error("{0} is listed both as a holiday and as a make-up working day")]
    HolidayAndWorkday(NaiveDate),
    /// A share of a time limit outside `0.0..=1.0` (or NaN).
    #[error("share {0} of a time limit is not between 0 and 1")]
    InvalidShare(f64),
    /// [`Answer::published`] was asked of an answer that depends on a year
    /// without published holiday data.
    #[error("the answer depends on a year without published holiday data")]
    BeyondPublished,
}

#[derive(Deserialize)]
struct CalendarDoc {
    years: BTreeMap<i32, YearDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearDoc {
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    workdays: Vec<NaiveDate>,
}

/// Which dates are working days, for the years whose holiday schedule is
/// published; other years count weekends only (and answers say so).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

impl Default for WorkingCalendar {
    /// The embedded mainland China calendar, as [`WorkingCalendar::china`].
    fn default() -> Self {
        Self::china()
    }
}

impl WorkingCalendar {
    /// The mainland China calendar embedded in the crate (State Council
    /// schedules for 2025 and 2026).
    pub fn china() -> Self {
        Self::from_json(CHINA_CALENDAR_JSON).expect("the embedded calendar data is valid")
    }

    /// A calendar from JSON shaped like the embedded one:
    /// `{"years": {"2026": {"holidays": ["2026-10-01", ...], "workdays": ["2026-10-10", ...]}}}`.
    /// Other top-level keys (such as `"about"`) are ignored. Every year listed,
    /// even with empty lists, counts as published.
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        let doc: CalendarDoc = serde_json::from_str(json)?;
        let mut calendar = Self { holidays: BTreeSet::new(), workdays: BTreeSet::new(), years: BTreeSet::new() };
        for (year, lists) in doc.years {
            if !(1..=9999).contains(&year) {
                return Err(CalendarError::YearOutOfRange(year));
            }
            for &date in lists.holidays.iter().chain(&lists.workdays) {
                if date.year() != year {
                    return Err(CalendarError::DateOutsideYear { year, date });
                }
            }
            calendar.years.insert(year);
            calendar.holidays.extend(lists.holidays);
            calendar.workdays.extend(lists.workdays);
        }
        if let Some(&date) = calendar.holidays.intersection(&calendar.workdays).next() {
            return Err(CalendarError::HolidayAndWorkday(date));
        }
        Ok(calendar)
    }

    /// A calendar of exactly the given years (a later entry for the same
    /// year replaces an earlier one): how a service builds the calendar it
    /// was published, the shipped seed years first.
    pub fn from_years(years: impl IntoIterator<Item = CalendarYear>) -> Self {
        let empty = Self { holidays: BTreeSet::new(), workdays: BTreeSet::new(), years: BTreeSet::new() };
        years.into_iter().fold(empty, |calendar, year| calendar.with_year(year))
    }

    /// This calendar with `year`'s schedule set to the one given (added, or
    /// replacing what was published for that year).
    pub fn with_year(mut self, year: CalendarYear) -> Self {
        let y = year.year();
        let span = year_span(y);
        self.holidays.retain(|d| !span.contains(d));
        self.workdays.retain(|d| !span.contains(d));
        self.holidays.extend(year.holidays());
        self.workdays.extend(year.workdays());
        self.years.insert(y);
        self
    }

    /// One published year's schedule.
    pub fn year(&self, year: i32) -> Option<CalendarYear> {
        if !self.years.contains(&year) {
            return None;
        }
        let span = year_span(year);
        let pick = |set: &BTreeSet<NaiveDate>| set.range(span.clone()).copied().collect();
        Some(CalendarYear::trusted(year, pick(&self.holidays), pick(&self.workdays)))
    }

    /// Every published year's schedule, ascending.
    pub fn years(&self) -> Vec<CalendarYear> {
        self.years.iter().filter_map(|&y| self.year(y)).collect()
    }

    /// The last date up to which every day from `today` on is covered by
    /// published data (31 December of the last year in the unbroken run of
    /// published years starting with `today`'s); `None` when `today`'s own
    /// year is unpublished.
    pub fn published_through(&self, today: NaiveDate) -> Option<NaiveDate> {
        let mut year = today.year();
        if !self.years.contains(&year) {
            return None;
        }
        while self.years.contains(&(year + 1)) {
            year += 1;
        }
        NaiveDate::from_ymd_opt(year, 12, 31)
    }

    /// The years with published data, ascending.
    pub fn published_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Whether `date`'s year has published data (otherwise it counts weekends only).
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
    }

    /// Whether `date` is a working day: a listed make-up working day, or
    /// Monday to Friday and not a listed holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> Answer<bool> {
        self.answer_for_dates(self.working(date), date, date)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> Answer<NaiveDate> {
        self.add_working_days_date(date, 1)
    }

    /// The `n`-th working day strictly after `date` (`date` itself when `n` is 0).
    /// Flagged when any date from `date` to the result is unpublished.
    ///
    /// # Panics
    /// If the result lies beyond chrono's date range (about 260 000 years).
    pub fn add_working_days_date(&self, date: NaiveDate, n: u32) -> Answer<NaiveDate> {
        let day = self.nth_working_day_after(date, n);
        self.answer_for_dates(day, date, day)
    }

    /// The deadline of a limit of `n` working days started at `start`: 24:00
    /// +08:00 (00:00 of the next date) at the end of the `n`-th working day
    /// after `start`'s date; for `n` = 0 the end of `start`'s own date.
    /// Flagged when any date from `start`'s to the last day is unpublished.
    ///
    /// # Panics
    /// If the result lies beyond chrono's date range.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> Answer<DateTime<Utc>> {
        let first = date_in_china(start);
        let last = self.nth_working_day_after(first, n);
        self.answer_for_dates(start_of_day(succ(last)), first, last)
    }

    /// The working time used from `from` to `to`, counting from 00:00 +08:00
    /// of the day after `from` (the start day does not count); zero when `to`
    /// is not after that. `working_days_between(t, add_working_days(t, n))` is
    /// exactly `n` days. Flagged when a date in `[from, to)` is unpublished.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Answer<WorkingTime> {
        let used = self.working_time_in(counting_starts(from), to);
        self.answer_over(used, from, to)
    }

    /// The instant at which `share` of a limit of `limit_days` working days
    /// started at `start` is used up (the yellow-warning instant). With
    /// [`Share::WHOLE`] this is [`WorkingCalendar::add_working_days`]; 0.8 of 3
    /// days is 09:36 +08:00 on the 3rd working day after `start`'s date.
    pub fn due_share(&self, start: DateTime<Utc>, share: Share, limit_days: u32) -> Answer<DateTime<Utc>> {
        let due = self.instant_after(counting_starts(start), share.of_days(limit_days)).value;
        self.answer_over(due, start, due)
    }

    /// The working time in the half-open interval `[from, to)`, without the
    /// start-day rule (zero when `to <= from`).
    pub(crate) fn working_time_in(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> WorkingTime {
        if to <= from {
            return WorkingTime::ZERO;
        }
        let (first, last) = (date_in_china(from), date_in_china(to));
        if first == last {
            return if self.working(first) { WorkingTime::from_duration(to - from) } else { WorkingTime::ZERO };
        }
        let mut used = WorkingTime::ZERO;
        if self.working(first) {
            used += WorkingTime::from_duration(start_of_day(succ(first)) - from);
        }
        if self.working(last) {
            used += WorkingTime::from_duration(to - start_of_day(last));
        }
        let whole = self.count_working_dates(succ(first), pred(last));
        used + WorkingTime::from_duration(TimeDelta::seconds(whole * SECONDS_PER_DAY))
    }

    /// The earliest instant `t >= from` with `working_time_in(from, t) >= amount`.
    /// `amount` must be at most `u32::MAX` working days.
    pub(crate) fn instant_after(&self, from: DateTime<Utc>, amount: WorkingTime) -> Answer<DateTime<Utc>> {
        let first = date_in_china(from);
        let mut remaining = amount.as_duration();
        if remaining <= TimeDelta::zero() {
            return self.answer_for_dates(from, first, first);
        }
        if self.working(first) {
            let available = start_of_day(succ(first)) - from;
            if remaining <= available {
                return self.answer_for_dates(from + remaining, first, first);
            }
            remaining -= available;
        }
        // `remaining` is positive: it ends on the ceil(remaining)-th working day
        // after `first`, at the end of that day when it is a whole number.
        let whole = remaining.num_days();
        let rest = remaining - TimeDelta::days(whole);
        let (nth, into_day) = if rest.is_zero() { (whole, TimeDelta::days(1)) } else { (whole + 1, rest) };
        let nth = u32::try_from(nth).expect("time limits are at most u32::MAX working days");
        let last = self.nth_working_day_after(first, nth);
        self.answer_for_dates(start_of_day(last) + into_day, first, last)
    }

    /// Flags `value` when any date in `[from, to)` (or `from`'s date alone when
    /// the interval is empty) is unpublished.
    pub(crate) fn answer_over<T>(&self, value: T, from: DateTime<Utc>, to: DateTime<Utc>) -> Answer<T> {
        let last_instant = (to - TimeDelta::nanoseconds(1)).max(from);
        self.answer_for_dates(value, date_in_china(from), date_in_china(last_instant))
    }

    fn answer_for_dates<T>(&self, value: T, first: NaiveDate, last: NaiveDate) -> Answer<T> {
        let (first, last) = (first.min(last), first.max(last));
        Answer { value, beyond_published: !(first.year()..=last.year()).all(|year| self.years.contains(&year)) }
    }

    fn working(&self, date: NaiveDate) -> bool {
        self.workdays.contains(&date) || (!is_weekend(date) && !self.holidays.contains(&date))
    }

    fn nth_working_day_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        let mut remaining = n;
        while remaining > 0 {
            if remaining > 5 {
                // Any 7 consecutive unpublished dates hold exactly 5 working
                // days, so skip whole weeks while staying short of the target
                // and of the next published year.
                let weeks = u64::from((remaining - 1) / 5).min(self.unpublished_days_after(day) / 7);
                if weeks > 0 {
                    day = day
                        .checked_add_days(Days::new(weeks * 7))
                        .expect("working-day arithmetic stays within chrono's date range");
                    remaining -= u32::try_from(weeks * 5).expect("at most `remaining`");
                }
            }
            day = succ(day);
            if self.working(day) {
                remaining -= 1;
            }
        }
        day
    }

    /// How many dates directly after `date` are unpublished (u64::MAX when
    /// no published year follows).
    fn unpublished_days_after(&self, date: NaiveDate) -> u64 {
        let next = succ(date);
        if self.covers(next) {
            return 0;
        }
        match self.years.range(next.year() + 1..).next() {
            Some(&year) => {
                let published = NaiveDate::from_ymd_opt(year, 1, 1).expect("years are within 1..=9999");
                u64::try_from((published - date).num_days() - 1).unwrap_or(0)
            }
            None => u64::MAX,
        }
    }

    /// Working dates in `first..=last` (0 when `first > last`).
    fn count_working_dates(&self, first: NaiveDate, last: NaiveDate) -> i64 {
        if first > last {
            return 0;
        }
        let mut count = 0;
        let mut cursor = first;
        for &year in self.years.range(first.year()..=last.year()) {
            let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).expect("years are within 1..=9999");
            let dec31 = NaiveDate::from_ymd_opt(year, 12, 31).expect("years are within 1..=9999");
            if cursor < jan1 {
                count += weekdays_in(cursor, pred(jan1));
            }
            let end = last.min(dec31);
            count += cursor.max(jan1).iter_days().take_while(|day| *day <= end).filter(|day| self.working(*day)).count()
                as i64;
            cursor = succ(dec31);
        }
        if cursor <= last {
            count += weekdays_in(cursor, last);
        }
        count
    }
}

/// Counting of a limit started at `start` begins at 00:00 +08:00 the next day.
pub(crate) fn counting_starts(start: DateTime<Utc>) -> DateTime<Utc> {
    start_of_day(succ(date_in_china(start)))
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday-to-Friday dates in `first..=last`, for `first <= last`.
fn weekdays_in(first: NaiveDate, last: NaiveDate) -> i64 {
    let days = (last - first).num_days() + 1;
    let tail = (0..(days % 7) as u64).filter(|back| !is_weekend(last - Days::new(*back))).count() as i64;
    days / 7 * 5 + tail
}

/// 1 January to 31 December of `year`.
fn year_span(year: i32) -> std::ops::RangeInclusive<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("years are within chrono's range");
    let last = NaiveDate::from_ymd_opt(year, 12, 31).expect("years are within chrono's range");
    first..=last
}

fn succ(date: NaiveDate) -> NaiveDate {
    date.succ_opt().expect("dates stay within chrono's range")
}

fn pred(date: NaiveDate) -> NaiveDate {
    date.pred_opt().expect("dates stay within chrono's range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use proptest::prelude::*;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::china()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// An instant written in China Standard Time, e.g. "2026-09-29T10:00".
    fn cst(text: &str) -> DateTime<Utc> {
        DateTime::<FixedOffset>::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
    }

    fn exact<T>(value: T) -> Answer<T> {
        Answer::exact(value)
    }

    fn flagged<T>(value: T) -> Answer<T> {
        Answer { value, beyond_published: true }
    }

    #[test]
    fn the_embedded_calendar_publishes_2025_and_2026() {
        assert_eq!(cal().published_years().collect::<Vec<_>>(), vec![2025, 2026]);
    }

    #[test]
    fn national_day_week_is_a_holiday_even_on_weekdays() {
        for day in 1..=7 {
            let d = NaiveDate::from_ymd_opt(2026, 10, day).unwrap();
            assert_eq!(cal().is_working_day(d), exact(false), "{d}");
        }
    }

    #[test]
    fn saturday_2026_10_10_is_a_make_up_working_day_but_sunday_the_11th_is_not() {
        assert_eq!(date("2026-10-10").weekday(), Weekday::Sat);
        assert_eq!(cal().is_working_day(date("2026-10-10")), exact(true));
        assert_eq!(cal().is_working_day(date("2026-10-11")), exact(false));
    }

    #[test]
    fn sunday_2026_09_20_works_and_mid_autumn_friday_the_25th_does_not() {
        assert_eq!(cal().is_working_day(date("2026-09-20")), exact(true));
        assert_eq!(cal().is_working_day(date("2026-09-25")), exact(false));
        assert_eq!(cal().next_working_day(date("2026-09-24")), exact(date("2026-09-28")));
    }

    #[test]
    fn the_working_day_after_september_30th_2026_is_october_8th() {
        assert_eq!(cal().next_working_day(date("2026-09-30")), exact(date("2026-10-08")));
    }

    #[test]
    fn five_working_days_from_tuesday_2026_09_29_end_with_monday_october_12th() {
        // 09-30 (1), 10-01..07 holidays, 10-08 (2), 10-09 (3), Sat 10-10 make-up (4),
        // Sun 10-11 rest, 10-12 (5): the limit runs out at 24:00 on 10-12.
        let deadline = cal().add_working_days(cst("2026-09-29T10:00"), 5);
        assert_eq!(deadline, exact(cst("2026-10-13T00:00")));
        assert_eq!(cal().add_working_days_date(date("2026-09-29"), 5), exact(date("2026-10-12")));
    }

    #[test]
    fn a_limit_of_zero_days_ends_at_the_end_of_the_start_date() {
        assert_eq!(cal().add_working_days(cst("2026-10-03T10:00"), 0), exact(cst("2026-10-04T00:00")));
    }

    #[test]
    fn yellow_at_eight_tenths_of_five_days_is_the_end_of_the_fourth_working_day() {
        let share = Share::new(0.8).unwrap();
        let due = cal().due_share(cst("2026-09-29T10:00"), share, 5);
        assert_eq!(due, exact(cst("2026-10-11T00:00")));
    }

    #[test]
    fn yellow_at_eight_tenths_of_three_days_is_09_36_on_the_third_working_day() {
        let share = Share::new(0.8).unwrap();
        let due = cal().due_share(cst("2026-09-29T10:00"), share, 3);
        assert_eq!(due, exact(cst("2026-10-09T09:36")));
    }

    #[test]
    fn the_whole_share_is_the_deadline() {
        let start = cst("2026-09-18T16:20");
        assert_eq!(cal().due_share(start, Share::WHOLE, 7), cal().add_working_days(start, 7));
    }

    #[test]
    fn working_time_counts_from_the_next_day_and_only_on_working_days() {
        // 09-30 (1 day), holidays, 10-08 (1 day), 10-09 until noon (0.5 day).
        let used = cal().working_days_between(cst("2026-09-29T10:00"), cst("2026-10-09T12:00"));
        assert_eq!(used.value.as_days(), 2.5);
        assert!(!used.beyond_published);
        let same_day = cal().working_days_between(cst("2026-09-29T10:00"), cst("2026-09-29T23:00"));
        assert_eq!(same_day, exact(WorkingTime::ZERO));
        let backwards = cal().working_days_between(cst("2026-09-29T10:00"), cst("2026-09-01T10:00"));
        assert_eq!(backwards, exact(WorkingTime::ZERO));
    }

    #[test]
    fn a_date_in_2028_is_flagged_beyond_published() {
        // Wednesday and Saturday: weekends-only rule, flagged.
        assert_eq!(cal().is_working_day(date("2028-03-01")), flagged(true));
        assert_eq!(cal().is_working_day(date("2028-03-04")), flagged(false));
        assert!(!cal().covers(date("2028-03-01")));
        assert!(matches!(cal().is_working_day(date("2028-03-01")).published(), Err(CalendarError::BeyondPublished)));
    }

    #[test]
    fn a_deadline_running_into_2027_is_flagged_but_one_ending_at_new_year_midnight_is_not() {
        // 2026-12-31 is a Thursday; 2027-01-01 (Friday) has no published data.
        assert_eq!(cal().add_working_days(cst("2026-12-30T10:00"), 1), exact(cst("2027-01-01T00:00")));
        assert_eq!(cal().add_working_days_date(date("2026-12-30"), 3), flagged(date("2027-01-04")));
        let used = cal().working_days_between(cst("2026-12-30T10:00"), cst("2027-01-01T00:00"));
        assert_eq!(used, exact(WorkingTime::from_days(1)));
    }

    #[test]
    fn another_calendar_can_be_loaded_from_json_of_the_same_shape() {
        let calendar = WorkingCalendar::from_json(
            r#"{"years": {"2030": {"holidays": ["2030-01-01"], "workdays": ["2030-01-05"]}}}"#,
        )
        .unwrap();
        assert_eq!(calendar.is_working_day(date("2030-01-01")), exact(false));
        assert_eq!(calendar.is_working_day(date("2030-01-05")), exact(true));
        assert_eq!(calendar.is_working_day(date("2026-10-01")), flagged(true));
    }

    #[test]
    fn publishing_a_year_adds_it_and_a_correction_replaces_it_whole() {
        let y2027 = CalendarYear::new(2027, &[date("2027-01-01")], &[]).unwrap();
        let calendar = cal().with_year(y2027);
        assert_eq!(calendar.published_years().collect::<Vec<_>>(), [2025, 2026, 2027]);
        assert_eq!(calendar.is_working_day(date("2027-01-01")), exact(false));
        let corrected = CalendarYear::new(2027, &[date("2027-01-04")], &[]).unwrap();
        let calendar = calendar.with_year(corrected.clone());
        assert_eq!(calendar.is_working_day(date("2027-01-01")), exact(true));
        assert_eq!(calendar.year(2027), Some(corrected));
        assert_eq!(calendar.year(2026), cal().year(2026), "other years are untouched");
    }

    #[test]
    fn a_calendar_rebuilt_from_its_years_is_the_same_calendar() {
        assert_eq!(WorkingCalendar::from_years(cal().years()), cal());
    }

    #[test]
    fn published_through_is_the_end_of_the_unbroken_run_from_today() {
        assert_eq!(cal().published_through(date("2025-06-01")), Some(date("2026-12-31")));
        assert_eq!(cal().published_through(date("2027-01-01")), None);
        let gap = cal().with_year(CalendarYear::new(2028, &[], &[]).unwrap());
        assert_eq!(gap.published_through(date("2026-12-02")), Some(date("2026-12-31")));
    }

    #[test]
    fn a_date_filed_under_the_wrong_year_is_rejected() {
        let err = WorkingCalendar::from_json(r#"{"years": {"2030": {"holidays": ["2031-01-01"]}}}"#);
        assert!(matches!(err, Err(CalendarError::DateOutsideYear { year: 2030, .. })));
    }

    #[test]
    fn a_date_that_is_both_holiday_and_workday_is_rejected() {
        let err = WorkingCalendar::from_json(
            r#"{"years": {"2030": {"holidays": ["2030-01-05"], "workdays": ["2030-01-05"]}}}"#,
        );
        assert!(matches!(err, Err(CalendarError::HolidayAndWorkday(d)) if d == date("2030-01-05")));
    }

    #[test]
    fn malformed_calendar_json_is_rejected_with_its_cause() {
        for json in [
            r#"{"years": {"2030": {"holiday": []}}}"#,
            r#"{"years": {"2030": {"holidays": ["2030-13-01"]}}}"#,
            r#"{"years": {"twenty": {}}}"#,
            "not json",
        ] {
            let err = WorkingCalendar::from_json(json).unwrap_err();
            assert!(matches!(err, CalendarError::Json(_)), "{json}");
            assert!(std::error::Error::source(&err).is_some());
        }
    }

    /// Day-by-day reference for the week-skipping arithmetic.
    fn naive_nth_after(calendar: &WorkingCalendar, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        let mut left = n;
        while left > 0 {
            day = succ(day);
            if calendar.working(day) {
                left -= 1;
            }
        }
        day
    }

    fn any_date(from_year: i32, to_year: i32) -> impl Strategy<Value = NaiveDate> {
        let first = NaiveDate::from_ymd_opt(from_year, 1, 1).unwrap();
        let days = (NaiveDate::from_ymd_opt(to_year, 12, 31).unwrap() - first).num_days() as u64;
        (0..=days).prop_map(move |offset| first + Days::new(offset))
    }

    fn any_instant(from_year: i32, to_year: i32) -> impl Strategy<Value = DateTime<Utc>> {
        (any_date(from_year, to_year), 0..SECONDS_PER_DAY)
            .prop_map(|(day, second)| start_of_day(day) + TimeDelta::seconds(second))
    }

    proptest! {
        #[test]
        fn adding_n_working_days_then_counting_them_gives_n_back(
            start in any_instant(2025, 2027),
            n in 0u32..400,
        ) {
            let deadline = cal().add_working_days(start, n).value;
            let used = cal().working_days_between(start, deadline).value;
            prop_assert_eq!(used, WorkingTime::from_days(n));
            // And the deadline is the earliest instant with n days used.
            let just_before = cal().working_days_between(start, deadline - TimeDelta::seconds(1)).value;
            prop_assert!(n == 0 || just_before < WorkingTime::from_days(n));
        }

        #[test]
        fn the_n_th_working_day_after_a_date_has_n_working_dates_up_to_it(
            day in any_date(2025, 2027),
            n in 0u32..400,
        ) {
            let last = cal().add_working_days_date(day, n).value;
            prop_assert_eq!(cal().count_working_dates(succ(day), last), i64::from(n));
            prop_assert!(n == 0 || cal().working(last));
        }

        #[test]
        fn skipping_whole_weeks_agrees_with_stepping_day_by_day(
            day in any_date(2020, 2032),
            n in 0u32..3000,
        ) {
            let calendar = WorkingCalendar::from_json(
                r#"{"years": {"2025": {}, "2026": {"holidays": ["2026-10-01"]}, "2029": {"workdays": ["2029-01-06"]}}}"#,
            ).unwrap();
            prop_assert_eq!(calendar.nth_working_day_after(day, n), naive_nth_after(&calendar, day, n));
            prop_assert_eq!(cal().nth_working_day_after(day, n), naive_nth_after(&cal(), day, n));
        }

        #[test]
        fn counting_working_dates_agrees_with_checking_each_date(
            first in any_date(2022, 2029),
            length in 0u64..2000,
        ) {
            let last = first + Days::new(length);
            let naive = first.iter_days().take_while(|d| *d <= last).filter(|d| cal().working(*d)).count();
            prop_assert_eq!(cal().count_working_dates(first, last), naive as i64);
        }

        #[test]
        fn answers_wholly_inside_2025_and_2026_are_never_flagged(
            start in any_instant(2025, 2026),
            n in 0u32..30,
        ) {
            let deadline = cal().add_working_days(start, n);
            prop_assume!(deadline.value <= start_of_day(date("2027-01-01")));
            prop_assert!(!deadline.beyond_published);
        }
    }
}

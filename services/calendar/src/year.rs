//! One published calendar year: its public holidays and make-up working days
//! (调休), checked as a whole so that an administrator publishing next year's
//! schedule is told every mistake at once, each naming its date.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

/// The years an administrator may publish: wide enough for any schedule the
/// State Council will issue, narrow enough to catch a mistyped year.
pub const PUBLISHABLE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2999;

/// A year's schedule, valid by construction: every date in the year, no date
/// twice, no date both a holiday and a working day, make-up working days only
/// on weekends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarYear {
    year: i32,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// Which of a year's two lists a date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateList {
    /// Public holidays (放假).
    Holidays,
    /// Make-up working days (调休上班).
    Workdays,
}

impl fmt::Display for DateList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateList::Holidays => "holidays",
            DateList::Workdays => "workdays",
        })
    }
}

/// One mistake in a year's schedule; the message names the date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YearProblem {
    /// The year is outside [`PUBLISHABLE_YEARS`].
    #[error("year {0} is outside the years that can be published (2000 to 2999)")]
    YearOutOfRange(i32),
    /// A date that does not lie in the year it is listed under.
    #[error("{date} is listed under {list} of {year} but is not in {year}")]
    OutsideYear {
        /// The year the list belongs to.
        year: i32,
        /// The list it was found in.
        list: DateList,
        /// The misfiled date.
        date: NaiveDate,
    },
    /// A date listed twice in the same list.
    #[error("{date} is listed twice under {list}")]
    Repeated {
        /// The list it was found in.
        list: DateList,
        /// The repeated date.
        date: NaiveDate,
    },
    /// A date listed both as a holiday and as a make-up working day.
    #[error("{0} is listed both as a holiday and as a make-up working day")]
    HolidayAndWorkday(NaiveDate),
    /// A make-up working day on Monday to Friday, which is a working day anyway.
    #[error("{0} is a {1}: a make-up working day must fall on a Saturday or Sunday")]
    WorkdayOnWeekday(NaiveDate, Weekday),
}

impl CalendarYear {
    /// Checks a year's schedule and returns every problem found, in the order
    /// the dates were given.
    pub fn new(year: i32, holidays: &[NaiveDate], workdays: &[NaiveDate]) -> Result<Self, Vec<YearProblem>> {
        let mut problems = Vec::new();
        if !PUBLISHABLE_YEARS.contains(&year) {
            problems.push(YearProblem::YearOutOfRange(year));
        }
        let holidays = checked_list(year, DateList::Holidays, holidays, &mut problems);
        let workdays = checked_list(year, DateList::Workdays, workdays, &mut problems);
        for &date in &workdays {
            if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                problems.push(YearProblem::WorkdayOnWeekday(date, date.weekday()));
            }
        }
        problems.extend(holidays.intersection(&workdays).map(|&date| YearProblem::HolidayAndWorkday(date)));
        if problems.is_empty() { Ok(CalendarYear { year, holidays, workdays }) } else { Err(problems) }
    }

    /// A year as the embedded data lists it, trusted: used only for data the
    /// crate has already checked (see [`crate::WorkingCalendar::from_json`]).
    pub(crate) fn trusted(year: i32, holidays: BTreeSet<NaiveDate>, workdays: BTreeSet<NaiveDate>) -> Self {
        CalendarYear { year, holidays, workdays }
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Its public holidays, ascending.
    pub fn holidays(&self) -> impl ExactSizeIterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    /// Its make-up working days, ascending.
    pub fn workdays(&self) -> impl ExactSizeIterator<Item = NaiveDate> + '_ {
        self.workdays.iter().copied()
    }
}

fn checked_list(
    year: i32,
    list: DateList,
    dates: &[NaiveDate],
    problems: &mut Vec<YearProblem>,
) -> BTreeSet<NaiveDate> {
    let mut kept = BTreeSet::new();
    for &date in dates {
        if date.year() != year {
            problems.push(YearProblem::OutsideYear { year, list, date });
        } else if !kept.insert(date) {
            problems.push(YearProblem::Repeated { list, date });
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_clean_year_keeps_its_dates_in_order() {
        let year = CalendarYear::new(2027, &[d("2027-10-01"), d("2027-01-01")], &[d("2027-10-09")]).unwrap();
        assert_eq!(year.holidays().collect::<Vec<_>>(), [d("2027-01-01"), d("2027-10-01")]);
        assert_eq!(year.workdays().collect::<Vec<_>>(), [d("2027-10-09")]);
    }

    #[test]
    fn every_problem_is_reported_at_once_each_naming_its_date() {
        let problems = CalendarYear::new(
            2027,
            &[d("2027-05-01"), d("2028-01-01"), d("2027-05-01"), d("2027-10-09")],
            &[d("2027-10-09"), d("2027-10-11")],
        )
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "2028-01-01 is listed under holidays of 2027 but is not in 2027",
                "2027-05-01 is listed twice under holidays",
                "2027-10-11 is a Mon: a make-up working day must fall on a Saturday or Sunday",
                "2027-10-09 is listed both as a holiday and as a make-up working day",
            ]
        );
    }

    #[test]
    fn a_mistyped_year_is_refused() {
        assert_eq!(CalendarYear::new(207, &[], &[]).unwrap_err(), [YearProblem::YearOutOfRange(207)]);
    }

    #[test]
    fn an_empty_year_is_a_year_of_weekends_only_and_valid() {
        assert_eq!(CalendarYear::new(2030, &[], &[]).unwrap().holidays().len(), 0);
    }
}

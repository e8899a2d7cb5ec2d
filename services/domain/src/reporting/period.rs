//! The month a department's report covers (`YYYY-MM`, China time) and its
//! deadline: the report is due by the 15th of the next month, and late from
//! the 16th. The plan says "每月15日前": a calendar date, not a count of
//! working days, so a 15th that falls on a holiday is still the deadline
//! (the office publishes the date in advance; departments submit earlier).

use chrono::{Datelike as _, NaiveDate};

use crate::values::ValueError;

/// The last day of the next month on which a report is on time.
pub const DUE_DAY: u32 = 15;

/// One calendar month, e.g. 2026-11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportPeriod {
    year: i32,
    month: u32,
}

impl ReportPeriod {
    /// Parses `YYYY-MM` (years 2000..=2099).
    pub fn parse(text: &str) -> Result<ReportPeriod, ValueError> {
        let format = || ValueError::Format { what: "报送月份", expected: "年-月（如 2026-11）" };
        if text.trim().is_empty() {
            return Err(ValueError::Empty { what: "报送月份" });
        }
        let (year, month) = text.split_once('-').ok_or_else(format)?;
        if year.len() != 4 || month.len() != 2 || !year.bytes().chain(month.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(format());
        }
        let (year, month): (i32, u32) = (year.parse().map_err(|_| format())?, month.parse().map_err(|_| format())?);
        if !(2000..=2099).contains(&year) || !(1..=12).contains(&month) {
            return Err(format());
        }
        Ok(ReportPeriod { year, month })
    }

    /// The month that holds `day`.
    pub fn of(day: NaiveDate) -> ReportPeriod {
        ReportPeriod { year: day.year(), month: day.month() }
    }

    /// Its first day.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a parsed month has a first day")
    }

    /// The month after it.
    pub fn next(&self) -> ReportPeriod {
        if self.month == 12 {
            ReportPeriod { year: self.year + 1, month: 1 }
        } else {
            ReportPeriod { year: self.year, month: self.month + 1 }
        }
    }

    /// The month before it.
    pub fn previous(&self) -> ReportPeriod {
        if self.month == 1 {
            ReportPeriod { year: self.year - 1, month: 12 }
        } else {
            ReportPeriod { year: self.year, month: self.month - 1 }
        }
    }

    /// Whether `day` is in it.
    pub fn contains(&self, day: NaiveDate) -> bool {
        ReportPeriod::of(day) == *self
    }

    /// Whether the month is over on `today`: its report can be submitted.
    pub fn is_over_on(&self, today: NaiveDate) -> bool {
        today >= self.next().first_day()
    }

    /// The last day the report is on time: the 15th of the next month.
    pub fn due_on(&self) -> NaiveDate {
        self.next().first_day().with_day(DUE_DAY).expect("every month has a 15th")
    }

    /// Whether a report not submitted by `today` is late.
    pub fn is_late_on(&self, today: NaiveDate) -> bool {
        today > self.due_on()
    }
}

impl std::fmt::Display for ReportPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl From<ReportPeriod> for String {
    fn from(p: ReportPeriod) -> String {
        p.to_string()
    }
}

impl TryFrom<String> for ReportPeriod {
    type Error = ValueError;

    fn try_from(text: String) -> Result<ReportPeriod, ValueError> {
        ReportPeriod::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_month_is_written_year_dash_two_digit_month_and_nothing_else() {
        assert_eq!(ReportPeriod::parse("2026-11").unwrap().to_string(), "2026-11");
        for bad in ["", " ", "2026-1", "2026/11", "26-11", "2026-13", "2026-00", "1999-12", "２０２６-11", "2026-11-01"]
        {
            assert!(ReportPeriod::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ReportPeriod::parse("").unwrap_err(), ValueError::Empty { what: "报送月份" });
    }

    #[test]
    fn the_report_of_a_month_is_due_on_the_15th_of_the_next_and_late_from_the_16th() {
        let november = ReportPeriod::parse("2026-11").unwrap();
        assert_eq!(november.due_on(), day("2026-12-15"));
        assert!(!november.is_late_on(day("2026-12-15")));
        assert!(november.is_late_on(day("2026-12-16")));
        let december = ReportPeriod::parse("2026-12").unwrap();
        assert_eq!((december.next().to_string(), december.due_on()), ("2027-01".to_owned(), day("2027-01-15")));
        assert_eq!(ReportPeriod::parse("2027-01").unwrap().previous(), december);
    }

    #[test]
    fn a_month_can_be_reported_from_the_first_day_of_the_next() {
        let november = ReportPeriod::parse("2026-11").unwrap();
        assert!(!november.is_over_on(day("2026-11-30")));
        assert!(november.is_over_on(day("2026-12-01")));
        assert_eq!(ReportPeriod::of(day("2026-11-30")), november);
        assert!(november.contains(day("2026-11-01")) && !november.contains(day("2026-12-01")));
    }

    #[test]
    fn a_period_is_stored_as_its_text() {
        let p = ReportPeriod::parse("2026-02").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-02\"");
        assert_eq!(serde_json::from_str::<ReportPeriod>("\"2026-02\"").unwrap(), p);
        assert!(serde_json::from_str::<ReportPeriod>("\"2026-2\"").is_err());
    }
}

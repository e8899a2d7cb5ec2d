//! When an applicant's personal data falls due for erasure after their cases
//! closed (PIPL art. 19, 47: kept no longer than needed): only once every
//! case of the person has ended, on the anniversary of the latest ending
//! that the longest retention period among their cases' packages gives.
//! Pure: the closings and the packages' periods are looked up by the caller.

use chrono::{Months, NaiveDate};

/// One case of a person as the retention rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEnd {
    /// Not ended yet: the person's data is needed.
    Open,
    /// Ended (closed, withdrawn, terminated or not accepted) on `on`, in a
    /// package whose catalog version keeps personal data `retention_years`.
    Ended { on: NaiveDate, retention_years: u32 },
}

/// The day the personal data of a person whose cases are `cases` falls
/// due for erasure: the latest ending plus the longest retention period
/// among the cases. `None` while any case is open, or when there is no case.
/// A period running past the last representable day never falls due.
pub fn erasure_due(cases: &[CaseEnd]) -> Option<NaiveDate> {
    let mut latest: Option<NaiveDate> = None;
    let mut longest = 0u32;
    for case in cases {
        match *case {
            CaseEnd::Open => return None,
            CaseEnd::Ended { on, retention_years } => {
                latest = latest.max(Some(on));
                longest = longest.max(retention_years);
            }
        }
    }
    // 29 February plus whole years lands on 28 February in a common year.
    latest?.checked_add_months(Months::new(longest.checked_mul(12)?))
}

/// Whether data due on `due` is to be erased on `today` (on the due day
/// itself: the period is kept in full the day before).
pub fn is_due(due: NaiveDate, today: NaiveDate) -> bool {
    due <= today
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ended(on: &str, retention_years: u32) -> CaseEnd {
        CaseEnd::Ended { on: day(on), retention_years }
    }

    #[test]
    fn one_closed_case_is_due_its_retention_in_years_after_closing() {
        assert_eq!(erasure_due(&[ended("2026-03-15", 10)]), Some(day("2036-03-15")));
    }

    #[test]
    fn a_person_with_any_open_case_is_never_due() {
        assert_eq!(erasure_due(&[ended("2020-01-01", 1), CaseEnd::Open]), None);
        assert_eq!(erasure_due(&[CaseEnd::Open, ended("2020-01-01", 1)]), None);
    }

    #[test]
    fn a_person_without_cases_is_never_due() {
        assert_eq!(erasure_due(&[]), None);
    }

    #[test]
    fn the_latest_ending_and_the_longest_period_count_even_from_different_cases() {
        // latest ending 2026-06-01 (1 year), longest period 30 years (ended 2020)
        let cases = [ended("2020-05-01", 30), ended("2026-06-01", 1)];
        assert_eq!(erasure_due(&cases), Some(day("2056-06-01")));
    }

    #[test]
    fn a_leap_day_closing_falls_due_on_the_last_day_of_february() {
        assert_eq!(erasure_due(&[ended("2028-02-29", 1)]), Some(day("2029-02-28")));
        assert_eq!(erasure_due(&[ended("2028-02-29", 4)]), Some(day("2032-02-29")));
    }

    #[test]
    fn a_period_past_the_calendar_never_falls_due() {
        assert_eq!(erasure_due(&[CaseEnd::Ended { on: NaiveDate::MAX, retention_years: 1 }]), None);
        assert_eq!(erasure_due(&[ended("2026-01-01", u32::MAX)]), None);
    }

    #[test]
    fn data_is_erased_on_the_due_day_and_not_the_day_before() {
        let due = day("2036-03-15");
        assert!(!is_due(due, day("2036-03-14")));
        assert!(is_due(due, day("2036-03-15")));
        assert!(is_due(due, day("2040-01-01")));
    }
}

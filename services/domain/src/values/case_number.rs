//! The case number (办件编号) people can read aloud: `YCB-YYYYMMDD-NNNNNN`,
//! the day of submission and a per-day sequence the service allocates.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ValueError;

const WHAT: &str = "办件编号";
const EXPECTED: &str = "YCB-年月日-6位序号（如YCB-20260115-000123）";

/// A case number such as `YCB-20260115-000123`: the calendar day (China time)
/// the case was submitted and its sequence on that day (1..=999999). Contains
/// no personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber {
    date: NaiveDate,
    sequence: u32,
}

impl CaseNumber {
    /// The largest sequence a day can have.
    pub const MAX_SEQUENCE: u32 = 999_999;

    /// The case number of the `sequence`-th case submitted on `date`.
    pub fn new(date: NaiveDate, sequence: u32) -> Result<Self, ValueError> {
        if sequence == 0 || sequence > Self::MAX_SEQUENCE {
            return Err(ValueError::Format { what: WHAT, expected: "序号1–999999" });
        }
        if !(1000..=9999).contains(&chrono::Datelike::year(&date)) {
            return Err(ValueError::Format { what: WHAT, expected: EXPECTED });
        }
        Ok(CaseNumber { date, sequence })
    }

    /// Parses `YCB-YYYYMMDD-NNNNNN`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        let bad = || ValueError::Format { what: WHAT, expected: EXPECTED };
        let rest = s.strip_prefix("YCB-").ok_or_else(bad)?;
        let (date, seq) = rest.split_once('-').ok_or_else(bad)?;
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(date, 8) || !digits(seq, 6) {
            return Err(bad());
        }
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| bad())?;
        CaseNumber::new(date, seq.parse().map_err(|_| bad())?)
    }

    /// The day of submission.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The sequence within the day.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "YCB-{}-{:06}", self.date.format("%Y%m%d"), self.sequence)
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}

impl From<CaseNumber> for String {
    fn from(v: CaseNumber) -> String {
        v.to_string()
    }
}

impl std::str::FromStr for CaseNumber {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_case_number_formats_and_parses_back() {
        let n = CaseNumber::new(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(), 123).unwrap();
        assert_eq!(n.to_string(), "YCB-20260115-000123");
        assert_eq!(CaseNumber::parse("YCB-20260115-000123").unwrap(), n);
    }

    #[test]
    fn malformed_case_numbers_are_refused() {
        for bad in ["", "YCB-20260115-123", "ycb-20260115-000123", "YCB-20260230-000001", "YCB-20260115-000000"] {
            assert!(CaseNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_case_number_round_trips(days in 0u64..30_000, seq in 1u32..=999_999) {
            let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(days);
            let n = CaseNumber::new(date, seq).unwrap();
            prop_assert_eq!(CaseNumber::parse(&n.to_string()).unwrap(), n);
        }
    }
}

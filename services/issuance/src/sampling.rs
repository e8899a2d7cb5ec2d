//! Return-visit sampling (回访抽样) of cases: every real-name bad rating of
//! the month (when asked) plus a share of the month's closed cases, drawn
//! by [`yiciban_domain::sampling`] (seeded, reproducible). Each pick is a
//! ReturnVisitSampled on the case's own stream; the run's response is
//! stored under its idempotency key. Ids are derived from the key, so a run
//! retried after a crash finds and answers the cases it sampled before.

use chrono::{Datelike as _, NaiveDate};
pub use yiciban_domain::sampling::{derived_id, draw, sample_size};

/// The first and last day of a "YYYY-MM" period; `None` if it is not one.
pub fn month_bounds(period: &str) -> Option<(NaiveDate, NaiveDate)> {
    if !yiciban_domain::issuance::valid_period(period) {
        return None;
    }
    let year: i32 = period[..4].parse().ok()?;
    let month: u32 = period[5..].parse().ok()?;
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1)? } else { first.with_month(month + 1)? };
    Some((first, next.pred_opt()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(month_bounds("2026-02"), Some((d(2026, 2, 1), d(2026, 2, 28))));
        assert_eq!(month_bounds("2026-12"), Some((d(2026, 12, 1), d(2026, 12, 31))));
        assert_eq!(month_bounds("2026-13"), None);
    }
}

//! The working-day facts of a task, computed from its clock on the
//! calendar: when it is due and when it turns yellow (instants for the SLA
//! timers, calendar days for people), working days used, stopped and
//! overdue. Pure; the service puts the results into commands as facts.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use yiciban_calendar::{CaseClock, Share, WorkingCalendar, WorkingTime, date_in_china, start_of_day};
use yiciban_domain::tasks::{Task, WarningLevel};

/// When a running clock reaches the limit and the yellow share of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The first instant the limit is used up: red from here.
    pub due_at: DateTime<Utc>,
    /// The first instant the yellow share is used up.
    pub yellow_at: DateTime<Utc>,
    /// Last calendar day on time (the day `due_at` ends).
    pub due_by: NaiveDate,
    /// Calendar day the task turns yellow.
    pub warn_on: NaiveDate,
}

impl Deadlines {
    /// The deadlines of `clock` for a limit of `limit` working days; `None`
    /// while the clock is stopped.
    pub fn of(clock: &CaseClock, limit: u32, share: Share, calendar: &WorkingCalendar) -> Option<Deadlines> {
        let due_at = clock.deadline(limit, calendar)?.value;
        let yellow_at = clock.due_share(share, limit, calendar)?.value;
        // The deadline is an exclusive end (24:00 of the last day).
        let due_by = date_in_china(due_at - TimeDelta::seconds(1));
        // A share reached at 24:00 of the last day (a limit of 0, a share
        // of 1) is shown on the last day itself.
        let warn_on = date_in_china(yellow_at).min(due_by);
        Some(Deadlines { due_at, yellow_at, due_by, warn_on })
    }
}

/// Whole working days the clock counted up to `now`.
pub fn working_days_used(clock: &CaseClock, now: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
    whole_days(clock.elapsed(now, calendar).value)
}

/// Whole working days past the limit at `now` (0 while on time).
pub fn overdue_days(clock: &CaseClock, limit: u32, now: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
    whole_days(clock.elapsed(now, calendar).value - WorkingTime::from_days(limit))
}

/// Whole working days from the stop of a stopped clock to `now` (0 for a
/// running clock).
pub fn stopped_days(clock: &CaseClock, now: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
    let Some(stop) = clock.suspensions().last().filter(|s| s.resumed_at.is_none()) else { return 0 };
    // A clock counting from 00:00 of the stop day measures [stop, now) as a difference.
    let probe = CaseClock::start(start_of_day(date_in_china(stop.stopped_at)) - TimeDelta::days(1));
    whole_days(probe.elapsed(now, calendar).value - probe.elapsed(stop.stopped_at, calendar).value)
}

/// The SLA timer instants of `task`: yellow and red while its clock runs and
/// the level is not raised yet; `(None, None)` otherwise.
pub fn timers(task: &Task, share: Share, calendar: &WorkingCalendar) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let (Some(clock), Some(created)) = (task.clock.as_ref(), task.created.as_ref()) else { return (None, None) };
    if !task.clock_running() {
        return (None, None);
    }
    let Some(d) = Deadlines::of(clock, created.promised_working_days, share, calendar) else { return (None, None) };
    let yellow = (!task.warned(WarningLevel::Yellow)).then_some(d.yellow_at);
    let red = (!task.warned(WarningLevel::Red)).then_some(d.due_at);
    (yellow, red)
}

fn whole_days(t: WorkingTime) -> u32 {
    u32::try_from(t.whole_days()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    fn cst(text: &str) -> DateTime<Utc> {
        DateTime::<FixedOffset>::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn share() -> Share {
        Share::new(0.8).unwrap()
    }

    #[test]
    fn five_days_from_the_monday_before_national_day_end_on_the_make_up_saturday() {
        // Counting: Tue 09-29, Wed 09-30, (holiday 10-01..07), Thu 10-08, Fri 10-09, Sat 10-10 (调休).
        let clock = CaseClock::start(cst("2026-09-28T10:00"));
        let d = Deadlines::of(&clock, 5, share(), &WorkingCalendar::china()).unwrap();
        assert_eq!(d.due_at, cst("2026-10-11T00:00"));
        assert_eq!(d.yellow_at, cst("2026-10-10T00:00"));
        assert_eq!((d.due_by, d.warn_on), (day(10, 10), day(10, 10)));
    }

    #[test]
    fn a_limit_of_zero_is_due_the_same_day() {
        let clock = CaseClock::start(cst("2026-09-28T10:00"));
        let d = Deadlines::of(&clock, 0, share(), &WorkingCalendar::china()).unwrap();
        assert_eq!((d.due_by, d.warn_on), (day(9, 28), day(9, 28)));
        assert_eq!(d.due_at, cst("2026-09-29T00:00"));
    }

    #[test]
    fn stopped_days_count_the_working_time_of_the_current_stop() {
        let cal = WorkingCalendar::china();
        let mut clock = CaseClock::start(cst("2026-09-28T10:00"));
        clock.stop(cst("2026-09-29T00:00"), "补正".into()).unwrap();
        // Tue 09-29 and Wed 09-30 are working days; the holiday is not.
        assert_eq!(stopped_days(&clock, cst("2026-10-08T00:00"), &cal), 2);
        assert_eq!(working_days_used(&clock, cst("2026-10-20T00:00"), &cal), 0);
        clock.resume(cst("2026-10-08T00:00")).unwrap();
        assert_eq!(stopped_days(&clock, cst("2026-10-09T00:00"), &cal), 0);
        assert_eq!(overdue_days(&clock, 1, cst("2026-10-12T00:00"), &cal), 2);
    }
}

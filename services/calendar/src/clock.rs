//! The case clock: a serialisable record of when the clock of a case or task
//! started, stopped (补正, 容缺补齐) and resumed, and the working time, deadline
//! and warning instants that follow from it on a [`WorkingCalendar`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::answer::Answer;
use crate::calendar::{WorkingCalendar, counting_starts};
use crate::working_time::{Share, WorkingTime};

/// A transition the clock's state or history does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// `stop` on a clock that is already stopped.
    #[error("the clock is already stopped (since {since}: {reason})")]
    AlreadyStopped {
        /// When it was stopped.
        since: DateTime<Utc>,
        /// Why it was stopped.
        reason: String,
    },
    /// `resume` on a clock that is running.
    #[error("the clock is running, so it cannot be resumed")]
    NotStopped,
    /// A transition dated before the clock's last transition.
    #[error("{at} is earlier than the clock's last transition at {last}")]
    BeforeLastTransition {
        /// The instant given.
        at: DateTime<Utc>,
        /// The last transition (start, stop or resume).
        last: DateTime<Utc>,
    },
}

/// One period during which the clock was stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// When the clock stopped.
    pub stopped_at: DateTime<Utc>,
    /// When it ran again; `None` while still stopped.
    pub resumed_at: Option<DateTime<Utc>>,
    /// Why it stopped (e.g. "补正: 缺营业执照副本").
    pub reason: String,
}

/// The clock of a case or task: started once, then stopped and resumed any
/// number of times, in time order. It counts working time only while running
/// and from the day after its start (see the crate docs). Serialises as
/// `{"started_at": ..., "suspensions": [...]}` and is re-validated when read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClockRecord", into = "ClockRecord")]
pub struct CaseClock {
    started_at: DateTime<Utc>,
    suspensions: Vec<Suspension>,
}

#[derive(Clone, Serialize, Deserialize)]
struct ClockRecord {
    started_at: DateTime<Utc>,
    #[serde(default)]
    suspensions: Vec<Suspension>,
}

impl TryFrom<ClockRecord> for CaseClock {
    type Error = ClockError;
    fn try_from(record: ClockRecord) -> Result<Self, Self::Error> {
        let mut clock = CaseClock::start(record.started_at);
        for suspension in record.suspensions {
            clock.stop(suspension.stopped_at, suspension.reason)?;
            if let Some(resumed_at) = suspension.resumed_at {
                clock.resume(resumed_at)?;
            }
        }
        Ok(clock)
    }
}

impl From<CaseClock> for ClockRecord {
    fn from(clock: CaseClock) -> Self {
        Self { started_at: clock.started_at, suspensions: clock.suspensions }
    }
}

impl CaseClock {
    /// A clock started (and running) at `at`.
    pub fn start(at: DateTime<Utc>) -> Self {
        Self { started_at: at, suspensions: Vec::new() }
    }

    /// When the clock was started.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// The periods it was stopped, oldest first.
    pub fn suspensions(&self) -> &[Suspension] {
        &self.suspensions
    }

    /// The instant of the latest start, stop or resume.
    pub fn last_transition(&self) -> DateTime<Utc> {
        self.suspensions.last().map_or(self.started_at, |s| s.resumed_at.unwrap_or(s.stopped_at))
    }

    /// Whether the clock is running (not stopped).
    pub fn is_running(&self) -> bool {
        self.open_suspension().is_none()
    }

    /// Why the clock is stopped, or `None` while it runs.
    pub fn stopped_reason(&self) -> Option<&str> {
        self.open_suspension().map(|s| s.reason.as_str())
    }

    /// Stops a running clock at `at` (not before its last transition).
    /// On error the clock is unchanged.
    pub fn stop(&mut self, at: DateTime<Utc>, reason: String) -> Result<(), ClockError> {
        if let Some(open) = self.open_suspension() {
            return Err(ClockError::AlreadyStopped { since: open.stopped_at, reason: open.reason.clone() });
        }
        self.check_order(at)?;
        self.suspensions.push(Suspension { stopped_at: at, resumed_at: None, reason });
        Ok(())
    }

    /// Resumes a stopped clock at `at` (not before it stopped).
    /// On error the clock is unchanged.
    pub fn resume(&mut self, at: DateTime<Utc>) -> Result<(), ClockError> {
        if self.is_running() {
            return Err(ClockError::NotStopped);
        }
        self.check_order(at)?;
        if let Some(open) = self.suspensions.last_mut() {
            open.resumed_at = Some(at);
        }
        Ok(())
    }

    /// The working time elapsed up to `at`: working seconds of the running
    /// intervals before `at`, counted from 00:00 +08:00 the day after the
    /// start. Non-decreasing in `at`, constant while stopped, zero before
    /// counting begins. Flagged when an unpublished date was counted over.
    pub fn elapsed(&self, at: DateTime<Utc>, calendar: &WorkingCalendar) -> Answer<WorkingTime> {
        let counting = counting_starts(self.started_at);
        let mut used = WorkingTime::ZERO;
        let mut counted_until = self.started_at;
        for (from, to) in self.running_intervals() {
            let to = to.map_or(at, |to| to.min(at));
            used += calendar.working_time_in(from.max(counting), to);
            counted_until = counted_until.max(to);
        }
        calendar.answer_over(used, self.started_at, counted_until)
    }

    /// When the elapsed time reaches `limit_days` working days if the clock
    /// keeps running: the earliest such instant (24:00 +08:00 of a working
    /// day when the limit is whole days). `None` while stopped. In the past
    /// when the limit was already reached. Without stops this equals
    /// [`WorkingCalendar::add_working_days`] from the start.
    pub fn deadline(&self, limit_days: u32, calendar: &WorkingCalendar) -> Option<Answer<DateTime<Utc>>> {
        self.reaches(WorkingTime::from_days(limit_days), calendar)
    }

    /// When the elapsed time reaches `share` of `limit_days` working days if
    /// the clock keeps running (the yellow-warning instant); `None` while stopped.
    pub fn due_share(
        &self,
        share: Share,
        limit_days: u32,
        calendar: &WorkingCalendar,
    ) -> Option<Answer<DateTime<Utc>>> {
        self.reaches(share.of_days(limit_days), calendar)
    }

    fn reaches(&self, target: WorkingTime, calendar: &WorkingCalendar) -> Option<Answer<DateTime<Utc>>> {
        if !self.is_running() {
            return None;
        }
        let counting = counting_starts(self.started_at);
        let mut used = WorkingTime::ZERO;
        for (from, to) in self.running_intervals() {
            let from = from.max(counting);
            let here = match to {
                Some(to) if to <= from => continue,
                Some(to) => calendar.working_time_in(from, to),
                None => target,
            };
            if used + here >= target {
                let at = calendar.instant_after(from, target - used).value;
                return Some(calendar.answer_over(at, self.started_at, at));
            }
            used += here;
        }
        unreachable!("a running clock's last interval is open and reaches any target")
    }

    /// `(from, to)` of every running interval, oldest first; `to` is `None`
    /// for the current one of a running clock.
    fn running_intervals(&self) -> impl Iterator<Item = (DateTime<Utc>, Option<DateTime<Utc>>)> + '_ {
        let froms = std::iter::once(self.started_at).chain(self.suspensions.iter().filter_map(|s| s.resumed_at));
        let tos = self.suspensions.iter().map(|s| Some(s.stopped_at)).chain(std::iter::once(None));
        froms.zip(tos)
    }

    fn open_suspension(&self) -> Option<&Suspension> {
        self.suspensions.last().filter(|s| s.resumed_at.is_none())
    }

    fn check_order(&self, at: DateTime<Utc>) -> Result<(), ClockError> {
        let last = self.last_transition();
        if at < last { Err(ClockError::BeforeLastTransition { at, last }) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeDelta};
    use proptest::prelude::*;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::china()
    }

    fn cst(text: &str) -> DateTime<Utc> {
        DateTime::<FixedOffset>::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
    }

    /// Started Tuesday 2026-09-29 10:00, stopped for 补正 at noon on the 30th,
    /// resumed Friday 2026-10-09 09:00.
    fn supplemented_clock() -> CaseClock {
        let mut clock = CaseClock::start(cst("2026-09-29T10:00"));
        clock.stop(cst("2026-09-30T12:00"), "补正".to_owned()).unwrap();
        clock.resume(cst("2026-10-09T09:00")).unwrap();
        clock
    }

    #[test]
    fn a_new_clock_runs_and_without_stops_its_deadline_is_the_calendar_deadline() {
        let clock = CaseClock::start(cst("2026-09-29T10:00"));
        assert!(clock.is_running());
        assert_eq!(clock.stopped_reason(), None);
        assert_eq!(clock.deadline(5, &cal()), Some(Answer::exact(cst("2026-10-13T00:00"))));
    }

    #[test]
    fn the_start_day_does_not_count() {
        let clock = CaseClock::start(cst("2026-09-29T10:00"));
        assert_eq!(clock.elapsed(cst("2026-09-29T23:59"), &cal()).value, WorkingTime::ZERO);
        assert_eq!(clock.elapsed(cst("2026-09-30T06:00"), &cal()).value.as_days(), 0.25);
    }

    #[test]
    fn a_stopped_clock_has_no_deadline_and_tells_why_it_stopped() {
        let mut clock = CaseClock::start(cst("2026-09-29T10:00"));
        clock.stop(cst("2026-09-30T12:00"), "补正".to_owned()).unwrap();
        assert!(!clock.is_running());
        assert_eq!(clock.stopped_reason(), Some("补正"));
        assert_eq!(clock.deadline(5, &cal()), None);
        assert_eq!(clock.due_share(Share::new(0.8).unwrap(), 5, &cal()), None);
        assert_eq!(clock.elapsed(cst("2026-10-09T12:00"), &cal()).value.as_days(), 0.5);
    }

    #[test]
    fn time_stopped_for_supplement_is_added_to_the_deadline() {
        // Half a day used on 09-30; resumed Fri 10-09 09:00 with 4.5 days left:
        // 15 h of 10-09, Sat 10-10 (make-up), Mon 10-12, Tue 10-13, then 21 h of 10-14.
        let clock = supplemented_clock();
        assert_eq!(clock.elapsed(cst("2026-10-09T09:00"), &cal()).value.as_days(), 0.5);
        assert_eq!(clock.deadline(5, &cal()), Some(Answer::exact(cst("2026-10-14T21:00"))));
        assert_eq!(clock.elapsed(cst("2026-10-14T21:00"), &cal()).value, WorkingTime::from_days(5));
    }

    #[test]
    fn the_yellow_instant_of_a_resumed_clock_accounts_for_the_stop() {
        // 0.8 of 5 = 4 days: 0.5 before the stop, then 3.5 days from 10-09 09:00
        // = 15 h of 10-09, 10-10, 10-12, and 21 h of 10-13.
        let due = supplemented_clock().due_share(Share::new(0.8).unwrap(), 5, &cal());
        assert_eq!(due, Some(Answer::exact(cst("2026-10-13T21:00"))));
    }

    #[test]
    fn a_deadline_already_passed_before_a_stop_stays_in_the_past() {
        let mut clock = CaseClock::start(cst("2026-09-29T10:00"));
        clock.stop(cst("2026-10-09T12:00"), "补正".to_owned()).unwrap();
        clock.resume(cst("2026-10-20T09:00")).unwrap();
        // One day limit: used up at the end of 09-30.
        assert_eq!(clock.deadline(1, &cal()), Some(Answer::exact(cst("2026-10-01T00:00"))));
    }

    #[test]
    fn a_stop_and_resume_on_the_start_day_changes_nothing() {
        let mut clock = CaseClock::start(cst("2026-09-29T10:00"));
        clock.stop(cst("2026-09-29T11:00"), "容缺补齐".to_owned()).unwrap();
        clock.resume(cst("2026-09-29T15:00")).unwrap();
        assert_eq!(clock.deadline(5, &cal()), Some(Answer::exact(cst("2026-10-13T00:00"))));
    }

    #[test]
    fn stopping_a_stopped_clock_is_an_error_and_changes_nothing() {
        let mut clock = CaseClock::start(cst("2026-09-29T10:00"));
        clock.stop(cst("2026-09-30T12:00"), "补正".to_owned()).unwrap();
        let before = clock.clone();
        assert_eq!(
            clock.stop(cst("2026-10-08T12:00"), "again".to_owned()),
            Err(ClockError::AlreadyStopped { since: cst("2026-09-30T12:00"), reason: "补正".to_owned() })
        );
        assert_eq!(clock, before);
    }

    #[test]
    fn resuming_a_running_clock_is_an_error() {
        let mut clock = supplemented_clock();
        assert_eq!(clock.resume(cst("2026-10-10T09:00")), Err(ClockError::NotStopped));
    }

    #[test]
    fn a_transition_before_the_last_one_is_an_error_and_changes_nothing() {
        let mut clock = supplemented_clock();
        let before = clock.clone();
        assert_eq!(
            clock.stop(cst("2026-10-08T09:00"), "late entry".to_owned()),
            Err(ClockError::BeforeLastTransition { at: cst("2026-10-08T09:00"), last: cst("2026-10-09T09:00") })
        );
        assert_eq!(clock, before);
    }

    #[test]
    fn a_clock_round_trips_through_json_and_a_disordered_record_is_refused() {
        let clock = supplemented_clock();
        let json = serde_json::to_string(&clock).unwrap();
        assert_eq!(serde_json::from_str::<CaseClock>(&json).unwrap(), clock);

        let disordered = r#"{"started_at": "2026-09-29T02:00:00Z",
            "suspensions": [{"stopped_at": "2026-09-28T04:00:00Z", "resumed_at": null, "reason": "补正"}]}"#;
        assert!(serde_json::from_str::<CaseClock>(disordered).is_err());
        let two_open = r#"{"started_at": "2026-09-29T02:00:00Z", "suspensions": [
            {"stopped_at": "2026-09-30T04:00:00Z", "resumed_at": null, "reason": "a"},
            {"stopped_at": "2026-10-09T04:00:00Z", "resumed_at": null, "reason": "b"}]}"#;
        assert!(serde_json::from_str::<CaseClock>(two_open).is_err());
    }

    #[test]
    fn a_deadline_in_an_unpublished_year_is_flagged() {
        let clock = CaseClock::start(cst("2026-12-28T10:00"));
        assert!(clock.deadline(10, &cal()).unwrap().beyond_published);
        assert!(!clock.deadline(3, &cal()).unwrap().beyond_published);
        assert!(clock.elapsed(cst("2027-01-05T00:00"), &cal()).beyond_published);
    }

    fn instant_in_2025_to_2027() -> impl Strategy<Value = DateTime<Utc>> {
        let first = cst("2025-01-01T00:00").timestamp();
        let last = cst("2027-12-31T00:00").timestamp();
        (first..last).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap())
    }

    /// A clock started at a random instant with random stop/resume gaps
    /// (seconds), possibly left stopped.
    fn any_clock() -> impl Strategy<Value = CaseClock> {
        (
            instant_in_2025_to_2027(),
            prop::collection::vec((0i64..20 * 86_400, 0i64..20 * 86_400), 0..5),
            any::<bool>(),
            0i64..20 * 86_400,
        )
            .prop_map(|(start, gaps, end_stopped, last_gap)| {
                let mut clock = CaseClock::start(start);
                let mut at = start;
                for (run, stop) in gaps {
                    at += TimeDelta::seconds(run);
                    clock.stop(at, "补正".to_owned()).unwrap();
                    at += TimeDelta::seconds(stop);
                    clock.resume(at).unwrap();
                }
                if end_stopped {
                    clock.stop(at + TimeDelta::seconds(last_gap), "容缺补齐".to_owned()).unwrap();
                }
                clock
            })
    }

    proptest! {
        #[test]
        fn a_stopped_clock_never_advances_however_much_time_passes(
            clock in any_clock(),
            wait in 0i64..3_000 * 86_400,
        ) {
            let mut clock = clock;
            if clock.is_running() {
                clock.stop(clock.last_transition(), "补正".to_owned()).unwrap();
            }
            let stopped_at = clock.last_transition();
            let frozen = clock.elapsed(stopped_at, &cal()).value;
            prop_assert_eq!(clock.elapsed(stopped_at + TimeDelta::seconds(wait), &cal()).value, frozen);
            prop_assert_eq!(clock.deadline(5, &cal()), None);
        }

        #[test]
        fn elapsed_never_decreases_as_time_goes_on(
            clock in any_clock(),
            a in instant_in_2025_to_2027(),
            b in instant_in_2025_to_2027(),
        ) {
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(clock.elapsed(early, &cal()).value <= clock.elapsed(late, &cal()).value);
        }

        #[test]
        fn the_deadline_is_the_first_instant_at_which_the_limit_is_used(
            clock in any_clock(),
            limit in 1u32..60,
        ) {
            prop_assume!(clock.is_running());
            let deadline = clock.deadline(limit, &cal()).unwrap().value;
            prop_assert_eq!(clock.elapsed(deadline, &cal()).value, WorkingTime::from_days(limit));
            let before = clock.elapsed(deadline - TimeDelta::seconds(1), &cal()).value;
            prop_assert!(before < WorkingTime::from_days(limit));
        }

        #[test]
        fn without_stops_the_clock_deadline_is_the_calendar_deadline(
            start in instant_in_2025_to_2027(),
            limit in 0u32..100,
        ) {
            let clock = CaseClock::start(start);
            prop_assert_eq!(clock.deadline(limit, &cal()), Some(cal().add_working_days(start, limit)));
        }
    }
}

//! The case clock inside the plan: started at 00:00 of the acceptance day,
//! standing still while a task waits on the applicant, resumed with it, its
//! figures on the working-day calendar, and no transition out of time order.

use chrono::TimeDelta;
use yiciban_calendar::{WorkingCalendar, date_in_china};

use super::*;

fn calendar() -> WorkingCalendar {
    WorkingCalendar::china()
}

/// `command` at another time.
fn on(when: DateTime<Utc>, command: Command) -> Command {
    match command {
        Command::RecordTaskOutcome(c) => Command::RecordTaskOutcome(RecordTaskOutcome { now: when, ..c }),
        Command::ConfirmDenial(c) => Command::ConfirmDenial(ConfirmDenial { now: when, ..c }),
        Command::EndPlan(c) => Command::EndPlan(EndPlan { now: when, ..c }),
        Command::PlanCase(c) => Command::PlanCase(c),
    }
}

#[test]
fn the_clock_starts_on_the_acceptance_day_and_counts_every_started_working_day() {
    let plan = CasePlan::replay(&history(vec![restaurant()]));
    let clock = plan.clock.as_ref().expect("a planned case has its clock");
    assert_eq!(clock.started_at(), cst("2026-01-15T00:00"));
    assert!(clock.is_running());
    // 16, 19..23, 26..29 January, and the started 30th.
    assert_eq!(plan.working_days_used(&calendar(), now()), 11);
    assert_eq!(
        plan.decision_facts(&calendar(), 10, now()),
        DecisionFacts { today: date(2026, 1, 30), working_days_used: 11, issue_by: date(2026, 2, 13) }
    );
    assert_eq!(plan.resume_facts(&calendar(), now()), (0, date(2026, 2, 5)), "a running clock has nothing to resume");
    assert_eq!(CasePlan::default().working_days_used(&calendar(), now()), 0);
}

#[test]
fn the_clock_stands_still_while_a_task_waits_and_the_stop_moves_the_promise() {
    let stopped_at = cst("2026-01-20T12:00");
    let resumed_at = cst("2026-01-27T12:00");
    let events = history(vec![restaurant(), on(stopped_at, return_for("s1", "sr-1"))]);
    let plan = CasePlan::replay(&events);
    assert!(plan.clock_stopped());
    assert_eq!(plan.clock.as_ref().and_then(|c| c.stopped_reason()), Some("补正"));
    // 16, 19 and half of the 20th, then nothing more while it stands still.
    assert_eq!(plan.working_days_used(&calendar(), stopped_at), 3);
    assert_eq!(plan.working_days_used(&calendar(), resumed_at), 3);

    let (stopped_working_days, promised_by) = plan.resume_facts(&calendar(), resumed_at);
    assert_eq!(stopped_working_days, 4, "21..23 and 26 January in whole days (the day it stopped does not count)");
    let running = CasePlan::replay(&history(vec![restaurant()]));
    let deadline = running.clock.as_ref().and_then(|c| c.deadline(running.promised_working_days, &calendar()));
    let unmoved = date_in_china(deadline.expect("a running clock has a deadline").value - TimeDelta::seconds(1));
    assert!(promised_by > unmoved, "the stop moves the promise from {unmoved} to {promised_by}");
    let resume = Command::RecordTaskOutcome(RecordTaskOutcome {
        step_id: "s1".into(),
        task_id: task("s1"),
        outcome: TaskOutcome::Resumed { stopped_working_days, promised_by },
        task_ids: ids(),
        decision: facts(),
        now: resumed_at,
    });
    let plan = given(events).when(resume).then_ok().1;
    let clock = plan.clock.as_ref().expect("the clock");
    assert!(clock.is_running());
    assert_eq!(clock.suspensions().len(), 1);
    assert_eq!((clock.suspensions()[0].stopped_at, clock.suspensions()[0].resumed_at), (stopped_at, Some(resumed_at)));
    assert_eq!(plan.promised_by, Some(promised_by));
}

#[test]
fn ending_the_plan_resumes_a_stopped_clock() {
    let events = history(vec![restaurant(), on(cst("2026-01-20T12:00"), return_for("s1", "sr-1"))]);
    let plan = given(events).when(on(cst("2026-01-22T09:00"), end(CancelReason::CaseWithdrawn))).then_ok().1;
    assert!(!plan.clock_stopped());
    assert_eq!(plan.clock.as_ref().and_then(|c| c.suspensions()[0].resumed_at), Some(cst("2026-01-22T09:00")));
}

#[test]
fn a_clock_transition_dated_before_the_last_one_is_refused() {
    let stopped_at = cst("2026-01-20T12:00");
    let stopped = history(vec![restaurant(), on(stopped_at, return_for("s1", "sr-1"))]);
    let earlier = cst("2026-01-19T09:00");
    let refusal = RoutingError::ClockOutOfOrder { at: earlier, last_transition: stopped_at };
    let kind = given(stopped.clone()).when(on(earlier, resume("s1"))).then_error(refusal.clone());
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    given(stopped).when(on(earlier, end(CancelReason::CaseTerminated))).then_error(refusal);

    // Before the clock started: 00:00 of the acceptance day.
    let before = cst("2026-01-14T18:00");
    given(history(vec![restaurant()]))
        .when(on(before, return_for("s1", "sr-1")))
        .then_error(RoutingError::ClockOutOfOrder { at: before, last_transition: cst("2026-01-15T00:00") });
}

#[test]
fn the_decision_records_its_time_and_figures_in_the_plan() {
    let commands: Vec<Command> = std::iter::once(restaurant())
        .chain(["s1", "s2", "s3", "s4", "s5", "s6"].map(|s| approve(RESTAURANT, s)))
        .collect();
    let plan = CasePlan::replay(&history(commands));
    assert_eq!(plan.decided_at, Some(now()));
    assert_eq!(plan.decision, Some(DecisionFigures { working_days_used: 11, on_time: true }));
    assert_eq!(CasePlan::replay(&history(vec![restaurant()])).decided_at, None);
}

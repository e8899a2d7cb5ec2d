//! Given / when / then of the monthly report: drafted, submitted with its
//! figures frozen, returned and submitted again, accepted; flagged late once
//! when nothing was submitted by the 15th.

use chrono::NaiveDate;

use super::*;
use crate::refusal::ErrorKind;
use crate::testing::{assert_version_counts_events, given, given_commands};
use crate::values::DepartmentCode;

fn samr() -> DepartmentCode {
    DepartmentCode::parse("samr").unwrap()
}

fn november() -> ReportPeriod {
    ReportPeriod::parse("2026-11").unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn text() -> ReportText {
    ReportText { difficulties: "部分材料需线下核验".into(), publicity: "社区宣讲2次".into() }
}

fn figures() -> ReportFigures {
    ReportFigures {
        consultations: 12,
        applications: 30,
        accepted: 25,
        tasks_finished: 20,
        tasks_on_time: 19,
        ..Default::default()
    }
}

fn draft() -> Command {
    Command::SaveDraft { department: samr(), period: november(), text: text() }
}

fn submit_on(today: &str) -> Command {
    Command::Submit(Submit {
        department: samr(),
        period: november(),
        text: text(),
        figures: figures(),
        today: day(today),
    })
}

fn submitted(submission: u32, on_time: bool) -> Event {
    Event::Submitted { department: samr(), period: november(), text: text(), figures: figures(), submission, on_time }
}

fn flag_on(today: &str) -> Command {
    Command::FlagLate { department: samr(), period: november(), today: day(today) }
}

#[test]
fn a_department_submits_its_month_by_the_15th_with_the_figures_frozen() {
    let report =
        given_commands::<MonthlyReport>(vec![draft()]).when(submit_on("2026-12-10")).then(vec![submitted(1, true)]);
    assert_eq!(
        (report.status(), report.figures(), report.submitted_on_time()),
        (ReportStatus::Submitted, Some(&figures()), true)
    );
    assert_eq!(report.figures().unwrap().on_time_rate(), Some(0.95));
}

#[test]
fn a_month_not_over_cannot_be_submitted() {
    let kind = given::<MonthlyReport>(vec![])
        .when(submit_on("2026-11-30"))
        .then_error(ReportError::MonthNotOver("2026-11".into()));
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_submission_needs_both_texts_and_lists_every_missing_one() {
    let empty = Command::Submit(Submit {
        department: samr(),
        period: november(),
        text: ReportText::default(),
        figures: figures(),
        today: day("2026-12-01"),
    });
    let rejection = given::<MonthlyReport>(vec![]).when(empty).then_rejected(&["text.difficulties", "text.publicity"]);
    assert!(rejection.violations[0].description.contains("无则填"));
    // A draft may be empty, but not too long.
    let long = ReportText { difficulties: "难".repeat(MAX_TEXT_CHARS + 1), publicity: String::new() };
    given::<MonthlyReport>(vec![])
        .when(Command::SaveDraft { department: samr(), period: november(), text: long })
        .then_rejected(&["text.difficulties"]);
}

#[test]
fn the_office_returns_a_submission_and_the_department_submits_again() {
    let returned = Event::Returned { submission: 1, reason: "办件量与系统不一致".into() };
    let report = given::<MonthlyReport>(vec![submitted(1, true)])
        .when(Command::Return { reason: "办件量与系统不一致".into() })
        .then(vec![returned.clone()]);
    assert_eq!((report.status(), report.returned_reason()), (ReportStatus::Returned, Some("办件量与系统不一致")));
    let report = given::<MonthlyReport>(vec![submitted(1, true), returned.clone()])
        .when(submit_on("2026-12-18"))
        .then(vec![submitted(2, false)]);
    assert!(report.submitted_on_time(), "the first submission was by the 15th");
    given::<MonthlyReport>(vec![submitted(1, true), returned, submitted(2, false)])
        .when(Command::Accept)
        .then(vec![Event::Accepted { submission: 2 }]);
}

#[test]
fn an_accepted_report_is_final_and_a_repeated_command_records_nothing() {
    let accepted = vec![submitted(1, true), Event::Accepted { submission: 1 }];
    given::<MonthlyReport>(accepted.clone()).when(Command::Accept).then_nothing();
    given::<MonthlyReport>(accepted.clone()).when(submit_on("2026-12-12")).then_error(ReportError::WrongState {
        state: "accepted",
        action: "submitting",
        needed: "not started, a draft or returned for correction",
    });
    given::<MonthlyReport>(accepted.clone()).when(draft()).then_error(ReportError::WrongState {
        state: "accepted",
        action: "saving a draft",
        needed: "not started, a draft or returned for correction",
    });
    given::<MonthlyReport>(accepted).when(Command::Return { reason: "x".into() }).then_error(ReportError::WrongState {
        state: "accepted",
        action: "returning",
        needed: "submitted",
    });
    // A retried submission, a retried draft.
    given::<MonthlyReport>(vec![submitted(1, true)]).when(submit_on("2026-12-13")).then_nothing();
    given_commands::<MonthlyReport>(vec![draft()]).when(draft()).then_nothing();
}

#[test]
fn the_office_cannot_act_on_a_report_never_submitted() {
    let kind = given::<MonthlyReport>(vec![]).when(Command::Accept).then_error(ReportError::NotStarted);
    assert_eq!(kind, ErrorKind::NotFound);
    given_commands::<MonthlyReport>(vec![draft()]).when(Command::Accept).then_error(ReportError::WrongState {
        state: "a draft",
        action: "accepting",
        needed: "submitted",
    });
    given::<MonthlyReport>(vec![submitted(1, true)])
        .when(Command::Return { reason: " ".into() })
        .then_rejected(&["reason"]);
}

#[test]
fn a_report_not_submitted_by_the_15th_is_flagged_late_once_on_the_16th() {
    given::<MonthlyReport>(vec![]).when(flag_on("2026-12-15")).then_nothing();
    let flagged = Event::FlaggedLate { department: samr(), period: november(), on: day("2026-12-16") };
    let report = given::<MonthlyReport>(vec![]).when(flag_on("2026-12-16")).then(vec![flagged.clone()]);
    assert_eq!((report.department(), report.flagged_late_on()), (Some(&samr()), Some(day("2026-12-16"))));
    given::<MonthlyReport>(vec![flagged.clone()]).when(flag_on("2026-12-17")).then_nothing();
    // A draft is no submission.
    given_commands::<MonthlyReport>(vec![draft()]).when(flag_on("2026-12-16")).then(vec![flagged.clone()]);
    // Submitted late after the flag: submission 1, not on time.
    given::<MonthlyReport>(vec![flagged]).when(submit_on("2026-12-20")).then(vec![submitted(1, false)]);
}

#[test]
fn a_report_submitted_in_time_is_not_late_even_when_returned_after_the_15th() {
    given::<MonthlyReport>(vec![submitted(1, true)]).when(flag_on("2026-12-16")).then_nothing();
    let returned = Event::Returned { submission: 1, reason: "请补充宣传活动".into() };
    given::<MonthlyReport>(vec![submitted(1, true), returned]).when(flag_on("2026-12-20")).then_nothing();
}

#[test]
fn a_command_for_another_department_or_month_is_refused() {
    let other =
        Command::SaveDraft { department: DepartmentCode::parse("fire").unwrap(), period: november(), text: text() };
    let kind = given_commands::<MonthlyReport>(vec![draft()])
        .when(other)
        .then_error(ReportError::OtherReport { department: "samr".into(), period: "2026-11".into() });
    assert_eq!(kind, ErrorKind::InvalidArgument);
    let october = Command::FlagLate { department: samr(), period: november().previous(), today: day("2026-12-20") };
    given_commands::<MonthlyReport>(vec![draft()])
        .when(october)
        .then_error(ReportError::OtherReport { department: "samr".into(), period: "2026-11".into() });
}

#[test]
fn events_round_trip_as_stored_and_count_the_version() {
    let events = vec![
        Event::Drafted { department: samr(), period: november(), text: text() },
        submitted(1, true),
        Event::Returned { submission: 1, reason: "r".into() },
        submitted(2, true),
        Event::Accepted { submission: 2 },
    ];
    for e in &events {
        let json = serde_json::to_string(e).unwrap();
        assert_eq!(&serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
    }
    assert_version_counts_events::<MonthlyReport>(&events);
}

#[test]
fn a_report_id_is_the_same_for_the_same_department_and_month_and_differs_otherwise() {
    let d = |c: &str| DepartmentCode::parse(c).unwrap();
    let p = |t: &str| ReportPeriod::parse(t).unwrap();
    assert_eq!(report_id(&d("samr"), p("2026-11")), report_id(&d("samr"), p("2026-11")));
    assert_ne!(report_id(&d("samr"), p("2026-11")), report_id(&d("samr"), p("2026-12")));
    assert_ne!(report_id(&d("samr"), p("2026-11")), report_id(&d("health"), p("2026-11")));
}

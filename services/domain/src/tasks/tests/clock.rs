//! Yellow and red warnings, and the post-check of commitments.

use super::*;

// ---- warnings ----

#[test]
fn a_yellow_warning_is_raised_once() {
    let state =
        given(vec![create(), claim()]).when(warn(WarningLevel::Yellow)).then(vec![Event::TaskWarned(TaskWarned {
            task_id: task_id(),
            level: WarningLevel::Yellow,
            due_by: date(2026, 10, 10),
            working_days_used: 4,
            promised_working_days: 5,
        })]);
    assert_eq!(state.warning, Some(WarningLevel::Yellow));
    given(vec![create(), claim(), warn(WarningLevel::Yellow)]).when(warn(WarningLevel::Yellow)).then(vec![]);
}

#[test]
fn a_red_warning_escalates_to_the_lead_department_and_the_officer_once() {
    let (events, state) = given(vec![create(), warn(WarningLevel::Yellow)]).when(warn(WarningLevel::Red)).then_ok();
    assert_eq!(types(&events), ["TaskWarned", "TaskEscalated"]);
    let Event::TaskEscalated(e) = &events[1] else { unreachable!() };
    assert_eq!((e.lead_department.as_str(), e.officer_id.as_str()), ("samr", "officer-001"));
    assert!(e.reason.starts_with("红牌"));
    assert!(state.escalated);
    assert_eq!(state.warning, Some(WarningLevel::Red));
    given(vec![create(), warn(WarningLevel::Red)]).when(warn(WarningLevel::Red)).then(vec![]);
}

#[test]
fn a_yellow_after_red_is_nothing_new() {
    given(vec![create(), warn(WarningLevel::Red)]).when(warn(WarningLevel::Yellow)).then(vec![]);
}

#[test]
fn no_warning_while_the_clock_is_stopped() {
    let kind = given(vec![create(), claim(), return_for_supplement()])
        .when(warn(WarningLevel::Yellow))
        .then_error(TaskError::ClockStopped);
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn no_warning_on_a_closed_task() {
    given(vec![create(), claim(), approve()]).when(warn(WarningLevel::Red)).then_error(TaskError::WrongState {
        status: TaskStatus::Approved,
        action: "warn",
        needed: "open with its clock running",
    });
}

// ---- post-check ----

#[test]
fn a_passed_post_check_covers_every_commitment_by_default() {
    let state = given(vec![create(), claim(), approve()])
        .when(post_check(PostCheckOutcome::Passed { note: "现场核查属实".into() }, &[]))
        .then(vec![Event::PostCheckPassed(PostCheckPassed {
            task_id: task_id(),
            material_ids: vec![MaterialId::parse("m_health_cert").unwrap()],
            note: "现场核查属实".into(),
            checked_on: date(2026, 11, 2),
        })]);
    assert_eq!(state.post_check, PostCheck::Passed);
    assert_eq!(state.status, TaskStatus::Approved);
}

#[test]
fn a_failed_post_check_may_revoke_the_approval() {
    let (events, state) = given(vec![create(), claim(), approve()])
        .when(post_check(failed(Some("《行政许可法》第六十九条")), &["m_health_cert"]))
        .then_ok();
    assert_eq!(types(&events), ["PostCheckFailed", "ApprovalRevoked"]);
    let Event::ApprovalRevoked(r) = &events[1] else { unreachable!() };
    assert_eq!(r.document_number, "JY11502030000123");
    assert_eq!(r.legal_basis, "《行政许可法》第六十九条");
    assert_eq!(state.status, TaskStatus::Revoked);
    assert_eq!(state.post_check, PostCheck::Failed);
}

#[test]
fn a_failed_post_check_without_revocation_keeps_the_approval() {
    let (events, state) = given(vec![create(), claim(), approve()]).when(post_check(failed(None), &[])).then_ok();
    assert_eq!(types(&events), ["PostCheckFailed"]);
    assert_eq!(state.status, TaskStatus::Approved);
}

#[test]
fn the_post_check_is_recorded_once() {
    given(vec![create(), claim(), approve(), post_check(PostCheckOutcome::Passed { note: String::new() }, &[])])
        .when(post_check(failed(None), &[]))
        .then_error(TaskError::AlreadyPostChecked);
}

#[test]
fn no_post_check_before_approval_or_without_commitments() {
    given(vec![create(), claim()]).when(post_check(PostCheckOutcome::Passed { note: String::new() }, &[])).then_error(
        TaskError::WrongState { status: TaskStatus::InProgress, action: "record a post-check", needed: "approved" },
    );
    given(vec![create_with(vec![]), claim(), approve()])
        .when(post_check(PostCheckOutcome::Passed { note: String::new() }, &[]))
        .then_error(TaskError::NothingToPostCheck);
}

#[test]
fn a_failed_post_check_needs_its_finding_and_a_revocation_its_legal_basis_and_only_own_commitments() {
    let outcome = PostCheckOutcome::Failed { finding: String::new(), revoke_with_legal_basis: Some(" ".into()) };
    given(vec![create(), claim(), approve()]).when(post_check(outcome, &["m_other"])).then_rejected(&[
        "material_ids[0]",
        "finding",
        "legal_basis",
    ]);
}

#[test]
fn replaying_the_stream_gives_the_same_state() {
    let commands =
        vec![create(), claim(), return_for_supplement(), resume(request_id()), warn(WarningLevel::Yellow), approve()];
    let mut events = Vec::new();
    let mut state = Task::default();
    for c in commands {
        let new = state.decide(c).unwrap();
        state = new.iter().fold(state, Task::evolve);
        events.extend(new);
    }
    assert_eq!(Task::replay(&events), state);
    assert_eq!(state.version, 6);
    let json = serde_json::to_string(&events).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Event>>(&json).unwrap(), events);
}

#[test]
fn every_event_advances_the_version_by_one() {
    let revoked = failed(Some("《行政许可法》第六十九条"));
    let passed = PostCheckOutcome::Passed { note: String::new() };
    let events = [
        vec![create(), warn(WarningLevel::Yellow), claim(), return_for_supplement(), resume(request_id()), approve()],
        vec![post_check(revoked, &[])],
    ]
    .concat();
    let events = [
        testing::history::<Task>(events),
        testing::history::<Task>(vec![
            create(),
            warn(WarningLevel::Red),
            claim(),
            transfer(Transferrer::Agent("agent-li".into()), "agent-zhao"),
            cancel(),
        ]),
        testing::history::<Task>(vec![create(), claim(), deny()]),
        testing::history::<Task>(vec![create(), claim(), approve(), post_check(passed, &[])]),
    ]
    .concat();
    let kinds: BTreeSet<_> = events.iter().map(Event::event_type).collect();
    assert_eq!(kinds.len(), 13, "every kind of task event: {kinds:?}");
    testing::assert_version_counts_events::<Task>(&events);
}

//! Creation, claim and cancellation of a task.

use super::*;

// ---- creation ----

#[test]
fn creating_a_task_records_every_fact_and_starts_its_clock() {
    let (events, state) = given(vec![]).when(create()).then_ok();
    let Event::TaskCreated(e) = &events[0] else { panic!("TaskCreated") };
    assert_eq!(events.len(), 1);
    assert_eq!((e.task_id, e.step_id.as_str(), e.promised_working_days), (task_id(), "s2", 5));
    assert_eq!((e.due_by, e.warn_on), (date(2026, 10, 10), date(2026, 10, 10)));
    assert_eq!(e.lead_department, dept("samr"));
    assert_eq!(e.commitments, vec![commitment()]);
    assert_eq!(state.status, TaskStatus::Pending);
    assert_eq!(state.version, 1);
    assert!(state.clock_running());
    assert_eq!(state.clock.unwrap().started_at(), cst("2026-09-28T10:00"));
}

#[test]
fn a_task_is_created_only_once() {
    let kind = given(vec![create()]).when(create()).then_error(TaskError::AlreadyCreated);
    assert_eq!(kind, ErrorKind::AlreadyExists);
}

#[test]
fn a_creation_without_step_or_name_or_with_a_warning_after_the_due_date_lists_every_violation() {
    let Command::Create(mut c) = create() else { unreachable!() };
    c.step_id = " ".into();
    c.item_name = String::new();
    c.warn_on = date(2026, 10, 12);
    given(vec![]).when(Command::Create(c)).then_rejected(&["step_id", "item_name", "warn_on"]);
}

// ---- claim ----

#[test]
fn an_agent_of_the_department_claims_a_pending_task() {
    let state = given(vec![create()]).when(claim()).then(vec![Event::TaskClaimed(TaskClaimed {
        task_id: task_id(),
        assignee: "agent-li".into(),
        at: cst("2026-09-29T09:00"),
    })]);
    assert_eq!(state.status, TaskStatus::InProgress);
    assert_eq!(state.assignee.as_deref(), Some("agent-li"));
}

#[test]
fn an_agent_of_another_department_cannot_claim() {
    let kind = given(vec![create()]).when(claim_by("agent-wang", "fire")).then_error(TaskError::WrongDepartment {
        department: "samr".into(),
        agent_department: "fire".into(),
        action: "claim",
    });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_claimed_task_cannot_be_claimed_again() {
    given(vec![create(), claim()]).when(claim_by("agent-zhao", "samr")).then_error(TaskError::WrongState {
        status: TaskStatus::InProgress,
        action: "claim",
        needed: "pending (unclaimed)",
    });
}

#[test]
fn nothing_can_be_done_to_a_task_that_does_not_exist() {
    let kind = given(vec![]).when(claim()).then_error(TaskError::NoSuchTask);
    assert_eq!(kind, ErrorKind::NotFound);
    given(vec![]).when(cancel()).then_error(TaskError::NoSuchTask);
    given(vec![]).when(warn(WarningLevel::Yellow)).then_error(TaskError::NoSuchTask);
}

// ---- cancel ----

#[test]
fn an_open_task_is_cancelled_even_while_waiting_for_a_supplement() {
    let state =
        given(vec![create(), claim(), return_for_supplement()]).when(cancel()).then(vec![Event::TaskCancelled(
            TaskCancelled {
                task_id: task_id(),
                reason: CancelReason::CaseWithdrawn,
                detail: String::new(),
                at: cst("2026-09-30T09:00"),
            },
        )]);
    assert_eq!(state.status, TaskStatus::Cancelled);
    assert!(state.supplement.is_none());
}

#[test]
fn a_closed_task_cannot_be_cancelled() {
    given(vec![create(), claim(), approve()]).when(cancel()).then_error(TaskError::WrongState {
        status: TaskStatus::Approved,
        action: "cancel",
        needed: "open",
    });
}

#[test]
fn a_cancellation_created_in_error_needs_its_detail() {
    let c = Command::Cancel(Cancel {
        reason: CancelReason::CreatedInError,
        detail: String::new(),
        now: cst("2026-09-30T09:00"),
    });
    given(vec![create()]).when(c).then_rejected(&["detail"]);
}

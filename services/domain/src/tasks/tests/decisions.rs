//! The assignee's decisions: approval with the result document, denial.

use super::*;

// ---- approve ----

#[test]
fn the_assignee_approves_with_the_result_document_and_the_post_check_awaits() {
    let state = given(vec![create(), claim()]).when(approve()).then(vec![Event::TaskApproved(TaskApproved {
        task_id: task_id(),
        result: document(),
        comment: "材料齐全，准予许可".into(),
        working_days_used: 2,
        on_time: true,
        post_check_pending: true,
        at: cst("2026-10-08T15:00"),
    })]);
    assert_eq!(state.status, TaskStatus::Approved);
    assert_eq!(state.post_check, PostCheck::Pending);
    assert_eq!(state.finished_at, Some(cst("2026-10-08T15:00")));
}

#[test]
fn an_approval_without_commitments_needs_no_post_check() {
    let (events, state) = given(vec![create_with(vec![]), claim()]).when(approve()).then_ok();
    let Event::TaskApproved(e) = &events[0] else { panic!("TaskApproved") };
    assert!(!e.post_check_pending);
    assert_eq!(state.post_check, PostCheck::NotNeeded);
}

#[test]
fn an_approval_after_the_due_date_is_late() {
    let Command::Approve(mut a) = approve() else { unreachable!() };
    a.now = cst("2026-10-12T09:00");
    let (events, _) = given(vec![create(), claim()]).when(Command::Approve(a)).then_ok();
    let Event::TaskApproved(e) = &events[0] else { panic!("TaskApproved") };
    assert!(!e.on_time);
}

#[test]
fn an_unclaimed_task_cannot_be_approved() {
    let kind = given(vec![create()]).when(approve()).then_error(TaskError::WrongState {
        status: TaskStatus::Pending,
        action: "approve",
        needed: "in progress (claimed)",
    });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn only_the_assignee_approves() {
    given(vec![create(), claim()])
        .when(approve_by("agent-zhao"))
        .then_error(TaskError::NotAssignee { assignee: "agent-li".into(), action: "approve" });
}

#[test]
fn a_result_document_without_name_or_number_or_of_another_item_is_rejected_with_every_field() {
    let Command::Approve(mut a) = approve() else { unreachable!() };
    a.result.name = String::new();
    a.result.number = " ".into();
    a.result.issuing_department = dept("fire");
    a.result.item_code = ItemCode::parse("DEMO-RS-03").unwrap();
    a.result.valid_until = Some(date(2020, 1, 1));
    given(vec![create(), claim()]).when(Command::Approve(a)).then_rejected(&[
        "result.name",
        "result.number",
        "result.valid_until",
        "result.issuing_department",
        "result.item_code",
    ]);
}

// ---- deny ----

#[test]
fn the_assignee_denies_with_reason_and_legal_basis_and_the_standard_remedy_notice() {
    let state = given(vec![create(), claim()]).when(deny()).then(vec![Event::TaskDenied(TaskDenied {
        task_id: task_id(),
        reason: "经营场所布局不符合要求".into(),
        legal_basis: "《食品安全法》第三十五条".into(),
        remedy_notice: STANDARD_REMEDY_NOTICE.into(),
        working_days_used: 2,
        at: cst("2026-10-08T15:00"),
    })]);
    assert_eq!(state.status, TaskStatus::Denied);
    assert_eq!(state.legal_basis, "《食品安全法》第三十五条");
}

#[test]
fn a_denial_needs_a_reason_and_a_legal_basis() {
    let Command::Deny(mut d) = deny() else { unreachable!() };
    d.reason = String::new();
    d.legal_basis = "  ".into();
    given(vec![create(), claim()]).when(Command::Deny(d)).then_rejected(&["reason", "legal_basis"]);
}

#[test]
fn an_unclaimed_task_cannot_be_denied() {
    given(vec![create()]).when(deny()).then_error(TaskError::WrongState {
        status: TaskStatus::Pending,
        action: "deny",
        needed: "in progress (claimed)",
    });
}

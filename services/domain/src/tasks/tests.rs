//! Given / when / then tests of the task aggregate: a food-business licence
//! task (DEMO-RS-02, department samr, lead department samr, 5 working days)
//! created Monday 2026-09-28 10:00 +08:00, with one commitment unless said.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::refusal::ErrorKind;
use crate::testing::{self, Given};
use crate::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An instant given in China time, e.g. "2026-09-28T10:00".
fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

fn dept(code: &str) -> DepartmentCode {
    DepartmentCode::parse(code).unwrap()
}

fn task_id() -> Uuid {
    Uuid::from_u128(0x7a5c_0001)
}

fn request_id() -> Uuid {
    Uuid::from_u128(0x5e_0001)
}

fn commitment() -> Commitment {
    Commitment {
        material_id: MaterialId::parse("m_health_cert").unwrap(),
        material_name: "从业人员健康证明".into(),
        commitment_text: "本人承诺从业人员均持有有效健康证明。".into(),
        post_check_department: dept("samr"),
        post_check_by: Some(date(2026, 12, 31)),
    }
}

fn create_with(commitments: Vec<Commitment>) -> Command {
    Command::Create(Create {
        task_id: task_id(),
        case_number: CaseNumber::new(date(2026, 9, 28), 7).unwrap(),
        package_id: PackageId::parse("open-restaurant").unwrap(),
        step_id: "s2".into(),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        item_name: "食品经营许可".into(),
        department: dept("samr"),
        lead_department: dept("samr"),
        promised_working_days: 5,
        material_ids: vec![MaterialId::parse("m_site_layout").unwrap()],
        commitments,
        now: cst("2026-09-28T10:00"),
        due_by: date(2026, 10, 10),
        warn_on: date(2026, 10, 10),
    })
}

fn create() -> Command {
    create_with(vec![commitment()])
}

fn claim_by(agent: &str, department: &str) -> Command {
    Command::Claim(Claim { agent: agent.into(), agent_department: dept(department), now: cst("2026-09-29T09:00") })
}

fn claim() -> Command {
    claim_by("agent-li", "samr")
}

fn document() -> ResultDocument {
    ResultDocument {
        kind: ResultDocumentKind::Licence,
        name: "食品经营许可证".into(),
        number: "JY11502030000123".into(),
        issuing_department: dept("samr"),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        valid_from: Some(date(2026, 10, 8)),
        valid_until: Some(date(2031, 10, 7)),
        physical: true,
        electronic_copy: None,
    }
}

fn approve_by(by: &str) -> Command {
    Command::Approve(Approve {
        by: by.into(),
        result: document(),
        comment: "材料齐全，准予许可".into(),
        now: cst("2026-10-08T15:00"),
        working_days_used: 2,
    })
}

fn approve() -> Command {
    approve_by("agent-li")
}

fn deny() -> Command {
    Command::Deny(Deny {
        by: "agent-li".into(),
        reason: "经营场所布局不符合要求".into(),
        legal_basis: "《食品安全法》第三十五条".into(),
        remedy_notice: String::new(),
        now: cst("2026-10-08T15:00"),
        working_days_used: 2,
    })
}

fn item(material: &str, field: &str, requirement: &str) -> SupplementItem {
    SupplementItem { material_id: material.into(), field_path: field.into(), requirement: requirement.into() }
}

fn return_with(items: Vec<SupplementItem>) -> Command {
    Command::ReturnForSupplement(ReturnForSupplement {
        by: "agent-li".into(),
        supplement_request_id: request_id(),
        items,
        due_by: date(2026, 10, 16),
        now: cst("2026-09-30T12:00"),
    })
}

fn return_for_supplement() -> Command {
    return_with(vec![
        item("m_site_layout", "", "平面图须标明操作间面积"),
        item("", "form.business_area", "经营面积与平面图不一致"),
    ])
}

fn resume(id: Uuid) -> Command {
    Command::Resume(Resume {
        supplement_request_id: id,
        now: cst("2026-10-09T09:00"),
        stopped_working_days: 1,
        due_by: date(2026, 10, 14),
        warn_on: date(2026, 10, 13),
    })
}

fn transfer(by: Transferrer, to: &str) -> Command {
    Command::Transfer(Transfer {
        by,
        to_assignee: to.into(),
        reason: "承办人休假".into(),
        now: cst("2026-09-30T09:00"),
    })
}

fn cancel() -> Command {
    Command::Cancel(Cancel { reason: CancelReason::CaseWithdrawn, detail: String::new(), now: cst("2026-09-30T09:00") })
}

fn warn(level: WarningLevel) -> Command {
    Command::Warn(Warn {
        level,
        working_days_used: if level == WarningLevel::Red { 5 } else { 4 },
        overdue_working_days: 0,
        officer_id: "officer-001".into(),
    })
}

fn post_check(outcome: PostCheckOutcome, ids: &[&str]) -> Command {
    Command::RecordPostCheck(RecordPostCheck {
        by: "agent-li".into(),
        material_ids: ids.iter().map(|i| MaterialId::parse(i).unwrap()).collect(),
        outcome,
        checked_on: date(2026, 11, 2),
    })
}

fn failed(revoke: Option<&str>) -> PostCheckOutcome {
    PostCheckOutcome::Failed {
        finding: "两名从业人员无健康证明".into(),
        revoke_with_legal_basis: revoke.map(str::to_owned),
    }
}

/// The framework's [`testing::given_commands`] for this aggregate.
fn given(commands: Vec<Command>) -> Given<Task> {
    testing::given_commands(commands)
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

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

// ---- supplement ----

#[test]
fn a_return_for_supplement_lists_every_item_and_stops_the_clock() {
    let (events, state) = given(vec![create(), claim()]).when(return_for_supplement()).then_ok();
    assert_eq!(types(&events), ["TaskReturnedForSupplement"]);
    let Event::TaskReturnedForSupplement(e) = &events[0] else { unreachable!() };
    assert_eq!(e.items.len(), 2);
    assert_eq!(e.supplement_request_id, request_id());
    assert_eq!(state.status, TaskStatus::WaitingForSupplement);
    assert!(!state.clock_running());
    assert_eq!(state.supplement.as_ref().map(|s| s.request_id), Some(request_id()));
}

#[test]
fn a_return_needs_at_least_one_itemised_thing() {
    given(vec![create(), claim()]).when(return_with(vec![])).then_rejected(&["items"]);
    given(vec![create(), claim()])
        .when(return_with(vec![item("", "", "补充材料"), item("Bad Id", "business_area", "")]))
        .then_rejected(&["items[0]", "items[1].material_id", "items[1].field_path", "items[1].requirement"]);
}

#[test]
fn only_one_supplement_request_is_open_at_a_time() {
    given(vec![create(), claim(), return_for_supplement()]).when(return_for_supplement()).then_error(
        TaskError::WrongState {
            status: TaskStatus::WaitingForSupplement,
            action: "return for supplement",
            needed: "in progress without an open supplement request",
        },
    );
}

#[test]
fn the_open_request_resumes_the_task_with_its_new_dates() {
    let state = given(vec![create(), claim(), return_for_supplement()]).when(resume(request_id())).then(vec![
        Event::TaskResumed(TaskResumed {
            task_id: task_id(),
            supplement_request_id: request_id(),
            stopped_working_days: 1,
            due_by: date(2026, 10, 14),
            warn_on: date(2026, 10, 13),
            at: cst("2026-10-09T09:00"),
        }),
    ]);
    assert_eq!(state.status, TaskStatus::InProgress);
    assert!(state.clock_running());
    assert_eq!((state.due_by, state.warn_on), (Some(date(2026, 10, 14)), Some(date(2026, 10, 13))));
    assert_eq!(state.assignee.as_deref(), Some("agent-li"));
    assert_eq!(state.clock.unwrap().suspensions().len(), 1);
}

#[test]
fn another_request_id_does_not_resume_the_task() {
    let other = Uuid::from_u128(99);
    given(vec![create(), claim(), return_for_supplement()])
        .when(resume(other))
        .then_error(TaskError::NotTheOpenRequest { given: other.to_string() });
}

#[test]
fn a_running_task_cannot_be_resumed() {
    given(vec![create(), claim()]).when(resume(request_id())).then_error(TaskError::WrongState {
        status: TaskStatus::InProgress,
        action: "resume",
        needed: "waiting for a supplement",
    });
}

// ---- transfer ----

#[test]
fn the_assignee_transfers_to_a_colleague() {
    let state = given(vec![create(), claim()])
        .when(transfer(Transferrer::Agent("agent-li".into()), "agent-zhao"))
        .then(vec![Event::TaskTransferred(TaskTransferred {
            task_id: task_id(),
            from_assignee: "agent-li".into(),
            to_assignee: "agent-zhao".into(),
            reason: "承办人休假".into(),
            at: cst("2026-09-30T09:00"),
        })]);
    assert_eq!(state.assignee.as_deref(), Some("agent-zhao"));
    assert_eq!(state.status, TaskStatus::InProgress);
}

#[test]
fn a_supervisor_assigns_an_unclaimed_task_which_is_then_in_progress() {
    let (events, state) =
        given(vec![create()]).when(transfer(Transferrer::Supervisor("lead-sun".into()), "agent-zhao")).then_ok();
    let Event::TaskTransferred(e) = &events[0] else { panic!("TaskTransferred") };
    assert_eq!(e.from_assignee, "");
    assert_eq!(state.status, TaskStatus::InProgress);
    assert_eq!(state.claimed_at, Some(cst("2026-09-30T09:00")));
}

#[test]
fn only_the_assignee_or_a_supervisor_transfers() {
    given(vec![create(), claim()])
        .when(transfer(Transferrer::Agent("agent-zhao".into()), "agent-wu"))
        .then_error(TaskError::NotAssignee { assignee: "agent-li".into(), action: "transfer" });
}

#[test]
fn a_transfer_to_the_assignee_or_without_reason_is_rejected() {
    let Command::Transfer(mut t) = transfer(Transferrer::Agent("agent-li".into()), "agent-li") else { unreachable!() };
    t.reason = String::new();
    given(vec![create(), claim()]).when(Command::Transfer(t)).then_rejected(&["reason", "to_assignee"]);
}

#[test]
fn a_closed_task_cannot_be_transferred() {
    given(vec![create(), claim(), deny()])
        .when(transfer(Transferrer::Supervisor("s".into()), "agent-zhao"))
        .then_error(TaskError::WrongState { status: TaskStatus::Denied, action: "transfer", needed: "open" });
}

// ---- urge (督办) ----

fn urge(by: &str, note: &str, at: &str) -> Command {
    Command::Urge(Urge { by: by.into(), note: note.into(), now: cst(at) })
}

#[test]
fn the_officer_urges_a_pending_task_and_it_counts_the_first_time() {
    let state = given(vec![create()]).when(urge("officer-wang", " 请尽快认领 ", "2026-09-30T09:00")).then(vec![
        Event::TaskUrged(TaskUrged {
            task_id: task_id(),
            urged_by: "officer-wang".into(),
            note: "请尽快认领".into(),
            urge_count: 1,
            at: cst("2026-09-30T09:00"),
        }),
    ]);
    assert_eq!(state.urged.count, 1);
    assert_eq!(state.urged.last_at, Some(cst("2026-09-30T09:00")));
    assert_eq!(state.status, TaskStatus::Pending, "urging changes nothing else");
}

#[test]
fn each_urging_counts_and_the_last_note_is_kept() {
    let state = given(vec![create(), claim(), urge("officer-wang", "第一次", "2026-09-30T09:00")])
        .when(urge("supervisor-zhou", "第二次，请今日办结", "2026-10-08T09:00"))
        .then_ok()
        .1;
    assert_eq!(state.urged.count, 2);
    assert_eq!(
        (state.urged.last_by.as_str(), state.urged.last_note.as_str()),
        ("supervisor-zhou", "第二次，请今日办结")
    );
    assert_eq!(state.urged.last_at, Some(cst("2026-10-08T09:00")));
    assert_eq!(state.assignee.as_deref(), Some("agent-li"));
}

#[test]
fn a_task_waiting_for_a_supplement_may_be_urged() {
    let (events, _) = given(vec![create(), claim(), return_for_supplement()])
        .when(urge("o", "请跟进补正", "2026-10-08T09:00"))
        .then_ok();
    assert_eq!(types(&events), ["TaskUrged"]);
}

#[test]
fn a_closed_task_cannot_be_urged() {
    for (closing, status) in [(deny(), TaskStatus::Denied), (approve(), TaskStatus::Approved)] {
        given(vec![create(), claim(), closing])
            .when(urge("o", "请尽快", "2026-10-08T09:00"))
            .then_error(TaskError::WrongState { status, action: "urge", needed: "open" });
    }
    given(vec![create(), cancel()]).when(urge("o", "请尽快", "2026-10-08T09:00")).then_error(TaskError::WrongState {
        status: TaskStatus::Cancelled,
        action: "urge",
        needed: "open",
    });
}

#[test]
fn an_urging_without_a_note_or_with_one_too_long_is_rejected() {
    given(vec![create()]).when(urge("o", "   ", "2026-09-30T09:00")).then_rejected(&["note"]);
    let long = "催".repeat(URGE_NOTE_MAX_CHARS + 1);
    given(vec![create()]).when(urge("o", &long, "2026-09-30T09:00")).then_rejected(&["note"]);
    let just = "催".repeat(URGE_NOTE_MAX_CHARS);
    given(vec![create()]).when(urge("o", &just, "2026-09-30T09:00")).then_ok();
}

#[test]
fn a_task_that_does_not_exist_cannot_be_urged() {
    given(vec![]).when(urge("o", "请尽快", "2026-09-30T09:00")).then_error(TaskError::NoSuchTask);
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

//! Transfer to a colleague, and urging by the case officer (督办).

use super::*;

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

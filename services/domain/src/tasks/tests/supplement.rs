//! Return for supplement, which stops the clock, and resumption.

use super::*;

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

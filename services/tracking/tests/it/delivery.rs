//! What the durable consumer guarantees the projection: a redelivered event
//! changes nothing, and an event that arrives before its predecessors gets
//! them from the owning store first.

use yiciban_eventstore::Outcome;
use yiciban_proto::common::v1 as common;

use crate::helpers::{AGENT, CLERK, Case, SERVICE, spawn_app};

#[tokio::test]
async fn a_redelivered_event_changes_nothing() {
    let app = spawn_app(false).await;
    let c = Case::new("YCB-20260105-000011");
    let submitted = app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &c.submitted()).await;
    let accepted = app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &c.accepted()).await;
    assert_eq!(app.consumer.process(&submitted, "direct").await.unwrap(), Outcome::Applied { filled: 0 });
    assert_eq!(app.consumer.process(&accepted, "direct").await.unwrap(), Outcome::Applied { filled: 0 });
    let before = app.snapshot(c.id).await;
    assert_eq!((before.0, before.2), (1, 2));

    assert_eq!(app.consumer.process(&accepted, "direct").await.unwrap(), Outcome::Duplicate);
    assert_eq!(app.consumer.process(&submitted, "direct").await.unwrap(), Outcome::Duplicate);
    assert_eq!(app.snapshot(c.id).await, before);

    // Even past a lost checkpoint the projection knows the event: its
    // timeline row is there, so the fold is not run twice.
    sqlx::query("DELETE FROM tracking.consumer_checkpoints").execute(&app.db.pool).await.unwrap();
    assert_eq!(app.consumer.process(&submitted, "direct").await.unwrap(), Outcome::Applied { filled: 0 });
    assert_eq!(app.consumer.process(&accepted, "direct").await.unwrap(), Outcome::Applied { filled: 0 });
    assert_eq!(app.snapshot(c.id).await, before);

    let s = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!((s.status, s.last_event_type.as_str()), (common::CaseStatus::Accepted as i32, "ApplicationAccepted"));
}

#[tokio::test]
async fn an_event_that_arrives_before_its_predecessors_is_gap_filled_from_the_owning_store() {
    let app = spawn_app(false).await;
    let c = Case::new("YCB-20260105-000012");
    let samr = Some("samr");
    let task = c.task_stream();
    app.append(&task, c.id, SERVICE, "2026-01-05T09:03", samr, &c.task_created()).await;
    app.append(&task, c.id, AGENT, "2026-01-05T10:00", samr, &c.claimed()).await;
    let returned = app.append(&task, c.id, AGENT, "2026-01-07T10:00", samr, &c.returned()).await;
    assert_eq!(returned.stream_version, 3);

    // Only version 3 reaches the projection.
    assert_eq!(app.consumer.process(&returned, "direct").await.unwrap(), Outcome::Applied { filled: 2 });
    let s = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!(s.holders.len(), 1);
    let holder = &s.holders[0];
    assert_eq!(
        (holder.state, holder.assignee.as_str()),
        (common::TaskState::WaitingForSupplement as i32, "agent-samr-1")
    );
    assert_eq!(s.status, common::CaseStatus::WaitingForSupplement as i32);
    let types: Vec<String> = app.timeline(c.id).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(types, ["TaskCreated", "TaskClaimed", "TaskReturnedForSupplement"]);

    // The routing dispatch of the same task, arriving after it on another
    // stream, fills in without undoing anything.
    let dispatched = app.append(&c.plan_stream(), c.id, SERVICE, "2026-01-05T09:02", samr, &c.dispatched()).await;
    assert_eq!(app.consumer.process(&dispatched, "direct").await.unwrap(), Outcome::Applied { filled: 0 });
    let s = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!(s.holders[0].state, common::TaskState::WaitingForSupplement as i32);
    assert_eq!(s.last_event_type, "TaskReturnedForSupplement", "the latest in time, whatever the arrival");
    let types: Vec<String> = app.timeline(c.id).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(types[0], "StepDispatched", "the timeline is in time order");
}

/// ADR 0042: the case row's document holds no task (each is its own row,
/// written once per change); reads and folds take the tasks from their rows,
/// also for a document written before, whose copies they override.
#[tokio::test]
async fn a_case_document_holds_no_task_and_its_task_rows_are_read_with_it() {
    let app = spawn_app(false).await;
    let c = Case::new("YCB-20260105-000013");
    let samr = Some("samr");
    let submitted = app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &c.submitted()).await;
    let accepted = app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:01", None, &c.accepted()).await;
    let task = c.task_stream();
    let created = app.append(&task, c.id, SERVICE, "2026-01-05T09:03", samr, &c.task_created()).await;
    let claimed = app.append(&task, c.id, AGENT, "2026-01-05T10:00", samr, &c.claimed()).await;
    for e in [&submitted, &accepted, &created, &claimed] {
        app.consumer.process(e, "direct").await.unwrap();
    }
    let (_, task_rows, _, doc) = app.snapshot(c.id).await;
    assert_eq!(task_rows, 1);
    assert!(doc.get("tasks").is_none(), "the document holds no tasks: {doc}");
    assert_eq!(doc["case_number"], "YCB-20260105-000013");
    let s = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!(s.holders.len(), 1);
    assert_eq!(s.holders[0].assignee, "agent-samr-1");

    // A document as written before: with a stale copy of the task.
    sqlx::query(
        "UPDATE tracking.case_views c SET doc = jsonb_set(c.doc, '{tasks}',
             jsonb_build_object(t.task_id, t.doc || '{\"assignee\": \"someone-before\"}'))
         FROM tracking.task_rows t WHERE t.case_id = c.case_id AND c.case_id = $1",
    )
    .bind(c.id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let s = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!((s.holders.len(), s.holders[0].assignee.as_str()), (1, "agent-samr-1"), "the task row wins");

    // The next event folds the task from its row and writes the document without it.
    let returned = app.append(&task, c.id, AGENT, "2026-01-07T10:00", samr, &c.returned()).await;
    app.consumer.process(&returned, "direct").await.unwrap();
    let (_, task_rows, _, doc) = app.snapshot(c.id).await;
    assert_eq!(task_rows, 1);
    assert!(doc.get("tasks").is_none(), "written again without tasks: {doc}");
    let s = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!(
        (s.holders[0].state, s.holders[0].assignee.as_str()),
        (common::TaskState::WaitingForSupplement as i32, "agent-samr-1")
    );
}

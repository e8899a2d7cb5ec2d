//! The SLA watcher across the 2026 National Day holiday (10-01..10-07 off,
//! Saturday 10-10 a make-up working day): a 5-working-day task created
//! Monday 09-28 10:00 counts 09-29, 09-30, 10-08, 10-09 and 10-10, so it
//! turns yellow (80 %) at 10-10 00:00 and red at 10-11 00:00, each exactly
//! once, also when both fell due while the service was down; a stopped
//! clock never warns and moves both instants.

use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as pb;
use yiciban_tasks::SweepReport;
use yiciban_testkit::eventually;

use crate::helpers::*;

fn report(yellow: usize, red: usize) -> SweepReport {
    SweepReport { yellow, red, failed: 0 }
}

fn warnings(types: &[String]) -> Vec<&str> {
    types.iter().map(String::as_str).filter(|t| matches!(*t, "TaskWarned" | "TaskEscalated")).collect()
}

#[tokio::test]
async fn yellow_fires_once_at_the_share_and_red_once_when_overdue_with_its_escalation() {
    let app = spawn_app().await;
    let task_id = app.create(new_task("samr", 5)).await.task_id;
    let sweep = || async { app.tasks.sweep_sla().await.unwrap() };

    for at in ["2026-09-30T23:59", "2026-10-07T12:00", "2026-10-09T23:59"] {
        app.clock.set(cst(at));
        assert_eq!(sweep().await, report(0, 0), "nothing due at {at}");
    }
    app.clock.set(cst("2026-10-10T00:00"));
    assert_eq!(sweep().await, report(1, 0), "yellow at the start of the make-up Saturday");
    assert_eq!(sweep().await, report(0, 0), "never twice");
    let task = app.get(&task_id).await;
    assert_eq!(task.warning, common::WarningLevel::Yellow as i32);
    assert_eq!(task.working_days_used, 4);

    app.clock.set(cst("2026-10-10T23:59"));
    assert_eq!(sweep().await, report(0, 0));
    app.clock.set(cst("2026-10-11T00:00"));
    assert_eq!(sweep().await, report(0, 1), "red when the limit is used up");
    app.clock.set(cst("2026-10-12T09:00"));
    assert_eq!(sweep().await, report(0, 0), "never twice");

    let task = app.get(&task_id).await;
    assert_eq!(task.warning, common::WarningLevel::Red as i32);
    assert!(task.escalated);
    assert_eq!(warnings(&app.event_types(&task_id).await), ["TaskWarned", "TaskWarned", "TaskEscalated"]);
    let published = eventually("the warnings on the samr subjects", std::time::Duration::from_secs(10), || async {
        let p = app.published("samr").await;
        (p.len() >= 4).then_some(p)
    })
    .await;
    let types: Vec<_> = published.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(types, ["TaskCreated", "TaskWarned", "TaskWarned", "TaskEscalated"]);
}

#[tokio::test]
async fn after_downtime_both_warnings_fire_once_in_order() {
    let mut app = spawn_app().await;
    let task_id = app.create(new_task("samr", 5)).await.task_id;
    // Down from before the yellow instant until after the red one.
    app.clock.set(cst("2026-10-12T10:00"));
    app.restart().await;
    // The restarted watcher catches up on its own at start.
    let types = eventually("the catch-up sweep", std::time::Duration::from_secs(10), || async {
        let types = app.event_types(&task_id).await;
        (types.len() >= 4).then_some(types)
    })
    .await;
    assert_eq!(warnings(&types), ["TaskWarned", "TaskWarned", "TaskEscalated"]);
    let stored = app.tasks.runner.store().read_stream(&format!("task-{task_id}"), 2).await.unwrap();
    let levels: Vec<_> = stored
        .iter()
        .filter(|e| e.event_type == "TaskWarned")
        .map(|e| {
            let w: yiciban_proto::events::v1::TaskWarned = prost::Message::decode(e.payload.as_slice()).unwrap();
            w.level
        })
        .collect();
    assert_eq!(levels, [common::WarningLevel::Yellow as i32, common::WarningLevel::Red as i32], "yellow before red");
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(0, 0));
    app.restart().await;
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(0, 0));
    assert_eq!(app.event_types(&task_id).await.len(), 4);
}

#[tokio::test]
async fn a_stopped_clock_does_not_warn_and_after_the_supplement_the_instants_move() {
    let app = spawn_app().await;
    let task_id = app.create(new_task("samr", 5)).await.task_id;
    app.agent("agent-li", "samr")
        .claim_task(pb::ClaimTaskRequest { idempotency_key: key(), task_id: task_id.clone(), expected_version: 0 })
        .await
        .unwrap();
    // 1.5 working days used (09-29 and half of 09-30), then the clock stops.
    app.clock.set(cst("2026-09-30T12:00"));
    let returned = app
        .agent("agent-li", "samr")
        .return_for_supplement(pb::ReturnForSupplementRequest {
            idempotency_key: key(),
            task_id: task_id.clone(),
            expected_version: 0,
            items: vec![common::SupplementItem {
                material_id: "m_site_layout".into(),
                field_path: String::new(),
                requirement: "平面图须标明操作间面积".into(),
            }],
            due_by: Some(pb_date(day(2026, 10, 16))),
        })
        .await
        .unwrap()
        .into_inner();
    // Past both original instants: nothing, the applicant has the task.
    app.clock.set(cst("2026-10-12T09:00"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(0, 0));
    assert_eq!(app.get(&task_id).await.warning, common::WarningLevel::Unspecified as i32);

    // Resumed Monday 10-12 09:00 with 3.5 days left: 15 h of 10-12, 10-13,
    // 10-14, and 21 h of 10-15; yellow (4 days) at 21:00 on 10-14.
    let resumed = app
        .intake_service()
        .resume_task(pb::ResumeTaskRequest {
            idempotency_key: key(),
            task_id: task_id.clone(),
            expected_version: 0,
            supplement_request_id: returned.supplement_request_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resumed.due_by, Some(pb_date(day(2026, 10, 15))));
    let task = app.get(&task_id).await;
    assert_eq!(task.warn_on, Some(pb_date(day(2026, 10, 14))));
    assert_eq!(task.working_days_used, 1);
    let stored = app.tasks.runner.store().read_stream(&format!("task-{task_id}"), 4).await.unwrap();
    let resumed_event: yiciban_proto::events::v1::TaskResumed =
        prost::Message::decode(stored[0].payload.as_slice()).unwrap();
    // 12 h of 09-30, 10-08, 10-09, 10-10 and 9 h of 10-12 = 3.875 days.
    assert_eq!(resumed_event.stopped_working_days, 3);

    app.clock.set(cst("2026-10-14T20:59"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(0, 0));
    app.clock.set(cst("2026-10-14T21:00"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(1, 0));
    app.clock.set(cst("2026-10-15T21:00"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(0, 1));
}

#[tokio::test]
async fn a_closed_task_never_warns() {
    let app = spawn_app().await;
    let task_id = app.create(new_task("samr", 5)).await.task_id;
    app.service()
        .cancel_task(pb::CancelTaskRequest {
            idempotency_key: key(),
            task_id: task_id.clone(),
            expected_version: 0,
            reason: common::TaskCancelReason::CaseWithdrawn as i32,
            detail: String::new(),
        })
        .await
        .unwrap();
    app.clock.set(cst("2026-11-30T10:00"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(0, 0));
    assert_eq!(app.event_types(&task_id).await, ["TaskCreated", "TaskCancelled"]);
}

#[tokio::test]
async fn a_client_using_the_warning_key_cannot_pre_empt_the_warning() {
    let app = spawn_app().await;
    let task_id = app.create(new_task("samr", 5)).await.task_id;
    let agent = app.agent("agent-li", "samr");
    // The agent's claim under the watcher's own key is the agent's own key.
    let claim =
        |key: String| pb::ClaimTaskRequest { idempotency_key: key, task_id: task_id.clone(), expected_version: 0 };
    agent.clone().claim_task(claim(format!("warn-{task_id}-yellow"))).await.expect("an ordinary key for a client");
    let err = agent.clone().claim_task(claim(format!("system:warn-{task_id}-red"))).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("reserved"), "{}", err.message());

    app.clock.set(cst("2026-10-12T10:00"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(1, 1), "both warnings raised all the same");
    assert_eq!(warnings(&app.event_types(&task_id).await), ["TaskWarned", "TaskWarned", "TaskEscalated"]);
}

#[tokio::test]
async fn a_sweep_with_one_failing_task_still_warns_the_others_and_retries_it_next_time() {
    let app = spawn_app().await;
    let broken = app.create(new_task("samr", 5)).await.task_id;
    let fine = app.create(new_task("samr", 5)).await.task_id;
    // The broken task's warning cannot be stored: its key is taken by a
    // record of another request (as a damaged or hand-edited row would be).
    let taken = format!("system:warn-{broken}-yellow");
    sqlx::query("INSERT INTO tasks.idempotency_keys (key, request_hash, response) VALUES ($1, 'other', '\\x00')")
        .bind(&taken)
        .execute(&app.db.pool)
        .await
        .unwrap();

    app.clock.set(cst("2026-10-10T00:00"));
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), SweepReport { yellow: 1, red: 0, failed: 1 });
    assert_eq!(warnings(&app.event_types(&fine).await), ["TaskWarned"], "the other task is warned");
    assert!(warnings(&app.event_types(&broken).await).is_empty());
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), SweepReport { yellow: 0, red: 0, failed: 1 }, "still due");

    sqlx::query("DELETE FROM tasks.idempotency_keys WHERE key = $1").bind(&taken).execute(&app.db.pool).await.unwrap();
    assert_eq!(app.tasks.sweep_sla().await.unwrap(), report(1, 0), "the next sweep catches up");
    assert_eq!(warnings(&app.event_types(&broken).await), ["TaskWarned"]);
}

/// Two replicas of the task service sweep the same database at the same
/// moment, at every instant a warning falls due (issue 20: work that must
/// happen once is safe with any number of replicas): each task gets each
/// warning once, whichever replica raised it, and the two reports add up
/// to one warning per task and level.
#[tokio::test]
async fn two_replicas_sweeping_at_the_same_moment_raise_each_warning_once() {
    let app = spawn_app().await;
    let other = app.replica().await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(app.create(new_task("samr", 5)).await.task_id);
    }
    let mut total = SweepReport::default();
    for at in ["2026-10-10T00:00", "2026-10-10T12:00", "2026-10-11T00:00", "2026-10-12T09:00"] {
        app.clock.set(cst(at));
        let (a, b) = tokio::join!(app.tasks.sweep_sla(), other.state.sweep_sla());
        for r in [a.unwrap(), b.unwrap()] {
            assert_eq!(r.failed, 0, "at {at}");
            total.yellow += r.yellow;
            total.red += r.red;
        }
    }
    assert_eq!(total, report(12, 12), "one yellow and one red per task over both replicas");
    for id in &ids {
        assert_eq!(warnings(&app.event_types(id).await), ["TaskWarned", "TaskWarned", "TaskEscalated"], "task {id}");
    }
}

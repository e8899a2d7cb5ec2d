//! 督办: the case's officer (or a supervisor) urges the department holding
//! an open task with a note; TaskUrged goes out on the department's subject
//! and the task shows how often and the last note. Another officer, an
//! agent, an empty note and a closed task are refused, nothing recorded.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::tasks::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::*;
use crate::officers::spawn_with_intake;

fn urge(task_id: &str, note: &str) -> pb::UrgeTaskRequest {
    pb::UrgeTaskRequest { idempotency_key: key(), task_id: task_id.into(), expected_version: 0, note: note.into() }
}

#[tokio::test]
async fn the_cases_officer_urges_the_department_which_sees_it_on_its_subject_and_its_task() {
    let w = spawn_with_intake().await;
    let (case_id, officer, task_id) = w.case_with_a_task().await;
    let mut as_officer = w.app.client(Role::Officer, &officer, None);

    let first = as_officer.urge_task(urge(&task_id, "  请尽快认领办理  ")).await.expect("UrgeTask").into_inner();
    assert_eq!((first.urge_count, first.version), (1, 2));
    w.app.clock.set(cst("2026-10-08T09:30"));
    let second = w
        .app
        .supervisor()
        .urge_task(urge(&task_id, "申请人催问，请今日办结"))
        .await
        .expect("a supervisor urges")
        .into_inner();
    assert_eq!(second.urge_count, 2);

    // The department's agent reads it on the task, and in its inbox.
    let task = w.app.agent("agent-li", "samr").get_task(pb::GetTaskRequest { task_id: task_id.clone() }).await;
    let task = task.unwrap().into_inner().task.unwrap();
    assert_eq!(task.urge_count, 2);
    assert_eq!(
        (task.last_urged_by.as_str(), task.last_urge_note.as_str()),
        ("supervisor-001", "申请人催问，请今日办结")
    );
    assert_eq!(task.last_urged_at.map(|t| t.seconds), Some(cst("2026-10-08T09:30").timestamp()));
    let inbox = w
        .app
        .agent("agent-li", "samr")
        .list_inbox(pb::ListInboxRequest { department: "samr".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inbox.tasks.iter().find(|t| t.task_id == task_id).map(|t| t.urge_count), Some(2));

    // On the department's own subject, as every task event.
    let prefix = w.app.nats.subjects.prefix().to_owned();
    let published = eventually("the urgings on the samr subjects", std::time::Duration::from_secs(10), || async {
        let p = w.app.published("samr").await;
        (p.iter().filter(|(_, t)| t == "TaskUrged").count() >= 2).then_some(p)
    })
    .await;
    let (subject, _) = published.iter().find(|(_, t)| t == "TaskUrged").unwrap();
    let partition = yiciban_eventstore::partition_of(&case_id.parse().unwrap());
    assert_eq!(subject, &format!("{prefix}.evt.samr.tasks.{case_id}.TaskUrged.{partition}"));
    assert_eq!(w.app.event_types(&task_id).await, ["TaskCreated", "TaskUrged", "TaskUrged"]);
}

#[tokio::test]
async fn another_officer_an_agent_an_empty_note_and_a_closed_task_are_refused_and_nothing_is_recorded() {
    let w = spawn_with_intake().await;
    let (_, officer, task_id) = w.case_with_a_task().await;
    let other = if officer == "officer-001" { "officer-002" } else { "officer-001" };

    let hidden = w.app.client(Role::Officer, other, None).urge_task(urge(&task_id, "请尽快")).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
    assert_eq!(hidden.message(), format!("task {task_id} not found"));
    let agent = w.app.agent("agent-li", "samr").urge_task(urge(&task_id, "请尽快")).await.unwrap_err();
    assert_eq!(agent.code(), Code::PermissionDenied, "{agent:?}");
    let mut as_officer = w.app.client(Role::Officer, &officer, None);
    let empty = as_officer.urge_task(urge(&task_id, "   ")).await.unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument, "{empty:?}");
    let violations = yiciban_platform::status::violations_of(&empty);
    assert_eq!(violations.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["note"]);
    let long = as_officer.urge_task(urge(&task_id, &"催".repeat(201))).await.unwrap_err();
    assert_eq!(long.code(), Code::InvalidArgument, "{long:?}");
    assert_eq!(w.app.event_types(&task_id).await, ["TaskCreated"], "nothing recorded");

    // Closed: approved by the department, then urged.
    let agent = w.app.agent("agent-li", "samr");
    agent
        .clone()
        .claim_task(pb::ClaimTaskRequest { idempotency_key: key(), task_id: task_id.clone(), expected_version: 0 })
        .await
        .unwrap();
    agent
        .clone()
        .approve_task(pb::ApproveTaskRequest {
            idempotency_key: key(),
            task_id: task_id.clone(),
            expected_version: 0,
            result: Some(licence("samr")),
            comment: String::new(),
        })
        .await
        .unwrap();
    let closed = as_officer.urge_task(urge(&task_id, "请尽快")).await.unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition, "{closed:?}");
    assert_eq!(w.app.event_types(&task_id).await, ["TaskCreated", "TaskClaimed", "TaskApproved"]);
}

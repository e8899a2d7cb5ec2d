//! The department inbox: filters, urgency order (warning, due date,
//! creation), paging with a total count, who may read it, and the tasks of
//! one case.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as pb;

use crate::helpers::*;

fn inbox(department: &str) -> pb::ListInboxRequest {
    pb::ListInboxRequest { department: department.into(), ..Default::default() }
}

fn ids(r: &pb::ListInboxResponse) -> Vec<String> {
    r.tasks.iter().map(|t| t.task_id.clone()).collect()
}

/// samr: B (10 days, yellow at the inbox's time), C (3 days, red), D (0
/// days, created at the inbox's time, on time); fire: F.
struct Inbox {
    b: String,
    c: String,
    d: String,
}

async fn fill(app: &TestApp) -> Inbox {
    let b = app.create(new_task("samr", 10)).await.task_id;
    let mut c = new_task("samr", 3);
    c.package_id = "newborn-birth".into();
    let c = app.create(c).await.task_id;
    app.create(new_task("fire", 10)).await;
    // B is due 10-16 and yellow from 10-15; C was due 10-08.
    app.clock.set(cst("2026-10-15T01:00"));
    let mut d = new_task("samr", 0);
    d.package_id = "newborn-birth".into();
    let d = app.create(d).await.task_id;
    app.tasks.sweep_sla().await.unwrap();
    Inbox { b, c, d }
}

#[tokio::test]
async fn the_inbox_lists_the_most_urgent_first_warning_then_due_date() {
    let app = spawn_app().await;
    let t = fill(&app).await;
    let page = app.agent("agent-li", "samr").list_inbox(inbox("")).await.unwrap().into_inner();
    assert_eq!(ids(&page), [t.c.clone(), t.b.clone(), t.d.clone()]);
    assert_eq!(page.total_count, 3);
    assert!(page.next_page_token.is_empty());
    let warnings: Vec<_> = page.tasks.iter().map(|t| t.warning).collect();
    assert_eq!(
        warnings,
        [
            common::WarningLevel::Red as i32,
            common::WarningLevel::Yellow as i32,
            common::WarningLevel::Unspecified as i32
        ]
    );
    assert_eq!(page.tasks[1].due_by, Some(pb_date(day(2026, 10, 16))));
    // 09-29, 09-30, 10-08, 10-09, 10-10, 10-12, 10-13, 10-14 and one hour of 10-15.
    assert_eq!(page.tasks[1].working_days_used, 8);
}

#[tokio::test]
async fn the_inbox_filters_by_warning_package_due_date_assignee_and_state() {
    let app = spawn_app().await;
    let t = fill(&app).await;
    let supervisor = app.supervisor();
    let ask = |f: fn(&mut pb::ListInboxRequest)| {
        let mut s = supervisor.clone();
        let mut req = inbox("samr");
        f(&mut req);
        async move { ids(&s.list_inbox(req).await.unwrap().into_inner()) }
    };
    assert_eq!(ask(|r| r.min_warning = common::WarningLevel::Yellow as i32).await, [t.c.clone(), t.b.clone()]);
    assert_eq!(ask(|r| r.min_warning = common::WarningLevel::Red as i32).await, [t.c.as_str()]);
    assert_eq!(ask(|r| r.package_id = "newborn-birth".into()).await, [t.c.clone(), t.d.clone()]);
    assert_eq!(ask(|r| r.due_before = Some(pb_date(day(2026, 10, 15)))).await, [t.c.clone(), t.d.clone()]);
    app.agent("agent-li", "samr")
        .claim_task(pb::ClaimTaskRequest { idempotency_key: key(), task_id: t.d.clone(), expected_version: 0 })
        .await
        .unwrap();
    assert_eq!(ask(|r| r.assignee = "agent-li".into()).await, [t.d.as_str()]);
    assert_eq!(ask(|r| r.states = vec![common::TaskState::InProgress as i32]).await, [t.d.as_str()]);
    assert_eq!(ask(|r| r.states = vec![common::TaskState::Approved as i32]).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_inbox_pages_with_a_token_and_the_total() {
    let app = spawn_app().await;
    let t = fill(&app).await;
    let mut client = app.agent("agent-li", "samr");
    let mut req = inbox("samr");
    req.page_size = 2;
    let first = client.list_inbox(req.clone()).await.unwrap().into_inner();
    assert_eq!(ids(&first), [t.c.clone(), t.b.clone()]);
    assert_eq!(first.total_count, 3);
    req.page_token = first.next_page_token.clone();
    let second = client.list_inbox(req).await.unwrap().into_inner();
    assert_eq!(ids(&second), [t.d.as_str()]);
    assert!(second.next_page_token.is_empty());
}

#[tokio::test]
async fn agents_read_only_their_departments_inbox_and_bad_filters_are_named() {
    let app = spawn_app().await;
    fill(&app).await;
    let err = app.agent("agent-wang", "fire").list_inbox(inbox("samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = app.client(Role::Officer, "officer-001", None).list_inbox(inbox("samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "an inbox is a department's; officers use their worklist");
    let own = app.agent("agent-wang", "fire").list_inbox(inbox("")).await.unwrap().into_inner();
    assert_eq!(own.total_count, 1);
    let mut bad = inbox("");
    bad.states = vec![99];
    bad.page_size = 501;
    bad.page_token = "x".into();
    let err = app.supervisor().list_inbox(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields: Vec<_> = yiciban_platform::status::violations_of(&err).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["department", "states[0]", "page_size", "page_token"]);
}

#[tokio::test]
async fn the_lead_department_and_supervisors_see_every_task_of_a_case_an_agent_only_its_own() {
    let app = spawn_app().await;
    let samr = new_task("samr", 5);
    let mut fire = new_task("fire", 5);
    fire.case_id = samr.case_id.clone();
    fire.step_id = "s3".into();
    app.create(samr.clone()).await;
    app.create(fire.clone()).await;
    let list = |mut c: Client| {
        let case_id = samr.case_id.clone();
        async move {
            c.list_case_tasks(pb::ListCaseTasksRequest { case_id })
                .await
                .unwrap()
                .into_inner()
                .tasks
                .into_iter()
                .map(|t| t.department)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(app.supervisor()).await, ["samr", "fire"]);
    assert_eq!(list(app.agent("agent-li", "samr")).await, ["samr", "fire"]);
    assert_eq!(list(app.agent("agent-wang", "fire")).await, ["fire"]);
    let police = |case_id: String| {
        let mut c = app.agent("agent-zhou", "police");
        async move { c.list_case_tasks(pb::ListCaseTasksRequest { case_id }).await.unwrap() }
    };
    let hidden = police(samr.case_id.clone()).await;
    assert!(hidden.metadata().get(yiciban_platform::access::REFUSAL_KEY).is_none(), "the marker never leaves");
    let unknown = police(new_task("samr", 5).case_id).await;
    assert_eq!(hidden.into_inner(), unknown.into_inner(), "police takes no part: answered as for an unknown case");
    let task = app
        .agent("agent-li", "samr")
        .get_task(pb::GetTaskRequest { task_id: fire.task_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(task.task.unwrap().department, "fire", "the lead department reads the case's tasks");
}

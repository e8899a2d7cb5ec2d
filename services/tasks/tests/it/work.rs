//! Creating a task and the department's work on it over gRPC: happy paths,
//! refusals that record nothing, idempotent replays, and the events on the
//! department's NATS subject.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::*;

fn claim(task_id: &str) -> pb::ClaimTaskRequest {
    pb::ClaimTaskRequest { idempotency_key: key(), task_id: task_id.into(), expected_version: 0 }
}

fn approve(task_id: &str, department: &str) -> pb::ApproveTaskRequest {
    pb::ApproveTaskRequest {
        idempotency_key: key(),
        task_id: task_id.into(),
        expected_version: 0,
        result: Some(licence(department)),
        comment: "材料齐全，准予许可".into(),
    }
}

fn supplement_items() -> Vec<common::SupplementItem> {
    vec![
        common::SupplementItem {
            material_id: "m_site_layout".into(),
            field_path: String::new(),
            requirement: "平面图须标明操作间面积".into(),
        },
        common::SupplementItem {
            material_id: String::new(),
            field_path: "form.business_area".into(),
            requirement: "经营面积与平面图不一致".into(),
        },
    ]
}

/// A samr task claimed by agent-li.
async fn claimed(app: &TestApp) -> String {
    let created = app.create(new_task("samr", 5)).await;
    app.agent("agent-li", "samr").claim_task(claim(&created.task_id)).await.unwrap();
    created.task_id
}

#[tokio::test]
async fn a_task_created_before_national_day_is_due_on_the_make_up_saturday() {
    let app = spawn_app().await;
    let req = new_task("samr", 5);
    let created = app.create(req.clone()).await;
    assert_eq!(created.task_id, req.task_id);
    assert_eq!(created.version, 1);
    assert_eq!(created.due_by, Some(pb_date(day(2026, 10, 10))));
    let task = app.get(&created.task_id).await;
    assert_eq!(task.state, common::TaskState::Pending as i32);
    assert_eq!(task.case_id, req.case_id);
    assert_eq!(task.warn_on, Some(pb_date(day(2026, 10, 10))));
    assert_eq!((task.lead_department.as_str(), task.commitments.len()), ("samr", 1));
    assert_eq!(task.created_at.unwrap().seconds, monday_before_national_day().timestamp());
}

#[tokio::test]
async fn create_is_idempotent_and_a_second_task_for_the_same_step_already_exists() {
    let app = spawn_app().await;
    let req = new_task("samr", 5);
    let first = app.create(req.clone()).await;
    assert_eq!(app.create(req.clone()).await, first);
    let mut other = req.clone();
    other.step_id = "s3".into();
    let err = app.service().create_task(other).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "same key, different request: {err:?}");
    let mut second = new_task("samr", 5);
    second.case_id = req.case_id.clone();
    let err = app.service().create_task(second).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn only_a_service_creates_tasks_and_a_malformed_request_names_every_field_and_records_nothing() {
    let app = spawn_app().await;
    let err = app.agent("agent-li", "samr").create_task(new_task("samr", 5)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut bad = new_task("samr", 5);
    bad.task_id = "not-a-uuid".into();
    bad.department = "SAMR!".into();
    bad.case_number = "42".into();
    bad.item_name = String::new();
    bad.start_on = Some(pb_date(day(2026, 9, 29)));
    let err = app.service().create_task(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields: Vec<_> = violations_of(&err).into_iter().map(|v| v.field).collect();
    for f in ["task_id", "department", "case_number", "start_on"] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    let mut unnamed = new_task("samr", 5);
    unnamed.item_name = " ".into();
    let err = app.service().create_task(unnamed).await.unwrap_err();
    assert_eq!(violations_of(&err)[0].field, "item_name");
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn an_agent_claims_and_approves_and_every_event_goes_out_on_its_departments_subject() {
    let app = spawn_app().await;
    let req = new_task("samr", 5);
    let created = app.create(req.clone()).await;
    let agent = app.agent("agent-li", "samr");
    let claimed = agent.clone().claim_task(claim(&created.task_id)).await.unwrap().into_inner();
    assert_eq!(claimed.version, 2);
    app.clock.set(cst("2026-10-08T15:00"));
    let approved = agent.clone().approve_task(approve(&created.task_id, "samr")).await.unwrap().into_inner();
    assert!(approved.post_check_pending);
    assert_eq!(approved.version, 3);
    let task = app.get(&created.task_id).await;
    assert_eq!(task.state, common::TaskState::Approved as i32);
    assert_eq!(task.assignee, "agent-li");
    assert_eq!(task.result.unwrap().number, "JY11502030000123");
    assert_eq!(task.post_check, pb::PostCheckState::Pending as i32);
    assert_eq!(task.working_days_used, 2);

    let prefix = app.nats.subjects.prefix().to_owned();
    let published = eventually("three events on the samr subjects", std::time::Duration::from_secs(10), || async {
        let p = app.published("samr").await;
        (p.len() >= 3).then_some(p)
    })
    .await;
    let types: Vec<_> = published.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(types, ["TaskCreated", "TaskClaimed", "TaskApproved"]);
    let partition = yiciban_eventstore::partition_of(&req.case_id.parse().unwrap());
    assert_eq!(published[0].0, format!("{prefix}.evt.samr.tasks.{}.TaskCreated.{partition}", req.case_id));
    assert!(app.published("fire").await.is_empty());
}

#[tokio::test]
async fn an_agent_of_another_department_gets_not_found_worded_like_a_random_task_and_nothing_changes() {
    let app = spawn_app().await;
    let created = app.create(new_task("samr", 5)).await;
    let random = uuid::Uuid::now_v7().to_string();
    let fire = app.agent("agent-wang", "fire");
    let alike = |hidden: tonic::Status, missing: tonic::Status| {
        assert_eq!((hidden.code(), missing.code()), (Code::NotFound, Code::NotFound), "{hidden:?} {missing:?}");
        assert_eq!(hidden.message().replace(&created.task_id, &random), missing.message());
        assert_eq!(missing.message(), format!("task {random} not found"));
        assert!(hidden.metadata().get(yiciban_platform::access::REFUSAL_KEY).is_none(), "the marker never leaves");
    };
    alike(
        fire.clone().claim_task(claim(&created.task_id)).await.unwrap_err(),
        fire.clone().claim_task(claim(&random)).await.unwrap_err(),
    );
    let get = |task_id: &str| pb::GetTaskRequest { task_id: task_id.into() };
    alike(
        fire.clone().get_task(get(&created.task_id)).await.unwrap_err(),
        fire.clone().get_task(get(&random)).await.unwrap_err(),
    );
    let missing_for_all = app.supervisor().get_task(get(&random)).await.unwrap_err();
    assert_eq!(missing_for_all.message(), format!("task {random} not found"));
    assert_eq!(app.version(&created.task_id).await, 1, "a refused command records nothing");
    // The refusals are recorded for supervisors, with the task and the reason.
    let recorded: Vec<(String, String, String)> =
        eventually("fire's two hidden refusals in the refusal log", std::time::Duration::from_secs(10), || async {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT kind, method, reason FROM tasks.access_refusals
                 WHERE caller = 'agent-wang' AND case_id = $1 ORDER BY id",
            )
            .bind(&created.task_id)
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
            (rows.len() == 2).then_some(rows)
        })
        .await;
    assert!(recorded.iter().all(|(kind, _, reason)| kind == "hidden" && reason.contains("department")), "{recorded:?}");
    assert_eq!(recorded[0].1, "/yiciban.tasks.v1.TaskService/ClaimTask");
    assert_eq!(recorded[1].1, "/yiciban.tasks.v1.TaskService/GetTask");
}

#[tokio::test]
async fn the_lead_department_sees_a_task_but_acts_only_on_its_own() {
    let app = spawn_app().await;
    // A fire-department task of a case samr leads.
    let created = app.create(new_task("fire", 5)).await;
    let samr = app.agent("agent-li", "samr");
    let task = samr.clone().get_task(pb::GetTaskRequest { task_id: created.task_id.clone() }).await.unwrap();
    assert_eq!(task.into_inner().task.unwrap().department, "fire");
    let err = samr.clone().claim_task(claim(&created.task_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "it sees the task, so a refusal may say why");
    let err = app
        .agent("agent-zhou", "police")
        .get_task(pb::GetTaskRequest { task_id: created.task_id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(app.version(&created.task_id).await, 1);
}

#[tokio::test]
async fn officers_are_refused_alike_when_their_assignment_cannot_be_checked() {
    // No intake service is configured in these tests: an officer's read
    // fails closed, with the same answer whether the task exists or not.
    let app = spawn_app().await;
    let created = app.create(new_task("samr", 5)).await;
    let officer = app.client(Role::Officer, "officer-001", None);
    for task_id in [created.task_id.clone(), uuid::Uuid::now_v7().to_string()] {
        let err = officer.clone().get_task(pb::GetTaskRequest { task_id }).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    }
    let err = officer
        .clone()
        .list_case_tasks(pb::ListCaseTasksRequest { case_id: new_task("samr", 5).case_id })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
}

#[tokio::test]
async fn an_unclaimed_task_cannot_be_approved_and_only_the_assignee_approves() {
    let app = spawn_app().await;
    let created = app.create(new_task("samr", 5)).await;
    let err = app.agent("agent-li", "samr").approve_task(approve(&created.task_id, "samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.agent("agent-li", "samr").claim_task(claim(&created.task_id)).await.unwrap();
    let err = app.agent("agent-zhao", "samr").approve_task(approve(&created.task_id, "samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("agent-li"), "{}", err.message());
    assert_eq!(app.version(&created.task_id).await, 2);
}

#[tokio::test]
async fn a_malformed_approval_names_every_field_and_records_nothing() {
    let app = spawn_app().await;
    let task_id = claimed(&app).await;
    let mut req = approve(&task_id, "fire");
    let result = req.result.as_mut().unwrap();
    result.kind = 0;
    result.number = String::new();
    let err = app.agent("agent-li", "samr").approve_task(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violations_of(&err)[0].field, "result.kind");
    let mut req = approve(&task_id, "fire");
    req.result.as_mut().unwrap().number = " ".into();
    let err = app.agent("agent-li", "samr").approve_task(req).await.unwrap_err();
    let fields: Vec<_> = violations_of(&err).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["result.number", "result.issuing_department"]);
    assert_eq!(app.version(&task_id).await, 2);
}

#[tokio::test]
async fn a_denial_needs_reason_and_legal_basis() {
    let app = spawn_app().await;
    let task_id = claimed(&app).await;
    let agent = app.agent("agent-li", "samr");
    let mut req = pb::DenyTaskRequest {
        idempotency_key: key(),
        task_id: task_id.clone(),
        expected_version: 2,
        reason: "经营场所布局不符合要求".into(),
        legal_basis: String::new(),
        remedy_notice: String::new(),
    };
    let err = agent.clone().deny_task(req.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violations_of(&err)[0].field, "legal_basis");
    assert_eq!(app.version(&task_id).await, 2);
    req.legal_basis = "《食品安全法》第三十五条".into();
    req.idempotency_key = key();
    assert_eq!(agent.clone().deny_task(req).await.unwrap().into_inner().version, 3);
    let task = app.get(&task_id).await;
    assert_eq!(task.state, common::TaskState::Denied as i32);
    assert_eq!(task.legal_basis, "《食品安全法》第三十五条");
}

#[tokio::test]
async fn a_return_stops_the_task_until_the_open_request_resumes_it() {
    let app = spawn_app().await;
    let task_id = claimed(&app).await;
    let agent = app.agent("agent-li", "samr");
    let mut req = pb::ReturnForSupplementRequest {
        idempotency_key: key(),
        task_id: task_id.clone(),
        expected_version: 0,
        items: vec![],
        due_by: None,
    };
    let err = agent.clone().return_for_supplement(req.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violations_of(&err)[0].field, "items");
    req.items = supplement_items();
    req.idempotency_key = key();
    let returned = agent.clone().return_for_supplement(req.clone()).await.unwrap().into_inner();
    // Five working days from Monday 09-28: 09-29, 09-30, 10-08, 10-09, 10-10.
    assert_eq!(returned.due_by, Some(pb_date(day(2026, 10, 10))));
    let task = app.get(&task_id).await;
    assert_eq!(task.state, common::TaskState::WaitingForSupplement as i32);
    assert_eq!(task.supplement_items.len(), 2);
    assert_eq!(task.supplement_request_id, returned.supplement_request_id);
    req.idempotency_key = key();
    let err = agent.clone().return_for_supplement(req).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "one open request at a time");

    let resume = |id: &str| pb::ResumeTaskRequest {
        idempotency_key: key(),
        task_id: task_id.clone(),
        expected_version: 0,
        supplement_request_id: id.into(),
    };
    let err = app.intake_service().resume_task(resume(&uuid::Uuid::now_v7().to_string())).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = app.agent("agent-zhao", "samr").resume_task(resume(&returned.supplement_request_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let resumed = app.intake_service().resume_task(resume(&returned.supplement_request_id)).await.unwrap().into_inner();
    assert_eq!(resumed.version, 4);
    assert_eq!(app.get(&task_id).await.state, common::TaskState::InProgress as i32);
}

#[tokio::test]
async fn the_assignee_transfers_to_a_colleague_who_then_approves() {
    let app = spawn_app().await;
    let task_id = claimed(&app).await;
    let transfer = |to: &str| pb::TransferTaskRequest {
        idempotency_key: key(),
        task_id: task_id.clone(),
        expected_version: 0,
        to_assignee: to.into(),
        reason: "承办人休假".into(),
    };
    let err = app.agent("agent-zhao", "samr").transfer_task(transfer("agent-wu")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "only the assignee transfers");
    let err = app.agent("agent-wang", "fire").transfer_task(transfer("agent-wu")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "another department's task is not there for fire");
    app.agent("agent-li", "samr").transfer_task(transfer("agent-zhao")).await.unwrap();
    assert_eq!(app.get(&task_id).await.assignee, "agent-zhao");
    let err = app.agent("agent-li", "samr").approve_task(approve(&task_id, "samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.agent("agent-zhao", "samr").approve_task(approve(&task_id, "samr")).await.unwrap();
    app.supervisor()
        .transfer_task(transfer("agent-li"))
        .await
        .map(|_| panic!("a closed task is not transferred"))
        .unwrap_or_else(|e| assert_eq!(e.code(), Code::FailedPrecondition));
}

#[tokio::test]
async fn a_service_cancels_an_open_task_once() {
    let app = spawn_app().await;
    let task_id = claimed(&app).await;
    let cancel = || pb::CancelTaskRequest {
        idempotency_key: key(),
        task_id: task_id.clone(),
        expected_version: 0,
        reason: common::TaskCancelReason::CaseWithdrawn as i32,
        detail: String::new(),
    };
    let err = app.agent("agent-li", "samr").cancel_task(cancel()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut unreasoned = cancel();
    unreasoned.reason = 0;
    let err = app.service().cancel_task(unreasoned).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    app.service().cancel_task(cancel()).await.unwrap();
    assert_eq!(app.get(&task_id).await.state, common::TaskState::Cancelled as i32);
    let err = app.service().cancel_task(cancel()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(app.version(&task_id).await, 3);
}

#[tokio::test]
async fn a_failed_post_check_revokes_the_approval_once() {
    let app = spawn_app().await;
    let task_id = claimed(&app).await;
    let agent = app.agent("agent-li", "samr");
    let check = |passed: bool| pb::RecordPostCheckRequest {
        idempotency_key: key(),
        task_id: task_id.clone(),
        expected_version: 0,
        passed,
        material_ids: vec![],
        finding: "两名从业人员无健康证明".into(),
        checked_on: None,
        revoke_approval: !passed,
        legal_basis: "《行政许可法》第六十九条".into(),
    };
    let err = agent.clone().record_post_check(check(false)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "not approved yet");
    agent.clone().approve_task(approve(&task_id, "samr")).await.unwrap();
    let err = app.agent("agent-wang", "fire").record_post_check(check(false)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "fire neither handles nor post-checks this task");
    let mut both = check(true);
    both.revoke_approval = true;
    let err = agent.clone().record_post_check(both).await.unwrap_err();
    assert_eq!(violations_of(&err)[0].field, "revoke_approval");
    let done = agent.clone().record_post_check(check(false)).await.unwrap().into_inner();
    assert!(done.revoked);
    let task = app.get(&task_id).await;
    assert_eq!(task.state, common::TaskState::Revoked as i32);
    assert_eq!(task.post_check, pb::PostCheckState::Failed as i32);
    let err = agent.clone().record_post_check(check(true)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(app.event_types(&task_id).await[3..], ["PostCheckFailed", "ApprovalRevoked"]);
}

#[tokio::test]
async fn a_replayed_command_answers_as_the_first_time_and_a_stale_version_is_aborted() {
    let app = spawn_app().await;
    let created = app.create(new_task("samr", 5)).await;
    let agent = app.agent("agent-li", "samr");
    let mut req = claim(&created.task_id);
    req.expected_version = 1;
    let first = agent.clone().claim_task(req.clone()).await.unwrap().into_inner();
    assert_eq!(agent.clone().claim_task(req.clone()).await.unwrap().into_inner(), first);
    assert_eq!(app.version(&created.task_id).await, 2);
    let err = app.agent("agent-zhao", "samr").claim_task(req.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "another caller's same key is their own request, not a replay: {err:?}");
    let mut late = req.clone();
    late.idempotency_key = key();
    let err = app.agent("agent-zhao", "samr").claim_task(late).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "a colleague claimed it first: {err:?}");
    let mut different = approve(&created.task_id, "samr");
    different.idempotency_key = req.idempotency_key.clone();
    let err = agent.clone().approve_task(different).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let mut stale = approve(&created.task_id, "samr");
    stale.expected_version = 1;
    let err = agent.clone().approve_task(stale).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(app.version(&created.task_id).await, 2);
    let err = app.client(Role::Officer, "officer-001", None).claim_task(claim(&created.task_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

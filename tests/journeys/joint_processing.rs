//! Joint processing (一次联办) across intake, routing and the department
//! tasks: parallel and dependent steps to issuance; a supplement that stops
//! and resumes the clock; a denial confirmed by the lead department.

use std::time::Duration;

use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as intake;
use yiciban_proto::routing::v1 as routing;
use yiciban_proto::tasks::v1 as tasks;
use yiciban_testkit::eventually;

use crate::stack::Stack;

const WAIT: Duration = Duration::from_secs(30);

pub async fn submit(stack: &Stack, key: &str) -> String {
    let submitted = stack
        .intake(Role::Clerk, "clerk-001")
        .submit_application(yiciban_testkit::applications::newborn(key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.decision(), intake::AcceptanceDecision::Accepted);
    submitted.case_id
}

pub async fn plan(stack: &Stack, case_id: &str) -> Option<routing::Plan> {
    stack
        .routing(Role::Supervisor, "sup-1", None)
        .get_plan(routing::GetPlanRequest { case_id: case_id.into() })
        .await
        .ok()
        .and_then(|r| r.into_inner().plan)
}

pub async fn case_tasks(stack: &Stack, case_id: &str) -> Vec<tasks::Task> {
    stack
        .tasks(Role::Supervisor, "sup-1", None)
        .list_case_tasks(tasks::ListCaseTasksRequest { case_id: case_id.into() })
        .await
        .map(|r| r.into_inner().tasks)
        .unwrap_or_default()
}

/// The agent of the task's department claims it.
pub async fn claim(stack: &Stack, task: &tasks::Task) {
    stack
        .agent(&task.department)
        .claim_task(tasks::ClaimTaskRequest {
            idempotency_key: format!("claim-{}", task.task_id),
            task_id: task.task_id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
}

/// The agent of the task's department claims and approves it.
pub async fn approve(stack: &Stack, task: &tasks::Task) {
    if task.state == common::TaskState::Pending as i32 {
        claim(stack, task).await;
    }
    stack
        .agent(&task.department)
        .approve_task(tasks::ApproveTaskRequest {
            idempotency_key: format!("approve-{}", task.task_id),
            task_id: task.task_id.clone(),
            expected_version: 0,
            result: Some(yiciban_testkit::applications::result_document(task)),
            comment: String::new(),
        })
        .await
        .unwrap();
}

/// Approves every task as it appears until the case is handed to issuance;
/// returns the steps in the order their tasks were approved, in rounds.
pub async fn approve_everything(stack: &Stack, case_id: &str) -> Vec<Vec<String>> {
    let mut rounds = Vec::new();
    loop {
        // A round is every step routing has dispatched and not seen decided,
        // once each of them has its open task (the tasks of one wave are
        // created one call after another, so polling the tasks alone could
        // catch a wave half created).
        let open: Vec<tasks::Task> = eventually("open tasks or the hand-over", WAIT, || async {
            let plan = plan(stack, case_id).await?;
            if plan.handed_to_issuance {
                return Some(Vec::new());
            }
            let dispatched: Vec<&str> = plan
                .steps
                .iter()
                .filter(|s| s.state == routing::StepState::Dispatched as i32)
                .map(|s| s.step_id.as_str())
                .collect();
            let open: Vec<_> = case_tasks(stack, case_id)
                .await
                .into_iter()
                .filter(|t| {
                    t.state == common::TaskState::Pending as i32 || t.state == common::TaskState::InProgress as i32
                })
                .collect();
            let complete = !dispatched.is_empty()
                && dispatched.len() == open.len()
                && dispatched.iter().all(|d| open.iter().any(|t| t.step_id == *d));
            complete.then_some(open)
        })
        .await;
        if open.is_empty() {
            return rounds;
        }
        let mut round: Vec<String> = open.iter().map(|t| t.step_id.clone()).collect();
        round.sort();
        for t in &open {
            approve(stack, t).await;
        }
        rounds.push(round);
    }
}

#[tokio::test]
async fn a_newborn_case_runs_its_parallel_and_dependent_steps_to_issuance() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id = submit(&stack, "nb-1").await;
    let planned = eventually("the case is planned", WAIT, || plan(&stack, &case_id)).await;
    // The clock keeps the promise made at acceptance: 5 working days from
    // Tuesday 29 September, across the National Day holiday.
    assert_eq!(planned.promised_working_days, 5);
    assert_eq!(planned.promised_by, Some(common::Date { year: 2026, month: 10, day: 12 }));
    let graph: Vec<(String, Vec<String>)> =
        planned.steps.iter().map(|s| (s.step_id.clone(), s.depends_on.clone())).collect();

    let rounds = approve_everything(&stack, &case_id).await;
    // Every round holds exactly the steps whose prerequisites were approved
    // in earlier rounds: the first is every step without one, in parallel.
    let mut done: Vec<String> = Vec::new();
    for round in &rounds {
        for step in round {
            let deps = &graph.iter().find(|(s, _)| s == step).unwrap().1;
            assert!(deps.iter().all(|d| done.contains(d)), "{step} ran before {deps:?}");
        }
        done.extend(round.iter().cloned());
    }
    let first: Vec<&String> = graph.iter().filter(|(_, d)| d.is_empty()).map(|(s, _)| s).collect();
    assert_eq!(rounds[0].iter().collect::<Vec<_>>(), first);
    assert!(first.len() >= 2, "the newborn package starts with parallel steps");
    assert!(rounds.len() >= 3, "and has dependent ones: {rounds:?}");

    let plan = plan(&stack, &case_id).await.unwrap();
    assert!(plan.handed_to_issuance);
    assert_eq!(plan.outcome, common::CaseOutcome::Approved as i32);
    // One task per step, each approved, none twice.
    let tasks = case_tasks(&stack, &case_id).await;
    assert_eq!(tasks.len(), plan.steps.len());
    assert!(tasks.iter().all(|t| t.state == common::TaskState::Approved as i32));
    let handed = stack.count("SELECT count(*) FROM routing.events WHERE event_type = 'CaseHandedToIssuance'").await;
    assert_eq!(handed, 1);

    // The officer's read model followed the whole way.
    let summary = eventually("tracking shows the hand-over", WAIT, || async {
        stack
            .tracking(Role::Supervisor, "sup-1", None)
            .get_case_summary(yiciban_proto::tracking::v1::GetCaseSummaryRequest { case_id: case_id.clone() })
            .await
            .ok()
            .and_then(|r| r.into_inner().summary)
            .filter(|s| s.outcome == common::CaseOutcome::Approved as i32 && s.holders.is_empty())
    })
    .await;
    assert_eq!(summary.applicant_display, "王*");
    let timeline = stack
        .tracking(Role::Supervisor, "sup-1", None)
        .get_timeline(yiciban_proto::tracking::v1::GetTimelineRequest {
            case_id: case_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let created = timeline.entries.iter().filter(|e| e.event_type == "TaskCreated").count();
    assert_eq!(created, plan.steps.len(), "every task on the one timeline");

    // The journey shows in the metrics: commands by RPC and code, the
    // relays' publications and lag, the hand-off consumers' messages (labels
    // in the exporter's order: sorted by name, `le` last).
    let metrics = yiciban_metrics::render();
    for expected in [
        "yiciban_grpc_requests_total{code=\"Ok\",method=\"ApproveTask\",service=\"yiciban.tasks.v1.TaskService\"}",
        "yiciban_grpc_request_duration_seconds_bucket{method=\"PlanCase\",service=\"yiciban.routing.v1.RoutingService\",le=\"+Inf\"}",
        "yiciban_relay_published_total{source=\"tasks\"}",
        "yiciban_relay_lag_seconds_count{source=\"routing\"}",
        "yiciban_consumer_messages_total{consumer=\"tasks-to-routing\",outcome=\"applied\"}",
        "yiciban_consumer_pending{consumer=\"routing-handoff\"}",
    ] {
        assert!(metrics.contains(expected), "{expected} missing from\n{metrics}");
    }
}

#[tokio::test]
async fn a_supplement_stops_the_clock_until_it_arrives_and_a_confirmed_denial_cancels_the_rest() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id = submit(&stack, "nb-2").await;
    let first: Vec<tasks::Task> = eventually("the first tasks", WAIT, || async {
        let t = case_tasks(&stack, &case_id).await;
        (t.len() >= 2).then_some(t)
    })
    .await;

    // The first department asks for one more document (一次性告知).
    let asking = &first[0];
    claim(&stack, asking).await;
    let material_id = asking.material_ids.first().cloned().unwrap_or_else(|| "m_birth_cert_form".into());
    let returned = stack
        .agent(&asking.department)
        .return_for_supplement(tasks::ReturnForSupplementRequest {
            idempotency_key: "return-1".into(),
            task_id: asking.task_id.clone(),
            expected_version: 0,
            items: vec![common::SupplementItem {
                material_id: material_id.clone(),
                field_path: String::new(),
                requirement: "请提供清晰的原件扫描件".into(),
            }],
            due_by: None,
        })
        .await
        .unwrap()
        .into_inner();
    eventually("the case clock stops", WAIT, || async {
        plan(&stack, &case_id).await.filter(|p| p.clock_stopped).map(|_| ())
    })
    .await;

    // Two days later the applicant brings it to the window.
    stack.clock.set("2026-10-09T02:00:00Z".parse().unwrap());
    stack
        .intake(Role::Clerk, "clerk-001")
        .supplement_materials(intake::SupplementMaterialsRequest {
            idempotency_key: "supplement-1".into(),
            case_id: case_id.clone(),
            expected_version: 0,
            materials: vec![common::MaterialRef {
                material_id: material_id.clone(),
                file_name: "scan.pdf".into(),
                content_type: "application/pdf".into(),
                sha256_hex: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".into(),
                size_bytes: 2048,
                storage_key: "uploads/scan.pdf".into(),
            }],
            supplement_request_id: returned.supplement_request_id.clone(),
        })
        .await
        .unwrap();
    let resumed = eventually("the task and the case clock run again", WAIT, || async {
        let p = plan(&stack, &case_id).await?;
        let t = case_tasks(&stack, &case_id).await.into_iter().find(|t| t.task_id == asking.task_id)?;
        (!p.clock_stopped && t.state == common::TaskState::InProgress as i32).then_some(p)
    })
    .await;
    assert!(!resumed.clock_stopped);

    // The other department denies; the lead department confirms.
    let denying = &first[1];
    claim(&stack, denying).await;
    stack
        .agent(&denying.department)
        .deny_task(tasks::DenyTaskRequest {
            idempotency_key: "deny-1".into(),
            task_id: denying.task_id.clone(),
            expected_version: 0,
            reason: "出生医学证明信息与医院记录不符".into(),
            legal_basis: "《母婴保健法》第二十三条".into(),
            remedy_notice: String::new(),
        })
        .await
        .unwrap();
    let pending = eventually("the denial awaits the lead department", WAIT, || async {
        plan(&stack, &case_id).await.filter(|p| p.denial_pending_confirmation)
    })
    .await;
    stack
        .routing(Role::Agent, "agent-lead-1", Some(&pending.lead_department))
        .confirm_denial(routing::ConfirmDenialRequest {
            idempotency_key: "confirm-1".into(),
            case_id: case_id.clone(),
            expected_version: 0,
            explanation: "经审查不予许可。如不服，可于六十日内申请行政复议或六个月内提起行政诉讼。".into(),
        })
        .await
        .unwrap();
    let closed = eventually("the open tasks are cancelled", WAIT, || async {
        let t = case_tasks(&stack, &case_id).await;
        t.iter()
            .all(|t| t.state != common::TaskState::Pending as i32 && t.state != common::TaskState::InProgress as i32)
            .then_some(t)
    })
    .await;
    let asked = closed.iter().find(|t| t.task_id == asking.task_id).unwrap();
    assert_eq!(asked.state, common::TaskState::Cancelled as i32);
    let plan = plan(&stack, &case_id).await.unwrap();
    assert_eq!(plan.outcome, common::CaseOutcome::Denied as i32);
    assert!(plan.handed_to_issuance);
}

#[tokio::test]
async fn an_overdue_task_escalates_once_to_the_lead_department_and_the_case_officer() {
    use prost::Message as _;

    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id = submit(&stack, "nb-3").await;
    let officer = stack
        .intake(Role::Clerk, "clerk-001")
        .get_case(intake::GetCaseRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap()
        .officer_id;
    assert!(!officer.is_empty(), "intake assigns an officer at acceptance");
    eventually("the first tasks", WAIT, || async { (case_tasks(&stack, &case_id).await.len() >= 2).then_some(()) })
        .await;

    // Three weeks later nothing was done: every open task is overdue.
    stack.clock.set("2026-10-20T02:00:00Z".parse().unwrap());
    let sla = stack.tasks_state.clone().unwrap();
    sla.sweep_sla().await.unwrap();
    sla.sweep_sla().await.unwrap();
    let open = case_tasks(&stack, &case_id).await;
    assert!(open.iter().all(|t| t.warning == common::WarningLevel::Red as i32 && t.escalated));
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM tasks.events WHERE event_type = 'TaskEscalated' ORDER BY position")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), open.len(), "one escalation per task, however often the watcher sweeps");
    let planned = plan(&stack, &case_id).await.unwrap();
    for row in rows {
        let e = yiciban_proto::events::v1::TaskEscalated::decode(row.as_slice()).unwrap();
        assert_eq!(e.lead_department, planned.lead_department);
        assert_eq!(e.officer_id, officer);
        assert!(e.overdue_working_days >= 1);
    }
}

#[tokio::test]
async fn a_commitment_is_post_checked_by_its_department_and_an_untrue_one_revokes_the_approval() {
    use yiciban_testkit::applications::{commitment, restaurant};

    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let mut application = restaurant("cy-1", &["m_fire_plan"]);
    application.commitments = vec![commitment("m_fire_plan")];
    let submitted = stack.intake(Role::Clerk, "clerk-001").submit_application(application).await.unwrap().into_inner();
    let case_id = submitted.case_id;

    // The first round (licence check, health exams), then the fire safety
    // inspection among the dependents: it carries the commitment. The other
    // dependents stay open, so the case is still running when the approval
    // is revoked.
    let pending = |department: Option<&'static str>| {
        let (stack, case_id) = (&stack, case_id.clone());
        async move {
            case_tasks(stack, &case_id)
                .await
                .into_iter()
                .filter(|t| t.state == common::TaskState::Pending as i32)
                .filter(|t| department.is_none_or(|d| t.department == d))
                .collect::<Vec<_>>()
        }
    };
    let first = eventually("the first round", WAIT, || async {
        let t = pending(None).await;
        (t.len() >= 2).then_some(t)
    })
    .await;
    for t in &first {
        approve(&stack, t).await;
    }
    let fire = eventually("the fire safety inspection", WAIT, || async { pending(Some("fire")).await.pop() }).await;
    assert_eq!(fire.commitments.len(), 1);
    assert_eq!(fire.commitments[0].material_id, "m_fire_plan");
    approve(&stack, &fire).await;
    let approved = case_tasks(&stack, &case_id).await.into_iter().find(|t| t.task_id == fire.task_id).unwrap();
    assert_eq!(approved.post_check, tasks::PostCheckState::Pending as i32);

    // The inspection finds the commitment untrue and revokes the approval.
    let checked = stack
        .agent("fire")
        .record_post_check(tasks::RecordPostCheckRequest {
            idempotency_key: "post-check-1".into(),
            task_id: fire.task_id.clone(),
            expected_version: 0,
            passed: false,
            material_ids: vec![],
            finding: "现场无灭火和应急疏散预案，承诺不实".into(),
            checked_on: None,
            revoke_approval: true,
            legal_basis: "《行政许可法》第六十九条".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(checked.revoked);
    let pending = eventually("routing counts the revoked step as denied", WAIT, || async {
        plan(&stack, &case_id).await.filter(|p| p.denial_pending_confirmation)
    })
    .await;
    let step = pending.steps.iter().find(|s| s.task_id == fire.task_id).unwrap();
    assert_eq!(step.state, routing::StepState::Denied as i32);
    assert_eq!(step.denial_legal_basis, "《行政许可法》第六十九条");
}

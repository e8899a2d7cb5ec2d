//! Planning, outcomes, the case clock, denials and refusals over gRPC.

use tonic::Code;
use uuid::Uuid;
use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::routing::v1 as pb;

use crate::helpers::{TestApp, date, plan_restaurant, spawn_app};

fn step<'a>(plan: &'a pb::Plan, id: &str) -> &'a pb::PlanStep {
    plan.steps.iter().find(|s| s.step_id == id).unwrap()
}

fn dispatched(plan: &pb::Plan) -> Vec<&str> {
    plan.steps.iter().filter(|s| s.state == pb::StepState::Dispatched as i32).map(|s| s.step_id.as_str()).collect()
}

async fn get(app: &TestApp, case_id: &str) -> pb::Plan {
    app.as_(Role::Supervisor, "sup-1", None)
        .get_plan(pb::GetPlanRequest { case_id: case_id.into() })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap()
}

fn document(item: &str, dept: &str) -> common::ResultDocument {
    common::ResultDocument {
        kind: common::ResultDocumentKind::Licence as i32,
        name: format!("{item} 许可证"),
        number: format!("NO-{item}"),
        issuing_department: dept.into(),
        item_code: item.into(),
        physical: true,
        ..Default::default()
    }
}

fn outcome(case_id: &str, task_id: &str, kind: pb::TaskOutcome) -> pb::RecordTaskOutcomeRequest {
    pb::RecordTaskOutcomeRequest {
        idempotency_key: format!("outcome-{}", Uuid::now_v7()),
        case_id: case_id.into(),
        task_id: task_id.into(),
        outcome: kind as i32,
        ..Default::default()
    }
}

async fn approve(app: &TestApp, case_id: &str, plan: &pb::Plan, step_id: &str) -> pb::RecordTaskOutcomeResponse {
    let s = step(plan, step_id);
    let mut req = outcome(case_id, &s.task_id, pb::TaskOutcome::Approved);
    req.result = Some(document(&s.item_code, &s.department));
    app.tasks_service().record_task_outcome(req).await.unwrap().into_inner()
}

#[tokio::test]
async fn a_case_runs_its_steps_in_parallel_and_in_order_until_it_is_handed_to_issuance() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    let mut routing = app.service();
    let plan = routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap().into_inner().plan.unwrap();
    assert_eq!(dispatched(&plan), ["s1", "s5"], "the steps without prerequisites go out at once");
    assert_eq!(plan.lead_department, "samr");
    // The critical path (s1 then the longest dependent) is 10 working days:
    // from Monday 28 September across the National Day holiday (1–7 October
    // off, Saturday 10 October worked) that ends on Friday 16 October.
    assert_eq!(plan.promised_working_days, 10);
    assert_eq!(plan.promised_by, Some(date(2026, 10, 16)));

    let r = approve(&app, &case_id, &plan, "s1").await;
    assert_eq!(r.dispatched_step_ids, ["s2", "s3", "s4", "s6"], "the dependents go out together");
    let plan = get(&app, &case_id).await;
    for s in ["s2", "s3", "s4", "s5", "s6"] {
        assert!(!step(&plan, s).task_id.is_empty());
    }
    for s in ["s2", "s3", "s4", "s5"] {
        let r = approve(&app, &case_id, &plan, s).await;
        assert!(!r.case_decided);
    }
    let last = approve(&app, &case_id, &plan, "s6").await;
    assert!(last.case_decided);
    assert_eq!(last.outcome, common::CaseOutcome::Approved as i32);
    let plan = get(&app, &case_id).await;
    assert!(plan.handed_to_issuance);
    assert!(plan.decided_at.is_some());
    assert!(plan.steps.iter().all(|s| s.state == pb::StepState::Approved as i32));
}

#[tokio::test]
async fn a_return_for_supplement_stops_the_case_clock_and_the_resumption_moves_the_promise() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    let mut routing = app.service();
    let plan = routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap().into_inner().plan.unwrap();
    let s5 = step(&plan, "s5").task_id.clone();

    // Tuesday 29 September: the health-exam department asks for more.
    app.clock.set("2026-09-29T02:00:00Z".parse().unwrap());
    let mut ret = outcome(&case_id, &s5, pb::TaskOutcome::ReturnedForSupplement);
    ret.supplement_request_id = "sr-1".into();
    ret.missing = vec!["m_health_cert".into()];
    app.tasks_service().record_task_outcome(ret).await.unwrap();
    let stopped = get(&app, &case_id).await;
    assert!(stopped.clock_stopped);
    assert!(step(&stopped, "s5").waiting_for_supplement);

    // The applicant answers on Monday 12 October: the working days between
    // (the 30th, the 9th, the make-up Saturday the 10th) do not count.
    app.clock.set("2026-10-12T02:00:00Z".parse().unwrap());
    let mut resume = outcome(&case_id, &s5, pb::TaskOutcome::Resumed);
    resume.supplement_request_id = "sr-1".into();
    app.tasks_service().record_task_outcome(resume).await.unwrap();
    let resumed = get(&app, &case_id).await;
    assert!(!resumed.clock_stopped);
    assert!(!step(&resumed, "s5").waiting_for_supplement);
    let before = stopped.promised_by.unwrap();
    let after = resumed.promised_by.unwrap();
    assert!(
        (after.year, after.month, after.day) > (before.year, before.month, before.day),
        "{after:?} after {before:?}"
    );
    // One working day was used before the stop (the 29th), none after yet.
    assert_eq!(resumed.working_days_used, 1);
}

#[tokio::test]
async fn a_denial_is_confirmed_only_by_the_lead_department_and_cancels_the_open_steps() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    let mut routing = app.service();
    let plan = routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap().into_inner().plan.unwrap();
    approve(&app, &case_id, &plan, "s1").await;
    let plan = get(&app, &case_id).await;
    let mut deny = outcome(&case_id, &step(&plan, "s4").task_id, pb::TaskOutcome::Denied);
    deny.reason = "经营场所不符合消防安全要求".into();
    deny.legal_basis = "《消防法》第十五条".into();
    app.tasks_service().record_task_outcome(deny).await.unwrap();
    assert!(get(&app, &case_id).await.denial_pending_confirmation);

    let confirm = |key: &str| pb::ConfirmDenialRequest {
        idempotency_key: key.into(),
        case_id: case_id.clone(),
        expected_version: 0,
        explanation: "因消防安全检查不合格，决定不予许可。如不服，可于六十日内申请行政复议。".into(),
    };
    let err = app.as_(Role::Agent, "agent-fire-1", Some("fire")).confirm_denial(confirm("c-1")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = app.as_(Role::Clerk, "clerk-1", None).confirm_denial(confirm("c-2")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let done = app.as_(Role::Agent, "agent-samr-1", Some("samr")).confirm_denial(confirm("c-3")).await.unwrap();
    assert_eq!(done.into_inner().outcome, common::CaseOutcome::Denied as i32);
    let plan = get(&app, &case_id).await;
    assert_eq!(plan.outcome, common::CaseOutcome::Denied as i32);
    assert!(plan.handed_to_issuance);
    let cancelled: Vec<_> =
        plan.steps.iter().filter(|s| s.state == pb::StepState::Cancelled as i32).map(|s| s.step_id.as_str()).collect();
    assert_eq!(cancelled, ["s2", "s3", "s5", "s6"]);
    assert_eq!(step(&plan, "s4").denial_legal_basis, "《消防法》第十五条");
}

#[tokio::test]
async fn bad_requests_are_refused_with_every_problem_and_change_nothing() {
    let app = spawn_app().await;
    let mut routing = app.service();
    let mut bad = plan_restaurant("not-a-uuid", "bad-1");
    bad.case_number = "20260928-1".into();
    bad.item_codes.push("NOPE-01".into());
    bad.accepted_on = None;
    let err = routing.plan_case(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields: Vec<String> = yiciban_platform::status::violations_of(&err).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["case_id", "case_number", "accepted_on", "item_codes[6]"]);
    let mut unknown = plan_restaurant(&Uuid::now_v7().to_string(), "bad-2");
    unknown.package_id = "open-casino".into();
    let err = routing.plan_case(unknown).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("correct every listed field"));
    assert_eq!(app.event_count().await, 0);

    // Only services plan; a clerk is refused before anything is read.
    let err = app
        .as_(Role::Clerk, "clerk-1", None)
        .plan_case(plan_restaurant(&Uuid::now_v7().to_string(), "k"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let case_id = Uuid::now_v7().to_string();
    routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap();
    let count = app.event_count().await;
    // An outcome of a task the plan never dispatched, an outcome without its
    // facts, a plan for a case planned already: refused, nothing recorded.
    let err = app
        .tasks_service()
        .record_task_outcome(outcome(&case_id, &Uuid::now_v7().to_string(), pb::TaskOutcome::Denied))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "reason and legal basis are missing: {err:?}");
    let mut approved = outcome(&case_id, &Uuid::now_v7().to_string(), pb::TaskOutcome::Approved);
    approved.result = Some(document("DEMO-CY-01", "samr"));
    let err = app.tasks_service().record_task_outcome(approved).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = routing.plan_case(plan_restaurant(&case_id, "plan-2")).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = app
        .tasks_service()
        .record_task_outcome(outcome(
            &Uuid::now_v7().to_string(),
            &Uuid::now_v7().to_string(),
            pb::TaskOutcome::Resumed,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "no supplement request named: {err:?}");
    assert_eq!(app.event_count().await, count);
}

#[tokio::test]
async fn a_repeated_command_returns_its_first_answer_and_a_reused_key_is_refused() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    let mut routing = app.service();
    let first = routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap().into_inner();
    let count = app.event_count().await;
    let again = routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap().into_inner();
    assert_eq!(first, again);
    assert_eq!(app.event_count().await, count);
    let mut other = plan_restaurant(&Uuid::now_v7().to_string(), "plan-1");
    other.case_number = "YCB-20260928-000002".into();
    let err = routing.plan_case(other).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn agents_read_only_plans_their_department_works_on() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    app.service().plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap();
    let read = |dept: &'static str, case_id: String| {
        let mut c = app.as_(Role::Agent, &format!("agent-{dept}"), Some(dept));
        async move { c.get_plan(pb::GetPlanRequest { case_id }).await }
    };
    assert!(read("samr", case_id.clone()).await.is_ok(), "s1 is dispatched to samr");
    let random = Uuid::now_v7().to_string();
    let hidden = read("fire", case_id.clone()).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "s4 waits for s1: fire takes no part yet");
    let missing = read("fire", random.clone()).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(hidden.message().replace(&case_id, &random), missing.message(), "worded exactly alike");
    assert_eq!(missing.message(), format!("plan of case {random} not found"));
    assert!(hidden.metadata().get(yiciban_platform::access::REFUSAL_KEY).is_none(), "the marker never leaves");
    let err =
        app.as_(Role::Supervisor, "sup", None).get_plan(pb::GetPlanRequest { case_id: random }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn an_agent_taking_no_part_cannot_confirm_a_denial_nor_learn_that_the_case_exists() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    app.service().plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap();
    let before = app.event_count().await;
    let confirm = |case_id: &str| pb::ConfirmDenialRequest {
        idempotency_key: "c-1".into(),
        case_id: case_id.into(),
        expected_version: 0,
        explanation: "因消防安全检查不合格，决定不予许可。如不服，可于六十日内申请行政复议。".into(),
    };
    let mut fire = app.as_(Role::Agent, "agent-fire-1", Some("fire"));
    let hidden = fire.confirm_denial(confirm(&case_id)).await.unwrap_err();
    let random = Uuid::now_v7().to_string();
    let missing = fire.confirm_denial(confirm(&random)).await.unwrap_err();
    assert_eq!((hidden.code(), missing.code()), (Code::NotFound, Code::NotFound));
    assert_eq!(hidden.message().replace(&case_id, &random), missing.message());
    assert_eq!(app.event_count().await, before, "a refused command records nothing");
}

#[tokio::test]
async fn officers_are_refused_when_their_assignment_cannot_be_checked() {
    // No intake service is configured in these tests: an officer's read
    // fails closed instead of showing a plan nobody checked.
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    app.service().plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap();
    let err = app.as_(Role::Officer, "officer-001", None).get_plan(pb::GetPlanRequest { case_id }).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("YICIBAN_INTAKE_URL"), "{}", err.message());
    let random = Uuid::now_v7().to_string();
    let err =
        app.as_(Role::Officer, "officer-001", None).get_plan(pb::GetPlanRequest { case_id: random }).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "the same answer whether the case exists or not");
}

#[tokio::test]
async fn a_withdrawn_case_cancels_its_open_tasks() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    let mut routing = app.service();
    routing.plan_case(plan_restaurant(&case_id, "plan-1")).await.unwrap();
    let end = pb::EndPlanRequest {
        idempotency_key: "end-1".into(),
        case_id: case_id.clone(),
        reason: common::TaskCancelReason::CaseWithdrawn as i32,
    };
    let ended = routing.end_plan(end.clone()).await.unwrap().into_inner();
    assert_eq!(ended.cancelled_task_ids.len(), 2, "s1 and s5 were open");
    let plan = get(&app, &case_id).await;
    assert!(plan.steps.iter().all(|s| s.state != pb::StepState::Dispatched as i32));
    let mut denied = end;
    denied.idempotency_key = "end-2".into();
    denied.reason = common::TaskCancelReason::CaseDenied as i32;
    assert_eq!(routing.end_plan(denied).await.unwrap_err().code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_promise_made_at_acceptance_binds_the_case_clock() {
    let app = spawn_app().await;
    let case_id = Uuid::now_v7().to_string();
    let mut request = plan_restaurant(&case_id, "plan-1");
    request.promised_working_days = 13;
    let plan = app.service().plan_case(request).await.unwrap().into_inner().plan.unwrap();
    assert_eq!(plan.promised_working_days, 13);
    // 13 working days from Monday 28 September: 29, 30 September, 8, 9, 10
    // (make-up Saturday), 12–16, 19, 20, 21 October.
    assert_eq!(plan.promised_by, Some(date(2026, 10, 21)));
}

//! Scope over gRPC: an officer acts only on the cases assigned to them, an
//! agent only on its department's rectifications, an applicant only on its
//! own cases — each refused exactly as a case that does not exist is
//! answered, and nothing recorded; a rating names only a department that
//! handled the case; a company's results go only to its registered contact
//! or an agent with a power of attorney.

use tonic::{Code, Status};
use uuid::Uuid;
use yiciban_domain::issuance::DeliveryMethod;
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as pb;

use crate::helpers::*;

/// The status as a client sees it: code and message.
fn seen(status: Status) -> (Code, String) {
    (status.code(), status.message().to_owned())
}

fn issue_early(case_id: Uuid, task: Uuid) -> pb::IssueEarlyRequest {
    pb::IssueEarlyRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        task_ids: vec![task.to_string()],
        reason: "申请人急需营业执照办理开户".into(),
        method: common::DeliveryMethod::Unspecified as i32,
    }
}

fn return_visit(case_id: Uuid, visit_id: Uuid) -> pb::RecordReturnVisitRequest {
    pb::RecordReturnVisitRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        visit_id: visit_id.to_string(),
        method: common::ReturnVisitMethod::Phone as i32,
        reached: true,
        score: 5,
        note: "满意".into(),
        visited_at: None,
    }
}

fn verify(case_id: Uuid, id: &str) -> pb::VerifyRectificationRequest {
    pb::VerifyRectificationRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        rectification_id: id.into(),
        finding: common::RectificationFinding::JustifiedSimple as i32,
        note: "经核实属实".into(),
        due_by: None,
    }
}

fn explain(case_id: Uuid, id: &str) -> pb::ExplainRectificationRequest {
    pb::ExplainRectificationRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        rectification_id: id.into(),
        explanation: "依法不予办理".into(),
        legal_basis: "《行政许可法》第三十八条".into(),
    }
}

#[tokio::test]
async fn another_officer_finds_no_such_case_and_nothing_is_recorded() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::Mail);
    let task = app.approved_task(case_id, &licence("JY-E1"));
    let random = Uuid::now_v7();
    let random_task = app.approved_task(random, &licence("JY-E2"));
    let other = app.officer("officer-002");

    let refused = seen(other.clone().issue_early(issue_early(case_id, task)).await.unwrap_err());
    let missing = seen(other.clone().issue_early(issue_early(random, random_task)).await.unwrap_err());
    assert_eq!(refused.0, Code::NotFound, "{refused:?}");
    assert_eq!(refused.1, format!("case {case_id} not found"));
    assert_eq!(missing.1, format!("case {random} not found"), "worded alike");
    assert_eq!(app.version(case_id).await, 0, "nothing issued");

    let refused =
        seen(other.clone().get_issuance(pb::GetIssuanceRequest { case_id: case_id.to_string() }).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    let missing =
        seen(other.clone().get_issuance(pb::GetIssuanceRequest { case_id: random.to_string() }).await.unwrap_err());
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));

    // The case's own officer issues early and reads it.
    let own = app.officer(OFFICER);
    let issued = own.clone().issue_early(issue_early(case_id, task)).await.unwrap().into_inner();
    assert_eq!(issued.batch_number, 1);
    assert!(own.clone().get_issuance(pb::GetIssuanceRequest { case_id: case_id.to_string() }).await.is_ok());
    let version = app.version(case_id).await;

    let visit = Uuid::now_v7();
    let refused = seen(other.clone().record_return_visit(return_visit(case_id, visit)).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    let missing = seen(other.clone().record_return_visit(return_visit(random, visit)).await.unwrap_err());
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));
    assert_eq!(app.version(case_id).await, version, "nothing recorded");
}

#[tokio::test]
async fn an_agent_of_another_department_finds_no_such_case() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let rated = app.applicant(APPLICANT_ID).rate_case(rate_request(case_id, 1, "跑了两次")).await.unwrap().into_inner();
    let id = rated.rectification_id;
    let version = app.version(case_id).await;
    let random = Uuid::now_v7();

    let fire = app.agent("fire");
    let refused = seen(fire.clone().verify_rectification(verify(case_id, &id)).await.unwrap_err());
    let missing = seen(fire.clone().verify_rectification(verify(random, &id)).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));
    let refused = seen(fire.clone().explain_rectification(explain(case_id, &id)).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    // Guessing rectification ids tells samr's agent nothing either.
    let guessed = Uuid::now_v7().to_string();
    let refused = seen(app.agent("samr").verify_rectification(verify(case_id, &guessed)).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    assert_eq!(app.version(case_id).await, version, "nothing recorded");

    app.agent("samr").verify_rectification(verify(case_id, &id)).await.unwrap();
    assert_eq!(app.version(case_id).await, version + 1);
}

#[tokio::test]
async fn another_applicant_finds_no_such_case() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let version = app.version(case_id).await;
    let random = Uuid::now_v7();
    let stranger = app.applicant(STRANGER_ID);
    let refused = seen(stranger.clone().rate_case(rate_request(case_id, 1, "差")).await.unwrap_err());
    let missing = seen(stranger.clone().rate_case(rate_request(random, 1, "差")).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));
    let missing =
        seen(stranger.clone().get_issuance(pb::GetIssuanceRequest { case_id: random.to_string() }).await.unwrap_err());
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));
    assert_eq!(app.version(case_id).await, version, "nothing recorded");
}

#[tokio::test]
async fn a_rating_names_only_a_department_that_handled_the_case() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let version = app.version(case_id).await;
    let mut rating = rate_request(case_id, 1, "消防窗口态度差");
    rating.department = "fire".into();
    let err = app.applicant(APPLICANT_ID).rate_case(rating.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(app.version(case_id).await, version, "nothing recorded");
    app.directory.put_department(case_id, "fire");
    let rated = app.applicant(APPLICANT_ID).rate_case(rating).await.unwrap().into_inner();
    assert!(!rated.rectification_id.is_empty());
    assert_eq!(app.get(case_id).await.rectifications[0].responsible_department, "fire");
}

/// A company case prepared for window pick-up and notified.
async fn company_ready(app: &TestApp, contact_id: Option<&str>) -> Uuid {
    let case_id = app.new_company_case(contact_id);
    app.prepare(case_id, vec![licence(&format!("JY-{case_id}"))]).await;
    app.clerk().notify_pickup(notify_request(case_id, 1)).await.unwrap();
    case_id
}

fn contact(id_number: &str) -> pb::CollectorIdentity {
    pb::CollectorIdentity {
        kind: common::CollectorKind::Applicant as i32,
        name: "赵经办".into(),
        id_number: id_number.into(),
        power_of_attorney: None,
    }
}

#[tokio::test]
async fn a_company_pick_up_by_a_name_and_an_unrecorded_id_number_is_refused() {
    let app = spawn_app().await;
    // No contact ID number on file: the contact's name alone hands nothing out.
    let case_id = company_ready(&app, None).await;
    let before = app.version(case_id).await;
    let err = app.clerk().confirm_pickup(pickup_request(case_id, 1, contact(STRANGER_ID))).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("授权委托书"), "tells the clerk what would do: {}", err.message());
    // A contact ID number on file, and the collector shows another.
    let recorded = company_ready(&app, Some(APPLICANT_ID)).await;
    let err = app.clerk().confirm_pickup(pickup_request(recorded, 1, contact(STRANGER_ID))).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(app.version(case_id).await, before, "nothing handed out");
    assert!(!app.get(recorded).await.closed, "the case stays open");
}

#[tokio::test]
async fn a_company_collects_through_its_registered_contact_or_an_agent_with_a_power_of_attorney() {
    let app = spawn_app().await;
    let by_contact = company_ready(&app, Some(APPLICANT_ID)).await;
    let done = app.clerk().confirm_pickup(pickup_request(by_contact, 1, contact(APPLICANT_ID))).await.unwrap();
    assert!(done.into_inner().case_closed);

    let by_agent = company_ready(&app, None).await;
    let agent = collector(common::CollectorKind::Agent, STRANGER_ID, true);
    let done = app.clerk().confirm_pickup(pickup_request(by_agent, 1, agent)).await.unwrap();
    assert!(done.into_inner().case_closed);
    let issuance = app.get(by_agent).await;
    assert_eq!(issuance.batches[0].collector_kind, common::CollectorKind::Agent as i32);
}

//! Scope over gRPC: an applicant reads, supplements and withdraws only its
//! own cases; another applicant is answered exactly as for a case that does
//! not exist, and nothing is recorded.

use tonic::{Code, Status};
use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::{MOTHER_ID, material, newborn};
use crate::helpers::{TestApp, spawn_app};

/// Someone else's resident ID number (checksum valid).
const STRANGER_ID: &str = "150203198801011236";

fn seen(status: Status) -> (Code, String) {
    (status.code(), status.message().to_owned())
}

fn supplement(case_id: &str) -> pb::SupplementMaterialsRequest {
    pb::SupplementMaterialsRequest {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        case_id: case_id.into(),
        materials: vec![material("m_birth_cert_form")],
        ..Default::default()
    }
}

fn withdraw(case_id: &str) -> pb::WithdrawApplicationRequest {
    pb::WithdrawApplicationRequest {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        case_id: case_id.into(),
        expected_version: 0,
        reason: "不办了".into(),
    }
}

async fn submitted_online(app: &TestApp) -> String {
    let mother = app.intake_as(&app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID)));
    let mut req = newborn("own-1");
    req.channel = common::Channel::Online as i32;
    mother.clone().submit_application(req).await.unwrap().into_inner().case_id
}

#[tokio::test]
async fn another_applicant_finds_no_such_case_and_changes_nothing() {
    let app = spawn_app().await;
    let case_id = submitted_online(&app).await;
    let before = app.event_count().await;
    let random = uuid::Uuid::now_v7().to_string();
    let stranger = app.intake_as(&app.token(Role::Applicant, "citizen-9", None, Some(STRANGER_ID)));

    let refused = seen(
        stranger
            .clone()
            .get_case(pb::GetCaseRequest { case_id: case_id.clone(), ..Default::default() })
            .await
            .unwrap_err(),
    );
    let missing = seen(
        stranger
            .clone()
            .get_case(pb::GetCaseRequest { case_id: random.clone(), ..Default::default() })
            .await
            .unwrap_err(),
    );
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));

    let refused = seen(stranger.clone().supplement_materials(supplement(&case_id)).await.unwrap_err());
    let missing = seen(stranger.clone().supplement_materials(supplement(&random)).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));

    let refused = seen(stranger.clone().withdraw_application(withdraw(&case_id)).await.unwrap_err());
    let missing = seen(stranger.clone().withdraw_application(withdraw(&random)).await.unwrap_err());
    assert_eq!(refused, (Code::NotFound, format!("case {case_id} not found")));
    assert_eq!(missing, (Code::NotFound, format!("case {random} not found")));
    assert_eq!(app.event_count().await, before, "nothing recorded");

    // The applicant itself reads its case in clear and withdraws it.
    let mother = app.intake_as(&app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID)));
    let case = mother
        .clone()
        .get_case(pb::GetCaseRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(case.case.unwrap().applicant.unwrap().id_number, MOTHER_ID);
    mother.clone().withdraw_application(withdraw(&case_id)).await.unwrap();
    assert!(app.event_count().await > before);
}

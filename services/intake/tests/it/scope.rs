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

#[tokio::test]
async fn an_applicant_is_recognised_through_the_issuers_userinfo_never_through_a_number_in_its_token() {
    let app = spawn_app().await;
    let case_id = submitted_online(&app).await;
    let get = || pb::GetCaseRequest { case_id: case_id.clone(), ..Default::default() };
    let before = app.event_count().await;

    // The mother's token holds no number; intake asked the issuer's userinfo.
    let token = app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID));
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    assert!(!String::from_utf8(claims).unwrap().contains(MOTHER_ID), "the token carries the number");
    let mother = app.intake_as(&token);
    assert!(mother.clone().get_case(get()).await.is_ok());

    // A token that carries the number itself is refused, whoever it names,
    // without echoing the number.
    let mut carrying = serde_json::Map::new();
    for (name, value) in [
        ("sub", serde_json::json!("citizen-1-sub")),
        ("aud", serde_json::json!("urn:yiciban:intake")),
        ("azp", serde_json::json!("yiciban-casectl")),
        ("preferred_username", serde_json::json!("citizen-1")),
        ("realm_access", serde_json::json!({"roles": ["yiciban-applicant"]})),
        ("scope", serde_json::json!("openid profile yiciban.identity")),
        ("id_number", serde_json::json!(MOTHER_ID)),
    ] {
        carrying.insert(name.into(), value);
    }
    let refused = app.intake_as(&app.issuer().mint(carrying)).get_case(get()).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("carries the claim id_number"), "{:?}", refused.message());
    assert!(!refused.message().contains(MOTHER_ID));

    // An applicant the issuer knows no number for is refused, and told why.
    let unnumbered = app.intake_as(&app.token(Role::Applicant, "citizen-0", None, None));
    let refused = unnumbered.clone().get_case(get()).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("yiciban.identity"), "{:?}", refused.message());

    // The issuer goes down: an applicant not seen before cannot be
    // recognised (UNAVAILABLE, bounded, nothing stored); the mother, whose
    // keyed identity intake holds for her token's lifetime, still can.
    let stranger = app.intake_as(&app.token(Role::Applicant, "citizen-9", None, Some(STRANGER_ID)));
    app.issuer().shutdown();
    let down = stranger.clone().get_case(get()).await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    assert!(down.message().contains("userinfo") && down.message().len() < 400, "{:?}", down.message());
    let mut online = newborn("while-down");
    online.channel = common::Channel::Online as i32;
    let down = stranger.clone().submit_application(online).await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    // A call the access rules refuse an applicant is refused as such,
    // without asking the issuer at all.
    let terminate =
        pb::TerminateCaseRequest { idempotency_key: "t-1".into(), case_id: case_id.clone(), ..Default::default() };
    let refused = stranger.clone().terminate_case(terminate).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(mother.clone().get_case(get()).await.is_ok(), "a recognised applicant goes on");
    assert_eq!(app.event_count().await, before, "nothing stored");
}

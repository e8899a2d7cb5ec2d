//! Ratings and rectifications over gRPC: a bad rating opens a rectification
//! for the responsible department, which is verified, rectified and closed
//! (or explained), seen on the department's NATS subject; one rating per
//! case; applicants rate only their own cases.

use tonic::Code;
use uuid::Uuid;
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::*;

fn verify(case_id: Uuid, id: &str, finding: common::RectificationFinding) -> pb::VerifyRectificationRequest {
    pb::VerifyRectificationRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        rectification_id: id.into(),
        finding: finding as i32,
        note: "经核实，窗口未一次性告知所需材料".into(),
        due_by: None,
    }
}

fn close(case_id: Uuid, id: &str) -> pb::CloseRectificationRequest {
    pb::CloseRectificationRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        rectification_id: id.into(),
        applicant_satisfied: true,
        note: "回访申请人表示认可".into(),
    }
}

#[tokio::test]
async fn a_bad_rating_opens_a_rectification_that_is_verified_rectified_and_closed() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let rated =
        app.applicant(APPLICANT_ID).rate_case(rate_request(case_id, 1, "窗口让我跑了两次")).await.unwrap().into_inner();
    assert!(!rated.rectification_id.is_empty());
    let id = rated.rectification_id.clone();
    let issuance = app.get(case_id).await;
    let r = &issuance.rectifications[0];
    assert_eq!((r.responsible_department.as_str(), r.state), ("samr", pb::RectificationState::Opened as i32));
    // Five working days from Thursday 2026-10-15.
    assert_eq!(r.due_by, Some(pb_date(day(2026, 10, 22))));
    assert_eq!(issuance.ratings[0].channel, common::Channel::Online as i32);

    let err = app
        .agent("fire")
        .verify_rectification(verify(case_id, &id, common::RectificationFinding::JustifiedSimple))
        .await;
    assert_eq!(err.unwrap_err().code(), Code::NotFound, "another department's agent sees no such case");
    app.agent("samr")
        .verify_rectification(verify(case_id, &id, common::RectificationFinding::JustifiedSimple))
        .await
        .unwrap();
    app.agent("samr")
        .record_rectification(pb::RecordRectificationRequest {
            idempotency_key: key(),
            case_id: case_id.to_string(),
            expected_version: 0,
            rectification_id: id.clone(),
            measures: "对窗口人员开展一次性告知培训".into(),
            evidence: vec![file("培训记录.pdf")],
        })
        .await
        .unwrap();
    let err = app.agent("samr").close_rectification(close(case_id, &id)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "supervisors close");
    let closed = app.supervisor().close_rectification(close(case_id, &id)).await.unwrap().into_inner();
    assert!(closed.on_time);
    let issuance = app.get(case_id).await;
    assert_eq!(issuance.rectifications[0].state, pb::RectificationState::Closed as i32);

    let published = eventually("the rectification on samr's subject", std::time::Duration::from_secs(10), || async {
        let p = app.published("samr").await;
        (p.iter().filter(|(_, t)| t.starts_with("Rectification")).count() == 4).then_some(p)
    })
    .await;
    let types: Vec<_> = published.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            // samr leads the case: its preparation and closing too (ADR 0023)
            "IssuancePrepared",
            "CaseClosed",
            "RatingReceived",
            "RectificationOpened",
            "RectificationVerified",
            "RectificationRectified",
            "RectificationClosed"
        ]
    );
    assert!(app.published("fire").await.is_empty(), "another department sees none of it");
}

#[tokio::test]
async fn a_complaint_without_legal_basis_is_explained_and_closed() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let opened = app
        .supervisor()
        .open_rectification(pb::OpenRectificationRequest {
            idempotency_key: key(),
            case_id: case_id.to_string(),
            expected_version: 0,
            complaint: "12345 热线投诉：要求免交场所平面图".into(),
            responsible_department: "fire".into(),
            due_by: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(opened.due_by, Some(pb_date(day(2026, 10, 22))));
    let id = opened.rectification_id;
    app.agent("fire")
        .verify_rectification(verify(case_id, &id, common::RectificationFinding::NoLegalBasis))
        .await
        .unwrap();
    let rectify = pb::RecordRectificationRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        rectification_id: id.clone(),
        measures: "整改".into(),
        evidence: vec![],
    };
    let err = app.agent("fire").record_rectification(rectify).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "no basis: explained, not rectified");
    app.agent("fire")
        .explain_rectification(pb::ExplainRectificationRequest {
            idempotency_key: key(),
            case_id: case_id.to_string(),
            expected_version: 0,
            rectification_id: id.clone(),
            explanation: "场所平面图为法定要件，不能免于提交".into(),
            legal_basis: "《消防法》第十五条".into(),
        })
        .await
        .unwrap();
    app.clock.set(cst("2026-10-23T10:00"));
    let closed = app.supervisor().close_rectification(close(case_id, &id)).await.unwrap().into_inner();
    assert!(!closed.on_time, "closed after the due date");
    let issuance = app.get(case_id).await;
    let r = &issuance.rectifications[0];
    assert_eq!(
        (r.state, r.finding),
        (pb::RectificationState::Closed as i32, common::RectificationFinding::NoLegalBasis as i32)
    );
}

#[tokio::test]
async fn the_same_rating_again_changes_nothing_and_a_second_different_one_is_refused() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let applicant = app.applicant(APPLICANT_ID);
    let first = applicant.clone().rate_case(rate_request(case_id, 5, "")).await.unwrap().into_inner();
    let version = app.version(case_id).await;
    let again = applicant.clone().rate_case(rate_request(case_id, 5, "")).await.unwrap().into_inner();
    assert_eq!(again.rating_id, first.rating_id);
    assert_eq!(app.version(case_id).await, version);
    let err = applicant.clone().rate_case(rate_request(case_id, 2, "其实不满意")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(app.version(case_id).await, version);
    assert_eq!(app.get(case_id).await.ratings.len(), 1);
}

#[tokio::test]
async fn an_applicant_rating_someone_elses_case_finds_no_such_case() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let err = app.applicant(STRANGER_ID).rate_case(rate_request(case_id, 1, "差")).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {case_id} not found").as_str()));
    let err = app
        .applicant(STRANGER_ID)
        .get_issuance(pb::GetIssuanceRequest { case_id: case_id.to_string() })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {case_id} not found").as_str()));
    let mine = app.applicant(APPLICANT_ID).get_issuance(pb::GetIssuanceRequest { case_id: case_id.to_string() }).await;
    assert!(mine.is_ok());
    assert_eq!(app.version(case_id).await, 4, "nothing recorded");
}

#[tokio::test]
async fn a_supervisor_sets_a_malicious_rating_aside_and_its_rectification_closes() {
    let app = spawn_app().await;
    let case_id = app.closed_by_mail().await;
    let rated = app.clerk().rate_case(rate_request(case_id, 1, "无关内容")).await.unwrap().into_inner();
    let review = pb::ReviewRatingRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        rating_id: rated.rating_id.clone(),
        reason: common::InvalidRatingReason::Malicious as i32,
        note: "评价内容与办件无关".into(),
    };
    let err = app.clerk().review_rating(review.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let reviewed = app.supervisor().review_rating(review).await.unwrap().into_inner();
    assert_eq!(reviewed.closed_rectification_id, rated.rectification_id);
    let issuance = app.get(case_id).await;
    assert!(issuance.ratings[0].invalid);
    assert_eq!(issuance.ratings[0].channel, common::Channel::Window as i32);
    assert_eq!(issuance.rectifications[0].state, pb::RectificationState::Closed as i32);
}

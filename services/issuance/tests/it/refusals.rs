//! Every bad input answered with a clear status and nothing recorded:
//! malformed requests list every field (INVALID_ARGUMENT with BadRequest
//! details), a wrong state is FAILED_PRECONDITION, an old version ABORTED,
//! a reused key ALREADY_EXISTS, an unknown case NOT_FOUND, a wrong role
//! PERMISSION_DENIED — and the stream version stays where it was.

use tonic::Code;
use yiciban_domain::issuance::DeliveryMethod;
use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as pb;

use crate::helpers::*;

fn fields(status: &tonic::Status) -> Vec<String> {
    violations_of(status).into_iter().map(|v| v.field).collect()
}

#[tokio::test]
async fn malformed_requests_name_every_field_and_record_nothing() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::Mail);
    app.prepare(case_id, vec![licence("JY9")]).await;
    let version = app.version(case_id).await;

    let mut bad = app.prepare_request(case_id, vec![]);
    bad.idempotency_key = key();
    bad.case_number = "42".into();
    bad.outcome = 0;
    bad.issue_by = Some(common::Date { year: 2026, month: 2, day: 30 });
    bad.documents = vec![common::ResultDocument { kind: 0, issuing_department: "SAMR!".into(), ..licence("") }];
    let err = app.service().prepare_issuance(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let f = fields(&err);
    for expected in ["case_number", "outcome", "documents[0].kind", "documents[0].issuing_department", "issue_by"] {
        assert!(f.contains(&expected.to_owned()), "{expected} in {f:?}");
    }

    let mail = pb::RecordMailingRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        batch_number: 1,
        courier: " ".into(),
        tracking_number: String::new(),
    };
    let err = app.clerk().record_mailing(mail).await.unwrap_err();
    assert_eq!(fields(&err), ["courier", "tracking_number"]);

    let mut pickup = pickup_request(case_id, 0, collector(common::CollectorKind::Unspecified, "123", false));
    pickup.case_id = "nope".into();
    pickup.receipt = Some(common::MaterialRef { size_bytes: 0, ..file("x.pdf") });
    let err = app.clerk().confirm_pickup(pickup).await.unwrap_err();
    assert_eq!(
        fields(&err),
        ["case_id", "batch_number", "collector.kind", "collector.id_number", "receipt.size_bytes"]
    );

    let err = app.clerk().rate_case(rate_request(case_id, 0, "")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), ["score", "indicators[0].score"]);
    let err = app.clerk().rate_case(rate_request(case_id, 2, "")).await.unwrap_err();
    assert_eq!(fields(&err), ["comment"], "a bad rating says why");

    let visit = pb::RecordReturnVisitRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        visit_id: "x".into(),
        method: 0,
        reached: false,
        score: 0,
        note: String::new(),
        visited_at: None,
    };
    let err = app.supervisor().record_return_visit(visit).await.unwrap_err();
    assert_eq!(fields(&err), ["visit_id", "method"]);

    let err = app
        .clerk()
        .notify_pickup(pb::NotifyPickupRequest { idempotency_key: String::new(), ..notify_request(case_id, 1) })
        .await;
    assert_eq!(fields(&err.unwrap_err()), ["idempotency_key"]);

    assert_eq!(app.version(case_id).await, version);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM issuance.events").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn wrong_states_old_versions_reused_keys_unknown_cases_and_wrong_roles_get_their_status() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::Mail);
    app.prepare(case_id, vec![licence("JY10")]).await;
    let version = app.version(case_id).await;

    // A pick-up of a mail batch; a delivery before the mailing; a rating
    // before any delivery.
    let me = collector(common::CollectorKind::Applicant, APPLICANT_ID, false);
    let err = app.clerk().confirm_pickup(pickup_request(case_id, 1, me)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = app.clerk().record_delivery(delivery_request(case_id, 1, "EMS1")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = app.applicant(APPLICANT_ID).rate_case(rate_request(case_id, 5, "")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // No batch 2.
    let err = app.clerk().notify_pickup(notify_request(case_id, 2)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // An old expected version.
    let mut mail = pb::RecordMailingRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 7,
        batch_number: 1,
        courier: "EMS".into(),
        tracking_number: "EMS1".into(),
    };
    let err = app.clerk().record_mailing(mail.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(app.version(case_id).await, version);

    // The right version; then the same key for another request.
    mail.expected_version = version;
    let first = app.clerk().record_mailing(mail.clone()).await.unwrap().into_inner();
    assert_eq!(app.clerk().record_mailing(mail.clone()).await.unwrap().into_inner(), first, "a retry replays");
    mail.tracking_number = "EMS2".into();
    let err = app.clerk().record_mailing(mail).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = app.clerk().record_delivery(delivery_request(case_id, 1, "EMS2")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "another tracking number");
    let version = app.version(case_id).await;

    // Wrong roles.
    let err = app.clerk().prepare_issuance(app.prepare_request(case_id, vec![licence("JY10")])).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = app
        .agent("samr")
        .record_mailing(pb::RecordMailingRequest {
            idempotency_key: key(),
            case_id: case_id.to_string(),
            expected_version: 0,
            batch_number: 1,
            courier: "EMS".into(),
            tracking_number: "EMS3".into(),
        })
        .await;
    assert_eq!(err.unwrap_err().code(), Code::PermissionDenied);

    // Unknown cases.
    let unknown = uuid::Uuid::now_v7();
    let err = app.supervisor().get_issuance(pb::GetIssuanceRequest { case_id: unknown.to_string() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = app.service().prepare_issuance(app.prepare_request(app.new_case(DeliveryMethod::Mail), vec![])).await;
    assert_eq!(err.unwrap_err().code(), Code::InvalidArgument);
    let mut stranger = app.prepare_request(case_id, vec![licence("JY11")]);
    stranger.case_id = unknown.to_string();
    stranger.idempotency_key = key();
    let err = app.service().prepare_issuance(stranger).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "intake knows no such case");
    assert_eq!(app.version(case_id).await, version);
}

//! After acceptance: supplements, the deficiency deadline, withdrawal and
//! who may read a case.

use chrono::Duration as Days;
use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::common::v1::CaseStatus;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::{COMPANY_USCC, deficiency, material, newborn, restaurant};
use crate::helpers::{TestApp, spawn_app};

async fn owing_site_layout(app: &TestApp) -> pb::SubmitApplicationResponse {
    let mut req = restaurant("owing", &["m_site_layout"]);
    req.deficiencies.push(deficiency("m_site_layout"));
    app.clerk().submit_application(req).await.unwrap().into_inner()
}

async fn case(app: &TestApp, case_id: &str) -> pb::Case {
    app.clerk()
        .get_case(pb::GetCaseRequest { case_id: case_id.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap()
}

#[tokio::test]
async fn supplementing_the_owed_material_clears_the_deficiency() {
    let app = spawn_app().await;
    let submitted = owing_site_layout(&app).await;
    let r = app
        .clerk()
        .supplement_materials(pb::SupplementMaterialsRequest {
            idempotency_key: "sup-1".into(),
            case_id: submitted.case_id.clone(),
            expected_version: submitted.version,
            materials: vec![material("m_site_layout")],
            supplement_request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.cleared_material_ids, vec!["m_site_layout".to_owned()]);
    assert!(r.remaining_deficiencies.is_empty());
    let c = case(&app, &submitted.case_id).await;
    assert_eq!(c.status(), CaseStatus::Accepted, "{c:?}");
    assert!(c.deficiencies.iter().all(|d| d.cleared));

    // The same material again owes nothing: refused, nothing stored.
    let before = app.event_count().await;
    let err = app
        .clerk()
        .supplement_materials(pb::SupplementMaterialsRequest {
            idempotency_key: "sup-2".into(),
            case_id: submitted.case_id.clone(),
            materials: vec![material("m_site_layout")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(app.event_count().await, before);
}

/// Two replicas of the intake service sweep the same database at the same
/// moment (issue 20: work that must happen once is safe with any number of
/// replicas): each overdue case ends once, whichever replica ended it.
#[tokio::test]
async fn two_replicas_sweeping_at_the_same_moment_end_each_overdue_case_once() {
    let app = spawn_app().await;
    let other = app.replica().await;
    let mut cases = Vec::new();
    for i in 0..6 {
        let mut req = restaurant(&format!("owing-{i}"), &["m_site_layout"]);
        req.deficiencies.push(deficiency("m_site_layout"));
        cases.push(app.clerk().submit_application(req).await.unwrap().into_inner().case_id);
    }
    app.clock.advance(Days::days(8)); // the day after the deadline
    let (a, b) = tokio::join!(yiciban_intake::expiry::sweep(&app.intake), yiciban_intake::expiry::sweep(&other.state));
    assert_eq!(a.unwrap() + b.unwrap(), 6, "the two sweeps ended six cases between them");
    let (a, b) = tokio::join!(yiciban_intake::expiry::sweep(&app.intake), yiciban_intake::expiry::sweep(&other.state));
    assert_eq!((a.unwrap(), b.unwrap()), (0, 0), "and nothing more");
    for case_id in &cases {
        assert_eq!(case(&app, case_id).await.status(), CaseStatus::Terminated);
    }
    let terminations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.events WHERE event_type = 'CaseTerminated'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(terminations, 6, "one termination per case");
}

#[tokio::test]
async fn a_deficiency_not_supplied_by_its_deadline_ends_the_case_once() {
    let app = spawn_app().await;
    let submitted = owing_site_layout(&app).await;
    let due = submitted.deficiencies[0].due_by.unwrap();
    assert_eq!((due.year, due.month, due.day), (2026, 3, 23));

    // On the due date the case is still alive.
    app.clock.advance(Days::days(7)); // 2026-03-23
    assert_eq!(yiciban_intake::expiry::sweep(&app.intake).await.unwrap(), 0);
    assert_eq!(case(&app, &submitted.case_id).await.status(), CaseStatus::AcceptedWithDeficiency);

    // The day after, it ends — once, however often the sweep runs.
    app.clock.advance(Days::days(1));
    assert_eq!(yiciban_intake::expiry::sweep(&app.intake).await.unwrap(), 1);
    assert_eq!(yiciban_intake::expiry::sweep(&app.intake).await.unwrap(), 0);
    let c = case(&app, &submitted.case_id).await;
    assert_eq!(c.status(), CaseStatus::Terminated, "{c:?}");
    let terminations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.events WHERE event_type = 'CaseTerminated'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(terminations, 1);
}

#[tokio::test]
async fn a_withdrawn_case_cannot_be_withdrawn_again() {
    let app = spawn_app().await;
    let s = app.clerk().submit_application(newborn("k")).await.unwrap().into_inner();
    let w = app
        .clerk()
        .withdraw_application(pb::WithdrawApplicationRequest {
            idempotency_key: "w1".into(),
            case_id: s.case_id.clone(),
            expected_version: s.version,
            reason: "申请人主动撤回".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(w.version, s.version + 1);
    assert_eq!(case(&app, &s.case_id).await.status(), CaseStatus::Withdrawn);
    let err = app
        .clerk()
        .withdraw_application(pb::WithdrawApplicationRequest {
            idempotency_key: "w2".into(),
            case_id: s.case_id.clone(),
            reason: "again".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // A stale expected version is a conflict.
    let err = app
        .clerk()
        .withdraw_application(pb::WithdrawApplicationRequest {
            idempotency_key: "w3".into(),
            case_id: s.case_id,
            expected_version: 1,
            reason: "stale".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
}

#[tokio::test]
async fn an_officer_reads_only_their_own_cases_and_sees_personal_data_masked() {
    let app = spawn_app().await;
    let s = owing_site_layout(&app).await;
    let own = app.intake_as(&app.token(Role::Officer, "officer-001", None, None));
    let c = own
        .clone()
        .get_case(pb::GetCaseRequest { case_id: s.case_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let applicant = c.case.unwrap().applicant.unwrap();
    assert_ne!(applicant.id_number, COMPANY_USCC, "masked for the officer");
    assert!(applicant.id_number.contains('*'), "{}", applicant.id_number);

    // Another officer is answered exactly as for a case that does not exist.
    let other = app.intake_as(&app.token(Role::Officer, "officer-002", None, None));
    let err = other
        .clone()
        .get_case(pb::GetCaseRequest { case_id: s.case_id.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {} not found", s.case_id).as_str()));
    let random = uuid::Uuid::new_v4().to_string();
    let err =
        other.clone().get_case(pb::GetCaseRequest { case_id: random.clone(), ..Default::default() }).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {random} not found").as_str()));
    // An agent reads a case only when its department has a task in it; with
    // the task service unreachable (as here) that cannot be told: refused.
    let agent = app.intake_as(&app.token(Role::Agent, "agent-1", Some("samr"), None));
    let err = agent
        .clone()
        .get_case(pb::GetCaseRequest { case_id: s.case_id.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let err = app
        .clerk()
        .get_case(pb::GetCaseRequest { case_id: "not-a-uuid".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err =
        app.clerk().get_case(pb::GetCaseRequest { case_id: random.clone(), ..Default::default() }).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {random} not found").as_str()));
}

#[tokio::test]
async fn a_case_that_cannot_be_terminated_does_not_hold_the_other_overdue_cases() {
    let app = spawn_app().await;
    let owing = |key: &str| {
        let mut req = restaurant(key, &["m_site_layout"]);
        req.deficiencies.push(deficiency("m_site_layout"));
        req
    };
    let mut cases = Vec::new();
    for key in ["owing-1", "owing-2", "owing-3"] {
        cases.push(app.clerk().submit_application(owing(key)).await.unwrap().into_inner().case_id);
    }
    // The first case's termination cannot be stored: its key is taken by a
    // record of another request (as a damaged or hand-edited row would be).
    let taken = format!("system:deficiency-overdue-{}", cases[0]);
    sqlx::query("INSERT INTO intake.idempotency_keys (key, request_hash, response) VALUES ($1, 'other', '\\x00')")
        .bind(&taken)
        .execute(&app.db.pool)
        .await
        .unwrap();

    app.clock.advance(Days::days(8));
    assert_eq!(yiciban_intake::expiry::sweep(&app.intake).await.unwrap(), 2, "the others end");
    assert_eq!(case(&app, &cases[0]).await.status(), CaseStatus::AcceptedWithDeficiency);
    for other in &cases[1..] {
        assert_eq!(case(&app, other).await.status(), CaseStatus::Terminated);
    }

    sqlx::query("DELETE FROM intake.idempotency_keys WHERE key = $1").bind(&taken).execute(&app.db.pool).await.unwrap();
    assert_eq!(yiciban_intake::expiry::sweep(&app.intake).await.unwrap(), 1, "the next sweep ends it");
    assert_eq!(case(&app, &cases[0]).await.status(), CaseStatus::Terminated);
}

#[tokio::test]
async fn a_client_using_the_sweeps_key_cannot_pre_empt_the_termination() {
    let app = spawn_app().await;
    let submitted = owing_site_layout(&app).await;
    // A withdrawal pinned to a version the case never had, under the
    // sweep's own key: the clerk's own request, refused on its merits.
    let key = format!("deficiency-overdue-{}", submitted.case_id);
    let mut withdraw = pb::WithdrawApplicationRequest {
        idempotency_key: format!("system:{key}"),
        case_id: submitted.case_id.clone(),
        reason: "申请人撤回".into(),
        expected_version: 99,
    };
    let err = app.clerk().withdraw_application(withdraw.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "the reserved form is refused: {err:?}");
    assert!(err.message().contains("reserved"), "{}", err.message());
    withdraw.idempotency_key = key;
    let err = app.clerk().withdraw_application(withdraw).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "an ordinary key for a client, decided and refused: {err:?}");

    app.clock.advance(Days::days(8));
    assert_eq!(yiciban_intake::expiry::sweep(&app.intake).await.unwrap(), 1);
    assert_eq!(case(&app, &submitted.case_id).await.status(), CaseStatus::Terminated);
}

#[tokio::test]
async fn the_same_key_from_two_clerks_submits_two_cases() {
    let app = spawn_app().await;
    let other_clerk = app.intake_as(&app.token(Role::Clerk, "clerk-002", None, None));
    let mine = app.clerk().submit_application(newborn("shared-key")).await.unwrap().into_inner();
    let theirs = other_clerk.clone().submit_application(newborn("shared-key")).await.unwrap().into_inner();
    assert_ne!(mine.case_id, theirs.case_id, "each clerk's key is their own");
    let again = other_clerk.clone().submit_application(newborn("shared-key")).await.unwrap().into_inner();
    assert_eq!(again.case_id, theirs.case_id, "a retry replays its own caller's answer");
}

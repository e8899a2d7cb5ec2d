//! The credit list over gRPC: changes are idempotent, checked against the
//! version last seen, kept in a history nobody can rewrite, and a
//! restriction ends on its own after its last day.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::{COMPANY_USCC, commitment, restaurant};
use crate::helpers::{Intake_, TestApp, spawn_app};

fn set(key: &str, status: pb::CreditStatus, reason: &str) -> pb::UpdateCreditStatusRequest {
    pb::UpdateCreditStatusRequest {
        idempotency_key: key.into(),
        id_number: COMPANY_USCC.into(),
        status: status as i32,
        reason: reason.into(),
        ..Default::default()
    }
}

fn admin(app: &TestApp) -> Intake_ {
    app.intake_as(&app.token(Role::Admin, "admin-1", None, None))
}

async fn history(app: &TestApp) -> Vec<pb::CreditStatusChange> {
    let request = pb::ListCreditStatusChangesRequest { id_number: COMPANY_USCC.into(), limit: 0 };
    let supervisor = app.intake_as(&app.token(Role::Supervisor, "supervisor-1", None, None));
    supervisor.clone().list_credit_status_changes(request).await.unwrap().into_inner().changes
}

#[tokio::test]
async fn every_change_is_kept_with_who_why_and_what_it_replaced() {
    let app = spawn_app().await;
    let mut admin = admin(&app);
    let first = admin.update_credit_status(set("c-1", pb::CreditStatus::Dishonest, "失信被执行人")).await.unwrap();
    assert_eq!(first.into_inner().version, 1);
    let mut lifted = set("c-2", pb::CreditStatus::Good, "信用修复完成");
    lifted.expected_version = 1;
    assert_eq!(admin.update_credit_status(lifted).await.unwrap().into_inner().version, 2);

    let changes = history(&app).await;
    assert_eq!(changes.len(), 2);
    let (latest, earlier) = (&changes[0], &changes[1]);
    assert_eq!(
        (latest.version, latest.status(), latest.previous_status()),
        (2, pb::CreditStatus::Good, pb::CreditStatus::Dishonest)
    );
    assert_eq!(
        (earlier.version, earlier.status(), earlier.previous_status()),
        (1, pb::CreditStatus::Dishonest, pb::CreditStatus::Normal)
    );
    assert_eq!((latest.reason.as_str(), latest.changed_by.as_str()), ("信用修复完成", "admin-1"));
    assert!(latest.changed_at.is_some());

    let now =
        app.clerk().get_credit_status(pb::GetCreditStatusRequest { id_number: COMPANY_USCC.into() }).await.unwrap();
    let now = now.into_inner();
    assert_eq!((now.status(), now.reason.as_str(), now.version), (pb::CreditStatus::Good, "信用修复完成", 2));
    assert!(now.updated_at.is_some());

    // Nobody rewrites the history, not even with the database's own hands.
    for statement in [
        "UPDATE intake.credit_changes SET reason = 'x'",
        "DELETE FROM intake.credit_changes",
        "TRUNCATE intake.credit_changes",
    ] {
        let error = sqlx::query(statement).execute(&app.db.pool).await.unwrap_err();
        assert!(error.to_string().contains("only ever added"), "{statement}: {error}");
    }
    // Only admins and supervisors read it.
    let request = pb::ListCreditStatusChangesRequest { id_number: COMPANY_USCC.into(), limit: 0 };
    let status = app.clerk().list_credit_status_changes(request).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_retry_replays_and_a_reused_key_or_stale_version_changes_nothing() {
    let app = spawn_app().await;
    let mut admin = admin(&app);
    let request = set("c-1", pb::CreditStatus::Dishonest, "失信被执行人");
    let first = admin.update_credit_status(request.clone()).await.unwrap().into_inner();
    let again = admin.update_credit_status(request).await.unwrap().into_inner();
    assert_eq!(first, again, "the retry gets the first answer");
    assert_eq!(history(&app).await.len(), 1, "and records nothing more");

    let other = set("c-1", pb::CreditStatus::Good, "另一个请求");
    assert_eq!(admin.update_credit_status(other).await.unwrap_err().code(), Code::AlreadyExists);
    let mut stale = set("c-2", pb::CreditStatus::Good, "过期的版本");
    stale.expected_version = 7;
    assert_eq!(admin.update_credit_status(stale).await.unwrap_err().code(), Code::Aborted);
    assert_eq!(history(&app).await.len(), 1);
}

#[tokio::test]
async fn bad_input_is_refused_with_every_problem_and_records_nothing() {
    let app = spawn_app().await;
    let mut admin = admin(&app);
    let bad = pb::UpdateCreditStatusRequest {
        idempotency_key: "c-1".into(),
        id_number: "91150000000000000X".into(),
        status: 0,
        reason: "  ".into(),
        expected_version: 0,
        restricted_until: Some(common::Date { year: 2026, month: 2, day: 30 }),
    };
    let status = admin.update_credit_status(bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations_of(&status).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["id_number", "status", "reason", "restricted_until"], "{status:?}");
    let too_long = set("c-2", pb::CreditStatus::Good, &"理".repeat(501));
    assert_eq!(admin.update_credit_status(too_long).await.unwrap_err().code(), Code::InvalidArgument);
    let bad_id = pb::GetCreditStatusRequest { id_number: "not a number".into() };
    assert_eq!(app.clerk().get_credit_status(bad_id).await.unwrap_err().code(), Code::InvalidArgument);
    let too_many = pb::ListCreditStatusChangesRequest { id_number: COMPANY_USCC.into(), limit: 501 };
    assert_eq!(admin.list_credit_status_changes(too_many).await.unwrap_err().code(), Code::InvalidArgument);
    assert!(history(&app).await.is_empty());
}

#[tokio::test]
async fn a_restriction_ends_the_day_after_its_last_day() {
    let app = spawn_app().await;
    let mut admin = admin(&app);
    // The tests' clock: Monday 2026-03-16.
    let mut restricted = set("c-1", pb::CreditStatus::Dishonest, "承诺不实");
    restricted.restricted_until = Some(common::Date { year: 2026, month: 3, day: 16 });
    admin.update_credit_status(restricted).await.unwrap();
    let read = || async {
        app.clerk()
            .get_credit_status(pb::GetCreditStatusRequest { id_number: COMPANY_USCC.into() })
            .await
            .unwrap()
            .into_inner()
    };
    let today = read().await;
    assert_eq!(today.status(), pb::CreditStatus::Dishonest);
    assert_eq!(today.restricted_until, Some(common::Date { year: 2026, month: 3, day: 16 }));
    let mut req = restaurant("k1", &["m_food_safety_rules"]);
    req.commitments.push(commitment("m_food_safety_rules"));
    let refused = app.clerk().submit_application(req.clone()).await.unwrap().into_inner();
    assert_eq!(refused.decision(), pb::AcceptanceDecision::NotAccepted, "restricted through its last day");

    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(read().await.status(), pb::CreditStatus::Normal, "ended the day after");
    req.idempotency_key = "k2".into();
    let accepted = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_ne!(accepted.decision(), pb::AcceptanceDecision::NotAccepted, "{accepted:?}");
    assert_eq!(history(&app).await.len(), 1, "the end of a restriction is no change");
}

//! The lists across cases: the rectification ledger (ListRectifications)
//! late first, an agent its own department's only, one case's with its
//! history; the ratings queue (ListRatings) bad ones first, supervisors
//! only; bad pages and filters refused with every field named.

use tonic::Code;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as pb;

use crate::helpers::*;

/// A closed case rated `score` by its applicant (samr concerned).
async fn rated(app: &TestApp, score: u32) -> (Uuid, pb::RateCaseResponse) {
    let case_id = app.closed_by_mail().await;
    let comment = if score <= 2 { "窗口让我跑了两次" } else { "" };
    let rated = app.applicant(APPLICANT_ID).rate_case(rate_request(case_id, score, comment)).await.unwrap();
    (case_id, rated.into_inner())
}

fn all_open() -> pb::ListRectificationsRequest {
    pb::ListRectificationsRequest::default()
}

#[tokio::test]
async fn the_ledger_lists_late_rectifications_first_and_an_agent_only_its_departments() {
    let app = spawn_app().await;
    let (first, r1) = rated(&app, 1).await;
    // Two weeks on, the first is past its due date (five working days).
    app.clock.advance(chrono::Duration::days(14));
    let (second, r2) = rated(&app, 2).await;

    let listed = app.supervisor().list_rectifications(all_open()).await.unwrap().into_inner();
    let ids: Vec<_> =
        listed.rectifications.iter().map(|e| e.rectification.as_ref().unwrap().rectification_id.clone()).collect();
    assert_eq!(ids, [r1.rectification_id.clone(), r2.rectification_id.clone()], "late first");
    assert!(listed.rectifications[0].late && !listed.rectifications[1].late);
    assert_eq!(listed.rectifications[0].case_id, first.to_string());
    assert_eq!(listed.rectifications[0].case_number, app.case_number(first));
    assert_eq!(listed.rectifications[1].version, app.version(second).await);
    assert!(listed.rectifications[0].history.is_empty(), "history only for one case");

    let late = pb::ListRectificationsRequest { overdue_only: true, ..all_open() };
    assert_eq!(app.supervisor().list_rectifications(late).await.unwrap().into_inner().rectifications.len(), 1);

    // samr is responsible: its agent sees both; fire's sees none and may not
    // ask for samr's.
    let samr = app.agent("samr").list_rectifications(all_open()).await.unwrap().into_inner();
    assert_eq!(samr.rectifications.len(), 2);
    let fire = app.agent("fire").list_rectifications(all_open()).await.unwrap().into_inner();
    assert!(fire.rectifications.is_empty());
    let asked = pb::ListRectificationsRequest { department: "samr".into(), ..all_open() };
    assert_eq!(app.agent("fire").list_rectifications(asked).await.unwrap_err().code(), Code::PermissionDenied);

    // Closed ones leave the default list; asked for by state they are there.
    let closed_state =
        pb::ListRectificationsRequest { states: vec![pb::RectificationState::Closed as i32], ..all_open() };
    assert!(app.supervisor().list_rectifications(closed_state).await.unwrap().into_inner().rectifications.is_empty());

    // Paged one at a time: the token leads to the second and then ends.
    let page = pb::ListRectificationsRequest { page_size: 1, ..all_open() };
    let one = app.supervisor().list_rectifications(page.clone()).await.unwrap().into_inner();
    assert_eq!(one.rectifications.len(), 1);
    let two = app
        .supervisor()
        .list_rectifications(pb::ListRectificationsRequest { page_token: one.next_page_token, ..page })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(two.rectifications[0].rectification.as_ref().unwrap().rectification_id, r2.rectification_id);
    assert!(two.next_page_token.is_empty());
}

#[tokio::test]
async fn one_cases_rectification_comes_with_its_history() {
    let app = spawn_app().await;
    let (case_id, rated) = rated(&app, 1).await;
    let id = rated.rectification_id;
    app.agent("samr")
        .verify_rectification(pb::VerifyRectificationRequest {
            idempotency_key: key(),
            case_id: case_id.to_string(),
            expected_version: 0,
            rectification_id: id.clone(),
            finding: common::RectificationFinding::NoLegalBasis as i32,
            note: "诉求无法律依据".into(),
            due_by: None,
        })
        .await
        .unwrap();
    let asked = pb::ListRectificationsRequest { case_id: case_id.to_string(), ..all_open() };
    let listed = app.agent("samr").list_rectifications(asked.clone()).await.unwrap().into_inner();
    let entry = &listed.rectifications[0];
    assert_eq!(entry.rectification.as_ref().unwrap().state, pb::RectificationState::Verified as i32);
    let steps: Vec<_> = entry.history.iter().map(|s| (s.state, s.text.as_str())).collect();
    assert_eq!(
        steps,
        [(pb::RectificationState::Opened as i32, ""), (pb::RectificationState::Verified as i32, "诉求无法律依据")]
    );
    let verifier = entry.history[1].actor.as_ref().unwrap();
    assert_eq!((verifier.subject.as_str(), verifier.department.as_str()), ("agent-samr", "samr"));
    // Another department's agent learns nothing of the case.
    assert!(app.agent("fire").list_rectifications(asked).await.unwrap().into_inner().rectifications.is_empty());
}

#[tokio::test]
async fn the_ratings_queue_puts_valid_bad_ratings_first_for_supervisors_only() {
    let app = spawn_app().await;
    let (good_case, good) = rated(&app, 5).await;
    let (bad_case, bad) = rated(&app, 1).await;
    let listed = app.supervisor().list_ratings(pb::ListRatingsRequest::default()).await.unwrap().into_inner();
    let ids: Vec<_> = listed.ratings.iter().map(|e| e.rating.as_ref().unwrap().rating_id.clone()).collect();
    assert_eq!(ids, [bad.rating_id.clone(), good.rating_id.clone()]);
    assert_eq!(listed.ratings[0].case_id, bad_case.to_string());
    assert_eq!(listed.ratings[1].case_number, app.case_number(good_case));

    // Set aside, the bad rating drops behind and out of the bad-only list.
    app.supervisor()
        .review_rating(pb::ReviewRatingRequest {
            idempotency_key: key(),
            case_id: bad_case.to_string(),
            expected_version: listed.ratings[0].version,
            rating_id: bad.rating_id.clone(),
            reason: common::InvalidRatingReason::Malicious as i32,
            note: "同一人重复恶意差评".into(),
        })
        .await
        .unwrap();
    let bad_only = pb::ListRatingsRequest { bad_only: true, ..Default::default() };
    assert!(app.supervisor().list_ratings(bad_only).await.unwrap().into_inner().ratings.is_empty());

    for refused in [app.agent("samr"), app.clerk()] {
        let err = refused.clone().list_ratings(pb::ListRatingsRequest::default()).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
}

#[tokio::test]
async fn a_bad_page_or_filter_is_refused_naming_every_field() {
    let app = spawn_app().await;
    let bad = pb::ListRectificationsRequest {
        states: vec![0],
        department: "no such code!".into(),
        case_id: "not-a-uuid".into(),
        page_size: 201,
        page_token: "x".into(),
        ..Default::default()
    };
    let err = app.supervisor().list_rectifications(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let mut fields: Vec<_> = violations_of(&err).into_iter().map(|v| v.field).collect();
    fields.sort();
    assert_eq!(fields, ["case_id", "department", "page_size", "page_token", "states"], "{err:?}");
    let err = app
        .supervisor()
        .list_ratings(pb::ListRatingsRequest { page_size: 500, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // An unknown case is an empty list, as one the caller may not see.
    let unknown = pb::ListRectificationsRequest { case_id: Uuid::now_v7().to_string(), ..Default::default() };
    assert!(app.supervisor().list_rectifications(unknown).await.unwrap().into_inner().rectifications.is_empty());
}

#[tokio::test]
async fn the_back_fill_writes_the_ledger_rows_of_cases_issued_before_the_ledger() {
    let app = spawn_app().await;
    let (_, rated) = rated(&app, 1).await;
    // As a case issued before migration 3: no ledger row, flagged.
    let (pool, schema) = (app.issuance.pool(), app.issuance.schema());
    sqlx::query(schema_sql(schema, "DELETE FROM {schema}.rectifications")).execute(pool).await.unwrap();
    sqlx::query(schema_sql(schema, "UPDATE {schema}.issuance_cases SET ledger_backfill_due = true"))
        .execute(pool)
        .await
        .unwrap();
    assert!(app.supervisor().list_rectifications(all_open()).await.unwrap().into_inner().rectifications.is_empty());

    assert_eq!(yiciban_issuance::ledger::backfill_pass(pool, schema).await.unwrap(), 1);
    assert_eq!(yiciban_issuance::ledger::backfill_pass(pool, schema).await.unwrap(), 0, "flags cleared");
    let listed = app.supervisor().list_rectifications(all_open()).await.unwrap().into_inner();
    let ids: Vec<_> =
        listed.rectifications.iter().map(|e| e.rectification.as_ref().unwrap().rectification_id.clone()).collect();
    assert_eq!(ids, [rated.rectification_id]);
}

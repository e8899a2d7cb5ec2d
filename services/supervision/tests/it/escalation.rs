//! An opinion past its working-day limit unanswered is escalated exactly
//! once: by two sweeps in a row, two at once (replicas) and a sweep of a
//! restarted service; answered ones are not; the queue shows overdue ones
//! first.

use std::sync::Arc;

use yiciban_proto::supervision::v1 as pb;
use yiciban_supervision::escalation::sweep_once;

use crate::helpers::*;

fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
}

#[tokio::test]
async fn an_overdue_opinion_is_escalated_once_by_repeated_and_concurrent_sweeps_and_after_a_restart() {
    let app = spawn_app().await;
    let overdue = app.opinion(pb::OpinionKind::Complaint, "samr").await; // due 22 October
    let answered = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    let later = app.opinion(pb::OpinionKind::Suggestion, "samr").await; // 15 working days
    app.supervisor()
        .assign_opinion(pb::AssignOpinionRequest {
            idempotency_key: key(),
            opinion_id: answered.opinion_id.clone(),
            department: "samr".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    app.agent("samr")
        .answer_opinion(pb::AnswerOpinionRequest {
            idempotency_key: key(),
            opinion_id: answered.opinion_id.clone(),
            answer: "已答复".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // On its last day it is not overdue.
    assert_eq!(sweep_once(&app.state, day(22)).await.unwrap().escalated, 0);
    app.clock.set(cst("2026-10-23T09:00"));
    let (a, b) = tokio::join!(sweep_once(&app.state, day(23)), sweep_once(&app.state, day(23)));
    assert_eq!(a.unwrap().escalated + b.unwrap().escalated, 1);
    assert_eq!(sweep_once(&app.state, day(26)).await.unwrap().escalated, 0);

    // A second instance over the same schema (a restart, or a replica).
    let restarted = yiciban_testkit::spawn_service(yiciban_supervision::build_with(
        config(&app.nats, &app.issuer),
        Arc::new(app.clock.clone()),
        app.db.pool.clone(),
        app.nats.js.clone(),
        Some(Arc::new(app.catalog.clone())),
    ))
    .await;
    assert_eq!(sweep_once(&restarted.state, day(27)).await.unwrap().escalated, 0);

    let stream = |o: &pb::Opinion| format!("opinion-{}", o.opinion_id);
    assert_eq!(app.event_types(&stream(&overdue)).await, ["OpinionReceived", "OpinionEscalated"]);
    assert_eq!(app.event_types(&stream(&answered)).await, ["OpinionReceived", "OpinionAssigned", "OpinionAnswered"]);
    assert_eq!(app.event_types(&stream(&later)).await, ["OpinionReceived"]);

    // The supervisors' queue: the overdue one first, flagged.
    let queue = app.supervisor().list_opinions(pb::ListOpinionsRequest::default()).await.unwrap().into_inner();
    let first = &queue.opinions[0];
    assert_eq!(first.opinion_id, overdue.opinion_id);
    assert!(first.overdue && first.escalated);
    let only = pb::ListOpinionsRequest { overdue_only: true, ..Default::default() };
    assert_eq!(app.supervisor().list_opinions(only).await.unwrap().into_inner().total, 1);
}

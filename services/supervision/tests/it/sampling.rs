//! Return-visit draws of opinions (回访抽样): every answered complaint when
//! asked plus a seeded, reproducible share of the month's other answered
//! opinions; each drawn once, listed as due until visited; a retried run
//! answers the first; refusals draw nothing.

use tonic::Code;
use yiciban_proto::supervision::v1 as pb;

use crate::helpers::*;

/// Records an opinion of `kind`, assigns it to samr and has samr answer it.
async fn answered(app: &TestApp, kind: pb::OpinionKind) -> pb::Opinion {
    let o = app.opinion(kind, "samr").await;
    let assign = pb::AssignOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        person: "agent-samr".into(),
        ..Default::default()
    };
    app.supervisor().assign_opinion(assign).await.unwrap();
    let answer = pb::AnswerOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        answer: "已答复".into(),
        ..Default::default()
    };
    app.agent("samr").answer_opinion(answer).await.unwrap().into_inner().opinion.unwrap()
}

fn draw(key: &str, percent: u32, complaints: bool) -> pb::SampleOpinionReturnVisitsRequest {
    pb::SampleOpinionReturnVisitsRequest {
        idempotency_key: key.into(),
        period: "2026-10".into(),
        sample_percent: percent,
        include_complaints: complaints,
        ..Default::default()
    }
}

async fn due(app: &TestApp) -> Vec<String> {
    let request = pb::ListOpinionsRequest { return_visit_due: true, page_size: 200, ..Default::default() };
    let listed = app.supervisor().list_opinions(request).await.unwrap().into_inner();
    let mut ids: Vec<String> = listed.opinions.into_iter().map(|o| o.opinion_id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_answered_complaint_and_a_reproducible_share_of_the_rest_are_drawn_once_and_due_until_visited() {
    let app = spawn_app().await;
    let mut complaints = Vec::new();
    for _ in 0..2 {
        complaints.push(answered(&app, pb::OpinionKind::Complaint).await.opinion_id);
    }
    let mut others = Vec::new();
    for _ in 0..5 {
        others.push(answered(&app, pb::OpinionKind::Suggestion).await.opinion_id);
    }
    // Not answered: never drawn.
    let unanswered = app.opinion(pb::OpinionKind::Opinion, "samr").await;

    let first = app.supervisor().sample_opinion_return_visits(draw("draw-1", 40, true)).await.unwrap().into_inner();
    assert_eq!(first.population, 7, "two complaints and five others answered; the unanswered one is not counted");
    let reasons = |reason: pb::OpinionSampleReason| -> Vec<String> {
        let mut ids: Vec<String> = first
            .opinions
            .iter()
            .filter(|o| o.return_visit_sampled == reason as i32)
            .map(|o| o.opinion_id.clone())
            .collect();
        ids.sort();
        ids
    };
    complaints.sort();
    assert_eq!(reasons(pb::OpinionSampleReason::Complaint), complaints, "every answered complaint");
    // 40 % of five, rounded up: two, the two lowest SHA-256 ranks of the
    // period and the id — computed here from the ids alone.
    let mut ranked: Vec<(Vec<u8>, String)> = others
        .iter()
        .map(|id| {
            let uuid: uuid::Uuid = id.parse().unwrap();
            (yiciban_domain::sampling::rank("2026-10", uuid).to_vec(), id.clone())
        })
        .collect();
    ranked.sort();
    let mut expected: Vec<String> = ranked.into_iter().take(2).map(|(_, id)| id).collect();
    expected.sort();
    assert_eq!(reasons(pb::OpinionSampleReason::Random), expected);
    assert!(!first.opinions.iter().any(|o| o.opinion_id == unanswered.opinion_id));

    // The same key answers the first run; a new run draws none of those
    // again (from what is left: three, 40 % → two).
    let again = app.supervisor().sample_opinion_return_visits(draw("draw-1", 40, true)).await.unwrap().into_inner();
    assert_eq!(again, first);
    let err = app.supervisor().sample_opinion_return_visits(draw("draw-1", 50, true)).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let second = app.supervisor().sample_opinion_return_visits(draw("draw-2", 40, true)).await.unwrap().into_inner();
    assert_eq!(second.population, 3);
    assert_eq!(second.opinions.len(), 2);
    assert!(second.opinions.iter().all(|o| !first.opinions.iter().any(|f| f.opinion_id == o.opinion_id)));

    let mut drawn: Vec<String> = first.opinions.iter().chain(&second.opinions).map(|o| o.opinion_id.clone()).collect();
    drawn.sort();
    assert_eq!(due(&app).await, drawn);
    // A visit ends the wait; the history says why it was drawn.
    let visited = &first.opinions[0];
    let visit = pb::RecordOpinionReturnVisitRequest {
        idempotency_key: key(),
        opinion_id: visited.opinion_id.clone(),
        satisfied: true,
        ..Default::default()
    };
    app.supervisor().record_opinion_return_visit(visit).await.unwrap();
    assert!(!due(&app).await.contains(&visited.opinion_id));
    let got = app
        .supervisor()
        .get_opinion(pb::GetOpinionRequest { opinion_id: visited.opinion_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(
        got.history
            .iter()
            .any(|s| s.event_type == "OpinionReturnVisitSampled" && s.text.starts_with("抽中回访（2026-10"))
    );
}

#[tokio::test]
async fn a_refused_draw_draws_nothing() {
    let app = spawn_app().await;
    answered(&app, pb::OpinionKind::Complaint).await;
    let events = app.count("events").await;
    let bad = pb::SampleOpinionReturnVisitsRequest {
        idempotency_key: key(),
        period: "2026-1".into(),
        sample_percent: 101,
        department: "SAMR!".into(),
        seed: "s".repeat(129),
        include_complaints: true,
    };
    let err = app.supervisor().sample_opinion_return_visits(bad).await.unwrap_err();
    assert_eq!(
        (err.code(), fields(&err)),
        (Code::InvalidArgument, vec!["period".into(), "sample_percent".into(), "department".into(), "seed".into()])
    );
    let future = pb::SampleOpinionReturnVisitsRequest { period: "2026-11".into(), ..draw(&key(), 0, true) };
    let err = app.supervisor().sample_opinion_return_visits(future).await.unwrap_err();
    assert_eq!((err.code(), fields(&err)), (Code::InvalidArgument, vec!["period".into()]));
    for mut client in [app.agent("samr"), app.clerk(), app.officer()] {
        let err = client.sample_opinion_return_visits(draw(&key(), 0, true)).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    assert_eq!(app.count("events").await, events);
    assert!(due(&app).await.is_empty());
}

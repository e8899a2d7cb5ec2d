//! Return-visit sampling over gRPC: the configured share of the month's
//! closed cases, drawn reproducibly from the seed, plus every real-name bad
//! rating; a replay answers the same; a later run samples only cases not
//! sampled yet; the visit's result is recorded once.

use std::collections::BTreeSet;

use tonic::Code;
use uuid::Uuid;
use yiciban_issuance::sampling;
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as pb;

use crate::helpers::*;

fn sample(key: &str, percent: u32, seed: &str) -> pb::SampleReturnVisitsRequest {
    pb::SampleReturnVisitsRequest {
        idempotency_key: key.into(),
        period: "2026-10".into(),
        sample_percent: percent,
        department: String::new(),
        include_bad_ratings: true,
        seed: seed.into(),
    }
}

fn picked(response: &pb::SampleReturnVisitsResponse, reason: common::ReturnVisitSampleReason) -> BTreeSet<String> {
    response.cases.iter().filter(|c| c.reason == reason as i32).map(|c| c.case_id.clone()).collect()
}

#[tokio::test]
async fn sampling_picks_the_configured_share_reproducibly_and_always_the_real_name_bad_ratings() {
    let app = spawn_app().await;
    let mut cases = Vec::new();
    for _ in 0..10 {
        cases.push(app.closed_by_mail().await);
    }
    // One real-name bad rating (always visited), one anonymous (not forced).
    let mut bad = rate_request(cases[3], 1, "等了很久");
    app.applicant(APPLICANT_ID).rate_case(bad.clone()).await.unwrap();
    bad.case_id = cases[4].to_string();
    bad.real_name = false;
    bad.idempotency_key = key();
    app.applicant(APPLICANT_ID).rate_case(bad).await.unwrap();

    let first = app.supervisor().sample_return_visits(sample("october", 0, "")).await.unwrap().into_inner();
    assert_eq!(first.population, 10);
    assert_eq!(picked(&first, common::ReturnVisitSampleReason::BadRating), BTreeSet::from([cases[3].to_string()]));
    // The default share is 10 %: one case, the lowest rank under the seed
    // (the period), unless that is the bad rating already visited.
    let drawn = sampling::draw(&cases, "2026-10", 1);
    let random = picked(&first, common::ReturnVisitSampleReason::Random);
    if drawn[0] == cases[3] {
        assert!(random.is_empty());
    } else {
        assert_eq!(random, BTreeSet::from([drawn[0].to_string()]));
    }
    for c in &first.cases {
        let case_id = Uuid::parse_str(&c.case_id).unwrap();
        let issuance = app.get(case_id).await;
        assert_eq!(issuance.return_visits[0].visit_id, c.visit_id);
        assert_eq!(issuance.return_visits[0].period, "2026-10");
    }

    let replay = app.supervisor().sample_return_visits(sample("october", 0, "")).await.unwrap().into_inner();
    assert_eq!(replay, first, "the same key answers the same");
    let err = app.supervisor().sample_return_visits(sample("october", 50, "")).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    // A 30 % draw under another seed: its three lowest ranks, without the
    // cases sampled already this month.
    let second = app.supervisor().sample_return_visits(sample("october-more", 30, "audit")).await.unwrap().into_inner();
    let already: BTreeSet<String> = first.cases.iter().map(|c| c.case_id.clone()).collect();
    let expected: BTreeSet<String> = sampling::draw(&cases, "audit", 3)
        .into_iter()
        .map(|c| c.to_string())
        .filter(|c| !already.contains(c))
        .collect();
    let got: BTreeSet<String> = second.cases.iter().map(|c| c.case_id.clone()).collect();
    assert_eq!(got, expected);
    assert!(got.is_disjoint(&already));

    // The officer calls back and records the result, once.
    let visit = &first.cases[0];
    let record = pb::RecordReturnVisitRequest {
        idempotency_key: key(),
        case_id: visit.case_id.clone(),
        expected_version: 0,
        visit_id: visit.visit_id.clone(),
        method: common::ReturnVisitMethod::Phone as i32,
        reached: true,
        score: 4,
        note: "申请人对整改表示认可".into(),
        visited_at: None,
    };
    let officer = app.client(yiciban_platform::Role::Officer, "officer-001", None, None);
    officer.clone().record_return_visit(record.clone()).await.unwrap();
    let err =
        officer.clone().record_return_visit(pb::RecordReturnVisitRequest { idempotency_key: key(), ..record }).await;
    assert_eq!(err.unwrap_err().code(), Code::FailedPrecondition);
    let issuance = app.get(Uuid::parse_str(&visit.case_id).unwrap()).await;
    assert!(issuance.return_visits[0].recorded);
    assert_eq!(issuance.return_visits[0].score, 4);
}

#[tokio::test]
async fn a_month_without_closed_cases_samples_nothing_and_the_future_is_refused() {
    let app = spawn_app().await;
    let mut req = sample("empty", 0, "");
    req.period = "2026-09".into();
    let empty = app.supervisor().sample_return_visits(req).await.unwrap().into_inner();
    assert_eq!((empty.population, empty.cases.len()), (0, 0));
    let mut future = sample("future", 0, "");
    future.period = "2026-11".into();
    let err = app.supervisor().sample_return_visits(future).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = app.clerk().sample_return_visits(sample("clerk", 0, "")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

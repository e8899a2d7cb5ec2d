//! Ratings, rectifications and return visits.

use std::collections::BTreeSet;

use super::*;

#[test]
fn a_good_rating_is_recorded_without_a_rectification() {
    let (events, state) = given(delivered_by_mail()).when(rate(5)).then_ok();
    assert_eq!(types(&events), ["RatingReceived"]);
    assert_eq!(state.rating().unwrap().received.score, 5);
    assert!(state.rectifications.is_empty());
}

#[test]
fn a_bad_rating_opens_a_rectification_for_the_responsible_department() {
    let (events, state) = given(delivered_by_mail()).when(rate(2)).then_ok();
    assert_eq!(types(&events), ["RatingReceived", "RectificationOpened"]);
    assert_eq!(
        events[1],
        Event::RectificationOpened(RectificationOpened {
            rectification_id: rectification_id(),
            source: RectificationSource::BadRating,
            rating_id: Some(rating_id()),
            complaint: String::new(),
            responsible_department: dept("samr"),
            due_by: date(2026, 10, 26),
        })
    );
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Opened);
}

#[test]
fn the_same_rating_again_records_nothing_and_a_different_one_is_refused() {
    given(delivered_by_mail().into_iter().chain([rate(4)]).collect()).when(rate(4)).then_nothing();
    let kind = given(delivered_by_mail().into_iter().chain([rate(4)]).collect())
        .when(rate(1))
        .then_error(IssuanceError::AlreadyRated { rating_id: rating_id().to_string() });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_rating_waits_for_a_delivery() {
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(rate(5))
        .then_error(IssuanceError::NotDelivered { action: "a rating" });
    given(vec![]).when(rate(5)).then_error(IssuanceError::NoIssuance);
}

#[test]
fn a_bad_rating_needs_a_comment_and_scores_stay_within_one_to_five() {
    given(delivered_by_mail()).when(rate_with(1, " ")).then_rejected(&["comment"]);
    let Command::Rate(mut c) = rate(6) else { unreachable!() };
    c.indicators = vec![
        IndicatorScore { name: String::new(), score: 0 },
        IndicatorScore { name: "服务态度".into(), score: 3 },
        IndicatorScore { name: "服务态度".into(), score: 3 },
    ];
    given(delivered_by_mail()).when(Command::Rate(c)).then_rejected(&[
        "score",
        "indicators[0].name",
        "indicators[0].score",
        "indicators[2].name",
    ]);
}

// ---- rectifications ----

fn badly_rated() -> Vec<Command> {
    delivered_by_mail().into_iter().chain([rate(1)]).collect()
}

#[test]
fn a_justified_bad_rating_is_verified_rectified_and_closed_on_time() {
    let state = given(badly_rated()).when(verify(RectificationFinding::JustifiedSimple, None)).then(vec![
        Event::RectificationVerified(RectificationVerified {
            rectification_id: rectification_id(),
            finding: RectificationFinding::JustifiedSimple,
            note: "经核实，窗口未一次性告知所需材料".into(),
            due_by: date(2026, 10, 26),
        }),
    ]);
    let state = given_state(state).when(rectify()).then_ok().1;
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Rectified);
    let state = given_state(state).when(close(date(2026, 10, 26))).then(vec![Event::RectificationClosed(
        RectificationClosed {
            rectification_id: rectification_id(),
            applicant_satisfied: true,
            note: String::new(),
            on_time: true,
        },
    )]);
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Closed);
}

#[test]
fn a_complaint_without_legal_basis_is_explained_and_closed_late() {
    let given_commands = badly_rated().into_iter().chain([verify(RectificationFinding::NoLegalBasis, None)]).collect();
    let state = given(given_commands).when(explain()).then_ok().1;
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Explained);
    let (events, _) = given_state(state).when(close(date(2026, 10, 27))).then_ok();
    let Event::RectificationClosed(c) = &events[0] else { panic!() };
    assert!(!c.on_time, "closed after the due date");
}

#[test]
fn a_complex_finding_sets_the_ledger_deadline_which_only_it_may() {
    let (events, _) =
        given(badly_rated()).when(verify(RectificationFinding::JustifiedComplex, Some(date(2026, 11, 30)))).then_ok();
    let Event::RectificationVerified(v) = &events[0] else { panic!() };
    assert_eq!(v.due_by, date(2026, 11, 30));
    given(badly_rated())
        .when(verify(RectificationFinding::NoLegalBasis, Some(date(2026, 10, 1))))
        .then_rejected(&["due_by", "due_by"]);
}

#[test]
fn the_rectification_steps_keep_their_order() {
    given(badly_rated()).when(rectify()).then_error(IssuanceError::WrongRectificationState {
        id: rectification_id().to_string(),
        state: "opened",
        action: "recording a rectification",
        needed: "verified as justified",
    });
    let verified_justified: Vec<_> =
        badly_rated().into_iter().chain([verify(RectificationFinding::JustifiedSimple, None)]).collect();
    given(verified_justified.clone()).when(explain()).then_error(IssuanceError::WrongRectificationState {
        id: rectification_id().to_string(),
        state: "verified",
        action: "recording an explanation",
        needed: "verified as without legal basis",
    });
    given(verified_justified.clone()).when(close(date(2026, 10, 20))).then_error(
        IssuanceError::WrongRectificationState {
            id: rectification_id().to_string(),
            state: "verified",
            action: "closing",
            needed: "rectified or explained",
        },
    );
    given(verified_justified).when(verify(RectificationFinding::JustifiedSimple, None)).then_error(
        IssuanceError::WrongRectificationState {
            id: rectification_id().to_string(),
            state: "verified",
            action: "a verification",
            needed: "opened",
        },
    );
    given(delivered_by_mail())
        .when(rectify())
        .then_error(IssuanceError::NoSuchRectification(rectification_id().to_string()));
}

#[test]
fn the_rectification_texts_are_required() {
    let Command::VerifyRectification(mut v) = verify(RectificationFinding::JustifiedSimple, None) else {
        unreachable!()
    };
    v.note = String::new();
    given(badly_rated()).when(Command::VerifyRectification(v)).then_rejected(&["note"]);
    let verified: Vec<_> =
        badly_rated().into_iter().chain([verify(RectificationFinding::NoLegalBasis, None)]).collect();
    let Command::ExplainRectification(mut e) = explain() else { unreachable!() };
    e.explanation = " ".into();
    e.legal_basis = String::new();
    given(verified).when(Command::ExplainRectification(e)).then_rejected(&["explanation", "legal_basis"]);
}

#[test]
fn a_supervisor_opens_a_rectification_for_a_complaint() {
    let open = |complaint: &str, due_by| {
        Command::OpenRectification(OpenRectification {
            rectification_id: rectification_id(),
            complaint: complaint.into(),
            responsible_department: dept("fire"),
            due_by,
            today: date(2026, 10, 20),
        })
    };
    let (events, _) =
        given(delivered_by_mail()).when(open("12345 热线投诉：现场检查人员态度生硬", date(2026, 10, 27))).then_ok();
    let Event::RectificationOpened(o) = &events[0] else { panic!() };
    assert_eq!(
        (o.source, o.rating_id, o.responsible_department.as_str()),
        (RectificationSource::Complaint, None, "fire")
    );
    given(delivered_by_mail()).when(open("", date(2026, 10, 1))).then_rejected(&["complaint", "due_by"]);
    given(vec![]).when(open("投诉", date(2026, 10, 27))).then_error(IssuanceError::NoIssuance);
}

#[test]
fn a_rating_set_aside_closes_its_open_rectification() {
    let (events, state) = given(badly_rated()).when(review()).then_ok();
    assert_eq!(types(&events), ["RatingMarkedInvalid", "RectificationClosed"]);
    let Event::RectificationClosed(c) = &events[1] else { panic!() };
    assert!(!c.applicant_satisfied && c.on_time);
    assert_eq!(state.rating().unwrap().invalid, Some(InvalidRatingReason::Malicious));
    given_state(state).when(review()).then_error(IssuanceError::RatingAlreadyInvalid(rating_id().to_string()));
}

#[test]
fn only_a_recorded_rating_can_be_set_aside_and_with_a_note() {
    given(delivered_by_mail()).when(review()).then_error(IssuanceError::NoSuchRating(rating_id().to_string()));
    let Command::ReviewRating(mut r) = review() else { unreachable!() };
    r.note = String::new();
    given(badly_rated()).when(Command::ReviewRating(r)).then_rejected(&["note"]);
}

// ---- return visits ----

#[test]
fn a_delivered_case_is_sampled_once_a_month_and_its_visit_recorded_once() {
    let (events, state) = given(delivered_by_mail()).when(sample("2026-10")).then_ok();
    assert_eq!(types(&events), ["ReturnVisitSampled"]);
    given_state(state.clone()).when(sample("2026-10")).then_nothing();
    let state = given_state(state).when(record_visit(true, 5)).then_ok().1;
    assert!(state.return_visit(visit_id()).unwrap().result.is_some());
    given_state(state)
        .when(record_visit(true, 4))
        .then_error(IssuanceError::ReturnVisitAlreadyRecorded(visit_id().to_string()));
}

#[test]
fn sampling_needs_a_delivery_and_a_month() {
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(sample("2026-10"))
        .then_error(IssuanceError::NotDelivered { action: "a return visit" });
    given(delivered_by_mail()).when(sample("2026-13")).then_rejected(&["period"]);
    assert!(valid_period("2026-01") && !valid_period("2026-1") && !valid_period("26-01-01"));
}

#[test]
fn a_visit_score_goes_with_reaching_the_applicant() {
    let sampled: Vec<_> = delivered_by_mail().into_iter().chain([sample("2026-10")]).collect();
    given(sampled.clone()).when(record_visit(true, 0)).then_rejected(&["score"]);
    given(sampled.clone()).when(record_visit(false, 3)).then_rejected(&["score"]);
    let (events, _) = given(sampled).when(record_visit(false, 0)).then_ok();
    let Event::ReturnVisitRecorded(r) = &events[0] else { panic!() };
    assert!(!r.reached);
    given(delivered_by_mail())
        .when(record_visit(true, 5))
        .then_error(IssuanceError::NoSuchReturnVisit(visit_id().to_string()));
}

#[test]
fn replaying_the_stream_gives_the_same_state() {
    let mut state = CaseIssuance::default();
    let mut all = Vec::new();
    for c in badly_rated() {
        let events = state.decide(c).unwrap();
        state = events.iter().fold(state, CaseIssuance::evolve);
        all.extend(events);
    }
    assert_eq!(CaseIssuance::replay(&all), state);
    assert_eq!(state.version, all.len() as u64);
    assert_eq!(CaseIssuance::stream_id(Uuid::nil()), "issuance-00000000-0000-0000-0000-000000000000");
}

#[test]
fn every_event_advances_the_version_by_one() {
    let rectified_and_visited = [
        delivered_by_mail(),
        vec![rate(1), verify(RectificationFinding::JustifiedSimple, None), rectify(), close(date(2026, 10, 26))],
        vec![sample("2026-10"), record_visit(true, 5)],
    ]
    .concat();
    let events = [
        testing::history::<CaseIssuance>(rectified_and_visited),
        testing::history::<CaseIssuance>([badly_rated(), vec![review()]].concat()),
        testing::history::<CaseIssuance>(
            [badly_rated(), vec![verify(RectificationFinding::NoLegalBasis, None), explain()]].concat(),
        ),
        testing::history::<CaseIssuance>(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001"), fail(1, "EMS1001")]),
        testing::history::<CaseIssuance>(vec![
            early(vec![licence()]),
            notify(1),
            pickup(1, collector(CollectorKind::Applicant, false), true),
        ]),
    ]
    .concat();
    let kinds: BTreeSet<_> = events.iter().map(Event::event_type).collect();
    assert_eq!(kinds.len(), 16, "every kind of issuance event: {kinds:?}");
    testing::assert_version_counts_events::<CaseIssuance>(&events);
}

//! The assessment: scoring rules in versions, an assessment run over
//! tracking's case items (a fixed answer here; the journeys run it against
//! the real tracking) and the office's own complaints, every count backed
//! by its evidence and every opinion of it in the events; findings until it
//! is finalised; the CSV; refusals by role and bad input, nothing recorded.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::tracking::v1 as tracking;

use crate::helpers::*;

fn task(id: &str, department: &str, person: &str, on_time: bool) -> tracking::AssessmentTask {
    tracking::AssessmentTask {
        task_id: id.into(),
        case_id: format!("0190f3c2-7a1e-7c3e-8f00-0000000000{id}"),
        department: department.into(),
        person: person.into(),
        on_time,
        ..Default::default()
    }
}

/// October's case items: samr finished two tasks (one late), got a bad and
/// a good rating and one justified rectification; tax finished one on time.
fn october() -> tracking::ListAssessmentItemsResponse {
    let rating = |id: &str, score: u32| tracking::AssessmentRating {
        rating_id: id.into(),
        case_id: "0190f3c2-7a1e-7c3e-8f00-0000000000a1".into(),
        department: "samr".into(),
        score,
        persons: vec!["agent-samr".into()],
        ..Default::default()
    };
    tracking::ListAssessmentItemsResponse {
        tasks: vec![
            task("a1", "samr", "agent-samr", true),
            task("a2", "samr", "agent-samr", false),
            task("a3", "tax", "agent-tax", true),
        ],
        ratings: vec![rating("r1", 1), rating("r2", 5)],
        rectifications: vec![tracking::AssessmentRectification {
            rectification_id: "x1".into(),
            case_id: "0190f3c2-7a1e-7c3e-8f00-0000000000a1".into(),
            department: "samr".into(),
            persons: vec!["agent-samr".into()],
            verdict: tracking::RectificationVerdict::Justified as i32,
            ..Default::default()
        }],
        as_of: None,
    }
}

/// A complaint about samr, assigned to agent-samr, answered and closed
/// (upheld) — and one closed as unfounded. Returns the upheld one's id.
async fn complaints(app: &TestApp) -> String {
    let mut ids = Vec::new();
    for unfounded in [false, true] {
        let o = app.opinion(pb::OpinionKind::Complaint, "samr").await;
        let assign = pb::AssignOpinionRequest {
            idempotency_key: key(),
            opinion_id: o.opinion_id.clone(),
            department: "samr".into(),
            person: "agent-samr".into(),
            ..Default::default()
        };
        app.supervisor().assign_opinion(assign).await.unwrap();
        if !unfounded {
            let answer = pb::AnswerOpinionRequest {
                idempotency_key: key(),
                opinion_id: o.opinion_id.clone(),
                answer: "已整改".into(),
                ..Default::default()
            };
            app.agent("samr").answer_opinion(answer).await.unwrap();
        }
        let close = pb::CloseOpinionRequest {
            idempotency_key: key(),
            opinion_id: o.opinion_id.clone(),
            unfounded,
            note: "核实".into(),
            ..Default::default()
        };
        app.supervisor().close_opinion(close).await.unwrap();
        ids.push(o.opinion_id);
    }
    ids.remove(0)
}

fn run(kind: pb::AssessmentKind) -> pb::RunAssessmentRequest {
    pb::RunAssessmentRequest {
        idempotency_key: key(),
        from_month: "2026-10".into(),
        to_month: "2026-10".into(),
        kind: kind as i32,
        name: "2026年10月考核".into(),
    }
}

async fn run_as_supervisor(app: &TestApp, kind: pb::AssessmentKind) -> pb::Assessment {
    app.assessor(Role::Supervisor).run_assessment(run(kind)).await.unwrap().into_inner().assessment.unwrap()
}

fn line(s: &pb::SubjectScore, indicator: pb::AssessmentIndicator) -> &pb::ScoreLine {
    s.lines.iter().find(|l| l.indicator == indicator as i32).unwrap_or_else(|| panic!("no line {indicator:?}"))
}

#[tokio::test]
async fn each_department_is_scored_from_its_items_and_complaints_and_every_count_is_its_evidence() {
    let app = spawn_app().await;
    app.items.set(october());
    let upheld = complaints(&app).await;

    let a = run_as_supervisor(&app, pb::AssessmentKind::Departments).await;
    assert_eq!(
        (a.name.as_str(), a.from_month.as_str(), a.status),
        ("2026年10月考核", "2026-10", pb::AssessmentStatus::Draft as i32)
    );
    assert_eq!((a.rules.as_ref().unwrap().version, a.run_by.as_str()), (0, "supervisor-001"));
    let subjects: Vec<&str> = a.subjects.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(subjects, ["tax", "samr"], "highest total first");
    let samr = &a.subjects[1];
    let on_time = line(samr, pb::AssessmentIndicator::OnTimeRate);
    assert_eq!((on_time.count, on_time.out_of, on_time.points), (1, 2, 20.0));
    let bad = line(samr, pb::AssessmentIndicator::BadRatingRate);
    assert_eq!((bad.count, bad.out_of, bad.points), (1, 2, 10.0));
    assert_eq!(line(samr, pb::AssessmentIndicator::Rectifications).points, 10.0);
    let opinions = line(samr, pb::AssessmentIndicator::OpinionsUpheld);
    assert_eq!((opinions.count, opinions.points), (1, 5.0), "the unfounded complaint is not counted");
    assert_eq!(opinions.evidence[0].id, upheld);
    assert!(
        samr.lines.iter().all(|l| l.indicator != pb::AssessmentIndicator::ReportPunctuality as i32),
        "no report due"
    );
    assert!((samr.total - 45.0 / 85.0 * 100.0).abs() < 1e-9, "{}", samr.total);
    assert_eq!(a.subjects[0].total, 100.0);

    // Every count is the number of its evidence that counts; a rate's
    // evidence is all of its out_of; every opinion is in the events.
    for line in a.subjects.iter().flat_map(|s| &s.lines) {
        assert_eq!(line.count as usize, line.evidence.iter().filter(|e| e.counts).count(), "{line:?}");
        if line.out_of > 0 {
            assert_eq!(line.out_of as usize, line.evidence.len(), "{line:?}");
        }
        for e in line.evidence.iter().filter(|e| e.kind == "opinion") {
            assert!(!app.event_types(&format!("opinion-{}", e.id)).await.is_empty(), "{e:?}");
        }
    }
    // Frozen in its stream; read back unchanged.
    assert_eq!(app.event_types(&format!("assessment-{}", a.assessment_id)).await, ["AssessmentRecorded"]);
    let got = app
        .assessor(Role::Admin)
        .get_assessment(pb::GetAssessmentRequest { assessment_id: a.assessment_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert_eq!(got, a);
    let list =
        app.assessor(Role::Admin).list_assessments(pb::ListAssessmentsRequest::default()).await.unwrap().into_inner();
    assert_eq!((list.assessments.len(), list.assessments[0].subjects), (1, 2));
}

#[tokio::test]
async fn persons_are_scored_by_what_they_handled_without_report_punctuality() {
    let app = spawn_app().await;
    app.items.set(october());
    complaints(&app).await;
    let a = run_as_supervisor(&app, pb::AssessmentKind::Persons).await;
    let subjects: Vec<&str> = a.subjects.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(subjects, ["agent-tax", "agent-samr"]);
    let samr = &a.subjects[1];
    assert_eq!(samr.lines.len(), 4);
    assert_eq!(line(samr, pb::AssessmentIndicator::OpinionsUpheld).count, 1, "assigned to agent-samr");
}

#[tokio::test]
async fn new_rules_are_a_new_version_and_an_earlier_assessment_stays_as_it_was() {
    let app = spawn_app().await;
    app.items.set(october());
    let before = run_as_supervisor(&app, pb::AssessmentKind::Departments).await;
    let rule = |indicator: pb::AssessmentIndicator, weight: f64, method: pb::ScoringMethod| pb::ScoringRule {
        indicator: indicator as i32,
        weight,
        method: method as i32,
        points_each: 0.0,
    };
    let rules = pb::ScoringRules {
        rules: vec![
            rule(pb::AssessmentIndicator::OnTimeRate, 80.0, pb::ScoringMethod::Rate),
            rule(pb::AssessmentIndicator::BadRatingRate, 20.0, pb::ScoringMethod::InverseRate),
        ],
    };
    let set = app
        .assessor(Role::Supervisor)
        .set_scoring_rules(pb::SetScoringRulesRequest { idempotency_key: key(), rules: Some(rules.clone()) })
        .await
        .unwrap()
        .into_inner()
        .rules
        .unwrap();
    assert_eq!((set.version, set.set_by.as_str(), set.rules.as_ref()), (1, "supervisor-001", Some(&rules)));
    let after = run_as_supervisor(&app, pb::AssessmentKind::Departments).await;
    assert_eq!(after.rules.as_ref().unwrap().version, 1);
    let samr = |a: &pb::Assessment| a.subjects.iter().find(|s| s.subject == "samr").unwrap().total;
    assert!((samr(&after) - 50.0).abs() < 1e-9, "80 × 1/2 + 20 × 1/2: {}", samr(&after));
    let again = app
        .assessor(Role::Supervisor)
        .get_assessment(pb::GetAssessmentRequest { assessment_id: before.assessment_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert_eq!(again, before, "scored by version 0, frozen");
    let rules_now =
        app.assessor(Role::Admin).get_scoring_rules(pb::GetScoringRulesRequest::default()).await.unwrap().into_inner();
    assert_eq!((rules_now.version_in_force, rules_now.rules.unwrap().version), (1, 1));
    let defaults = app
        .assessor(Role::Admin)
        .get_scoring_rules(pb::GetScoringRulesRequest { version: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(defaults.version_in_force, 1);
    let missing =
        app.assessor(Role::Admin).get_scoring_rules(pb::GetScoringRulesRequest { version: 7 }).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn bad_rules_and_bad_runs_are_refused_with_every_field_and_record_nothing() {
    let app = spawn_app().await;
    let mut defaults = app
        .assessor(Role::Supervisor)
        .get_scoring_rules(pb::GetScoringRulesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rules
        .unwrap()
        .rules
        .unwrap();
    defaults.rules[1].indicator = pb::AssessmentIndicator::OnTimeRate as i32;
    defaults.rules[2].weight = 0.0;
    let status = app
        .assessor(Role::Supervisor)
        .set_scoring_rules(pb::SetScoringRulesRequest { idempotency_key: key(), rules: Some(defaults.clone()) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(fields(&status), ["rules[1].indicator", "rules[2].weight", "rules"]);
    defaults.rules[0].method = pb::ScoringMethod::Unspecified as i32;
    let status = app
        .assessor(Role::Supervisor)
        .set_scoring_rules(pb::SetScoringRulesRequest { idempotency_key: key(), rules: Some(defaults) })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["rules[0].method"]);

    for (from, to, kind, name, expected) in [
        ("2026-09", "2026-11", pb::AssessmentKind::Departments, "x", vec!["to_month"]),
        ("2025-09", "2026-10", pb::AssessmentKind::Departments, "x", vec!["to_month"]),
        ("2026-10", "2026-09", pb::AssessmentKind::Persons, "x", vec!["to_month"]),
        ("10月", "", pb::AssessmentKind::Unspecified, " ", vec!["from_month", "to_month", "kind", "name"]),
    ] {
        let request = pb::RunAssessmentRequest {
            idempotency_key: key(),
            from_month: from.into(),
            to_month: to.into(),
            kind: kind as i32,
            name: name.into(),
        };
        let status = app.assessor(Role::Supervisor).run_assessment(request).await.unwrap_err();
        assert_eq!(
            (status.code(), fields(&status)),
            (Code::InvalidArgument, expected.iter().map(|f| f.to_string()).collect())
        );
    }
    assert_eq!(
        (app.count("events").await, app.count("scoring_rules").await, app.count("assessments").await),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn only_supervisors_run_and_judge_and_admins_read() {
    let app = spawn_app().await;
    app.items.set(october());
    for role in [Role::Agent, Role::Clerk, Role::Officer, Role::Applicant, Role::Admin] {
        let status = app.assessor(role).run_assessment(run(pb::AssessmentKind::Departments)).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role:?}");
        let status = app
            .assessor(role)
            .set_scoring_rules(pb::SetScoringRulesRequest { idempotency_key: key(), rules: None })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role:?}");
    }
    for role in [Role::Agent, Role::Clerk, Role::Officer, Role::Applicant] {
        let status = app.assessor(role).list_assessments(pb::ListAssessmentsRequest::default()).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role:?}");
    }
    assert_eq!(app.count("events").await, 0);
    app.assessor(Role::Admin).list_assessments(pb::ListAssessmentsRequest::default()).await.unwrap();
}

#[tokio::test]
async fn findings_are_recorded_until_the_assessment_is_finalised_and_the_csv_carries_both() {
    let app = spawn_app().await;
    app.items.set(october());
    let a = run_as_supervisor(&app, pb::AssessmentKind::Departments).await;
    let finding = |subject: &str, text: &str| pb::RecordFindingRequest {
        idempotency_key: key(),
        assessment_id: a.assessment_id.clone(),
        subject: subject.into(),
        measure: pb::AccountabilityMeasure::Talk as i32,
        text: text.into(),
    };
    let with = app
        .assessor(Role::Supervisor)
        .record_finding(finding("samr", "超期办结一件，约谈分管负责人"))
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    assert_eq!((with.findings.len(), with.findings[0].recorded_by.as_str()), (1, "supervisor-001"));
    let status = app.assessor(Role::Supervisor).record_finding(finding("health", "")).await.unwrap_err();
    assert_eq!(
        (status.code(), fields(&status)),
        (Code::InvalidArgument, vec!["subject".to_owned(), "text".to_owned()])
    );
    let unknown = pb::RecordFindingRequest { assessment_id: uuid::Uuid::now_v7().to_string(), ..finding("samr", "x") };
    assert_eq!(app.assessor(Role::Supervisor).record_finding(unknown).await.unwrap_err().code(), Code::NotFound);

    let finalize = || pb::FinalizeAssessmentRequest { idempotency_key: key(), assessment_id: a.assessment_id.clone() };
    let done =
        app.assessor(Role::Supervisor).finalize_assessment(finalize()).await.unwrap().into_inner().assessment.unwrap();
    assert!(done.status == pb::AssessmentStatus::Finalized as i32 && done.finalized_at.is_some());
    app.assessor(Role::Supervisor).finalize_assessment(finalize()).await.unwrap();
    let events = app.count("events").await;
    let status = app.assessor(Role::Supervisor).record_finding(finding("samr", "再记一条")).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(app.count("events").await, events, "nothing recorded");
    assert_eq!(
        app.event_types(&format!("assessment-{}", a.assessment_id)).await,
        ["AssessmentRecorded", "AssessmentFindingRecorded", "AssessmentFinalized"]
    );

    let csv = app
        .assessor(Role::Admin)
        .export_assessment_csv(pb::ExportAssessmentCsvRequest { assessment_id: a.assessment_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(csv.file_name, "yiciban-assessment-2026-10-2026-10.csv");
    let text = String::from_utf8(csv.content).unwrap();
    assert!(text.starts_with('\u{feff}'));
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 1 + 1, "{text}");
    assert!(lines[2].starts_with("2026年10月考核,2026-10至2026-10,0,samr,58.82,20.00,1,2,"), "{}", lines[2]);
    assert!(lines[4].contains("约谈") && lines[4].contains("超期办结一件"), "{}", lines[4]);
}

#[tokio::test]
async fn an_assessment_too_large_to_freeze_in_one_event_is_refused_and_records_nothing() {
    let app = spawn_app().await;
    // Some 60 bytes of evidence each: 20 000 tasks come to more than 768 KiB.
    let tasks = (0..20_000).map(|i| task(&format!("{i:05}"), "samr", "agent-samr", i % 2 == 0)).collect();
    app.items.set(tracking::ListAssessmentItemsResponse { tasks, ..Default::default() });
    let Err(status) = app.assessor(Role::Supervisor).run_assessment(run(pb::AssessmentKind::Departments)).await else {
        panic!("an assessment over the bound was recorded");
    };
    assert_eq!(status.code(), Code::FailedPrecondition, "{}", status.message());
    assert!(status.message().contains("shorter period"), "{}", status.message());
    assert_eq!((app.count("events").await, app.count("assessments").await), (0, 0));
}

#[tokio::test]
async fn report_punctuality_counts_each_catalog_departments_report_due_in_the_period_and_whether_it_was_on_time() {
    let app = spawn_app().await;
    app.catalog.add_department("health", "卫生健康委");
    app.items.set(october());
    // samr submits September's report on 9 October; health never does.
    app.clock.set(cst("2026-10-09T09:00"));
    let submit = pb::SubmitReportRequest {
        idempotency_key: key(),
        period: "2026-09".into(),
        text: Some(pb::ReportText { difficulties: "无".into(), publicity: "窗口宣传一次".into() }),
        ..Default::default()
    };
    app.department("samr").submit_report(submit).await.unwrap();

    // On 16 October September's reports are due; October's are not yet.
    app.clock.set(cst("2026-10-16T09:00"));
    let request = pb::RunAssessmentRequest { from_month: "2026-09".into(), ..run(pb::AssessmentKind::Departments) };
    let a = app.assessor(Role::Supervisor).run_assessment(request).await.unwrap().into_inner().assessment.unwrap();
    let of = |subject: &str| a.subjects.iter().find(|s| s.subject == subject).unwrap_or_else(|| panic!("{subject}"));
    let samr = line(of("samr"), pb::AssessmentIndicator::ReportPunctuality);
    assert_eq!((samr.count, samr.out_of, samr.points), (1, 1, 15.0));
    assert_eq!((samr.evidence[0].kind.as_str(), samr.evidence[0].id.as_str()), ("report", "2026-09/samr"));
    let health = line(of("health"), pb::AssessmentIndicator::ReportPunctuality);
    assert_eq!((health.count, health.out_of, health.points), (0, 1, 0.0), "nothing submitted by the 15th");
    // Each report is the stream of its department and month.
    let id = yiciban_domain::reporting::report_id(
        &yiciban_domain::values::DepartmentCode::parse("samr").unwrap(),
        yiciban_domain::reporting::ReportPeriod::parse("2026-09").unwrap(),
    );
    assert!(app.event_types(&format!("report-{id}")).await.contains(&"ReportSubmitted".to_owned()));
    // Persons owe no reports.
    let request = pb::RunAssessmentRequest { from_month: "2026-09".into(), ..run(pb::AssessmentKind::Persons) };
    let p = app.assessor(Role::Supervisor).run_assessment(request).await.unwrap().into_inner().assessment.unwrap();
    assert!(
        p.subjects
            .iter()
            .flat_map(|s| &s.lines)
            .all(|l| l.indicator != pb::AssessmentIndicator::ReportPunctuality as i32)
    );
}

//! 考核 in the workbench (ADR 0040): a supervisor runs an assessment of
//! September from the list page (a refused form first, with the service's
//! words next to the fields and nothing recorded), opens it, follows a
//! count to its evidence and the evidence to the opinion's page, records a
//! finding, finalises it, downloads the CSV; the rules page refuses weights
//! that do not sum to 100 and keeps a valid change as the next version; an
//! admin reads, an agent is refused.

use reqwest::StatusCode;
use yiciban_platform::Role;
use yiciban_proto::supervision::v1 as pb;

use crate::helpers::{Page, spawn_app};

/// The words next to the input `input`.
fn error_at<'a>(page: &'a Page, input: &str) -> &'a str {
    let marker = format!("id=\"{input}-error\" role=\"alert\">");
    let at = page.body.find(&marker).unwrap_or_else(|| panic!("an error at {input}:\n{}", page.body)) + marker.len();
    page.body[at..].split('<').next().unwrap()
}

/// A complaint about samr, assigned to agent-samr-1, answered and closed:
/// upheld.
async fn an_upheld_complaint(app: &crate::helpers::TestApp) -> String {
    let mut supervisor = app.supervision(Role::Supervisor, "sup-001", None);
    let request = pb::RecordOpinionRequest {
        idempotency_key: "complaint-1".into(),
        kind: pb::OpinionKind::Complaint as i32,
        channel: pb::OpinionChannel::Hotline12345 as i32,
        summary: "窗口推诿".into(),
        department: "samr".into(),
        ..Default::default()
    };
    let id = supervisor.record_opinion(request).await.unwrap().into_inner().opinion.unwrap().opinion_id;
    let assign = pb::AssignOpinionRequest {
        idempotency_key: "assign-1".into(),
        opinion_id: id.clone(),
        department: "samr".into(),
        person: "agent-samr-1".into(),
        ..Default::default()
    };
    supervisor.assign_opinion(assign).await.unwrap();
    let answer = pb::AnswerOpinionRequest {
        idempotency_key: "answer-1".into(),
        opinion_id: id.clone(),
        answer: "已批评教育".into(),
        ..Default::default()
    };
    app.supervision(Role::Agent, "agent-samr-1", Some("samr")).answer_opinion(answer).await.unwrap();
    let close =
        pb::CloseOpinionRequest { idempotency_key: "close-1".into(), opinion_id: id.clone(), ..Default::default() };
    supervisor.close_opinion(close).await.unwrap();
    id
}

#[tokio::test]
async fn a_supervisor_runs_an_assessment_follows_a_count_to_its_evidence_records_a_finding_and_finalises() {
    let app = spawn_app().await;
    let complaint = an_upheld_complaint(&app).await;
    let supervisor = app.signed_in("sup-001").await;
    let home = supervisor.get("/").await;
    assert!(home.body.contains("href=\"/assessments\""), "the nav links 考核: {}", home.body);
    let list = supervisor.get("/assessments").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("还没有开展考核"), "{}", list.body);

    let (csrf, key) = (list.csrf(), list.field_after("action=\"/assessments\"", "key"));
    let bad = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("name", " "),
        ("kind", "departments"),
        ("from_month", "2026-09"),
        ("to_month", "2026-08"),
    ];
    let refused = supervisor.post("/assessments", &bad, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "to_month"), "不能早于起始月份 2026-09");
    assert_eq!(error_at(&refused, "name"), "考核名称应为1至100字");
    assert!(refused.body.contains("value=\"2026-08\""), "what was typed comes back: {}", refused.body);
    let mut reader = app.supervision_assessments(Role::Admin, "admin-001");
    let none = reader.list_assessments(pb::ListAssessmentsRequest::default()).await.unwrap().into_inner();
    assert!(none.assessments.is_empty(), "the refused form recorded nothing");

    let key = refused.field_after("action=\"/assessments\"", "key");
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("name", "9月部门考核"),
        ("kind", "departments"),
        ("from_month", "2026-09"),
        ("to_month", "2026-09"),
    ];
    let done = supervisor.post("/assessments", &form, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = supervisor.follow(done.location()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("考核已开展") && page.body.contains("9月部门考核"), "{}", page.body);
    // samr: one complaint upheld, 10 − 5 points; its count links to the
    // evidence, and the evidence to the opinion's page.
    assert!(page.body.contains("（samr）</td>"), "the department by its name and code: {}", page.body);
    assert!(page.body.contains("5.00 <a href=\"#evidence-0-opinions_upheld\">（1）</a>"), "{}", page.body);
    assert!(page.body.contains(&format!("<a href=\"/opinions/{complaint}\">")), "{}", page.body);
    let opinion = supervisor.get(&format!("/opinions/{complaint}")).await;
    assert!(opinion.status == StatusCode::OK && opinion.body.contains("窗口推诿"), "{}", opinion.body);

    let id = done.location().trim_start_matches("/assessments/").split('?').next().unwrap().to_owned();
    let action = format!("/assessments/{id}/finding");
    let key = page.field_after(&format!("action=\"{action}\""), "key");
    let empty =
        [("csrf", csrf.as_str()), ("key", key.as_str()), ("subject", "samr"), ("measure", "talk"), ("text", "")];
    let refused = supervisor.post(&action, &empty, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "text"), "请填写发现的问题");
    let key = refused.field_after(&format!("action=\"{action}\""), "key");
    let finding = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("subject", "samr"),
        ("measure", "talk"),
        ("text", "窗口推诿属实，约谈科室负责人"),
    ];
    let done = supervisor.post(&action, &finding, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = supervisor.follow(done.location()).await;
    assert!(
        page.body.contains("问题已记录") && page.body.contains("约谈") && page.body.contains("窗口推诿属实"),
        "{}",
        page.body
    );

    let finalize = format!("/assessments/{id}/finalize");
    let key = page.field_after(&format!("action=\"{finalize}\""), "key");
    let done = supervisor.post(&finalize, &[("csrf", csrf.as_str()), ("key", key.as_str())], &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = supervisor.follow(done.location()).await;
    assert!(
        page.body.contains("已定稿") && !page.body.contains(&format!("action=\"{action}\"")),
        "no more findings: {}",
        page.body
    );

    let csv = supervisor.get(&format!("/assessments/{id}/csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.starts_with('\u{feff}') && csv.body.contains("9月部门考核") && csv.body.contains("约谈"),
        "{}",
        csv.body
    );

    let admin = app.signed_in("admin-001").await;
    let read = admin.get(&format!("/assessments/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let agent = app.signed_in("agent-samr-1").await;
    assert_eq!(agent.get("/assessments").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_rules_page_refuses_weights_that_do_not_sum_to_100_and_keeps_a_valid_change_as_the_next_version() {
    let app = spawn_app().await;
    let supervisor = app.signed_in("sup-001").await;
    let page = supervisor.get("/assessments/rules").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("第 0 版（默认）") && page.body.contains("name=\"weight_on_time_rate\" value=\"40\""),
        "{}",
        page.body
    );
    let (csrf, key) = (page.csrf(), page.field_after("action=\"/assessments/rules\"", "key"));
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("weight_on_time_rate", "70"),
        ("method_on_time_rate", "rate"),
        ("weight_bad_rating_rate", "20"),
        ("method_bad_rating_rate", "inverse_rate"),
    ];
    let refused = supervisor.post("/assessments/rules", &form, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "rules"), "各项分值之和应为100");
    assert!(refused.body.contains("name=\"weight_on_time_rate\" value=\"70\""), "{}", refused.body);
    let key = refused.field_after("action=\"/assessments/rules\"", "key");
    form[1] = ("key", key.as_str());
    form[2] = ("weight_on_time_rate", "80");
    let done = supervisor.post("/assessments/rules", &form, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = supervisor.follow(done.location()).await;
    assert!(page.body.contains("考核规则已更新") && page.body.contains("第 1 版（sup-001 设置）"), "{}", page.body);
    assert!(page.body.contains("name=\"weight_on_time_rate\" value=\"80\""), "{}", page.body);
}

/// True when the service's event table (`schema`) holds an event of
/// `stream` whose payload carries `id`.
async fn in_the_events(app: &crate::helpers::TestApp, schema: &str, stream: &str, id: &str) -> bool {
    let statement = yiciban_eventstore::sql::schema_sql(
        schema,
        "SELECT EXISTS (SELECT 1 FROM {schema}.events WHERE stream_id = $1 AND position($2 IN payload) > 0)",
    );
    sqlx::query_scalar(statement).bind(stream).bind(id.as_bytes()).fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn the_assessments_numbers_trace_back_to_the_events_of_the_tasks_ratings_and_complaints_behind_them() {
    use yiciban_proto::tracking::v1 as tracking;

    let app = spawn_app().await;
    // A case whose every task is approved, delivered and rated 1 for the
    // maternity hospital (a rectification opens); a complaint upheld.
    let (case_id, _rectification) = crate::rectifications::badly_rated(&app, "assess-1").await;
    app.summary_when(&case_id, "the rating projected", |s| s.last_event_type == "RectificationOpened").await;
    let complaint = an_upheld_complaint(&app).await;

    let mut office = app.supervision_assessments(Role::Supervisor, "sup-001");
    let run = |kind: pb::AssessmentKind| pb::RunAssessmentRequest {
        idempotency_key: format!("run-{kind:?}"),
        from_month: "2026-09".into(),
        to_month: "2026-09".into(),
        kind: kind as i32,
        name: "9月考核".into(),
    };
    let a = office.run_assessment(run(pb::AssessmentKind::Departments)).await.unwrap().into_inner().assessment.unwrap();
    let report = app
        .tracking(Role::Supervisor, "sup-001", None)
        .monthly_statistics(tracking::MonthlyStatisticsRequest { period: "2026-09".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();

    let mut traced = 0;
    for subject in &a.subjects {
        let row = report.by_department.iter().find(|r| r.key == subject.subject);
        for line in &subject.lines {
            // Each count is the number of its evidence that counts.
            assert_eq!(line.count as usize, line.evidence.iter().filter(|e| e.counts).count(), "{line:?}");
            if line.out_of > 0 {
                assert_eq!(line.out_of as usize, line.evidence.len(), "{line:?}");
            }
            // The same figures as the month's statistics.
            let (on_time, finished, bad, rated) =
                row.map_or((0, 0, 0, 0), |r| (r.tasks_on_time, r.tasks_finished, r.bad_ratings, r.ratings));
            if line.indicator == pb::AssessmentIndicator::OnTimeRate as i32 {
                assert_eq!((line.count, line.out_of), (on_time, finished), "{}", subject.subject);
            }
            if line.indicator == pb::AssessmentIndicator::BadRatingRate as i32 {
                assert_eq!((line.count, line.out_of), (bad, rated), "{}", subject.subject);
            }
            // Each item is in the events of the service that owns it.
            for e in &line.evidence {
                let found = match e.kind.as_str() {
                    "task" => in_the_events(&app, "tasks", &format!("task-{}", e.id), &e.id).await,
                    "rating" | "rectification" => {
                        assert_eq!(e.case_id, case_id);
                        in_the_events(&app, "issuance", &format!("issuance-{}", e.case_id), &e.id).await
                    }
                    "opinion" => in_the_events(&app, "supervision", &format!("opinion-{}", e.id), &e.id).await,
                    other => panic!("evidence of an unexpected kind {other}"),
                };
                assert!(found, "{e:?} is not in the events");
                traced += 1;
            }
        }
    }
    let maternity = a.subjects.iter().find(|s| s.subject == crate::helpers::MATERNITY).expect("the rated department");
    let bad = maternity.lines.iter().find(|l| l.indicator == pb::AssessmentIndicator::BadRatingRate as i32).unwrap();
    assert_eq!((bad.count, bad.out_of), (1, 1));
    let samr = a.subjects.iter().find(|s| s.subject == "samr").expect("the complained-of department");
    let upheld = samr.lines.iter().find(|l| l.indicator == pb::AssessmentIndicator::OpinionsUpheld as i32).unwrap();
    assert_eq!(upheld.evidence[0].id, complaint);
    let tasks: usize = report.by_department.iter().map(|r| r.tasks_finished as usize).sum();
    assert!(tasks >= 2 && traced >= tasks + 2, "every task, the rating and the complaint traced: {traced}");

    // Persons: each finished task counts for the agent who handled it.
    let p = office.run_assessment(run(pb::AssessmentKind::Persons)).await.unwrap().into_inner().assessment.unwrap();
    let handled: u32 = p
        .subjects
        .iter()
        .flat_map(|s| &s.lines)
        .filter(|l| l.indicator == pb::AssessmentIndicator::OnTimeRate as i32)
        .map(|l| l.out_of)
        .sum();
    assert_eq!(handled as usize, tasks, "{:?}", p.subjects.iter().map(|s| &s.subject).collect::<Vec<_>>());
}

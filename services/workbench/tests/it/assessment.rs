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
    assert!(page.body.contains("<td>samr</td>"), "{}", page.body);
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

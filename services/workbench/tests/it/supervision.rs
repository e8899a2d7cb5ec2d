//! 咨询登记 and 意见处理 in the workbench (ADR 0037): a clerk records a
//! consultation with the quick form and sees it in today's list (the
//! caller's phone never shown); a form without a question and with a bad
//! phone comes back with the service's words next to each field, nothing
//! recorded; a supervisor's queue shows an opinion with its due day, an
//! agent of another department sees none of it, and a clerk is refused.

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

#[tokio::test]
async fn a_clerk_records_a_consultation_and_a_refused_form_says_why_next_to_the_field() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let home = clerk.get("/").await;
    assert!(home.body.contains("href=\"/consultations\""), "the nav links 咨询登记: {}", home.body);

    let page = clerk.get("/consultations").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("今天还没有登记咨询"), "{}", page.body);
    let (csrf, key) = (page.csrf(), page.field_after("action=\"/consultations\"", "key"));
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("channel", "12345"),
        ("package_id", "newborn-birth"),
        ("question", "新生儿落户要带哪些材料？"),
        ("answer", "出生医学证明和户口簿。"),
        ("contact_phone", "13912345678"),
    ];
    let done = clerk.post("/consultations", &form, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = clerk.follow(done.location()).await;
    assert!(page.body.contains("咨询已登记"), "{}", page.body);
    assert!(page.body.contains("新生儿落户要带哪些材料？") && page.body.contains("12345热线"), "{}", page.body);
    assert!(!page.body.contains("13912345678"), "{}", page.body);

    let key = page.field_after("action=\"/consultations\"", "key");
    let bad = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("channel", "window"),
        ("question", " "),
        ("contact_phone", "call me"),
    ];
    let refused = clerk.post("/consultations", &bad, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "question"), "咨询内容不能为空");
    assert!(error_at(&refused, "contact_phone").contains("联系电话"), "{}", refused.body);
    assert!(refused.body.contains("value=\"call me\""), "what was typed comes back: {}", refused.body);
    let mut supervision = app.supervision(Role::Supervisor, "sup-001", None);
    let listed = supervision.list_consultations(pb::ListConsultationsRequest::default()).await.unwrap();
    assert_eq!(listed.into_inner().total, 1, "the refused form recorded nothing");
}

#[tokio::test]
async fn the_opinions_queue_shows_a_supervisor_the_due_day_and_an_agent_only_its_departments() {
    let app = spawn_app().await;
    let request = pb::RecordOpinionRequest {
        idempotency_key: "opinion-1".into(),
        kind: pb::OpinionKind::Complaint as i32,
        channel: pb::OpinionChannel::ComplaintPlatform as i32,
        summary: "窗口排队时间过长".into(),
        department: "samr".into(),
        ..Default::default()
    };
    let mut supervision = app.supervision(Role::Supervisor, "sup-001", None);
    let opinion = supervision.record_opinion(request).await.unwrap().into_inner().opinion.unwrap();
    let assign = pb::AssignOpinionRequest {
        idempotency_key: "assign-1".into(),
        opinion_id: opinion.opinion_id.clone(),
        department: "samr".into(),
        ..Default::default()
    };
    supervision.assign_opinion(assign).await.unwrap();

    let supervisor = app.signed_in("sup-001").await;
    let home = supervisor.get("/").await;
    assert!(home.body.contains("href=\"/opinions\""), "the nav links 意见处理: {}", home.body);
    let queue = supervisor.get("/opinions").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    // Tuesday 29 September + 5 working days, over the National Day holiday.
    let due = yiciban_proto::convert::wire::date(opinion.due_on.as_ref()).unwrap().to_string();
    assert!(queue.body.contains("窗口排队时间过长") && queue.body.contains(&due), "{}", queue.body);
    assert!(queue.body.contains("投诉") && queue.body.contains("已交办"), "{}", queue.body);

    let outsider = app.signed_in("agent-cdc-1").await;
    let theirs = outsider.get("/opinions").await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert!(!theirs.body.contains("窗口排队时间过长"), "{}", theirs.body);

    let clerk = app.signed_in("clerk-001").await;
    let refused = clerk.get("/opinions").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

/// Posts the form of `action` on the opinion `page` with `fields`.
async fn act(browser: &crate::helpers::Browser, page: &Page, id: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let path = format!("/opinions/{id}/{action}");
    let marker = format!("action=\"{path}\"");
    let (csrf, version, key) = (page.csrf(), page.field_after(&marker, "version"), page.field_after(&marker, "key"));
    let mut form = vec![("csrf", csrf.as_str()), ("version", version.as_str()), ("key", key.as_str())];
    form.extend_from_slice(fields);
    browser.post(&path, &form, &[]).await
}

#[tokio::test]
async fn a_supervisor_assigns_the_department_answers_and_the_supervisor_closes_on_the_opinion_page() {
    let app = spawn_app().await;
    let request = pb::RecordOpinionRequest {
        idempotency_key: "opinion-2".into(),
        kind: pb::OpinionKind::Opinion as i32,
        channel: pb::OpinionChannel::Email as i32,
        summary: "建议延长周六办理时间".into(),
        contact: Some(pb::Contact { name: "李四".into(), phone: "13800001111".into() }),
        ..Default::default()
    };
    let mut supervision = app.supervision(Role::Clerk, "clerk-001", None);
    let id = supervision.record_opinion(request).await.unwrap().into_inner().opinion.unwrap().opinion_id;

    let supervisor = app.signed_in("sup-001").await;
    let queue = supervisor.get("/opinions").await;
    assert!(queue.body.contains(&format!("href=\"/opinions/{id}\"")), "{}", queue.body);
    let page = supervisor.get(&format!("/opinions/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("李*") && page.body.contains("138****1111"), "masked: {}", page.body);
    assert!(!page.body.contains("13800001111"), "{}", page.body);
    assert!(!page.body.contains(&format!("/opinions/{id}/answer")), "not assigned yet: no answer form");
    let done = act(&supervisor, &page, &id, "assign", &[("department", "samr"), ("person", "agent-samr-1")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(supervisor.follow(done.location()).await.body.contains("已交办"));

    let agent = app.signed_in("agent-samr-1").await;
    let page = agent.get(&format!("/opinions/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("138****1111"), "an agent sees no contact: {}", page.body);
    let refused = act(&agent, &page, &id, "answer", &[("answer", " ")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "answer-answer"), "答复内容不能为空");
    let done = act(&agent, &refused, &id, "answer", &[("answer", "已研究，下月起周六延长至17时")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let page = supervisor.get(&format!("/opinions/{id}")).await;
    assert!(page.body.contains("已研究，下月起周六延长至17时"), "{}", page.body);
    let done = act(&supervisor, &page, &id, "close", &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = supervisor.follow(done.location()).await;
    assert!(page.body.contains("已办结") && page.body.contains(&format!("/opinions/{id}/visit")), "{}", page.body);
    let done = act(&supervisor, &page, &id, "visit", &[("satisfied", "1"), ("note", "满意")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let outsider = app.signed_in("agent-cdc-1").await;
    assert_eq!(outsider.get(&format!("/opinions/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_supervisors_read_of_a_complainants_contact_is_in_the_audit_trail() {
    let app = spawn_app().await;
    let request = pb::RecordOpinionRequest {
        idempotency_key: "opinion-3".into(),
        kind: pb::OpinionKind::Complaint as i32,
        channel: pb::OpinionChannel::Hotline12345 as i32,
        summary: "办事指南与实际要求不一致".into(),
        contact: Some(pb::Contact { name: "钱七".into(), phone: "13600003333".into() }),
        ..Default::default()
    };
    let mut supervision = app.supervision(Role::Supervisor, "sup-001", None);
    let id = supervision.record_opinion(request).await.unwrap().into_inner().opinion.unwrap().opinion_id;
    let reveal = pb::GetOpinionRequest { opinion_id: id.clone(), reveal_contact: true };
    supervision.get_opinion(reveal).await.unwrap();

    let supervisor = app.signed_in("sup-001").await;
    let page = supervisor.get("/audit?kind=reads&service=supervision").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&id) && page.body.contains("sup-001"), "{}", page.body);
    assert!(!page.body.contains("13600003333"), "{}", page.body);
}

#[tokio::test]
async fn a_supervisor_draws_answered_opinions_for_return_visits_from_the_queue() {
    let app = spawn_app().await;
    let mut supervision = app.supervision(Role::Supervisor, "sup-001", None);
    let mut agent = app.supervision(Role::Agent, "agent-samr-1", Some("samr"));
    let mut ids = Vec::new();
    for (n, kind) in [pb::OpinionKind::Complaint, pb::OpinionKind::Suggestion].into_iter().enumerate() {
        let request = pb::RecordOpinionRequest {
            idempotency_key: format!("drawn-{n}"),
            kind: kind as i32,
            channel: pb::OpinionChannel::Email as i32,
            summary: format!("第{n}件意见"),
            department: "samr".into(),
            ..Default::default()
        };
        let id = supervision.record_opinion(request).await.unwrap().into_inner().opinion.unwrap().opinion_id;
        let assign = pb::AssignOpinionRequest {
            idempotency_key: format!("assign-{n}"),
            opinion_id: id.clone(),
            person: "agent-samr-1".into(),
            ..Default::default()
        };
        supervision.assign_opinion(assign).await.unwrap();
        let answer = pb::AnswerOpinionRequest {
            idempotency_key: format!("answer-{n}"),
            opinion_id: id.clone(),
            answer: "已答复".into(),
            ..Default::default()
        };
        agent.answer_opinion(answer).await.unwrap();
        ids.push(id);
    }

    let supervisor = app.signed_in("sup-001").await;
    let queue = supervisor.get("/opinions").await;
    assert!(queue.body.contains("action=\"/opinions/sample\""), "{}", queue.body);
    let key = queue.field_after("action=\"/opinions/sample\"", "key");
    let period = queue.field_after("action=\"/opinions/sample\"", "period");
    // A month that is not one: the words next to the field, nothing drawn.
    let csrf = queue.csrf();
    let refused = supervisor
        .post(
            "/opinions/sample",
            &[("csrf", &csrf), ("key", &key), ("period", "2026-13"), ("include_complaints", "1")],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "sample-period").is_empty());
    let none = supervisor.get("/opinions?visit_due=1").await;
    assert!(!none.body.contains("待回访</span>"), "{}", none.body);

    // The complaint always, and 100 % of the rest: both, listed as due.
    let done = supervisor
        .post(
            "/opinions/sample",
            &[
                ("csrf", &csrf),
                ("key", &key),
                ("period", &period),
                ("sample_percent", "100"),
                ("include_complaints", "1"),
            ],
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let due = supervisor.follow(done.location()).await;
    assert!(due.body.contains("本次抽中 2 件"), "{}", due.body);
    for id in &ids {
        assert!(due.body.contains(&format!("href=\"/opinions/{id}\"")), "{}", due.body);
    }
    assert_eq!(due.body.matches("待回访</span>").count(), 2, "{}", due.body);

    // An agent is offered no draw and is refused one.
    let agent = app.signed_in("agent-samr-1").await;
    let theirs = agent.get("/opinions").await;
    assert!(!theirs.body.contains("action=\"/opinions/sample\""), "{}", theirs.body);
    let refused = agent
        .post(
            "/opinions/sample",
            &[("csrf", &agent.get("/opinions").await.csrf()), ("key", "k"), ("period", &period)],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn a_clerk_records_a_complaint_about_a_case_by_its_number_and_a_refused_form_records_nothing() {
    let app = spawn_app().await;
    let submitted = app
        .intake_as_clerk()
        .submit_application(yiciban_testkit::applications::newborn("opinion-new"))
        .await
        .unwrap()
        .into_inner();
    app.summary_when(&submitted.case_id, "the case in tracking", |_| true).await;
    let clerk = app.signed_in("clerk-001").await;
    let form = clerk.get("/opinions/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("href=\"/opinions/new\""), "in the clerk's navigation: {}", form.body);
    let (csrf, key) = (form.csrf(), form.field_after("action=\"/opinions/new\"", "key"));
    let fields = |number: &str, phone: &str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", csrf.clone()),
            ("key", key.clone()),
            ("kind", "complaint".into()),
            ("channel", "12345".into()),
            ("summary", "取证时被要求重复提交材料".into()),
            ("case_number", number.into()),
            ("department", "health-maternity".into()),
            ("contact_name", "赵六".into()),
            ("contact_phone", phone.into()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let clerk = &clerk;
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            clerk.post("/opinions/new", &borrowed, &[]).await
        }
    };
    let listed = || async {
        let request = pb::ListOpinionsRequest { page_size: 200, ..Default::default() };
        app.supervision(Role::Supervisor, "sup-001", None).list_opinions(request).await.unwrap().into_inner().opinions
    };

    // An unknown number, and a phone that is not one: the words next to
    // each field, nothing recorded.
    let refused = post(fields("YCB-19990101-000001", "13800001111")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "case_number"), "没有这个办件编号的办件，请核对");
    assert!(refused.body.contains("取证时被要求重复提交材料"), "what was typed stays: {}", refused.body);
    let refused = post(fields(&submitted.case_number, "12")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "contact_phone").is_empty());
    assert!(listed().await.is_empty());

    let done = post(fields(&submitted.case_number, "13800001111")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let confirmed = clerk.follow(done.location()).await;
    assert!(confirmed.body.contains("已登记。"), "{}", confirmed.body);
    assert!(!confirmed.body.contains("查看并交办"), "a clerk cannot open it: {}", confirmed.body);
    let opinions = listed().await;
    assert_eq!(opinions.len(), 1);
    let o = &opinions[0];
    assert_eq!(
        (o.case_id.as_str(), o.kind, o.channel),
        (submitted.case_id.as_str(), pb::OpinionKind::Complaint as i32, pb::OpinionChannel::Hotline12345 as i32)
    );
    assert!(o.contact_kept && o.recorder == "clerk-001");
    // The same form again (a double click) records nothing more.
    post(fields(&submitted.case_number, "13800001111")).await;
    assert_eq!(listed().await.len(), 1);
}

#[tokio::test]
async fn a_consultation_that_became_an_application_is_linked_to_its_case_by_number() {
    let app = spawn_app().await;
    let submitted = app
        .intake_as_clerk()
        .submit_application(yiciban_testkit::applications::newborn("consulted"))
        .await
        .unwrap()
        .into_inner();
    app.summary_when(&submitted.case_id, "the case in tracking", |_| true).await;
    let clerk = app.signed_in("clerk-001").await;
    let page = clerk.get("/consultations").await;
    let (csrf, key) = (page.csrf(), page.field_after("action=\"/consultations\"", "key"));
    let form = |number: &str, applied: &str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", csrf.clone()),
            ("key", key.clone()),
            ("channel", "window".into()),
            ("question", "新生儿出生一件事怎么办？".into()),
            ("case_number", number.into()),
            ("became_application", applied.into()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let clerk = &clerk;
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            clerk.post("/consultations", &borrowed, &[]).await
        }
    };
    let mut supervision = app.supervision(Role::Supervisor, "sup-001", None);
    // An unknown number, and a case without 已转为申请: next to the field,
    // nothing recorded.
    let refused = post(form("YCB-19990101-000001", "1")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(error_at(&refused, "case_number"), "没有这个办件编号的办件，请核对");
    let refused = post(form(&submitted.case_number, "")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "case_number").is_empty(), "{}", refused.body);
    let listed = supervision.list_consultations(pb::ListConsultationsRequest::default()).await.unwrap();
    assert_eq!(listed.into_inner().total, 0);

    let done = post(form(&submitted.case_number, "1")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let listed = supervision.list_consultations(pb::ListConsultationsRequest::default()).await.unwrap().into_inner();
    let c = &listed.consultations[0];
    assert_eq!((c.case_id.as_str(), c.became_application), (submitted.case_id.as_str(), true));
}

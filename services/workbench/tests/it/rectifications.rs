//! 好差评与整改 in the workbench (issue 15 item 5): a supervisor's queue of
//! open rectifications (late first) and bad ratings; the responsible
//! department's agent verifies and explains on the rectification's page —
//! a refused form comes back with the words next to the field and nothing
//! recorded — another department's agent sees none of it, and the
//! supervisor closes it; its history shows each step with who and when.

use reqwest::StatusCode;
use yiciban_platform::Role;
use yiciban_proto::issuance::v1 as issuance;
use yiciban_testkit::applications::newborn;

use crate::helpers::{CDC, MATERNITY, Page, TestApp, spawn_app};
use crate::window::decided;

/// The words next to the input whose error element is `id`.
fn error_at<'a>(page: &'a Page, id: &str) -> &'a str {
    let marker = format!("id=\"{id}-error\" role=\"alert\">");
    let at = page.body.find(&marker).unwrap_or_else(|| panic!("an error at {id}:\n{}", page.body)) + marker.len();
    page.body[at..].split('<').next().unwrap()
}

/// The form posting to `action`: its token, version and key, and `fields`.
fn form(page: &Page, action: &str, fields: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let marker = format!("action=\"{action}\"");
    let mut all = vec![("csrf", page.csrf())];
    all.extend(["version", "key"].map(|name| (name, page.field_after(&marker, name))));
    all.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    all
}

fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A case with its batch prepared and a complaint against maternity: the
/// case id and the rectification id.
async fn complained(app: &TestApp, name: &str) -> (String, String) {
    let (case_id, _) = app.case_with_tasks(newborn(name)).await;
    decided(app, &case_id).await;
    let opened = app
        .issuance(Role::Supervisor, "sup-001")
        .open_rectification(issuance::OpenRectificationRequest {
            idempotency_key: format!("complaint-{case_id}"),
            case_id: case_id.clone(),
            expected_version: 0,
            complaint: "出生医学证明办理时被要求重复提交材料".into(),
            responsible_department: MATERNITY.into(),
            due_by: None,
        })
        .await
        .unwrap()
        .into_inner();
    (case_id, opened.rectification_id)
}

async fn state_of(app: &TestApp, case_id: &str) -> i32 {
    let listed = app
        .issuance(Role::Supervisor, "sup-001")
        .list_rectifications(issuance::ListRectificationsRequest {
            states: (1..=5).collect(),
            case_id: case_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    listed.rectifications[0].rectification.as_ref().unwrap().state
}

#[tokio::test]
async fn the_department_verifies_and_explains_a_complaint_and_the_supervisor_closes_it() {
    let app = spawn_app().await;
    let (case_id, id) = complained(&app, "rectify-1").await;
    let path = format!("/cases/{case_id}/rectifications/{id}");

    // The supervisor's queue lists it, linked to its page.
    let supervisor = app.signed_in("sup-001").await;
    let queue = supervisor.get("/rectifications").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    assert!(queue.body.contains(&format!("href=\"{path}\"")) && queue.body.contains("待核实"), "{}", queue.body);
    assert!(queue.body.contains("差评"), "the ratings section: {}", queue.body);
    let bad = supervisor.get("/rectifications?state=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("筛选条件无效：state"), "{}", bad.body);

    // Another department's agent: not in its queue, and no page.
    let cdc = app.signed_in(&format!("agent-{CDC}-1")).await;
    assert!(!cdc.get("/rectifications").await.body.contains(&path));
    assert_eq!(cdc.get(&path).await.status, StatusCode::NOT_FOUND);

    // The responsible agent: an empty note refused next to it, nothing recorded.
    let agent = app.signed_in("agent-maternity-1").await;
    assert!(agent.get("/rectifications").await.body.contains(&format!("href=\"{path}\"")));
    let page = agent.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains(&format!("action=\"{path}/close\"")), "supervisors close");
    let verify = format!("{path}/verify");
    let empty = form(&page, &verify, &[("finding", "RECTIFICATION_FINDING_NO_LEGAL_BASIS"), ("note", "")]);
    let refused = agent.post(&verify, &borrowed(&empty), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "verify-note").is_empty(), "{}", refused.body);
    assert_eq!(state_of(&app, &case_id).await, issuance::RectificationState::Opened as i32, "nothing recorded");
    // Without the form token: refused, nothing recorded.
    let note = "经核实，申请人诉求无法律依据";
    let fields = form(&page, &verify, &[("finding", "RECTIFICATION_FINDING_NO_LEGAL_BASIS"), ("note", note)]);
    let forged: Vec<_> = borrowed(&fields).into_iter().filter(|(k, _)| *k != "csrf").collect();
    assert_eq!(agent.post(&verify, &forged, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(state_of(&app, &case_id).await, issuance::RectificationState::Opened as i32);

    let done = agent.post(&verify, &borrowed(&fields), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=verify"));
    let page = agent.get(done.location()).await;
    assert!(page.body.contains("已记录核实结论") && page.body.contains(note), "{}", page.body);
    assert!(page.body.contains("部门经办 agent-maternity-1"), "who verified: {}", page.body);

    let explain = format!("{path}/explain");
    let fields = form(&page, &explain, &[("explanation", "按规定须提交原件核验"), ("legal_basis", "")]);
    let refused = agent.post(&explain, &borrowed(&fields), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "explain-legal_basis").is_empty(), "{}", refused.body);
    let fields = form(
        &refused,
        &explain,
        &[("explanation", "按规定须提交原件核验"), ("legal_basis", "《母婴保健法》第二十三条")],
    );
    assert_eq!(agent.post(&explain, &borrowed(&fields), &[]).await.status, StatusCode::SEE_OTHER);

    // The supervisor closes it after the return check.
    let page = supervisor.get(&path).await;
    let close = format!("{path}/close");
    let fields = form(&page, &close, &[("applicant_satisfied", "1"), ("note", "回访申请人表示理解")]);
    let done = supervisor.post(&close, &borrowed(&fields), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(state_of(&app, &case_id).await, issuance::RectificationState::Closed as i32);
    let page = supervisor.get(done.location()).await;
    assert!(page.body.contains("整改已办结") && page.body.contains("回访申请人表示理解"), "{}", page.body);
    assert!(!page.body.contains("action=\"/cases/"), "nothing more to do: {}", page.body);
}

#[tokio::test]
async fn an_agent_may_not_close_and_a_clerk_is_told_the_services_refusal() {
    let app = spawn_app().await;
    let (case_id, id) = complained(&app, "rectify-2").await;
    let path = format!("/cases/{case_id}/rectifications/{id}");
    let supervisor = app.signed_in("sup-001").await;
    let page = supervisor.get(&path).await;
    let fields = form(&page, &format!("{path}/verify"), &[]);
    // The agent posts the supervisor's close form by hand: issuance refuses.
    let agent = app.signed_in("agent-maternity-1").await;
    let csrf = agent.get("/").await.csrf();
    let mut close: Vec<_> = borrowed(&fields).into_iter().filter(|(k, _)| *k != "csrf").collect();
    close.push(("csrf", &csrf));
    let refused = agent.post(&format!("{path}/close"), &close, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(state_of(&app, &case_id).await, issuance::RectificationState::Opened as i32);

    let clerk = app.signed_in("clerk-001").await;
    let queue = clerk.get("/rectifications").await;
    assert_eq!(queue.status, StatusCode::FORBIDDEN, "{}", queue.body);
    assert!(queue.body.contains("class=\"error\" role=\"alert\""), "{}", queue.body);
}

/// A case mailed and signed for (closed), then rated 1 at the window for
/// maternity: the case id and the rectification the bad rating opened.
async fn badly_rated(app: &TestApp, name: &str) -> (String, String) {
    use yiciban_proto::common::v1 as common;
    let mut request = newborn(name);
    request.delivery = Some(common::DeliveryPreference {
        method: common::DeliveryMethod::Mail as i32,
        mail_address: Some(common::PostalAddress {
            recipient_name: "王丽".into(),
            recipient_phone: "13800000000".into(),
            province: "内蒙古自治区".into(),
            city: "包头市".into(),
            district: "昆都仑区".into(),
            address_line: "钢铁大街88号3单元".into(),
            postal_code: "014010".into(),
        }),
        pickup_hall: String::new(),
    });
    let (case_id, _) = app.case_with_tasks(request).await;
    let batch = decided(app, &case_id).await.batches[0].batch_number;
    let mut clerk = app.issuance(Role::Clerk, "clerk-001");
    let (key, case) = (|k: &str| format!("{k}-{case_id}"), case_id.clone());
    let mailing = issuance::RecordMailingRequest {
        idempotency_key: key("mail"),
        case_id: case.clone(),
        expected_version: 0,
        batch_number: batch,
        courier: "EMS".into(),
        tracking_number: "EMS0001".into(),
    };
    clerk.record_mailing(mailing).await.unwrap();
    let delivery = issuance::RecordDeliveryRequest {
        idempotency_key: key("delivered"),
        case_id: case.clone(),
        expected_version: 0,
        batch_number: batch,
        tracking_number: "EMS0001".into(),
        delivered_at: None,
        receipt: None,
    };
    clerk.record_delivery(delivery).await.unwrap();
    let rating = issuance::RateCaseRequest {
        idempotency_key: key("rate"),
        case_id: case.clone(),
        expected_version: 0,
        score: 1,
        comment: "要求重复提交材料".into(),
        indicators: vec![],
        real_name: true,
        department: MATERNITY.into(),
    };
    let rated = clerk.rate_case(rating).await.unwrap().into_inner();
    (case_id, rated.rectification_id)
}

#[tokio::test]
async fn a_supervisor_sets_a_bad_rating_aside_from_its_rectifications_page() {
    let app = spawn_app().await;
    let (case_id, id) = badly_rated(&app, "review-1").await;
    let path = format!("/cases/{case_id}/rectifications/{id}");
    let supervisor = app.signed_in("sup-001").await;
    let queue = supervisor.get("/rectifications").await;
    assert!(queue.body.contains("要求重复提交材料"), "the bad rating is listed: {}", queue.body);
    assert!(queue.body.contains(&format!("href=\"{path}\">查看整改")), "{}", queue.body);

    let page = supervisor.get(&path).await;
    let review = format!("{path}/review");
    let fields = form(&page, &review, &[("reason", "INVALID_RATING_REASON_MALICIOUS"), ("note", "")]);
    let refused = supervisor.post(&review, &borrowed(&fields), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "review-note").is_empty(), "{}", refused.body);
    assert_eq!(state_of(&app, &case_id).await, issuance::RectificationState::Opened as i32, "nothing recorded");

    let fields =
        form(&refused, &review, &[("reason", "INVALID_RATING_REASON_MALICIOUS"), ("note", "同一人重复恶意差评")]);
    let done = supervisor.post(&review, &borrowed(&fields), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(supervisor.get(done.location()).await.body.contains("差评已认定为无效"));
    assert_eq!(state_of(&app, &case_id).await, issuance::RectificationState::Closed as i32);
    assert!(!supervisor.get("/rectifications").await.body.contains("要求重复提交材料"), "no longer a valid bad rating");
}

#[tokio::test]
async fn a_supervisor_turns_a_complaint_about_a_case_into_one_rectification_from_the_opinion_page() {
    use yiciban_proto::supervision::v1 as pb;
    let app = spawn_app().await;
    let (case_id, _) = app.case_with_tasks(newborn("opinion-rectify")).await;
    decided(&app, &case_id).await;
    let request = pb::RecordOpinionRequest {
        idempotency_key: "opinion-about-a-case".into(),
        kind: pb::OpinionKind::Complaint as i32,
        channel: pb::OpinionChannel::Hotline12345 as i32,
        summary: "办理出生医学证明时被要求重复提交材料".into(),
        case_id: case_id.clone(),
        department: MATERNITY.into(),
        ..Default::default()
    };
    let mut supervision = app.supervision(Role::Supervisor, "sup-001", None);
    let id = supervision.record_opinion(request).await.unwrap().into_inner().opinion.unwrap().opinion_id;
    let path = format!("/opinions/{id}/rectify");

    // An agent is not offered the form.
    let agent = app.signed_in("agent-maternity-1").await;
    let none = agent.get(&format!("/opinions/{id}")).await;
    assert!(!none.body.contains(&format!("action=\"{path}\"")), "{}", none.body);

    let supervisor = app.signed_in("sup-001").await;
    let page = supervisor.get(&format!("/opinions/{id}")).await;
    assert!(page.body.contains(&format!("href=\"/cases/{case_id}\"")), "{}", page.body);
    // A department code the services refuse: the words next to the field,
    // nothing opened.
    let refused = supervisor.post(&path, &borrowed(&form(&page, &path, &[("department", "NOT A CODE!")])), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "rectify-department").is_empty());
    let issuance_rectifications = || async {
        let listed = app
            .issuance(Role::Supervisor, "sup-001")
            .list_rectifications(issuance::ListRectificationsRequest {
                states: (1..=5).collect(),
                case_id: case_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        listed.into_inner().rectifications
    };
    assert!(issuance_rectifications().await.is_empty(), "a refused form opens nothing");

    let sent = form(&refused, &path, &[("department", MATERNITY)]);
    let done = supervisor.post(&path, &borrowed(&sent), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = supervisor.follow(done.location()).await;
    assert!(page.body.contains("已转整改"), "{}", page.body);
    assert!(!page.body.contains(&format!("action=\"{path}\"")), "offered once: {}", page.body);
    let opened = issuance_rectifications().await;
    assert_eq!(opened.len(), 1);
    let r = opened[0].rectification.as_ref().unwrap();
    assert_eq!(r.responsible_department, MATERNITY);
    assert!(
        page.body.contains(&format!("href=\"/cases/{case_id}/rectifications/{}\"", r.rectification_id)),
        "{}",
        page.body
    );

    // The same form sent again (a double click): still one rectification.
    let again = supervisor.post(&path, &borrowed(&sent), &[]).await;
    assert_ne!(again.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", again.body);
    assert_eq!(issuance_rectifications().await.len(), 1);
}

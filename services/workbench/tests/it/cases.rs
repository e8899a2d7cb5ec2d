//! The case officer's pages: the worklist (tracking's OfficerWorklist), the
//! case page with its timeline and steps, the search by case number — each
//! read with the officer's own token, so another officer's case is the
//! service's NOT_FOUND; values from the services are rendered escaped.

use reqwest::StatusCode;
use yiciban_platform::Role;
use yiciban_proto::common::v1::SupplementItem;
use yiciban_proto::tasks::v1 as tasks;
use yiciban_testkit::applications::newborn;

use crate::helpers::{MATERNITY, OFFICER, OTHER_OFFICER, of, spawn_app};

#[tokio::test]
async fn an_officer_sees_their_case_in_the_worklist_and_its_page_with_the_timeline() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("officer-1")).await;
    let maternity = of(&tasks, MATERNITY);
    let summary = app.summary_when(&case_id, "both first steps held", |s| s.holders.len() >= 2).await;
    assert_eq!(summary.officer_id, OFFICER, "intake assigns the least loaded officer");

    let browser = app.signed_in(OFFICER).await;
    let home = browser.get("/").await;
    assert!(home.body.contains("href=\"/worklist\""), "{}", home.body);

    let worklist = browser.get("/worklist").await;
    assert_eq!(worklist.status, StatusCode::OK, "{}", worklist.body);
    assert!(
        worklist.body.contains(&format!("href=\"/cases/{case_id}\">{}</a>", summary.case_number)),
        "{}",
        worklist.body
    );
    assert!(worklist.body.contains("联办中") && worklist.body.contains("待认领"), "{}", worklist.body);
    assert!(worklist.body.contains("计时中 · 已用 0/"), "{}", worklist.body);
    // Narrowed to a stage the case is not in, it is not listed.
    let narrowed = browser.get("/worklist?stage=issued").await;
    assert!(!narrowed.body.contains(&summary.case_number) && narrowed.body.contains("没有符合条件的办件"));
    let bad = browser.get("/worklist?stage=closed").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("筛选条件无效：stage"), "{}", bad.body);

    let page = browser.get(&format!("/cases/{case_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&summary.case_number), "{}", page.body);
    for event in ["ApplicationSubmitted", "ApplicationAccepted", "TaskCreated"] {
        assert!(page.body.contains(event), "the timeline shows {event}: {}", page.body);
    }
    // The steps: which department each waits on, linked to its task.
    assert!(
        page.body.contains(&format!("href=\"/tasks/{}\">{}</a>", maternity.task_id, maternity.step_id)),
        "{}",
        page.body
    );
    // The plan: a step not yet dispatched names the step it waits for.
    assert!(page.body.contains("等待前序环节") && page.body.contains("s1（卫生健康委（助产机构））"), "{}", page.body);
    assert!(page.body.contains("没有暂停计时"), "{}", page.body);
    assert!(!page.body.contains("11010519"), "no ID number on the page");

    // The header's search finds the case by its number.
    let found = browser.get(&format!("/cases?number={}", summary.case_number)).await;
    assert_eq!(found.status, StatusCode::SEE_OTHER, "{}", found.body);
    assert_eq!(found.location(), format!("/cases/{case_id}"));
    let unknown = browser.get("/cases?number=YCB-20260929-999999").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert!(unknown.body.contains("case YCB-20260929-999999 not found"), "{}", unknown.body);

    // Another officer: the service's NOT_FOUND, in the same words as an unknown case.
    let other = app.signed_in(OTHER_OFFICER).await;
    let hidden = other.get(&format!("/cases/{case_id}")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    assert!(hidden.body.contains(&format!("case {case_id} not found")), "{}", hidden.body);
    assert!(!hidden.body.contains(&summary.case_number));
    assert!(!other.get("/worklist").await.body.contains(&summary.case_number));
}

const SCRIPT: &str = "<script>alert('x')</script>";
const ESCAPED: &str = "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;";

#[tokio::test]
async fn markup_in_a_supplement_request_is_shown_as_text_on_the_case_page() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("officer-escape")).await;
    let task = of(&tasks, MATERNITY);
    let mut agent = app.tasks(Role::Agent, "agent-maternity-1", Some(MATERNITY));
    let claim = tasks::ClaimTaskRequest {
        idempotency_key: "claim-escape".into(),
        task_id: task.task_id.clone(),
        expected_version: task.version,
    };
    let version = agent.claim_task(claim).await.unwrap().into_inner().version;
    let requirement = format!("{SCRIPT}出生医学证明首页不清晰");
    agent
        .return_for_supplement(tasks::ReturnForSupplementRequest {
            idempotency_key: "return-escape".into(),
            task_id: task.task_id.clone(),
            expected_version: version,
            items: vec![SupplementItem {
                material_id: "m_birth_cert_form".into(),
                field_path: String::new(),
                requirement: requirement.clone(),
            }],
            due_by: None,
        })
        .await
        .unwrap();
    app.summary_when(&case_id, "the case clock stopped", |s| s.clock_stopped).await;

    let browser = app.signed_in(OFFICER).await;
    let page = browser.get(&format!("/cases/{case_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains(SCRIPT), "{}", page.body);
    assert!(page.body.contains(&format!("{ESCAPED}出生医学证明首页不清晰")), "{}", page.body);
    assert!(page.body.contains("暂停计时（等待补正）") && page.body.contains("仍在暂停"), "{}", page.body);

    // Markup typed into the search: the service's refusal, and no markup.
    let searched = browser.get(&format!("/cases?number={}", urlencode(SCRIPT))).await;
    assert_eq!(searched.status, StatusCode::BAD_REQUEST, "{}", searched.body);
    assert!(searched.body.contains("办件编号格式不正确") && !searched.body.contains(SCRIPT), "{}", searched.body);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn an_agent_opens_the_case_of_its_task_and_another_departments_agent_cannot() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("officer-agent")).await;
    let task = of(&tasks, MATERNITY);
    app.summary_when(&case_id, "both first steps held", |s| s.holders.len() >= 2).await;

    let agent = app.signed_in("agent-maternity-1").await;
    let task_page = agent.get(&format!("/tasks/{}", task.task_id)).await;
    assert!(task_page.body.contains(&format!("href=\"/cases/{case_id}\"")), "{}", task_page.body);
    let page = agent.get(&format!("/cases/{case_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("href=\"/tasks/{}\"", task.task_id)), "{}", page.body);

    let outsider = app.signed_in("agent-samr-1").await.get(&format!("/cases/{case_id}")).await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND, "{}", outsider.body);
    assert!(outsider.body.contains(&format!("case {case_id} not found")), "{}", outsider.body);
}

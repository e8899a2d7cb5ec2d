//! Deciding a task on its page (准予, 不予许可, 退回补正, 恢复办理, 转办,
//! 事后核查): the holder's forms go to the task service with the agent's
//! own token; a refusal — the service's or the workbench's own bound —
//! shows next to the field and changes nothing; nobody else is offered or
//! allowed them.

use std::time::Duration;

use reqwest::StatusCode;
use yiciban_platform::Role;
use yiciban_proto::common::v1::{ResultDocumentKind, TaskState};
use yiciban_proto::tasks::v1 as tasks;
use yiciban_testkit::applications::{commitment, newborn, restaurant};
use yiciban_testkit::eventually;

use crate::helpers::{Browser, MATERNITY, OUTSIDER, Page, RESULT_MAX_BYTES, TestApp, of, sha, spawn_app};

/// A case whose health-maternity task `agent` claimed on the task page,
/// with that agent's browser and the task page as it shows afterwards.
async fn claimed(app: &TestApp, key: &str, agent: &str) -> (tasks::Task, Browser, Page) {
    let (_, listed) = app.case_with_tasks(newborn(key)).await;
    let task = of(&listed, MATERNITY);
    let browser = app.signed_in(agent).await;
    let path = format!("/tasks/{}", task.task_id);
    let page = browser.get(&path).await;
    let claim = format!("action=\"{path}/claim\"");
    let form: Vec<(&str, String)> =
        ["csrf", "version", "key", "from"].into_iter().map(|name| (name, page.field_after(&claim, name))).collect();
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = browser.post(&format!("{path}/claim"), &fields, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browser.get(&path).await;
    (app.task(&task.task_id).await, browser, page)
}

/// The version and key of the form posting to `/tasks/{id}/{action}`, and
/// the session's form token.
fn form_of(page: &Page, task_id: &str, action: &str) -> (String, String, String) {
    let marker = format!("action=\"/tasks/{task_id}/{action}\"");
    (page.csrf(), page.field_after(&marker, "version"), page.field_after(&marker, "key"))
}

/// The words next to the input whose error element is `id`.
fn error_at<'a>(page: &'a Page, id: &str) -> &'a str {
    let marker = format!("id=\"{id}-error\" role=\"alert\">");
    let at = page.body.find(&marker).unwrap_or_else(|| panic!("an error at {id}:\n{}", page.body)) + marker.len();
    page.body[at..].split('<').next().unwrap()
}

#[tokio::test]
async fn an_agent_approves_with_the_result_document_and_a_double_submit_approves_once() {
    let app = spawn_app().await;
    let (task, browser, page) = claimed(&app, "approve-1", "agent-maternity-1").await;
    for action in ["approve", "deny", "supplement", "transfer"] {
        assert!(page.body.contains(&format!("action=\"/tasks/{}/{action}\"", task.task_id)), "{action}: {}", page.body);
    }
    assert!(!page.body.contains(&format!("action=\"/tasks/{}/resume\"", task.task_id)), "{}", page.body);
    assert!(page.body.contains("<label for=\"approve-name\">"), "every input labelled: {}", page.body);
    let (csrf, version, key) = form_of(&page, &task.task_id, "approve");
    let path = format!("/tasks/{}/approve", task.task_id);
    let fields = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("kind", "RESULT_DOCUMENT_KIND_CERTIFICATE"),
        ("name", "出生医学证明"),
        ("number", "O150000001"),
        ("valid_from", ""),
        ("valid_until", ""),
        ("physical", "1"),
        ("comment", "材料齐全，准予签发"),
    ];
    let done = browser.post_multipart(&path, &fields, None).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/tasks/{}?done=approve", task.task_id));
    let shown = browser.get(done.location()).await;
    assert!(shown.body.contains("已准予，审批结果已记录。"), "{}", shown.body);
    assert!(shown.body.contains("出生医学证明 · 编号 O150000001"), "{}", shown.body);
    assert!(!shown.body.contains("action=\"/tasks/"), "a decided task offers no action: {}", shown.body);

    let approved = app.task(&task.task_id).await;
    assert_eq!(approved.state, TaskState::Approved as i32);
    let result = approved.result.clone().expect("the result document");
    assert_eq!(result.kind, ResultDocumentKind::Certificate as i32);
    assert_eq!((result.name.as_str(), result.number.as_str()), ("出生医学证明", "O150000001"));
    assert_eq!((result.issuing_department.as_str(), result.item_code.as_str()), (MATERNITY, task.item_code.as_str()));
    assert!(result.physical);

    // The same form sent again (a double click): answered as the first time.
    let again = browser.post_multipart(&path, &fields, None).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(app.task(&task.task_id).await.version, approved.version, "approved once");
}

#[tokio::test]
async fn a_result_file_over_the_bound_is_refused_next_to_the_file_and_one_within_goes_with_the_approval() {
    let app = spawn_app().await;
    let (task, browser, page) = claimed(&app, "approve-2", "agent-maternity-1").await;
    let (csrf, version, key) = form_of(&page, &task.task_id, "approve");
    let path = format!("/tasks/{}/approve", task.task_id);
    let fields = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("kind", "RESULT_DOCUMENT_KIND_CERTIFICATE"),
        ("name", "出生医学证明"),
        ("number", "O150000002"),
    ];
    let big = vec![b'%'; RESULT_MAX_BYTES + 1];
    let refused = browser.post_multipart(&path, &fields, Some(("file", "证明.pdf", "application/pdf", &big))).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", refused.body);
    assert!(error_at(&refused, "approve-file").contains("64.0 KiB"), "{}", refused.body);
    assert!(refused.body.contains("value=\"O150000002\""), "what was typed is kept: {}", refused.body);

    let unchanged = app.task(&task.task_id).await;
    assert_eq!((unchanged.state, unchanged.version), (TaskState::InProgress as i32, task.version), "nothing approved");

    // A file within the bound is stored in intake as the agent, and the
    // approval carries it as the document's electronic copy.
    let small = b"%PDF-1.4 result";
    let done = browser.post_multipart(&path, &fields, Some(("file", "证明.pdf", "application/pdf", small))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let approved = app.task(&task.task_id).await;
    assert_eq!(approved.state, TaskState::Approved as i32);
    let copy = approved.result.and_then(|r| r.electronic_copy).expect("the electronic copy");
    let sha = sha(small);
    assert_eq!((copy.sha256_hex.as_str(), copy.size_bytes), (sha.as_str(), small.len() as u64));
}

#[tokio::test]
async fn a_denial_needs_its_reason_and_is_recorded_with_reason_and_legal_basis() {
    let app = spawn_app().await;
    let (task, browser, page) = claimed(&app, "deny-1", "agent-maternity-1").await;
    let (csrf, version, key) = form_of(&page, &task.task_id, "deny");
    let path = format!("/tasks/{}/deny", task.task_id);

    let empty = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("reason", "  "),
        ("legal_basis", "《母婴保健法》第二十三条"),
        ("remedy_notice", "\"><script>alert(1)</script>"),
    ];
    let refused = browser.post(&path, &empty, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "deny-reason").is_empty(), "the service's words next to the reason");
    assert!(refused.body.contains("aria-invalid=\"true\" aria-describedby=\"deny-reason-error\""), "{}", refused.body);
    assert!(refused.body.contains("value=\"《母婴保健法》第二十三条\""), "what was typed is kept: {}", refused.body);
    assert!(!refused.body.contains("<script>alert(1)"), "and shown as text: {}", refused.body);
    assert_eq!(app.task(&task.task_id).await.version, task.version, "nothing changed");

    // The form shown again has a fresh key.
    let (_, version, key) = form_of(&refused, &task.task_id, "deny");
    let reason = "出生医学证明申领人与新生儿母亲信息不一致";
    let fields = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("reason", reason),
        ("legal_basis", "《母婴保健法》第二十三条"),
    ];
    let done = browser.post(&path, &fields, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let shown = browser.get(done.location()).await;
    assert!(shown.body.contains("已作出不予许可决定") && shown.body.contains(reason), "{}", shown.body);
    let denied = app.task(&task.task_id).await;
    assert_eq!(denied.state, TaskState::Denied as i32);
    assert_eq!((denied.reason.as_str(), denied.legal_basis.as_str()), (reason, "《母婴保健法》第二十三条"));
}

#[tokio::test]
async fn a_return_for_supplement_lists_the_missing_material_and_the_holder_resumes_it() {
    let app = spawn_app().await;
    let (task, browser, page) = claimed(&app, "supplement-1", "agent-maternity-1").await;
    let material = task.material_ids.first().expect("the item needs a material").clone();
    let (csrf, version, key) = form_of(&page, &task.task_id, "supplement");
    let path = format!("/tasks/{}/supplement", task.task_id);
    let requirement = format!("requirement.{material}");

    // Checked without saying what is needed: the service's words next to it.
    let fields =
        [("csrf", csrf.as_str()), ("version", &version), ("key", &key), ("material", &material), (&requirement, "")];
    let refused = browser.post(&path, &fields, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, &format!("supplement-requirement.{material}")).is_empty());
    assert_eq!(app.task(&task.task_id).await.version, task.version, "nothing changed");

    let needed = "请提交加盖医院公章的出生医学证明首次签发登记表原件扫描件";
    let fields = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("material", &material),
        (&requirement, needed),
        ("due_by", ""),
    ];
    let done = browser.post(&path, &fields, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let shown = browser.get(done.location()).await;
    assert!(shown.body.contains("已退回补正") && shown.body.contains(needed), "{}", shown.body);
    let waiting = app.task(&task.task_id).await;
    assert_eq!(waiting.state, TaskState::WaitingForSupplement as i32);
    assert_eq!(waiting.supplement_items.len(), 1);
    assert_eq!(
        (waiting.supplement_items[0].material_id.as_str(), waiting.supplement_items[0].requirement.as_str()),
        (material.as_str(), needed)
    );
    assert!(!shown.body.contains(&format!("action=\"/tasks/{}/approve\"", task.task_id)), "no decision while waiting");

    // The holder resumes it (the supplement taken offline).
    let (csrf, version, key) = form_of(&shown, &task.task_id, "resume");
    let request = shown.field_after(&format!("action=\"/tasks/{}/resume\"", task.task_id), "request");
    assert_eq!(request, waiting.supplement_request_id);
    let fields = [("csrf", csrf.as_str()), ("version", &version), ("key", &key), ("request", &request)];
    let done = browser.post(&format!("/tasks/{}/resume", task.task_id), &fields, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(browser.get(done.location()).await.body.contains("已恢复办理"));
    assert_eq!(app.task(&task.task_id).await.state, TaskState::InProgress as i32);
}

#[tokio::test]
async fn a_transfer_hands_the_task_to_a_colleague_who_then_holds_its_forms() {
    let app = spawn_app().await;
    let (task, browser, page) = claimed(&app, "transfer-1", "agent-maternity-1").await;
    let (csrf, version, key) = form_of(&page, &task.task_id, "transfer");
    let fields = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("to_assignee", "agent-maternity-2"),
        ("reason", "休假，交同事办理"),
    ];
    let done = browser.post(&format!("/tasks/{}/transfer", task.task_id), &fields, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(browser.get(done.location()).await.body.contains("已转办"));
    assert_eq!(app.task(&task.task_id).await.assignee, "agent-maternity-2");
    let colleague = app.signed_in("agent-maternity-2").await;
    let theirs = colleague.get(&format!("/tasks/{}", task.task_id)).await;
    assert!(theirs.body.contains(&format!("action=\"/tasks/{}/approve\"", task.task_id)), "{}", theirs.body);
    let mine = browser.get(&format!("/tasks/{}", task.task_id)).await;
    assert!(!mine.body.contains(&format!("action=\"/tasks/{}/approve\"", task.task_id)), "{}", mine.body);
}

#[tokio::test]
async fn a_decision_without_the_form_token_or_by_another_department_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (task, browser, page) = claimed(&app, "refuse-1", "agent-maternity-1").await;
    let (_, version, key) = form_of(&page, &task.task_id, "deny");
    let path = format!("/tasks/{}/deny", task.task_id);
    let reasons = [("reason", "理由"), ("legal_basis", "依据")];

    let without = [("version", version.as_str()), ("key", &key), reasons[0], reasons[1]];
    let refused = browser.post(&path, &without, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let approve = format!("/tasks/{}/approve", task.task_id);
    let refused = browser
        .post_multipart(&approve, &[("version", &version), ("key", &key), ("name", "证"), ("number", "1")], None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // An agent of another department with a task in the same case sees the
    // task, is offered nothing, and a forged form is refused by the service.
    let outsider = app.signed_in("agent-cdc-1").await;
    let seen = outsider.get(&format!("/tasks/{}", task.task_id)).await;
    assert!(!seen.body.contains("id=\"decide\""), "no action offered: {}", seen.body);
    let their_csrf = seen.csrf();
    let forged = [("csrf", their_csrf.as_str()), ("version", &version), ("key", "forged-1"), reasons[0], reasons[1]];
    let refused = outsider.post(&path, &forged, &[]).await;
    assert!(matches!(refused.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", refused.body);

    let unchanged = app.task(&task.task_id).await;
    assert_eq!((unchanged.state, unchanged.version), (TaskState::InProgress as i32, task.version), "nothing changed");
}

#[tokio::test]
async fn the_post_check_department_checks_an_approvals_commitment_and_a_failure_needs_its_finding() {
    let app = spawn_app().await;
    let mut request = restaurant("post-check-1", &["m_food_safety_rules"]);
    request.commitments.push(commitment("m_food_safety_rules"));
    let case_id = app.intake_as_clerk().submit_application(request).await.unwrap().into_inner().case_id;
    let supervisor = app.tasks(Role::Supervisor, "sup-001", None);
    let task = eventually("samr's task with the commitment", Duration::from_secs(30), || {
        let (mut supervisor, case_id) = (supervisor.clone(), case_id.clone());
        async move {
            let listed = supervisor.list_case_tasks(tasks::ListCaseTasksRequest { case_id }).await.ok()?.into_inner();
            listed.tasks.into_iter().find(|t| t.department == OUTSIDER && !t.commitments.is_empty())
        }
    })
    .await;
    let browser = app.signed_in("agent-samr-1").await;
    let path = format!("/tasks/{}", task.task_id);
    let page = browser.get(&path).await;
    let claim = format!("action=\"{path}/claim\"");
    let form: Vec<(&str, String)> =
        ["csrf", "version", "key", "from"].into_iter().map(|name| (name, page.field_after(&claim, name))).collect();
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(browser.post(&format!("{path}/claim"), &fields, &[]).await.status, StatusCode::SEE_OTHER);
    let page = browser.get(&path).await;
    assert!(!page.body.contains(&format!("action=\"{path}/post-check\"")), "nothing to check before the approval");
    let (csrf, version, key) = form_of(&page, &task.task_id, "approve");
    let fields = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("kind", "RESULT_DOCUMENT_KIND_LICENCE"),
        ("name", "食品经营许可证"),
        ("number", "JY11502030000123"),
        ("valid_until", "2031-09-28"),
    ];
    let done = browser.post_multipart(&format!("{path}/approve"), &fields, None).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let page = browser.get(done.location()).await;
    assert!(page.body.contains("待事后核查") && page.body.contains("至 2031-09-28"), "{}", page.body);
    let (csrf, version, key) = form_of(&page, &task.task_id, "post-check");
    let check = format!("{path}/post-check");
    let failed = [("csrf", csrf.as_str()), ("version", &version), ("key", &key), ("passed", "no"), ("finding", "")];
    let refused = browser.post(&check, &failed, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, "post-check-finding").is_empty(), "{}", refused.body);
    let unchanged = app.task(&task.task_id).await;
    assert_eq!(unchanged.post_check, tasks::PostCheckState::Pending as i32, "nothing recorded");

    let (_, version, key) = form_of(&refused, &task.task_id, "post-check");
    let passed = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("key", &key),
        ("passed", "yes"),
        ("commitment", "m_food_safety_rules"),
        ("finding", "现场核查，食品安全管理制度已上墙"),
    ];
    let done = browser.post(&check, &passed, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browser.get(done.location()).await;
    assert!(page.body.contains("事后核查结果已记录") && page.body.contains("核查通过"), "{}", page.body);
    assert!(!page.body.contains(&format!("action=\"{check}\"")), "checked once: {}", page.body);
    assert_eq!(app.task(&task.task_id).await.post_check, tasks::PostCheckState::Passed as i32);
}

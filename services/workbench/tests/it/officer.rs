//! The case officer's actions on the case page: 督办 (the officer urges the
//! department holding an open step; its agent sees how often and the last
//! note on the task page and in the inbox; the timeline shows it) and 改派
//! (a supervisor gives the case to another officer, whose worklist then
//! has it). A refused form shows the service's words next to the field and
//! records nothing; an agent is offered neither form.

use reqwest::StatusCode;
use yiciban_testkit::applications::newborn;
use yiciban_testkit::eventually;

use crate::helpers::{Browser, MATERNITY, OFFICER, OTHER_OFFICER, Page, of, spawn_app};

/// The form fields (`csrf`, `version`, `key`) of the form posting to `action`.
fn form_of(page: &Page, action: &str) -> (String, String, String) {
    let marker = format!("action=\"{action}\"");
    (page.csrf(), page.field_after(&marker, "version"), page.field_after(&marker, "key"))
}

/// Posts `fields` with the form posting to `action` on `page`.
async fn submit(browser: &Browser, page: &Page, action: &str, fields: &[(&str, &str)]) -> Page {
    let (csrf, version, key) = form_of(page, action);
    let mut form = vec![("csrf", csrf.as_str()), ("version", version.as_str()), ("key", key.as_str())];
    form.extend_from_slice(fields);
    browser.post(action, &form, &[]).await
}

#[tokio::test]
async fn the_officer_urges_a_department_from_the_case_page_and_its_agent_sees_it_on_the_task() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("urge-1")).await;
    let task = of(&tasks, MATERNITY);
    app.summary_when(&case_id, "both first steps held", |s| s.holders.len() >= 2).await;
    let officer = app.signed_in(OFFICER).await;
    let case_path = format!("/cases/{case_id}");
    let page = officer.get(&case_path).await;
    let action = format!("/cases/{case_id}/tasks/{}/urge", task.task_id);
    assert!(page.body.contains(&format!("action=\"{action}\"")), "{}", page.body);
    assert!(page.body.contains(&format!("<label for=\"urge-{}-note\">", task.task_id)), "{}", page.body);
    assert!(!page.body.contains(&format!("action=\"/cases/{case_id}/officer\"")), "an officer does not reassign");

    // An empty note: the service's words next to the field, nothing recorded.
    let refused = submit(&officer, &page, &action, &[("note", "  ")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let marker = format!("id=\"urge-{}-note-error\" role=\"alert\">", task.task_id);
    assert!(refused.body.contains(&marker) && refused.body.contains("督办说明不能为空"), "{}", refused.body);
    assert_eq!(app.task(&task.task_id).await.urge_count, 0);

    let note = "申请人来电催问，请<b>今日</b>办结";
    let done = submit(&officer, &page, &action, &[("note", note)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{case_path}?done=urge"));
    let shown = officer.get(done.location()).await;
    assert!(shown.body.contains("已督办，办理部门将在待办箱和任务页看到督办说明。"), "{}", shown.body);
    assert!(shown.body.contains("已督办 1 次"), "{}", shown.body);

    // The department's agent: on the task page and in the inbox, escaped.
    let agent = app.signed_in("agent-maternity-1").await;
    let task_page = agent.get(&format!("/tasks/{}", task.task_id)).await;
    assert!(task_page.body.contains("已督办 1 次"), "{}", task_page.body);
    assert!(
        task_page.body.contains(&format!("由 {OFFICER}：申请人来电催问，请&#60;b&#62;今日&#60;/b&#62;办结")),
        "{}",
        task_page.body
    );
    assert!(!task_page.body.contains("<b>今日</b>"));
    let inbox = agent.get("/inbox").await;
    assert!(inbox.body.contains("已督办 1 次"), "{}", inbox.body);
    assert!(!agent.get(&case_path).await.body.contains(&format!("action=\"{action}\"")), "an agent does not urge");

    // The timeline shows the urging (tracking folds it).
    let timeline = eventually("the urging in the timeline", std::time::Duration::from_secs(10), || async {
        let page = officer.get(&case_path).await;
        page.body.contains("TaskUrged").then_some(page)
    })
    .await;
    assert!(timeline.body.contains(&format!("专人 {OFFICER} 督办 ")), "{}", timeline.body);
    assert!(timeline.body.contains("（第1次） <span class=\"note\">TaskUrged</span>"), "{}", timeline.body);
    // Tracking's summary counts it: the holder in the worklist and on the case page.
    assert!(timeline.body.contains("，已督办 1 次）"), "{}", timeline.body);
    let worklist = officer.get("/worklist").await;
    assert!(worklist.body.contains("<span class=\"badge urged\">已督办 1 次</span></li>"), "{}", worklist.body);
}

#[tokio::test]
async fn a_supervisor_reassigns_the_case_and_the_new_officers_worklist_has_it() {
    let app = spawn_app().await;
    let (case_id, _) = app.case_with_tasks(newborn("reassign-1")).await;
    let summary = app.summary_when(&case_id, "the officer assigned", |s| s.officer_id == OFFICER).await;
    let supervisor = app.signed_in("sup-001").await;
    let case_path = format!("/cases/{case_id}");
    let page = supervisor.get(&case_path).await;
    let action = format!("/cases/{case_id}/officer");
    assert!(page.body.contains("<label for=\"reassign-officer_id\">"), "{}", page.body);

    // No officer named: intake's words next to the field, nothing changed.
    let refused = submit(&supervisor, &page, &action, &[("officer_id", ""), ("officer_name", "")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"reassign-officer_id-error\" role=\"alert\">"), "{}", refused.body);

    let done = submit(&supervisor, &page, &action, &[("officer_id", OTHER_OFFICER), ("officer_name", "李娜")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{case_path}?done=officer"));
    assert!(supervisor.get(done.location()).await.body.contains("已改派专办员"));
    app.summary_when(&case_id, "the new officer", |s| s.officer_id == OTHER_OFFICER).await;

    let new_officer = app.signed_in(OTHER_OFFICER).await;
    let worklist = new_officer.get("/worklist").await;
    assert!(worklist.body.contains(&summary.case_number), "{}", worklist.body);
    assert_eq!(new_officer.get(&case_path).await.status, StatusCode::OK);
    let former = app.signed_in(OFFICER).await;
    assert!(!former.get("/worklist").await.body.contains(&summary.case_number), "the former officer's list follows");
    assert_eq!(former.get(&case_path).await.status, StatusCode::NOT_FOUND);

    // The page shown before, with a fresh key: its version is stale, so the
    // change is refused, not overwritten.
    let (csrf, version, _) = form_of(&page, &action);
    let form = [("csrf", csrf.as_str()), ("version", &version), ("key", "stale-1"), ("officer_id", OFFICER)];
    let stale = supervisor.post(&action, &form, &[]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    app.summary_when(&case_id, "still the new officer", |s| s.officer_id == OTHER_OFFICER).await;
}

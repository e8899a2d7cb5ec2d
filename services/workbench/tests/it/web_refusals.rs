//! Refusals in a real browser. Cross-site request forgery: a page of
//! another origin (the same host on another port, so the browser sends the
//! session cookie along) posting a claim to the workbench is refused, and
//! so is the workbench's own form with its token taken out; neither claims
//! anything, the same form intact claims the task. Script injection:
//! markup typed as the applicant's name is text on the acceptance notice
//! and never runs.

use yiciban_proto::common::v1::TaskState;
use yiciban_testkit::applications::newborn;
use yiciban_testkit::webdriver::{WebSession, keys};

use crate::helpers::{MATERNITY, TestApp, of, spawn_app};
use crate::journey::{Fill, fill_by_keyboard, newborn_form};
use crate::web::{Web, injected_script_ran};

/// Serves `page` at `/` on a loopback port of its own until the test ends:
/// its address.
async fn another_origin(page: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(page) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn unchanged(app: &TestApp, task_id: &str, version: u64) {
    let task = app.task(task_id).await;
    assert_eq!((task.state, task.version), (TaskState::Pending as i32, version), "nothing claimed");
}

/// The claim button of `case_number`'s row in the inbox.
async fn claim_button(web: &Web, agent: &WebSession, case_number: &str) -> yiciban_testkit::webdriver::Element {
    agent.goto(&web.at("/inbox")).await;
    agent.find(&format!("button[aria-label^=\"认领 {case_number} \"]")).await
}

#[tokio::test]
async fn a_form_from_another_origin_or_without_its_token_is_refused_in_the_browser_and_claims_nothing() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("browser-csrf-1")).await;
    let task = of(&tasks, MATERNITY);
    let case_number = app.summary_when(&case_id, "the case tracked", |s| !s.case_number.is_empty()).await.case_number;
    let web = Web::start(&app).await;
    let names = yiciban_workbench::Names::seed().unwrap();
    let agent = web.signed_in("agent-maternity-1", &names.department(MATERNITY)).await;

    // A page elsewhere with a form aimed at the claim (it cannot know the
    // session's token); the signed-in agent is lured into pressing it.
    let lure = format!(
        "<!DOCTYPE html><html><body><form method=\"post\" action=\"{}/tasks/{}/claim\">\
         <input type=\"hidden\" name=\"version\" value=\"{}\">\
         <input type=\"hidden\" name=\"key\" value=\"forged-1\">\
         <button type=\"submit\">领取奖品</button></form></body></html>",
        app.url, task.task_id, task.version
    );
    let elsewhere = another_origin(lure).await;
    agent.goto(&elsewhere).await;
    agent.find("button").await.click().await;
    let refused = agent.wait_for_text("跨站请求被拒绝").await;
    assert!(agent.url().await.starts_with(&app.url), "the workbench answered: {refused}");
    unchanged(&app, &task.task_id, task.version).await;

    // The workbench's own form with its token taken out of the page.
    let claim = claim_button(&web, &agent, &case_number).await;
    agent.script("arguments[0].form.querySelector('input[name=csrf]').remove();", vec![claim.as_arg()]).await;
    claim.click().await;
    agent.wait_for_text("表单已失效").await;
    unchanged(&app, &task.task_id, task.version).await;

    // The form as the page made it goes through.
    claim_button(&web, &agent, &case_number).await.click().await;
    agent.wait_for_text("已认领，本环节由您办理。").await;
    let claimed = app.task(&task.task_id).await;
    assert_eq!((claimed.state, claimed.assignee.as_str()), (TaskState::InProgress as i32, "agent-maternity-1"));
    agent.close().await;
}

#[tokio::test]
async fn markup_typed_as_the_applicants_name_is_text_on_the_notice_and_never_runs() {
    let app = spawn_app().await;
    let web = Web::start(&app).await;
    let clerk = web.signed_in("clerk-001", "王芳（窗口受理）").await;
    clerk.goto(&web.at("/packages/newborn-birth/apply")).await;
    let name = "王丽<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
    let mut form = newborn_form(web.file("登记表.pdf", b"%PDF-1.7 form"));
    form.insert("applicant.name", Fill::Typed(name.to_owned()));
    fill_by_keyboard(&clerk, form, "提交受理").await;
    clerk.press(keys::ENTER).await;
    let notice = clerk.wait_for_text("申请已提交").await;
    assert!(notice.contains(name), "the name as typed, as text: {notice}");
    assert!(clerk.find_all("main script, main img").await.is_empty(), "no element made of the name");
    assert!(!injected_script_ran(&clerk).await, "the name's script never ran");
    clerk.close().await;
}

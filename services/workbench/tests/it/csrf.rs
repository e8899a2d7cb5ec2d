//! Every POST needs the session's form token and the workbench's own
//! origin; a refused POST changes nothing.

use reqwest::StatusCode;
use yiciban_proto::common::v1::TaskState;
use yiciban_testkit::applications::newborn;

use crate::helpers::{MATERNITY, of, spawn_app};

#[tokio::test]
async fn a_claim_without_or_with_a_wrong_form_token_or_from_another_site_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("csrf-1")).await;
    let task = of(&tasks, MATERNITY);
    let browser = app.signed_in("agent-maternity-1").await;
    let inbox = browser.get("/inbox").await;
    let row = format!("id=\"task-{}\"", task.task_id);
    let (csrf, version, key) =
        (inbox.field_after(&row, "csrf"), inbox.field_after(&row, "version"), inbox.field_after(&row, "key"));
    let path = format!("/tasks/{}/claim", task.task_id);

    let without = browser.post(&path, &[("version", &version), ("key", &key)], &[]).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    assert!(without.body.contains("表单已失效"), "{}", without.body);
    let wrong = browser.post(&path, &[("csrf", &"x".repeat(43)), ("version", &version), ("key", &key)], &[]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let other_site = [("origin", "https://evil.example")];
    let cross = browser.post(&path, &[("csrf", &csrf), ("version", &version), ("key", &key)], &other_site).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(cross.body.contains("跨站请求被拒绝"), "{}", cross.body);
    let fetched = [("sec-fetch-site", "cross-site")];
    let cross = browser.post(&path, &[("csrf", &csrf), ("version", &version), ("key", &key)], &fetched).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);

    // A form the page did not make: refused before the service is asked.
    let bad = browser.post(&path, &[("csrf", &csrf), ("version", "abc"), ("key", &key)], &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("version: 应为任务的版本号"), "{}", bad.body);
    let long_key = "k".repeat(129);
    let bad = browser.post(&path, &[("csrf", &csrf), ("version", &version), ("key", &long_key)], &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let unchanged = app.task(&task.task_id).await;
    assert_eq!((unchanged.state, unchanged.version), (TaskState::Pending as i32, task.version), "nothing claimed");

    // The same form from the workbench's own origin goes through.
    let own = [("origin", app.url.as_str())];
    let claimed = browser.post(&path, &[("csrf", &csrf), ("version", &version), ("key", &key)], &own).await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
}

#[tokio::test]
async fn a_post_without_a_session_is_refused() {
    let app = spawn_app().await;
    let refused = app.browser().post("/auth/logout", &[("csrf", "anything")], &[]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

//! Values from the services (the applicant's form, a service's message)
//! are rendered escaped: markup in them is text, never markup.

use prost_types::{Value, value::Kind};
use reqwest::StatusCode;
use yiciban_testkit::applications::newborn;

use crate::helpers::{MATERNITY, of, spawn_app};

const SCRIPT: &str = "<script>alert('x')</script>";

#[tokio::test]
async fn markup_in_an_applicants_form_is_shown_as_text() {
    let app = spawn_app().await;
    let mut request = newborn("escape-1");
    let form = request.form_data.as_mut().unwrap();
    form.fields
        .insert("birth_hospital".into(), Value { kind: Some(Kind::StringValue(format!("{SCRIPT}包头市妇幼保健院"))) });
    let (_, tasks) = app.case_with_tasks(request).await;
    let task = of(&tasks, MATERNITY);
    let page = app.signed_in("agent-maternity-1").await.get(&format!("/tasks/{}", task.task_id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains(SCRIPT), "{}", page.body);
    assert!(page.body.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;包头市妇幼保健院"), "{}", page.body);
}

#[tokio::test]
async fn markup_in_a_services_refusal_is_shown_as_text() {
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("escape-2")).await;
    let task = of(&tasks, MATERNITY);
    let browser = app.signed_in("agent-maternity-1").await;
    let inbox = browser.get("/inbox").await;
    let row = format!("id=\"task-{}\"", task.task_id);
    let csrf = inbox.field_after(&row, "csrf");
    let path = format!("/tasks/{}/claim", task.task_id);
    // The same key with another request: the service refuses it naming the key as sent.
    let key = format!("k-{SCRIPT}");
    let version = task.version.to_string();
    let claimed = browser.post(&path, &[("csrf", &csrf), ("version", &version), ("key", &key)], &[]).await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
    let refused = browser.post(&path, &[("csrf", &csrf), ("version", "99"), ("key", &key)], &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(!refused.body.contains(SCRIPT), "{}", refused.body);
    assert!(refused.body.contains("k-&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"), "{}", refused.body);
}

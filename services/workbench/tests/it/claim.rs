//! Claiming (认领) from the inbox: the service does it with the agent's own
//! token; a colleague's later claim shows the service's refusal next to the
//! task and changes nothing.

use reqwest::StatusCode;
use yiciban_proto::common::v1::TaskState;
use yiciban_testkit::applications::newborn;

use crate::helpers::{MATERNITY, Page, of, spawn_app};

#[tokio::test]
async fn an_agent_claims_and_a_colleagues_second_claim_shows_the_services_refusal() {
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("claim-1")).await;
    let task = of(&tasks, MATERNITY);
    let row = format!("id=\"task-{}\"", task.task_id);

    // Both colleagues have the inbox open with the task still pending.
    let first = app.signed_in("agent-maternity-1").await;
    let second = app.signed_in("agent-maternity-2").await;
    let (first_inbox, second_inbox) = (first.get("/inbox").await, second.get("/inbox").await);
    let (mine, theirs) = (claim_form(&first_inbox, &row), claim_form(&second_inbox, &row));
    let second_page = second.get(&format!("/tasks/{}", task.task_id)).await;
    let from_page: Vec<(&str, String)> = ["csrf", "version", "key", "from"]
        .into_iter()
        .map(|name| (name, second_page.field_after("action=\"/tasks/", name)))
        .collect();
    let claim_path = format!("/tasks/{}/claim", task.task_id);

    let claimed = first.post(&claim_path, &pairs(&mine), &[]).await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
    assert_eq!(claimed.location(), format!("/tasks/{}?claimed=1", task.task_id));
    let page = first.get(claimed.location()).await;
    assert!(page.body.contains("已认领，本环节由您办理") && page.body.contains("办理中"), "{}", page.body);
    let held = app.task(&task.task_id).await;
    assert_eq!((held.state, held.assignee.as_str()), (TaskState::InProgress as i32, "agent-maternity-1"));

    // The agent's home and "mine" filter count it as the agent's; the colleague's do not.
    let home = first.get("/").await;
    assert!(
        home.body.contains("在办 <strong>1</strong>") && home.body.contains("我经办的 <strong>1</strong>"),
        "{}",
        home.body
    );
    assert!(first.get("/inbox?mine=1").await.body.contains(&row));
    assert!(!second.get("/inbox?mine=1").await.body.contains(&row));
    assert!(second.get("/").await.body.contains("我经办的 <strong>0</strong>"));

    // The colleague's form still shows the version before the claim.
    let refused = second.post(&claim_path, &pairs(&theirs), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let at_row = &refused.body[refused.body.find(&row).expect("the task's row")..];
    let message = at_row.split("class=\"error\" role=\"alert\">").nth(1).expect("the refusal next to the task");
    assert!(message.contains("version"), "the service's own words: {message}");
    let after = app.task(&task.task_id).await;
    assert_eq!((after.assignee.as_str(), after.version), ("agent-maternity-1", held.version), "nothing changed");

    // From the task page, the refusal is shown on the task page.
    let refused = second.post(&claim_path, &pairs(&from_page), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("任务详情") && refused.body.contains("class=\"error\" role=\"alert\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("agent-maternity-1"), "the task as it is now: {}", refused.body);
    assert_eq!(app.task(&task.task_id).await.version, held.version, "nothing changed");

    // Sent again, the first claim is answered as before (same key): no second claim.
    let again = first.post(&claim_path, &pairs(&mine), &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(app.task(&task.task_id).await.version, held.version);
}

/// The claim form's fields in the task's row of an inbox page.
fn claim_form(page: &Page, row: &str) -> Vec<(&'static str, String)> {
    ["csrf", "version", "key", "back"].into_iter().map(|name| (name, page.field_after(row, name))).collect()
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

//! 审计 in the workbench (issue 15 item 5): a supervisor reads the refused
//! calls and the personal-data reads of every service, merged newest
//! first and filtered by case, person and service; an agent is told the
//! services' refusal; a filter the page cannot use is refused by name.

use reqwest::StatusCode;
use yiciban_testkit::applications::newborn;

use yiciban_testkit::eventually;

use crate::helpers::{MATERNITY, WAIT, of, spawn_app};

#[tokio::test]
async fn a_supervisor_reads_the_refusals_and_the_personal_data_reads_of_every_service() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("audit-1")).await;
    let task = of(&tasks, MATERNITY);
    let agent = app.signed_in("agent-maternity-1").await;
    // A read of the application (intake records it) and a refusal (tracking's).
    assert_eq!(agent.get(&format!("/tasks/{}", task.task_id)).await.status, StatusCode::OK);
    assert_eq!(agent.get("/statistics").await.status, StatusCode::FORBIDDEN);
    // And one of the notifier's (an agent asking for the text messages).
    assert_eq!(agent.get("/messages").await.status, StatusCode::FORBIDDEN);

    let supervisor = app.signed_in("sup-001").await;
    let home = supervisor.get("/").await;
    assert!(home.body.contains("href=\"/audit\""), "{}", home.body);
    let refusals = supervisor.get("/audit").await;
    assert_eq!(refusals.status, StatusCode::OK, "{}", refusals.body);
    assert!(
        refusals.body.contains("MonthlyStatistics") && refusals.body.contains("agent-maternity-1"),
        "{}",
        refusals.body
    );
    assert!(refusals.body.contains("<td>tracking</td>"), "{}", refusals.body);
    // Narrowed to another service, it is not there.
    let intake_only = supervisor.get("/audit?service=intake&caller=agent-maternity-1").await;
    assert_eq!(intake_only.status, StatusCode::OK, "{}", intake_only.body);
    assert!(!intake_only.body.contains("MonthlyStatistics"), "{}", intake_only.body);
    // The notifier's refusals are in the trail too (its log is written a
    // moment after the call).
    let notifier = eventually("the notifier's refusal in the trail", WAIT, || {
        let supervisor = supervisor.clone();
        async move {
            let page = supervisor.get("/audit?service=notifier").await;
            page.body.contains("ListMessages").then_some(page)
        }
    })
    .await;
    assert!(
        notifier.body.contains("<td>notifier</td>") && notifier.body.contains("agent-maternity-1"),
        "{}",
        notifier.body
    );

    let reads = supervisor.get(&format!("/audit?kind=reads&case={case_id}")).await;
    assert_eq!(reads.status, StatusCode::OK, "{}", reads.body);
    assert!(reads.body.contains("agent-maternity-1") && reads.body.contains("部门经办"), "{}", reads.body);
    assert!(reads.body.contains(&format!("href=\"/cases/{case_id}\"")), "{}", reads.body);
    let other_case = supervisor.get("/audit?kind=reads&case=00000000-0000-7000-8000-000000000000").await;
    assert!(other_case.body.contains("没有符合条件的记录"), "{}", other_case.body);

    let bad = supervisor.get("/audit?service=webhooks").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("筛选条件无效：service"), "{}", bad.body);
    let bad = supervisor.get("/audit?page=zz").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_agent_is_told_the_services_refusal_of_the_audit_trail() {
    let app = spawn_app().await;
    let agent = app.signed_in("agent-maternity-1").await;
    let page = agent.get("/audit").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("class=\"error\" role=\"alert\""), "{}", page.body);
    assert!(!page.body.contains("<table"), "{}", page.body);
}

//! The department inbox and the task page: an agent sees its own
//! department's tasks with the clock and what its department may see of the
//! application, never another department's.

use reqwest::StatusCode;
use yiciban_testkit::applications::newborn;

use crate::helpers::{CDC, MATERNITY, of, spawn_app};

#[tokio::test]
async fn an_agent_sees_its_departments_task_and_not_another_departments() {
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("inbox-1")).await;
    let (ours, theirs) = (of(&tasks, MATERNITY), of(&tasks, CDC));

    let browser = app.signed_in("agent-maternity-1").await;
    let inbox = browser.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert!(inbox.body.contains(&format!("/tasks/{}", ours.task_id)), "{}", inbox.body);
    assert!(inbox.body.contains(&ours.case_number));
    assert!(inbox.body.contains("待认领") && inbox.body.contains("计时中 · 已用 0/"), "{}", inbox.body);
    assert!(!inbox.body.contains(&theirs.task_id), "cdc's task is not health-maternity's");

    // Its own task page shows the task and the application's fields its step lists.
    let page = browser.get(&format!("/tasks/{}", ours.task_id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("form.newborn_name") && page.body.contains("张小宝"), "{}", page.body);
    assert!(!page.body.contains("bank_account") && !page.body.contains("hukou_address"), "{}", page.body);
    assert!(page.body.contains("m_birth_cert_form.pdf"));

    // Another department's task: as the service answers, not found.
    let hidden = browser.get(&format!("/tasks/{}", theirs.task_id)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    assert!(hidden.body.contains(&format!("task {} not found", theirs.task_id)), "{}", hidden.body);
    assert!(!hidden.body.contains(&theirs.case_number));

    // The cdc agent sees cdc's, not health-maternity's.
    let cdc = app.signed_in("agent-cdc-1").await.get("/inbox").await;
    assert!(cdc.body.contains(&theirs.task_id) && !cdc.body.contains(&ours.task_id), "{}", cdc.body);
}

#[tokio::test]
async fn the_filters_narrow_the_list_and_a_bad_one_is_named() {
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("inbox-2")).await;
    let ours = of(&tasks, MATERNITY);
    let browser = app.signed_in("agent-maternity-1").await;

    let pending = browser.get("/inbox?state=pending&package=newborn-birth").await;
    assert!(pending.body.contains(&ours.task_id), "{}", pending.body);
    assert!(pending.body.contains("<option value=\"pending\" selected>"), "{}", pending.body);
    for narrower in ["/inbox?state=in_progress", "/inbox?warning=red", "/inbox?package=open-restaurant"] {
        let page = browser.get(narrower).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains(&ours.task_id), "{narrower}: {}", page.body);
        assert!(page.body.contains("没有符合条件的待办"), "{narrower}");
    }
    let bad = browser.get("/inbox?state=closed").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("筛选条件无效：state"), "{}", bad.body);
}

#[tokio::test]
async fn a_supervisor_chooses_the_department_and_cannot_claim() {
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("inbox-3")).await;
    let ours = of(&tasks, MATERNITY);
    let browser = app.signed_in("sup-001").await;
    let choose = browser.get("/inbox").await;
    assert!(choose.body.contains("请选择部门") && !choose.body.contains(&ours.task_id), "{}", choose.body);
    let listed = browser.get(&format!("/inbox?department={MATERNITY}")).await;
    assert!(listed.body.contains(&ours.task_id), "{}", listed.body);
    assert!(!listed.body.contains("/claim"), "no claim form for a supervisor");
    let page = browser.get(&format!("/tasks/{}", ours.task_id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&ours.case_number) && !page.body.contains("/claim"), "{}", page.body);
    assert!(page.body.contains("仅向部门经办人显示") && !page.body.contains("张小宝"), "{}", page.body);
}

//! The window after intake (issue 15 item 2): the clerk takes a supplement
//! with its file (intake then owes nothing), tells the applicant a batch is
//! ready, hands it out to the applicant in person with the collector
//! checked — a wrong ID number refused next to its field, nothing recorded
//! and the number never shown back — which closes the case, and records the
//! applicant's rating at the window; a form without its token changes
//! nothing.

use std::time::Duration;

use reqwest::StatusCode;
use yiciban_platform::Role;
use yiciban_proto::common::v1::{Channel, TaskState};
use yiciban_proto::intake::v1 as intake;
use yiciban_proto::issuance::v1 as issuance;
use yiciban_proto::tasks::v1 as tasks;
use yiciban_testkit::applications::{FATHER_ID, MOTHER_ID, deficiency, newborn, restaurant, result_document};
use yiciban_testkit::eventually;

use crate::helpers::{Page, TestApp, spawn_app};

const WAIT: Duration = Duration::from_secs(90);

/// The words next to the input whose error element is `id`.
fn error_at<'a>(page: &'a Page, id: &str) -> &'a str {
    let marker = format!("id=\"{id}-error\" role=\"alert\">");
    let at = page.body.find(&marker).unwrap_or_else(|| panic!("an error at {id}:\n{}", page.body)) + marker.len();
    page.body[at..].split('<').next().unwrap()
}

/// The hidden fields `names` of the form posting to `action`, with the session's form token.
fn form_of(page: &Page, action: &str, names: &[&'static str]) -> Vec<(&'static str, String)> {
    let marker = format!("action=\"{action}\"");
    let mut fields = vec![("csrf", page.csrf())];
    fields.extend(names.iter().map(|name| (*name, page.field_after(&marker, name))));
    fields
}

fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn intake_case(app: &TestApp, case_id: &str) -> intake::Case {
    app.intake_as_clerk()
        .get_case(intake::GetCaseRequest { case_id: case_id.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap()
}

async fn issued(app: &TestApp, case_id: &str) -> Option<issuance::Issuance> {
    app.issuance(Role::Clerk, "clerk-001")
        .get_issuance(issuance::GetIssuanceRequest { case_id: case_id.into() })
        .await
        .ok()
        .and_then(|r| r.into_inner().issuance)
        .filter(|i| !i.batches.is_empty())
}

/// Every department approves its tasks as they appear (through the task
/// service, as their agents), until issuance holds the case's batch.
pub(crate) async fn decided(app: &TestApp, case_id: &str) -> issuance::Issuance {
    let supervisor = app.tasks(Role::Supervisor, "sup-001", None);
    eventually("every task approved and the batch prepared", WAIT, || {
        let (mut supervisor, case_id) = (supervisor.clone(), case_id.to_owned());
        async move {
            let listed = supervisor.list_case_tasks(tasks::ListCaseTasksRequest { case_id: case_id.clone() }).await;
            for task in listed.ok()?.into_inner().tasks {
                let open = task.state == TaskState::Pending as i32 || task.state == TaskState::InProgress as i32;
                if !open {
                    continue;
                }
                let mut agent = app.tasks(Role::Agent, &format!("agent-{}", task.department), Some(&task.department));
                let claim = tasks::ClaimTaskRequest {
                    idempotency_key: format!("claim-{}", task.task_id),
                    task_id: task.task_id.clone(),
                    expected_version: 0,
                };
                let _ = agent.claim_task(claim).await;
                let approve = tasks::ApproveTaskRequest {
                    idempotency_key: format!("approve-{}", task.task_id),
                    task_id: task.task_id.clone(),
                    expected_version: 0,
                    result: Some(result_document(&task)),
                    comment: String::new(),
                };
                let _ = agent.approve_task(approve).await;
            }
            issued(app, &case_id).await
        }
    })
    .await
}

#[tokio::test]
async fn the_clerk_takes_a_supplement_with_its_file_and_intake_then_owes_nothing() {
    let app = spawn_app().await;
    let mut owing = restaurant("window-sup-1", &["m_site_layout"]);
    owing.deficiencies.push(deficiency("m_site_layout"));
    let case_id = app.intake_as_clerk().submit_application(owing).await.unwrap().into_inner().case_id;
    assert!(intake_case(&app, &case_id).await.deficiencies.iter().any(|d| !d.cleared), "a deficiency is owed");

    let clerk = app.signed_in("clerk-001").await;
    let case_page = clerk.get(&format!("/cases/{case_id}")).await;
    assert!(case_page.body.contains(&format!("/cases/{case_id}/supplement")), "{}", case_page.body);
    let path = format!("/cases/{case_id}/supplement");
    let page = clerk.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("容缺补齐") && page.body.contains("name=\"file.m_site_layout\""), "{}", page.body);
    let fields = form_of(&page, &path, &["version", "key", "request"]);
    let scan: &[u8] = b"%PDF-1.4 site layout";
    let done = clerk
        .post_multipart_files(
            &path,
            &borrowed(&fields),
            &[("file.m_site_layout", "平面布局图.pdf", "application/pdf", scan)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=1"));

    let case = intake_case(&app, &case_id).await;
    assert!(case.deficiencies.iter().all(|d| d.cleared), "nothing owed: {:?}", case.deficiencies);
    assert!(case.materials.iter().any(|m| m.material_id == "m_site_layout" && m.file_name == "平面布局图.pdf"));
    let after = clerk.get(&format!("{path}?done=1")).await;
    assert!(after.body.contains("已收取补交材料") && after.body.contains("申请人目前无待补材料"), "{}", after.body);
    assert!(after.body.contains("平面布局图.pdf"), "the receipt lists what was taken: {}", after.body);
}

#[tokio::test]
async fn the_batch_is_handed_to_the_applicant_in_person_after_a_wrong_id_is_refused_and_then_rated() {
    let app = spawn_app().await;
    let (case_id, _) = app.case_with_tasks(newborn("window-out-1")).await;
    let prepared = decided(&app, &case_id).await;
    let batch = prepared.batches[0].batch_number;

    let clerk = app.signed_in("clerk-001").await;
    let path = format!("/cases/{case_id}/handout");
    // Tell the applicant.
    let page = clerk.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let notify = format!("{path}/notify");
    let mut fields = form_of(&page, &notify, &["version", "key", "batch"]);
    fields.push(("channel", "NOTIFICATION_CHANNEL_SMS".into()));
    fields.push(("pickup_location", "政务服务中心一楼综合出件窗口".into()));
    let done = clerk.post(&notify, &borrowed(&fields), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let notified = issued(&app, &case_id).await.unwrap();
    assert_eq!(notified.batches[0].state, issuance::BatchState::Notified as i32);

    // A collector whose ID number is not the applicant's: refused next to
    // the field, nothing recorded, the number not shown back.
    let page = clerk.get(&format!("{path}?done=notify")).await;
    assert!(page.body.contains("已记录通知领取"), "{}", page.body);
    let pickup = format!("{path}/pickup");
    let form = form_of(&page, &pickup, &["version", "key", "batch"]);
    let receipt: &[u8] = b"%PDF-1.4 signed receipt";
    let with = |id_number: &'static str| {
        let mut fields = borrowed(&form);
        fields.extend([("kind", "COLLECTOR_KIND_APPLICANT"), ("name", "王丽"), ("id_number", id_number)]);
        fields
    };
    let files = [("receipt", "签收单.pdf", "application/pdf", receipt)];
    let refused = clerk.post_multipart_files(&pickup, &with(FATHER_ID), &files).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        error_at(&refused, &format!("b{batch}-pickup-id_number")).contains("not the applicant"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains(FATHER_ID), "the ID number is never shown back");
    assert!(refused.body.contains("value=\"王丽\""), "the rest of the form is kept");
    let unchanged = issued(&app, &case_id).await.unwrap();
    assert_eq!((unchanged.version, unchanged.closed), (notified.version, false), "nothing recorded");

    // The applicant in person: handed out, the case closed.
    let done = clerk.post_multipart_files(&pickup, &with(MOTHER_ID), &files).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=pickup"));
    let delivered = issued(&app, &case_id).await.unwrap();
    assert_eq!(delivered.batches[0].state, issuance::BatchState::Delivered as i32);
    assert!(delivered.closed, "the final batch delivered closes the case");

    // The rating at the window: without the form token refused, nothing
    // recorded; then recorded.
    let page = clerk.get(&format!("{path}?done=pickup")).await;
    assert!(!page.body.contains(MOTHER_ID), "{}", page.body);
    let rating = format!("/cases/{case_id}/rating");
    let mut fields = form_of(&page, &rating, &["version", "key"]);
    fields.extend([
        ("score", "5".to_owned()),
        ("indicator.办事效率", "5".to_owned()),
        ("comment", "一窗办结，很方便".to_owned()),
        ("real_name", "1".to_owned()),
    ]);
    let without_token: Vec<_> = borrowed(&fields).into_iter().filter(|(k, _)| *k != "csrf").collect();
    let forged = clerk.post(&rating, &without_token, &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(issued(&app, &case_id).await.unwrap().ratings.is_empty(), "nothing recorded");
    let done = clerk.post(&rating, &borrowed(&fields), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let rated = issued(&app, &case_id).await.unwrap();
    assert_eq!(rated.ratings.len(), 1);
    let r = &rated.ratings[0];
    assert_eq!((r.score, r.channel, r.real_name), (5, Channel::Window as i32, true));
    assert_eq!(r.indicators.iter().map(|i| (i.name.as_str(), i.score)).collect::<Vec<_>>(), [("办事效率", 5)]);
    let page = clerk.get(&format!("{path}?done=rating")).await;
    assert!(page.body.contains("已记录评价") && page.body.contains("窗口评价器"), "{}", page.body);
    assert!(!page.body.contains("action=\"/cases/"), "nothing more to do at the window: {}", page.body);
}

#[tokio::test]
async fn the_clerk_takes_the_supplement_a_department_asked_for_and_it_is_owed_no_more() {
    let app = spawn_app().await;
    let (case_id, listed) = app.case_with_tasks(newborn("window-sup-2")).await;
    let task = crate::helpers::of(&listed, crate::helpers::MATERNITY);
    let material = task.material_ids.first().expect("the item needs a material").clone();
    let mut agent = app.tasks(Role::Agent, "agent-maternity-1", Some(crate::helpers::MATERNITY));
    let claim =
        tasks::ClaimTaskRequest { idempotency_key: "c".into(), task_id: task.task_id.clone(), expected_version: 0 };
    agent.claim_task(claim).await.unwrap();
    let needed = "请提交加盖医院公章的原件扫描件";
    agent
        .return_for_supplement(tasks::ReturnForSupplementRequest {
            idempotency_key: "r".into(),
            task_id: task.task_id.clone(),
            expected_version: 0,
            items: vec![yiciban_proto::common::v1::SupplementItem {
                material_id: material.clone(),
                field_path: String::new(),
                requirement: needed.into(),
            }],
            due_by: None,
        })
        .await
        .unwrap();

    let clerk = app.signed_in("clerk-001").await;
    let path = format!("/cases/{case_id}/supplement");
    let input = format!("file.{material}");
    let page = clerk.get(&path).await;
    assert!(page.body.contains("退回补正") && page.body.contains(needed), "{}", page.body);
    assert!(page.body.contains(&format!("name=\"{input}\"")), "{}", page.body);
    let fields = form_of(&page, &path, &["version", "key", "request"]);
    let request = &fields.iter().find(|(k, _)| *k == "request").unwrap().1;
    assert_eq!(*request, app.task(&task.task_id).await.supplement_request_id);
    let scan: &[u8] = b"%PDF-1.4 stamped original";
    let done =
        clerk.post_multipart_files(&path, &borrowed(&fields), &[(&input, "原件.pdf", "application/pdf", scan)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let case = intake_case(&app, &case_id).await;
    assert!(case.materials.iter().any(|m| m.material_id == material && m.file_name == "原件.pdf"), "{case:?}");

    // The task service resumes the task on the supplement: nothing owed any more.
    let after = eventually("the request no longer owed", WAIT, || async {
        let page = clerk.get(&path).await;
        (!page.body.contains(&format!("name=\"{input}\""))).then_some(page)
    })
    .await;
    assert!(after.body.contains("申请人目前无待补材料"), "{}", after.body);
    assert_eq!(app.task(&task.task_id).await.state, TaskState::InProgress as i32);
}

#[tokio::test]
async fn an_agent_collects_only_with_the_power_of_attorney_scanned() {
    let app = spawn_app().await;
    let (case_id, _) = app.case_with_tasks(newborn("window-out-2")).await;
    let prepared = decided(&app, &case_id).await;
    let batch = prepared.batches[0].batch_number;
    let clerk = app.signed_in("clerk-001").await;
    let path = format!("/cases/{case_id}/handout");
    let pickup = format!("{path}/pickup");
    let page = clerk.get(&path).await;
    let form = form_of(&page, &pickup, &["version", "key", "batch"]);
    let mut fields = borrowed(&form);
    fields.extend([("kind", "COLLECTOR_KIND_AGENT"), ("name", "张三"), ("id_number", FATHER_ID)]);
    let receipt: &[u8] = b"%PDF-1.4 signed receipt";
    let poa: &[u8] = b"%PDF-1.4 power of attorney";

    let refused =
        clerk.post_multipart_files(&pickup, &fields, &[("receipt", "签收单.pdf", "application/pdf", receipt)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at(&refused, &format!("b{batch}-pickup-power_of_attorney")).is_empty(), "{}", refused.body);
    assert!(!refused.body.contains(FATHER_ID), "the ID number is never shown back");
    assert!(refused.body.contains("value=\"COLLECTOR_KIND_AGENT\" checked"), "{}", refused.body);
    assert_eq!(issued(&app, &case_id).await.unwrap().version, prepared.version, "nothing recorded");

    let files = [
        ("receipt", "签收单.pdf", "application/pdf", receipt),
        ("power_of_attorney", "授权委托书.pdf", "application/pdf", poa),
    ];
    let done = clerk.post_multipart_files(&pickup, &fields, &files).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let delivered = issued(&app, &case_id).await.unwrap();
    assert_eq!(
        (delivered.batches[0].state, delivered.batches[0].collector_kind),
        (issuance::BatchState::Delivered as i32, yiciban_proto::common::v1::CollectorKind::Agent as i32)
    );
    let page = clerk.get(done.location()).await;
    assert!(page.body.contains("委托代理人领取"), "{}", page.body);
}

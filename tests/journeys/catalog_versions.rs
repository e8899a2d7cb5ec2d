//! Catalog versions pin running cases: a version published while a case is
//! in flight changes nothing about it — it finishes on the version it was
//! accepted under, while a case accepted afterwards runs on the new one, also
//! across a restart of routing (which then fetches the version from intake).

use std::time::Duration;

use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;
use yiciban_testkit::catalogs::{copy_package, rename_item, seed_as};
use yiciban_testkit::eventually;

use crate::joint_processing::{approve_everything, case_tasks, plan, submit};
use crate::stack::{Service, Stack};

const WAIT: Duration = Duration::from_secs(30);
const RENAMED: &str = "出生医学证明签发（2026.2 版）";

async fn first_item_names(stack: &Stack, case_id: &str) -> Vec<String> {
    let tasks = eventually("the case's tasks", WAIT, || async {
        let tasks = case_tasks(stack, case_id).await;
        tasks.iter().any(|t| t.item_code == "DEMO-NB-01").then_some(tasks)
    })
    .await;
    tasks.into_iter().filter(|t| t.item_code == "DEMO-NB-01").map(|t| t.item_name).collect()
}

#[tokio::test]
async fn a_case_in_flight_finishes_on_its_version_while_a_new_case_runs_on_the_published_one() {
    let mut stack = Stack::start("2026-09-29T02:00:00Z").await;
    let before = submit(&stack, "nb-before").await;
    eventually("the first case planned", WAIT, || async { plan(&stack, &before).await }).await;

    let admin = stack.token(Role::Admin, "admin-001", None);
    let mut publishing =
        CatalogPublishingServiceClient::with_interceptor(stack.channel(Service::Intake), ClientAuth::new(Some(&admin)));
    let file = seed_as("2026.2", |c| rename_item(c, "DEMO-NB-01", RENAMED));
    let published = publishing.import_catalog(pb::ImportCatalogRequest { file_json: file, note: "rename".into() });
    assert!(published.await.unwrap().into_inner().changed);
    // Routing forgets every version it held; the new case's must come from intake.
    stack.kill(Service::Routing).await;
    stack.spawn(Service::Routing).await;

    let after = submit(&stack, "nb-after").await;
    let names_before = first_item_names(&stack, &before).await;
    let names_after = first_item_names(&stack, &after).await;
    assert_eq!(names_before, ["出生医学证明首次签发"], "the running case keeps 2026.1");
    assert_eq!(names_after, [RENAMED], "the new case runs on 2026.2");

    // Both run to the hand-over, their later steps dispatched on their own versions.
    for case_id in [&before, &after] {
        let rounds = approve_everything(&stack, case_id).await;
        assert!(rounds.len() >= 2, "dependent steps were dispatched after the publication: {rounds:?}");
        assert!(plan(&stack, case_id).await.unwrap().handed_to_issuance);
    }
}

#[tokio::test]
async fn a_package_added_in_a_published_version_is_accepted_planned_and_named_everywhere() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let admin = stack.token(Role::Admin, "admin-001", None);
    let mut publishing =
        CatalogPublishingServiceClient::with_interceptor(stack.channel(Service::Intake), ClientAuth::new(Some(&admin)));
    let file =
        seed_as("2026.2", |c| copy_package(c, "newborn-birth", "newborn-birth-district", "出生一件事（本区试点）"));
    publishing.import_catalog(pb::ImportCatalogRequest { file_json: file, note: "pilot".into() }).await.unwrap();

    let mut request = yiciban_testkit::applications::newborn("nb-district");
    request.package_id = "newborn-birth-district".into();
    let submitted = stack.intake(Role::Clerk, "clerk-001").submit_application(request).await.unwrap().into_inner();
    let case_id = submitted.case_id;
    let rounds = approve_everything(&stack, &case_id).await;
    assert!(!rounds.is_empty());
    let summary = eventually("tracking names the new package", WAIT, || async {
        let summary = stack
            .tracking(Role::Supervisor, "sup-1", None)
            .get_case_summary(yiciban_proto::tracking::v1::GetCaseSummaryRequest { case_id: case_id.clone() })
            .await
            .ok()?
            .into_inner()
            .summary?;
        (summary.package_name == "出生一件事（本区试点）").then_some(summary)
    })
    .await;
    assert_eq!(summary.package_id, "newborn-birth-district");
}

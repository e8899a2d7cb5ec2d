//! Catalog drafts: a department taking part in a package drafts a change, the
//! package's lead department reviews it (never the drafter), and the
//! publishing office publishes approved drafts as a new catalog version; a
//! draft with problems is saved with every one listed but never submitted;
//! other departments see nothing of it.

use serde_json::Value;
use tonic::Code;
use yiciban_domain::catalog::SEED_JSON;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;

use crate::helpers::{TestApp, spawn_app};

type Publishing = CatalogPublishingServiceClient<
    tonic::codegen::InterceptedService<tonic::transport::Channel, yiciban_platform::grpc::ClientAuth>,
>;

fn as_(app: &TestApp, role: Role, sub: &str, department: Option<&str>) -> Publishing {
    let token = app.token(role, sub, department, None);
    CatalogPublishingServiceClient::with_interceptor(
        app.channel.clone(),
        yiciban_platform::grpc::ClientAuth::new(Some(&token)),
    )
}

fn agent(app: &TestApp, department: &str, n: u32) -> Publishing {
    as_(app, Role::Agent, &format!("agent-{department}-{n}"), Some(department))
}

fn admin(app: &TestApp) -> Publishing {
    as_(app, Role::Admin, "admin-001", None)
}

/// The seed's package `id`, edited.
fn package(id: &str, edit: impl FnOnce(&mut Value)) -> String {
    let file: Value = serde_json::from_str(SEED_JSON).unwrap();
    let mut package = file["packages"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
    edit(&mut package);
    package.to_string()
}

fn rename_item(package: &mut Value, code: &str, name: &str) {
    for item in package["items"].as_array_mut().unwrap() {
        if item["code"] == code {
            item["name"] = Value::String(name.into());
        }
    }
}

fn save(package_json: String) -> pb::SaveCatalogDraftRequest {
    pb::SaveCatalogDraftRequest { package_json, ..Default::default() }
}

fn action(draft: &pb::CatalogDraft) -> pb::CatalogDraftActionRequest {
    pb::CatalogDraftActionRequest { draft_id: draft.draft_id.clone(), expected_version: draft.version }
}

fn review(draft: &pb::CatalogDraft, approve: bool, note: &str) -> pb::ReviewCatalogDraftRequest {
    pb::ReviewCatalogDraftRequest {
        draft_id: draft.draft_id.clone(),
        expected_version: draft.version,
        approve,
        note: note.into(),
    }
}

#[tokio::test]
async fn a_department_drafts_the_lead_department_reviews_and_the_office_publishes_a_version() {
    let app = spawn_app().await;
    // The vaccination unit (cdc) renames its own item of the newborn package.
    let drafted = agent(&app, "cdc", 1)
        .save_catalog_draft(save(package("newborn-birth", |p| rename_item(p, "DEMO-NB-02", "预防接种证办理（新）"))))
        .await
        .unwrap()
        .into_inner();
    assert!(drafted.problems.is_empty(), "{:?}", drafted.problems);
    let draft = drafted.draft.unwrap();
    assert_eq!((draft.status.as_str(), draft.lead_department.as_str()), ("draft", "health"));
    assert_eq!(draft.drafting_department, "cdc");

    // A department not taking part neither drafts the package nor sees the draft.
    let foreign = agent(&app, "samr", 1).save_catalog_draft(save(package("newborn-birth", |_| {}))).await;
    assert_eq!(foreign.unwrap_err().code(), Code::PermissionDenied);
    let hidden = agent(&app, "samr", 1)
        .get_catalog_draft(pb::GetCatalogDraftRequest { draft_id: draft.draft_id.clone() })
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
    let listed = agent(&app, "samr", 1).list_catalog_drafts(pb::ListCatalogDraftsRequest::default()).await.unwrap();
    assert!(listed.into_inner().drafts.is_empty());

    let submitted = agent(&app, "cdc", 1).submit_catalog_draft(action(&draft)).await.unwrap().into_inner();
    let draft = submitted.draft.unwrap();
    assert_eq!(draft.status, "submitted");
    // Only the lead department reviews.
    let not_lead = agent(&app, "cdc", 2).review_catalog_draft(review(&draft, true, "")).await.unwrap_err();
    assert_eq!(not_lead.code(), Code::PermissionDenied, "{not_lead:?}");
    let approved = agent(&app, "health", 1).review_catalog_draft(review(&draft, true, "同意")).await.unwrap();
    let draft = approved.into_inner().draft.unwrap();
    assert_eq!(draft.status, "approved");

    let published = admin(&app)
        .publish_catalog_drafts(pb::PublishCatalogDraftsRequest {
            version: "2026.2".into(),
            draft_ids: vec![],
            note: "接种证更名".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(published.published.unwrap().version, "2026.2");
    assert_eq!(published.draft_ids, std::slice::from_ref(&draft.draft_id));
    let guide = app
        .catalog()
        .get_guide(pb::GetGuideRequest { package_id: "newborn-birth".into() })
        .await
        .unwrap()
        .into_inner()
        .guide
        .unwrap();
    assert_eq!(guide.catalog_version, "2026.2");
    assert!(guide.items.iter().any(|i| i.name == "预防接种证办理（新）"), "the published version is in force");

    let done = agent(&app, "health", 1)
        .get_catalog_draft(pb::GetCatalogDraftRequest { draft_id: draft.draft_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .draft
        .unwrap();
    assert_eq!((done.status.as_str(), done.published_in.as_str()), ("published", "2026.2"));
    let history: Vec<(String, String)> = done.history.iter().map(|h| (h.action.clone(), h.actor.clone())).collect();
    assert_eq!(
        history,
        [
            ("save".into(), "agent-cdc-1".into()),
            ("submit".into(), "agent-cdc-1".into()),
            ("approve".into(), "agent-health-1".into()),
            ("publish".into(), "admin-001".into()),
        ]
    );
}

#[tokio::test]
async fn a_draft_with_problems_is_saved_with_every_problem_listed_but_never_submitted() {
    let app = spawn_app().await;
    let broken = package("newborn-birth", |p| {
        p["items"][1]["department"] = Value::String("nowhere".into());
        p["promised_total_days"] = Value::from(0);
    });
    let saved = agent(&app, "cdc", 1).save_catalog_draft(save(broken)).await.unwrap().into_inner();
    assert!(saved.problems.iter().any(|p| p.contains("unknown department \"nowhere\"")), "{:?}", saved.problems);
    assert!(saved.problems.iter().any(|p| p.contains("shorter than the critical path")), "{:?}", saved.problems);
    let draft = saved.draft.unwrap();
    let refused = agent(&app, "cdc", 1).submit_catalog_draft(action(&draft)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violations_of(&refused).len(), saved.problems.len(), "every problem listed");

    // Nothing approved: nothing to publish, and the catalog stays.
    let nothing = admin(&app)
        .publish_catalog_drafts(pb::PublishCatalogDraftsRequest { version: "2026.2".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(nothing.code(), Code::FailedPrecondition, "{nothing:?}");
    let versions = admin(&app).list_catalog_versions(pb::ListCatalogVersionsRequest {}).await.unwrap();
    assert_eq!(versions.into_inner().versions.len(), 1);
}

#[tokio::test]
async fn one_open_draft_per_package_a_rejection_goes_back_to_the_drafter_and_nobody_reviews_their_own() {
    let app = spawn_app().await;
    let first = agent(&app, "health", 1)
        .save_catalog_draft(save(package("newborn-birth", |p| rename_item(p, "DEMO-NB-01", "出生医学证明"))))
        .await
        .unwrap()
        .into_inner()
        .draft
        .unwrap();
    let second = agent(&app, "cdc", 1).save_catalog_draft(save(package("newborn-birth", |_| {}))).await.unwrap_err();
    assert_eq!(second.code(), Code::FailedPrecondition, "{second:?}");
    assert!(second.message().contains("has an open draft already"), "{}", second.message());

    let first =
        agent(&app, "health", 1).submit_catalog_draft(action(&first)).await.unwrap().into_inner().draft.unwrap();
    let own = agent(&app, "health", 1).review_catalog_draft(review(&first, true, "")).await.unwrap_err();
    assert_eq!(own.code(), Code::PermissionDenied, "{own:?}");
    let no_note = agent(&app, "health", 2).review_catalog_draft(review(&first, false, " ")).await.unwrap_err();
    assert_eq!(no_note.code(), Code::InvalidArgument, "a rejection says why: {no_note:?}");
    let rejected = agent(&app, "health", 2)
        .review_catalog_draft(review(&first, false, "名称须与国家目录一致"))
        .await
        .unwrap()
        .into_inner()
        .draft
        .unwrap();
    assert_eq!(rejected.status, "rejected");
    assert_eq!(rejected.history.last().unwrap().note, "名称须与国家目录一致");

    // The drafter saves it again (on the version read), then gives it up.
    let stale = agent(&app, "health", 1)
        .save_catalog_draft(pb::SaveCatalogDraftRequest {
            draft_id: rejected.draft_id.clone(),
            package_json: package("newborn-birth", |_| {}),
            expected_version: rejected.version - 1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    let resaved = agent(&app, "health", 1)
        .save_catalog_draft(pb::SaveCatalogDraftRequest {
            draft_id: rejected.draft_id.clone(),
            package_json: package("newborn-birth", |_| {}),
            expected_version: rejected.version,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .draft
        .unwrap();
    assert_eq!(resaved.status, "draft");
    let withdrawn = agent(&app, "health", 1).withdraw_catalog_draft(action(&resaved)).await.unwrap();
    assert_eq!(withdrawn.into_inner().draft.unwrap().status, "withdrawn");
    // A new draft of the package may start now.
    agent(&app, "cdc", 1).save_catalog_draft(save(package("newborn-birth", |_| {}))).await.unwrap();
}

#[tokio::test]
async fn a_retired_package_leaves_the_version_published_with_its_retirement() {
    let app = spawn_app().await;
    let retire = pb::SaveCatalogDraftRequest { retire_package_id: "open-restaurant".into(), ..Default::default() };
    let draft = admin(&app).save_catalog_draft(retire).await.unwrap().into_inner();
    assert!(draft.problems.is_empty(), "{:?}", draft.problems);
    let draft = draft.draft.unwrap();
    assert!(draft.retire);
    let draft = admin(&app).submit_catalog_draft(action(&draft)).await.unwrap().into_inner().draft.unwrap();
    agent(&app, "samr", 1).review_catalog_draft(review(&draft, true, "已并入新事项")).await.unwrap();
    admin(&app)
        .publish_catalog_drafts(pb::PublishCatalogDraftsRequest { version: "2026.2".into(), ..Default::default() })
        .await
        .unwrap();
    let gone = app.catalog().get_guide(pb::GetGuideRequest { package_id: "open-restaurant".into() }).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);

    let unknown = pb::SaveCatalogDraftRequest { retire_package_id: "open-restaurant".into(), ..Default::default() };
    let unknown = admin(&app).save_catalog_draft(unknown).await.unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument, "no such package in force any more: {unknown:?}");
}

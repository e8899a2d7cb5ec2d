//! Catalog versions: an administrator publishes a whole catalog file in one
//! call, new submissions are accepted under it, a bad file is refused with
//! every problem and nothing stored, and a version is published once.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;
use yiciban_proto::intake::v1 as intake;
use yiciban_testkit::catalogs::{copy_package, rename_item, seed_as};

use crate::fixtures::newborn;
use crate::helpers::{TestApp, spawn_app};

type Publishing = CatalogPublishingServiceClient<
    tonic::codegen::InterceptedService<tonic::transport::Channel, yiciban_platform::grpc::ClientAuth>,
>;

fn publishing(app: &TestApp, role: Role) -> Publishing {
    let department = (role == Role::Agent).then_some("samr");
    let token = app.token(role, &format!("{}-001", role.as_str()), department, None);
    CatalogPublishingServiceClient::with_interceptor(
        app.channel.clone(),
        yiciban_platform::grpc::ClientAuth::new(Some(&token)),
    )
}

fn import(file_json: String) -> pb::ImportCatalogRequest {
    pb::ImportCatalogRequest { file_json, note: "test".into() }
}

async fn versions(app: &TestApp) -> Vec<(String, bool)> {
    let mut client = publishing(app, Role::Supervisor);
    let listed = client.list_catalog_versions(pb::ListCatalogVersionsRequest {}).await;
    listed.unwrap().into_inner().versions.into_iter().map(|v| (v.version, v.in_force)).collect()
}

#[tokio::test]
async fn a_published_version_is_in_force_for_new_submissions_and_lists_beside_the_seed() {
    let app = spawn_app().await;
    let file =
        seed_as("2026.2", |c| copy_package(c, "newborn-birth", "newborn-birth-district", "出生一件事（本区试点）"));
    let published = publishing(&app, Role::Admin).import_catalog(import(file.clone())).await.unwrap().into_inner();
    assert_eq!((published.version.as_str(), published.changed, published.packages), ("2026.2", true, 9));
    assert_eq!(versions(&app).await, [("2026.2".to_owned(), true), ("2026.1".to_owned(), false)]);

    // The new package is found, and a new case records the version it was accepted under.
    let query = pb::ListPackagesRequest { name: "本区试点".into(), ..Default::default() };
    let found = app.catalog().list_packages(query).await.unwrap().into_inner();
    assert_eq!((found.packages.len(), found.catalog_version.as_str()), (1, "2026.2"));
    let mut request = newborn("k-2026-2");
    request.package_id = "newborn-birth-district".into();
    let accepted = app.clerk().submit_application(request).await.unwrap().into_inner();
    assert_eq!(accepted.decision(), intake::AcceptanceDecision::Accepted, "{accepted:?}");
    let payload: Vec<u8> = sqlx::query_scalar(
        "SELECT payload FROM intake.events WHERE event_type = 'ApplicationAccepted' AND case_id = $1::uuid",
    )
    .bind(&accepted.case_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let event = <yiciban_proto::events::v1::ApplicationAccepted as prost::Message>::decode(payload.as_slice()).unwrap();
    assert_eq!(event.catalog_version, "2026.2", "the case keeps the version it was accepted under");

    // The file as published, for export and for the services keeping older cases.
    let mut admin = publishing(&app, Role::Admin);
    let got = admin.get_catalog_version(pb::GetCatalogVersionRequest::default()).await.unwrap().into_inner();
    assert_eq!((got.version.unwrap().version, got.file_json), ("2026.2".to_owned(), file));
    let seed = publishing(&app, Role::Admin)
        .get_catalog_version(pb::GetCatalogVersionRequest { version: "2026.1".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(!seed.version.unwrap().in_force);
    let missing = publishing(&app, Role::Admin)
        .get_catalog_version(pb::GetCatalogVersionRequest { version: "1999.9".into() })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
}

#[tokio::test]
async fn a_bad_catalog_file_is_refused_with_every_problem_and_nothing_stored() {
    let app = spawn_app().await;
    let file = seed_as("2026.2", |c| {
        c["packages"][0]["items"][0]["department"] = "nowhere".into();
        c["packages"][1]["id"] = c["packages"][0]["id"].clone();
        c["packages"][2]["retention_years"] = 0.into();
    });
    let refused = publishing(&app, Role::Admin).import_catalog(import(file)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let problems: Vec<String> = violations_of(&refused).into_iter().map(|v| v.description).collect();
    assert!(problems.iter().any(|p| p.contains("unknown department \"nowhere\"")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("duplicate package id")), "{problems:#?}");
    assert!(
        problems.iter().any(|p| p.contains(".retention_years: 0: the years personal data is kept after closing")),
        "{problems:#?}"
    );

    let not_json = publishing(&app, Role::Admin).import_catalog(import("{\"version\": 3".into())).await.unwrap_err();
    assert_eq!(not_json.code(), Code::InvalidArgument, "{not_json:?}");
    assert!(not_json.message().contains("not a catalog file"), "{}", not_json.message());

    assert_eq!(versions(&app).await, [("2026.1".to_owned(), true)], "nothing was stored");
}

#[tokio::test]
async fn a_version_is_published_once_and_only_by_an_administrator() {
    let app = spawn_app().await;
    let first = seed_as("2026.2", |c| rename_item(c, "DEMO-NB-01", "出生医学证明签发"));
    for role in [Role::Clerk, Role::Supervisor, Role::Agent] {
        let refused = publishing(&app, role).import_catalog(import(first.clone())).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}: {refused:?}");
    }
    let admin = publishing(&app, Role::Admin);
    assert!(admin.clone().import_catalog(import(first.clone())).await.unwrap().into_inner().changed);
    let again = admin.clone().import_catalog(import(first)).await.unwrap().into_inner();
    assert!(!again.changed, "the version in force imported again changes nothing");

    let other = seed_as("2026.2", |c| rename_item(c, "DEMO-NB-01", "出生医学证明首次签发（另一稿）"));
    let taken = admin.clone().import_catalog(import(other)).await.unwrap_err();
    assert_eq!(taken.code(), Code::FailedPrecondition, "{taken:?}");
    assert!(taken.message().contains("\"2026.2\" was published before"), "{}", taken.message());
    let seed_again = admin.clone().import_catalog(import(seed_as("2026.1", |_| {}))).await.unwrap_err();
    assert_eq!(seed_again.code(), Code::FailedPrecondition, "the seed's version is taken too: {seed_again:?}");
    assert_eq!(versions(&app).await.len(), 2);
}

/// The last reference-data event of `event_type` on the test's stream.
async fn last_announced<M: prost::Message + Default>(app: &TestApp, event_type: &str) -> M {
    let subject = app.nats.subjects.reference(event_type);
    let stream = app.nats.subjects.reference_stream_name();
    yiciban_testkit::eventually(&format!("{event_type} on NATS"), std::time::Duration::from_secs(20), || async {
        let stream = app.nats.js.get_stream(&stream).await.ok()?;
        let message = stream.get_last_raw_message_by_subject(&subject).await.ok()?;
        M::decode(message.payload.as_ref()).ok()
    })
    .await
}

#[tokio::test]
async fn each_publication_is_announced_once_on_nats_with_what_it_changes() {
    let app = spawn_app().await;
    let file = seed_as("2026.2", |c| {
        copy_package(c, "newborn-birth", "newborn-birth-district", "出生一件事（本区试点）");
        rename_item(c, "DEMO-NB-01", "出生医学证明签发");
    });
    publishing(&app, Role::Admin).import_catalog(import(file)).await.unwrap();
    let announced: yiciban_proto::events::v1::CatalogVersionPublished =
        last_announced(&app, "CatalogVersionPublished").await;
    assert_eq!((announced.version.as_str(), announced.previous_version.as_str()), ("2026.2", "2026.1"));
    assert_eq!(announced.added_packages, ["newborn-birth-district"]);
    assert_eq!(announced.changed_packages, ["newborn-birth"]);
    assert!(announced.retired_packages.is_empty());
    assert_eq!(announced.published_by, "admin-001");

    let calendar = pb::PublishCalendarRequest {
        years: vec![pb::CalendarYear { year: 2027, holidays: vec![], workdays: vec![] }],
        source: "test".into(),
        replaces_revision: 0,
    };
    app.calendar_as(Role::Admin).publish_calendar(calendar).await.unwrap();
    let announced: yiciban_proto::events::v1::CalendarPublished = last_announced(&app, "CalendarPublished").await;
    assert_eq!((announced.revision, announced.years.as_slice()), (1, [2027].as_slice()));

    let stream = app.nats.js.get_stream(app.nats.subjects.reference_stream_name()).await.unwrap();
    // Marked once JetStream has acknowledged the message (just after the
    // message can be read).
    yiciban_testkit::eventually("both publications marked announced", std::time::Duration::from_secs(10), || async {
        let unannounced: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM intake.catalog_versions WHERE announced_at IS NULL)
                  + (SELECT count(*) FROM intake.calendar_publications WHERE announced_at IS NULL)",
        )
        .fetch_one(&app.db.pool)
        .await
        .ok()?;
        (unannounced == 0).then_some(())
    })
    .await;
    let mut stream = stream;
    assert_eq!(stream.info().await.unwrap().state.messages, 2, "one message per publication");
}

#[tokio::test]
async fn the_accepting_site_is_one_of_the_catalogs_sites_and_is_recorded_on_the_case() {
    let app = spawn_app().await;
    let file = seed_as("2026.2", |c| {
        c["sites"] = serde_json::json!([
            {"code": "hall", "name": "示例旗政务服务大厅", "kind": "hall", "district": "示例旗"},
            {"code": "town-1", "name": "示例镇便民服务中心", "kind": "township", "district": "示例旗"}
        ]);
    });
    publishing(&app, Role::Admin).import_catalog(import(file)).await.unwrap();
    let sites = app.catalog().list_sites(pb::ListSitesRequest {}).await.unwrap().into_inner();
    let codes: Vec<(&str, pb::SiteKind)> = sites.sites.iter().map(|s| (s.code.as_str(), s.kind())).collect();
    assert_eq!(codes, [("hall", pb::SiteKind::Hall), ("town-1", pb::SiteKind::Township)]);

    let events = app.event_count().await;
    let mut unknown = newborn("k-unknown-site");
    unknown.site_code = "town-9".into();
    let refused = app.clerk().submit_application(unknown).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violations_of(&refused)[0].field, "site_code");
    assert!(refused.message().contains("\"town-9\" is not a site of catalog 2026.2"), "{}", refused.message());
    assert_eq!(app.event_count().await, events, "nothing was stored");

    let mut at_town = newborn("k-town-site");
    at_town.site_code = "town-1".into();
    let accepted = app.clerk().submit_application(at_town).await.unwrap().into_inner();
    let payload: Vec<u8> = sqlx::query_scalar(
        "SELECT payload FROM intake.events WHERE event_type = 'ApplicationSubmitted' AND case_id = $1::uuid",
    )
    .bind(&accepted.case_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let submitted = <yiciban_proto::events::v1::ApplicationSubmitted as prost::Message>::decode(payload.as_slice());
    assert_eq!(submitted.unwrap().site_code, "town-1");
}

#[tokio::test]
async fn an_older_version_a_case_is_pinned_to_is_read_once_and_kept() {
    let app = spawn_app().await;
    let file =
        seed_as("2026.2", |c| copy_package(c, "newborn-birth", "newborn-birth-district", "出生一件事（本区试点）"));
    publishing(&app, Role::Admin).import_catalog(import(file)).await.unwrap();
    let live = &app.intake.catalog;
    let (pool, schema) = (&app.db.pool, app.intake.schema());
    let in_force = live.pinned(pool, schema, "2026.2").await.unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&in_force, &live.current()), "the version in force is the live one");
    let seed = live.pinned(pool, schema, "2026.1").await.unwrap().unwrap();
    assert_eq!(seed.version(), "2026.1");
    assert!(seed.package("newborn-birth-district").is_none());
    let again = live.pinned(pool, schema, "2026.1").await.unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&seed, &again), "read once, then kept");
    assert!(live.pinned(pool, schema, "2025.9").await.unwrap().is_none(), "never published");
}

#[tokio::test]
async fn a_case_keeps_the_definition_it_was_accepted_under_but_is_told_the_contact_in_force() {
    let app = spawn_app().await;
    let accepted = app.clerk().submit_application(newborn("k-before-2026-2")).await.unwrap().into_inner();
    assert_eq!(accepted.decision(), intake::AcceptanceDecision::Accepted, "{accepted:?}");

    // The centre moves its consultation line, and an item is renamed.
    let file = seed_as("2026.2", |c| {
        c["contact"]["phone"] = serde_json::json!("0472-5163100");
        rename_item(c, "DEMO-NB-02", "预防接种证办理（新）");
    });
    publishing(&app, Role::Admin).import_catalog(import(file)).await.unwrap();

    // What the case runs on stays its version's (ADR 0017)…
    let payload: Vec<u8> = sqlx::query_scalar(
        "SELECT payload FROM intake.events WHERE event_type = 'ApplicationAccepted' AND case_id = $1::uuid",
    )
    .bind(&accepted.case_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let event = <yiciban_proto::events::v1::ApplicationAccepted as prost::Message>::decode(payload.as_slice()).unwrap();
    assert_eq!(event.catalog_version, "2026.1");
    let pinned = app.intake.catalog.pinned(&app.db.pool, app.intake.schema(), "2026.1").await.unwrap().unwrap();
    let item = pinned.package("newborn-birth").unwrap().items.iter().find(|i| i.code.as_str() == "DEMO-NB-02");
    assert_ne!(item.unwrap().name, "预防接种证办理（新）", "the case's items keep their names");

    // …but whom to call is the version in force's, for this case as for a new one (ADR 0036).
    let contact = app
        .catalog()
        .get_contact(pb::GetContactRequest { package_id: "newborn-birth".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contact.catalog_version, "2026.2");
    assert_eq!(contact.package.unwrap().phone, "0472-5163100");
    assert_eq!(contact.centre.unwrap().phone, "0472-5163100");
}

#[tokio::test]
async fn a_version_in_the_format_before_contacts_is_still_published_and_served_with_its_free_text() {
    let app = spawn_app().await;
    let file = seed_as("2026.2", |c| {
        c.as_object_mut().unwrap().remove("contact");
        for p in c["packages"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("contact");
            p["consultation_phone"] = serde_json::json!("旧格式：0472-1234567；12345");
        }
    });
    publishing(&app, Role::Admin).import_catalog(import(file)).await.unwrap();
    let guide = app
        .catalog()
        .get_guide(pb::GetGuideRequest { package_id: "newborn-birth".into() })
        .await
        .unwrap()
        .into_inner()
        .guide
        .unwrap();
    assert_eq!((guide.contact, guide.consultation_phone.as_str()), (None, "旧格式：0472-1234567；12345"));
    let request = pb::GetContactRequest { package_id: "newborn-birth".into() };
    let contact = app.catalog().get_contact(request).await.unwrap().into_inner();
    assert_eq!((contact.centre, contact.package, contact.catalog_version.as_str()), (None, None, "2026.2"));

    // A file with a contact may not keep the free text: refused, nothing stored.
    let mixed = seed_as("2026.3", |c| c["packages"][0]["consultation_phone"] = serde_json::json!("0472-1234567"));
    let refused = publishing(&app, Role::Admin).import_catalog(import(mixed)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains(".consultation_phone"), "{}", refused.message());
    assert_eq!(versions(&app).await[0], ("2026.2".to_owned(), true));
}

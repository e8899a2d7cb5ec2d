//! The catalog over gRPC: search, guide, form schema and printable guide.

use tonic::Code;
use yiciban_proto::catalog::v1 as pb;

use crate::helpers::spawn_app;

#[tokio::test]
async fn packages_are_found_by_keyword_and_department() {
    let app = spawn_app().await;
    let all = app.catalog().list_packages(pb::ListPackagesRequest::default()).await.unwrap().into_inner();
    assert_eq!(all.packages.len(), 8);
    assert_eq!(all.catalog_version, "2026.1");
    let fire = app
        .catalog()
        .list_packages(pb::ListPackagesRequest { department: "fire".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(fire.packages.iter().any(|p| p.package_id == "open-restaurant"));
    assert!(fire.packages.iter().all(|p| p.departments.contains(&"fire".to_owned())));
    let birth = app
        .catalog()
        .list_packages(pb::ListPackagesRequest { keyword: "出生".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(birth.packages.iter().any(|p| p.package_id == "newborn-birth"), "{birth:?}");
}

#[tokio::test]
async fn a_guide_its_form_schema_and_its_printable_notice_are_served() {
    let app = spawn_app().await;
    let guide = app
        .catalog()
        .get_guide(pb::GetGuideRequest { package_id: "open-restaurant".into() })
        .await
        .unwrap()
        .into_inner()
        .guide
        .unwrap();
    assert_eq!(guide.lead_department.unwrap().code, "samr");
    assert_eq!(guide.promised_working_days, 13);
    let layout = guide.materials.iter().find(|m| m.id == "m_site_layout").unwrap();
    assert!(layout.deficiency_allowed && layout.used_by.len() == 2, "{layout:?}");

    let schema = app
        .catalog()
        .get_application_form_schema(pb::GetApplicationFormSchemaRequest {
            package_id: "open-restaurant".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let json: serde_json::Value = serde_json::from_str(&schema.json_schema).unwrap();
    assert_eq!(json["type"], "object");
    assert!(json["required"].as_array().unwrap().iter().any(|k| k == "entity_name"));

    for (format, marker) in [(pb::PrintableFormat::Markdown, "# "), (pb::PrintableFormat::Html, "<h1>")] {
        let printable = app
            .catalog()
            .get_printable_guide(pb::GetPrintableGuideRequest {
                package_id: "newborn-birth".into(),
                format: format as i32,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            printable.content.contains(marker),
            "{format:?}: {}",
            &printable.content[..200.min(printable.content.len())]
        );
        assert!(printable.content.contains("新生儿出生一件事"));
    }

    let err = app.catalog().get_guide(pb::GetGuideRequest { package_id: "nope".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

//! The catalog over gRPC: search, guide, form schema, printable guide and
//! the contact (咨询电话).

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
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

fn catalog_as(app: &crate::helpers::TestApp, token: &str) -> crate::helpers::Catalog_ {
    yiciban_proto::catalog::v1::catalog_service_client::CatalogServiceClient::with_interceptor(
        app.channel.clone(),
        yiciban_platform::grpc::ClientAuth::new(Some(token)),
    )
}

#[tokio::test]
async fn the_guide_and_the_contact_carry_the_centres_consultation_phone() {
    let app = spawn_app().await;
    let guide = app
        .catalog()
        .get_guide(pb::GetGuideRequest { package_id: "disability-services".into() })
        .await
        .unwrap()
        .into_inner()
        .guide
        .unwrap();
    let contact = guide.contact.unwrap();
    assert_eq!((contact.phone.as_str(), contact.desk.as_str()), ("0472-5163108", "“一件事一次办”综合窗口"));
    let hotlines: Vec<(&str, &str)> = contact.hotlines.iter().map(|h| (h.name.as_str(), h.number.as_str())).collect();
    assert_eq!(hotlines, [("全国政务服务便民热线", "12345"), ("残疾人服务热线（部分地区）", "12385")]);
    assert_eq!(guide.consultation_phone, contact.text);
    assert!(
        guide.consultation_phone.starts_with("0472-5163108（“一件事一次办”综合窗口）；"),
        "{}",
        guide.consultation_phone
    );

    let printable = app
        .catalog()
        .get_printable_guide(pb::GetPrintableGuideRequest { package_id: "newborn-birth".into(), format: 0 })
        .await
        .unwrap()
        .into_inner();
    assert!(printable.content.contains("- 咨询电话：0472-5163108"), "{}", printable.content);

    // The centre alone, a package's, and a package the version in force
    // does not list: someone to call, never NOT_FOUND. The public progress
    // page's own identity may ask too.
    let progress = app.token(Role::Service, "progress", None, None);
    for (package_id, expected_package) in
        [("", None), ("newborn-birth", Some("0472-5163108")), ("retired-long-ago", Some("0472-5163108"))]
    {
        let answer = catalog_as(&app, &progress)
            .get_contact(pb::GetContactRequest { package_id: package_id.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.centre.unwrap().phone, "0472-5163108");
        assert_eq!(answer.package.map(|c| c.phone).as_deref(), expected_package, "{package_id:?}");
        assert_eq!(answer.catalog_version, "2026.1");
    }
}

#[tokio::test]
async fn a_contact_asked_for_a_malformed_package_id_is_refused_with_its_field() {
    let app = spawn_app().await;
    let refused =
        app.catalog().get_contact(pb::GetContactRequest { package_id: "Not a package!".into() }).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violations_of(&refused)[0].field, "package_id");
    // Calling-only service identities other than the progress page's are not let in.
    let tracking = app.token(Role::Service, "tracking", None, None);
    let denied = catalog_as(&app, &tracking).get_contact(pb::GetContactRequest::default()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
}

//! Material content: uploaded once, referenced by hash, checked at submission.

use tonic::Code;
use yiciban_platform::status::violations_of;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::newborn;
use crate::helpers::spawn_app;

#[tokio::test]
async fn uploaded_content_is_stored_once_and_a_reference_to_it_is_accepted() {
    let app = spawn_app().await;
    let content = b"%PDF-1.4 birth registration form".to_vec();
    let upload = |content: Vec<u8>| {
        let mut clerk = app.clerk();
        async move {
            clerk
                .upload_material(pb::UploadMaterialRequest {
                    file_name: "form.pdf".into(),
                    content_type: "application/pdf".into(),
                    content,
                    sha256_hex: String::new(),
                })
                .await
        }
    };
    let stored = upload(content.clone()).await.unwrap().into_inner().material.unwrap();
    assert!(stored.storage_key.starts_with("sha256/"));
    assert_eq!(stored.size_bytes, content.len() as u64);
    upload(content.clone()).await.unwrap();
    let blobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.material_blobs").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(blobs, 1, "identical content is stored once");

    let mut req = newborn("k1");
    req.materials =
        vec![yiciban_proto::common::v1::MaterialRef { material_id: "m_birth_cert_form".into(), ..stored.clone() }];
    let ok = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(ok.decision(), pb::AcceptanceDecision::Accepted);
    let in_events: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.events WHERE position(payload IN $1) > 0")
        .bind(&content)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(in_events, 0, "the content never goes into an event");

    // A reference to content that is not stored is refused, nothing stored.
    let before = app.event_count().await;
    let mut req = newborn("k2");
    req.materials = vec![yiciban_proto::common::v1::MaterialRef {
        material_id: "m_birth_cert_form".into(),
        size_bytes: stored.size_bytes + 1,
        ..stored
    }];
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(violations_of(&err).iter().any(|v| v.field == "materials[0].storage_key"), "{err:?}");
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn empty_oversize_or_damaged_uploads_are_refused_with_every_reason() {
    let app = spawn_app().await;
    let err = app
        .clerk()
        .upload_material(pb::UploadMaterialRequest {
            file_name: String::new(),
            content_type: "application/pdf".into(),
            content: vec![7u8; 1536 * 1024], // the test limit is 1 MiB
            sha256_hex: "00".repeat(32),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations_of(&err).into_iter().map(|v| v.field).collect();
    assert!(fields.contains(&"content".to_owned()) && fields.contains(&"sha256_hex".to_owned()), "{fields:?}");
    assert!(fields.contains(&"file_name".to_owned()), "{fields:?}");
    let blobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.material_blobs").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(blobs, 0);
}

#[tokio::test]
async fn the_service_reports_health_and_describes_itself_by_reflection() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "yiciban.intake.v1.IntakeService",
        "yiciban.intake.v1.MaterialService",
        "yiciban.catalog.v1.CatalogService",
    ] {
        let status = health.check(HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(status.status(), ServingStatus::Serving, "{service:?}");
    }
    use tokio_stream::StreamExt as _;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut reflection = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let Some(Ok(response)) = responses.next().await else { panic!("no reflection answer") };
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("not a service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"yiciban.intake.v1.IntakeService".to_owned()), "{names:?}");
    assert!(names.contains(&"yiciban.intake.v1.MaterialService".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");
}

#[tokio::test]
async fn an_applicant_past_the_daily_upload_quota_is_told_to_come_back_and_nothing_is_stored() {
    let app = crate::helpers::spawn_app_with(&[("YICIBAN_APPLICANT_UPLOAD_QUOTA", "3000")]).await;
    let applicant = app.token(yiciban_platform::Role::Applicant, "mother", None, Some(crate::fixtures::MOTHER_ID));
    let upload = |content: Vec<u8>| pb::UploadMaterialRequest {
        file_name: "scan.pdf".into(),
        content_type: "application/pdf".into(),
        content,
        sha256_hex: String::new(),
    };
    let mut client = app.intake_as(&applicant);
    client.upload_material(upload(vec![1; 2000])).await.unwrap();
    // The same content again costs nothing: it is stored once.
    client.upload_material(upload(vec![1; 2000])).await.unwrap();
    let over = client.upload_material(upload(vec![2; 2000])).await.unwrap_err();
    assert_eq!(over.code(), Code::ResourceExhausted, "{over:?}");
    assert!(over.message().contains("upload quota"), "{}", over.message());
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.material_blobs").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(stored, 1, "nothing more was stored");
    // A clerk at the window has the staff quota.
    app.clerk().upload_material(upload(vec![2; 2000])).await.unwrap();
}

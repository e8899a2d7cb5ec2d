//! MaterialService: material content uploaded in chunks, as an outside
//! client sends it — the file round-trips into a submission, and every
//! refusal is the documented status, bounded, and stores nothing.

use std::time::Duration;

use sha2::Digest as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1::MaterialRef;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::{MAX_CHUNK_BYTES, MAX_CHUNK_MESSAGE_BYTES};

use crate::fixtures::{MOTHER_ID, newborn};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const MIB: usize = 1 << 20;

fn sha(content: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(content))
}

fn metadata(size: usize, sha256_hex: &str) -> Option<pb::MaterialUploadMetadata> {
    Some(pb::MaterialUploadMetadata {
        file_name: "floor-plan.pdf".into(),
        content_type: "application/pdf".into(),
        size_bytes: size as u64,
        sha256_hex: sha256_hex.into(),
    })
}

fn chunk(metadata: Option<pb::MaterialUploadMetadata>, content: &[u8]) -> pb::UploadMaterialChunk {
    pb::UploadMaterialChunk { metadata, content: content.to_vec() }
}

/// `file` as a client sends it: the metadata with the first chunk of
/// `chunk_bytes`, then the rest.
fn chunked(file: &[u8], chunk_bytes: usize) -> Vec<pb::UploadMaterialChunk> {
    let mut messages: Vec<_> = file.chunks(chunk_bytes).map(|c| chunk(None, c)).collect();
    messages[0].metadata = metadata(file.len(), &sha(file));
    messages
}

async fn send(app: &TestApp, messages: Vec<pb::UploadMaterialChunk>) -> Result<MaterialRef, tonic::Status> {
    let answer = app.materials().upload_material(tokio_stream::iter(messages)).await?;
    Ok(answer.into_inner().material.expect("a reference"))
}

#[tokio::test]
async fn a_file_larger_than_any_intake_message_round_trips_in_chunks_into_a_submission() {
    let app = spawn_app_with(&[("YICIBAN_MAX_MATERIAL_BYTES", "8388608")]).await;
    let file: Vec<u8> = (0..5 * MIB + 123).map(|i| (i % 251) as u8).collect();
    let stored = send(&app, chunked(&file, MAX_CHUNK_BYTES)).await.unwrap();
    assert_eq!((stored.storage_key, stored.size_bytes), (format!("sha256/{}", sha(&file)), file.len() as u64));
    assert_eq!(stored.file_name, "floor-plan.pdf");
    let content: Vec<u8> =
        sqlx::query_scalar("SELECT content FROM intake.material_blobs").fetch_one(&app.db.pool).await.unwrap();
    assert!(content == file, "the stored content is the file");
    // The same file again, in other chunks: stored once.
    let again = send(&app, chunked(&file, MIB / 3)).await.unwrap();
    assert_eq!(app.blob_count().await, 1);

    let mut req = newborn("k-chunked");
    req.materials = vec![MaterialRef { material_id: "m_birth_cert_form".into(), ..again }];
    let ok = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(ok.decision(), pb::AcceptanceDecision::Accepted, "{ok:?}");
}

#[tokio::test]
async fn every_refusal_of_a_chunked_upload_is_invalid_argument_bounded_and_stores_nothing() {
    let app = spawn_app().await; // the test maximum is 1 MiB
    let file = vec![7u8; 3000];
    let (head, tail) = file.split_at(1000);
    let cases: Vec<(&str, Vec<pb::UploadMaterialChunk>, &str)> = vec![
        ("no message at all", vec![], "the upload carried no message"),
        ("content before the metadata", vec![chunk(None, head)], "the upload starts without its metadata"),
        ("a size over the maximum", vec![chunk(metadata(MIB + 1, ""), b"")], "the material cannot be stored"),
        ("an empty file", vec![chunk(metadata(0, ""), b"")], "the material cannot be stored"),
        (
            "content past the declared size",
            vec![chunk(metadata(2000, ""), head), chunk(None, tail)],
            "the content is longer than declared",
        ),
        (
            "content ending short",
            vec![chunk(metadata(3000, ""), head), chunk(None, &tail[..1000])],
            "the content ended before the declared size",
        ),
        (
            "the metadata repeated",
            vec![chunk(metadata(3000, ""), head), chunk(metadata(3000, ""), tail)],
            "the metadata came twice",
        ),
        (
            "a hash that does not match",
            vec![chunk(metadata(3000, &sha(b"other")), head), chunk(None, tail)],
            "the material cannot be stored",
        ),
        (
            "a message with more content than a chunk takes",
            vec![chunk(metadata(MIB, ""), &vec![1; MAX_CHUNK_BYTES + 1])],
            "a message carries too much content",
        ),
        (
            "a message over the decoding limit",
            vec![chunk(metadata(MIB, ""), b""), chunk(None, &vec![1; MAX_CHUNK_MESSAGE_BYTES + 1])],
            "a message carries too much content",
        ),
    ];
    for (what, messages, said) in cases {
        let err = send(&app, messages).await.expect_err(what);
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err:?}");
        assert!(err.message().starts_with(said), "{what}: {}", err.message());
        assert!(err.message().len() < 400, "{what}: a short message, not {}", err.message());
        assert!(!violations_of(&err).is_empty(), "{what}: the field is named");
    }
    assert_eq!(app.blob_count().await, 0, "nothing stored");
    // The same channel still works.
    send(&app, chunked(&file, 1000)).await.unwrap();
    assert_eq!(app.blob_count().await, 1);
}

#[tokio::test]
async fn an_applicant_past_the_quota_is_refused_as_the_metadata_arrives_before_sending_content() {
    let app = spawn_app_with(&[("YICIBAN_APPLICANT_UPLOAD_QUOTA", "3000")]).await;
    let token = app.token(Role::Applicant, "mother", None, Some(MOTHER_ID));
    let first = vec![1u8; 2000];
    app.materials_as(&token).upload_material(tokio_stream::iter(chunked(&first, 1000))).await.unwrap();

    // The stream stays open with the metadata only: the answer comes before
    // any content is sent.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(chunk(metadata(2000, ""), b"")).await.unwrap();
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        app.materials_as(&token).upload_material(ReceiverStream::new(rx)),
    )
    .await
    .expect("refused without waiting for the content");
    let err = answer.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("upload quota") && err.message().len() < 400, "{}", err.message());
    drop(tx);
    assert_eq!(app.blob_count().await, 1, "nothing more stored");

    // Content stored before costs nothing when its hash is declared.
    let again = app.materials_as(&token).upload_material(tokio_stream::iter(chunked(&first, 700))).await;
    assert!(again.is_ok(), "{again:?}");
    // A clerk at the window has the staff quota.
    send(&app, chunked(&[2u8; 2000], 1000)).await.unwrap();
    assert_eq!(app.blob_count().await, 2);
}

#[tokio::test]
async fn only_clerks_applicants_and_agents_upload_in_chunks() {
    let app = spawn_app().await;
    for role in [Role::Officer, Role::Supervisor, Role::Admin] {
        let token = app.token(role, "someone", Some("samr"), None);
        let err = app.materials_as(&token).upload_material(tokio_stream::iter(chunked(b"abc", 3))).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role:?}: {err:?}");
    }
    let anonymous = yiciban_proto::intake::v1::material_service_client::MaterialServiceClient::new(app.channel.clone())
        .upload_material(tokio_stream::iter(chunked(b"abc", 3)))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    assert_eq!(app.blob_count().await, 0);
    // An agent stores the file of a result document it approves with.
    let agent = app.token(Role::Agent, "agent-samr-1", Some("samr"), None);
    app.materials_as(&agent).upload_material(tokio_stream::iter(chunked(b"abc", 3))).await.unwrap();
    assert_eq!(app.blob_count().await, 1);
}

#[tokio::test]
async fn a_file_too_large_for_one_intake_message_is_pointed_to_the_chunked_upload() {
    let app = spawn_app_with(&[("YICIBAN_MAX_MATERIAL_BYTES", "8388608")]).await;
    let err = app
        .clerk()
        .upload_material(pb::UploadMaterialRequest {
            file_name: "scan.pdf".into(),
            content_type: "application/pdf".into(),
            content: vec![7u8; yiciban_proto::intake::MAX_SINGLE_MESSAGE_FILE_BYTES + 1],
            sha256_hex: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let violations = violations_of(&err);
    assert!(violations[0].description.contains("MaterialService.UploadMaterial"), "{violations:?}");
    assert_eq!(app.blob_count().await, 0);
}

#[tokio::test]
async fn uploads_past_the_processs_buffer_are_refused_with_a_retry_hint_until_room_is_free() {
    let app = spawn_app_with(&[("YICIBAN_UPLOAD_BUFFER_BYTES", "1048576")]).await;
    // One upload declares the whole buffer and holds it, its content not sent.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(chunk(metadata(MIB, ""), b"")).await.unwrap();
    let mut first = app.materials();
    let holding = tokio::spawn(async move { first.upload_material(ReceiverStream::new(rx)).await });
    let buffers = &app.intake.upload_buffers;
    yiciban_testkit::eventually("the first upload holds the buffer", Duration::from_secs(10), || async {
        (buffers.held_bytes() == MIB as u64).then_some(())
    })
    .await;

    let err = send(&app, chunked(b"a small scan", 5)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("retry in") && err.message().len() < 400, "{}", err.message());
    assert!(err.metadata().get(yiciban_platform::limits::RETRY_PUSHBACK_KEY).is_some(), "{err:?}");

    // The first upload ends short: refused, and its room is free again.
    drop(tx);
    let short = holding.await.unwrap().unwrap_err();
    assert_eq!(short.code(), Code::InvalidArgument, "{short:?}");
    assert_eq!(buffers.held_bytes(), 0);
    send(&app, chunked(b"a small scan", 5)).await.unwrap();
    assert_eq!(app.blob_count().await, 1, "only the upload that had room is stored");
}

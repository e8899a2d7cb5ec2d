//! MaterialService.DownloadMaterial: a case's material handed out in
//! chunks, to the callers whose scope holds the case, each download
//! recorded in the read log before the first byte; every refusal is the
//! documented status, sends nothing and records nothing. (Agents, whose
//! scope the department-task service decides, are tested with the real
//! task service in the workbench's tests.)

use sha2::Digest as _;
use tonic::Code;
use tonic::metadata::MetadataValue;
use yiciban_platform::Role;
use yiciban_platform::read_log::{PURPOSE_HEADER, purpose};
use yiciban_platform::status::violations_of;
use yiciban_proto::audit::v1 as audit;
use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;
use yiciban_proto::common::v1::MaterialRef;
use yiciban_proto::intake::MAX_CHUNK_BYTES;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::{MOTHER_ID, newborn};
use crate::helpers::{TestApp, spawn_app_with};
use crate::privacy::privacy_as;

const MIB: usize = 1 << 20;

fn sha(content: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(content))
}

async fn spawn() -> TestApp {
    spawn_app_with(&[("YICIBAN_MAX_MATERIAL_BYTES", "4194304")]).await
}

/// Uploads `file` in chunks as the clerk and submits the newborn
/// application with it as `m_birth_cert_form`: the case id and the
/// reference.
async fn case_with(app: &TestApp, key: &str, file: &[u8], name: &str, content_type: &str) -> (String, MaterialRef) {
    let mut messages: Vec<pb::UploadMaterialChunk> =
        file.chunks(MAX_CHUNK_BYTES).map(|c| pb::UploadMaterialChunk { metadata: None, content: c.to_vec() }).collect();
    messages[0].metadata = Some(pb::MaterialUploadMetadata {
        file_name: name.into(),
        content_type: content_type.into(),
        size_bytes: file.len() as u64,
        sha256_hex: sha(file),
    });
    let stored = app.materials().upload_material(tokio_stream::iter(messages)).await.unwrap().into_inner();
    let reference = MaterialRef { material_id: "m_birth_cert_form".into(), ..stored.material.unwrap() };
    let mut request = newborn(key);
    request.materials.retain(|m| m.material_id != "m_birth_cert_form");
    request.materials.push(reference.clone());
    let case_id = app.clerk().submit_application(request).await.unwrap().into_inner().case_id;
    (case_id, reference)
}

fn wanted(case_id: &str, material_id: &str) -> pb::DownloadMaterialRequest {
    pb::DownloadMaterialRequest { case_id: case_id.into(), material_id: material_id.into(), sha256_hex: String::new() }
}

/// Downloads as `token`: the messages, or the status (of the call or of
/// the stream).
async fn download(
    app: &TestApp,
    token: &str,
    request: tonic::Request<pb::DownloadMaterialRequest>,
) -> Result<Vec<pb::DownloadMaterialResponse>, tonic::Status> {
    let mut stream = app.materials_as(token).download_material(request).await?.into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

fn clerk(app: &TestApp) -> String {
    app.token(Role::Clerk, "clerk-001", None, None)
}

async fn reads(app: &TestApp) -> Vec<audit::PersonalDataRead> {
    let token = app.token(Role::Supervisor, "supervisor-1", None, None);
    let mut client = AuditServiceClient::with_interceptor(
        app.channel.clone(),
        yiciban_platform::grpc::ClientAuth::new(Some(&token)),
    );
    client.list_personal_data_reads(audit::ListPersonalDataReadsRequest::default()).await.unwrap().into_inner().reads
}

#[tokio::test]
async fn a_clerk_downloads_the_exact_bytes_in_chunks_and_the_read_is_recorded_with_material_and_purpose() {
    let app = spawn().await;
    let file: Vec<u8> = (0..2 * MIB + 321).map(|i| (i % 253) as u8).collect();
    let (case_id, stored) = case_with(&app, "dl-1", &file, "出生医学证明.pdf", "application/pdf").await;

    let request = purpose(wanted(&case_id, "m_birth_cert_form"), "受理复核：核对出生医学证明");
    let messages = download(&app, &clerk(&app), request).await.unwrap();
    assert_eq!(messages.len(), 3, "2 MiB and a little in chunks of at most 1 MiB");
    assert!(messages.iter().all(|m| m.content.len() <= MAX_CHUNK_BYTES));
    let material = messages[0].material.clone().expect("the reference comes first");
    assert!(messages[1..].iter().all(|m| m.material.is_none()));
    assert_eq!(material, stored);
    assert_eq!(
        (material.file_name.as_str(), material.content_type.as_str(), material.size_bytes),
        ("出生医学证明.pdf", "application/pdf", file.len() as u64)
    );
    let received: Vec<u8> = messages.into_iter().flat_map(|m| m.content).collect();
    assert!(received == file, "the exact bytes");
    assert_eq!(sha(&received), material.sha256_hex);

    let log = reads(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let read = &log[0];
    assert_eq!(
        (read.method.as_str(), read.caller.as_str(), read.role.as_str(), read.case_id.as_str()),
        ("/yiciban.intake.v1.MaterialService/DownloadMaterial", "clerk-001", "clerk", case_id.as_str())
    );
    assert_eq!(read.fields, ["materials.m_birth_cert_form".to_owned(), format!("sha256/{}", sha(&file))]);
    assert_eq!((read.purpose.as_str(), read.purpose_stated), ("受理复核：核对出生医学证明", true));

    // By hash alone: the same document; without a stated purpose, the RPC's own.
    let by_hash = pb::DownloadMaterialRequest { sha256_hex: sha(&file).to_uppercase(), ..wanted(&case_id, "") };
    let again = download(&app, &clerk(&app), tonic::Request::new(by_hash)).await.unwrap();
    assert_eq!(again[0].material.as_ref().unwrap().material_id, "m_birth_cert_form");
    let log = reads(&app).await;
    assert_eq!((log.len(), log[0].purpose_stated), (2, false));
}

#[tokio::test]
async fn the_applicant_and_the_assigned_officer_download_and_everyone_else_is_refused_unrecorded() {
    let app = spawn().await;
    let (case_id, _) = case_with(&app, "dl-2", b"%PDF-1.7 small", "form.pdf", "application/pdf").await;
    let facts = pb::GetCaseRequest { case_id: case_id.clone(), without_personal_data: true };
    let officer = app.clerk().get_case(facts).await.unwrap().into_inner().case.unwrap().officer_id;
    assert!(!officer.is_empty(), "an officer is assigned");

    let mother = app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID));
    let assigned = app.token(Role::Officer, &officer, None, None);
    for token in [&mother, &assigned] {
        let got = download(&app, token, tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await.unwrap();
        assert_eq!(got.into_iter().flat_map(|m| m.content).collect::<Vec<_>>(), b"%PDF-1.7 small");
    }
    assert_eq!(reads(&app).await.len(), 2);

    let missing = download(&app, &clerk(&app), tonic::Request::new(wanted(&uuid::Uuid::now_v7().to_string(), "m_x")))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let hidden = [
        app.token(Role::Applicant, "citizen-9", None, Some("150203198801011236")),
        app.token(Role::Officer, "officer-someone-else", None, None),
    ];
    for token in &hidden {
        let refused = download(&app, token, tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await;
        let refused = refused.unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
        assert_eq!(refused.message(), format!("case {case_id} not found"), "worded like a missing case");
    }
    for role in [Role::Supervisor] {
        let token = app.token(role, "supervisor-1", None, None);
        let refused = download(&app, &token, tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await;
        assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    }
    // An agent's scope is the task service's answer; it cannot be asked
    // here (no task service): the download fails closed.
    let agent = app.token(Role::Agent, "agent-samr-1", Some("samr"), None);
    let refused = download(&app, &agent, tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await;
    assert_eq!(refused.unwrap_err().code(), Code::Unavailable);
    assert_eq!(reads(&app).await.len(), 2, "no refusal is recorded as a read");
}

#[tokio::test]
async fn bad_names_unknown_materials_and_contents_held_elsewhere_are_refused_and_nothing_is_recorded() {
    let app = spawn().await;
    let (case_id, _) = case_with(&app, "dl-3", b"content", "form.pdf", "application/pdf").await;
    let token = clerk(&app);
    let ask = |request: pb::DownloadMaterialRequest| download(&app, &token, tonic::Request::new(request));

    let bad_case = ask(wanted("not-a-uuid", "m_birth_cert_form")).await.unwrap_err();
    assert_eq!(bad_case.code(), Code::InvalidArgument);
    let unnamed = ask(wanted(&case_id, "")).await.unwrap_err();
    assert_eq!(unnamed.code(), Code::InvalidArgument);
    let bad = pb::DownloadMaterialRequest { sha256_hex: "zz".repeat(40), ..wanted(&case_id, "../../etc/passwd") };
    let bad = ask(bad).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations_of(&bad).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["material_id", "sha256_hex"]);
    assert!(bad.message().chars().count() < 400 && !bad.message().contains("passwd"), "{}", bad.message());
    let mut blank_purpose = tonic::Request::new(wanted(&case_id, "m_birth_cert_form"));
    blank_purpose.metadata_mut().insert_bin(PURPOSE_HEADER, MetadataValue::from_bytes(b"  "));
    let refused = download(&app, &clerk(&app), blank_purpose).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);

    let not_handed_in = ask(wanted(&case_id, "m_no_such_material")).await.unwrap_err();
    assert_eq!(not_handed_in.code(), Code::NotFound);
    assert!(not_handed_in.message().contains("m_no_such_material"), "{}", not_handed_in.message());
    let other_hash = pb::DownloadMaterialRequest { sha256_hex: sha(b"other"), ..wanted(&case_id, "m_birth_cert_form") };
    assert_eq!(ask(other_hash).await.unwrap_err().code(), Code::NotFound);
    // The fixture's material refers to an outside store.
    let outside = app.clerk().submit_application(newborn("dl-3b")).await.unwrap().into_inner().case_id;
    let elsewhere = ask(wanted(&outside, "m_birth_cert_form")).await.unwrap_err();
    assert_eq!(elsewhere.code(), Code::FailedPrecondition, "{elsewhere:?}");
    assert!(elsewhere.message().contains("not held by this service"), "{}", elsewhere.message());

    assert!(reads(&app).await.is_empty());
}

#[tokio::test]
async fn an_erased_material_is_failed_precondition_and_a_download_that_cannot_be_recorded_sends_nothing() {
    let app = spawn().await;
    let (case_id, _) = case_with(&app, "dl-4", b"to be erased", "form.pdf", "application/pdf").await;
    let (other_case, _) = case_with(&app, "dl-5", b"kept", "kept.pdf", "application/pdf").await;

    sqlx::query("ALTER TABLE intake.personal_data_reads RENAME TO personal_data_reads_away")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let refused = download(&app, &clerk(&app), tonic::Request::new(wanted(&other_case, "m_birth_cert_form"))).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "no record, no byte: {refused:?}");
    sqlx::query("ALTER TABLE intake.personal_data_reads_away RENAME TO personal_data_reads")
        .execute(&app.db.pool)
        .await
        .unwrap();

    privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: case_id.clone(),
            id_number: String::new(),
            reason: "个人信息删除申请 2026-301".into(),
        })
        .await
        .unwrap();
    let erased = download(&app, &clerk(&app), tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await;
    let erased = erased.unwrap_err();
    assert_eq!(erased.code(), Code::FailedPrecondition);
    assert!(erased.message().contains("erased"), "{}", erased.message());
    assert!(reads(&app).await.is_empty());
}

#[tokio::test]
async fn a_download_past_the_processs_file_budget_is_refused_with_a_retry_hint_and_nothing_recorded() {
    let app =
        spawn_app_with(&[("YICIBAN_MAX_MATERIAL_BYTES", "1048576"), ("YICIBAN_UPLOAD_BUFFER_BYTES", "1048576")]).await;
    let (case_id, _) = case_with(&app, "dl-6", b"%PDF-1.7 budget", "form.pdf", "application/pdf").await;
    let buffers = &app.intake.upload_buffers;
    let everything = buffers.hold(MIB as u64).unwrap();
    let refused = download(&app, &clerk(&app), tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("nothing was sent") && refused.message().contains("retry in"));
    assert!(refused.metadata().get(yiciban_platform::limits::RETRY_PUSHBACK_KEY).is_some());
    assert!(reads(&app).await.is_empty());

    drop(everything);
    download(&app, &clerk(&app), tonic::Request::new(wanted(&case_id, "m_birth_cert_form"))).await.unwrap();
    yiciban_testkit::eventually("the download's room is free again", std::time::Duration::from_secs(10), || async {
        (buffers.held_bytes() == 0).then_some(())
    })
    .await;
    assert_eq!(reads(&app).await.len(), 1);
}

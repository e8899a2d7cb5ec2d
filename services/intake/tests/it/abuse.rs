//! Abuse answered cleanly, tried as an outside client would: bodies that are
//! not the RPC's protobuf message, requests over the limit, and requests
//! whose refusal would be too large for a default client — each answered
//! with the documented status, bounded, and nothing stored.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::answer::encoded_len;
use yiciban_platform::status::{MAX_LISTED, violations_of};
use yiciban_proto::intake::v1 as pb;
use yiciban_testkit::raw::RawCodec;

use crate::fixtures::{material, newborn};
use crate::helpers::{TestApp, spawn_app};

/// Sends `body` as the message of `path`, signed in as a clerk.
async fn send_raw(app: &TestApp, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.expect("the service is ready");
    let mut request = tonic::Request::new(body);
    let token = app.token(Role::Clerk, "clerk-001", None, None);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let path = http::uri::PathAndQuery::from_static(path);
    grpc.unary(request, path, RawCodec).await.map(tonic::Response::into_inner)
}

/// The bytes the status takes on the wire, as a client receives them.
fn status_size(status: &tonic::Status) -> usize {
    encoded_len(status.message()) + status.details().len().div_ceil(3) * 4
}

#[tokio::test]
async fn bodies_that_are_not_the_rpcs_message_are_invalid_argument_and_nothing_is_stored() {
    let app = spawn_app().await;
    const SUBMIT: &str = "/yiciban.intake.v1.IntakeService/SubmitApplication";
    let malformed: [(&str, Vec<u8>); 5] = [
        ("a bad varint (an 11-byte tag)", vec![0xff; 11]),
        ("a wrong wire type (idempotency_key as a varint)", vec![0x08, 0x01]),
        ("invalid UTF-8 in a string (package_id)", vec![0x12, 0x02, 0xff, 0xfe]),
        ("a length past the end (idempotency_key of 100 bytes, 1 given)", vec![0x0a, 0x64, b'k']),
        ("a truncated nested message (applicant)", vec![0x1a, 0x05, 0x0a, 0x09, b'a']),
    ];
    for (what, body) in malformed {
        let err = send_raw(&app, SUBMIT, body).await.expect_err(what);
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err:?}");
        assert!(err.message().starts_with("the request is not a valid protobuf message"), "{what}: {}", err.message());
        assert!(err.message().len() < 300, "{what}: a short message, not {}", err.message());
    }
    assert_eq!(app.event_count().await, 0, "nothing stored");

    // The same channel still works, and a well-formed body still succeeds.
    let ok = send_raw(&app, SUBMIT, prost::Message::encode_to_vec(&newborn("k-after"))).await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn a_frame_cut_short_is_invalid_argument() {
    use tower::ServiceExt as _;
    let app = spawn_app().await;
    // The gRPC frame announces 100 bytes of message, and the body ends after 3.
    let mut frame = vec![0u8, 0, 0, 0, 100];
    frame.extend_from_slice(&[0x0a, 0x01, b'k']);
    let token = app.token(Role::Clerk, "clerk-001", None, None);
    let request = http::Request::builder()
        .method("POST")
        .uri("http://intake/yiciban.intake.v1.IntakeService/SubmitApplication")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {token}"))
        .body(tonic::body::Body::new(http_body_util::Full::new(prost::bytes::Bytes::from(frame))))
        .unwrap();
    let response = app.channel.clone().oneshot(request).await.expect("an answer");
    let status = tonic::Status::from_header_map(response.headers()).expect("a trailers-only refusal");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("the request ends inside a message"), "{}", status.message());
    assert_eq!(app.event_count().await, 0, "nothing stored");
}

#[tokio::test]
async fn an_intake_request_over_its_message_limit_is_invalid_argument_unread() {
    let app = spawn_app().await;
    let limit = yiciban_proto::intake::MAX_REQUEST_BYTES;
    // Every IntakeService request is at most 4 MiB: a larger file goes
    // through MaterialService in chunks, so one message is refused unread.
    let err = app
        .clerk()
        .upload_material(pb::UploadMaterialRequest {
            file_name: "scan.pdf".into(),
            content_type: "application/pdf".into(),
            content: vec![7u8; limit + 1],
            sha256_hex: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().starts_with("the request is larger than this RPC accepts"), "{}", err.message());
    // Not only uploads: a submission over the limit too.
    let mut req = newborn("k-huge");
    req.form_data.as_mut().unwrap().fields.insert(
        "baby_name".into(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("x".repeat(limit))) },
    );
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().starts_with("the request is larger than this RPC accepts"), "{}", err.message());
    assert!(err.message().len() < 300, "a short message, not {}", err.message());
    let blobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.material_blobs").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(blobs, 0);
    assert_eq!(app.event_count().await, 0, "nothing stored");
}

#[tokio::test]
async fn a_huge_unknown_form_key_and_ten_thousand_repeated_materials_get_a_bounded_refusal() {
    let app = spawn_app().await;
    let mut req = newborn("k-abuse");
    let key = "键".repeat(100 * 1024 / 3);
    req.form_data
        .as_mut()
        .unwrap()
        .fields
        .insert(key.clone(), prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("x".into())) });
    let first = req.materials[0].material_id.clone();
    let mut repeated = material(&first);
    repeated.file_name = "a.pdf".into();
    req.materials = vec![repeated; 10_000];

    // A default client reads the answer.
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let listed = violations_of(&err);
    assert!(!listed.is_empty() && listed.len() <= MAX_LISTED, "{} listed", listed.len());
    let echoed = listed.iter().find(|v| v.field.starts_with("form_data.键")).expect("the unknown key is named");
    assert!(echoed.field.ends_with('…') && echoed.field.chars().count() <= 65, "{}", echoed.field);
    assert!(listed.iter().any(|v| v.field == "materials[1].material_id"), "a repeat is named: {listed:?}");
    assert!(err.message().contains(" more"), "the rest is counted: {}", err.message());
    assert!(status_size(&err) < 4096, "{} bytes of status", status_size(&err));
    assert_eq!(app.event_count().await, 0, "nothing stored");

    // A value echoed outside a violation list is bounded too.
    let mut req = newborn("k-abuse-2");
    req.package_id = "包".repeat(100 * 1024 / 3);
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "an unknown package, as documented: {err:?}");
    assert!(status_size(&err) < 4096, "{} bytes of status", status_size(&err));
    assert_eq!(app.event_count().await, 0, "nothing stored");
}

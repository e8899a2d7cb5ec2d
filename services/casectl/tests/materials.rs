//! `casectl case material` against the real intake service (its own
//! database and NATS prefix): the file written is the material's exact
//! bytes, its SHA-256 checked; a refusal writes nothing.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::Home;
use sha2::Digest as _;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{Role, SystemClock};
use yiciban_proto::common::v1::MaterialRef;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_testkit::applications::newborn;
use yiciban_testkit::{TestDb, TestIssuer, TestNats};

#[tokio::test]
async fn a_clerk_downloads_a_material_into_a_file_with_its_hash_checked() {
    let (db, nats, issuer) = (TestDb::new(5).await, TestNats::new().await, TestIssuer::start().await);
    let mut env = HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    env.insert("YICIBAN_IDENTITY_KEY".to_owned(), "test-identity-key-of-the-casectl-tests-32+".to_owned());
    env.insert("YICIBAN_ROUTING_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_TASKS_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_EXPIRY_SCAN".to_owned(), "1h".to_owned());
    issuer.configure(&mut env);
    let mut config = yiciban_intake::IntakeConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let app = yiciban_testkit::spawn_service(yiciban_intake::build_with(
        config,
        Arc::new(SystemClock),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    let token = issuer.token(Role::Clerk, "clerk-001", None, None);
    let mut clerk = IntakeServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    let content: Vec<u8> = (0..1_500_000u32).map(|i| (i % 241) as u8).collect();
    let upload = pb::UploadMaterialRequest {
        file_name: "出生医学证明.pdf".into(),
        content_type: "application/pdf".into(),
        content: content.clone(),
        sha256_hex: String::new(),
    };
    let stored = clerk.upload_material(upload).await.unwrap().into_inner().material.unwrap();
    let mut request = newborn("casectl-material-1");
    request.materials = vec![MaterialRef { material_id: "m_birth_cert_form".into(), ..stored }];
    let case_id = clerk.submit_application(request).await.unwrap().into_inner().case_id;

    let home = Home::new();
    let out = tempfile_path(&home, "birth.pdf");
    let addr = format!("http://{}", app.addr);
    let run = |args: Vec<String>| {
        let mut all = vec!["--server".to_owned(), addr.clone(), "--token".to_owned(), token.clone(), "case".into()];
        all.extend(args);
        let home = &home;
        async move { home.run(&all.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    let args = |material: &str, out: &str| {
        ["material", &case_id, material, "--out", out, "--purpose", "核对出生医学证明"].map(str::to_owned).to_vec()
    };

    let (ok, printed, err) = run(args("m_birth_cert_form", &out)).await;
    assert!(ok, "{err}");
    assert!(std::fs::read(&out).unwrap() == content, "the exact bytes");
    let sha = hex::encode(sha2::Sha256::digest(&content));
    assert!(printed.contains(&format!("{sha} (checked)")) && printed.contains("出生医学证明.pdf"), "{printed}");

    // An existing file is not overwritten; a material not handed in writes nothing.
    let (ok, _, err) = run(args("m_birth_cert_form", &out)).await;
    assert!(!ok && err.contains("exists already"), "{err}");
    let other = tempfile_path(&home, "other.pdf");
    let (ok, _, err) = run(args("m_not_handed_in", &other)).await;
    assert!(!ok && err.contains("m_not_handed_in"), "{err}");
    assert!(!std::path::Path::new(&other).exists() && !std::path::Path::new(&format!("{other}.part")).exists());
}

fn tempfile_path(home: &Home, name: &str) -> String {
    home.0.join(name).to_string_lossy().into_owned()
}

//! The Python webhook receiver behind the real webhook service.

use super::*;

/// A free local port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// POSTs `body` to the receiver with the given signature headers; the
/// status it answers.
async fn post_raw(port: u16, timestamp: &str, signature: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\
         Yiciban-Timestamp: {timestamp}\r\nYiciban-Signature: {signature}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// The Python webhook receiver (examples/python/receiver.py) behind a real
/// webhook service: it prints samr's events once each, in order per case —
/// a replay's repeats deduplicated by event id — and refuses a forged
/// request and a stale one (401) before decoding anything.
#[tokio::test]
async fn the_python_webhook_receiver_verifies_every_request_and_prints_each_event_once() {
    use yiciban_proto::webhooks::v1 as pb;
    use yiciban_proto::webhooks::v1::webhook_service_client::WebhookServiceClient;

    require_installed();
    let (db, nats, issuer) =
        (yiciban_testkit::TestDb::new(5).await, TestNats::new().await, yiciban_testkit::TestIssuer::start().await);
    nats.js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.unwrap();
    let mut env = std::collections::HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    env.insert("YICIBAN_WEBHOOK_RETRY_FIRST".to_owned(), "100ms".to_owned());
    env.insert("YICIBAN_WEBHOOK_RETRY_MAX".to_owned(), "500ms".to_owned());
    issuer.configure(&mut env);
    let mut config = yiciban_webhooks::WebhooksConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let service = yiciban_testkit::spawn_service(yiciban_webhooks::build_with(
        config,
        std::sync::Arc::new(yiciban_platform::SystemClock),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    let token = issuer.token(yiciban_platform::Role::Admin, "admin-1", None, None);
    let mut admin = WebhookServiceClient::with_interceptor(
        service.channel.clone(),
        yiciban_platform::grpc::ClientAuth::new(Some(&token)),
    );

    let secret = "whsec_example-receiver-secret-0123456789";
    let secret_file = TempFile::new("webhook-secret");
    std::fs::write(&secret_file.0, format!("{secret}\n")).unwrap();
    let seen = TempFile::new("webhook-seen");
    let port = free_port();
    let root = repository();
    let receiver = tokio::process::Command::new(root.join("examples/python/.venv/bin/python"))
        .arg(root.join("examples/python/receiver.py"))
        .args(["--port", &port.to_string(), "--idle-seconds", "4"])
        .arg("--secret-file")
        .arg(&secret_file.0)
        .arg("--seen-file")
        .arg(&seen.0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    yiciban_testkit::eventually("the receiver listening", Duration::from_secs(30), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
    })
    .await;

    let created = admin
        .create_subscription(pb::CreateSubscriptionRequest {
            department: "samr".into(),
            url: format!("http://127.0.0.1:{port}/hooks"),
            description: "the Python example".into(),
            secret: secret.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let mut published = Vec::new();
    for (case, version, department) in [(a, 1, "samr"), (b, 1, "samr"), (a, 2, "samr"), (b, 1, "fire"), (b, 2, "samr")]
    {
        let e =
            envelope(case, department, &format!("task-{case}"), version, "TaskCreated", task_created("t", department));
        publish(&nats, &e, false).await;
        if department == "samr" {
            published.push(e);
        }
    }
    // Forged and stale requests are refused before anything is decoded.
    let body = published[0].encode_to_vec();
    let now = chrono::Utc::now().timestamp();
    let forged = yiciban_webhooks::signature::header(&["not-the-secret"], now, &body);
    assert_eq!(post_raw(port, &now.to_string(), &forged, &body).await, 401, "a signature under another secret");
    let stale = now - 3600;
    let old = yiciban_webhooks::signature::header(&[secret], stale, &body);
    assert_eq!(post_raw(port, &stale.to_string(), &old, &body).await, 401, "a captured request sent an hour later");
    // Everything delivered, then replayed: the repeats are recognised.
    nats.consumer_caught_up(
        &yiciban_eventstore::identities::webhook_consumer("samr", created.slot as u8),
        Duration::from_secs(30),
    )
    .await;
    let replay = admin
        .start_replay(pb::StartReplayRequest {
            subscription_id: created.subscription_id.clone(),
            from_time: Some(prost_types::Timestamp { seconds: now - 3600, nanos: 0 }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay.events, 4);

    let out = tokio::time::timeout(Duration::from_secs(60), receiver.wait_with_output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the receiver failed:\n{stderr}");
    assert_eq!(stderr.matches("refused a request").count(), 2, "{stderr}");
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["event_id"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = published.iter().map(|e| e.event_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "samr's four events, each once, none of fire's");
    for case in [a, b] {
        let versions: Vec<u64> = lines
            .iter()
            .filter(|l| l["case_id"] == case.to_string())
            .map(|l| l["stream_version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions, [1, 2], "in order for case {case}");
    }
    assert_eq!(lines[0]["payload"]["department"], "samr", "the payload decoded: {}", lines[0]);
    let kept = std::fs::read_to_string(&seen.0).unwrap();
    assert_eq!(kept.lines().count(), 4, "the ids handled, kept for the next run");
    drop(service);
}

//! NATS away at start: a service starts without it, takes commands (they
//! need only Postgres), keeps their events in its outbox, and publishes them
//! once a NATS server answers — the relay is supervised and makes sure of
//! the stream when it can, not at start.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_testkit::{NatsServer, ReservedPort, TestDb, TestIssuer, eventually, spawn_service};

#[tokio::test]
async fn a_service_starts_and_takes_commands_while_nats_is_away_and_publishes_when_it_returns() {
    let db = TestDb::new(10).await;
    let issuer = TestIssuer::start().await;
    // A port nobody serves yet: NATS is "away".
    let reserved = ReservedPort::new();
    let port = reserved.addr().port();
    drop(reserved);
    let url = format!("nats://127.0.0.1:{port}");
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(&url)
        .await
        .expect("with retry_on_initial_connect the client is made at once");
    let prefix = format!("away{}", uuid::Uuid::now_v7().simple().to_string().get(20..).unwrap_or("x"));
    let mut env: HashMap<String, String> = [
        ("YICIBAN_NATS_PREFIX", prefix.clone()),
        ("YICIBAN_ROUTING_URL", "http://127.0.0.1:9".to_owned()),
        ("YICIBAN_TASKS_URL", "http://127.0.0.1:9".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    issuer.configure(&mut env);
    let mut config = yiciban_intake::IntakeConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let clock = Arc::new(ManualClock::new("2026-09-29T02:00:00Z".parse().unwrap()));
    let app = tokio::time::timeout(
        Duration::from_secs(30),
        spawn_service(yiciban_intake::build_with(config, clock, db.pool.clone(), async_nats::jetstream::new(client))),
    )
    .await
    .expect("intake starts without NATS");

    let token = issuer.token(Role::Clerk, "clerk-001", None, None);
    let mut intake = IntakeServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    let submitted =
        intake.submit_application(yiciban_testkit::applications::newborn("away-1")).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), pb::AcceptanceDecision::Accepted);
    // A second command while NATS is still away: commands need only Postgres.
    let second =
        intake.submit_application(yiciban_testkit::applications::newborn("away-2")).await.unwrap().into_inner();
    assert_eq!(second.decision(), pb::AcceptanceDecision::Accepted);
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.outbox").fetch_one(&db.pool).await.unwrap();
    assert!(waiting > 0, "the cases' events wait in the outbox");

    // NATS comes (back): the relay makes the stream and drains the outbox.
    let _nats = NatsServer::start(port);
    eventually("the outbox drained into the new server", Duration::from_secs(60), || async {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.outbox").fetch_one(&db.pool).await.ok()?;
        (left == 0).then_some(())
    })
    .await;
    let observer = async_nats::connect(&url).await.unwrap();
    let js = async_nats::jetstream::new(observer);
    let stream_name = format!("{}_CASE_EVENTS", prefix.to_ascii_uppercase());
    let mut stream = js.get_stream(&stream_name).await.expect("the relay made the stream");
    let stored = stream.info().await.unwrap().state.messages;
    assert_eq!(stored as i64, waiting, "every waiting event was published, once");
}

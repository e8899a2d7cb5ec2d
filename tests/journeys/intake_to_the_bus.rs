//! A case submitted at the window reaches NATS as envelopes that any
//! department system can decode from the published contract alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use futures::StreamExt as _;
use prost::Message as _;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1::{self as events, EventEnvelope};
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{TestDb, TestNats, eventually, spawn_service};

#[tokio::test]
async fn an_accepted_case_is_published_as_decodable_envelopes_in_stream_order() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let issuer = TestIssuer::start().await;
    let mut env: HashMap<String, String> = [("YICIBAN_NATS_PREFIX", nats.subjects.prefix())]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    issuer.configure(&mut env);
    let mut config = yiciban_intake::IntakeConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let clock = ManualClock::new("2026-09-29T02:00:00Z".parse().unwrap());
    let app =
        spawn_service(yiciban_intake::build_with(config, Arc::new(clock), db.pool.clone(), nats.js.clone())).await;

    let token = issuer.token(Role::Clerk, "clerk-007", None, None);
    let mut intake = IntakeServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    let submitted =
        intake.submit_application(yiciban_testkit::applications::newborn("journey-1")).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), pb::AcceptanceDecision::Accepted);
    // Accepted on 2026-09-29: five working days skip the National Day holiday.
    let by = submitted.promised_by.unwrap();
    assert_eq!((by.year, by.month, by.day), (2026, 10, 12));

    // An outsider reads intake's events of the stream.
    let stream = eventually("the case-event stream", Duration::from_secs(20), || async {
        nats.js.get_stream(nats.subjects.stream_name()).await.ok()
    })
    .await;
    let consumer = stream
        .create_consumer(pull::Config { filter_subject: nats.subjects.source_events("intake"), ..Default::default() })
        .await
        .unwrap();
    let mut envelopes = Vec::new();
    let mut subjects = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while envelopes.len() < 3 && tokio::time::Instant::now() < deadline {
        let mut batch = consumer.fetch().max_messages(10).expires(Duration::from_millis(500)).messages().await.unwrap();
        while let Some(Ok(m)) = batch.next().await {
            envelopes.push(EventEnvelope::decode(m.payload.clone()).unwrap());
            subjects.push(m.subject.to_string());
        }
    }
    let types: Vec<&str> = envelopes.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ApplicationSubmitted", "ApplicationAccepted", "OfficerAssigned"]);
    assert!(envelopes.iter().all(|e| e.case_id == submitted.case_id && e.source == "intake"));
    assert_eq!(envelopes.iter().map(|e| e.stream_version).collect::<Vec<_>>(), [1, 2, 3]);
    let actor = envelopes[0].actor.clone().unwrap();
    assert_eq!((actor.subject.as_str(), actor.role()), ("clerk-007", common::Role::Clerk));
    assert_eq!(envelopes[0].channel(), common::Channel::Window);
    let accepted = events::ApplicationAccepted::decode(envelopes[1].payload.as_slice()).unwrap();
    assert_eq!(accepted.case_number, submitted.case_number);
    // The application (personal data) and the officer stay case-level; the
    // acceptance also goes to the package's lead department.
    let prefix = nats.subjects.prefix();
    let case = &submitted.case_id;
    let lead = &accepted.lead_department;
    assert!(!lead.is_empty());
    // The partition token: the case's, the same on each of its events (ADR 0043).
    let p = yiciban_eventstore::partition_of(&case.parse().unwrap());
    assert_eq!(
        subjects,
        [
            format!("{prefix}.evt._.intake.{case}.ApplicationSubmitted.{p}"),
            format!("{prefix}.evt.{lead}.intake.{case}.ApplicationAccepted.{p}"),
            format!("{prefix}.evt._.intake.{case}.OfficerAssigned.{p}"),
        ]
    );
    let leads: Vec<&str> = envelopes.iter().map(|e| e.lead_department.as_str()).collect();
    assert_eq!(leads, ["", lead.as_str(), ""]);
    assert!(envelopes.iter().all(|e| e.department.is_empty()), "case-level events concern no department");
}

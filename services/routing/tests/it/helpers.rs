//! `spawn_app()`: the real routing service (testkit's `spawn_service`) with a
//! manual clock and clients carrying minted tokens.

use std::sync::Arc;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::routing::v1::{self as pb, routing_service_client::RoutingServiceClient};
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{ServiceHandle, TestDb, TestNats};

pub type Client = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;

pub struct TestApp {
    /// First, so the service stops before its database is dropped.
    _service: ServiceHandle,
    pub db: TestDb,
    /// Kept for its prefix's lifetime (the stream is deleted on drop).
    pub _nats: TestNats,
    pub clock: ManualClock,
    channel: Channel,
    pub issuer: TestIssuer,
}

/// 2026-09-28 10:00 +08:00, the Monday before the National Day holiday.
pub fn monday_before_national_day() -> chrono::DateTime<chrono::Utc> {
    "2026-09-28T02:00:00Z".parse().unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_asking(None).await
}

/// Routing asking the intake service at `intake_url` for case officers
/// (none: officers are refused).
pub async fn spawn_app_asking(intake_url: Option<String>) -> TestApp {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let clock = ManualClock::new(monday_before_national_day());
    let issuer = TestIssuer::start().await;
    let mut env: std::collections::HashMap<String, String> = [
        ("YICIBAN_NATS_PREFIX", nats.subjects.prefix()),
        ("YICIBAN_TASKS_URL", "http://127.0.0.1:9"),
        ("YICIBAN_ISSUANCE_URL", "http://127.0.0.1:9"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    issuer.configure(&mut env);
    if let Some(url) = intake_url {
        env.insert("YICIBAN_INTAKE_URL".to_owned(), url);
    }
    let mut config = yiciban_routing::RoutingConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let app = yiciban_testkit::spawn_service(yiciban_routing::build_with(
        config,
        Arc::new(clock.clone()),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    TestApp { _service: app.handle, db, _nats: nats, clock, channel: app.channel, issuer }
}

impl TestApp {
    pub fn as_(&self, role: Role, sub: &str, department: Option<&str>) -> Client {
        let token = self.issuer.token(role, sub, department, None);
        RoutingServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// Routing as intake's process manager calls it (PlanCase, EndPlan).
    pub fn service(&self) -> Client {
        self.as_(Role::Service, "intake", None)
    }

    /// Routing as the task service's process manager calls it
    /// (RecordTaskOutcome).
    pub fn tasks_service(&self) -> Client {
        self.as_(Role::Service, "tasks", None)
    }

    /// Events stored in the routing schema.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM routing.events").fetch_one(&self.db.pool).await.unwrap()
    }
}

pub fn date(y: i32, m: u32, d: u32) -> common::Date {
    common::Date { year: y, month: m as i32, day: d as i32 }
}

/// PlanCase for the restaurant package with the tobacco licence chosen.
pub fn plan_restaurant(case_id: &str, key: &str) -> pb::PlanCaseRequest {
    pb::PlanCaseRequest {
        idempotency_key: key.into(),
        case_id: case_id.into(),
        expected_version: 0,
        case_number: "YCB-20260928-000001".into(),
        package_id: "open-restaurant".into(),
        item_codes: ["DEMO-CY-01", "DEMO-CY-02", "DEMO-CY-03", "DEMO-CY-04", "DEMO-CY-05", "DEMO-CY-06"]
            .map(String::from)
            .to_vec(),
        accepted_on: Some(date(2026, 9, 28)),
        commitments: vec![],
        promised_working_days: 0,
        catalog_version: String::new(),
    }
}

//! `spawn_app()`: the real intake service (testkit's `spawn_service`) with its
//! own database and NATS prefix, a manual clock, and typed clients carrying
//! minted tokens.

use std::sync::Arc;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_intake::{Intake, IntakeConfig};
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::catalog::v1::calendar_service_client::CalendarServiceClient;
use yiciban_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::intake::v1::material_service_client::MaterialServiceClient;
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{RunningService, ServiceHandle, TestDb, TestNats};

pub type Intake_ = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Materials_ = MaterialServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Catalog_ = CatalogServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Calendar_ = CalendarServiceClient<InterceptedService<Channel, ClientAuth>>;

pub struct TestApp {
    /// First, so the service stops before its database is dropped.
    _service: ServiceHandle,
    pub db: TestDb,
    pub nats: TestNats,
    pub clock: ManualClock,
    pub intake: Arc<Intake>,
    pub channel: Channel,
    issuer: TestIssuer,
    env: std::collections::HashMap<String, String>,
}

/// The key of the applicants' lookup values the service is given.
pub const IDENTITY_KEY: &str = "test-identity-key-of-the-intake-tests-32+";

/// 2026-03-16 10:00 +08:00, a Monday and a working day.
pub fn monday_morning() -> chrono::DateTime<chrono::Utc> {
    "2026-03-16T02:00:00Z".parse().unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with more environment (`YICIBAN_*` settings).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let clock = ManualClock::new(monday_morning());
    let issuer = TestIssuer::start().await;
    let mut env = std::collections::HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    issuer.configure(&mut env);
    env.insert("YICIBAN_IDENTITY_KEY".to_owned(), IDENTITY_KEY.to_owned());
    env.insert("YICIBAN_MAX_MATERIAL_BYTES".to_owned(), "1048576".to_owned());
    env.insert("YICIBAN_EXPIRY_SCAN".to_owned(), "1h".to_owned());
    // No routing or task service in these tests: hand-offs wait (port 9 refuses).
    env.insert("YICIBAN_ROUTING_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_TASKS_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let app = start(&env, &db, &nats, &clock).await;
    TestApp { _service: app.handle, db, nats, clock, intake: app.state, channel: app.channel, issuer, env }
}

async fn start(
    env: &std::collections::HashMap<String, String>,
    db: &TestDb,
    nats: &TestNats,
    clock: &ManualClock,
) -> RunningService<Intake> {
    let mut config = IntakeConfig::from_source(env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    yiciban_testkit::spawn_service(yiciban_intake::build_with(
        config,
        Arc::new(clock.clone()),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await
}

impl TestApp {
    /// A second intake service on the same database, NATS prefix, clock and
    /// settings (another replica of the deployment); stopped when dropped.
    pub async fn replica(&self) -> RunningService<Intake> {
        start(&self.env, &self.db, &self.nats, &self.clock).await
    }

    /// The issuer the service trusts.
    pub fn issuer(&self) -> &TestIssuer {
        &self.issuer
    }

    pub fn token(&self, role: Role, sub: &str, department: Option<&str>, identity: Option<&str>) -> String {
        self.issuer.token(role, sub, department, identity)
    }

    pub fn intake_as(&self, token: &str) -> Intake_ {
        IntakeServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(token)))
    }

    pub fn clerk(&self) -> Intake_ {
        self.intake_as(&self.token(Role::Clerk, "clerk-001", None, None))
    }

    /// The chunked upload, signed in with `token`.
    pub fn materials_as(&self, token: &str) -> Materials_ {
        MaterialServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(token)))
    }

    /// The chunked upload as the clerk.
    pub fn materials(&self) -> Materials_ {
        self.materials_as(&self.token(Role::Clerk, "clerk-001", None, None))
    }

    /// Material blobs stored in the intake schema.
    pub async fn blob_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM intake.material_blobs").fetch_one(&self.db.pool).await.unwrap()
    }

    pub fn catalog(&self) -> Catalog_ {
        let t = self.token(Role::Clerk, "clerk-001", None, None);
        CatalogServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&t)))
    }

    /// The calendar service as `role` (`admin-001`, `clerk-001`, …).
    pub fn calendar_as(&self, role: Role) -> Calendar_ {
        let identity = (role == Role::Applicant).then_some(crate::fixtures::MOTHER_ID);
        let t = self.token(role, &format!("{}-001", role.as_str()), None, identity);
        CalendarServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&t)))
    }

    /// Events stored in the intake schema.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM intake.events").fetch_one(&self.db.pool).await.unwrap()
    }

    /// The `PersonalDataErased` events of a case, decoded.
    pub async fn erasures_of(&self, case_id: &str) -> Vec<yiciban_proto::events::v1::PersonalDataErased> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM intake.events WHERE case_id = $1::uuid AND event_type = 'PersonalDataErased'",
        )
        .bind(case_id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        payloads.iter().map(|p| prost::Message::decode(p.as_slice()).unwrap()).collect()
    }
}

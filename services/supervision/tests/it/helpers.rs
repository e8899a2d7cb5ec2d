//! `spawn_app()`: the real supervision service (testkit's `spawn_service`)
//! with its own database and NATS prefix, a manual clock, an in-memory
//! catalog, in-memory tracking statistics, and typed clients carrying
//! minted tokens.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::supervision::v1::assessment_service_client::AssessmentServiceClient;
use yiciban_proto::supervision::v1::report_service_client::ReportServiceClient;
use yiciban_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use yiciban_supervision::assessments::items::FixedItems;
use yiciban_supervision::{InMemoryCatalog, InMemoryStatistics, Peers, Supervision, SupervisionConfig};
use yiciban_testkit::{RunningService, ServiceHandle, TestDb, TestIssuer, TestNats};

pub type Client = SupervisionServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Reports = ReportServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Assessor = AssessmentServiceClient<InterceptedService<Channel, ClientAuth>>;

pub struct TestApp {
    /// First, so the service stops before its database is dropped.
    _service: ServiceHandle,
    pub db: TestDb,
    pub nats: TestNats,
    pub clock: ManualClock,
    pub state: Arc<Supervision>,
    pub catalog: InMemoryCatalog,
    pub statistics: InMemoryStatistics,
    /// What tracking answers for the case items of any period.
    pub items: FixedItems,
    channel: Channel,
    pub issuer: TestIssuer,
}

/// An instant in China time, e.g. `cst("2026-10-15T10:00")`.
pub fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

pub fn key() -> String {
    Uuid::now_v7().to_string()
}

pub fn config(nats: &TestNats, issuer: &TestIssuer) -> SupervisionConfig {
    let mut env = HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    // The sweep runs when the tests say (sweep_once); the job's first round
    // runs at start.
    env.insert("YICIBAN_ESCALATION_EVERY_SECS".to_owned(), "86400".to_owned());
    issuer.configure(&mut env);
    let mut config = SupervisionConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config
}

pub async fn spawn_app() -> TestApp {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    // Thursday 2026-10-15, 10:00 in China.
    let clock = ManualClock::new(cst("2026-10-15T10:00"));
    let catalog = InMemoryCatalog::new();
    catalog.add("newborn", "health");
    catalog.add("open-restaurant", "samr");
    catalog.add_department("samr", "市场监督管理局");
    let statistics = InMemoryStatistics::new();
    let items = FixedItems::new();
    let issuer = TestIssuer::start().await;
    let app = yiciban_testkit::spawn_service(yiciban_supervision::build_with_peers(
        config(&nats, &issuer),
        Arc::new(clock.clone()),
        db.pool.clone(),
        nats.js.clone(),
        peers(&catalog, &statistics, &items),
    ))
    .await;
    TestApp {
        _service: app.handle,
        db,
        nats,
        clock,
        state: app.state,
        catalog,
        statistics,
        items,
        channel: app.channel,
        issuer,
    }
}

/// The in-memory peers, shared by a restarted instance.
pub fn peers(catalog: &InMemoryCatalog, statistics: &InMemoryStatistics, items: &FixedItems) -> Peers {
    Peers {
        catalog: Some(Arc::new(catalog.clone())),
        statistics: Some(Arc::new(statistics.clone())),
        items: Some(Arc::new(items.clone())),
    }
}

impl TestApp {
    /// A second supervision service on the same database, NATS prefix,
    /// clock and peers (another replica of the deployment); stopped when
    /// dropped. Its job's first round runs at its start, at the clock's
    /// time then.
    pub async fn replica(&self) -> RunningService<Supervision> {
        yiciban_testkit::spawn_service(yiciban_supervision::build_with_peers(
            config(&self.nats, &self.issuer),
            Arc::new(self.clock.clone()),
            self.db.pool.clone(),
            self.nats.js.clone(),
            peers(&self.catalog, &self.statistics, &self.items),
        ))
        .await
    }

    pub fn client(&self, role: Role, sub: &str, department: Option<&str>) -> Client {
        let token = self.issuer.token(role, sub, department, None);
        SupervisionServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// The assessment's client as `role`.
    pub fn assessor(&self, role: Role) -> Assessor {
        let (department, identity) = match role {
            Role::Agent => (Some("samr"), None),
            Role::Applicant => (None, Some(yiciban_testkit::applications::FATHER_ID)),
            _ => (None, None),
        };
        let token = self.issuer.token(role, &format!("{}-001", role.as_str()), department, identity);
        AssessmentServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// The report service as `role`.
    pub fn reports(&self, role: Role, sub: &str, department: Option<&str>) -> Reports {
        let token = self.issuer.token(role, sub, department, None);
        ReportServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// The report service as an agent of `department`.
    pub fn department(&self, department: &str) -> Reports {
        self.reports(Role::Agent, &format!("agent-{department}"), Some(department))
    }

    /// The report service as the 政务公开 office.
    pub fn office(&self) -> Reports {
        self.reports(Role::Supervisor, "supervisor-001", None)
    }

    pub fn clerk(&self) -> Client {
        self.client(Role::Clerk, "clerk-001", Some("zwfw"))
    }

    pub fn officer(&self) -> Client {
        self.client(Role::Officer, "officer-001", Some("zwfw"))
    }

    pub fn supervisor(&self) -> Client {
        self.client(Role::Supervisor, "supervisor-001", None)
    }

    pub fn agent(&self, department: &str) -> Client {
        self.client(Role::Agent, &format!("agent-{department}"), Some(department))
    }

    pub fn applicant(&self) -> Client {
        let token =
            self.issuer.token(Role::Applicant, "applicant-001", None, Some(yiciban_testkit::applications::FATHER_ID));
        SupervisionServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// Events of the service's store, by type, in order.
    pub async fn event_types(&self, stream: &str) -> Vec<String> {
        self.state.opinions.store().read_stream(stream, 1).await.unwrap().into_iter().map(|e| e.event_type).collect()
    }

    /// Rows in a table of the schema.
    pub async fn count(&self, table: &str) -> i64 {
        let statement = match table {
            "consultations" => "SELECT count(*) FROM {schema}.consultations",
            "opinions" => "SELECT count(*) FROM {schema}.opinions",
            "contacts" => "SELECT count(*) FROM {schema}.contacts",
            "events" => "SELECT count(*) FROM {schema}.events",
            "assessments" => "SELECT count(*) FROM {schema}.assessments",
            "scoring_rules" => "SELECT count(*) FROM {schema}.scoring_rules",
            "personal_data_reads" => "SELECT count(*) FROM {schema}.personal_data_reads",
            "reports" => "SELECT count(*) FROM {schema}.reports",
            other => panic!("no table {other} to count"),
        };
        sqlx::query_scalar(schema_sql(self.state.schema(), statement)).fetch_one(&self.db.pool).await.unwrap()
    }

    /// True when `text` is stored in clear (its UTF-8 bytes) in any column
    /// of the events, the outbox-published metadata, the rows or the
    /// contacts of the schema.
    pub async fn holds_in_clear(&self, text: &str) -> bool {
        const STATEMENT: &str = "SELECT EXISTS (SELECT 1 FROM {schema}.events WHERE position($1 IN payload) > 0
                               OR position($1 IN convert_to(metadata::text, 'UTF8')) > 0)
                 OR EXISTS (SELECT 1 FROM {schema}.contacts WHERE position($1 IN sealed) > 0)
                 OR EXISTS (SELECT 1 FROM {schema}.consultations WHERE position($1 IN consultation) > 0)
                 OR EXISTS (SELECT 1 FROM {schema}.opinions WHERE position($1 IN opinion) > 0)
                 OR EXISTS (SELECT 1 FROM {schema}.idempotency_keys WHERE position($1 IN response) > 0)";
        sqlx::query_scalar(schema_sql(self.state.schema(), STATEMENT))
            .bind(text.as_bytes())
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Records an opinion through the API as a supervisor.
    pub async fn opinion(&self, kind: pb::OpinionKind, department: &str) -> pb::Opinion {
        self.supervisor()
            .record_opinion(pb::RecordOpinionRequest {
                idempotency_key: key(),
                kind: kind as i32,
                channel: pb::OpinionChannel::Hotline12345 as i32,
                summary: "窗口办理时间过长".into(),
                department: department.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .opinion
            .unwrap()
    }
}

pub fn fields(status: &tonic::Status) -> Vec<String> {
    yiciban_platform::status::violations_of(status).into_iter().map(|v| v.field).collect()
}

//! `spawn_app()`: the real task service (testkit's `spawn_service`) with its
//! own database and NATS prefix, a manual clock, typed clients carrying minted tokens, and a
//! restart on the same database.

use std::collections::HashMap;
use std::sync::Arc;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt as _;
use prost::Message as _;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::tasks::v1 as pb;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;
use yiciban_tasks::{Tasks, TasksConfig};
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{RunningService, ServiceHandle, TestDb, TestNats};

pub type Client = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;

pub struct TestApp {
    /// First, so the service stops before its database is dropped.
    service: ServiceHandle,
    pub db: TestDb,
    pub nats: TestNats,
    pub clock: ManualClock,
    pub tasks: Arc<Tasks>,
    channel: Channel,
    pub issuer: TestIssuer,
    /// The intake service the task service asks for case officers, if any.
    intake_url: Option<String>,
}

/// An instant in China time, e.g. `cst("2026-09-28T10:00")`.
pub fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn pb_date(d: NaiveDate) -> common::Date {
    d.into()
}

/// Monday 2026-09-28 10:00 +08:00, the last working Monday before National Day.
pub fn monday_before_national_day() -> DateTime<Utc> {
    cst("2026-09-28T10:00")
}

fn config(nats: &TestNats, issuer: &TestIssuer, intake_url: Option<&str>) -> TasksConfig {
    let mut env = HashMap::new();
    if let Some(url) = intake_url {
        env.insert("YICIBAN_INTAKE_URL".to_owned(), url.to_owned());
    }
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    issuer.configure(&mut env);
    env.insert("YICIBAN_SLA_SCAN".to_owned(), "1h".to_owned());
    // No routing service in these tests: outcome reports wait (port 9 refuses).
    env.insert("YICIBAN_ROUTING_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    let mut config = TasksConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config
}

async fn start(
    db: &TestDb,
    nats: &TestNats,
    clock: &ManualClock,
    issuer: &TestIssuer,
    intake_url: Option<&str>,
) -> RunningService<Tasks> {
    let config = config(nats, issuer, intake_url);
    yiciban_testkit::spawn_service(yiciban_tasks::build_with(
        config,
        Arc::new(clock.clone()),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_asking(None).await
}

/// The task service asking the intake service at `intake_url` for case
/// officers (none: officers are refused).
pub async fn spawn_app_asking(intake_url: Option<String>) -> TestApp {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let clock = ManualClock::new(monday_before_national_day());
    let issuer = TestIssuer::start().await;
    let app = start(&db, &nats, &clock, &issuer, intake_url.as_deref()).await;
    TestApp { service: app.handle, db, nats, clock, tasks: app.state, channel: app.channel, issuer, intake_url }
}

impl TestApp {
    /// Stops the service (waiting until it has drained) and builds a fresh
    /// one on the same database and NATS prefix (a restart); the clock stays
    /// where it is.
    pub async fn restart(&mut self) {
        self.service.stop().await.expect("the task service stops cleanly");
        let app = start(&self.db, &self.nats, &self.clock, &self.issuer, self.intake_url.as_deref()).await;
        (self.service, self.tasks, self.channel) = (app.handle, app.state, app.channel);
    }

    /// A second task service on the same database, NATS prefix and clock
    /// (another replica of the deployment); stopped when dropped.
    pub async fn replica(&self) -> RunningService<Tasks> {
        start(&self.db, &self.nats, &self.clock, &self.issuer, self.intake_url.as_deref()).await
    }

    pub fn client(&self, role: Role, sub: &str, department: Option<&str>) -> Client {
        let token = self.issuer.token(role, sub, department, None);
        TaskServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    pub fn service(&self) -> Client {
        self.client(Role::Service, "routing", None)
    }

    /// The task service as intake's process manager calls it (ResumeTask).
    pub fn intake_service(&self) -> Client {
        self.client(Role::Service, "intake", None)
    }

    pub fn agent(&self, sub: &str, department: &str) -> Client {
        self.client(Role::Agent, sub, Some(department))
    }

    pub fn supervisor(&self) -> Client {
        self.client(Role::Supervisor, "supervisor-001", None)
    }

    /// Creates a task from `req` with the service token.
    pub async fn create(&self, req: pb::CreateTaskRequest) -> pb::CreateTaskResponse {
        self.service().create_task(req).await.expect("CreateTask").into_inner()
    }

    pub async fn get(&self, task_id: &str) -> pb::Task {
        self.supervisor()
            .get_task(pb::GetTaskRequest { task_id: task_id.into() })
            .await
            .unwrap()
            .into_inner()
            .task
            .unwrap()
    }

    /// The stream version of a task.
    pub async fn version(&self, task_id: &str) -> u64 {
        self.tasks.runner.store().stream_version(&format!("task-{task_id}")).await.unwrap()
    }

    /// Event types of a task's stream, in order.
    pub async fn event_types(&self, task_id: &str) -> Vec<String> {
        self.tasks
            .runner
            .store()
            .read_stream(&format!("task-{task_id}"), 1)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    /// Events stored in the tasks schema.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM tasks.events").fetch_one(&self.db.pool).await.unwrap()
    }

    /// (subject, event type) of every event published on `department`'s
    /// subjects so far.
    pub async fn published(&self, department: &str) -> Vec<(String, String)> {
        let Ok(stream) = self.nats.js.get_stream(self.nats.subjects.stream_name()).await else { return vec![] };
        let consumer = stream
            .create_consumer(pull::Config {
                filter_subject: self.nats.subjects.department_events(department),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::None,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut batch = consumer.fetch().max_messages(1000).messages().await.unwrap();
        let mut out = Vec::new();
        while let Some(Ok(m)) = batch.next().await {
            let envelope = EventEnvelope::decode(m.payload.as_ref()).unwrap();
            out.push((m.subject.to_string(), envelope.event_type));
        }
        out
    }
}

/// A CreateTask request of a fresh task and case: samr, DEMO-RS-02, with
/// one commitment post-checked by samr.
pub fn new_task(department: &str, days: u32) -> pb::CreateTaskRequest {
    let task_id = Uuid::now_v7();
    pb::CreateTaskRequest {
        idempotency_key: format!("create-{task_id}"),
        case_id: Uuid::now_v7().to_string(),
        case_number: "YCB-20260928-000001".into(),
        package_id: "open-restaurant".into(),
        step_id: "s2".into(),
        item_code: "DEMO-RS-02".into(),
        item_name: "食品经营许可".into(),
        department: department.into(),
        promised_working_days: days,
        start_on: None,
        material_ids: vec!["m_site_layout".into()],
        commitments: vec![common::Commitment {
            material_id: "m_health_cert".into(),
            material_name: "从业人员健康证明".into(),
            commitment_text: "本人承诺从业人员均持有有效健康证明。".into(),
            post_check_department: department.into(),
            post_check_by: None,
        }],
        task_id: task_id.to_string(),
        lead_department: "samr".into(),
    }
}

/// A valid result document for a DEMO-RS-02 task of `department`.
pub fn licence(department: &str) -> common::ResultDocument {
    common::ResultDocument {
        kind: common::ResultDocumentKind::Licence as i32,
        name: "食品经营许可证".into(),
        number: "JY11502030000123".into(),
        issuing_department: department.into(),
        item_code: "DEMO-RS-02".into(),
        valid_from: None,
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

pub fn key() -> String {
    Uuid::now_v7().to_string()
}

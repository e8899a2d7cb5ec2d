//! The whole system in one test process: intake, routing, tasks, issuance,
//! tracking and webhooks, each on a port reserved up front (they name each other in
//! their configuration), sharing one test database (each service in its own
//! schema), one NATS prefix and one manual clock. Any service can be killed
//! (its task aborted mid-flight, as a crash) and started again on the same
//! port, which stays reserved meanwhile, and the same data.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{ReservedPort, ServiceHandle, TestDb, TestNats, spawn_service};

pub type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Routing = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Tasks = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Tracking = TrackingServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Issuance = IssuanceServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Intake,
    Routing,
    Tasks,
    Issuance,
    Tracking,
    Webhooks,
    /// Not started with the others (its look-ups of the phone would be
    /// reads in every journey's read log): a journey that needs it spawns it.
    Notifier,
    /// The supervision office's records (ADR 0037): spawned by the journeys
    /// that call it.
    Supervision,
}

impl Service {
    /// Every service of the stack.
    pub const ALL: [Service; 8] = [
        Service::Intake,
        Service::Routing,
        Service::Tasks,
        Service::Issuance,
        Service::Tracking,
        Service::Webhooks,
        Service::Notifier,
        Service::Supervision,
    ];
}

pub struct Stack {
    /// First, so the services stop before their database is dropped.
    running: HashMap<Service, ServiceHandle>,
    pub db: TestDb,
    pub nats: TestNats,
    pub clock: ManualClock,
    ports: HashMap<Service, ReservedPort>,
    issuer: TestIssuer,
    /// The running task service's state (its SLA watcher is swept by hand).
    pub tasks_state: Option<Arc<yiciban_tasks::Tasks>>,
}

impl Stack {
    /// Starts every service at `now`.
    pub async fn start(now: &str) -> Stack {
        let db = TestDb::new(30).await;
        let nats = TestNats::new().await;
        let ports = Service::ALL.map(|s| (s, ReservedPort::new())).into();
        let mut stack = Stack {
            running: HashMap::new(),
            db,
            nats,
            clock: ManualClock::new(now.parse().unwrap()),
            ports,
            issuer: TestIssuer::start().await,
            tasks_state: None,
        };
        for s in
            [Service::Webhooks, Service::Tracking, Service::Issuance, Service::Tasks, Service::Routing, Service::Intake]
        {
            stack.spawn(s).await;
        }
        stack
    }

    fn url(&self, s: Service) -> String {
        self.ports[&s].url()
    }

    fn env(&self) -> HashMap<String, String> {
        [
            ("YICIBAN_NATS_PREFIX", self.nats.subjects.prefix().to_owned()),
            ("YICIBAN_DEV_MODE", "true".to_owned()),
            ("YICIBAN_OIDC_ISSUER", self.issuer.url()),
            ("YICIBAN_INTAKE_URL", self.url(Service::Intake)),
            ("YICIBAN_ROUTING_URL", self.url(Service::Routing)),
            ("YICIBAN_TASKS_URL", self.url(Service::Tasks)),
            ("YICIBAN_ISSUANCE_URL", self.url(Service::Issuance)),
            // the supervision service asks tracking for a monthly report's
            // figures and an assessment's case items
            ("YICIBAN_TRACKING_URL", self.url(Service::Tracking)),
            ("YICIBAN_EXPIRY_SCAN", "1h".to_owned()),
            ("YICIBAN_SLA_SCAN", "1h".to_owned()),
            // Publications of the working-day calendar reach every service soon.
            ("YICIBAN_CALENDAR_REFRESH", "500ms".to_owned()),
            // A message held by a service the crash journey kills comes
            // back soon (the default 60 s suits real chunks of gRPC calls).
            ("YICIBAN_CONSUMER_ACK_WAIT", "5s".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Builds and starts service `s` (again) on its reserved port; returns
    /// once it answers its health check.
    pub async fn spawn(&mut self, s: Service) {
        let env = self.env();
        let listener = Some(self.ports[&s].listener());
        let clock = Arc::new(self.clock.clone());
        let (pool, js) = (self.db.pool.clone(), self.nats.js.clone());
        let handle = match s {
            Service::Intake => {
                let mut config = yiciban_intake::IntakeConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_intake::build_with(config, clock, pool, js)).await.handle
            }
            Service::Routing => {
                let mut config = yiciban_routing::RoutingConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_routing::build_with(config, clock, pool, js)).await.handle
            }
            Service::Issuance => {
                let mut config = yiciban_issuance::IssuanceConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_issuance::build_with(config, clock, pool, js)).await.handle
            }
            Service::Tracking => {
                let mut config = yiciban_tracking::TrackingConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_tracking::build_with(config, clock, pool, js)).await.handle
            }
            Service::Webhooks => {
                let mut config = yiciban_webhooks::WebhooksConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_webhooks::build_with(config, clock, pool, js)).await.handle
            }
            Service::Notifier => {
                // the local sink: development mode's default gateway
                let mut config = yiciban_notifier::NotifierConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_notifier::build_with(config, clock, pool, js)).await.handle
            }
            Service::Supervision => {
                // the catalog is intake's, asked over gRPC as the service
                let mut config = yiciban_supervision::SupervisionConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                spawn_service(yiciban_supervision::build_with(config, clock, pool, js, None)).await.handle
            }
            Service::Tasks => {
                let mut config = yiciban_tasks::TasksConfig::from_source(&env).unwrap();
                config.common.grpc_listener = listener;
                let app = spawn_service(yiciban_tasks::build_with(config, clock, pool, js)).await;
                self.tasks_state = Some(app.state);
                app.handle
            }
        };
        self.running.insert(s, handle);
    }

    /// Kills service `s` as a crash would: its task is aborted wherever it
    /// is (mid-call, mid-transaction), nothing drains; its port stays
    /// reserved, refusing connections until the service is spawned again.
    pub async fn kill(&mut self, s: Service) {
        if let Some(mut handle) = self.running.remove(&s) {
            handle.kill().await;
        }
    }

    pub fn channel(&self, s: Service) -> Channel {
        Channel::from_shared(self.url(s)).unwrap().connect_lazy()
    }

    pub fn token(&self, role: Role, sub: &str, department: Option<&str>) -> String {
        self.issuer.token(role, sub, department, None)
    }

    /// A token of any role, with an applicant's identity.
    pub fn token_with_identity(
        &self,
        role: Role,
        sub: &str,
        department: Option<&str>,
        identity: Option<&str>,
    ) -> String {
        self.issuer.token(role, sub, department, identity)
    }

    pub fn intake(&self, role: Role, sub: &str) -> Intake {
        IntakeServiceClient::with_interceptor(
            self.channel(Service::Intake),
            ClientAuth::new(Some(&self.token(role, sub, None))),
        )
    }

    pub fn routing(&self, role: Role, sub: &str, department: Option<&str>) -> Routing {
        RoutingServiceClient::with_interceptor(
            self.channel(Service::Routing),
            ClientAuth::new(Some(&self.token(role, sub, department))),
        )
    }

    pub fn tasks(&self, role: Role, sub: &str, department: Option<&str>) -> Tasks {
        TaskServiceClient::with_interceptor(
            self.channel(Service::Tasks),
            ClientAuth::new(Some(&self.token(role, sub, department))),
        )
    }

    pub fn issuance(&self, role: Role, sub: &str, identity: Option<&str>) -> Issuance {
        let token = self.issuer.token(role, sub, None, identity);
        IssuanceServiceClient::with_interceptor(self.channel(Service::Issuance), ClientAuth::new(Some(&token)))
    }

    pub fn tracking(&self, role: Role, sub: &str, department: Option<&str>) -> Tracking {
        TrackingServiceClient::with_interceptor(
            self.channel(Service::Tracking),
            ClientAuth::new(Some(&self.token(role, sub, department))),
        )
    }

    /// A client of the tasks service as an agent of `department`.
    pub fn agent(&self, department: &str) -> Tasks {
        self.tasks(Role::Agent, &format!("agent-{department}-1"), Some(department))
    }

    /// Every message on the case stream, oldest first, as (subject,
    /// payload): read to the end by a consumer filtered on nothing.
    pub async fn messages(&self) -> Vec<(String, Vec<u8>)> {
        use futures::StreamExt as _;
        let stream = self.nats.js.get_stream(self.nats.subjects.stream_name()).await.unwrap();
        let consumer = stream.create_consumer(async_nats::jetstream::consumer::pull::Config::default()).await.unwrap();
        let mut out = Vec::new();
        loop {
            let mut batch = consumer
                .fetch()
                .max_messages(500)
                .expires(std::time::Duration::from_millis(500))
                .messages()
                .await
                .unwrap();
            let before = out.len();
            while let Some(Ok(m)) = batch.next().await {
                out.push((m.subject.to_string(), m.payload.to_vec()));
            }
            if out.len() == before {
                return out;
            }
        }
    }

    /// What `sql`, a `SELECT count(*)`, counts.
    pub async fn count(&self, sql: impl sqlx::SqlSafeStr) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db.pool).await.unwrap()
    }
}

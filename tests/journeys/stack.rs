//! The whole system in one test process: intake, routing and tasks, each on
//! a port reserved up front (they name each other in their configuration),
//! sharing one test database (each service in its own schema), one NATS
//! prefix and one manual clock. Any service can be killed (its task aborted
//! mid-flight, as a crash) and started again on the same port and data.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{Authenticator, ManualClock, Role};
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;
use yiciban_testkit::{TestDb, TestNats};

pub type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Routing = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Tasks = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Tracking = TrackingServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Issuance = IssuanceServiceClient<InterceptedService<Channel, ClientAuth>>;

const SECRET: &str = "journey-secret";

/// Which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Intake,
    Routing,
    Tasks,
    Issuance,
    Tracking,
}

struct Running {
    handle: JoinHandle<anyhow::Result<()>>,
    shutdown: CancellationToken,
}

pub struct Stack {
    pub db: TestDb,
    pub nats: TestNats,
    pub clock: ManualClock,
    ports: HashMap<Service, u16>,
    running: HashMap<Service, Running>,
    auth: Authenticator,
    /// The tracking service's staff console port (YICIBAN_CONSOLE_ADDR).
    console_port: u16,
    /// The running task service's state (its SLA watcher is swept by hand).
    pub tasks_state: Option<Arc<yiciban_tasks::Tasks>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Stack {
    /// Starts every service at `now`.
    pub async fn start(now: &str) -> Stack {
        let db = TestDb::new(30).await;
        let nats = TestNats::new().await;
        let ports = [Service::Intake, Service::Routing, Service::Tasks, Service::Issuance, Service::Tracking]
            .map(|s| (s, free_port()))
            .into();
        let mut stack = Stack {
            db,
            nats,
            clock: ManualClock::new(now.parse().unwrap()),
            ports,
            running: HashMap::new(),
            auth: Authenticator::new(&SECRET.to_owned().into()).expect("the test key is usable"),
            console_port: free_port(),
            tasks_state: None,
        };
        for s in [Service::Tracking, Service::Issuance, Service::Tasks, Service::Routing, Service::Intake] {
            stack.spawn(s).await;
        }
        stack
    }

    fn url(&self, s: Service) -> String {
        format!("http://127.0.0.1:{}", self.ports[&s])
    }

    fn env(&self, s: Service) -> HashMap<String, String> {
        [
            ("YICIBAN_GRPC_ADDR", format!("127.0.0.1:{}", self.ports[&s])),
            ("YICIBAN_NATS_PREFIX", self.nats.subjects.prefix().to_owned()),
            ("YICIBAN_JWT_SECRET", SECRET.to_owned()),
            ("YICIBAN_INTAKE_URL", self.url(Service::Intake)),
            ("YICIBAN_ROUTING_URL", self.url(Service::Routing)),
            ("YICIBAN_TASKS_URL", self.url(Service::Tasks)),
            ("YICIBAN_ISSUANCE_URL", self.url(Service::Issuance)),
            ("YICIBAN_EXPIRY_SCAN", "1h".to_owned()),
            ("YICIBAN_SLA_SCAN", "1h".to_owned()),
            ("YICIBAN_CONSOLE_ADDR", format!("127.0.0.1:{}", self.console_port)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Builds and starts service `s` (again).
    // The retry loop yields the started service's JoinHandle on purpose.
    #[allow(clippy::async_yields_async)]
    pub async fn spawn(&mut self, s: Service) {
        let env = self.env(s);
        let clock = Arc::new(self.clock.clone());
        let (pool, js) = (self.db.pool.clone(), self.nats.js.clone());
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let mut tasks_state = None;
        // A port just released by a killed service may take a moment to bind.
        let handle = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let built: anyhow::Result<JoinHandle<anyhow::Result<()>>> = match s {
                    Service::Intake => {
                        let config = yiciban_intake::IntakeConfig::from_source(&env).unwrap();
                        yiciban_intake::build_with(config, clock.clone(), pool.clone(), js.clone())
                            .await
                            .map(|app| tokio::spawn(app.run_until_stopped(token.clone())))
                    }
                    Service::Routing => {
                        let config = yiciban_routing::RoutingConfig::from_source(&env).unwrap();
                        yiciban_routing::build_with(config, clock.clone(), pool.clone(), js.clone())
                            .await
                            .map(|app| tokio::spawn(app.run_until_stopped(token.clone())))
                    }
                    Service::Issuance => {
                        let config = yiciban_issuance::IssuanceConfig::from_source(&env).unwrap();
                        yiciban_issuance::build_with(config, clock.clone(), pool.clone(), js.clone())
                            .await
                            .map(|app| tokio::spawn(app.run_until_stopped(token.clone())))
                    }
                    Service::Tracking => {
                        let config = yiciban_tracking::TrackingConfig::from_source(&env).unwrap();
                        yiciban_tracking::build_with(config, clock.clone(), pool.clone(), js.clone())
                            .await
                            .map(|app| tokio::spawn(app.run_until_stopped(token.clone())))
                    }
                    Service::Tasks => {
                        let config = yiciban_tasks::TasksConfig::from_source(&env).unwrap();
                        yiciban_tasks::build_with(config, clock.clone(), pool.clone(), js.clone()).await.map(|app| {
                            tasks_state = Some(app.state());
                            tokio::spawn(app.run_until_stopped(token.clone()))
                        })
                    }
                };
                match built {
                    Ok(handle) => return handle,
                    Err(e) => {
                        eprintln!("starting {s:?}: {e:#}; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{s:?} did not start"));
        if tasks_state.is_some() {
            self.tasks_state = tasks_state;
        }
        self.running.insert(s, Running { handle, shutdown });
    }

    /// Kills service `s` as a crash would: its task is aborted wherever it
    /// is (mid-call, mid-transaction), nothing drains.
    pub async fn kill(&mut self, s: Service) {
        if let Some(r) = self.running.remove(&s) {
            r.handle.abort();
            let _ = r.handle.await;
        }
    }

    /// The base URL of the tracking service's staff console.
    pub fn console_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.console_port)
    }

    fn channel(&self, s: Service) -> Channel {
        Channel::from_shared(self.url(s)).unwrap().connect_lazy()
    }

    pub fn token(&self, role: Role, sub: &str, department: Option<&str>) -> String {
        self.auth.mint(sub, role, department, None, Duration::from_secs(3600)).unwrap()
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
        let token = self.auth.mint(sub, role, None, identity, Duration::from_secs(3600)).unwrap();
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

    /// Rows of `table` in `schema` matching `condition`.
    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db.pool).await.unwrap()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for (_, r) in self.running.drain() {
            r.shutdown.cancel();
            r.handle.abort();
        }
    }
}

//! The system the workbench pages are measured on: intake, routing, the
//! department-task service, issuance, tracking and the workbench, the real
//! services, started in this process (testkit's `spawn_service`) on one
//! manual clock, so that the load can let working days pass and the task
//! service's SLA sweep card the old tasks yellow and red, as weeks of work
//! would. Each service has its own connection pool on the run's database.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::postgres::PgPoolOptions;
use yiciban_devissuer::{User, WORKBENCH_CLIENT_ID};
use yiciban_platform::ManualClock;
use yiciban_testkit::{ReservedPort, ServiceHandle, TestDb, TestIssuer, TestNats, spawn_service};

/// The departments of the newborn package's steps, each with one agent
/// `agent-<code>-1` at the issuer.
pub const DEPARTMENTS: [&str; 6] = ["health-maternity", "cdc", "police-hukou", "medins", "hrss", "tax"];

/// Connections of each service's own pool.
const POOL: u32 = 10;

/// The services, their addresses and the clock they share.
pub struct Stack {
    /// First, so the services stop before anything they use.
    _handles: Vec<ServiceHandle>,
    pub clock: ManualClock,
    pub issuer: TestIssuer,
    /// The workbench's pages, `http://127.0.0.1:<port>`.
    pub workbench_url: String,
    /// gRPC addresses by service name.
    pub urls: HashMap<&'static str, String>,
    /// The task service's state, to run its SLA sweep at the clock's time.
    pub tasks: Arc<yiciban_tasks::Tasks>,
    _ports: Vec<ReservedPort>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack").field("workbench_url", &self.workbench_url).finish_non_exhaustive()
    }
}

fn person(username: &str, role: &str, department: Option<&str>) -> User {
    User {
        username: username.to_owned(),
        display_name: username.to_owned(),
        role: format!("yiciban-{role}"),
        department: department.map(str::to_owned),
        id_number: None,
    }
}

impl Stack {
    /// Starts every service on `db` and `nats`, the clock at `start`.
    pub async fn start(db: &TestDb, nats: &TestNats, start: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Stack> {
        let clock = ManualClock::new(start);
        let [intake, routing, tasks, tracking, issuance, workbench] = [(); 6].map(|()| ReservedPort::new());
        let workbench_url = workbench.url();
        let mut redirect_allowed = false;
        let issuer = TestIssuer::start_with(|config| {
            for department in DEPARTMENTS {
                config.users.push(person(&format!("agent-{department}-1"), "agent", Some(department)));
            }
            // Intake's third default officer (it assigns the least loaded).
            if config.user("officer-003").is_none() {
                config.users.push(person("officer-003", "officer", None));
            }
            redirect_allowed = config.allow_redirect(WORKBENCH_CLIENT_ID, &format!("{workbench_url}/auth/callback"));
        })
        .await;
        anyhow::ensure!(redirect_allowed, "the issuer does not know the workbench's client");
        let mut env: HashMap<String, String> = [
            ("YICIBAN_NATS_PREFIX", nats.subjects.prefix().to_owned()),
            ("YICIBAN_INTAKE_URL", intake.url()),
            ("YICIBAN_ROUTING_URL", routing.url()),
            ("YICIBAN_TASKS_URL", tasks.url()),
            ("YICIBAN_TRACKING_URL", tracking.url()),
            ("YICIBAN_ISSUANCE_URL", issuance.url()),
            // The load runs the sweeps itself, at the clock's time.
            ("YICIBAN_EXPIRY_SCAN", "1h".to_owned()),
            ("YICIBAN_SLA_SCAN", "1h".to_owned()),
            ("YICIBAN_WORKBENCH_PUBLIC_URL", workbench_url.clone()),
            // A working day, as the workbench's people have.
            ("YICIBAN_WORKBENCH_SESSION_IDLE", "10h".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        issuer.configure(&mut env);
        let now: Arc<ManualClock> = Arc::new(clock.clone());
        let pool = || PgPoolOptions::new().max_connections(POOL).connect_with(db.connect_options());
        let js = nats.js.clone();
        let mut handles = Vec::new();

        let mut config = yiciban_tasks::TasksConfig::from_source(&env)?;
        config.common.grpc_listener = Some(tasks.listener());
        let app = spawn_service(yiciban_tasks::build_with(config, now.clone(), pool().await?, js.clone())).await;
        handles.push(app.handle);
        let tasks_state = app.state;

        // Issuance before tracking: tracking reads the owning stores on a gap.
        let mut config = yiciban_issuance::IssuanceConfig::from_source(&env)?;
        config.common.grpc_listener = Some(issuance.listener());
        let app = spawn_service(yiciban_issuance::build_with(config, now.clone(), pool().await?, js.clone())).await;
        handles.push(app.handle);

        let mut config = yiciban_tracking::TrackingConfig::from_source(&env)?;
        config.common.grpc_listener = Some(tracking.listener());
        let app = spawn_service(yiciban_tracking::build_with(config, now.clone(), pool().await?, js.clone())).await;
        handles.push(app.handle);

        let mut config = yiciban_routing::RoutingConfig::from_source(&env)?;
        config.common.grpc_listener = Some(routing.listener());
        let app = spawn_service(yiciban_routing::build_with(config, now.clone(), pool().await?, js.clone())).await;
        handles.push(app.handle);

        let mut config = yiciban_intake::IntakeConfig::from_source(&env)?;
        config.common.grpc_listener = Some(intake.listener());
        let app = spawn_service(yiciban_intake::build_with(config, now.clone(), pool().await?, js)).await;
        handles.push(app.handle);

        let mut config = yiciban_workbench::WorkbenchConfig::from_source(&env)?;
        config.common.grpc_listener = Some(yiciban_testkit::listener());
        config.http_listener = Some(workbench.listener());
        let app = spawn_service(yiciban_workbench::build_with(config, now, pool().await?)).await;
        handles.insert(0, app.handle);

        let urls = [
            ("intake", intake.url()),
            ("routing", routing.url()),
            ("tasks", tasks.url()),
            ("tracking", tracking.url()),
            ("issuance", issuance.url()),
        ]
        .into_iter()
        .collect();
        Ok(Stack {
            _handles: handles,
            clock,
            issuer,
            workbench_url,
            urls,
            tasks: tasks_state,
            _ports: vec![intake, routing, tasks, tracking, issuance, workbench],
        })
    }

    /// The gRPC address of `service`.
    pub fn url(&self, service: &str) -> &str {
        self.urls.get(service).map_or("", String::as_str)
    }

    /// Lets `time` pass on the clock and runs the task service's SLA sweep
    /// at the new time (the yellow and red cards of the tasks still open).
    pub async fn time_passes(&self, time: chrono::Duration) -> anyhow::Result<()> {
        self.clock.advance(time);
        self.tasks.sweep_sla().await?;
        Ok(())
    }
}

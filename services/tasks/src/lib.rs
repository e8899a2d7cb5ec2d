#![forbid(unsafe_code)]
//! The department-task service (部门环节): one stream per task (`task-<uuid>`)
//! in its own schema, a department inbox sorted by urgency, claim, approve,
//! deny, return for supplement, transfer, cancel and post-checks over gRPC,
//! and a durable SLA watcher that raises each task's yellow and red warning
//! exactly once (red escalates to the lead department and the case officer).
//! Every event goes out on its department's NATS subject through the outbox.

pub mod commands;
pub mod config;
pub mod deadlines;
pub mod grpc;
pub mod process_manager;
pub mod repo;
pub mod schema;
pub mod sla;

use std::sync::Arc;

use yiciban_calendar::Share;
use yiciban_eventstore::Consumer;
use yiciban_platform::Clock;
use yiciban_platform::calendar::LiveCalendar;
use yiciban_platform::officers::OfficerLookup;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1::task_service_server::TaskServiceServer;

pub use config::TasksConfig;
pub use sla::SweepReport;

/// The service's shared state, handed to every RPC and to the SLA watcher.
#[derive(Debug)]
pub struct Tasks {
    /// The task streams and their rows, through the shared command path.
    pub runner: commands::TaskRunner,
    /// The working-day calendar in force, followed from intake.
    pub calendar: Arc<LiveCalendar>,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
    /// Share of the limit at which a task turns yellow.
    pub warn_share: Share,
    /// Working days an applicant gets for a supplement by default.
    pub supplement_days: u32,
    /// Finds the case officer: to tell on escalation, and to check that an
    /// officer reads only the tasks of their own cases.
    pub officers: OfficerLookup,
}

impl Tasks {
    /// The schema the service owns.
    pub fn schema(&self) -> &str {
        self.runner.store().schema()
    }

    /// The service's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.runner.store().pool()
    }

    /// The `Task` message of a state, working days counted up to `now`.
    pub fn task_message(
        &self,
        case_id: uuid::Uuid,
        task: &yiciban_domain::tasks::Task,
        now: chrono::DateTime<chrono::Utc>,
    ) -> yiciban_proto::tasks::v1::Task {
        commands::task_message(&self.calendar.current(), case_id, task, now)
    }

    /// Runs one SLA sweep at the injected clock's now (tests drive it).
    pub async fn sweep_sla(&self) -> anyhow::Result<SweepReport> {
        sla::sweep_once(self, self.clock.now()).await
    }
}

/// A built task service, bound to its port, not yet serving.
pub type App = Service<Tasks>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: TasksConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "tasks").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: TasksConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    let mut shell = ServiceBuilder::bind("tasks", &config.common, pool, js).await?.audit_log(&config.schema).await?;
    let store = shell.event_store(&config.schema, &[schema::TASKS]).await?;
    let routing = RoutingServiceClient::new(shell.calls("routing", &config.routing_url)?);
    let handoff = Consumer::process_manager(
        Arc::new(process_manager::TasksHandoff::new(routing)),
        &store,
        shell.subjects(),
        shell.jetstream().clone(),
    )?;
    let officers = OfficerLookup::new(config.intake_url.as_deref().map(|url| shell.calls("intake", url)).transpose()?);
    let calendar = shell.follow_calendar(config.intake_url.as_deref(), clock.clone())?;
    let rows = commands::TaskRows {
        schema: store.schema().to_owned(),
        calendar: calendar.clone(),
        warn_share: config.warn_share,
    };
    let runner = yiciban_commands::CommandRunner::new(store, commands::TaskCodec, clock.clone()).with_rows(rows);
    let tasks = Arc::new(Tasks {
        runner,
        calendar,
        clock,
        warn_share: config.warn_share,
        supplement_days: config.supplement_days,
        officers,
    });
    let watcher = tasks.clone();
    let every = config.sla_scan;
    Ok(shell
        .grpc(TaskServiceServer::new(grpc::TasksApi::new(tasks.clone())))
        .consumer(handoff)
        .job("SLA watcher", move |shutdown| async move {
            sla::run(watcher, every, shutdown).await;
            Ok(())
        })
        .finish(tasks))
}

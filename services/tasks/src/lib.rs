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
pub mod officers;
pub mod repo;
pub mod report;
pub mod schema;
pub mod sla;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use yiciban_calendar::{Share, WorkingCalendar};
use yiciban_eventstore::{Consumer, EVENT_STORE, EventStore, Relay, RelaySettings, Subjects, migrate};
use yiciban_platform::{Authenticator, Clock};
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1::task_service_server::TaskServiceServer;

pub use config::TasksConfig;
pub use sla::SweepReport;

/// The service's shared state, handed to every RPC and to the SLA watcher.
#[derive(Debug)]
pub struct Tasks {
    /// The task streams.
    pub store: EventStore,
    /// The working-day calendar.
    pub calendar: Arc<WorkingCalendar>,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
    /// Share of the limit at which a task turns yellow.
    pub warn_share: Share,
    /// Working days an applicant gets for a supplement by default.
    pub supplement_days: u32,
    /// Finds the case officer to tell on escalation.
    pub officers: officers::OfficerLookup,
}

impl Tasks {
    /// The schema the service owns.
    pub fn schema(&self) -> &str {
        self.store.schema()
    }

    /// Runs one SLA sweep at the injected clock's now (tests drive it).
    pub async fn sweep_sla(&self) -> anyhow::Result<SweepReport> {
        sla::sweep_once(self, self.clock.now()).await
    }
}

/// A built task service, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    tasks: Arc<Tasks>,
    relay: Relay,
    reporter: Consumer<report::Reporter>,
    auth: Authenticator,
    metrics_addr: Option<SocketAddr>,
    sla_scan: std::time::Duration,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("addr", &self.listener.local_addr().ok()).finish()
    }
}

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: TasksConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let pool = yiciban_platform::runtime::connect_db(&config.common).await?;
    let nats = yiciban_platform::runtime::connect_nats(&config.common, "tasks").await?;
    build_with(config, clock, pool, async_nats::jetstream::new(nats)).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: TasksConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    migrate(&pool, &config.schema, &[EVENT_STORE, schema::TASKS]).await.context("migrating the tasks schema")?;
    let store = EventStore::new(pool.clone(), &config.schema, "tasks")?;
    let subjects = Subjects::new(&config.common.nats_prefix).map_err(anyhow::Error::msg)?;
    let relay = Relay::new(
        store.clone(),
        js.clone(),
        subjects.clone(),
        RelaySettings { stream: config.common.stream_settings(), ..Default::default() },
    );
    relay.ensure_stream().await.context("creating the case-event stream")?;
    let auth = Authenticator::new(&config.common.jwt_secret);
    let routing = RoutingServiceClient::with_interceptor(
        yiciban_platform::grpc::lazy_channel(&config.routing_url)?,
        yiciban_platform::grpc::ClientAuth::service(auth.clone(), "tasks"),
    );
    let reporter =
        Consumer::of_own_events(report::CONSUMER, &store, &subjects, js, Arc::new(report::Reporter::new(routing)))?;
    let officers = officers::OfficerLookup::new(config.intake_url.as_deref(), auth.clone())?;
    let listener = TcpListener::bind(config.common.grpc_addr)
        .await
        .with_context(|| format!("binding the gRPC port {}", config.common.grpc_addr))?;
    Ok(App {
        listener,
        tasks: Arc::new(Tasks {
            store,
            calendar: Arc::new(WorkingCalendar::china()),
            clock,
            warn_share: config.warn_share,
            supplement_days: config.supplement_days,
            officers,
        }),
        relay,
        reporter,
        auth,
        metrics_addr: config.common.metrics_addr,
        sla_scan: config.sla_scan,
    })
}

impl App {
    /// The bound address (port 0 in tests becomes a real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The service state (tests drive the SLA sweep through it).
    pub fn tasks(&self) -> Arc<Tasks> {
        self.tasks.clone()
    }

    /// Serves gRPC, runs the relay, the SLA watcher and the tasks → routing
    /// process manager until `shutdown`,
    /// then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health, health_service, reflection) = yiciban_platform::grpc::standard_services()?;
        if let Some(addr) = self.metrics_addr {
            yiciban_metrics::start(addr, shutdown.clone())
                .await
                .with_context(|| format!("binding the metrics port {addr}"))?;
        }
        let _pool_metrics = yiciban_metrics::observe_pool("tasks", self.tasks.store.pool().clone());
        health.set_serving::<TaskServiceServer<grpc::TasksApi>>().await;
        let auth = self.auth.clone();
        let api =
            TaskServiceServer::with_interceptor(grpc::TasksApi::new(self.tasks.clone()), move |r| auth.intercept(r));
        let router =
            yiciban_platform::grpc::server().add_service(health_service).add_service(reflection).add_service(api);
        let relay = tokio::spawn(self.relay.clone().run(shutdown.clone()));
        let watcher = tokio::spawn(sla::run(self.tasks.clone(), self.sla_scan, shutdown.clone()));
        let reporter = tokio::spawn(self.reporter.run(shutdown.clone()));
        tracing::info!(addr = %self.listener.local_addr()?, "tasks serving");
        yiciban_platform::grpc::serve(router, self.listener, shutdown.clone()).await?;
        shutdown.cancel();
        relay.await?.context("outbox relay")?;
        watcher.await?;
        reporter.await?.context("tasks → routing process manager")?;
        Ok(())
    }
}

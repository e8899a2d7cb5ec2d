#![forbid(unsafe_code)]
//! The routing service (一次联办、并联审批): plans an accepted case from its
//! package's step graph, dispatches the steps without unmet prerequisites to
//! their departments at once and in parallel, reacts to every task outcome
//! (dependents, supplements stopping the case clock, denials confirmed by the
//! lead department), decides the case and hands it to issuance. It owns the
//! plan stream (`plan-<case id>`) in its own schema, publishes through the
//! outbox relay, and runs its process manager towards the task service and
//! issuance.
//!
//! Layout, the same in every service: `config` (settings), `schema` (its own
//! tables: none), `commands` (the command path), `grpc/` (the API),
//! `process_manager` (what it does when its own events happen).

pub mod commands;
pub mod config;
pub mod grpc;
pub mod process_manager;
pub mod schema;

use std::sync::Arc;

use anyhow::Context as _;
use yiciban_calendar::WorkingCalendar;
use yiciban_domain::catalog::Catalog;
use yiciban_eventstore::Consumer;
use yiciban_platform::Clock;
use yiciban_platform::officers::OfficerLookup;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_proto::routing::v1::routing_service_server::RoutingServiceServer;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

pub use config::RoutingConfig;

/// The service's shared state, handed to every RPC and the process manager.
#[derive(Debug)]
pub struct Routing {
    /// The plans, through the shared command path.
    pub plans: commands::Plans,
    pub catalog: Arc<Catalog>,
    pub calendar: Arc<WorkingCalendar>,
    pub clock: Arc<dyn Clock>,
    /// Working days from the decision to issue the documents.
    pub issue_days: u32,
    /// Which officer a case is assigned to, asked of intake.
    pub officers: OfficerLookup,
}

/// A built routing service, bound to its port, not yet serving.
pub type App = Service<Routing>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: RoutingConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "routing").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: RoutingConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    let mut shell =
        ServiceBuilder::bind("routing", &config.common, pool, js).await?.refusal_log(&config.schema).await?;
    let store = shell.event_store(&config.schema, schema::ROUTING).await?;
    let officers = OfficerLookup::new(config.intake_url.as_deref().map(|url| shell.calls("intake", url)).transpose()?);
    let catalog = Catalog::seed().context("loading the seed catalog")?;
    let routing = Arc::new(Routing {
        plans: commands::Plans::new(store.clone(), commands::PlanCodec, clock.clone()),
        catalog: Arc::new(catalog),
        calendar: Arc::new(WorkingCalendar::china()),
        clock,
        issue_days: config.issue_days,
        officers,
    });
    let tasks = TaskServiceClient::new(shell.calls("tasks", &config.tasks_url)?);
    let issuance = IssuanceServiceClient::new(shell.calls("issuance", &config.issuance_url)?);
    let handoff = Consumer::process_manager(
        Arc::new(process_manager::RoutingHandoff::new(routing.clone(), tasks, issuance)),
        &store,
        shell.subjects(),
        shell.jetstream().clone(),
    )?;
    Ok(shell.grpc(RoutingServiceServer::new(grpc::RoutingApi::new(routing.clone()))).consumer(handoff).finish(routing))
}

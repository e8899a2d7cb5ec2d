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

pub mod catalogs;
pub mod commands;
pub mod config;
pub mod grpc;
pub mod process_manager;
pub mod schema;

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use yiciban_domain::routing::{CasePlan, DecisionFacts};
use yiciban_eventstore::Consumer;
use yiciban_platform::Clock;
use yiciban_platform::calendar::LiveCalendar;
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
    /// The catalog versions cases were accepted under.
    pub catalogs: catalogs::CatalogVersions,
    /// The working-day calendar in force, followed from intake.
    pub calendar: Arc<LiveCalendar>,
    pub clock: Arc<dyn Clock>,
    /// Working days from the decision to issue the documents.
    pub issue_days: u32,
    /// Which officer a case is assigned to, asked of intake.
    pub officers: OfficerLookup,
}

impl Routing {
    /// The decision figures of `plan` decided `now`; an issue-by date past
    /// the published calendar is counted as provisional.
    pub fn decision_facts(&self, plan: &CasePlan, now: DateTime<Utc>) -> DecisionFacts {
        let calendar = self.calendar.current();
        let facts = plan.decision_facts(&calendar, self.issue_days, now);
        if !calendar.covers(facts.issue_by) {
            self.calendar.provisional("issue-by");
        }
        facts
    }

    /// The figures of the case clock resuming `now` (days stood still, new
    /// promised date); a promised date past the published calendar is
    /// counted as provisional.
    pub fn resume_facts(&self, plan: &CasePlan, now: DateTime<Utc>) -> (u32, NaiveDate) {
        let calendar = self.calendar.current();
        let (stopped, promised_by) = plan.resume_facts(&calendar, now);
        if !calendar.covers(promised_by) {
            self.calendar.provisional("resumed-promise");
        }
        (stopped, promised_by)
    }
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
    let mut shell = ServiceBuilder::bind("routing", &config.common, pool, js).await?.audit_log(&config.schema).await?;
    let store = shell.event_store(&config.schema, schema::ROUTING).await?;
    let officers = OfficerLookup::new(config.intake_url.as_deref().map(|url| shell.calls("intake", url)).transpose()?);
    let intake = config.intake_url.as_deref().map(|url| shell.calls("intake", url)).transpose()?;
    let catalogs = catalogs::CatalogVersions::new(intake).context("loading the seed catalog")?;
    let calendar = shell.follow_calendar(config.intake_url.as_deref(), clock.clone())?;
    let routing = Arc::new(Routing {
        plans: commands::Plans::new(store.clone(), commands::PlanCodec, clock.clone()),
        catalogs,
        calendar,
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

#![forbid(unsafe_code)]
//! The issuance service (一窗出件): one stream per case (`issuance-<case
//! id>`) in its own schema. It prepares the final batch of a decided case
//! and early batches of results already approved, follows each batch to the
//! applicant (window pick-up with the collector's identity checked, or mail
//! with tracking and failed deliveries), closes the case (办结), and runs the
//! after-service loop: ratings (好差评), rectifications (整改) for the
//! responsible department, and reproducible return-visit sampling (回访).
//! Every event goes out through the outbox; those concerning one department
//! (rectifications, department ratings) on its subject. Its process manager
//! tells intake the day each case closed (retention periods).

pub mod backfill;
pub mod commands;
pub mod config;
pub mod directory;
pub mod grpc;
pub mod ledger;
pub mod legacy;
pub mod pii;
pub mod process_manager;
pub mod repo;
pub mod sampling;
pub mod schema;

use std::sync::Arc;

use chrono::NaiveDate;
use yiciban_calendar::Share;
use yiciban_domain::values::DepartmentCode;
use yiciban_eventstore::Consumer;
use yiciban_platform::calendar::LiveCalendar;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_platform::{Clock, IdentityKey};
use yiciban_privacy::DataKeys;
use yiciban_proto::issuance::v1::issuance_service_server::IssuanceServiceServer;

pub use config::IssuanceConfig;
pub use directory::{ApplicantIdentity, CaseDirectory, CaseFacts, GrpcDirectory, InMemoryDirectory, TaskResult};

/// The service's shared state, handed to every RPC.
#[derive(Debug)]
pub struct Issuance {
    /// The issuance streams and their read rows, through the shared command path.
    pub runner: commands::IssuanceRunner,
    /// The working-day calendar.
    pub calendar: Arc<LiveCalendar>,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
    /// Intake and the task service, asked about cases.
    pub directory: Arc<dyn CaseDirectory>,
    /// Working days a rectification gets by default.
    pub rectification_days: u32,
    /// Share of a month's closed cases sampled when the request names none.
    pub return_visit_share: Share,
    /// Answers for bad ratings of a whole case whose lead department is
    /// unknown.
    pub window_department: DepartmentCode,
    /// The key of the identities' lookup values (the applicant's own-case
    /// check, collectors).
    pub identity_key: IdentityKey,
}

impl Issuance {
    /// The schema the service owns.
    pub fn schema(&self) -> &str {
        self.runner.store().schema()
    }

    /// The service's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.runner.store().pool()
    }

    /// Today in China, from the injected clock.
    pub fn today(&self) -> NaiveDate {
        yiciban_calendar::date_in_china(self.clock.now())
    }

    /// `n` working days after `from` on the calendar in force: a
    /// rectification's limit, provisional past the published calendar.
    pub fn working_days_after(&self, from: NaiveDate, n: u32) -> NaiveDate {
        self.calendar.internal_date("rectification", from, n)
    }
}

/// A built issuance service, bound to its port, not yet serving.
pub type App = Service<Issuance>;

/// Connects, migrates, and binds: everything but serving. Intake and the
/// task service are asked over gRPC ([`GrpcDirectory`]).
pub async fn build(config: IssuanceConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "issuance").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (the dev stack).
pub async fn build_with(
    config: IssuanceConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    assemble(config, clock, pool, js, None).await
}

/// Like [`build_with`] with the case lookups made by `directory` (tests
/// hand in an [`InMemoryDirectory`]; Postgres and NATS stay real).
pub async fn build_with_directory(
    config: IssuanceConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
    directory: Arc<dyn CaseDirectory>,
) -> anyhow::Result<App> {
    assemble(config, clock, pool, js, Some(directory)).await
}

async fn assemble(
    config: IssuanceConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
    directory: Option<Arc<dyn CaseDirectory>>,
) -> anyhow::Result<App> {
    let mut shell = ServiceBuilder::bind("issuance", &config.common, pool, js).await?.audit_log(&config.schema).await?;
    shell.recognise_applicants(config.identity_key.clone());
    let store = shell.event_store(&config.schema, &[schema::ISSUANCE, legacy::LEGACY_SEALING]).await?;
    let directory: Arc<dyn CaseDirectory> = match directory {
        Some(directory) => directory,
        None => Arc::new(GrpcDirectory::new(
            shell.calls("intake", &config.intake_url)?,
            shell.calls("tasks", &config.tasks_url)?,
        )),
    };
    let handoff = Consumer::process_manager(
        Arc::new(process_manager::IssuanceHandoff::new(directory.clone(), store.clone())),
        &store,
        shell.subjects(),
        shell.jetstream().clone(),
    )?;
    let rows = commands::IssuanceRows { schema: store.schema().to_owned() };
    let calendar = shell.follow_calendar(Some(&config.intake_url), clock.clone())?;
    // Intake's data keys, read only: who collected at the window is sealed
    // under the applicant's (ADR 0031).
    let data_keys = DataKeys::new(
        store.pool().clone(),
        &config.intake_schema,
        config.privacy.keks.clone(),
        config.privacy.algorithm,
    );
    let codec = commands::IssuanceCodec { data_keys };
    let runner = yiciban_commands::CommandRunner::new(store, codec, clock.clone()).with_rows(rows);
    let issuance = Arc::new(Issuance {
        runner,
        calendar,
        clock,
        directory,
        rectification_days: config.rectification_days,
        return_visit_share: config.return_visit_share,
        window_department: config.window_department,
        identity_key: config.identity_key,
    });
    let backfiller = issuance.clone();
    let legacy_sealer = issuance.clone();
    let (ledger_pool, ledger_schema) = (issuance.pool().clone(), issuance.schema().to_owned());
    Ok(shell
        .grpc(IssuanceServiceServer::new(grpc::IssuanceApi::new(issuance.clone())))
        .consumer(handoff)
        .job("closing back-fill", move |shutdown| async move {
            backfill::run(backfiller, shutdown).await;
            Ok(())
        })
        .job("rectification ledger back-fill", move |_shutdown| async move {
            ledger::backfill(&ledger_pool, &ledger_schema).await?;
            Ok(())
        })
        .job("sealing hand-outs written in clear", move |shutdown| async move {
            legacy::run(legacy_sealer, legacy::RETRY_AFTER, shutdown).await;
            Ok(())
        })
        .finish(issuance))
}

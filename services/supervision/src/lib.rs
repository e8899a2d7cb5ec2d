#![forbid(unsafe_code)]
//! The supervision service (督查): the supervision office's own records
//! beside the cases, in its own schema and streams (ADR 0037) —
//! consultations (`consultation-<id>`, 咨询登记) recorded by clerks, hotline
//! operators (clerks at the hotline desk) and officers, and opinions,
//! suggestions and complaints (`opinion-<id>`) from every channel, assigned,
//! answered and closed within a working-day limit per kind, escalated once
//! when overdue ([`escalation`]), with return visits. Contact data is sealed
//! apart from the events ([`contacts`]). Every event goes out through the
//! outbox, case-level. The counts per department, package and person feed
//! the monthly reports ([`reports`], `report-<id>` per department and
//! month, ADR 0039), served as `ReportService` on the same port, with the
//! case figures asked of tracking and the deadline sweep flagging the late
//! ones. The assessment of departments and staff ([`assessments`],
//! `AssessmentService`) scores their period from tracking's case items and
//! these records (ADR 0040).

pub mod assessments;
pub mod catalog;
pub mod commands;
pub mod config;
pub mod contacts;
pub mod escalation;
pub mod grpc;
pub mod repo;
pub mod reports;
pub mod schema;

use std::sync::Arc;

use chrono::NaiveDate;
use yiciban_commands::CommandRunner;
use yiciban_platform::Clock;
use yiciban_platform::calendar::LiveCalendar;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_privacy::DataKeys;
use yiciban_proto::supervision::v1::assessment_service_server::AssessmentServiceServer;
use yiciban_proto::supervision::v1::report_service_server::ReportServiceServer;
use yiciban_proto::supervision::v1::supervision_service_server::SupervisionServiceServer;

pub use catalog::{Catalog, GrpcCatalog, InMemoryCatalog};
pub use config::{Limits, SupervisionConfig};
pub use reports::figures::{GrpcStatistics, InMemoryStatistics, Statistics};

/// The subject recorded on the sweep's escalations and erasures.
pub const SWEEPER: &str = "supervision-sweeper";

/// The service's shared state, handed to every RPC and the sweep.
#[derive(Debug)]
pub struct Supervision {
    /// The consultation streams and rows.
    pub consultations: commands::ConsultationRunner,
    /// The opinion streams and rows.
    pub opinions: commands::OpinionRunner,
    /// The monthly report streams and rows.
    pub reports: reports::ReportRunner,
    /// Tracking's monthly statistics (a report's case figures).
    pub statistics: Arc<dyn Statistics>,
    /// The working-day calendar.
    pub calendar: Arc<LiveCalendar>,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
    /// The catalog (packages and their lead departments).
    pub catalog: Arc<dyn Catalog>,
    /// Working days per opinion kind.
    pub limits: Limits,
    /// The first month whose report is owed (`YICIBAN_REPORTS_FROM`).
    pub reports_from: Option<yiciban_domain::reporting::ReportPeriod>,
    /// The department a consultation without a package counts for when
    /// the recorder's token names none.
    pub window_department: String,
    /// Calendar days contact data is kept.
    pub contact_retention_days: u32,
    /// The data keys sealing contact data (in this schema).
    pub keys: DataKeys,
    /// Where reads of contact data in clear are recorded (this schema).
    pub read_log: yiciban_platform::read_log::ReadLog,
    /// The scoring rules and the assessments.
    pub assessments: assessments::Assessments,
}

impl Supervision {
    /// The schema the service owns.
    pub fn schema(&self) -> &str {
        self.opinions.store().schema()
    }

    /// The service's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.opinions.store().pool()
    }

    /// Today in China, from the injected clock.
    pub fn today(&self) -> NaiveDate {
        yiciban_calendar::date_in_china(self.clock.now())
    }

    /// The department's name in the catalog; empty when the catalog does
    /// not know it or cannot be asked (a name is not worth a refusal).
    pub async fn department_name(&self, code: &str) -> String {
        match self.catalog.departments().await {
            Ok(departments) => departments.into_iter().find(|(c, _)| c == code).map(|(_, n)| n).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// `n` working days after `from`: an opinion's last day to be answered.
    pub fn working_days_after(&self, from: NaiveDate, n: u32) -> NaiveDate {
        self.calendar.internal_date("opinion", from, n)
    }
}

/// A built supervision service, bound to its port, not yet serving.
pub type App = Service<Supervision>;

/// Connects, migrates, and binds: everything but serving. The catalog is
/// intake's ([`GrpcCatalog`]), the statistics tracking's
/// ([`GrpcStatistics`]).
pub async fn build(config: SupervisionConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "supervision").await?;
    build_with(config, clock, pool, js, None).await
}

/// What the service asks of other services; each `None` is the real one
/// over gRPC (intake's catalog, tracking's statistics). Tests hand in
/// in-memory ones; Postgres and NATS stay real.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    /// The catalog.
    pub catalog: Option<Arc<dyn Catalog>>,
    /// Tracking's monthly statistics.
    pub statistics: Option<Arc<dyn Statistics>>,
    /// Tracking's case items of an assessment.
    pub items: Option<Arc<dyn assessments::items::CaseItems>>,
}

/// Like [`build`] with connections made by the caller (the dev stack,
/// tests), and the catalog given (tests hand in an [`InMemoryCatalog`];
/// Postgres and NATS stay real) or else intake's.
pub async fn build_with(
    config: SupervisionConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
    catalog: Option<Arc<dyn Catalog>>,
) -> anyhow::Result<App> {
    build_with_peers(config, clock, pool, js, Peers { catalog, statistics: None, items: None }).await
}

/// Like [`build_with`] with every peer given or real.
pub async fn build_with_peers(
    config: SupervisionConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
    peers: Peers,
) -> anyhow::Result<App> {
    let mut shell =
        ServiceBuilder::bind("supervision", &config.common, pool, js).await?.audit_log(&config.schema).await?;
    let store = shell
        .event_store(
            &config.schema,
            &[schema::SUPERVISION, yiciban_privacy::DATA_KEYS, schema::REPORTS, schema::ASSESSMENTS],
        )
        .await?;
    let catalog: Arc<dyn Catalog> = match peers.catalog {
        Some(catalog) => catalog,
        None => Arc::new(GrpcCatalog::new(shell.calls("intake", &config.intake_url)?)),
    };
    let statistics: Arc<dyn Statistics> = match peers.statistics {
        Some(statistics) => statistics,
        None => Arc::new(GrpcStatistics::new(shell.calls("tracking", &config.tracking_url)?)),
    };
    let items: Arc<dyn assessments::items::CaseItems> = match peers.items {
        Some(items) => items,
        None => Arc::new(assessments::items::GrpcTracking::new(shell.calls("tracking", &config.tracking_url)?)),
    };
    let assessments = assessments::Assessments {
        rules: CommandRunner::new(store.clone(), assessments::store::RulesCodec, clock.clone())
            .with_rows(assessments::store::RulesRows { schema: store.schema().to_owned() }),
        runs: CommandRunner::new(store.clone(), assessments::store::AssessmentCodec, clock.clone())
            .with_rows(assessments::store::AssessmentRows { schema: store.schema().to_owned() }),
        items,
        reports_from: config.reports_from,
    };
    let calendar = shell.follow_calendar(Some(&config.intake_url), clock.clone())?;
    let keys =
        DataKeys::new(store.pool().clone(), store.schema(), config.privacy.keks.clone(), config.privacy.algorithm);
    let consultations = CommandRunner::new(store.clone(), commands::ConsultationCodec, clock.clone())
        .with_rows(commands::ConsultationRows { schema: store.schema().to_owned(), keys: keys.clone() });
    let opinions = CommandRunner::new(store.clone(), commands::OpinionCodec, clock.clone())
        .with_rows(commands::OpinionRows { schema: store.schema().to_owned(), keys: keys.clone() });
    let reports = CommandRunner::new(store.clone(), reports::ReportCodec, clock.clone())
        .with_rows(reports::ReportRows { schema: store.schema().to_owned() });
    let state = Arc::new(Supervision {
        consultations,
        opinions,
        reports,
        statistics,
        calendar,
        clock,
        catalog,
        limits: config.limits,
        reports_from: config.reports_from,
        window_department: config.window_department,
        contact_retention_days: config.contact_retention_days,
        keys,
        read_log: yiciban_platform::read_log::ReadLog::new("supervision", store.pool().clone(), store.schema()),
        assessments,
    });
    let sweeper = state.clone();
    let every = config.escalation_every;
    Ok(shell
        .grpc(SupervisionServiceServer::new(grpc::SupervisionApi::new(state.clone())))
        .grpc(ReportServiceServer::new(grpc::ReportApi::new(state.clone())))
        .grpc(AssessmentServiceServer::new(grpc::assessments::AssessmentApi::new(state.clone())))
        .job("escalation sweep", move |shutdown| async move {
            escalation::run(sweeper, every, shutdown).await;
            Ok(())
        })
        .finish(state))
}

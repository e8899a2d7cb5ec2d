#![forbid(unsafe_code)]
//! The intake service (一次告知、一套表单、一次受理): the catalog and its
//! guides, and the one window where an application is submitted once and
//! decided once — accepted, accepted with deficiency, or not accepted with
//! every reason. It owns the case's application stream (`case-<uuid>`) in its
//! own schema and publishes through the outbox relay.

pub mod announce;
pub mod calendar;
pub mod catalog_drafts;
pub mod catalogs;
pub mod commands;
pub mod config;
pub mod credit;
pub mod download;
pub mod endings;
pub mod erasure;
pub mod expiry;
pub mod grpc;
pub mod legacy;
pub mod notes;
pub mod process_manager;
pub mod repo;
pub mod restore;
pub mod retention;
pub mod schema;
pub mod upload;

use std::sync::Arc;

use anyhow::Context as _;
use yiciban_eventstore::Consumer;
use yiciban_platform::calendar::LiveCalendar;
use yiciban_platform::read_log::ReadLog;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_platform::{Clock, IdentityKey};
use yiciban_proto::catalog::v1::calendar_service_server::CalendarServiceServer;
use yiciban_proto::catalog::v1::catalog_publishing_service_server::CatalogPublishingServiceServer;
use yiciban_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use yiciban_proto::intake::v1::intake_service_server::IntakeServiceServer;
use yiciban_proto::intake::v1::material_service_server::MaterialServiceServer;
use yiciban_proto::intake::v1::privacy_service_server::PrivacyServiceServer;
use yiciban_proto::intake::{MAX_CHUNK_MESSAGE_BYTES, MAX_REQUEST_BYTES};
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

pub use config::IntakeConfig;

/// The service's shared state, handed to every RPC.
#[derive(Debug)]
pub struct Intake {
    /// The applications and their case index, through the shared command path.
    pub applications: commands::Applications,
    /// The catalog version in force for new cases.
    pub catalog: Arc<catalogs::LiveCatalog>,
    /// The working-day calendar in force (seed plus publications).
    pub calendar: Arc<LiveCalendar>,
    pub clock: Arc<dyn Clock>,
    pub max_material_bytes: u64,
    pub upload_quota: UploadQuota,
    /// The bytes of chunked uploads in flight this process may hold.
    pub upload_buffers: grpc::UploadBuffers,
    pub deficiency_days: u32,
    /// The department-task service, asked about open supplement requests.
    pub tasks: process_manager::TasksClient,
    /// The key of the applicants' lookup values (case index, credit list).
    pub identity_key: IdentityKey,
    /// Where answers showing personal data in clear are recorded.
    pub reads: ReadLog,
}

impl Intake {
    pub fn schema(&self) -> &str {
        self.applications.store().schema()
    }

    /// The service's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.applications.store().pool()
    }
}

/// The bytes of new material content one uploader may store in 24 hours
/// (content uploaded before, by anyone, does not count again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    /// An applicant uploading online.
    pub applicant: u64,
    /// A clerk uploading at the window, for many applicants.
    pub staff: u64,
}

/// A built intake service, bound to its port, not yet serving.
pub type App = Service<Intake>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: IntakeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "intake").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: IntakeConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    let mut shell = ServiceBuilder::bind("intake", &config.common, pool, js).await?.audit_log(&config.schema).await?;
    shell.recognise_applicants(config.identity_key.clone());
    let store = shell
        .event_store(&config.schema, &[schema::INTAKE, yiciban_privacy::DATA_KEYS, legacy::LEGACY_SEALING])
        .await?;
    repo::seed_officers(shell.pool(), &config.schema, &config.officers).await.context("seeding the officers")?;
    let tasks = TaskServiceClient::new(shell.calls("tasks", &config.tasks_url)?);
    let routing = RoutingServiceClient::new(shell.calls("routing", &config.routing_url)?);
    let handoff = Consumer::process_manager(
        Arc::new(process_manager::IntakeHandoff::new(routing, tasks.clone())),
        &store,
        shell.subjects(),
        shell.jetstream().clone(),
    )?;
    let (in_force, in_force_catalog) =
        catalogs::in_force(shell.pool(), store.schema()).await.context("reading the catalog version in force")?;
    let catalog = Arc::new(catalogs::LiveCatalog::new(in_force.seq, in_force_catalog));
    let calendar = Arc::new(LiveCalendar::seed("intake", config.common.calendar));
    let published = calendar::load(shell.pool(), store.schema()).await.context("reading the published calendar")?;
    calendar.install(published.revision, published.calendar());
    let calendar_source = calendar::FromDatabase { pool: shell.pool().clone(), schema: store.schema().to_owned() };
    let rows = commands::CaseIndexRows {
        schema: store.schema().to_owned(),
        identity_key: config.identity_key.clone(),
        catalog: catalog.clone(),
    };
    let data_keys = yiciban_privacy::DataKeys::new(
        shell.pool().clone(),
        store.schema(),
        config.privacy.keks.clone(),
        config.privacy.algorithm,
    );
    let codec = commands::IntakeCodec { data_keys, identity_key: config.identity_key.clone() };
    let applications = yiciban_commands::CommandRunner::new(store, codec, clock.clone()).with_rows(rows);
    let intake = Arc::new(Intake {
        applications,
        catalog: catalog.clone(),
        calendar: calendar.clone(),
        clock,
        max_material_bytes: config.max_material_bytes,
        upload_quota: config.upload_quota,
        upload_buffers: grpc::UploadBuffers::new(config.upload_buffer_bytes, config.common.grpc_limits.retry_after),
        deficiency_days: config.deficiency_days,
        tasks,
        identity_key: config.identity_key,
        reads: ReadLog::new("intake", shell.pool().clone(), &config.schema),
    });
    // Before serving: nothing of a person whose erasure a restore undid
    // may be read again (ADR 0020, 0024).
    restore::reapply(&intake).await.context("erasing again what a point-in-time restore undid")?;
    let sweeper = intake.clone();
    let legacy_sealer = intake.clone();
    let (shell_pool, follow_clock) = (calendar_source.pool.clone(), intake.clock.clone());
    let (catalog_schema, refresh) = (calendar_source.schema.clone(), config.common.calendar.refresh);
    let announcer = Arc::new(announce::Announcer::new(
        shell_pool.clone(),
        catalog_schema.clone(),
        shell.jetstream().clone(),
        shell.subjects().clone(),
        config.common.stream_settings(),
    ));
    let every = config.expiry_scan;
    let (retainer, retention_every, retention_health) = (intake.clone(), config.retention_scan, shell.health());
    Ok(shell
        // Each service reads messages up to what its largest legitimate
        // request needs: files come in chunks (ADR 0018).
        .grpc(
            IntakeServiceServer::new(grpc::IntakeApi::new(intake.clone())).max_decoding_message_size(MAX_REQUEST_BYTES),
        )
        .grpc(
            MaterialServiceServer::new(grpc::MaterialApi::new(intake.clone()))
                .max_decoding_message_size(MAX_CHUNK_MESSAGE_BYTES),
        )
        .grpc(PrivacyServiceServer::new(grpc::PrivacyApi::new(intake.clone())))
        .grpc(CatalogServiceServer::new(grpc::CatalogApi::new(catalog.clone())))
        .grpc(
            CatalogPublishingServiceServer::new(grpc::PublishingApi::new(
                shell_pool.clone(),
                calendar_source.schema.clone(),
                catalog.clone(),
                announcer.clone(),
            ))
            .max_decoding_message_size(grpc::MAX_FILE_BYTES + (1 << 20)),
        )
        .grpc(CalendarServiceServer::new(grpc::CalendarApi::new(
            shell_pool.clone(),
            calendar_source.schema.clone(),
            calendar.clone(),
            announcer.clone(),
        )))
        .consumer(handoff)
        .job("announcements", move |shutdown| async move {
            announcer.run(refresh, shutdown).await;
            Ok(())
        })
        .job("catalog refresh", move |shutdown| async move {
            catalog.follow(shell_pool, catalog_schema, refresh, shutdown).await;
            Ok(())
        })
        .job("calendar refresh", move |shutdown| async move {
            yiciban_platform::calendar::follow(calendar, calendar_source, follow_clock, shutdown).await;
            Ok(())
        })
        .job("deficiency-expiry sweep", move |shutdown| async move {
            expiry::run(sweeper, every, shutdown).await;
            Ok(())
        })
        .job("retention erasure", move |shutdown| async move {
            retention::run(retainer, retention_every, retention_health, shutdown).await;
            Ok(())
        })
        .job("sealing applications written in clear", move |shutdown| async move {
            legacy::run(legacy_sealer, every, shutdown).await;
            Ok(())
        })
        .finish(intake))
}

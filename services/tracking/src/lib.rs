#![forbid(unsafe_code)]
//! The tracking service (专人全流程跟踪): one durable consumer,
//! `tracking-projection`, applies every case event of every service to read
//! models in its own schema — the case summary, the task rows of the queues
//! and the overdue board, and the full timeline — idempotently, in order per
//! stream, filling gaps from the owning stores (read only). TrackingService
//! answers the queries over them with per-role authorization, the monthly
//! statistics (computed from the case read models) and their CSV, and
//! rebuilds of the read models beside the live ones with an atomic
//! switch-over (see [`rebuild`]). Staff read these through the workbench
//! (its own service, ADR 0028), which calls TrackingService with each
//! person's token.

pub mod config;
pub mod grpc;
pub mod names;
pub mod personal;
pub mod projection;
pub mod projector;
pub mod rebuild;
pub mod repo;
pub mod schema;

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use yiciban_domain::catalog::Catalog;
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{
    Consumer, ConsumerSettings, EVENT_STORE, EventStore, Feed, GapSource, StoreGaps, Subjects, migrate,
};
use yiciban_platform::calendar::LiveCalendar;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_platform::{Clock, IdentityKey};
use yiciban_privacy::DataKeys;
use yiciban_proto::tracking::v1::tracking_service_server::TrackingServiceServer;

pub use config::TrackingConfig;
pub use projection::Names;
pub use projector::{CONSUMER, Projector};
pub use rebuild::Rebuilder;
pub use repo::Repo;

/// The service's shared state, handed to every RPC.
pub struct Tracking {
    /// The read models.
    pub repo: Repo,
    /// The working-day calendar.
    pub calendar: Arc<LiveCalendar>,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
    /// Rebuilds of the read models.
    pub rebuilder: Arc<Rebuilder>,
    /// Catalog names (statistics labels).
    pub names: Arc<names::LiveNames>,
    /// Cancelled at shutdown: running rebuilds stop with it.
    pub shutdown: CancellationToken,
    identity_key: IdentityKey,
    projection: Projection,
}

/// What the `tracking-projection` consumer is made of.
struct Projection {
    settings: ConsumerSettings,
    pool: sqlx::PgPool,
    schema: String,
    js: async_nats::jetstream::Context,
    projector: Arc<Projector>,
    gaps: Arc<dyn GapSource>,
}

impl std::fmt::Debug for Tracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracking").field("repo", &self.repo).finish_non_exhaustive()
    }
}

impl Tracking {
    /// The key of the applicants' lookup values.
    pub(crate) fn identity_key(&self) -> &IdentityKey {
        &self.identity_key
    }

    /// A handle on the `tracking-projection` consumer (same name, checkpoints
    /// and handler as the one the service runs): tests and operators drive
    /// [`Consumer::process`] and the poison replays with it.
    pub fn consumer(&self) -> anyhow::Result<Consumer<Projector>> {
        let p = &self.projection;
        Ok(Consumer::new(
            p.settings.clone(),
            p.pool.clone(),
            &p.schema,
            p.js.clone(),
            p.projector.clone(),
            p.gaps.clone(),
        )?)
    }
}

/// A built tracking service, bound to its port, not yet serving.
pub type App = Service<Tracking>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: TrackingConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "tracking").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: TrackingConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    migrate(&pool, &config.schema, &[EVENT_STORE, schema::TRACKING, schema::CONTROL])
        .await
        .context("migrating the tracking schema")?;
    // After a rebuild the active read models are in another schema: keep it
    // migrated too.
    let active: String = sqlx::query_scalar(schema_sql(&config.schema, "SELECT active FROM {schema}.read_model"))
        .fetch_one(&pool)
        .await
        .context("reading the active read model")?;
    if active != config.schema {
        migrate(&pool, &active, &[EVENT_STORE, schema::TRACKING]).await.context("migrating the active read model")?;
    }
    let subjects = Subjects::new(&config.common.nats_prefix).map_err(anyhow::Error::msg)?;
    // The case-event stream is created by whichever service starts first.
    js.get_or_create_stream(config.common.stream_settings().config(&subjects))
        .await
        .context("creating the case-event stream")?;
    let stores = config
        .source_schemas
        .iter()
        .map(|(source, schema)| EventStore::new(pool.clone(), schema, source))
        .collect::<Result<Vec<_>, _>>()
        .context("naming the owning stores")?;
    let mut shell = ServiceBuilder::bind("tracking", &config.common, pool.clone(), js.clone())
        .await?
        .audit_log(&config.schema)
        .await?;
    shell.recognise_applicants(config.identity_key.clone());
    let catalog = Catalog::seed().context("loading the catalog")?;
    let intake = config.intake_url.as_deref().map(|url| shell.calls("intake", url)).transpose()?;
    let names = Arc::new(names::LiveNames::new(&catalog, intake));
    let gaps: Arc<dyn GapSource> = Arc::new(StoreGaps::new(stores.clone()));
    // Intake's data keys, read only: tracking opens an application's
    // personal part to keep a masked display name (ADR 0024).
    let intake_schema = config.source_schemas.first().map(|(_, schema)| schema.as_str()).unwrap_or("intake");
    let data_keys = DataKeys::new(pool.clone(), intake_schema, config.privacy.keks.clone(), config.privacy.algorithm);
    let personal = personal::PersonalKeys::new(data_keys, config.identity_key.clone());
    let projector =
        Arc::new(Projector::new(&config.schema, names.clone(), config.identity_key.clone(), gaps.clone(), personal));
    let rebuilder = Arc::new(Rebuilder::new(pool.clone(), projector.clone(), stores, config.rebuild_pause));
    let settings = ConsumerSettings {
        name: CONSUMER.into(),
        stream: subjects.stream_name(),
        feed: Feed::Partitioned { subjects: subjects.clone(), source: None },
        concurrency: 16,
        ack_wait: ConsumerSettings::DEFAULT_ACK_WAIT,
        max_deliveries: ConsumerSettings::DEFAULT_MAX_DELIVERIES,
    };
    let tracking = Arc::new(Tracking {
        repo: Repo::new(pool.clone(), &config.schema),
        calendar: shell.follow_calendar(config.intake_url.as_deref(), clock.clone())?,
        clock,
        rebuilder,
        names,
        shutdown: CancellationToken::new(),
        identity_key: config.identity_key,
        projection: Projection { settings, pool, schema: config.schema, js, projector, gaps },
    });
    let consumer = tracking.consumer()?;
    let rebuilds = tracking.clone();
    let (learner, retry_every) = (tracking.names.clone(), config.common.calendar.refresh);
    let shell = shell
        .grpc(TrackingServiceServer::new(grpc::TrackingApi::new(tracking.clone())))
        .consumer(consumer)
        .job("catalog names", move |shutdown| async move {
            // The version in force at start (asked until intake answers); the
            // others as their cases come.
            while !learner.learn("").await {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(retry_every) => {}
                }
            }
            Ok(())
        })
        .job("rebuilds", move |shutdown| async move {
            // A rebuild left running by a previous process carries on; the
            // service's shutdown stops every rebuild.
            let stop = rebuilds.shutdown.clone();
            tokio::select! {
                result = rebuilds.rebuilder.clone().resume() => if let Err(e) = result {
                    tracing::error!(error = %e, "resuming a rebuild failed");
                },
                () = stop.cancelled() => {}
                () = shutdown.cancelled() => {}
            }
            shutdown.cancelled().await;
            stop.cancel();
            Ok(())
        });
    Ok(shell.finish(tracking))
}

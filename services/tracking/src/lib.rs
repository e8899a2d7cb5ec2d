#![forbid(unsafe_code)]
//! The tracking service (专人全流程跟踪): one durable consumer,
//! `tracking-projection`, applies every case event of every service to read
//! models in its own schema — the case summary, the task rows of the queues
//! and the overdue board, and the full timeline — idempotently, in order per
//! stream, filling gaps from the owning stores (read only). TrackingService
//! answers the queries over them with per-role authorization, the monthly
//! statistics (computed from the case read models) and their CSV, and
//! rebuilds of the read models beside the live ones with an atomic
//! switch-over (see [`rebuild`]). The staff console (see [`console`]) is
//! served on its own HTTP port over the same queries and access rules.

pub mod config;
pub mod console;
pub mod grpc;
pub mod projection;
pub mod projector;
pub mod rebuild;
pub mod repo;
pub mod schema;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use yiciban_calendar::WorkingCalendar;
use yiciban_domain::catalog::Catalog;
use yiciban_eventstore::{
    Consumer, ConsumerSettings, EVENT_STORE, EventStore, GapSource, StoreGaps, Subjects, migrate,
};
use yiciban_platform::{Authenticator, Clock};
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
    pub calendar: Arc<WorkingCalendar>,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
    /// Rebuilds of the read models.
    pub rebuilder: Arc<Rebuilder>,
    /// Catalog names (statistics labels).
    pub names: Arc<Names>,
    /// Cancelled at shutdown: running rebuilds stop with it.
    pub shutdown: CancellationToken,
    identity_salt: SecretString,
}

impl std::fmt::Debug for Tracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracking").field("repo", &self.repo).finish_non_exhaustive()
    }
}

impl Tracking {
    /// The salt of the applicant identity hash.
    pub(crate) fn identity_salt(&self) -> &[u8] {
        self.identity_salt.expose_secret().as_bytes()
    }
}

/// A built tracking service, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    console: Option<TcpListener>,
    tracking: Arc<Tracking>,
    auth: Authenticator,
    metrics_addr: Option<SocketAddr>,
    pool: sqlx::PgPool,
    schema: String,
    js: async_nats::jetstream::Context,
    settings: ConsumerSettings,
    projector: Arc<Projector>,
    gaps: Arc<dyn GapSource>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("addr", &self.listener.local_addr().ok()).finish()
    }
}

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: TrackingConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let pool = yiciban_platform::runtime::connect_db(&config.common).await?;
    let nats = yiciban_platform::runtime::connect_nats(&config.common, "tracking").await?;
    build_with(config, clock, pool, async_nats::jetstream::new(nats)).await
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
    let active: String = sqlx::query_scalar(&format!("SELECT active FROM {}.read_model", config.schema))
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
    let catalog = Catalog::seed().context("loading the catalog")?;
    let names = Arc::new(Names::from_catalog(&catalog));
    let gaps: Arc<dyn GapSource> = Arc::new(StoreGaps::new(stores.clone()));
    let projector = Arc::new(Projector::new(&config.schema, names.clone(), config.identity_salt.clone(), gaps.clone()));
    let rebuilder = Arc::new(Rebuilder::new(pool.clone(), projector.clone(), stores, config.rebuild_pause));
    let settings = ConsumerSettings {
        name: CONSUMER.into(),
        stream: subjects.stream_name(),
        filter_subject: subjects.all_events(),
        concurrency: 16,
        ack_wait: std::time::Duration::from_secs(10),
    };
    let listener = TcpListener::bind(config.common.grpc_addr)
        .await
        .with_context(|| format!("binding the gRPC port {}", config.common.grpc_addr))?;
    let console = match config.console_addr {
        Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| format!("binding the console port {addr}"))?),
        None => None,
    };
    Ok(App {
        listener,
        console,
        tracking: Arc::new(Tracking {
            repo: Repo::new(pool.clone(), &config.schema),
            calendar: Arc::new(WorkingCalendar::china()),
            clock,
            rebuilder,
            names,
            shutdown: CancellationToken::new(),
            identity_salt: config.identity_salt,
        }),
        auth: Authenticator::new(&config.common.jwt_secret),
        metrics_addr: config.common.metrics_addr,
        pool,
        schema: config.schema,
        js,
        settings,
        projector,
        gaps,
    })
}

impl App {
    /// The bound address (port 0 in tests becomes a real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The bound address of the staff console, if it is served.
    pub fn console_addr(&self) -> Option<SocketAddr> {
        self.console.as_ref().map(|l| l.local_addr().expect("bound listener"))
    }

    /// The service state.
    pub fn tracking(&self) -> Arc<Tracking> {
        self.tracking.clone()
    }

    /// A handle on the `tracking-projection` consumer (same name, checkpoints
    /// and handler as the one [`App::run_until_stopped`] runs): tests and
    /// operators drive [`Consumer::process`] and the poison replays with it.
    pub fn consumer(&self) -> anyhow::Result<Consumer<Projector>> {
        Ok(Consumer::new(
            self.settings.clone(),
            self.pool.clone(),
            &self.schema,
            self.js.clone(),
            self.projector.clone(),
            self.gaps.clone(),
        )?)
    }

    /// Serves gRPC and runs the projection consumer until `shutdown`, then
    /// drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health, health_service, reflection) = yiciban_platform::grpc::standard_services()?;
        if let Some(addr) = self.metrics_addr {
            yiciban_metrics::start(addr, shutdown.clone())
                .await
                .with_context(|| format!("binding the metrics port {addr}"))?;
        }
        let _pool_metrics = yiciban_metrics::observe_pool("tracking", self.pool.clone());
        health.set_serving::<TrackingServiceServer<grpc::TrackingApi>>().await;
        let consumer = self.consumer()?;
        let auth = self.auth.clone();
        let api = TrackingServiceServer::with_interceptor(grpc::TrackingApi::new(self.tracking.clone()), move |r| {
            auth.intercept(r)
        });
        let router =
            yiciban_platform::grpc::server().add_service(health_service).add_service(reflection).add_service(api);
        let projection = tokio::spawn(consumer.run(shutdown.clone()));
        // A rebuild left running by a previous process carries on.
        let rebuilder = self.tracking.rebuilder.clone();
        let rebuilds = self.tracking.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = rebuilder.resume() => if let Err(e) = result {
                    tracing::error!(error = %e, "resuming a rebuild failed");
                },
                () = rebuilds.cancelled() => {}
            }
        });
        let stop_rebuilds = self.tracking.shutdown.clone();
        let outer = shutdown.clone();
        tokio::spawn(async move {
            outer.cancelled().await;
            stop_rebuilds.cancel();
        });
        let console = self.console.map(|listener| {
            let router = console::router(self.tracking.clone(), self.auth.clone());
            let stop = shutdown.clone();
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "staff console serving at http://{addr}/");
            }
            tokio::spawn(async move {
                axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await }).await
            })
        });
        tracing::info!(addr = %self.listener.local_addr()?, "tracking serving");
        yiciban_platform::grpc::serve(router, self.listener, shutdown.clone()).await?;
        shutdown.cancel();
        projection.await?.context("tracking projection")?;
        if let Some(console) = console {
            console.await?.context("staff console")?;
        }
        Ok(())
    }
}

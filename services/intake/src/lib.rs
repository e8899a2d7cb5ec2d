#![forbid(unsafe_code)]
//! The intake service (一次告知、一套表单、一次受理): the catalog and its
//! guides, and the one window where an application is submitted once and
//! decided once — accepted, accepted with deficiency, or not accepted with
//! every reason. It owns the case's application stream (`case-<uuid>`) in its
//! own schema and publishes through the outbox relay.

pub mod config;
pub mod expiry;
pub mod grpc;
pub mod handoff;
pub mod repo;
pub mod schema;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use yiciban_calendar::WorkingCalendar;
use yiciban_domain::catalog::Catalog;
use yiciban_eventstore::{Consumer, EVENT_STORE, EventStore, Relay, RelaySettings, Subjects, migrate};
use yiciban_platform::grpc::{ClientAuth, lazy_channel};
use yiciban_platform::{Authenticator, Clock};
use yiciban_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use yiciban_proto::intake::v1::intake_service_server::IntakeServiceServer;
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

pub use config::IntakeConfig;

/// The service's shared state, handed to every RPC.
#[derive(Debug)]
pub struct Intake {
    pub store: EventStore,
    pub catalog: Arc<Catalog>,
    pub calendar: Arc<WorkingCalendar>,
    pub clock: Arc<dyn Clock>,
    pub max_material_bytes: u64,
    pub deficiency_days: u32,
    /// The department-task service, asked about open supplement requests.
    pub tasks: handoff::TasksClient,
}

impl Intake {
    pub fn schema(&self) -> &str {
        self.store.schema()
    }
}

/// A built intake service, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    intake: Arc<Intake>,
    relay: Relay,
    handoff: Consumer<handoff::Handoff>,
    auth: Authenticator,
    metrics_addr: Option<SocketAddr>,
    expiry_scan: std::time::Duration,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("addr", &self.listener.local_addr().ok()).finish()
    }
}

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: IntakeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let pool = yiciban_platform::runtime::connect_db(&config.common).await?;
    let nats = yiciban_platform::runtime::connect_nats(&config.common, "intake").await?;
    build_with(config, clock, pool, async_nats::jetstream::new(nats)).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: IntakeConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    migrate(&pool, &config.schema, &[EVENT_STORE, schema::INTAKE]).await.context("migrating the intake schema")?;
    repo::seed_officers(&pool, &config.schema, &config.officers).await.context("seeding the officers")?;
    let store = EventStore::new(pool.clone(), &config.schema, "intake")?;
    let subjects = Subjects::new(&config.common.nats_prefix).map_err(anyhow::Error::msg)?;
    let relay = Relay::new(
        store.clone(),
        js.clone(),
        subjects.clone(),
        RelaySettings { stream: config.common.stream_settings(), ..Default::default() },
    );
    relay.ensure_stream().await.context("creating the case-event stream")?;
    let auth = Authenticator::new(&config.common.jwt_secret);
    let tasks = TaskServiceClient::with_interceptor(
        lazy_channel(&config.tasks_url)?,
        ClientAuth::service(auth.clone(), "intake"),
    );
    let routing = RoutingServiceClient::with_interceptor(
        lazy_channel(&config.routing_url)?,
        ClientAuth::service(auth.clone(), "intake"),
    );
    let handoff = Consumer::of_own_events(
        handoff::CONSUMER,
        &store,
        &subjects,
        js,
        Arc::new(handoff::Handoff::new(routing, tasks.clone())),
    )?;
    let catalog = Catalog::seed().context("loading the seed catalog")?;
    let listener = TcpListener::bind(config.common.grpc_addr)
        .await
        .with_context(|| format!("binding the gRPC port {}", config.common.grpc_addr))?;
    Ok(App {
        listener,
        intake: Arc::new(Intake {
            store,
            catalog: Arc::new(catalog),
            calendar: Arc::new(WorkingCalendar::china()),
            clock,
            max_material_bytes: config.max_material_bytes,
            deficiency_days: config.deficiency_days,
            tasks,
        }),
        relay,
        handoff,
        auth,
        metrics_addr: config.common.metrics_addr,
        expiry_scan: config.expiry_scan,
    })
}

impl App {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The service state (tests drive the expiry sweep through it).
    pub fn intake(&self) -> Arc<Intake> {
        self.intake.clone()
    }

    /// Serves gRPC, runs the relay, the intake → routing process manager and
    /// the deficiency-expiry sweep until
    /// `shutdown`, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health, health_service, reflection) = yiciban_platform::grpc::standard_services()?;
        if let Some(addr) = self.metrics_addr {
            yiciban_metrics::start(addr, shutdown.clone())
                .await
                .with_context(|| format!("binding the metrics port {addr}"))?;
        }
        let _pool_metrics = yiciban_metrics::observe_pool("intake", self.intake.store.pool().clone());
        health.set_serving::<IntakeServiceServer<grpc::IntakeApi>>().await;
        health.set_serving::<CatalogServiceServer<grpc::CatalogApi>>().await;
        let auth = self.auth.clone();
        // Room for one material of the maximum size plus the envelope.
        let max_message = (self.intake.max_material_bytes as usize).saturating_add(1 << 20);
        let intake_api = tonic::service::interceptor::InterceptedService::new(
            IntakeServiceServer::new(grpc::IntakeApi::new(self.intake.clone())).max_decoding_message_size(max_message),
            move |r| auth.intercept(r),
        );
        let auth = self.auth.clone();
        let catalog_api =
            CatalogServiceServer::with_interceptor(grpc::CatalogApi::new(self.intake.catalog.clone()), move |r| {
                auth.intercept(r)
            });
        let router = yiciban_platform::grpc::server()
            .add_service(health_service)
            .add_service(reflection)
            .add_service(intake_api)
            .add_service(catalog_api);
        let relay = tokio::spawn(self.relay.clone().run(shutdown.clone()));
        let expiry = tokio::spawn(expiry::run(self.intake.clone(), self.expiry_scan, shutdown.clone()));
        let handoff = tokio::spawn(self.handoff.run(shutdown.clone()));
        tracing::info!(addr = %self.listener.local_addr()?, "intake serving");
        yiciban_platform::grpc::serve(router, self.listener, shutdown.clone()).await?;
        shutdown.cancel();
        relay.await?.context("outbox relay")?;
        expiry.await?;
        handoff.await?.context("intake → routing process manager")?;
        Ok(())
    }
}

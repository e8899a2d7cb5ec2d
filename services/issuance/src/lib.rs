#![forbid(unsafe_code)]
//! The issuance service (一窗出件): one stream per case (`issuance-<case
//! id>`) in its own schema. It prepares the final batch of a decided case
//! and early batches of results already approved, follows each batch to the
//! applicant (window pick-up with the collector's identity checked, or mail
//! with tracking and failed deliveries), closes the case (办结), and runs the
//! after-service loop: ratings (好差评), rectifications (整改) for the
//! responsible department, and reproducible return-visit sampling (回访).
//! Every event goes out through the outbox; those concerning one department
//! (rectifications, department ratings) on its subject.

pub mod commands;
pub mod config;
pub mod directory;
pub mod grpc;
pub mod pii;
pub mod repo;
pub mod sampling;
pub mod schema;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::NaiveDate;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use yiciban_calendar::{Share, WorkingCalendar};
use yiciban_domain::values::DepartmentCode;
use yiciban_eventstore::{EVENT_STORE, EventStore, Relay, RelaySettings, Subjects, migrate};
use yiciban_platform::{Authenticator, Clock};
use yiciban_proto::issuance::v1::issuance_service_server::IssuanceServiceServer;

pub use config::IssuanceConfig;
pub use directory::{ApplicantIdentity, CaseDirectory, CaseFacts, GrpcDirectory, InMemoryDirectory, TaskResult};

/// The service's shared state, handed to every RPC.
#[derive(Debug)]
pub struct Issuance {
    /// The issuance streams.
    pub store: EventStore,
    /// The working-day calendar.
    pub calendar: Arc<WorkingCalendar>,
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
    /// Key of the identity HMACs.
    pub pii_key: SecretString,
}

impl Issuance {
    /// The schema the service owns.
    pub fn schema(&self) -> &str {
        self.store.schema()
    }

    /// Today in China, from the injected clock.
    pub fn today(&self) -> NaiveDate {
        yiciban_calendar::date_in_china(self.clock.now())
    }

    /// `n` working days after `from` on the calendar.
    pub fn working_days_after(&self, from: NaiveDate, n: u32) -> NaiveDate {
        self.calendar.add_working_days_date(from, n).value
    }
}

/// A built issuance service, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    issuance: Arc<Issuance>,
    relay: Relay,
    auth: Authenticator,
    metrics_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("addr", &self.listener.local_addr().ok()).finish()
    }
}

/// Connects, migrates, and binds: everything but serving. Intake and the
/// task service are asked over gRPC ([`GrpcDirectory`]).
pub async fn build(config: IssuanceConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let pool = yiciban_platform::runtime::connect_db(&config.common).await?;
    let nats = yiciban_platform::runtime::connect_nats(&config.common, "issuance").await?;
    build_with(config, clock, pool, async_nats::jetstream::new(nats)).await
}

/// Like [`build`] with connections made by the caller (the dev stack).
pub async fn build_with(
    config: IssuanceConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    let auth = Authenticator::new(&config.common.jwt_secret);
    let directory = GrpcDirectory::new(&config.intake_url, &config.tasks_url, auth)
        .context("configuring the intake and task service clients")?;
    build_with_directory(config, clock, pool, js, Arc::new(directory)).await
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
    migrate(&pool, &config.schema, &[EVENT_STORE, schema::ISSUANCE]).await.context("migrating the issuance schema")?;
    let store = EventStore::new(pool, &config.schema, "issuance")?;
    let subjects = Subjects::new(&config.common.nats_prefix).map_err(anyhow::Error::msg)?;
    let relay = Relay::new(
        store.clone(),
        js,
        subjects,
        RelaySettings { stream: config.common.stream_settings(), ..Default::default() },
    );
    relay.ensure_stream().await.context("creating the case-event stream")?;
    let auth = Authenticator::new(&config.common.jwt_secret);
    let listener = TcpListener::bind(config.common.grpc_addr)
        .await
        .with_context(|| format!("binding the gRPC port {}", config.common.grpc_addr))?;
    Ok(App {
        listener,
        issuance: Arc::new(Issuance {
            store,
            calendar: Arc::new(WorkingCalendar::china()),
            clock,
            directory,
            rectification_days: config.rectification_days,
            return_visit_share: config.return_visit_share,
            window_department: config.window_department,
            pii_key: config.pii_key,
        }),
        relay,
        auth,
        metrics_addr: config.common.metrics_addr,
    })
}

impl App {
    /// The bound address (port 0 in tests becomes a real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The service state.
    pub fn issuance(&self) -> Arc<Issuance> {
        self.issuance.clone()
    }

    /// Serves gRPC and runs the outbox relay until `shutdown`, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health, health_service, reflection) = yiciban_platform::grpc::standard_services()?;
        if let Some(addr) = self.metrics_addr {
            yiciban_metrics::start(addr, shutdown.clone())
                .await
                .with_context(|| format!("binding the metrics port {addr}"))?;
        }
        let _pool_metrics = yiciban_metrics::observe_pool("issuance", self.issuance.store.pool().clone());
        health.set_serving::<IssuanceServiceServer<grpc::IssuanceApi>>().await;
        let auth = self.auth.clone();
        let api = IssuanceServiceServer::with_interceptor(grpc::IssuanceApi::new(self.issuance.clone()), move |r| {
            auth.intercept(r)
        });
        let router =
            yiciban_platform::grpc::server().add_service(health_service).add_service(reflection).add_service(api);
        let relay = tokio::spawn(self.relay.clone().run(shutdown.clone()));
        tracing::info!(addr = %self.listener.local_addr()?, "issuance serving");
        yiciban_platform::grpc::serve(router, self.listener, shutdown.clone()).await?;
        shutdown.cancel();
        relay.await?.context("outbox relay")?;
        Ok(())
    }
}

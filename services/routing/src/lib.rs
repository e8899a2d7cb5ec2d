#![forbid(unsafe_code)]
//! The routing service (一次联办、并联审批): plans an accepted case from its
//! package's step graph, dispatches the steps without unmet prerequisites to
//! their departments at once and in parallel, reacts to every task outcome
//! (dependents, supplements stopping the case clock, denials confirmed by the
//! lead department), decides the case and hands it to issuance. It owns the
//! plan stream (`plan-<case id>`) in its own schema, publishes through the
//! outbox relay, and runs its hand-offs to the task service and issuance.

pub mod commands;
pub mod config;
pub mod grpc;
pub mod handoff;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use yiciban_calendar::WorkingCalendar;
use yiciban_domain::catalog::Catalog;
use yiciban_eventstore::{Consumer, EVENT_STORE, EventStore, Relay, RelaySettings, Subjects, migrate};
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{Authenticator, Clock};
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_proto::routing::v1::routing_service_server::RoutingServiceServer;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

pub use config::RoutingConfig;

/// The service's shared state, handed to every RPC and the process manager.
#[derive(Debug)]
pub struct Routing {
    pub store: EventStore,
    pub catalog: Arc<Catalog>,
    pub calendar: Arc<WorkingCalendar>,
    pub clock: Arc<dyn Clock>,
    /// Working days from the decision to issue the documents.
    pub issue_days: u32,
}

/// A built routing service, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    routing: Arc<Routing>,
    relay: Relay,
    dispatcher: Consumer<handoff::Dispatcher>,
    auth: Authenticator,
    metrics_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("addr", &self.listener.local_addr().ok()).finish()
    }
}

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: RoutingConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let pool = yiciban_platform::runtime::connect_db(&config.common).await?;
    let nats = yiciban_platform::runtime::connect_nats(&config.common, "routing").await?;
    build_with(config, clock, pool, async_nats::jetstream::new(nats)).await
}

/// Like [`build`] with connections made by the caller (tests, the dev stack).
pub async fn build_with(
    config: RoutingConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    migrate(&pool, &config.schema, &[EVENT_STORE]).await.context("migrating the routing schema")?;
    let store = EventStore::new(pool.clone(), &config.schema, "routing")?;
    let subjects = Subjects::new(&config.common.nats_prefix).map_err(anyhow::Error::msg)?;
    let relay = Relay::new(
        store.clone(),
        js.clone(),
        subjects.clone(),
        RelaySettings { stream: config.common.stream_settings(), ..Default::default() },
    );
    relay.ensure_stream().await.context("creating the case-event stream")?;
    let catalog = Catalog::seed().context("loading the seed catalog")?;
    let auth = Authenticator::new(&config.common.jwt_secret);
    let routing = Arc::new(Routing {
        store: store.clone(),
        catalog: Arc::new(catalog),
        calendar: Arc::new(WorkingCalendar::china()),
        clock,
        issue_days: config.issue_days,
    });
    let tasks = TaskServiceClient::with_interceptor(
        yiciban_platform::grpc::lazy_channel(&config.tasks_url)?,
        ClientAuth::service(auth.clone(), "routing"),
    );
    let issuance = IssuanceServiceClient::with_interceptor(
        yiciban_platform::grpc::lazy_channel(&config.issuance_url)?,
        ClientAuth::service(auth.clone(), "routing"),
    );
    let dispatcher = Consumer::of_own_events(
        handoff::CONSUMER,
        &store,
        &subjects,
        js,
        Arc::new(handoff::Dispatcher::new(routing.clone(), tasks, issuance)),
    )?;
    let listener = TcpListener::bind(config.common.grpc_addr)
        .await
        .with_context(|| format!("binding the gRPC port {}", config.common.grpc_addr))?;
    Ok(App { listener, routing, relay, dispatcher, auth, metrics_addr: config.common.metrics_addr })
}

impl App {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The service state.
    pub fn routing(&self) -> Arc<Routing> {
        self.routing.clone()
    }

    /// Serves gRPC, runs the relay and the hand-offs to tasks and issuance
    /// until `shutdown`, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health, health_service, reflection) = yiciban_platform::grpc::standard_services()?;
        if let Some(addr) = self.metrics_addr {
            yiciban_metrics::start(addr, shutdown.clone())
                .await
                .with_context(|| format!("binding the metrics port {addr}"))?;
        }
        let _pool_metrics = yiciban_metrics::observe_pool("routing", self.routing.store.pool().clone());
        health.set_serving::<RoutingServiceServer<grpc::RoutingApi>>().await;
        let auth = self.auth.clone();
        let api = RoutingServiceServer::with_interceptor(grpc::RoutingApi::new(self.routing.clone()), move |r| {
            auth.intercept(r)
        });
        let router =
            yiciban_platform::grpc::server().add_service(health_service).add_service(reflection).add_service(api);
        let relay = tokio::spawn(self.relay.clone().run(shutdown.clone()));
        let dispatcher = tokio::spawn(self.dispatcher.run(shutdown.clone()));
        tracing::info!(addr = %self.listener.local_addr()?, "routing serving");
        yiciban_platform::grpc::serve(router, self.listener, shutdown.clone()).await?;
        shutdown.cancel();
        relay.await?.context("outbox relay")?;
        dispatcher.await?.context("routing hand-offs (tasks, issuance)")?;
        Ok(())
    }
}

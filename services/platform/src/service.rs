//! The one shell every service runs in. [`ServiceBuilder`] binds the gRPC
//! port, migrates and opens the service's event store (with its outbox
//! relay), makes clients that call other services as this service, and
//! collects the gRPC services (each under the process's request timeout and
//! in-flight limit ([`crate::limits`]) and behind the authentication layer,
//! each reported SERVING by `grpc.health.v1`, all visible through
//! reflection, which like health is never limited), the
//! process managers and other background jobs, and an optional HTTP router.
//! [`Service::run_until_stopped`] serves and runs all of it until the
//! shutdown token is cancelled (SIGTERM, Ctrl-C, or a test), then drains:
//! in-flight calls finish, every job is told to stop and awaited.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic_health::server::HealthReporter;
use yiciban_eventstore::{Consumer, EVENT_STORE, EventStore, Handler, Migrations, Relay, RelaySettings, Subjects};

use crate::auth::{Authenticate, Authorized, IssuerKeys, TokenSource, Verifier};
use crate::config::{CommonConfig, OidcConfig};
use crate::grpc::{TraceLayer, lazy_channel};
use crate::limits::Limits;
use crate::refusals::Refusals;
use yiciban_proto::audit::v1::audit_service_server::AuditServiceServer as AuditServer;

type Router = tonic::transport::server::Router<tower::layer::util::Stack<TraceLayer, tower::layer::util::Identity>>;
type Job = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// A client channel that calls another service as this one (the service's
/// own client-credentials token for that service, and the trace context, on
/// every call).
pub type ServiceChannel = Authorized;

/// A listening socket bound by the caller before the service is built, handed
/// over through the configuration (`CommonConfig::grpc_listener`, the
/// workbench's HTTP listener): tests bind every port first, so
/// services that name each other in their configuration can be built in any
/// order, and no port is picked, released and bound again (ADR 0013). The
/// first service built from the configuration takes the socket, and it
/// closes with that service; copies of the configuration do not keep it
/// open.
#[derive(Debug, Clone)]
pub struct PreBound(Arc<std::sync::Mutex<Option<std::net::TcpListener>>>);

impl PreBound {
    /// Takes the socket as a tokio listener; fails if a service took it
    /// already.
    pub fn listener(&self) -> std::io::Result<TcpListener> {
        let taken = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let listener = taken.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::AddrInUse, "the listener bound beforehand was taken already")
        })?;
        listener.set_nonblocking(true)?;
        TcpListener::from_std(listener)
    }
}

impl From<std::net::TcpListener> for PreBound {
    fn from(listener: std::net::TcpListener) -> Self {
        PreBound(Arc::new(std::sync::Mutex::new(Some(listener))))
    }
}

/// The listener of a server: the one the caller bound, if any, or `addr`
/// bound now; `what` names the port in the error.
pub async fn listen(addr: SocketAddr, pre_bound: Option<&PreBound>, what: &str) -> anyhow::Result<TcpListener> {
    match pre_bound {
        Some(bound) => bound.listener().with_context(|| format!("serving {what} on a listener bound beforehand")),
        None => TcpListener::bind(addr).await.with_context(|| format!("binding {what} {addr}")),
    }
}

/// Connects to the Postgres and NATS a service's configuration names.
pub async fn connect(
    common: &CommonConfig,
    name: &str,
) -> anyhow::Result<(sqlx::PgPool, async_nats::jetstream::Context)> {
    let pool = crate::runtime::connect_db(common).await?;
    let nats = crate::runtime::connect_nats(common, name).await?;
    Ok((pool, async_nats::jetstream::new(nats)))
}

/// Assembles a service (see the module docs).
pub struct ServiceBuilder {
    name: &'static str,
    common: CommonConfig,
    pool: sqlx::PgPool,
    /// `None` for a service bound without the bus ([`ServiceBuilder::bind_without_bus`]).
    js: Option<async_nats::jetstream::Context>,
    subjects: Subjects,
    verifier: Verifier,
    /// The client for the token issuer (keys, tokens, userinfo).
    issuer_http: reqwest::Client,
    tokens: Arc<TokenSource>,
    refusals: Refusals,
    limits: Limits,
    listener: TcpListener,
    router: Router,
    health: HealthReporter,
    serving: Vec<&'static str>,
    jobs: Vec<(String, Job)>,
    http: Option<(TcpListener, axum::Router)>,
    ops: crate::ops::OpsApi,
}

impl std::fmt::Debug for ServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceBuilder").field("name", &self.name).field("serving", &self.serving).finish()
    }
}

impl ServiceBuilder {
    /// Binds the gRPC port of `common` for the service `name` (port 0
    /// becomes a real port), or takes the listener the caller bound
    /// beforehand (`common.grpc_listener`), with health and reflection.
    pub async fn bind(
        name: &'static str,
        common: &CommonConfig,
        pool: sqlx::PgPool,
        js: async_nats::jetstream::Context,
    ) -> anyhow::Result<Self> {
        Self::bind_with(name, common, pool, Some(js)).await
    }

    /// Like [`ServiceBuilder::bind`] for a service that neither publishes
    /// nor consumes events (the workbench: Postgres and the other services'
    /// gRPC APIs only), so it needs no NATS identity: it has no event store
    /// ([`ServiceBuilder::event_store`] refuses) and
    /// [`ServiceBuilder::jetstream`] panics.
    pub async fn bind_without_bus(
        name: &'static str,
        common: &CommonConfig,
        pool: sqlx::PgPool,
    ) -> anyhow::Result<Self> {
        Self::bind_with(name, common, pool, None).await
    }

    async fn bind_with(
        name: &'static str,
        common: &CommonConfig,
        pool: sqlx::PgPool,
        js: Option<async_nats::jetstream::Context>,
    ) -> anyhow::Result<Self> {
        let subjects = Subjects::new(&common.nats_prefix).map_err(anyhow::Error::msg)?;
        let listener = listen(common.grpc_addr, common.grpc_listener.as_ref(), "the gRPC port").await?;
        let (health, health_service, reflection) = crate::grpc::standard_services()?;
        let router = crate::grpc::server().add_service(health_service).add_service(reflection);
        let http = crate::auth::http_client(common.oidc.ca_file.as_deref())
            .context("YICIBAN_OIDC_CA_FILE: building the client for the token issuer")?;
        let keys = Arc::new(IssuerKeys::new(http.clone(), &common.oidc.issuer, common.oidc.keys));
        let verifier = Verifier::new(keys.clone(), &common.oidc.audience(name), common.oidc.claims.clone());
        let tokens = Arc::new(TokenSource::new(keys, http.clone(), common.oidc.credentials(name)));
        if common.dev_mode {
            tracing::warn!(
                service = name,
                "YICIBAN_DEV_MODE is on: development secrets and plain-http issuers are accepted"
            );
        }
        let ops = crate::ops::OpsApi::new(name);
        let builder = ServiceBuilder {
            ops: ops.clone(),
            name,
            common: common.clone(),
            verifier,
            issuer_http: http,
            tokens,
            refusals: Refusals::new(name),
            limits: Limits::new(common.grpc_limits),
            pool,
            js,
            subjects,
            listener,
            router,
            health,
            serving: Vec::new(),
            jobs: Vec::new(),
            http: None,
        };
        Ok(builder.grpc(yiciban_proto::ops::v1::ops_service_server::OpsServiceServer::new(ops)))
    }

    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Postgres pool.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// JetStream.
    ///
    /// # Panics
    /// For a service bound without the bus (a programming error: such a
    /// service has no use for it).
    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        self.js.as_ref().expect("the service was bound without the bus (ServiceBuilder::bind_without_bus)")
    }

    /// The NATS subjects of this deployment.
    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// The verifier of bearer tokens (also for the service's HTTP pages).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Applicants calling this service are recognised: each one's identity
    /// is learned from the issuer's userinfo and kept in its [`crate::Caller`]
    /// only as its keyed hash under `key` (see [`crate::auth::userinfo`]).
    /// For the services that keep identities (intake, issuance, tracking);
    /// it holds for every gRPC service and page of this one, added before or
    /// after.
    pub fn recognise_applicants(&self, key: crate::IdentityKey) {
        self.verifier.recognise_applicants(self.issuer_http.clone(), key);
    }

    /// Where refused calls are counted and recorded.
    pub fn refusals(&self) -> &Refusals {
        &self.refusals
    }

    /// Keeps the service's audit logs in `schema` (migrated here): every
    /// refusal of a signed-in caller is written to the refusal log by a
    /// background writer; reads of personal data in clear are recorded by
    /// the handlers that answer them ([`crate::read_log::ReadLog`] over the
    /// same schema); supervisors read both through the `AuditService`
    /// served from now on. Call it before adding the service's own gRPC
    /// services, which then record into it.
    pub async fn audit_log(mut self, schema: &str) -> anyhow::Result<Self> {
        yiciban_eventstore::migrate(&self.pool, schema, &[crate::refusal_log::REFUSAL_LOG, crate::read_log::READ_LOG])
            .await
            .with_context(|| format!("migrating the audit logs of {} in {schema}", self.name))?;
        let (sink, queue) = tokio::sync::mpsc::channel(crate::refusal_log::QUEUE);
        self.refusals = Refusals::new(self.name).with_sink(sink);
        let (pool, schema_name) = (self.pool.clone(), schema.to_owned());
        self.jobs.push((
            "refusal log".to_owned(),
            Box::new(move |shutdown| Box::pin(crate::refusal_log::write(pool, schema_name, queue, shutdown))),
        ));
        let audit = crate::audit::AuditApi::new(self.name, self.pool.clone(), schema);
        self.serving.push(<AuditServer<crate::audit::AuditApi> as NamedService>::NAME);
        self.router = self.router.add_service(self.limits.wrap(Authenticate::new(
            AuditServer::new(audit),
            self.verifier.clone(),
            self.refusals.clone(),
        )));
        Ok(self)
    }

    /// Migrates `schema` with the event store and `own` migrations, opens the
    /// store as this service's, and runs the outbox relay of the store with
    /// the service, supervised (started again after any failure). The relay
    /// makes sure the case-event stream exists when it takes over, not here:
    /// a service starts and takes commands (they need only Postgres) while
    /// NATS is away, and publishes when it returns.
    pub async fn event_store(&mut self, schema: &str, own: &[Migrations]) -> anyhow::Result<EventStore> {
        let mut components = vec![EVENT_STORE];
        components.extend_from_slice(own);
        yiciban_eventstore::migrate(&self.pool, schema, &components)
            .await
            .with_context(|| format!("migrating the {} schema {schema}", self.name))?;
        let js = self.js.clone().context("a service bound without the bus has no event store")?;
        let store = EventStore::new(self.pool.clone(), schema, self.name)?;
        let relay = Relay::new(
            store.clone(),
            js,
            self.subjects.clone(),
            RelaySettings { stream: self.common.stream_settings(), ..Default::default() },
        );
        self.ops.register_relay(relay.clone());
        let reconciler = relay.clone();
        self.jobs.push((
            "reconciler".to_owned(),
            Box::new(move |shutdown| Box::pin(crate::reconciler::run(reconciler, shutdown))),
        ));
        // The relay's own health entry (`<service>.relay`): NOT_SERVING while
        // it has been down past the alert threshold. Not the overall status
        // the probes read: a NATS outage must not restart pods that keep
        // taking commands.
        let health = self.health.clone();
        let entry = format!("yiciban.{}.relay", self.name);
        self.jobs.push((
            "outbox relay".to_owned(),
            Box::new(move |shutdown| {
                Box::pin(async move {
                    let report = health_entry(health, entry).await;
                    Ok(relay.run_supervised(shutdown, report).await?)
                })
            }),
        ));
        Ok(store)
    }

    /// A channel to the service `peer` (`intake`, `routing`, …) at `url` that
    /// calls as this service, with tokens for the peer's audience; it
    /// connects on first use, so a peer that is down fails calls with
    /// `UNAVAILABLE` instead of failing this service's start.
    pub fn calls(&self, peer: &str, url: &str) -> anyhow::Result<ServiceChannel> {
        Ok(Authorized::new(lazy_channel(url)?, self.tokens.clone(), &OidcConfig::audience_of(peer)))
    }

    /// The working-day calendar this service counts on: the shipped seed at
    /// once, then kept current from intake's CalendarService at `intake_url`
    /// (asked as this service every `YICIBAN_CALENDAR_REFRESH`), with the
    /// runway warning; without a URL the seed stays, and the runway is still
    /// watched. Intake itself follows its own schema instead.
    pub fn follow_calendar(
        &mut self,
        intake_url: Option<&str>,
        clock: Arc<dyn crate::Clock>,
    ) -> anyhow::Result<Arc<crate::calendar::LiveCalendar>> {
        let live = Arc::new(crate::calendar::LiveCalendar::seed(self.name, self.common.calendar));
        let follower = live.clone();
        match intake_url {
            Some(url) => {
                let source = crate::calendar::FromIntake::new(self.calls("intake", url)?);
                self.jobs.push((
                    "calendar refresh".into(),
                    Box::new(move |shutdown| {
                        Box::pin(async move {
                            crate::calendar::follow(follower, source, clock, shutdown).await;
                            Ok(())
                        })
                    }),
                ));
            }
            None => {
                tracing::warn!(
                    service = self.name,
                    "no YICIBAN_INTAKE_URL: the working-day calendar stays the shipped seed (2025-2026)"
                );
                live.check_runway(yiciban_calendar::date_in_china(clock.now()));
            }
        }
        Ok(live)
    }

    /// Serves a gRPC service under the process's limits (request timeout,
    /// calls in flight: [`crate::limits`]) and behind the authentication
    /// layer (token verified, caller checked against the RPC's access rule),
    /// reported SERVING by health.
    pub fn grpc<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.serving.push(S::NAME);
        let authenticated = Authenticate::new(service, self.verifier.clone(), self.refusals.clone());
        self.router = self.router.add_service(self.limits.wrap(authenticated));
        self
    }

    /// The service's health reporter, for entries of parts it supervises
    /// itself (the webhooks' feeds): `yiciban.<service>.<part>`.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Runs a durable consumer (a process manager or a projection) with the
    /// service.
    /// Its poison messages and dead letters are the OpsService's to list,
    /// replay and discard. Its health entry (`yiciban.<service>.consumer.<name>`) turns
    /// NOT_SERVING once it has been without its pull for 30 s.
    pub fn consumer<H: Handler>(self, consumer: Consumer<H>) -> Self {
        let name = format!("consumer {}", consumer.name());
        let entry = format!("yiciban.{}.consumer.{}", self.name, consumer.name());
        let consumer = Arc::new(consumer.with_ack_wait(self.common.consumer_ack_wait));
        self.ops.register(consumer.clone());
        let health = self.health.clone();
        self.job(name, move |shutdown| async move {
            let report = health_entry(health, entry).await;
            Ok(consumer.run_supervised(shutdown, report).await?)
        })
    }

    /// Runs a background job with the service; it must return soon after
    /// its token is cancelled.
    pub fn job<F, Fut>(mut self, name: impl Into<String>, run: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.jobs.push((name.into(), Box::new(move |shutdown| Box::pin(run(shutdown)))));
        self
    }

    /// Serves `router` over HTTP on `listener` with the service.
    pub fn http(mut self, listener: TcpListener, router: axum::Router) -> Self {
        self.http = Some((listener, router));
        self
    }

    /// The service, ready to run, with its shared state.
    pub fn finish<S>(self, state: Arc<S>) -> Service<S> {
        Service { builder: self, state }
    }
}

/// Sets the health entry `entry` SERVING and returns the reporter a
/// supervised part (relay, consumer) calls: `Some(for_how_long)` once it has
/// been down past its threshold (NOT_SERVING, logged), `None` when it works
/// again.
async fn health_entry(health: HealthReporter, entry: String) -> impl Fn(Option<std::time::Duration>) + Send + Sync {
    health.set_service_status(entry.clone(), tonic_health::ServingStatus::Serving).await;
    move |down| {
        let (health, entry) = (health.clone(), entry.clone());
        let status = match down {
            Some(for_how_long) => {
                tracing::error!(entry = %entry, ?for_how_long, "down past its alert threshold");
                tonic_health::ServingStatus::NotServing
            }
            None => tonic_health::ServingStatus::Serving,
        };
        tokio::spawn(async move { health.set_service_status(entry, status).await });
    }
}

/// A built service: bound, not serving yet.
pub struct Service<S> {
    builder: ServiceBuilder,
    state: Arc<S>,
}

impl<S> std::fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.builder.name)
            .field("addr", &self.builder.listener.local_addr().ok())
            .finish()
    }
}

impl<S: Send + Sync + 'static> Service<S> {
    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.builder.name
    }

    /// The bound gRPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.builder.listener.local_addr().expect("a bound listener has an address")
    }

    /// The bound HTTP address, if the service serves HTTP.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.builder.http.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// The service's shared state (tests drive sweeps through it).
    pub fn state(&self) -> Arc<S> {
        self.state.clone()
    }

    /// Serves and runs every job until `shutdown` is cancelled, then drains.
    /// A job that fails is logged when it fails and reported at the end.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let ServiceBuilder { name, common, pool, listener, router, health, serving, jobs, http, .. } = self.builder;
        // The pool's size and idle connections, observed while the service runs.
        let _pool_metrics = yiciban_metrics::observe_pool(name, pool);
        if let Some(addr) = common.metrics_addr {
            yiciban_metrics::start(addr, shutdown.clone())
                .await
                .with_context(|| format!("binding the metrics port {addr}"))?;
        }
        for service in &serving {
            health.set_service_status(*service, tonic_health::ServingStatus::Serving).await;
        }
        let mut running = Vec::with_capacity(jobs.len() + 1);
        for (job, run) in jobs {
            let future = run(shutdown.clone());
            let stop = shutdown.clone();
            running.push((
                job.clone(),
                tokio::spawn(async move {
                    let result = future.await;
                    if let Err(e) = &result
                        && !stop.is_cancelled()
                    {
                        tracing::error!(service = name, job = %job, error = format!("{e:#}"), "a background job failed");
                    }
                    result
                }),
            ));
        }
        if let Some((listener, router)) = http {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "{name} serving HTTP at http://{addr}/");
            }
            let stop = shutdown.clone();
            running.push((
                "HTTP server".to_owned(),
                tokio::spawn(async move {
                    // The peer's address reaches the handlers (`ConnectInfo`): the
                    // workbench's public page counts tries per client address.
                    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                        .with_graceful_shutdown(async move { stop.cancelled().await })
                        .await
                        .context("serving HTTP")
                }),
            ));
        }
        tracing::info!(addr = %listener.local_addr()?, "{name} serving");
        let served = crate::grpc::serve(router, listener, shutdown.clone()).await;
        shutdown.cancel();
        let mut failed = None;
        for (job, handle) in running {
            let result = handle.await.with_context(|| format!("{name}: {job} panicked")).and_then(|r| r);
            if let Err(e) = result {
                failed.get_or_insert(e.context(format!("{name}: {job}")));
            }
        }
        served.with_context(|| format!("{name}: serving gRPC"))?;
        failed.map_or(Ok(()), Err)
    }
}

#![forbid(unsafe_code)]
//! The webhook service: for department systems that cannot run a NATS
//! client, each subscription (a department, an https endpoint, a signing
//! secret) receives the department's case events — the subject
//! `<prefix>.evt.<department>.>` a NATS subscriber reads — as signed HTTP
//! POSTs, in order per case, retried with back-off, set aside as dead
//! letters when the receiver keeps refusing, resumed where they stopped
//! after a restart (a durable JetStream consumer per subscription), and
//! replayed from a time on request, resumed after a restart as well (ADR
//! 0022, docs/DEPARTMENTS.md). Signing secrets are stored sealed.

pub mod config;
pub mod deliverer;
pub mod grpc;
pub mod health;
pub mod http;
pub mod input;
pub mod lanes;
pub mod repo;
pub mod schema;
pub mod secrets;
pub mod signature;
pub mod workers;

/// The retry policy, shared with the notifier.
pub use yiciban_platform::backoff;

use std::sync::Arc;

use anyhow::Context as _;
use yiciban_platform::Clock;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_proto::webhooks::v1::webhook_service_server::WebhookServiceServer;

pub use config::WebhooksConfig;

/// The service's shared state, handed to every RPC.
#[derive(Debug)]
pub struct Webhooks {
    /// Subscriptions and dead letters.
    pub repo: repo::Repo,
    /// The running feeds.
    pub workers: Arc<workers::Workers>,
    /// Whether http:// endpoints are accepted (development mode).
    pub allow_http: bool,
    /// "Now", injected.
    pub clock: Arc<dyn Clock>,
}

/// A built webhook service, bound to its port, not yet serving.
pub type App = Service<Webhooks>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: WebhooksConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "webhooks").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (the dev stack, tests).
pub async fn build_with(
    config: WebhooksConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    let shell = ServiceBuilder::bind("webhooks", &config.common, pool.clone(), js.clone())
        .await?
        .audit_log(&config.schema)
        .await?;
    yiciban_eventstore::migrate(&pool, &config.schema, &[schema::WEBHOOKS, yiciban_privacy::DATA_KEYS])
        .await
        .with_context(|| format!("migrating the webhooks schema {}", config.schema))?;
    let sealer =
        secrets::Sealer::new(pool.clone(), &config.schema, config.privacy.keks.clone(), config.privacy.algorithm);
    let repo = repo::Repo::new(pool, &config.schema, sealer);
    let sealed = repo.seal_clear_secrets().await.context("sealing the webhook secrets stored in clear")?;
    if sealed > 0 {
        tracing::info!(subscriptions = sealed, "webhook secrets stored in clear sealed");
    }
    let http = http::client(config.delivery.timeout).context("building the webhook HTTP client")?;
    let deliverer = Arc::new(deliverer::Deliverer {
        repo: repo.clone(),
        http,
        limiter: tokio::sync::Semaphore::new(config.delivery.concurrency),
        settings: config.delivery.clone(),
        clock: clock.clone(),
        js,
        subjects: shell.subjects().clone(),
        health: health::FeedHealth::new(shell.health(), config.delivery.down_alert_after),
    });
    let workers = Arc::new(workers::Workers::new(deliverer));
    let state = Arc::new(Webhooks { repo, workers: workers.clone(), allow_http: config.delivery.allow_http, clock });
    Ok(shell
        .grpc(WebhookServiceServer::new(grpc::WebhookApi::new(state.clone())))
        .job("webhook feeds", move |shutdown| workers.run(shutdown))
        .finish(state))
}

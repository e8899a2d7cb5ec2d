#![forbid(unsafe_code)]
//! The notifier (ADR 0035): text messages to the applicant at the moments a
//! case reaches — accepted (受理), a supplement asked for (补正,
//! 一次性告知), decided (办结), ready at the window (领证), mailed (邮寄).
//! One durable consumer, `notifier`, reads every case event and queues one
//! message per event that calls for one ([`queue`]: exactly once, with its
//! checkpoint); the sender job ([`sender`]) looks each case up at intake as
//! the `notifier` service (a recorded read of the phone), renders its
//! template ([`templates`]) and sends it through the configured
//! [`gateway::SmsGateway`] — an HTTP gateway, or the local sink in
//! development — retrying with back-off, every attempt recorded. The record
//! keeps the phone masked only. NotifierService lists the record.

pub mod config;
pub mod gateway;
pub mod grpc;
pub mod http_gateway;
pub mod notice;
pub mod phone;
pub mod queue;
pub mod recipients;
pub mod repo;
pub mod schema;
pub mod sender;
pub mod templates;

use std::sync::Arc;

use anyhow::Context as _;
use yiciban_eventstore::{Consumer, ConsumerSettings, EVENT_STORE, EventStore, Feed, StoreGaps, Subjects};
use yiciban_platform::Clock;
use yiciban_platform::service::{Service, ServiceBuilder};
use yiciban_proto::notifier::v1::notifier_service_server::NotifierServiceServer;

pub use config::{GatewayConfig, NotifierConfig};

/// The service's shared state, handed to every RPC.
#[derive(Debug)]
pub struct Notifier {
    /// The messages and their attempts.
    pub repo: repo::Repo,
    /// The sender (tests drive [`sender::Sender::send_due`] through it).
    pub sender: Arc<sender::Sender>,
}

/// A built notifier, bound to its port, not yet serving.
pub type App = Service<Notifier>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: NotifierConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let (pool, js) = yiciban_platform::service::connect(&config.common, "notifier").await?;
    build_with(config, clock, pool, js).await
}

/// Like [`build`] with connections made by the caller (the dev stack, tests).
pub async fn build_with(
    config: NotifierConfig,
    clock: Arc<dyn Clock>,
    pool: sqlx::PgPool,
    js: async_nats::jetstream::Context,
) -> anyhow::Result<App> {
    let shell = ServiceBuilder::bind("notifier", &config.common, pool.clone(), js.clone())
        .await?
        .audit_log(&config.schema)
        .await?;
    // The consumer's checkpoints and poison messages live in the event
    // store's tables; the notifier appends no events of its own.
    yiciban_eventstore::migrate(&pool, &config.schema, &[EVENT_STORE, schema::NOTIFIER])
        .await
        .with_context(|| format!("migrating the notifier schema {}", config.schema))?;
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
    let repo = repo::Repo::new(pool.clone(), &config.schema);
    let gateway: Arc<dyn gateway::SmsGateway> = match &config.gateway {
        GatewayConfig::Local => {
            tracing::warn!("YICIBAN_SMS_GATEWAY=local: text messages are kept in the local sink, not sent");
            Arc::new(gateway::LocalSink::new(repo.clone(), clock.clone()))
        }
        GatewayConfig::Http { url, credential, timeout } => Arc::new(
            http_gateway::HttpGateway::new(url, credential.clone(), *timeout)
                .context("building the SMS gateway's HTTP client")?,
        ),
    };
    let catalog = yiciban_domain::catalog::Catalog::seed().context("loading the catalog's package names")?;
    let packages = catalog.packages().iter().map(|p| (p.id.as_str().to_owned(), p.name.clone())).collect();
    let lease = match &config.gateway {
        GatewayConfig::Http { timeout, .. } => *timeout * 2 + std::time::Duration::from_secs(60),
        GatewayConfig::Local => std::time::Duration::from_secs(90),
    };
    let sender = Arc::new(sender::Sender {
        repo: repo.clone(),
        recipients: recipients::Recipients::new(shell.calls("intake", &config.intake_url)?),
        gateway,
        templates: config.templates.clone(),
        packages,
        settings: sender::SendSettings { backoff: config.backoff, poll: config.poll, batch: 32, lease },
        clock: clock.clone(),
    });
    let settings = ConsumerSettings {
        name: queue::CONSUMER.into(),
        stream: subjects.stream_name(),
        feed: Feed::Partitioned { subjects: subjects.clone(), source: None },
        concurrency: 16,
        ack_wait: ConsumerSettings::DEFAULT_ACK_WAIT,
        max_deliveries: ConsumerSettings::DEFAULT_MAX_DELIVERIES,
    };
    let consumer = Consumer::new(
        settings,
        pool,
        &config.schema,
        js,
        Arc::new(queue::Queue::new(&config.schema, clock)),
        Arc::new(StoreGaps::new(stores)),
    )?;
    let state = Arc::new(Notifier { repo, sender: sender.clone() });
    Ok(shell
        .grpc(NotifierServiceServer::new(grpc::NotifierApi::new(state.clone())))
        .consumer(consumer)
        .job("text message sender", move |shutdown| sender.run(shutdown))
        .finish(state))
}

//! The test bed: our own Postgres cluster and nats-server, a stalling proxy
//! in front of Postgres for each service, the services as separate
//! processes, a development issuer, and the retrying clients' driver.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use yiciban_bench::driver::{Driver, Retries};
use yiciban_bench::feed::Feed;
use yiciban_bench::system::{SERVICES, System, Wiring};
use yiciban_eventstore::Subjects;
use yiciban_testkit::TestIssuer;

use crate::infra::{OwnNats, OwnPostgres};
use crate::proxy::StallProxy;

/// The database the services share in our cluster.
const DATABASE: &str = "yiciban_faults";

/// Where the programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The services' binaries (`yiciban-<service>`).
    pub bin_dir: PathBuf,
    /// The directory of `initdb` and `pg_ctl`.
    pub pg_bin: PathBuf,
    /// The system user Postgres runs as when we are root.
    pub pg_user: Option<String>,
    pub nats_server: PathBuf,
    pub log_dir: PathBuf,
}

/// Everything a scenario breaks and observes.
pub struct Bed {
    pub postgres: OwnPostgres,
    pub nats: OwnNats,
    pub proxies: Vec<(&'static str, StallProxy)>,
    pub system: System,
    pub driver: Driver,
    pub issuer: TestIssuer,
    /// The harness' own connections, straight to Postgres.
    pub pool: PgPool,
    pub js: async_nats::jetstream::Context,
    pub subjects: Subjects,
    /// The next case number.
    pub next: Arc<AtomicU64>,
}

impl std::fmt::Debug for Bed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bed").field("postgres", &self.postgres).field("nats", &self.nats).finish()
    }
}

impl Bed {
    /// Starts the servers, the proxies and the services; `patience` is how
    /// long a client keeps resending a call.
    pub async fn start(programs: &Programs, patience: Duration) -> anyhow::Result<Bed> {
        let postgres = OwnPostgres::start(&programs.pg_bin, programs.pg_user.as_deref()).await?;
        let admin = PgPoolOptions::new().max_connections(1).connect(&postgres.url("postgres")).await?;
        sqlx::query(yiciban_eventstore::sql::names_sql("CREATE DATABASE {db}", &[("db", DATABASE)]))
            .execute(&admin)
            .await
            .context("creating the database")?;
        admin.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&postgres.url(DATABASE))
            .await?;
        let nats = OwnNats::start(&programs.nats_server).await?;
        let upstream = format!("127.0.0.1:{}", postgres.port).parse()?;
        let mut proxies = Vec::new();
        for name in SERVICES {
            proxies.push((name, StallProxy::start(upstream).await.context("starting a proxy")?));
        }
        let issuer = TestIssuer::start().await;
        let subjects = Subjects::new("faults").map_err(anyhow::Error::msg)?;
        let wiring = Wiring {
            bin_dir: programs.bin_dir.clone(),
            database_url: postgres.url(DATABASE),
            nats_url: nats.url(),
            nats_prefix: subjects.prefix().to_owned(),
            issuer_url: issuer.url(),
            log_dir: programs.log_dir.clone(),
            database_url_of: proxies
                .iter()
                .map(|(n, p)| (*n, format!("postgres://postgres@{}/{DATABASE}", p.addr())))
                .collect(),
        };
        let system = System::start(&wiring).await?;
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(nats.url())
            .await
            .context("connecting to our nats-server")?;
        let js = async_nats::jetstream::new(client.clone());
        let feed = Feed::start(&client, &subjects).await?;
        let driver = Driver::connect(
            &system.url("intake"),
            &system.url("tasks"),
            &system.url("issuance"),
            issuer.clone(),
            feed,
            "faults",
        )
        .await?
        .with_retries(Retries::For(patience), patience);
        Ok(Bed { postgres, nats, proxies, system, driver, issuer, pool, js, subjects, next: Arc::default() })
    }

    /// The proxy between `service` and Postgres.
    pub fn proxy(&self, service: &str) -> anyhow::Result<&StallProxy> {
        self.proxies.iter().find(|(n, _)| *n == service).map(|(_, p)| p).context("no such proxy")
    }

    /// Messages in the case-event stream.
    pub async fn published(&self) -> anyhow::Result<i64> {
        let mut stream = self.js.get_stream(self.subjects.stream_name()).await.context("the case-event stream")?;
        Ok(stream.info().await?.state.messages as i64)
    }

    /// Whether `service`'s outbox relay reports SERVING on its health entry.
    pub async fn relay_serving(&self, service: &str) -> anyhow::Result<bool> {
        let channel = tonic::transport::Endpoint::from_shared(self.system.url(service))?.connect().await?;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest { service: format!("yiciban.{service}.relay") })
            .await?
            .into_inner()
            .status;
        Ok(status == ServingStatus::Serving as i32)
    }
}

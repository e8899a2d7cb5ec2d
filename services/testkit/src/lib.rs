#![forbid(unsafe_code)]
//! Test support shared by every crate's integration tests: each test gets its
//! own Postgres database and its own NATS subject prefix and JetStream
//! stream, and both are removed when the handle is dropped — also when the
//! test panics — so tests run in parallel and leave nothing behind.
//! [`spawn_service`] is the one way to run a service in a test (on a listener
//! bound before it starts), and tests wait for conditions ([`eventually`],
//! [`TestNats::consumer_caught_up`]), never for fixed times.

pub mod applications;
pub mod catalogs;
pub mod issuer;
pub mod nats_server;
pub mod oidc;
pub mod raw;
pub mod secure_nats;
pub mod service;
pub mod webdriver;

pub use issuer::TestIssuer;
pub use nats_server::NatsServer;
pub use oidc::{OidcProvider, ProviderConfig};
pub use secure_nats::{LeafNode, LeafRemote, SecureNats};
pub use service::{ReservedPort, RunningService, ServiceHandle, listener, spawn_service};

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, PgPool};
use yiciban_eventstore::Subjects;
use yiciban_eventstore::sql::names_sql;

/// `DATABASE_URL`, or the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `NATS_URL`, or the local default.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Logs go nowhere unless `TEST_LOG=1`.
pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
            .with_test_writer()
            .try_init();
    }
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A database of its own for one test, dropped with the handle.
pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
    admin: PgConnectOptions,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl TestDb {
    /// Creates `yiciban_t_<random>` and connects a pool of `max` connections.
    pub async fn new(max: u32) -> TestDb {
        init_logs();
        let admin: PgConnectOptions = database_url().parse().expect("DATABASE_URL is a postgres URL");
        let admin = admin.log_statements(tracing::log::LevelFilter::Trace);
        let name = format!("yiciban_t_{}", short_id());
        let mut conn = sqlx::PgConnection::connect_with(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach Postgres at {} ({e}); run `make infra`", database_url()));
        sqlx::query(names_sql("CREATE DATABASE {database}", &[("database", &name)]))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(admin.clone().database(&name))
            .await
            .expect("connect to the test database");
        TestDb { pool, name, admin }
    }

    /// Options to open more connections to this database.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // The test's runtime may be blocked on this very drop, so nothing may
        // wait for it: a thread of our own drops the database, terminating
        // the pool's connections (WITH FORCE).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect_with(&admin).await {
                    let _ = sqlx::query(names_sql(
                        "DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                        &[("database", &name)],
                    ))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// A NATS subject prefix of its own for one test; its JetStream streams (case
/// events, reference data) are deleted with the handle.
pub struct TestNats {
    url: String,
    pub client: async_nats::Client,
    pub js: async_nats::jetstream::Context,
    pub subjects: Subjects,
}

impl std::fmt::Debug for TestNats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNats").field("prefix", &self.subjects.prefix()).finish()
    }
}

impl TestNats {
    pub async fn new() -> TestNats {
        Self::connect(&nats_url()).await
    }

    /// Like [`TestNats::new`] against a given server URL.
    pub async fn connect(url: &str) -> TestNats {
        init_logs();
        let client = async_nats::connect(url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach NATS at {url} ({e}); run `make infra`"));
        let js = async_nats::jetstream::new(client.clone());
        let subjects = Subjects::new(&format!("t{}", short_id())).expect("valid prefix");
        TestNats { url: url.to_owned(), client, js, subjects }
    }
}

impl TestNats {
    /// `Ok` when the durable consumer `name` is `done`, or, for a consumer
    /// of the partitioned subjects (ADR 0043), its durable consumer of every
    /// partition (and of the unpartitioned subjects, if it has one) is;
    /// else what was seen.
    async fn durables_done(
        stream: &async_nats::jetstream::stream::Stream,
        name: &str,
        done: &impl Fn(&async_nats::jetstream::consumer::Info) -> bool,
    ) -> Result<(), String> {
        let describe = |name: &str, info: &async_nats::jetstream::consumer::Info| {
            format!(
                "{name}: {} pending, {} awaiting an ack, delivered up to stream sequence {}",
                info.num_pending, info.num_ack_pending, info.delivered.stream_sequence
            )
        };
        if let Ok(info) = stream.consumer_info(name).await {
            return if done(&info) { Ok(()) } else { Err(describe(name, &info)) };
        }
        for slot in yiciban_eventstore::Slot::all() {
            let durable = slot.durable_name(name);
            match stream.consumer_info(&durable).await {
                Ok(info) if done(&info) => {}
                Ok(info) => return Err(describe(&durable, &info)),
                Err(_) if slot == yiciban_eventstore::Slot::Unpartitioned => {}
                Err(e) => return Err(format!("no consumer {name} nor {durable}: {e}")),
            }
        }
        Ok(())
    }

    /// Waits until the durable consumer `name` of the test's stream has been
    /// handed every message its filter matches and has acknowledged them
    /// all (nothing pending, nothing awaiting an ack): whatever it was going
    /// to do with the stream so far, it has done. Panics after `timeout`
    /// saying what it saw last.
    pub async fn consumer_caught_up(&self, name: &str, timeout: Duration) {
        self.consumer_info_until(name, "to acknowledge every message", timeout, |i| {
            i.num_pending == 0 && i.num_ack_pending == 0
        })
        .await;
    }

    /// Waits until the durable consumer `name` has been handed every message
    /// its filter matches (nothing pending delivery), whether or not its
    /// handler could finish them yet. Panics after `timeout`.
    pub async fn consumer_received_all(&self, name: &str, timeout: Duration) {
        self.consumer_info_until(name, "to receive every message", timeout, |i| i.num_pending == 0).await;
    }

    async fn consumer_info_until(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&async_nats::jetstream::consumer::Info) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let last = match self.js.get_stream(self.subjects.stream_name()).await {
                Ok(stream) => match Self::durables_done(&stream, name, &done).await {
                    Ok(()) => return,
                    Err(last) => last,
                },
                Err(e) => format!("no stream: {e}"),
            };
            if tokio::time::Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for the consumer {name} {what} ({last})");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let url = self.url.clone();
        let streams = [self.subjects.stream_name(), self.subjects.reference_stream_name()];
        // The test's client lives on the test's runtime, which may be blocked
        // on this drop: delete the streams over a connection of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    if let Ok(client) = async_nats::connect(&url).await {
                        let js = async_nats::jetstream::new(client);
                        for stream in &streams {
                            let _ = js.delete_stream(stream).await;
                        }
                    }
                })
                .await;
            });
        })
        .join();
    }
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `timeout`
/// naming `what` (tests wait for conditions, never for fixed times).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#![forbid(unsafe_code)]
//! Test support shared by every crate's integration tests: each test gets its
//! own Postgres database and its own NATS subject prefix and JetStream
//! stream, and both are removed when the handle is dropped — also when the
//! test panics — so tests run in parallel and leave nothing behind.

pub mod applications;

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

/// A NATS subject prefix of its own for one test; its JetStream stream is
/// deleted with the handle.
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

impl Drop for TestNats {
    fn drop(&mut self) {
        let url = self.url.clone();
        let stream = self.subjects.stream_name();
        // The test's client lives on the test's runtime, which may be blocked
        // on this drop: delete the stream over a connection of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    if let Ok(client) = async_nats::connect(&url).await {
                        let _ = async_nats::jetstream::new(client).delete_stream(&stream).await;
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

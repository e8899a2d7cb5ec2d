//! Raw baselines on the same Postgres and NATS, at the same concurrency as
//! the case drivers, and our own write paths measured the same way:
//! - a raw single-row INSERT loop (autocommit) into a table shaped exactly
//!   like the event store's `events` (and one into a bare table),
//!   beside the event store's `append` of one event (event + outbox row +
//!   idempotency key, one transaction);
//! - a raw JetStream publish loop awaiting each ack, beside the outbox relay
//!   draining what the appends left in the outbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_eventstore::{
    EVENT_STORE, EventMetadata, EventStore, ExpectedVersion, IdempotencyRecord, NewEvent, Relay, RelaySettings,
    Subjects, migrate,
};
use yiciban_proto::common::v1 as common;

/// Operations done in a timed loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    pub ops: u64,
    pub seconds: f64,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        yiciban_bench::stats::rate(self.ops as f64, self.seconds)
    }
}

/// Runs `op(worker, i)` on `concurrency` workers for `duration`.
pub(crate) async fn timed<F, Fut>(concurrency: usize, duration: Duration, op: F) -> anyhow::Result<Rate>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..concurrency).map(|w| {
        let (op, done) = (op.clone(), done.clone());
        tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                op(w, i).await?;
                i += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), anyhow::Error>(())
        })
    });
    for worker in futures::future::join_all(workers).await {
        worker??;
    }
    Ok(Rate { ops: done.load(Ordering::Relaxed), seconds: started.elapsed().as_secs_f64() })
}

/// The shape of the raw INSERT's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Exactly the event store's `events` table (`LIKE … INCLUDING ALL`:
    /// the same columns, defaults, keys and indexes), without the outbox,
    /// the idempotency key, the version check or an explicit transaction.
    EventsShaped,
    /// The same columns with only a primary key.
    Bare,
}

/// The raw INSERT of one row into `$table` (a literal: the statement stays a
/// `&'static str`).
macro_rules! raw_insert_into {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (event_id, stream_id, stream_version, case_id, event_type, schema_version, payload, metadata)
             VALUES ($1, $2, 1, $3, 'BenchEvent', 1, $4, '{\"actor\":\"bench\"}')"
        )
    };
}

/// Raw single-row INSERTs of the same row, each its own (autocommitted)
/// transaction. [`Table::EventsShaped`] needs [`prepare`] first.
pub async fn raw_insert(
    pool: &PgPool,
    table: Table,
    concurrency: usize,
    duration: Duration,
    payload: usize,
) -> anyhow::Result<Rate> {
    let (name, ddl, insert) = match table {
        Table::EventsShaped => (
            "bench_raw.events_shaped",
            "CREATE SCHEMA IF NOT EXISTS bench_raw;
             CREATE TABLE bench_raw.events_shaped (LIKE bench_append.events INCLUDING ALL)",
            raw_insert_into!("bench_raw.events_shaped"),
        ),
        Table::Bare => (
            "bench_raw.events_bare",
            "CREATE SCHEMA IF NOT EXISTS bench_raw;
             CREATE TABLE bench_raw.events_bare (
                 position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 tx_id BIGINT NOT NULL DEFAULT 0,
                 event_id UUID NOT NULL, stream_id TEXT NOT NULL, stream_version BIGINT NOT NULL,
                 case_id UUID NOT NULL, event_type TEXT NOT NULL, schema_version INT NOT NULL,
                 department TEXT, payload BYTEA NOT NULL, metadata JSONB NOT NULL,
                 recorded_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
            raw_insert_into!("bench_raw.events_bare"),
        ),
    };
    sqlx::raw_sql(ddl).execute(pool).await.with_context(|| format!("creating {name}"))?;
    let pool = pool.clone();
    let body = Arc::new(vec![7u8; payload]);
    timed(concurrency, duration, move |_, _| {
        let (pool, body) = (pool.clone(), body.clone());
        async move {
            let case = Uuid::now_v7();
            sqlx::query(insert)
                .bind(Uuid::now_v7())
                .bind(format!("bench-{case}"))
                .bind(case)
                .bind(&body[..])
                .execute(&pool)
                .await?;
            Ok(())
        }
    })
    .await
}

/// Migrates the event store schema the append baseline writes to.
pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    migrate(pool, "bench_append", &[EVENT_STORE]).await?;
    Ok(())
}

/// The event store's append of one event to a new stream, as every command
/// of the services does it: with its outbox row and idempotency key, in one
/// transaction.
pub async fn store_append(
    pool: &PgPool,
    concurrency: usize,
    duration: Duration,
    payload: usize,
) -> anyhow::Result<(Rate, EventStore)> {
    let store = EventStore::new(pool.clone(), "bench_append", "bench")?;
    let s = store.clone();
    let body = Arc::new(vec![7u8; payload]);
    let actor = common::Actor { subject: "bench".into(), role: common::Role::Clerk as i32, ..Default::default() };
    let rate = timed(concurrency, duration, move |_, _| {
        let (store, body, actor) = (s.clone(), body.clone(), actor.clone());
        async move {
            let case = Uuid::now_v7();
            let metadata = EventMetadata::new(case, &actor, common::Channel::Window, chrono::Utc::now());
            let event = NewEvent::new("BenchEvent", body.to_vec());
            // Every command stores its idempotency key with its events.
            let key =
                IdempotencyRecord { key: format!("bench-{case}"), request_hash: "bench".into(), response: vec![1; 32] };
            store.append(&format!("bench-{case}"), ExpectedVersion::NoStream, &[event], &metadata, Some(&key)).await?;
            Ok(())
        }
    })
    .await?;
    Ok((rate, store))
}

/// The outbox relay publishing what `store`'s outbox holds to a JetStream
/// stream of its own, batch after batch until it is empty.
pub async fn relay_drain(store: EventStore, js: async_nats::jetstream::Context, prefix: &str) -> anyhow::Result<Rate> {
    let subjects = Subjects::new(prefix).map_err(anyhow::Error::msg)?;
    let relay = Relay::new(store, js.clone(), subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await?;
    let started = Instant::now();
    let mut ops = 0u64;
    loop {
        let n = relay.relay_once().await?;
        if n == 0 {
            break;
        }
        ops += n as u64;
    }
    let rate = Rate { ops, seconds: started.elapsed().as_secs_f64() };
    let _ = js.delete_stream(subjects.stream_name()).await;
    Ok(rate)
}

/// Raw JetStream publishes on a file-backed stream of one replica (as the
/// case events' stream), each awaiting its ack before the next.
pub async fn raw_publish(
    js: &async_nats::jetstream::Context,
    prefix: &str,
    concurrency: usize,
    duration: Duration,
    payload: usize,
) -> anyhow::Result<Rate> {
    let stream = format!("{}_RAW", prefix.to_ascii_uppercase());
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![format!("{prefix}.raw.>")],
        storage: async_nats::jetstream::stream::StorageType::File,
        num_replicas: 1,
        duplicate_window: Duration::from_secs(600),
        ..Default::default()
    })
    .await
    .context("creating the raw JetStream stream")?;
    let (js2, prefix2) = (js.clone(), prefix.to_owned());
    let body = bytes::Bytes::from(vec![7u8; payload]);
    let rate = timed(concurrency, duration, move |w, i| {
        let (js, subject, body) = (js2.clone(), format!("{prefix2}.raw.w{w}"), body.clone());
        async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, format!("{w}-{i}").as_str());
            js.publish_with_headers(subject, headers, body).await?.await?;
            Ok(())
        }
    })
    .await;
    let _ = js.delete_stream(&stream).await;
    rate
}

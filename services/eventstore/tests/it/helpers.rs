//! A store on a fresh database, events to append, and a counting projection.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{
    Consumer, ConsumerSettings, EVENT_STORE, EventMetadata, EventStore, Feed, Handler, HandlerError, Migrations,
    NewEvent, StoreGaps, migrate,
};
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_testkit::{TestDb, TestNats};

pub const SOURCE: &str = "intake";

pub async fn store(db: &TestDb, schema: &str) -> EventStore {
    migrate(&db.pool, schema, &[EVENT_STORE]).await.expect("migrate");
    EventStore::new(db.pool.clone(), schema, SOURCE).expect("store")
}

pub fn meta(case_id: Uuid) -> EventMetadata {
    EventMetadata {
        case_id,
        actor: "clerk-001".into(),
        role: "ROLE_CLERK".into(),
        actor_department: String::new(),
        channel: "CHANNEL_WINDOW".into(),
        correlation_id: "corr".into(),
        causation_id: "cause".into(),
        occurred_at: chrono::Utc::now(),
        trace: BTreeMap::new(),
    }
}

pub fn event(kind: &str) -> NewEvent {
    NewEvent::new(kind, kind.as_bytes().to_vec())
}

/// Case id of a test stream: streams are named `case-<uuid>`.
pub fn case_of(stream: &str) -> Uuid {
    stream.strip_prefix("case-").and_then(|s| s.parse().ok()).unwrap_or_else(Uuid::nil)
}

/// A projection that records every applied event in `applied`, in order.
/// Events of type "Poison" are refused as poison until `fixed` is set.
pub struct Recorder {
    pub schema: String,
    pub fixed: AtomicBool,
    /// When set, the next event fails with a transient error (and is redelivered).
    pub fail_next: AtomicBool,
}

pub const PROJECTION: Migrations = Migrations {
    component: "recorder",
    steps: &[(
        1,
        "CREATE TABLE {schema}.applied (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            stream_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            event_id TEXT NOT NULL)",
    )],
};

#[async_trait]
impl Handler for Recorder {
    async fn apply(&self, conn: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandlerError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(HandlerError::retry("the database blinked"));
        }
        if e.event_type == "Stuck" && !self.fixed.load(Ordering::SeqCst) {
            return Err(HandlerError::retry("a dependency keeps failing"));
        }
        if e.event_type == "Poison" && !self.fixed.load(Ordering::SeqCst) {
            return Err(HandlerError::poison("this projection does not understand Poison yet"));
        }
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.applied (stream_id, version, event_id) VALUES ($1, $2, $3)",
        ))
        .bind(&e.stream_id)
        .bind(e.stream_version as i64)
        .bind(&e.event_id)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// A recorder consumer on its own schema of `db`, reading `nats`' stream,
/// filling gaps from `stores`.
pub async fn recorder(
    db: &TestDb,
    nats: &TestNats,
    schema: &str,
    name: &str,
    stores: Vec<EventStore>,
) -> (Consumer<Recorder>, Arc<Recorder>) {
    migrate(&db.pool, schema, &[EVENT_STORE, PROJECTION]).await.expect("migrate projection");
    let handler =
        Arc::new(Recorder { schema: schema.into(), fixed: AtomicBool::new(false), fail_next: AtomicBool::new(false) });
    let consumer = Consumer::new(
        ConsumerSettings {
            name: name.into(),
            stream: nats.subjects.stream_name(),
            feed: Feed::Partitioned { subjects: nats.subjects.clone(), source: None },
            concurrency: 4,
            ack_wait: Duration::from_secs(5),
            max_deliveries: 3,
        },
        db.pool.clone(),
        schema,
        nats.js.clone(),
        handler.clone(),
        Arc::new(StoreGaps::new(stores)),
    )
    .expect("consumer");
    (consumer, handler)
}

/// Everything a recorder applied: (stream, version) in apply order.
pub async fn applied(db: &TestDb, schema: &str) -> Vec<(String, i64)> {
    sqlx::query_as(schema_sql(schema, "SELECT stream_id, version FROM {schema}.applied ORDER BY seq"))
        .fetch_all(&db.pool)
        .await
        .expect("read applied")
}

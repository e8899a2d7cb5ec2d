//! Rebuilding the read models without downtime (重建).
//!
//! [`Rebuilder::start`] migrates a fresh shadow schema
//! (`<schema>_rebuild_<n>`, the same migrations as the live one) and records
//! it in `read_model.shadow` (one rebuild at a time). [`Rebuilder::run`]
//! replays every stored event of the owning stores (`read_all` of each,
//! merged by recorded time) through the same fold into the shadow, in
//! batches of a few thousand events (one transaction each, committed
//! asynchronously: a crashed rebuild resumes from the shadow's checkpoints),
//! counting progress in `rebuilds`, and keeps reading
//! until every store is read dry — so the events recorded meanwhile are
//! replayed too, in recorded order. The live consumer meanwhile keeps
//! applying events to the active read models, which the queries keep
//! reading. Last, the switch-over, in one transaction holding the control
//! row `FOR UPDATE` (so no live transaction is half-way, and the next one
//! writes to the new schema): every stream the live consumer has applied
//! further than the shadow is caught up from its store (recorded order),
//! then `read_model.active` becomes the shadow. Nothing is lost: an event
//! the replay read is in the shadow, one the live consumer applied before
//! the switch is caught up, and any later one reaches the new active schema
//! through the live consumer, which orders it by that schema's own
//! checkpoints and fills gaps from the stores. The previous schema stays,
//! unused, for comparison.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_eventstore::{Checkpoint, EVENT_STORE, EventStore, StoredEvent, migrate};
use yiciban_proto::events::v1::EventEnvelope;

use crate::projector::{CONSUMER, Projector};
use crate::schema::TRACKING;
use yiciban_eventstore::sql::{names_sql, schema_sql};

/// Read models a rebuild may name; they are folded together, so each
/// rebuilds all of them.
pub const PROJECTIONS: [&str; 5] = ["case_summary", "timeline", "task_rows", "worklists", "statistics"];

/// Events replayed in one transaction (progress is recorded with each).
const REPLAY_BATCH: usize = 4000;
/// Events replayed in one transaction when the replay is paced.
const PACED_BATCH: usize = 8;
/// Events read from a store at once.
const READ_BATCH: i64 = 5000;

/// Why a rebuild did not start or failed.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("rebuild {0} is running; wait for it to complete")]
    Running(Uuid),
    #[error("the idempotency key was used for a different rebuild request")]
    KeyReused,
    #[error("database error while {0}")]
    Db(&'static str, #[source] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> RebuildError {
    move |e| RebuildError::Db(context, e)
}

/// A rebuild as `rebuilds` records it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub rebuild_id: Uuid,
    pub projection: String,
    pub target_schema: String,
    /// running, completed, failed
    pub state: String,
    pub events_applied: i64,
    pub events_total: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: String,
}

/// Migrates a shadow schema. `migrate`'s future is not `Send` for every
/// lifetime (StartRebuild's must be), so it runs on a blocking thread.
async fn migrate_shadow(pool: PgPool, schema: String) -> Result<(), String> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(migrate(&pool, &schema, &[EVENT_STORE, TRACKING])).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

struct Registration {
    id: Uuid,
    key: String,
    request_hash: String,
    projection: String,
    target: String,
    total: i64,
    started_at: DateTime<Utc>,
}

enum Registered {
    Started,
    Running(Uuid),
    Repeat(Uuid),
}

/// Starts, runs and reports rebuilds.
pub struct Rebuilder {
    pool: PgPool,
    projector: Arc<Projector>,
    stores: Vec<EventStore>,
    pause: std::time::Duration,
}

impl std::fmt::Debug for Rebuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuilder").field("schema", &self.projector.control_schema()).finish_non_exhaustive()
    }
}

/// One owning store being read in commit order.
struct Cursor<'a> {
    store: &'a EventStore,
    after: Checkpoint,
    buffer: VecDeque<StoredEvent>,
    dry: bool,
}

impl Cursor<'_> {
    /// Reads the next events into the buffer; returns whether there were
    /// any (else the store is dry for now).
    async fn read(&mut self) -> Result<bool, RebuildError> {
        let events = self
            .store
            .read_all(self.after, READ_BATCH)
            .await
            .map_err(|e| RebuildError::Other(format!("reading the {} store: {e}", self.store.source())))?;
        let more = match events.last() {
            Some(last) => {
                self.after = last.checkpoint();
                true
            }
            None => false,
        };
        self.dry = !more;
        self.buffer.extend(events);
        Ok(more)
    }
}

impl Rebuilder {
    /// A rebuilder replaying `stores` through `projector`, pausing `pause`
    /// per replayed event (zero: replays in large batches; otherwise in
    /// small ones, each followed by its events' pauses).
    pub fn new(pool: PgPool, projector: Arc<Projector>, stores: Vec<EventStore>, pause: std::time::Duration) -> Self {
        Rebuilder { pool, projector, stores, pause }
    }

    fn control(&self) -> &str {
        self.projector.control_schema()
    }

    /// Registers a rebuild and its shadow schema; returns its id and whether
    /// it is new (false: the same request under the same key before). The
    /// caller runs it with [`Rebuilder::run`].
    pub async fn start(
        &self,
        idempotency_key: &str,
        projection: &str,
        started_at: DateTime<Utc>,
    ) -> Result<(Uuid, bool), RebuildError> {
        let c = self.control();
        let request_hash = yiciban_eventstore::request_fingerprint(projection.as_bytes());
        let earlier: Option<(Uuid, String)> = sqlx::query_as(schema_sql(
            c,
            "SELECT rebuild_id, request_hash FROM {schema}.rebuilds WHERE idempotency_key = $1",
        ))
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading the rebuilds"))?;
        if let Some((id, hash)) = earlier {
            return if hash == request_hash { Ok((id, false)) } else { Err(RebuildError::KeyReused) };
        }
        if let Some(running) = self.running().await? {
            return Err(RebuildError::Running(running));
        }
        let n: i64 = sqlx::query_scalar(schema_sql(c, "SELECT nextval('{schema}.rebuild_numbers')"))
            .fetch_one(&self.pool)
            .await
            .map_err(db("numbering a rebuild"))?;
        let target = format!("{c}_rebuild_{n}");
        migrate_shadow(self.pool.clone(), target.clone())
            .await
            .map_err(|e| RebuildError::Other(format!("migrating {target}: {e}")))?;
        let mut total = 0i64;
        for store in &self.stores {
            let count: i64 = sqlx::query_scalar(schema_sql(store.schema(), "SELECT count(*) FROM {schema}.events"))
                .fetch_one(&self.pool)
                .await
                .map_err(db("counting the stored events"))?;
            total += count;
        }
        let id = Uuid::now_v7();
        let registered = self
            .register(Registration {
                id,
                key: idempotency_key.to_owned(),
                request_hash: request_hash.clone(),
                projection: projection.to_owned(),
                target: target.clone(),
                total,
                started_at,
            })
            .await;
        match registered {
            Ok(Registered::Started) => {}
            Ok(Registered::Running(running)) => {
                self.drop_schema(&target).await;
                return Err(RebuildError::Running(running));
            }
            Ok(Registered::Repeat(earlier)) => {
                self.drop_schema(&target).await;
                return Ok((earlier, false));
            }
            Err(e) => {
                self.drop_schema(&target).await;
                return Err(e);
            }
        }
        tracing::info!(rebuild_id = %id, target, total, "rebuild started");
        Ok((id, true))
    }

    /// Records the rebuild and names its shadow, unless one runs.
    async fn register(&self, r: Registration) -> Result<Registered, RebuildError> {
        let c = self.control();
        let mut tx = self.pool.begin().await.map_err(db("starting a rebuild"))?;
        let (shadow, running): (Option<String>, Option<Uuid>) =
            sqlx::query_as(schema_sql(c, "SELECT shadow, rebuild_id FROM {schema}.read_model FOR UPDATE"))
                .fetch_one(&mut *tx)
                .await
                .map_err(db("locking the read model"))?;
        if shadow.is_some() {
            return Ok(Registered::Running(running.unwrap_or_default()));
        }
        let inserted = sqlx::query(schema_sql(c,
            "INSERT INTO {schema}.rebuilds (rebuild_id, idempotency_key, request_hash, projection, target_schema, state,
                events_total, started_at)
             VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) ON CONFLICT (idempotency_key) DO NOTHING"))
        .bind(r.id)
        .bind(&r.key)
        .bind(&r.request_hash)
        .bind(&r.projection)
        .bind(&r.target)
        .bind(r.total)
        .bind(r.started_at)
        .execute(&mut *tx)
        .await
        .map_err(db("recording a rebuild"))?;
        if inserted.rows_affected() == 0 {
            // The same key, concurrently.
            let earlier: Option<Uuid> = sqlx::query_scalar(schema_sql(
                c,
                "SELECT rebuild_id FROM {schema}.rebuilds WHERE idempotency_key = $1 AND request_hash = $2",
            ))
            .bind(&r.key)
            .bind(&r.request_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("reading the rebuilds"))?;
            return earlier.map(Registered::Repeat).ok_or(RebuildError::KeyReused);
        }
        sqlx::query(schema_sql(c, "UPDATE {schema}.read_model SET shadow = $1, rebuild_id = $2"))
            .bind(&r.target)
            .bind(r.id)
            .execute(&mut *tx)
            .await
            .map_err(db("naming the shadow"))?;
        tx.commit().await.map_err(db("starting a rebuild"))?;
        Ok(Registered::Started)
    }

    /// The running rebuild, if any.
    pub async fn running(&self) -> Result<Option<Uuid>, RebuildError> {
        sqlx::query_scalar(schema_sql(
            self.control(),
            "SELECT rebuild_id FROM {schema}.read_model WHERE shadow IS NOT NULL",
        ))
        .fetch_optional(&self.pool)
        .await
        .map(Option::flatten)
        .map_err(db("reading the read model"))
    }

    /// The progress of a rebuild.
    pub async fn progress(&self, id: Uuid) -> Result<Option<Progress>, RebuildError> {
        sqlx::query_as(schema_sql(
            self.control(),
            "SELECT rebuild_id, projection, target_schema, state, events_applied, events_total, started_at,
                    finished_at, error
             FROM {schema}.rebuilds WHERE rebuild_id = $1",
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a rebuild"))
    }

    /// Replays and switches over; on failure records it, forgets the shadow
    /// and drops its schema (the previous read models stay in use).
    pub async fn run(self: Arc<Self>, id: Uuid) -> Result<(), RebuildError> {
        let Some(progress) = self.progress(id).await? else {
            return Err(RebuildError::Other(format!("no rebuild {id}")));
        };
        let target = progress.target_schema;
        // Recorded by `start` from a name `migrate` accepted; checked again
        // before it is written into SQL.
        yiciban_eventstore::migrate::validate_schema_name(&target)
            .map_err(|e| RebuildError::Other(format!("rebuild {id} names its schema wrongly: {e}")))?;
        let result = match self.replay(id, &target).await {
            Ok(applied) => self.switch_over(id, &target, applied).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            tracing::error!(rebuild_id = %id, error = %e, "rebuild failed");
            if let Err(e2) = self.fail(id, &target, &e.to_string()).await {
                tracing::error!(rebuild_id = %id, error = %e2, "recording a failed rebuild failed");
            }
        }
        result
    }

    /// Runs the rebuild left running by a previous process (the replay is
    /// idempotent: it continues where the shadow's checkpoints stand).
    pub async fn resume(self: Arc<Self>) -> Result<(), RebuildError> {
        match self.running().await? {
            Some(id) => self.run(id).await,
            None => Ok(()),
        }
    }

    async fn replay(&self, id: Uuid, target: &str) -> Result<u64, RebuildError> {
        let mut cursors: Vec<Cursor<'_>> = self
            .stores
            .iter()
            .map(|store| Cursor { store, after: Checkpoint::default(), buffer: VecDeque::new(), dry: false })
            .collect();
        // Paced (tests): small batches, each followed by a pause per event.
        let limit = if self.pause.is_zero() { REPLAY_BATCH } else { PACED_BATCH };
        let mut applied = 0u64;
        let (mut batch, mut more) = next_batch(&mut cursors, limit).await?;
        while !batch.is_empty() {
            // The next batch is read while this one is written.
            let write = self.replay_batch(id, target, &batch, applied + batch.len() as u64);
            let (next, more_next) = if more {
                let (written, next) = tokio::join!(write, next_batch(&mut cursors, limit));
                written?;
                next?
            } else {
                write.await?;
                (Vec::new(), false)
            };
            applied += batch.len() as u64;
            (batch, more) = (next, more_next);
        }
        record_progress(&self.pool, self.control(), id, applied).await?;
        Ok(applied)
    }

    /// Folds `batch` into `target` in one transaction, recording `applied`
    /// events as replayed; then pauses, if pacing, for each event.
    async fn replay_batch(
        &self,
        id: Uuid,
        target: &str,
        batch: &[EventEnvelope],
        applied: u64,
    ) -> Result<(), RebuildError> {
        let mut tx = self.pool.begin().await.map_err(db("starting a replay transaction"))?;
        // A crashed rebuild is failed or resumed from the shadow's
        // checkpoints, so the replay need not wait for the WAL flush; the
        // switch-over commits synchronously, which flushes this too.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await
            .map_err(db("starting a replay transaction"))?;
        self.projector.apply_ordered_batch(&mut tx, target, batch).await.map_err(|e| {
            let (first, last) = (&batch[0].event_id, &batch[batch.len() - 1].event_id);
            RebuildError::Other(format!("replaying events {first}..{last}: {e}"))
        })?;
        record_progress(&mut *tx, self.control(), id, applied).await?;
        tx.commit().await.map_err(db("committing replayed events"))?;
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause * batch.len() as u32).await;
        }
        Ok(())
    }

    /// Catches the shadow up with the live consumer's checkpoints and makes
    /// it the active read model, in one transaction.
    async fn switch_over(&self, id: Uuid, target: &str, applied: u64) -> Result<(), RebuildError> {
        let c = self.control();
        let mut tx = self.pool.begin().await.map_err(db("starting the switch-over"))?;
        sqlx::query(schema_sql(c, "SELECT active FROM {schema}.read_model FOR UPDATE"))
            .execute(&mut *tx)
            .await
            .map_err(db("locking the read model"))?;
        let behind: Vec<(String, i64, i64)> = sqlx::query_as(names_sql(
            "SELECT l.stream_id, coalesce(s.version, 0), l.version FROM {control}.consumer_checkpoints l
             LEFT JOIN {target}.consumer_checkpoints s ON s.consumer = l.consumer AND s.stream_id = l.stream_id
             WHERE l.consumer = $1 AND coalesce(s.version, 0) < l.version",
            &[("control", c), ("target", target)],
        ))
        .bind(CONSUMER)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("comparing checkpoints"))?;
        // What the live consumer applied beyond the replay, in recorded order.
        let mut missing = Vec::new();
        for (stream_id, from, to) in behind {
            let (from, to) = (u64::try_from(from).unwrap_or_default() + 1, u64::try_from(to).unwrap_or_default());
            let mut found = false;
            for store in &self.stores {
                let events = store
                    .read_stream_range(&stream_id, from, to)
                    .await
                    .map_err(|e| RebuildError::Other(format!("reading {stream_id}: {e}")))?;
                if !events.is_empty() {
                    missing.extend(events.into_iter().map(|e| (e.recorded_at, e.to_envelope(store.source()))));
                    found = true;
                    break;
                }
            }
            if !found {
                return Err(RebuildError::Other(format!(
                    "no owning store holds versions {from}..={to} of {stream_id}"
                )));
            }
        }
        missing.sort_by_key(|(at, _)| *at);
        let missing: Vec<EventEnvelope> = missing.into_iter().map(|(_, envelope)| envelope).collect();
        let caught_up = self
            .projector
            .apply_ordered_batch(&mut tx, target, &missing)
            .await
            .map_err(|e| RebuildError::Other(format!("catching up: {e}")))? as u64;
        sqlx::query(schema_sql(c, "UPDATE {schema}.read_model SET active = $1, shadow = NULL, rebuild_id = NULL"))
            .bind(target)
            .execute(&mut *tx)
            .await
            .map_err(db("switching over"))?;
        sqlx::query(schema_sql(
            c,
            "UPDATE {schema}.rebuilds SET state = 'completed', finished_at = now(), events_applied = $2,
                events_total = greatest(events_total, $2)
             WHERE rebuild_id = $1",
        ))
        .bind(id)
        .bind((applied + caught_up) as i64)
        .execute(&mut *tx)
        .await
        .map_err(db("completing a rebuild"))?;
        tx.commit().await.map_err(db("committing the switch-over"))?;
        tracing::info!(rebuild_id = %id, target, applied, caught_up, "rebuild switched over");
        Ok(())
    }

    async fn fail(&self, id: Uuid, target: &str, error: &str) -> Result<(), RebuildError> {
        let c = self.control();
        let mut tx = self.pool.begin().await.map_err(db("recording a failed rebuild"))?;
        sqlx::query(schema_sql(
            c,
            "UPDATE {schema}.read_model SET shadow = NULL, rebuild_id = NULL WHERE rebuild_id = $1",
        ))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db("forgetting the shadow"))?;
        sqlx::query(schema_sql(
            c,
            "UPDATE {schema}.rebuilds SET state = 'failed', finished_at = now(), error = $2 WHERE rebuild_id = $1",
        ))
        .bind(id)
        .bind(error)
        .execute(&mut *tx)
        .await
        .map_err(db("recording a failed rebuild"))?;
        tx.commit().await.map_err(db("recording a failed rebuild"))?;
        self.drop_schema(target).await;
        Ok(())
    }

    async fn drop_schema(&self, schema: &str) {
        if schema == self.control() {
            return;
        }
        if let Err(e) =
            sqlx::query(schema_sql(schema, "DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&self.pool).await
        {
            tracing::warn!(schema, error = %e, "dropping a rebuild schema failed");
        }
    }
}

async fn record_progress<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    control: &str,
    id: Uuid,
    applied: u64,
) -> Result<(), RebuildError> {
    sqlx::query(schema_sql(
        control,
        "UPDATE {schema}.rebuilds SET events_applied = $2, events_total = greatest(events_total, $2)
         WHERE rebuild_id = $1",
    ))
    .bind(id)
    .bind(applied as i64)
    .execute(conn)
    .await
    .map_err(db("recording rebuild progress"))?;
    Ok(())
}

/// Up to `limit` next events in recorded order, and whether there may be
/// more (false: every store was read dry).
async fn next_batch(cursors: &mut [Cursor<'_>], limit: usize) -> Result<(Vec<EventEnvelope>, bool), RebuildError> {
    let mut batch = Vec::with_capacity(limit);
    while batch.len() < limit {
        match next_event(cursors).await? {
            Some(envelope) => batch.push(envelope),
            None => return Ok((batch, false)),
        }
    }
    Ok((batch, true))
}

/// The next event of the stores in recorded order (the earliest of the
/// stores' next events, each store read in commit order); `None` once every
/// store is read dry, having looked once more for events committed meanwhile.
async fn next_event(cursors: &mut [Cursor<'_>]) -> Result<Option<EventEnvelope>, RebuildError> {
    loop {
        for cursor in cursors.iter_mut() {
            if !cursor.buffer.is_empty() || cursor.dry {
                continue;
            }
            cursor.read().await?;
        }
        let next = cursors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.buffer.front().map(|e| (e.recorded_at, i)))
            .min()
            .map(|(_, i)| i);
        if let Some(i) = next {
            let cursor = &mut cursors[i];
            let event = cursor.buffer.pop_front().expect("a buffered event");
            return Ok(Some(event.to_envelope(cursor.store.source())));
        }
        // Every store read dry: look once more for events committed
        // meanwhile, else done.
        if cursors.iter().all(|c| c.dry) {
            let mut more = false;
            for cursor in cursors.iter_mut() {
                more |= cursor.read().await?;
            }
            if !more {
                return Ok(None);
            }
        }
    }
}

//! The durable consumer's handler: applies one case event to the read models
//! inside the consumer's transaction. The case row is locked (`FOR UPDATE`)
//! so that events of the same case from different streams, applied
//! concurrently, fold one after another; an event whose timeline row already
//! exists was applied before and changes nothing.
//!
//! The read models live in the schema the control row `read_model.active`
//! names (the configured schema until a rebuild switched over; see
//! [`crate::rebuild`]). A schema other than the configured one keeps its own
//! per-stream checkpoints (same consumer name) and fills gaps from the
//! owning stores, so it folds every stream in order, without a hole, whether
//! an event reaches it from the live consumer, a rebuild's replay or its
//! catch-up.
//!
//! Events are folded in memory and written in one statement: the timeline
//! rows, the case rows, only the task rows the events changed and the
//! checkpoints. A case's tasks are not in its row's document but in their
//! own rows, read with the locked case (ADR 0042): an event of the case
//! rewrites the small case document and the one task it changed.
//! [`Projector::apply_ordered_batch`] does this for many events at once (the
//! rebuild's replay): it locks the checkpoints and case rows of the whole
//! batch, folds every event in order, and writes each changed row once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgConnection;
use uuid::Uuid;
use yiciban_eventstore::{GapSource, Handler, HandlerError};
use yiciban_platform::IdentityKey;
use yiciban_proto::events::v1::EventEnvelope;

use crate::names::LiveNames;
use crate::personal::PersonalKeys;
use crate::projection::{self, CaseView, Context, Decoded, TaskView, TimelineEntry};
use yiciban_eventstore::sql::schema_sql;

/// Name of the durable consumer (and its checkpoint key).
pub const CONSUMER: &str = yiciban_eventstore::identities::TRACKING_PROJECTION;

/// Applies case events to the tracking tables of one schema.
pub struct Projector {
    /// The configured schema: the control tables and the live checkpoints.
    schema: String,
    names: Arc<LiveNames>,
    identity_key: IdentityKey,
    gaps: Arc<dyn GapSource>,
    personal: PersonalKeys,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl Projector {
    /// A projector whose control tables are in `schema` (migrated with
    /// [`crate::schema::CONTROL`]), reading missing events from `gaps` and
    /// opening applicants' personal data with `personal`.
    pub fn new(
        schema: &str,
        names: Arc<LiveNames>,
        identity_key: IdentityKey,
        gaps: Arc<dyn GapSource>,
        personal: PersonalKeys,
    ) -> Self {
        Projector { schema: schema.to_owned(), names, identity_key, gaps, personal }
    }

    /// The configured schema.
    pub fn control_schema(&self) -> &str {
        &self.schema
    }

    fn fold(&self, view: &mut CaseView, event: &Decoded) -> TimelineEntry {
        let names = self.names.current();
        projection::apply(view, event, &Context { names: &names, identity_key: &self.identity_key })
    }

    /// The schema an event goes to now. Locks the control row `FOR SHARE`,
    /// so that a switch-over (which takes it `FOR UPDATE`) waits for this
    /// transaction, and the next one writes to the new schema.
    async fn active(&self, conn: &mut PgConnection) -> Result<String, sqlx::Error> {
        let active: String =
            sqlx::query_scalar(schema_sql(&self.schema, "SELECT active FROM {schema}.read_model FOR SHARE"))
                .fetch_one(conn)
                .await?;
        // Checked again before it is written into SQL (see `Repo::active`).
        yiciban_eventstore::migrate::validate_schema_name(&active).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(active)
    }

    /// Applies `envelope` to the read models of `target` in stream order, by
    /// `target`'s own checkpoints: nothing when that version was applied,
    /// the missing versions first (read from the owning store) when it comes
    /// after a gap. Returns the number of events folded.
    pub async fn apply_ordered(
        &self,
        conn: &mut PgConnection,
        target: &str,
        envelope: &EventEnvelope,
    ) -> Result<usize, HandlerError> {
        self.apply_ordered_batch(conn, target, std::slice::from_ref(envelope)).await
    }

    /// Applies `envelopes` in the given order as [`Projector::apply_ordered`]
    /// applies each, in one round of reads and one write: the checkpoints
    /// and case rows of the batch are locked (those that exist in key order,
    /// then those created), every event is folded in memory, and each
    /// changed row is written once. Returns the number of events folded.
    pub async fn apply_ordered_batch(
        &self,
        conn: &mut PgConnection,
        target: &str,
        envelopes: &[EventEnvelope],
    ) -> Result<usize, HandlerError> {
        let retry = HandlerError::retry;
        let of_cases: Vec<EventEnvelope>;
        let envelopes = if envelopes.iter().all(of_a_case) {
            envelopes
        } else {
            of_cases = envelopes.iter().filter(|e| of_a_case(e)).cloned().collect();
            &of_cases
        };
        if envelopes.is_empty() {
            return Ok(0);
        }
        self.names.learn_from(envelopes).await;
        let streams: Vec<String> =
            envelopes.iter().map(|e| e.stream_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut last = lock_checkpoints(conn, target, &streams).await.map_err(retry)?;
        // The events to fold, in order, each stream without a gap.
        let mut decoded = Vec::with_capacity(envelopes.len());
        let mut decode = |event: &EventEnvelope| match Decoded::of(event) {
            Ok(d) => decoded.push(d),
            // The live consumer records it as poison; a copy skips it.
            Err(e) => tracing::warn!(target, event_id = %event.event_id, error = %e, "undecodable event skipped"),
        };
        let mut advanced: BTreeMap<&str, u64> = BTreeMap::new();
        for envelope in envelopes {
            let at = last.get(&envelope.stream_id).copied().unwrap_or_default();
            if envelope.stream_version <= at {
                continue;
            }
            if envelope.stream_version > at + 1 {
                let missing = self
                    .gaps
                    .read(&envelope.source, &envelope.stream_id, at + 1, envelope.stream_version - 1)
                    .await
                    .map_err(HandlerError::Retry)?;
                let contiguous = missing.len() as u64 == envelope.stream_version - at - 1
                    && missing.iter().enumerate().all(|(i, e)| e.stream_version == at + 1 + i as u64);
                if !contiguous {
                    return Err(HandlerError::retry(format!(
                        "the owning store of {} returned {} of versions {}..={}",
                        envelope.stream_id,
                        missing.len(),
                        at + 1,
                        envelope.stream_version - 1
                    )));
                }
                missing.iter().for_each(&mut decode);
            }
            decode(envelope);
            last.insert(envelope.stream_id.clone(), envelope.stream_version);
            advanced.insert(&envelope.stream_id, envelope.stream_version);
        }
        self.personal.open(conn, &mut decoded).await?;
        let mut writes = Writes::default();
        for (stream, version) in advanced {
            writes.ck_streams.push(stream.to_owned());
            writes.ck_versions.push(version as i64);
        }
        let folded = self.fold_batch(conn, target, &decoded, &mut writes).await.map_err(handler_error)?;
        writes.write(conn, target, false).await.map_err(handler_error)?;
        Ok(folded)
    }

    /// Folds `events` (in order) into the case rows of `s`, locked, skipping
    /// those whose timeline row exists; adds what changed to `writes`.
    async fn fold_batch(
        &self,
        conn: &mut PgConnection,
        s: &str,
        events: &[Decoded],
        writes: &mut Writes,
    ) -> Result<usize, sqlx::Error> {
        if events.is_empty() {
            return Ok(0);
        }
        let case_ids: Vec<Uuid> = events.iter().map(|e| e.info.case_id).collect::<BTreeSet<_>>().into_iter().collect();
        let lock = schema_sql(
            s,
            "SELECT case_id, doc FROM {schema}.case_views WHERE case_id = ANY($1) ORDER BY case_id FOR UPDATE",
        );
        let mut docs: Vec<(Uuid, serde_json::Value)> =
            sqlx::query_as(lock.clone()).bind(&case_ids).fetch_all(&mut *conn).await?;
        if docs.len() < case_ids.len() {
            // Rows that do not exist yet: create them empty (a concurrent
            // creator makes this wait, then do nothing), then lock them.
            let known: HashSet<Uuid> = docs.iter().map(|(id, _)| *id).collect();
            let missing: Vec<Uuid> = case_ids.iter().copied().filter(|id| !known.contains(id)).collect();
            sqlx::query(schema_sql(
                s,
                "INSERT INTO {schema}.case_views (case_id, doc) SELECT id, '{}'::jsonb FROM unnest($1::uuid[]) AS id
                 ORDER BY id ON CONFLICT (case_id) DO NOTHING",
            ))
            .bind(&missing)
            .execute(&mut *conn)
            .await?;
            docs.extend(
                sqlx::query_as::<_, (Uuid, serde_json::Value)>(lock.clone())
                    .bind(&missing)
                    .fetch_all(&mut *conn)
                    .await?,
            );
        }
        let keys: Vec<String> = events.iter().map(event_key).collect();
        let seen: Vec<String> =
            sqlx::query_scalar(schema_sql(s, "SELECT event_key FROM {schema}.timeline WHERE event_key = ANY($1)"))
                .bind(&keys)
                .fetch_all(&mut *conn)
                .await?;
        let mut seen: HashSet<String> = seen.into_iter().collect();
        // Each case as loaded (its tasks, to write only the changed ones)
        // and as folded.
        let mut views = HashMap::with_capacity(docs.len());
        for (case_id, doc) in docs {
            views.insert(case_id, view_of(doc)?);
        }
        attach_tasks(conn, s, &mut views).await?;
        let mut cases: HashMap<Uuid, (BTreeMap<String, TaskView>, CaseView, usize)> =
            views.into_iter().map(|(case_id, view)| (case_id, (view.tasks.clone(), view, usize::MAX))).collect();
        let mut folded = 0;
        for (i, (event, key)) in events.iter().zip(keys).enumerate() {
            if !seen.insert(key.clone()) {
                continue;
            }
            let case_id = event.info.case_id;
            let (_, view, touched) = cases.entry(case_id).or_default();
            let entry = self.fold(view, event);
            *touched = i;
            writes.timeline(case_id, key, &entry)?;
            folded += 1;
        }
        // Tasks in the order their cases were last folded: a task id two
        // cases name ends as the later one wrote it.
        let mut touched: Vec<(usize, Uuid)> =
            cases.iter().filter(|(_, (_, _, t))| *t != usize::MAX).map(|(id, (_, _, t))| (*t, *id)).collect();
        touched.sort_unstable();
        let mut tasks: HashMap<&str, usize> = HashMap::new();
        for (_, case_id) in &touched {
            let (before, view, _) = &cases[case_id];
            writes.case(*case_id, view)?;
            for (id, task) in &view.tasks {
                if before.get(id) != Some(task) {
                    match tasks.get(task.task_id.as_str()) {
                        Some(&at) => writes.replace_task(at, *case_id, task)?,
                        None => {
                            tasks.insert(&task.task_id, writes.task_ids.len());
                            writes.task(*case_id, task)?;
                        }
                    }
                }
            }
        }
        Ok(folded)
    }

    /// Applies `event` to the configured schema's read models unless it was
    /// applied already; returns whether it was.
    pub async fn project(&self, conn: &mut PgConnection, event: &Decoded) -> Result<bool, sqlx::Error> {
        let schema = self.schema.clone();
        self.project_into(conn, &schema, event).await
    }

    /// Applies `event` to the read models of `s` unless it was applied
    /// already; returns whether it was.
    pub async fn project_into(&self, conn: &mut PgConnection, s: &str, event: &Decoded) -> Result<bool, sqlx::Error> {
        let case_id = event.info.case_id;
        let lock = schema_sql(s, "SELECT doc FROM {schema}.case_views WHERE case_id = $1 FOR UPDATE");
        let doc: Option<serde_json::Value> =
            sqlx::query_scalar(lock.clone()).bind(case_id).fetch_optional(&mut *conn).await?;
        let doc = match doc {
            Some(doc) => doc,
            None => {
                // The row does not exist yet: create it empty (a concurrent
                // creator makes this wait, then do nothing), then lock it.
                sqlx::query(schema_sql(s,
                    "INSERT INTO {schema}.case_views (case_id, doc) VALUES ($1, '{}'::jsonb) ON CONFLICT (case_id) DO NOTHING"))
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
                sqlx::query_scalar(lock.clone()).bind(case_id).fetch_one(&mut *conn).await?
            }
        };
        let mut views = HashMap::from([(case_id, view_of(doc)?)]);
        attach_tasks(conn, s, &mut views).await?;
        let mut view = views.remove(&case_id).unwrap_or_default();
        let before = view.tasks.clone();
        let entry = self.fold(&mut view, event);
        let mut writes = Writes::default();
        writes.timeline(case_id, event_key(event), &entry)?;
        writes.case(case_id, &view)?;
        for (id, task) in &view.tasks {
            if before.get(id) != Some(task) {
                writes.task(case_id, task)?;
            }
        }
        // Under the case lock, the timeline row's insert tells whether the
        // event was applied before; if so, nothing else is written.
        writes.write(conn, s, true).await
    }
}

/// The rows a fold writes, as the columns of one statement.
#[derive(Default)]
struct Writes {
    case_ids: Vec<Uuid>,
    docs: Vec<String>,
    case_numbers: Vec<String>,
    package_ids: Vec<String>,
    lead_departments: Vec<String>,
    officer_ids: Vec<String>,
    statuses: Vec<&'static str>,
    warnings: Vec<i16>,
    opens: Vec<bool>,
    promised_by: Vec<Option<NaiveDate>>,
    last_event_at: Vec<Option<DateTime<Utc>>>,
    task_ids: Vec<String>,
    task_cases: Vec<Uuid>,
    departments: Vec<String>,
    states: Vec<&'static str>,
    task_opens: Vec<bool>,
    assignees: Vec<String>,
    task_warnings: Vec<i16>,
    escalated: Vec<bool>,
    clock_stopped: Vec<bool>,
    due_by: Vec<Option<NaiveDate>>,
    created_at: Vec<Option<DateTime<Utc>>>,
    task_docs: Vec<String>,
    entry_cases: Vec<Uuid>,
    entry_keys: Vec<String>,
    entry_at: Vec<DateTime<Utc>>,
    entries: Vec<String>,
    ck_streams: Vec<String>,
    ck_versions: Vec<i64>,
}

/// The statement of [`Writes::write`], with `$when` after the case and task
/// rows (a literal, so the statement stays one `&'static str`).
macro_rules! write_statement {
    ($when:literal) => {
        concat!(
            "WITH entries AS (
                INSERT INTO {schema}.timeline (case_id, event_key, occurred_at, entry)
                SELECT case_id, event_key, occurred_at, entry::jsonb
                FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[])
                    WITH ORDINALITY AS e (case_id, event_key, occurred_at, entry, n)
                ORDER BY n
                ON CONFLICT (event_key) DO NOTHING
                RETURNING 1
            ), cases AS (
                INSERT INTO {schema}.case_views AS c (case_id, doc, case_number, package_id, lead_department, officer_id,
                    status, warning, open, promised_by, last_event_at, last_event_day, updated_at)
                SELECT case_id, doc::jsonb, case_number, package_id, lead_department, officer_id, status, warning,
                    open, promised_by, last_event_at, (last_event_at AT TIME ZONE 'UTC')::date, now()
                FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                    $12::int2[], $13::bool[], $14::date[], $15::timestamptz[])
                    AS v (case_id, doc, case_number, package_id, lead_department, officer_id, status, warning, open,
                        promised_by, last_event_at)
                ",
            $when,
            "
                ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc, case_number = excluded.case_number,
                    package_id = excluded.package_id, lead_department = excluded.lead_department,
                    officer_id = excluded.officer_id, status = excluded.status, warning = excluded.warning,
                    open = excluded.open, promised_by = excluded.promised_by, last_event_at = excluded.last_event_at,
                    last_event_day = excluded.last_event_day, updated_at = excluded.updated_at
            ), tasks AS (
                INSERT INTO {schema}.task_rows (task_id, case_id, department, state, open, assignee, warning, escalated,
                    clock_stopped, due_by, created_at, doc, updated_at)
                SELECT task_id, case_id, department, state, open, assignee, warning, escalated, clock_stopped,
                    due_by, created_at, doc::jsonb, now()
                FROM unnest($16::text[], $17::uuid[], $18::text[], $19::text[], $20::bool[], $21::text[],
                    $22::int2[], $23::bool[], $24::bool[], $25::date[], $26::timestamptz[], $27::text[])
                    AS t (task_id, case_id, department, state, open, assignee, warning, escalated, clock_stopped,
                        due_by, created_at, doc)
                ",
            $when,
            "
                ON CONFLICT (task_id) DO UPDATE SET department = excluded.department, state = excluded.state,
                    open = excluded.open, assignee = excluded.assignee, warning = excluded.warning,
                    escalated = excluded.escalated, clock_stopped = excluded.clock_stopped, due_by = excluded.due_by,
                    created_at = excluded.created_at, doc = excluded.doc, updated_at = excluded.updated_at
            ), checkpoints AS (
                INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version)
                SELECT $28, stream_id, version FROM unnest($29::text[], $30::int8[]) AS k (stream_id, version)
                ON CONFLICT (consumer, stream_id) DO UPDATE SET version = excluded.version
            )
            SELECT count(*) FROM entries"
        )
    };
}

impl Writes {
    fn case(&mut self, case_id: Uuid, view: &CaseView) -> sqlx::Result<()> {
        let status = view.status();
        self.case_ids.push(case_id);
        self.docs.push(json(view)?);
        self.case_numbers.push(view.case_number.clone());
        self.package_ids.push(view.package_id.clone());
        self.lead_departments.push(view.lead_department.clone());
        self.officer_ids.push(view.officer_id.clone());
        self.statuses.push(status.as_str());
        self.warnings.push(view.warning().rank());
        self.opens.push(!status.is_terminal());
        self.promised_by.push(view.promised_by);
        self.last_event_at.push(view.last_event_at);
        Ok(())
    }

    fn task(&mut self, case_id: Uuid, task: &TaskView) -> sqlx::Result<()> {
        self.task_ids.push(task.task_id.clone());
        self.task_cases.push(case_id);
        self.departments.push(task.department.clone());
        self.states.push(task.state.as_str());
        self.task_opens.push(task.state.is_open());
        self.assignees.push(task.assignee.clone());
        self.task_warnings.push(task.warning.rank());
        self.escalated.push(task.escalated);
        self.clock_stopped.push(task.clock_stopped());
        self.due_by.push(task.due_by);
        self.created_at.push(task.since);
        self.task_docs.push(json(task)?);
        Ok(())
    }

    /// Puts `task` of `case_id` in place of the task row `at`.
    fn replace_task(&mut self, at: usize, case_id: Uuid, task: &TaskView) -> sqlx::Result<()> {
        self.task_cases[at] = case_id;
        self.departments[at] = task.department.clone();
        self.states[at] = task.state.as_str();
        self.task_opens[at] = task.state.is_open();
        self.assignees[at] = task.assignee.clone();
        self.task_warnings[at] = task.warning.rank();
        self.escalated[at] = task.escalated;
        self.clock_stopped[at] = task.clock_stopped();
        self.due_by[at] = task.due_by;
        self.created_at[at] = task.since;
        self.task_docs[at] = json(task)?;
        Ok(())
    }

    fn timeline(&mut self, case_id: Uuid, key: String, entry: &TimelineEntry) -> sqlx::Result<()> {
        self.entry_cases.push(case_id);
        self.entry_keys.push(key);
        self.entry_at.push(entry.occurred_at);
        self.entries.push(json(entry)?);
        Ok(())
    }

    /// Writes everything in one statement: timeline rows (in order), case
    /// rows, task rows, checkpoints. With `only_if_new`, nothing but the
    /// timeline rows is written unless one of them was new (the event was
    /// not applied before); returns whether a timeline row was inserted.
    async fn write(self, conn: &mut PgConnection, s: &str, only_if_new: bool) -> sqlx::Result<bool> {
        let statement =
            if only_if_new { write_statement!("WHERE EXISTS (SELECT FROM entries)") } else { write_statement!("") };
        let inserted: i64 = sqlx::query_scalar(schema_sql(s, statement))
            .bind(self.entry_cases)
            .bind(self.entry_keys)
            .bind(self.entry_at)
            .bind(self.entries)
            .bind(self.case_ids)
            .bind(self.docs)
            .bind(self.case_numbers)
            .bind(self.package_ids)
            .bind(self.lead_departments)
            .bind(self.officer_ids)
            .bind(self.statuses)
            .bind(self.warnings)
            .bind(self.opens)
            .bind(self.promised_by)
            .bind(self.last_event_at)
            .bind(self.task_ids)
            .bind(self.task_cases)
            .bind(self.departments)
            .bind(self.states)
            .bind(self.task_opens)
            .bind(self.assignees)
            .bind(self.task_warnings)
            .bind(self.escalated)
            .bind(self.clock_stopped)
            .bind(self.due_by)
            .bind(self.created_at)
            .bind(self.task_docs)
            .bind(CONSUMER)
            .bind(self.ck_streams)
            .bind(self.ck_versions)
            .fetch_one(conn)
            .await?;
        Ok(inserted > 0)
    }
}

/// Locks the checkpoints of `streams` (sorted) in `s`, creating those
/// missing at version 0 (a concurrent creator makes this wait, then do
/// nothing); returns the versions applied.
async fn lock_checkpoints(
    conn: &mut PgConnection,
    s: &str,
    streams: &[String],
) -> Result<HashMap<String, u64>, sqlx::Error> {
    let lock = schema_sql(
        s,
        "SELECT stream_id, version FROM {schema}.consumer_checkpoints WHERE consumer = $1 AND stream_id = ANY($2)
         ORDER BY stream_id FOR UPDATE",
    );
    let mut found: Vec<(String, i64)> =
        sqlx::query_as(lock.clone()).bind(CONSUMER).bind(streams).fetch_all(&mut *conn).await?;
    if found.len() < streams.len() {
        let known: HashSet<&str> = found.iter().map(|(s, _)| s.as_str()).collect();
        let missing: Vec<&str> = streams.iter().map(String::as_str).filter(|s| !known.contains(s)).collect();
        sqlx::query(schema_sql(
            s,
            "INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version)
             SELECT $1, stream_id, 0 FROM unnest($2::text[]) AS stream_id ORDER BY stream_id ON CONFLICT DO NOTHING",
        ))
        .bind(CONSUMER)
        .bind(&missing)
        .execute(&mut *conn)
        .await?;
        let more: Vec<(String, i64)> =
            sqlx::query_as(lock.clone()).bind(CONSUMER).bind(&missing).fetch_all(&mut *conn).await?;
        found.extend(more);
    }
    Ok(found.into_iter().map(|(stream, v)| (stream, u64::try_from(v).unwrap_or_default())).collect())
}

/// Puts each task row of the `cases` in `s` into its case's view (in place
/// of the task a document written before ADR 0042 may still hold). The
/// caller holds the cases' rows locked, and every write of a task row is
/// made under its case's lock. A statement of its own, after the lock, on
/// purpose: read in the locking statement (as the repo's reads gather
/// them), a lock that had to wait for another chunk's commit would see the
/// case row as that chunk left it but its task rows as they were before.
async fn attach_tasks(conn: &mut PgConnection, s: &str, cases: &mut HashMap<Uuid, CaseView>) -> sqlx::Result<()> {
    let case_ids: Vec<Uuid> = cases.keys().copied().collect();
    let rows: Vec<(Uuid, String, sqlx::types::Json<TaskView>)> =
        sqlx::query_as(schema_sql(s, "SELECT case_id, task_id, doc FROM {schema}.task_rows WHERE case_id = ANY($1)"))
            .bind(&case_ids)
            .fetch_all(conn)
            .await?;
    for (case_id, task_id, task) in rows {
        if let Some(view) = cases.get_mut(&case_id) {
            view.tasks.insert(task_id, task.0);
        }
    }
    Ok(())
}

/// The case view a stored document holds (`{}`: a row created empty).
fn view_of(doc: serde_json::Value) -> sqlx::Result<CaseView> {
    if doc.as_object().is_some_and(|o| o.is_empty()) {
        Ok(CaseView::default())
    } else {
        serde_json::from_value(doc).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
}

/// A stored document we cannot read back, or one we cannot write: no retry
/// will help.
fn handler_error(e: sqlx::Error) -> HandlerError {
    match e {
        sqlx::Error::Decode(_) | sqlx::Error::Encode(_) => HandlerError::poison(e),
        other => HandlerError::retry(other),
    }
}

fn json<T: serde::Serialize>(value: &T) -> sqlx::Result<String> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// The sources whose events are no case's: the supervision office's
/// records (ADR 0037) share the event stream but not its meaning, so the
/// projection passes them over (acknowledged, nothing written).
pub const NOT_CASE_SOURCES: &[&str] = &["supervision"];

/// True for an event of a case (every source but [`NOT_CASE_SOURCES`]).
pub fn of_a_case(envelope: &EventEnvelope) -> bool {
    !NOT_CASE_SOURCES.contains(&envelope.source.as_str())
}

/// What identifies an event across redeliveries and re-publications.
fn event_key(event: &Decoded) -> String {
    if event.info.event_id.is_empty() {
        format!("{}#{}", event.info.stream_id, event.info.stream_version)
    } else {
        event.info.event_id.clone()
    }
}

#[async_trait]
impl Handler for Projector {
    async fn apply(&self, conn: &mut PgConnection, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        if !of_a_case(envelope) {
            return Ok(());
        }
        let mut event = Decoded::of(envelope).map_err(HandlerError::poison)?;
        self.personal.open(conn, std::slice::from_mut(&mut event)).await?;
        let active = self.active(conn).await.map_err(HandlerError::retry)?;
        if active == self.schema {
            // The consumer's own checkpoints order this one. The names of a
            // catalog version are learned before its first application is
            // folded (the ordered path learns them itself).
            self.names.learn_from(std::slice::from_ref(envelope)).await;
            self.project_into(conn, &active, &event).await.map_err(handler_error)?;
        } else {
            self.apply_ordered(conn, &active, envelope).await?;
        }
        Ok(())
    }

    /// A pulled chunk of events is folded in memory and written at once.
    fn applies_batches(&self) -> bool {
        true
    }

    async fn apply_batch(&self, conn: &mut PgConnection, envelopes: &[EventEnvelope]) -> Result<(), HandlerError> {
        let of_cases: Vec<EventEnvelope>;
        let envelopes = if envelopes.iter().all(of_a_case) {
            envelopes
        } else {
            of_cases = envelopes.iter().filter(|e| of_a_case(e)).cloned().collect();
            &of_cases
        };
        let mut decoded: Vec<Decoded> =
            envelopes.iter().map(Decoded::of).collect::<Result<_, _>>().map_err(HandlerError::poison)?;
        let active = self.active(conn).await.map_err(HandlerError::retry)?;
        if active == self.schema {
            // The consumer's own checkpoints ordered these; names as above.
            self.names.learn_from(envelopes).await;
            self.personal.open(conn, &mut decoded).await?;
            let mut writes = Writes::default();
            self.fold_batch(conn, &active, &decoded, &mut writes).await.map_err(handler_error)?;
            writes.write(conn, &active, false).await.map_err(handler_error)?;
        } else {
            self.apply_ordered_batch(conn, &active, envelopes).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_supervision_offices_records_are_no_cases_events() {
        let of = |source: &str| EventEnvelope { source: source.to_owned(), ..Default::default() };
        assert!(!of_a_case(&of("supervision")));
        for source in ["intake", "routing", "tasks", "issuance"] {
            assert!(of_a_case(&of(source)), "{source}");
        }
    }
}

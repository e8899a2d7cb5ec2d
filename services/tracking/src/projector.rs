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

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::PgConnection;
use yiciban_eventstore::{GapSource, Handler, HandlerError};
use yiciban_proto::events::v1::EventEnvelope;

use crate::projection::{self, CaseView, Context, Decoded, Names, TaskView};

/// Name of the durable consumer (and its checkpoint key).
pub const CONSUMER: &str = "tracking-projection";

/// Applies case events to the tracking tables of one schema.
pub struct Projector {
    /// The configured schema: the control tables and the live checkpoints.
    schema: String,
    names: Arc<Names>,
    identity_salt: SecretString,
    gaps: Arc<dyn GapSource>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl Projector {
    /// A projector whose control tables are in `schema` (migrated with
    /// [`crate::schema::CONTROL`]), reading missing events from `gaps`.
    pub fn new(schema: &str, names: Arc<Names>, identity_salt: SecretString, gaps: Arc<dyn GapSource>) -> Self {
        Projector { schema: schema.to_owned(), names, identity_salt, gaps }
    }

    /// The configured schema.
    pub fn control_schema(&self) -> &str {
        &self.schema
    }

    /// The schema an event goes to now. Locks the control row `FOR SHARE`,
    /// so that a switch-over (which takes it `FOR UPDATE`) waits for this
    /// transaction, and the next one writes to the new schema.
    async fn active(&self, conn: &mut PgConnection) -> Result<String, sqlx::Error> {
        sqlx::query_scalar(&format!("SELECT active FROM {}.read_model FOR SHARE", self.schema)).fetch_one(conn).await
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
        let retry = HandlerError::retry;
        sqlx::query(&format!(
            "INSERT INTO {target}.consumer_checkpoints (consumer, stream_id, version) VALUES ($1, $2, 0)
             ON CONFLICT DO NOTHING"
        ))
        .bind(CONSUMER)
        .bind(&envelope.stream_id)
        .execute(&mut *conn)
        .await
        .map_err(retry)?;
        let last: i64 = sqlx::query_scalar(&format!(
            "SELECT version FROM {target}.consumer_checkpoints WHERE consumer = $1 AND stream_id = $2 FOR UPDATE"
        ))
        .bind(CONSUMER)
        .bind(&envelope.stream_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(retry)?;
        let last = u64::try_from(last).unwrap_or_default();
        if envelope.stream_version <= last {
            return Ok(0);
        }
        let mut batch = Vec::new();
        if envelope.stream_version > last + 1 {
            let missing = self
                .gaps
                .read(&envelope.source, &envelope.stream_id, last + 1, envelope.stream_version - 1)
                .await
                .map_err(HandlerError::Retry)?;
            let contiguous = missing.len() as u64 == envelope.stream_version - last - 1
                && missing.iter().enumerate().all(|(i, e)| e.stream_version == last + 1 + i as u64);
            if !contiguous {
                return Err(HandlerError::retry(format!(
                    "the owning store of {} returned {} of versions {}..={}",
                    envelope.stream_id,
                    missing.len(),
                    last + 1,
                    envelope.stream_version - 1
                )));
            }
            batch.extend(missing);
        }
        batch.push(envelope.clone());
        let mut folded = 0;
        for event in &batch {
            match Decoded::of(event) {
                Ok(decoded) => {
                    if self.project_into(conn, target, &decoded).await.map_err(handler_error)? {
                        folded += 1;
                    }
                }
                // The live consumer records it as poison; a copy skips it.
                Err(e) => tracing::warn!(target, event_id = %event.event_id, error = %e, "undecodable event skipped"),
            }
        }
        sqlx::query(&format!(
            "UPDATE {target}.consumer_checkpoints SET version = $3 WHERE consumer = $1 AND stream_id = $2"
        ))
        .bind(CONSUMER)
        .bind(&envelope.stream_id)
        .bind(envelope.stream_version as i64)
        .execute(&mut *conn)
        .await
        .map_err(retry)?;
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
        // The row may not exist yet: create it empty (a concurrent creator
        // makes this wait, then do nothing), then lock it.
        sqlx::query(&format!(
            "INSERT INTO {s}.case_views (case_id, doc) VALUES ($1, '{{}}'::jsonb) ON CONFLICT (case_id) DO NOTHING"
        ))
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
        let doc: serde_json::Value =
            sqlx::query_scalar(&format!("SELECT doc FROM {s}.case_views WHERE case_id = $1 FOR UPDATE"))
                .bind(case_id)
                .fetch_one(&mut *conn)
                .await?;
        let key = event_key(event);
        let seen: Option<i64> = sqlx::query_scalar(&format!("SELECT seq FROM {s}.timeline WHERE event_key = $1"))
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await?;
        if seen.is_some() {
            return Ok(false);
        }
        let mut view: CaseView = if doc.as_object().is_some_and(|o| o.is_empty()) {
            CaseView::default()
        } else {
            serde_json::from_value(doc).map_err(|e| sqlx::Error::Decode(Box::new(e)))?
        };
        let salt = self.identity_salt.expose_secret().as_bytes();
        let entry = projection::apply(&mut view, event, &Context { names: &self.names, identity_salt: salt });
        sqlx::query(&format!(
            "INSERT INTO {s}.timeline (case_id, event_key, occurred_at, entry) VALUES ($1, $2, $3, $4)"
        ))
        .bind(case_id)
        .bind(&key)
        .bind(entry.occurred_at)
        .bind(json(&entry)?)
        .execute(&mut *conn)
        .await?;
        let status = view.status();
        sqlx::query(&format!(
            "UPDATE {s}.case_views SET doc = $2, case_number = $3, package_id = $4, lead_department = $5,
                officer_id = $6, status = $7, warning = $8, open = $9, promised_by = $10, last_event_at = $11,
                updated_at = now()
             WHERE case_id = $1"
        ))
        .bind(case_id)
        .bind(json(&view)?)
        .bind(&view.case_number)
        .bind(&view.package_id)
        .bind(&view.lead_department)
        .bind(&view.officer_id)
        .bind(status.as_str())
        .bind(view.warning().rank())
        .bind(!status.is_terminal())
        .bind(view.promised_by)
        .bind(view.last_event_at)
        .execute(&mut *conn)
        .await?;
        for task in view.tasks.values() {
            write_task(conn, s, case_id, task).await?;
        }
        Ok(true)
    }
}

async fn write_task(conn: &mut PgConnection, s: &str, case_id: uuid::Uuid, task: &TaskView) -> sqlx::Result<()> {
    sqlx::query(&format!(
            "INSERT INTO {s}.task_rows
                (task_id, case_id, department, state, open, assignee, warning, escalated, clock_stopped, due_by, created_at, doc, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
             ON CONFLICT (task_id) DO UPDATE SET
                department = $3, state = $4, open = $5, assignee = $6, warning = $7, escalated = $8,
                clock_stopped = $9, due_by = $10, created_at = $11, doc = $12, updated_at = now()"
        ))
        .bind(&task.task_id)
        .bind(case_id)
        .bind(&task.department)
        .bind(task.state.as_str())
        .bind(task.state.is_open())
        .bind(&task.assignee)
        .bind(task.warning.rank())
        .bind(task.escalated)
        .bind(task.clock_stopped())
        .bind(task.due_by)
        .bind(task.since)
        .bind(json(task)?)
        .execute(conn)
        .await?;
    Ok(())
}

/// A stored document we cannot read back, or one we cannot write: no retry
/// will help.
fn handler_error(e: sqlx::Error) -> HandlerError {
    match e {
        sqlx::Error::Decode(_) | sqlx::Error::Encode(_) => HandlerError::poison(e),
        other => HandlerError::retry(other),
    }
}

fn json<T: serde::Serialize>(value: &T) -> sqlx::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
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
        let event = Decoded::of(envelope).map_err(HandlerError::poison)?;
        let active = self.active(conn).await.map_err(HandlerError::retry)?;
        if active == self.schema {
            // The consumer's own checkpoints order this one.
            self.project_into(conn, &active, &event).await.map_err(handler_error)?;
        } else {
            self.apply_ordered(conn, &active, envelope).await?;
        }
        Ok(())
    }
}

//! The durable consumer's handler: applies one case event to the read models
//! inside the consumer's transaction. The case row is locked (`FOR UPDATE`)
//! so that events of the same case from different streams, applied
//! concurrently, fold one after another; an event whose timeline row already
//! exists was applied before and changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::PgConnection;
use yiciban_eventstore::{Handler, HandlerError};
use yiciban_proto::events::v1::EventEnvelope;

use crate::projection::{self, CaseView, Context, Decoded, Names, TaskView};

/// Name of the durable consumer (and its checkpoint key).
pub const CONSUMER: &str = "tracking-projection";

/// Applies case events to the tracking tables of one schema.
pub struct Projector {
    schema: String,
    names: Arc<Names>,
    identity_salt: SecretString,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl Projector {
    /// A projector writing into `schema` (migrated with [`crate::schema::TRACKING`]).
    pub fn new(schema: &str, names: Arc<Names>, identity_salt: SecretString) -> Self {
        Projector { schema: schema.to_owned(), names, identity_salt }
    }

    /// Applies `event` unless it was applied already; returns whether it was.
    pub async fn project(&self, conn: &mut PgConnection, event: &Decoded) -> Result<bool, sqlx::Error> {
        let s = &self.schema;
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
                officer_id = $6, status = $7, warning = $8, open = $9, promised_by = $10, updated_at = now()
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
        .execute(&mut *conn)
        .await?;
        for task in view.tasks.values() {
            self.write_task(conn, case_id, task).await?;
        }
        Ok(true)
    }

    async fn write_task(&self, conn: &mut PgConnection, case_id: uuid::Uuid, task: &TaskView) -> sqlx::Result<()> {
        sqlx::query(&format!(
            "INSERT INTO {s}.task_rows
                (task_id, case_id, department, state, open, assignee, warning, escalated, clock_stopped, due_by, created_at, doc, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
             ON CONFLICT (task_id) DO UPDATE SET
                department = $3, state = $4, open = $5, assignee = $6, warning = $7, escalated = $8,
                clock_stopped = $9, due_by = $10, created_at = $11, doc = $12, updated_at = now()",
            s = self.schema
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
        self.project(conn, &event).await.map_err(|e| match e {
            // A stored document we cannot read back, or one we cannot write:
            // no retry will help.
            sqlx::Error::Decode(_) | sqlx::Error::Encode(_) => HandlerError::poison(e),
            other => HandlerError::retry(other),
        })?;
        Ok(())
    }
}

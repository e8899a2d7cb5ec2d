//! The task service's command path: the task streams (`task-<id>`) bound to
//! the shared [`CommandRunner`] by [`TaskCodec`] (every event goes out on
//! its department's subject), and [`TaskRows`], the inbox row and SLA timers
//! written in the same transaction as the events. Used by the RPCs and the
//! SLA watcher alike.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prost::Message;
use tonic::Status;
use uuid::Uuid;
use yiciban_calendar::{Share, WorkingCalendar};
use yiciban_commands::{Change, CommandRunner, EventCodec, Loaded, Rows};
use yiciban_domain::tasks::{Event, Task, WarningLevel};
use yiciban_eventstore::{EventStore, NewEvent, StoredEvent};
use yiciban_platform::calendar::LiveCalendar;
use yiciban_platform::status::internal;
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::tasks as convert;

use crate::deadlines::{timers, working_days_used};
use crate::repo::{self, IndexRow};

/// How the task service stores its tasks: each event on the subject of the
/// task's department.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskCodec;

impl EventCodec for TaskCodec {
    type Aggregate = Task;

    const NOUN: &'static str = "task";

    fn encode(&self, after: &Task, event: &Event) -> NewEvent {
        let (kind, payload) = convert::encode_event(event);
        NewEvent::new(kind, payload).for_department(after.department().unwrap_or_default().to_owned())
    }

    fn decode(&self, stored: &StoredEvent) -> Result<Event, ConvertError> {
        convert::decode_event(&stored.event_type, &stored.payload, stored.metadata.occurred_at)
    }
}

/// The rows the task service keeps beside its streams: the inbox index (one
/// row per task, with the `Task` message as the inbox shows it) and the two
/// SLA timers the watcher polls.
#[derive(Debug, Clone)]
pub struct TaskRows {
    /// The service's schema.
    pub schema: String,
    /// The working-day calendar the timers and figures count on.
    pub calendar: Arc<LiveCalendar>,
    /// Share of the limit at which a task turns yellow.
    pub warn_share: Share,
}

#[async_trait]
impl Rows<Task> for TaskRows {
    type Facts = ();

    async fn write(&self, tx: &mut sqlx::PgConnection, change: &Change<'_, Task>, _: &()) -> Result<(), Status> {
        let schema = self.schema.as_str();
        let row = index_row(&self.calendar.current(), change.id, change.case_id, change.after, change.at)?;
        if let Err(e) = repo::upsert_index(tx, schema, &row).await {
            return Err(if repo::is_duplicate_step(&e) {
                Status::already_exists(
                    "the case's step has a task already (a second task for the same step is refused)",
                )
            } else {
                internal("indexing the task", &e)
            });
        }
        let (yellow, red) = timers(change.after, self.warn_share, &self.calendar.current());
        repo::upsert_timers(tx, schema, change.id, change.case_id, yellow, red)
            .await
            .map_err(|e| internal("setting the SLA timers", &e))
    }

    /// A decision that recorded nothing still rewrites the timers from the
    /// task, so a stale timer cannot fire for ever.
    async fn unchanged(&self, store: &EventStore, loaded: &Loaded<Task>) -> Result<(), Status> {
        refresh_timers(self, store, loaded).await
    }
}

/// The command runner over the tasks.
pub type TaskRunner = CommandRunner<TaskCodec, TaskRows>;

/// Rewrites a task's SLA timers from its state.
pub async fn refresh_timers(rows: &TaskRows, store: &EventStore, loaded: &Loaded<Task>) -> Result<(), Status> {
    if loaded.state.created.is_none() {
        return Ok(());
    }
    let (yellow, red) = timers(&loaded.state, rows.warn_share, &rows.calendar.current());
    let mut conn = store.pool().acquire().await.map_err(|e| internal("connecting", &e))?;
    repo::upsert_timers(&mut conn, store.schema(), loaded.id, loaded.case_id, yellow, red)
        .await
        .map_err(|e| internal("setting the SLA timers", &e))
}

/// The `Task` message of a state, working days counted up to `now`.
pub fn task_message(
    calendar: &WorkingCalendar,
    case_id: Uuid,
    task: &Task,
    now: DateTime<Utc>,
) -> yiciban_proto::tasks::v1::Task {
    let used = task.clock.as_ref().map(|c| working_days_used(c, now, calendar)).unwrap_or(0);
    convert::task_to_pb(case_id, task, used)
}

fn index_row(
    calendar: &WorkingCalendar,
    task_id: Uuid,
    case_id: Uuid,
    task: &Task,
    now: DateTime<Utc>,
) -> Result<IndexRow, Status> {
    let created = task.created.as_ref().ok_or_else(|| Status::internal("indexing a task that was not created"))?;
    let clock = serde_json::to_value(&task.clock).map_err(|e| internal("encoding the task's clock", &e))?;
    Ok(IndexRow {
        task_id,
        case_id,
        step_id: created.step_id.clone(),
        department: created.department.as_str().to_owned(),
        lead_department: created.lead_department.as_str().to_owned(),
        package_id: created.package_id.as_str().to_owned(),
        state: task.status.as_str().to_owned(),
        open: task.status.is_open(),
        assignee: task.assignee.clone(),
        warning: warning_rank(task.warning),
        due_by: task.due_by.unwrap_or(created.due_by),
        created_at: created.at,
        version: task.version as i64,
        task: task_message(calendar, case_id, task, now).encode_to_vec(),
        clock,
    })
}

/// The inbox's sort key of a warning: 0 on time, 1 yellow, 2 red.
pub fn warning_rank(level: Option<WarningLevel>) -> i16 {
    match level {
        None => 0,
        Some(WarningLevel::Yellow) => 1,
        Some(WarningLevel::Red) => 2,
    }
}

//! Running commands against a task stream: load and replay it, decide with
//! the pure aggregate, and append the events — each scoped to the task's
//! department — together with the inbox row, the SLA timers and the
//! idempotency key in one transaction. Used by the RPCs and by the SLA
//! watcher alike; refusals map to gRPC statuses here, in one place.

use chrono::{DateTime, Utc};
use prost::Message;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::tasks::{Command, Event, Task, TaskError};
use yiciban_domain::{Aggregate, ErrorKind, Refusal};
use yiciban_eventstore::{AppendOutcome, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent};
use yiciban_platform::status::{FieldViolation, from_store, internal, invalid_argument};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::tasks as convert;

use crate::Tasks;
use crate::deadlines::{timers, working_days_used};
use crate::repo::{self, IndexRow};

/// Maps a domain refusal to its gRPC status.
pub fn domain_status(error: TaskError) -> Status {
    match error.kind() {
        ErrorKind::InvalidArgument => invalid_argument(
            "the request cannot be carried out as it is; correct every listed field",
            &error
                .violations()
                .iter()
                .map(|v| FieldViolation { field: v.field.clone(), description: v.description.clone() })
                .collect::<Vec<_>>(),
        ),
        ErrorKind::FailedPrecondition => Status::failed_precondition(error.to_string()),
        ErrorKind::AlreadyExists => Status::already_exists(error.to_string()),
        ErrorKind::NotFound => Status::not_found(error.to_string()),
    }
}

/// `INVALID_ARGUMENT` with these violations (request parsing).
pub fn refuse(violations: Vec<yiciban_domain::FieldViolation>) -> Status {
    invalid_argument(
        "the request is malformed; correct every listed field",
        &violations
            .into_iter()
            .map(|v| FieldViolation { field: v.field, description: v.description })
            .collect::<Vec<_>>(),
    )
}

/// A task as read back: its state and its case.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The task's state.
    pub task: Task,
    /// Its case (from the events' metadata).
    pub case_id: Uuid,
}

/// Reads a task's events back into its state; `None` for an empty stream.
pub async fn load(tasks: &Tasks, task_id: Uuid) -> Result<Option<Loaded>, Status> {
    let stored = tasks.store.read_stream(&Task::stream_id(task_id), 1).await.map_err(from_store)?;
    let Some(first) = stored.first() else { return Ok(None) };
    let case_id = first.metadata.case_id;
    // An action on the task links back to the trace that created it.
    yiciban_eventstore::trace::link_current_span_to(&first.metadata.trace);
    let mut task = Task::default();
    for e in &stored {
        let event = convert::decode_event(&e.event_type, &e.payload, e.metadata.occurred_at)
            .map_err(|err| internal("reading the task's events", &err))?;
        task = Aggregate::evolve(task, &event);
    }
    Ok(Some(Loaded { task, case_id }))
}

/// Like [`load`], `NOT_FOUND` for an unknown task.
pub async fn load_existing(tasks: &Tasks, task_id: Uuid) -> Result<Loaded, Status> {
    load(tasks, task_id).await?.ok_or_else(|| Status::not_found(format!("no task {task_id}")))
}

/// Metadata of a command: who, through which channel, caused by what.
pub fn metadata(tasks: &Tasks, case_id: Uuid, actor: &common::Actor, key: &str) -> EventMetadata {
    let channel =
        if actor.role == common::Role::Service as i32 { common::Channel::System } else { common::Channel::Window };
    EventMetadata::new(case_id, actor, channel, tasks.clock.now())
        .caused_by(key, key)
        .with_trace(yiciban_eventstore::trace::current_trace_context())
}

/// What a command did: its response, freshly made or replayed.
#[derive(Debug)]
pub enum Executed<R> {
    /// Decided now (possibly with no events: nothing new to record).
    Done(R),
    /// The same request was handled before: its first response.
    Replayed(R),
}

impl<R> Executed<R> {
    /// The response either way.
    pub fn into_inner(self) -> R {
        match self {
            Executed::Done(r) | Executed::Replayed(r) => r,
        }
    }
}

/// Where a command goes.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// An existing task; `NOT_FOUND` otherwise.
    Existing(Uuid),
    /// A task to create in `case_id`; its stream must not exist.
    New {
        /// The task.
        task_id: Uuid,
        /// Its case.
        case_id: Uuid,
    },
}

/// One command to run.
#[derive(Debug)]
pub struct Run<'a> {
    /// Where.
    pub target: Target,
    /// Stream version the client expects (0 = don't check).
    pub expected: u64,
    /// Who.
    pub actor: &'a common::Actor,
    /// Key and request fingerprint, if the command is idempotent.
    pub idempotency: Option<(String, String)>,
}

/// Runs a command: replay check, load, version check, `command` (built from
/// the loaded task, so it can carry facts computed from its clock), decide,
/// and append with the inbox row, timers and idempotency record, all or
/// nothing. A decision without events records nothing and answers with
/// `respond` on the unchanged task.
pub async fn execute<R: Message + Default>(
    tasks: &Tasks,
    run: Run<'_>,
    command: impl FnOnce(&Loaded) -> Result<Command, Status>,
    respond: impl FnOnce(&Task, &[Event]) -> R,
) -> Result<Executed<R>, Status> {
    if let Some((key, hash)) = &run.idempotency
        && let Some(r) = yiciban_platform::idempotency::replayed::<R>(&tasks.store, key, hash).await?
    {
        return Ok(Executed::Replayed(r));
    }
    let (task_id, loaded) = match run.target {
        Target::Existing(task_id) => (task_id, load_existing(tasks, task_id).await?),
        Target::New { task_id, case_id } => {
            (task_id, load(tasks, task_id).await?.unwrap_or(Loaded { task: Task::default(), case_id }))
        }
    };
    if run.expected != 0 && run.expected != loaded.task.version {
        return Err(Status::aborted(format!(
            "task {task_id} is at version {}, the request expected {}; read it again and retry",
            loaded.task.version, run.expected
        )));
    }
    let events = Aggregate::decide(&loaded.task, command(&loaded)?).map_err(domain_status)?;
    if events.is_empty() {
        refresh_timers(tasks, task_id, &loaded).await?;
        return Ok(Executed::Done(respond(&loaded.task, &events)));
    }
    let new_task = events.iter().fold(loaded.task.clone(), Aggregate::evolve);
    let response = respond(&new_task, &events);
    let key = run.idempotency.as_ref().map(|(k, _)| k.clone()).unwrap_or_else(|| format!("sla-{task_id}"));
    let record = run.idempotency.map(|(key, request_hash)| IdempotencyRecord {
        key,
        request_hash,
        response: response.encode_to_vec(),
    });
    let department = new_task.department().unwrap_or_default().to_owned();
    let new_events: Vec<NewEvent> = events
        .iter()
        .map(|e| {
            let (kind, payload) = convert::encode_event(e);
            NewEvent::new(kind, payload).for_department(department.clone())
        })
        .collect();
    let mut tx = tasks.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?;
    let outcome = tasks
        .store
        .append_in(
            &mut tx,
            &Task::stream_id(task_id),
            ExpectedVersion::Exact(loaded.task.version),
            &new_events,
            &metadata(tasks, loaded.case_id, run.actor, &key),
            record.as_ref(),
        )
        .await
        .map_err(from_store)?;
    if let AppendOutcome::Replayed { response } = outcome {
        return R::decode(response.as_slice())
            .map(Executed::Replayed)
            .map_err(|e| internal("reading a stored response", &e));
    }
    let now = tasks.clock.now();
    let row = index_row(tasks, task_id, loaded.case_id, &new_task, now)?;
    if let Err(e) = repo::upsert_index(&mut tx, tasks.schema(), &row).await {
        return Err(if repo::is_duplicate_step(&e) {
            Status::already_exists("the case's step has a task already (a second task for the same step is refused)")
        } else {
            internal("indexing the task", &e)
        });
    }
    let (yellow, red) = timers(&new_task, tasks.warn_share, &tasks.calendar);
    repo::upsert_timers(&mut tx, tasks.schema(), task_id, loaded.case_id, yellow, red)
        .await
        .map_err(|e| internal("setting the SLA timers", &e))?;
    tasks.store.commit(tx).await.map_err(|e| internal("committing the command", &e))?;
    Ok(Executed::Done(response))
}

/// Rewrites a task's SLA timers from its state (after a decision that
/// recorded nothing, so a stale timer cannot fire forever).
pub async fn refresh_timers(tasks: &Tasks, task_id: Uuid, loaded: &Loaded) -> Result<(), Status> {
    if loaded.task.created.is_none() {
        return Ok(());
    }
    let (yellow, red) = timers(&loaded.task, tasks.warn_share, &tasks.calendar);
    let mut conn = tasks.store.pool().acquire().await.map_err(|e| internal("connecting", &e))?;
    repo::upsert_timers(&mut conn, tasks.schema(), task_id, loaded.case_id, yellow, red)
        .await
        .map_err(|e| internal("setting the SLA timers", &e))
}

/// The `Task` message of a state, working days counted up to `now`.
pub fn task_message(tasks: &Tasks, case_id: Uuid, task: &Task, now: DateTime<Utc>) -> yiciban_proto::tasks::v1::Task {
    let used = task.clock.as_ref().map(|c| working_days_used(c, now, &tasks.calendar)).unwrap_or(0);
    convert::task_to_pb(case_id, task, used)
}

fn index_row(tasks: &Tasks, task_id: Uuid, case_id: Uuid, task: &Task, now: DateTime<Utc>) -> Result<IndexRow, Status> {
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
        task: task_message(tasks, case_id, task, now).encode_to_vec(),
        clock,
    })
}

/// The inbox's sort key of a warning: 0 on time, 1 yellow, 2 red.
pub fn warning_rank(level: Option<yiciban_domain::tasks::WarningLevel>) -> i16 {
    match level {
        None => 0,
        Some(yiciban_domain::tasks::WarningLevel::Yellow) => 1,
        Some(yiciban_domain::tasks::WarningLevel::Red) => 2,
    }
}

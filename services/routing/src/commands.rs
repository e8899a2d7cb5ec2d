//! Running commands against a case's plan stream (`plan-<case id>`): load
//! and replay it (the plan carries its case clock), compute the facts the
//! pure aggregate needs (fresh task ids, today's figures on the working-day
//! calendar), decide, and append the events with the idempotency record in
//! one transaction.

use prost::Message;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::routing::{CasePlan, Command, Event, RoutingError, TaskIds};
use yiciban_domain::{Aggregate, ErrorKind, Refusal};
use yiciban_eventstore::{AppendOutcome, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent};
use yiciban_platform::status::{from_store, internal};
use yiciban_proto::convert::routing as convert;

use crate::Routing;

/// Maps a refusal of the aggregate to its gRPC status.
pub fn domain_status(error: RoutingError) -> Status {
    let message = match &error {
        RoutingError::AlreadyPlanned => "the case is planned already".to_owned(),
        other => other.to_string(),
    };
    match error.kind() {
        ErrorKind::InvalidArgument => Status::invalid_argument(message),
        ErrorKind::FailedPrecondition => Status::failed_precondition(message),
        ErrorKind::AlreadyExists => Status::already_exists(message),
        ErrorKind::NotFound => Status::not_found(message),
    }
}

/// Reads a case's plan back (an empty stream gives the default, unplanned).
pub async fn load(routing: &Routing, case_id: Uuid) -> Result<CasePlan, Status> {
    let stored = routing.store.read_stream(&CasePlan::stream_id(case_id), 1).await.map_err(from_store)?;
    let mut plan = CasePlan::default();
    for e in &stored {
        let event = convert::decode_event(&e.event_type, &e.payload, e.metadata.occurred_at)
            .map_err(|err| internal("reading the plan's events", &err))?;
        plan = plan.evolve(&event);
    }
    Ok(plan)
}

/// Fresh task ids for every step not dispatched yet.
pub fn fresh_task_ids<'a>(steps: impl Iterator<Item = &'a str>) -> TaskIds {
    steps.map(|s| (s.to_owned(), Uuid::now_v7())).collect()
}

/// Encodes plan events for the store; dispatches and cancellations go out on
/// their department's subject.
pub fn to_new_events(events: &[Event]) -> Vec<NewEvent> {
    events
        .iter()
        .map(|e| {
            let (kind, payload) = convert::encode_event(e);
            let new = NewEvent::new(kind, payload);
            match e {
                Event::StepDispatched(d) => new.for_department(d.department.as_str()),
                Event::StepCancelled(c) => new.for_department(c.department.as_str()),
                _ => new,
            }
        })
        .collect()
}

/// What a command did: its response, freshly made or replayed.
pub enum Executed<R> {
    Done(R),
    Replayed(R),
}

impl<R> Executed<R> {
    pub fn into_inner(self) -> R {
        match self {
            Executed::Done(r) | Executed::Replayed(r) => r,
        }
    }
}

/// Runs a command against a case's plan: decide on the replayed state (at
/// `expected`, 0 = don't check) with the command `make` builds from it, and
/// append the events with the idempotency record, all or nothing. Without an
/// expected version a concurrent writer's conflict is retried on the fresh
/// state (outcomes of parallel tasks of one case arrive together).
pub async fn execute<R: Message + Default>(
    routing: &Routing,
    case_id: Uuid,
    expected: u64,
    make: impl Fn(&CasePlan) -> Result<Command, Status>,
    metadata: EventMetadata,
    idem: Option<(String, String)>,
    respond: impl Fn(&CasePlan, &[Event]) -> R,
) -> Result<Executed<R>, Status> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match execute_once(routing, case_id, expected, &make, &metadata, idem.as_ref(), &respond).await {
            Err(status) if status.code() == tonic::Code::Aborted && expected == 0 && attempt < 8 => {
                tracing::debug!(%case_id, attempt, "plan changed concurrently; deciding again");
            }
            other => return other,
        }
    }
}

async fn execute_once<R: Message + Default>(
    routing: &Routing,
    case_id: Uuid,
    expected: u64,
    make: &impl Fn(&CasePlan) -> Result<Command, Status>,
    metadata: &EventMetadata,
    idem: Option<&(String, String)>,
    respond: &impl Fn(&CasePlan, &[Event]) -> R,
) -> Result<Executed<R>, Status> {
    if let Some((key, hash)) = idem
        && let Some(r) = yiciban_platform::idempotency::replayed::<R>(&routing.store, key, hash).await?
    {
        return Ok(Executed::Replayed(r));
    }
    let plan = load(routing, case_id).await?;
    if expected != 0 && expected != plan.version {
        return Err(Status::aborted(format!(
            "the plan of case {case_id} is at version {}, the request expected {expected}; read it again and retry",
            plan.version
        )));
    }
    let command = make(&plan)?;
    let events = plan.decide(command).map_err(domain_status)?;
    let after = events.iter().fold(plan.clone(), CasePlan::evolve);
    let response = respond(&after, &events);
    if events.is_empty() {
        // Nothing new (a redelivered outcome): nothing to record either.
        return Ok(Executed::Replayed(response));
    }
    let record = idem.map(|(key, request_hash)| IdempotencyRecord {
        key: key.clone(),
        request_hash: request_hash.clone(),
        response: response.encode_to_vec(),
    });
    let mut tx = routing.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?;
    let outcome = routing
        .store
        .append_in(
            &mut tx,
            &CasePlan::stream_id(case_id),
            ExpectedVersion::Exact(plan.version),
            &to_new_events(&events),
            metadata,
            record.as_ref(),
        )
        .await
        .map_err(from_store)?;
    if let AppendOutcome::Replayed { response } = outcome {
        return R::decode(response.as_slice())
            .map(Executed::Replayed)
            .map_err(|e| internal("reading a stored response", &e));
    }
    routing.store.commit(tx).await.map_err(|e| internal("committing the command", &e))?;
    Ok(Executed::Done(response))
}

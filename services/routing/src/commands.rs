//! Running commands against a case's plan stream (`plan-<case id>`): load
//! and replay it (with its case clock), compute the facts the pure aggregate
//! needs (fresh task ids, today's figures on the working-day calendar),
//! decide, and append the events with the idempotency record in one
//! transaction.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use prost::Message;
use tonic::Status;
use uuid::Uuid;
use yiciban_calendar::{CaseClock, date_in_china, start_of_day};
use yiciban_domain::routing::{
    Command, DecisionFacts, ErrorKind, Event, Plan, Routing as Aggregate, RoutingError, TaskIds,
};
use yiciban_eventstore::{AppendOutcome, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent};
use yiciban_platform::status::{from_store, internal};
use yiciban_proto::convert::routing as convert;

use crate::Routing;

/// The plan stream of a case.
pub fn stream_of(case_id: Uuid) -> String {
    format!("plan-{case_id}")
}

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

/// A plan as read back: its state, stream version, case clock and when it
/// was decided.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub plan: Plan,
    pub version: u64,
    /// The case clock (from the acceptance day, stopped while a task waits on
    /// the applicant); `None` before the plan exists.
    pub clock: Option<CaseClock>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The decision's figures once decided: working days used, on time.
    pub decision: Option<(u32, bool)>,
}

impl Loaded {
    /// Folds one stored event in, at the instant it happened.
    fn apply(&mut self, event: &Event, at: DateTime<Utc>) {
        match event {
            Event::CasePlanned(e) => self.clock = Some(CaseClock::start(start_of_day(e.accepted_on))),
            Event::CaseClockStopped(_) => {
                if let Some(clock) = &mut self.clock {
                    // A stop dated before the last transition cannot be
                    // recorded by a correct writer; keep counting rather than fail.
                    let _ = clock.stop(at.max(clock.last_transition()), "补正".to_owned());
                }
            }
            Event::CaseClockResumed(_) | Event::PlanEnded(_) => {
                if let Some(clock) = &mut self.clock
                    && !clock.is_running()
                {
                    let _ = clock.resume(at.max(clock.last_transition()));
                }
            }
            Event::CaseDecided(d) => {
                self.decided_at = Some(at);
                self.decision = Some((d.working_days_used, d.on_time));
            }
            _ => {}
        }
        self.plan = Aggregate::evolve(std::mem::take(&mut self.plan), event);
    }

    /// Working days used by `now`, stopped time excluded; a started day
    /// counts as used.
    pub fn working_days_used(&self, routing: &Routing, now: DateTime<Utc>) -> u32 {
        self.clock.as_ref().map_or(0, |c| c.elapsed(now, &routing.calendar).value.as_days().ceil() as u32)
    }

    /// The figures of a decision taken `now`.
    pub fn decision_facts(&self, routing: &Routing, now: DateTime<Utc>) -> DecisionFacts {
        let today = date_in_china(now);
        DecisionFacts {
            today,
            working_days_used: self.working_days_used(routing, now),
            issue_by: routing.calendar.add_working_days_date(today, routing.issue_days).value,
        }
    }

    /// If the clock resumed `now`: the working days it stood still in the
    /// current stop, and the new last day of the promise.
    pub fn resume_facts(&self, routing: &Routing, now: DateTime<Utc>) -> (u32, NaiveDate) {
        let fallback = self.plan.promised_by.unwrap_or_else(|| date_in_china(now));
        let Some(clock) = &self.clock else { return (0, fallback) };
        if clock.is_running() {
            return (0, fallback);
        }
        let stopped_at = clock.last_transition();
        let stopped = routing.calendar.working_days_between(stopped_at, now).value.whole_days().max(0) as u32;
        let mut resumed = clock.clone();
        if resumed.resume(now.max(stopped_at)).is_err() {
            return (stopped, fallback);
        }
        let promised_by = resumed
            .deadline(self.plan.promised_working_days, &routing.calendar)
            .map(|d| last_day(d.value))
            .unwrap_or(fallback);
        (stopped, promised_by)
    }
}

/// The last calendar day of a deadline instant (24:00 of a day belongs to it).
pub fn last_day(deadline: DateTime<Utc>) -> NaiveDate {
    date_in_china(deadline - TimeDelta::seconds(1))
}

/// Reads a case's plan back (an empty stream gives the default, unplanned).
pub async fn load(routing: &Routing, case_id: Uuid) -> Result<Loaded, Status> {
    let stored = routing.store.read_stream(&stream_of(case_id), 1).await.map_err(from_store)?;
    let mut loaded = Loaded::default();
    for e in &stored {
        let event = convert::decode_event(&e.event_type, &e.payload)
            .map_err(|err| internal("reading the plan's events", &err))?;
        loaded.apply(&event, e.metadata.occurred_at);
        loaded.version = e.stream_version;
    }
    Ok(loaded)
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
    make: impl Fn(&Loaded) -> Result<Command, Status>,
    metadata: EventMetadata,
    idem: Option<(String, String)>,
    respond: impl Fn(&Loaded, &[Event]) -> R,
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
    make: &impl Fn(&Loaded) -> Result<Command, Status>,
    metadata: &EventMetadata,
    idem: Option<&(String, String)>,
    respond: &impl Fn(&Loaded, &[Event]) -> R,
) -> Result<Executed<R>, Status> {
    if let Some((key, hash)) = idem
        && let Some(r) = yiciban_platform::idempotency::replayed::<R>(&routing.store, key, hash).await?
    {
        return Ok(Executed::Replayed(r));
    }
    let loaded = load(routing, case_id).await?;
    if expected != 0 && expected != loaded.version {
        return Err(Status::aborted(format!(
            "the plan of case {case_id} is at version {}, the request expected {expected}; read it again and retry",
            loaded.version
        )));
    }
    let command = make(&loaded)?;
    let events = Aggregate::decide(&loaded.plan, command).map_err(domain_status)?;
    let mut after = loaded.clone();
    for e in &events {
        after.apply(e, metadata.occurred_at);
    }
    after.version = loaded.version + events.len() as u64;
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
            &stream_of(case_id),
            ExpectedVersion::Exact(loaded.version),
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

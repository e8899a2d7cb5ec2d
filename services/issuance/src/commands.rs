//! Running commands against a case's issuance stream: load and replay it,
//! check the expected version, decide with the pure aggregate, and append
//! the events — scoped to their department where they concern one —
//! together with the read rows and the idempotency key in one transaction.
//! Refusals map to gRPC statuses here, in one place.

use prost::Message;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::issuance::{CaseIssuance as State, Command, Event, IssuanceError};
use yiciban_domain::{Aggregate, ErrorKind, FieldViolation, Refusal};
use yiciban_eventstore::{AppendOutcome, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent};
use yiciban_platform::status::{self, from_store, internal, invalid_argument};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::issuance as convert;

use crate::Issuance;
use crate::repo::{self, CaseRow, RatingRow, VisitRow};

/// Maps a domain refusal to its gRPC status.
pub fn domain_status(error: IssuanceError) -> Status {
    match error.kind() {
        ErrorKind::InvalidArgument => refuse(error.violations().to_vec()),
        ErrorKind::FailedPrecondition => Status::failed_precondition(error.to_string()),
        ErrorKind::AlreadyExists => Status::already_exists(error.to_string()),
        ErrorKind::NotFound => Status::not_found(error.to_string()),
    }
}

/// `INVALID_ARGUMENT` with these violations, every one in the details.
pub fn refuse(violations: Vec<FieldViolation>) -> Status {
    invalid_argument(
        "the request cannot be carried out as it is; correct every listed field",
        &violations
            .into_iter()
            .map(|v| status::FieldViolation { field: v.field, description: v.description })
            .collect::<Vec<_>>(),
    )
}

/// Reads a case's issuance events back into its state (empty when none).
pub async fn load(issuance: &Issuance, case_id: Uuid) -> Result<State, Status> {
    let stored = issuance.store.read_stream(&State::stream_id(case_id), 1).await.map_err(from_store)?;
    let mut state = State::default();
    for e in &stored {
        let event = convert::decode_event(&e.event_type, &e.payload, e.metadata.occurred_at)
            .map_err(|err| internal("reading the issuance events", &err))?;
        state = State::evolve(state, &event);
    }
    Ok(state)
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

/// Facts for the case's read row that only some commands know.
#[derive(Debug, Clone, Default)]
pub struct RowFacts {
    /// Keyed hash of the applicant's identity.
    pub applicant_hmac: Option<String>,
    /// The case's lead department.
    pub lead_department: Option<String>,
}

/// One command to run.
#[derive(Debug)]
pub struct Run<'a> {
    /// The case.
    pub case_id: Uuid,
    /// Stream version the client expects (0 = don't check).
    pub expected: u64,
    /// Who.
    pub actor: &'a common::Actor,
    /// Key and request fingerprint, if the command is idempotent.
    pub idempotency: Option<(String, String)>,
    /// Facts for the read row.
    pub facts: RowFacts,
}

/// The channel a command came through, by the caller's role.
pub fn channel_of(actor: &common::Actor) -> common::Channel {
    match actor.role() {
        common::Role::Service => common::Channel::System,
        common::Role::Applicant => common::Channel::Online,
        _ => common::Channel::Window,
    }
}

/// Runs a command: replay check, load, version check, `command` (built from
/// the loaded state, so it can authorise against it and carry facts),
/// decide, and append with the read rows and idempotency record, all or
/// nothing. A decision without events records nothing and answers with
/// `respond` on the unchanged state.
pub async fn execute<R: Message + Default>(
    issuance: &Issuance,
    run: Run<'_>,
    command: impl FnOnce(&State) -> Result<Command, Status>,
    respond: impl FnOnce(&State, &[Event]) -> R,
) -> Result<Executed<R>, Status> {
    if let Some((key, hash)) = &run.idempotency
        && let Some(r) = yiciban_platform::idempotency::replayed::<R>(&issuance.store, key, hash).await?
    {
        return Ok(Executed::Replayed(r));
    }
    let case_id = run.case_id;
    let state = load(issuance, case_id).await?;
    if run.expected != 0 && run.expected != state.version {
        return Err(Status::aborted(format!(
            "the issuance of case {case_id} is at version {}, the request expected {}; read it again and retry",
            state.version, run.expected
        )));
    }
    let events = State::decide(&state, command(&state)?).map_err(domain_status)?;
    if events.is_empty() {
        return Ok(Executed::Done(respond(&state, &events)));
    }
    let next = events.iter().fold(state.clone(), State::evolve);
    let response = respond(&next, &events);
    let key = run.idempotency.as_ref().map(|(k, _)| k.clone()).unwrap_or_else(|| format!("issuance-{case_id}"));
    let record = run.idempotency.map(|(key, request_hash)| IdempotencyRecord {
        key,
        request_hash,
        response: response.encode_to_vec(),
    });
    let new_events: Vec<NewEvent> = events
        .iter()
        .map(|e| {
            let (kind, payload) = convert::encode_event(e);
            let event = NewEvent::new(kind, payload);
            match department_of(&next, e) {
                Some(d) => event.for_department(d),
                None => event,
            }
        })
        .collect();
    let metadata = EventMetadata::new(case_id, run.actor, channel_of(run.actor), issuance.clock.now())
        .caused_by(key.clone(), key)
        .with_trace(yiciban_eventstore::trace::current_trace_context());
    let mut tx = issuance.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?;
    let outcome = issuance
        .store
        .append_in(
            &mut tx,
            &State::stream_id(case_id),
            ExpectedVersion::Exact(state.version),
            &new_events,
            &metadata,
            record.as_ref(),
        )
        .await
        .map_err(from_store)?;
    if let AppendOutcome::Replayed { response } = outcome {
        return R::decode(response.as_slice())
            .map(Executed::Replayed)
            .map_err(|e| internal("reading a stored response", &e));
    }
    write_rows(issuance, &mut tx, case_id, &next, run.facts)
        .await
        .map_err(|e| internal("writing the read rows", &e))?;
    issuance.store.commit(tx).await.map_err(|e| internal("committing the command", &e))?;
    Ok(Executed::Done(response))
}

/// The department an event concerns, if one: a rectification's responsible
/// department, a rating's department.
pub fn department_of(state: &State, event: &Event) -> Option<String> {
    let of_rectification = |id: Uuid| state.rectification(id).map(|r| r.responsible_department.as_str().to_owned());
    let of_rating = |id: Uuid| {
        state
            .ratings
            .iter()
            .find(|r| r.received.rating_id == id)
            .and_then(|r| r.received.department.as_ref().map(|d| d.as_str().to_owned()))
    };
    match event {
        Event::RectificationOpened(e) => Some(e.responsible_department.as_str().to_owned()),
        Event::RectificationVerified(e) => of_rectification(e.rectification_id),
        Event::RectificationRectified(e) => of_rectification(e.rectification_id),
        Event::RectificationExplained(e) => of_rectification(e.rectification_id),
        Event::RectificationClosed(e) => of_rectification(e.rectification_id),
        Event::RatingReceived(e) => e.department.as_ref().map(|d| d.as_str().to_owned()),
        Event::RatingMarkedInvalid(e) => of_rating(e.rating_id),
        _ => None,
    }
}

async fn write_rows(
    issuance: &Issuance,
    tx: &mut sqlx::PgConnection,
    case_id: Uuid,
    state: &State,
    facts: RowFacts,
) -> sqlx::Result<()> {
    let schema = issuance.schema();
    let mut departments: Vec<String> = state
        .batches
        .iter()
        .flat_map(|b| b.documents.iter().map(|d| d.issuing_department.as_str().to_owned()))
        .chain(facts.lead_department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    repo::upsert_case(
        tx,
        schema,
        &CaseRow {
            case_id,
            case_number: state.case_number.map(|n| n.to_string()).unwrap_or_default(),
            applicant_hmac: facts.applicant_hmac,
            lead_department: facts.lead_department,
            departments,
            closed_on: state.closed_on,
            version: state.version as i64,
            issuance: convert::issuance_to_pb(case_id, state).encode_to_vec(),
        },
    )
    .await?;
    for r in &state.ratings {
        let e = &r.received;
        repo::upsert_rating(
            tx,
            schema,
            &RatingRow {
                rating_id: e.rating_id,
                case_id,
                score: e.score as i32,
                real_name: e.real_name,
                department: e.department.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
                rated_on: yiciban_calendar::date_in_china(e.at),
                invalid: r.invalid.is_some(),
            },
        )
        .await?;
    }
    for v in &state.return_visits {
        repo::upsert_visit(
            tx,
            schema,
            &VisitRow {
                visit_id: v.id,
                case_id,
                period: v.period.clone(),
                sample_id: v.sample_id,
                reason: yiciban_proto::common::v1::ReturnVisitSampleReason::from(v.reason).as_str_name().to_owned(),
                recorded: v.result.is_some(),
            },
        )
        .await?;
    }
    Ok(())
}

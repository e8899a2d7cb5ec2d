//! Running commands against a case's application stream: load and replay the
//! stream, decide with the pure aggregate, and append the events together
//! with the case index row and the idempotency key in one transaction. Used
//! by the RPCs and by the deficiency sweep alike.

use prost::Message;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::intake::{CaseApplication, Command, DomainError, Event, Identity, Status as CaseStatus, Terminate};
use yiciban_domain::{Aggregate, ErrorKind, Refusal};
use yiciban_eventstore::{
    AppendOutcome, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent, request_fingerprint,
};
use yiciban_platform::IdentityKey;
use yiciban_platform::status::{FieldViolation, from_store, internal, invalid_argument};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::intake as convert;

use crate::Intake;
use crate::repo::{self, IndexedCase};

/// Maps a domain refusal to its gRPC status (the one place for intake).
pub fn domain_status(error: DomainError) -> Status {
    match error {
        DomainError::Rejected(r) => invalid_argument(
            "the application cannot be taken as it is; correct every listed field and submit again",
            &r.violations
                .into_iter()
                .map(|v| FieldViolation { field: v.field, description: v.description })
                .collect::<Vec<_>>(),
        ),
        other => match other.kind() {
            ErrorKind::InvalidArgument => Status::invalid_argument(other.to_string()),
            ErrorKind::FailedPrecondition => Status::failed_precondition(other.to_string()),
            ErrorKind::AlreadyExists => Status::already_exists(other.to_string()),
            ErrorKind::NotFound => Status::not_found(other.to_string()),
        },
    }
}

/// Like [`domain_status`], adding violations found outside the domain (so a
/// refusal still lists every problem at once); with no domain error, the
/// extra violations alone.
pub fn refuse(error: Option<DomainError>, extra: Vec<FieldViolation>) -> Status {
    match error {
        Some(DomainError::Rejected(mut r)) => {
            r.violations.extend(extra.into_iter().map(|v| yiciban_domain::FieldViolation::new(v.field, v.description)));
            domain_status(DomainError::Rejected(r))
        }
        Some(other) => domain_status(other),
        None => invalid_argument("the request refers to material content that is not stored", &extra),
    }
}

/// Reads a case's events back into its state. `NOT_FOUND` for an unknown case.
pub async fn load(intake: &Intake, case_id: Uuid) -> Result<CaseApplication, Status> {
    let stored = intake.store.read_stream(&CaseApplication::stream_id(case_id), 1).await.map_err(from_store)?;
    if stored.is_empty() {
        return Err(Status::not_found(format!("no case {case_id}")));
    }
    let mut state = CaseApplication::default();
    for e in &stored {
        let event = convert::decode_event(&e.event_type, &e.payload)
            .map_err(|err| internal("reading the case's events", &err))?;
        state = CaseApplication::evolve(state, &event);
    }
    Ok(state)
}

/// The index row that mirrors `state`.
pub fn index_row(case_id: Uuid, state: &CaseApplication, identity_key: &IdentityKey) -> Option<IndexedCase> {
    let applicant = state.applicant.as_ref()?;
    let identity = match &applicant.identity {
        Identity::Person(id) => id.as_str().to_owned(),
        Identity::Company(code) => code.as_str().to_owned(),
    };
    Some(IndexedCase {
        case_id,
        case_number: state.case_number.as_ref()?.to_string(),
        package_id: state.package_id.as_ref()?.as_str().to_owned(),
        applicant_key: identity_key.lookup(&identity),
        officer_id: state.officer.as_ref().map(|o| o.id.clone()),
        status: status_name(state.status).to_owned(),
        open: !state.status.is_terminal(),
        deficiency_deadline: state.open_deficiencies().map(|d| d.deficiency.due_by).min(),
        version: state.version as i64,
    })
}

pub fn status_name(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::New => "new",
        CaseStatus::Submitted => "submitted",
        CaseStatus::Accepted => "accepted",
        CaseStatus::AcceptedWithDeficiency => "accepted_with_deficiency",
        CaseStatus::NotAccepted => "not_accepted",
        CaseStatus::Withdrawn => "withdrawn",
        CaseStatus::Terminated => "terminated",
    }
}

/// Encodes domain events for the store.
pub fn to_new_events(events: &[Event]) -> Vec<NewEvent> {
    events
        .iter()
        .map(|e| {
            let (kind, payload) = convert::encode_event(e);
            NewEvent::new(kind, payload)
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

/// Runs `command` against an existing case: decide on the replayed state (at
/// `expected`, 0 = don't check), append with the index row and the
/// idempotency record, all or nothing.
#[allow(clippy::too_many_arguments)]
pub async fn execute<R: Message + Default>(
    intake: &Intake,
    case_id: Uuid,
    expected: u64,
    command: Command,
    metadata: EventMetadata,
    idem: Option<(String, String)>,
    respond: impl FnOnce(&CaseApplication, &[Event]) -> R,
) -> Result<Executed<R>, Status> {
    if let Some((key, hash)) = &idem
        && let Some(r) = yiciban_platform::idempotency::replayed::<R>(&intake.store, key, hash).await?
    {
        return Ok(Executed::Replayed(r));
    }
    let state = load(intake, case_id).await?;
    if expected != 0 && expected != state.version {
        return Err(Status::aborted(format!(
            "case {case_id} is at version {}, the request expected {expected}; read it again and retry",
            state.version
        )));
    }
    let events = CaseApplication::decide(&state, command).map_err(domain_status)?;
    let new_state = events.iter().fold(state.clone(), CaseApplication::evolve);
    let response = respond(&new_state, &events);
    let record =
        idem.map(|(key, request_hash)| IdempotencyRecord { key, request_hash, response: response.encode_to_vec() });
    let mut tx = intake.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?;
    let outcome = intake
        .store
        .append_in(
            &mut tx,
            &CaseApplication::stream_id(case_id),
            ExpectedVersion::Exact(state.version),
            &to_new_events(&events),
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
    if let Some(row) = index_row(case_id, &new_state, &intake.identity_key) {
        repo::upsert_case(&mut tx, intake.schema(), &row).await.map_err(|e| internal("indexing the case", &e))?;
    }
    intake.store.commit(tx).await.map_err(|e| internal("committing the command", &e))?;
    Ok(Executed::Done(response))
}

/// Metadata for a command by the system itself (timers, sweeps).
pub fn system_metadata(case_id: Uuid, intake: &Intake, cause: &str) -> EventMetadata {
    let actor = common::Actor {
        subject: "intake-deficiency-sweep".into(),
        role: common::Role::Service as i32,
        department: String::new(),
    };
    EventMetadata::new(case_id, &actor, common::Channel::System, intake.clock.now())
        .caused_by(cause, cause)
        .with_trace(yiciban_eventstore::trace::current_trace_context())
}

/// Ends a case whose deficiency deadline passed; `false` if another sweep
/// did it first or nothing is overdue any more.
pub async fn terminate_for_expired_deficiency(intake: &Intake, case_id: Uuid) -> anyhow::Result<bool> {
    let key = format!("deficiency-overdue-{case_id}");
    let command = Command::Terminate(Terminate::deficiency_overdue(intake.clock.now()));
    let result = execute(
        intake,
        case_id,
        0,
        command,
        system_metadata(case_id, intake, &key),
        Some((key.clone(), request_fingerprint(key.as_bytes()))),
        |state, _| yiciban_proto::intake::v1::TerminateCaseResponse { version: state.version },
    )
    .await;
    match result {
        Ok(Executed::Done(_)) => Ok(true),
        Ok(Executed::Replayed(_)) => Ok(false),
        Err(s) if matches!(s.code(), tonic::Code::FailedPrecondition | tonic::Code::Aborted) => {
            tracing::info!(%case_id, reason = s.message(), "not terminated");
            Ok(false)
        }
        Err(s) => Err(anyhow::anyhow!("terminating case {case_id}: {}", s.message())),
    }
}

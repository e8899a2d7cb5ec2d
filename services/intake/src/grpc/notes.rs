//! AddCaseNote and ListCaseNotes (办件备注, ADR 0034): the role checked, the
//! case's scope (an officer only the case's own, anyone else's case read as
//! a missing one), the text checked before anything is stored; the notes
//! read back opened with the applicant's key, each answer showing a text
//! recorded in the personal-data read log.

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_commands::Idempotency;
use yiciban_platform::read_log::{Purpose, Read};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::intake::v1 as pb;

use super::intake::parse_case_id;
use super::scope;
use crate::Intake;
use crate::notes::{Added, NewNote, Note, Notes, text_violation};

/// The RPC whose reads are recorded.
const LIST_CASE_NOTES: &str = "/yiciban.intake.v1.IntakeService/ListCaseNotes";

fn store(intake: &Intake) -> Notes {
    Notes::new(intake.pool().clone(), intake.schema(), intake.applications.codec().data_keys.clone())
}

fn to_pb(note: Note) -> pb::CaseNote {
    let role = note.author_role.parse::<Role>().map_or(common::Role::Unspecified, Role::to_proto);
    pb::CaseNote {
        note_id: note.note_id.to_string(),
        author: Some(common::Actor { subject: note.author, role: role as i32, department: String::new() }),
        written_at: Some(timestamp(note.written_at)),
        erased: note.text.is_none(),
        text: note.text.unwrap_or_default(),
    }
}

/// AddCaseNote. Callers: clerk, officer (own case), supervisor.
pub async fn add(
    intake: &Intake,
    request: Request<pb::AddCaseNoteRequest>,
) -> Result<Response<pb::AddCaseNoteResponse>, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Clerk, Role::Officer, Role::Supervisor], "add a note to a case")?;
    let req = request.into_inner();
    let idem = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let case_id = parse_case_id(&req.case_id)?;
    if let Some(why) = text_violation(&req.text) {
        return Err(invalid_argument(
            "the note cannot be kept",
            &[FieldViolation { field: "text".into(), description: why.into() }],
        ));
    }
    let (case, _) = scope::visible(intake, &caller, case_id).await?;
    let text = req.text.trim();
    let note = NewNote {
        case_id,
        author: &caller.subject,
        author_role: caller.role.as_str(),
        written_at: intake.clock.now(),
        text,
        idempotency: (idem.stored_key(), idem.fingerprint()),
    };
    match store(intake).add(&case.applicant_key, &note).await.map_err(|e| internal("keeping a case note", &e))? {
        Added::Note(note) => {
            tracing::info!(%case_id, "a note was added to a case");
            Ok(Response::new(pb::AddCaseNoteResponse { note: Some(to_pb(note)) }))
        }
        Added::KeyReused => {
            Err(Status::already_exists("idempotency_key was used for another request; use a fresh key for a new note"))
        }
        Added::Erased => Err(Status::failed_precondition(
            "the applicant's personal data was erased; no note can be added to the case",
        )),
    }
}

/// ListCaseNotes. Callers: clerk, officer (own case), supervisor, admin.
pub async fn list(
    intake: &Intake,
    request: Request<pb::ListCaseNotesRequest>,
) -> Result<Response<pb::ListCaseNotesResponse>, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Clerk, Role::Officer, Role::Supervisor, Role::Admin], "read a case's notes")?;
    let purpose = Purpose::of(&request, "办件备注查看 (ListCaseNotes)")?;
    let case_id: Uuid = parse_case_id(&request.get_ref().case_id)?;
    scope::visible(intake, &caller, case_id).await?;
    let notes = store(intake).of_case(case_id).await.map_err(|e| internal("reading a case's notes", &e))?;
    if notes.iter().any(|n| n.text.is_some()) {
        let case = case_id.to_string();
        let read = Read { method: LIST_CASE_NOTES, case: &case, fields: &["notes"], purpose: &purpose };
        intake.reads.record(&caller, read).await?;
    }
    Ok(Response::new(pb::ListCaseNotesResponse { notes: notes.into_iter().map(to_pb).collect() }))
}

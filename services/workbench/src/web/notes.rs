//! 办件备注 (ADR 0034): `POST /cases/{case}/notes` (`text`) adds a note
//! through intake's AddCaseNote — checked like every POST (origin, session,
//! form token), sent with the person's own token and the form's idempotency
//! key; done: a 303 to the case page, which confirms it; refused: the case
//! page again with the text typed and intake's words next to it, nothing
//! kept. The case page reads the notes (ListCaseNotes, the purpose stated)
//! for its timeline.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::intake::v1::{AddCaseNoteRequest, CaseNote, ListCaseNotesRequest};

use super::cases::{CaseOutcome, case_page};
use super::decide::{checked_for, typed};
use super::guard::{self, Visit};
use super::respond::redirect;
use super::work::{path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Refusal, with_purpose};
use crate::pages::decide::Sent;
use crate::pages::officer::{CaseAction, CaseAttempt};

/// What the case page states when it reads the notes (recorded in intake's
/// personal-data read log).
pub const NOTES_PURPOSE: &str = "办件跟踪：查看办件备注（工作台办件页）";

/// The case's notes as intake lets the person read them, or intake's words
/// why not; `Err` only when the person has no token for intake.
pub(super) async fn of_case(
    wb: &Workbench,
    visit: &Visit,
    case_id: &str,
) -> Result<Result<Vec<CaseNote>, String>, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("intake")).await?;
    let request = with_purpose(ListCaseNotesRequest { case_id: case_id.to_owned() }, NOTES_PURPOSE);
    Ok(wb
        .services
        .intake(&token)
        .list_case_notes(request)
        .await
        .map(|answer| answer.into_inner().notes)
        .map_err(|status| Refusal::from(&status).message))
}

/// `POST /cases/{case}/notes`: `text`.
pub async fn add(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, token) = match checked_for(&wb, &headers, &body, "intake").await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let request =
        AddCaseNoteRequest { idempotency_key: meta.key, case_id: case_id.clone(), text: form.get("text").to_owned() };
    match wb.services.intake(&token).add_case_note(request).await {
        Ok(_) => {
            tracing::info!("a note was added to a case through the workbench");
            redirect(&format!("/cases/{}?done={}", path_segment(&case_id), CaseAction::Note.segment()))
        }
        Err(status) if status.code() == tonic::Code::PermissionDenied => {
            // No note form on the page for this role: intake's words alone.
            tracing::info!("intake refused a case note to a role that may not add one");
            refused_page(&wb, &visit, "无法添加备注", &Refusal::from(&status))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "intake refused a case note");
            let sent = Sent::refused(typed(&form), &status, |f| CaseAction::Note.input_of(f));
            let attempt = CaseAttempt { action: CaseAction::Note, task_id: String::new(), sent };
            case_page(&wb, &visit, &case_id, CaseOutcome::Refused(Refusal::from(&status).status, attempt)).await
        }
    }
}

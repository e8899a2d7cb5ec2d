//! The case page's actions: `POST /cases/{case}/tasks/{task}/urge` (督办,
//! TaskService.UrgeTask: `note`) and `POST /cases/{case}/officer` (改派专办员,
//! IntakeService.AssignOfficer: `officer_id`, `officer_name`). Each checked
//! like every POST (origin, session, form token), then sent with the
//! person's own token, the form's idempotency key and the version the page
//! showed. Done: a 303 to the case page, which confirms it. Refused: the
//! case page again with what was sent and the service's words next to the
//! field — the service recorded nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use yiciban_proto::intake::v1::AssignOfficerRequest;
use yiciban_proto::tasks::v1::UrgeTaskRequest;

use super::cases::{CaseOutcome, case_page};
use super::decide::{checked, checked_for, typed};
use super::guard::{Form, Visit};
use super::respond::redirect;
use super::work::path_segment;
use crate::Workbench;
use crate::calls::Refusal;
use crate::pages::decide::Sent;
use crate::pages::officer::{CaseAction, CaseAttempt};

/// The answer to an action: the case page confirming it, or the case page
/// with the refused form shown again.
async fn finish<T>(
    wb: &Workbench,
    visit: &Visit,
    case_id: &str,
    (action, task_id): (CaseAction, &str),
    answer: Result<T, tonic::Status>,
    form: &Form,
) -> Response {
    match answer {
        Ok(_) => {
            tracing::info!(action = action.segment(), "an action on a case through the workbench");
            redirect(&format!("/cases/{}?done={}", path_segment(case_id), action.segment()))
        }
        Err(status) => {
            tracing::info!(action = action.segment(), code = ?status.code(), "a service refused an action on a case");
            let sent = Sent::refused(typed(form), &status, |f| action.input_of(f));
            let attempt = CaseAttempt { action, task_id: task_id.to_owned(), sent };
            case_page(wb, visit, case_id, CaseOutcome::Refused(Refusal::from(&status).status, attempt)).await
        }
    }
}

/// `POST /cases/{case}/tasks/{task}/urge`: `note`.
pub async fn urge(
    State(wb): State<Arc<Workbench>>,
    Path((case_id, task_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, mut tasks) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let request = UrgeTaskRequest {
        idempotency_key: meta.key,
        task_id: task_id.clone(),
        expected_version: meta.version,
        note: form.get("note").to_owned(),
    };
    let answer = tasks.urge_task(request).await;
    finish(&wb, &visit, &case_id, (CaseAction::Urge, &task_id), answer, &form).await
}

/// `POST /cases/{case}/officer`: `officer_id`, `officer_name`.
pub async fn reassign(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, token) = match checked_for(&wb, &headers, &body, "intake").await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let request = AssignOfficerRequest {
        idempotency_key: meta.key,
        case_id: case_id.clone(),
        expected_version: meta.version,
        officer_id: form.get("officer_id").trim().to_owned(),
        officer_name: form.get("officer_name").trim().to_owned(),
    };
    let answer = wb.services.intake(&token).assign_officer(request).await;
    finish(&wb, &visit, &case_id, (CaseAction::Reassign, ""), answer, &form).await
}

//! `POST /tasks/{id}/approve` (`multipart/form-data`): 准予 with the result
//! document — `kind`, `name`, `number`, `valid_from`, `valid_until`,
//! `physical`, `comment` — and optionally its `file` (证照/批文), which is
//! stored in intake first (MaterialService.UploadMaterial, as the person)
//! and whose reference, with the SHA-256 intake returned, becomes the
//! document's electronic copy. The issuing department and the item are the
//! task's own. The origin and the session are checked before the body is
//! read, the form token before anything is sent anywhere.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::common::v1::{Date, MaterialRef, ResultDocument, ResultDocumentKind};
use yiciban_proto::tasks::v1::{ApproveTaskRequest, GetTaskRequest, Task};

use super::decide::{BAD_DATE, date, finish, invalid, meta, tasks, typed};
use super::guard::{self, Form, Visit};
use super::upload::{self, File, FileProblem};
use super::work::refused_page;
use crate::Workbench;
use crate::calls::{Refusal, Tasks};
use crate::pages::decide::{Action, Sent};
use crate::pages::format;

/// The handler: every early answer (a refusal, the form shown again) is
/// the `Err` of [`approving`].
pub async fn approve(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    approving(&wb, &task_id, &headers, multipart).await.unwrap_or_else(|answer| answer)
}

async fn approving(
    wb: &Workbench,
    task_id: &str,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Response, Response> {
    let visit = guard::post_visit(wb, headers).await?;
    let received = upload::read(multipart, "file", wb.result_max_bytes).await;
    let form = Form::from_pairs(received.fields);
    guard::form_token(&visit, form.get("csrf"))?;
    let meta = meta(wb, &visit, &form)?;
    // The form shown again with the words next to `input`; nothing sent.
    let again = |status: StatusCode, input: &str, message: &str| {
        let sent = Sent::invalid(typed(&form), input, message);
        invalid(wb, &visit, task_id, Action::Approve, status, sent)
    };
    let file = match received.file {
        None => None,
        Some(Ok(file)) => Some(file),
        Some(Err(FileProblem::TooLarge)) => {
            let message = format!("文件超过 {} 的上限，未上传", format::size(wb.result_max_bytes));
            return Err(again(StatusCode::PAYLOAD_TOO_LARGE, "file", &message).await);
        }
        Some(Err(FileProblem::Unreadable)) => {
            return Err(again(StatusCode::BAD_REQUEST, "file", "文件未能完整上传，请重新选择后再试").await);
        }
    };
    let (valid_from, valid_until) = match (date(form.get("valid_from")), date(form.get("valid_until"))) {
        (Ok(from), Ok(until)) => (from, until),
        (Err(()), _) => return Err(again(StatusCode::BAD_REQUEST, "valid_from", BAD_DATE).await),
        (_, Err(())) => return Err(again(StatusCode::BAD_REQUEST, "valid_until", BAD_DATE).await),
    };
    let mut tasks = tasks(wb, &visit).await?;
    let task = task_of(wb, &visit, &mut tasks, task_id).await?;
    let electronic_copy = match &file {
        None => None,
        Some(file) => match store(wb, &visit, file).await? {
            Ok(stored) => Some(stored),
            Err(refusal) => {
                let message = format!("文件未能存入受理系统：{}", refusal.message);
                return Err(again(refusal.status, "file", &message).await);
            }
        },
    };
    let request = ApproveTaskRequest {
        idempotency_key: meta.key,
        task_id: task_id.to_owned(),
        expected_version: meta.version,
        result: Some(document(&form, &task, (valid_from, valid_until), electronic_copy)),
        comment: form.get("comment").to_owned(),
    };
    let answer = tasks.approve_task(request).await;
    let refused = |s: &tonic::Status| Sent::refused(typed(&form), s, |f| Action::Approve.input_of(f));
    Ok(finish(wb, &visit, task_id, Action::Approve, answer, refused).await)
}

/// The task as the person sees it now (its department and item go into
/// the document).
async fn task_of(wb: &Workbench, visit: &Visit, tasks: &mut Tasks, task_id: &str) -> Result<Task, Response> {
    let found = tasks.get_task(GetTaskRequest { task_id: task_id.to_owned() }).await;
    match found.map(|r| r.into_inner().task) {
        Ok(Some(task)) => Ok(task),
        Ok(None) => Err(refused_page(wb, visit, "未找到", &Refusal::from(tonic::Status::not_found("task not found")))),
        Err(status) => Err(refused_page(wb, visit, "无法打开任务", &Refusal::from(&status))),
    }
}

/// `file` stored in intake as the person: its reference, or intake's
/// refusal (the outer `Err` is a page: no token for intake).
async fn store(wb: &Workbench, visit: &Visit, file: &File) -> Result<Result<MaterialRef, Refusal>, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("intake")).await?;
    Ok(upload::to_intake(&mut wb.services.materials(&token), file).await.map_err(|status| {
        tracing::info!(code = ?status.code(), "intake refused a result file");
        Refusal::from(&status)
    }))
}

/// The result document of the form for `task`.
fn document(
    form: &Form,
    task: &Task,
    (valid_from, valid_until): (Option<Date>, Option<Date>),
    electronic_copy: Option<MaterialRef>,
) -> ResultDocument {
    let kind = ResultDocumentKind::from_str_name(form.get("kind")).unwrap_or(ResultDocumentKind::Unspecified);
    ResultDocument {
        kind: kind as i32,
        name: form.get("name").to_owned(),
        number: form.get("number").to_owned(),
        issuing_department: task.department.clone(),
        item_code: task.item_code.clone(),
        valid_from,
        valid_until,
        physical: form.get("physical") == "1",
        electronic_copy,
    }
}

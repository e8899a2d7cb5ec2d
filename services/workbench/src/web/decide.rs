//! The decisions on a task (`POST /tasks/{id}/deny`, `supplement`,
//! `transfer`, `resume`, `post-check`; `approve`, with its file, in
//! [`super::approve`]): each checked like every POST (origin, session, form
//! token), then sent to the task service with the person's own token, the
//! form's idempotency key and the version the page showed. Done: a 303 to
//! the task page, which confirms it. Refused: the task page again with what
//! was sent and the service's words next to the field — the service
//! recorded nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::common::v1::{Date, SupplementItem};
use yiciban_proto::tasks::v1::{
    DenyTaskRequest, RecordPostCheckRequest, ResumeTaskRequest, ReturnForSupplementRequest, TransferTaskRequest,
};

use super::guard::{self, Form, Visit};
use super::respond::redirect;
use super::work::{Outcome, path_segment, refused_page, task_page};
use crate::Workbench;
use crate::calls::{Refusal, Tasks};
use crate::pages::decide::{Action, Attempt, Sent};

/// The fields every decision form carries besides its own.
const FORM_META: [&str; 3] = ["csrf", "version", "key"];

/// A decision form's version and idempotency key.
pub(super) struct Meta {
    pub version: u64,
    pub key: String,
}

/// A POSTed action form of a resource's page, checked: the visit (session,
/// origin, form token), the action its path's last `segment` names, and the
/// form's version and key; or the page refusing it (nothing is asked of a
/// service).
pub(super) async fn action_form<A>(
    wb: &Workbench,
    headers: &HeaderMap,
    body: &[u8],
    segment: &str,
    of_segment: impl Fn(&str) -> Option<A>,
) -> Result<(Form, Visit, A, Meta), Response> {
    let form = Form::parse(body);
    let visit = guard::post(wb, headers, &form).await?;
    let Some(action) = of_segment(segment) else {
        return Err(super::work::no_such_action(wb, &visit));
    };
    let meta = meta(wb, &visit, &form)?;
    Ok((form, visit, action, meta))
}

/// The form's version and key, or the page refusing a form the page did
/// not make (the service is not asked).
pub(super) fn meta(wb: &Workbench, visit: &Visit, form: &Form) -> Result<Meta, Response> {
    let bad = |message: &str| {
        let refusal = Refusal { status: StatusCode::BAD_REQUEST, message: message.to_owned() };
        refused_page(wb, visit, "请求有误", &refusal)
    };
    let Ok(version) = form.get("version").parse::<u64>() else { return Err(bad("version: 应为任务的版本号")) };
    let key = form.get("key");
    if key.is_empty() || key.chars().count() > 128 {
        return Err(bad("key: 应为 1 至 128 个字符"));
    }
    Ok(Meta { version, key: key.to_owned() })
}

/// What was typed, without the form's own fields.
pub(super) fn typed(form: &Form) -> Vec<(String, String)> {
    form.pairs().iter().filter(|(k, _)| !FORM_META.contains(&k.as_str())).cloned().collect()
}

/// The task service as the person.
pub(super) async fn tasks(wb: &Workbench, visit: &Visit) -> Result<Tasks, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("tasks")).await?;
    Ok(wb.services.tasks(&token))
}

/// The answer to a decision: the task page confirming it, or the task page
/// with the refused form shown again.
pub(super) async fn finish<T>(
    wb: &Workbench,
    visit: &Visit,
    task_id: &str,
    action: Action,
    answer: Result<T, tonic::Status>,
    refused: impl FnOnce(&tonic::Status) -> Sent,
) -> Response {
    match answer {
        Ok(_) => {
            tracing::info!(action = action.segment(), "a decision on a task through the workbench");
            redirect(&format!("/tasks/{}?done={}", path_segment(task_id), action.segment()))
        }
        Err(status) => {
            tracing::info!(action = action.segment(), code = ?status.code(), "the task service refused a decision");
            let sent = refused(&status);
            let code = Refusal::from(&status).status;
            task_page(wb, visit, task_id, Outcome::Refused(code, Attempt { action, sent })).await
        }
    }
}

/// The form shown again with the workbench's own words next to `input`.
pub(super) async fn invalid(
    wb: &Workbench,
    visit: &Visit,
    task_id: &str,
    action: Action,
    status: StatusCode,
    sent: Sent,
) -> Response {
    task_page(wb, visit, task_id, Outcome::Refused(status, Attempt { action, sent })).await
}

/// A `YYYY-MM-DD` date field: `None` when empty.
pub(super) fn date(text: &str) -> Result<Option<Date>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ())?;
    Ok(Some(Date::from(day)))
}

/// The words next to a date that is not one.
pub(super) const BAD_DATE: &str = "日期应写作 YYYY-MM-DD，例如 2026-10-09";

/// Checks a urlencoded decision form: the visit, its version and key.
pub(super) async fn checked(
    wb: &Workbench,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Form, Visit, Meta, Tasks), Response> {
    let form = Form::parse(body);
    let visit = guard::post(wb, headers, &form).await?;
    let meta = meta(wb, &visit, &form)?;
    let tasks = tasks(wb, &visit).await?;
    Ok((form, visit, meta, tasks))
}

/// Checks a urlencoded form like [`checked`], then takes the person's
/// token for `service` (e.g. "intake").
pub(super) async fn checked_for(
    wb: &Workbench,
    headers: &HeaderMap,
    body: &Bytes,
    service: &str,
) -> Result<(Form, Visit, Meta, String), Response> {
    let form = Form::parse(body);
    let visit = guard::post(wb, headers, &form).await?;
    let meta = meta(wb, &visit, &form)?;
    let token = guard::token(wb, &visit, &OidcConfig::audience_of(service)).await?;
    Ok((form, visit, meta, token))
}

/// `POST /tasks/{id}/deny`: `reason`, `legal_basis`, `remedy_notice`.
pub async fn deny(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, mut tasks) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let request = DenyTaskRequest {
        idempotency_key: meta.key,
        task_id: task_id.clone(),
        expected_version: meta.version,
        reason: form.get("reason").to_owned(),
        legal_basis: form.get("legal_basis").to_owned(),
        remedy_notice: form.get("remedy_notice").to_owned(),
    };
    let answer = tasks.deny_task(request).await;
    finish(&wb, &visit, &task_id, Action::Deny, answer, |s| {
        Sent::refused(typed(&form), s, |f| Action::Deny.input_of(f))
    })
    .await
}

/// `POST /tasks/{id}/supplement`: `material` (each checked material) with
/// `requirement.<material>`, a form field `field_path` with
/// `field_requirement`, and `due_by`.
pub async fn supplement(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, mut tasks) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let Ok(due_by) = date(form.get("due_by")) else {
        let sent = Sent::invalid(typed(&form), "due_by", BAD_DATE);
        return invalid(&wb, &visit, &task_id, Action::Supplement, StatusCode::BAD_REQUEST, sent).await;
    };
    // Each item, and the input it came from (where its violations go).
    let mut items = Vec::new();
    let mut inputs = Vec::new();
    for material in form.all("material") {
        let input = format!("requirement.{material}");
        items.push(SupplementItem {
            material_id: material.to_owned(),
            field_path: String::new(),
            requirement: form.get(&input).to_owned(),
        });
        inputs.push(input);
    }
    let (field_path, field_requirement) = (form.get("field_path"), form.get("field_requirement"));
    if !field_path.is_empty() || !field_requirement.is_empty() {
        items.push(SupplementItem {
            material_id: String::new(),
            field_path: field_path.to_owned(),
            requirement: field_requirement.to_owned(),
        });
        inputs.push("field_requirement".to_owned());
    }
    let request = ReturnForSupplementRequest {
        idempotency_key: meta.key,
        task_id: task_id.clone(),
        expected_version: meta.version,
        items,
        due_by,
    };
    let answer = tasks.return_for_supplement(request).await;
    let input_of = |field: &str| {
        let Some(rest) = field.strip_prefix("items[") else { return Action::Supplement.input_of(field) };
        let (index, tail) = rest.split_once(']')?;
        let input = inputs.get(index.parse::<usize>().ok()?)?;
        match tail {
            ".field_path" => Some("field_path".to_owned()),
            ".material_id" => None,
            _ => Some(input.clone()),
        }
    };
    finish(&wb, &visit, &task_id, Action::Supplement, answer, |s| Sent::refused(typed(&form), s, input_of)).await
}

/// `POST /tasks/{id}/transfer`: `to_assignee`, `reason`.
pub async fn transfer(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, mut tasks) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let request = TransferTaskRequest {
        idempotency_key: meta.key,
        task_id: task_id.clone(),
        expected_version: meta.version,
        to_assignee: form.get("to_assignee").to_owned(),
        reason: form.get("reason").to_owned(),
    };
    let answer = tasks.transfer_task(request).await;
    let refused = |s: &tonic::Status| Sent::refused(typed(&form), s, |f| Action::Transfer.input_of(f));
    finish(&wb, &visit, &task_id, Action::Transfer, answer, refused).await
}

/// `POST /tasks/{id}/resume`: `request` (the open supplement request).
pub async fn resume(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, mut tasks) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let request = ResumeTaskRequest {
        idempotency_key: meta.key,
        task_id: task_id.clone(),
        expected_version: meta.version,
        supplement_request_id: form.get("request").to_owned(),
    };
    let answer = tasks.resume_task(request).await;
    finish(&wb, &visit, &task_id, Action::Resume, answer, |s| Sent::refused(typed(&form), s, |_| None)).await
}

/// `POST /tasks/{id}/post-check`: `passed` (`yes`/`no`), `commitment`
/// (each checked; none = all), `finding`, `revoke_approval`, `legal_basis`.
pub async fn post_check(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, mut tasks) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let passed = match form.get("passed") {
        "yes" => true,
        "no" => false,
        _ => {
            let sent = Sent::invalid(typed(&form), "passed", "请选择核查结论：通过或未通过");
            return invalid(&wb, &visit, &task_id, Action::PostCheck, StatusCode::BAD_REQUEST, sent).await;
        }
    };
    let request = RecordPostCheckRequest {
        idempotency_key: meta.key,
        task_id: task_id.clone(),
        expected_version: meta.version,
        passed,
        material_ids: form.all("commitment").map(str::to_owned).collect(),
        finding: form.get("finding").to_owned(),
        checked_on: None,
        revoke_approval: form.get("revoke_approval") == "1",
        legal_basis: form.get("legal_basis").to_owned(),
    };
    let answer = tasks.record_post_check(request).await;
    let refused = |s: &tonic::Status| Sent::refused(typed(&form), s, |f| Action::PostCheck.input_of(f));
    finish(&wb, &visit, &task_id, Action::PostCheck, answer, refused).await
}

//! The pages of the day's work: the role's home, a department's inbox, a
//! task with what its department may see of the application, and the claim.
//! Every read and every command goes to the service with the person's own
//! token; a refusal is the service's, shown next to the action, and
//! nothing is changed by it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::intake::v1::GetStepApplicationRequest;
use yiciban_proto::tasks::v1::{ClaimTaskRequest, GetTaskRequest, ListInboxRequest, ListInboxResponse};

use super::guard::{self, Form, Visit};
use super::respond::{Html, redirect};
use crate::Workbench;
use crate::calls::{Refusal, TASK_PAGE_PURPOSE, with_purpose};
use crate::pages::decide::{Action, Attempt, Decisions};
use crate::pages::filters::{Filters, WarningFilter};
use crate::pages::{Counts, ErrorPage, HomePage, InboxPage, InboxRow, TaskPage};

pub(super) fn pairs(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes()).into_owned().collect()
}

pub(super) fn refused_page(wb: &Workbench, visit: &Visit, title: &str, refusal: &Refusal) -> Response {
    let layout = visit.layout(wb, title, "");
    (refusal.status, Html(ErrorPage::signed_in(title, &refusal.message, layout))).into_response()
}

/// The page for a POST to an action the page's resource does not have.
pub(super) fn no_such_action(wb: &Workbench, visit: &Visit) -> Response {
    let refusal = Refusal { status: StatusCode::NOT_FOUND, message: "没有这项操作。/ No such action.".into() };
    refused_page(wb, visit, "请求有误", &refusal)
}

/// `GET /`: the role's home; an agent's with the department's counts.
pub async fn home(State(wb): State<Arc<Workbench>>, headers: HeaderMap) -> Response {
    let visit = match guard::require(&wb, &headers, "/").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let person = &visit.session.person;
    let mut page = HomePage::new(person, &visit.session.csrf_token, &wb.names);
    if person.role == Role::Agent {
        let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tasks")).await {
            Ok(t) => t,
            Err(refused) => return refused,
        };
        page.counts = Some(counts(&wb, &token, &person.subject).await);
    }
    Html(page).into_response()
}

/// The agent's department's open tasks, its yellow and red ones, and the
/// agent's own: one count each (the service's `total_count`).
async fn counts(wb: &Workbench, token: &str, subject: &str) -> Result<Counts, String> {
    let tasks = wb.services.tasks(token);
    let count = |filters: Filters| {
        let request = ListInboxRequest { page_size: 1, ..filters.request(Role::Agent, subject) };
        let mut tasks = tasks.clone();
        async move { tasks.list_inbox(request).await.map(|r| r.into_inner().total_count) }
    };
    let asked = async {
        Ok::<_, tonic::Status>(Counts {
            open: count(Filters::default()).await?,
            yellow: count(Filters { warning: WarningFilter::Yellow, ..Filters::default() }).await?,
            red: count(Filters { warning: WarningFilter::Red, ..Filters::default() }).await?,
            mine: count(Filters { mine: true, ..Filters::default() }).await?,
        })
    };
    asked.await.map_err(|status| Refusal::from(&status).message)
}

/// `GET /inbox?state=&package=&warning=&department=&page=`.
pub async fn inbox(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let path = if raw.is_empty() { "/inbox".to_owned() } else { format!("/inbox?{raw}") };
    let visit = match guard::require(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    match Filters::parse(&pairs(&raw)) {
        Ok(filters) => {
            let (page, status) = inbox_page(&wb, &visit, &filters).await;
            match page {
                Ok(page) => (status, Html(page)).into_response(),
                Err(refused) => refused,
            }
        }
        Err(bad) => {
            let page = InboxPage::new(
                visit.layout(&wb, "待办箱", "/inbox"),
                &visit.session.person,
                &Filters::default(),
                None,
                &wb.names,
            );
            (StatusCode::BAD_REQUEST, Html(InboxPage { error: Some(format!("筛选条件无效：{bad}")), ..page }))
                .into_response()
        }
    }
}

/// The inbox for `filters`, listed with the person's token; a refused list
/// is the page with the service's message.
async fn inbox_page(wb: &Workbench, visit: &Visit, filters: &Filters) -> (Result<InboxPage, Response>, StatusCode) {
    let person = &visit.session.person;
    let title = if person.role == Role::Agent { "本部门待办" } else { "部门待办" };
    let page = |answer: Option<&ListInboxResponse>| {
        InboxPage::new(visit.layout(wb, title, "/inbox"), person, filters, answer, &wb.names)
    };
    if person.role != Role::Agent && filters.department.is_empty() {
        return (Ok(page(None)), StatusCode::OK);
    }
    let token = match guard::token(wb, visit, &OidcConfig::audience_of("tasks")).await {
        Ok(t) => t,
        Err(refused) => return (Err(refused), StatusCode::OK),
    };
    match wb.services.tasks(&token).list_inbox(filters.request(person.role, &person.subject)).await {
        Ok(answer) => (Ok(page(Some(&answer.into_inner()))), StatusCode::OK),
        Err(status) => {
            let refusal = Refusal::from(&status);
            (Ok(InboxPage { error: Some(refusal.message), ..page(None) }), refusal.status)
        }
    }
}

/// `GET /tasks/{id}` (`?claimed=1` after a claim, `?done=<action>` after a
/// decision: the page confirms it).
pub async fn task(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let visit = match guard::require(&wb, &headers, &format!("/tasks/{}", path_segment(&task_id))).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let flash = pairs(&raw.unwrap_or_default()).iter().find_map(|(k, v)| match k.as_str() {
        "claimed" if v == "1" => Some("已认领，本环节由您办理。"),
        "done" => Action::of_segment(v).map(Action::confirmation),
        _ => None,
    });
    task_page(&wb, &visit, &task_id, Outcome::Shown(flash)).await
}

/// How the task page is shown.
pub(super) enum Outcome {
    /// As it is, with the confirmation of what was just done.
    Shown(Option<&'static str>),
    /// With a refused claim next to the task.
    ClaimRefused(Refusal),
    /// With a refused decision's form shown again (the answer's status).
    Refused(StatusCode, Attempt),
}

/// The task page of `task_id` as `visit`'s person may see it, with the
/// decisions the person may take and a service's refusal of the last
/// action next to it.
pub(super) async fn task_page(wb: &Workbench, visit: &Visit, task_id: &str, outcome: Outcome) -> Response {
    let tasks_token = match guard::token(wb, visit, &OidcConfig::audience_of("tasks")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let found = wb.services.tasks(&tasks_token).get_task(GetTaskRequest { task_id: task_id.to_owned() }).await;
    let task = match found.map(|r| r.into_inner().task) {
        Ok(Some(task)) => task,
        Ok(None) => {
            return refused_page(wb, visit, "未找到", &Refusal::from(tonic::Status::not_found("task not found")));
        }
        Err(status) => return refused_page(wb, visit, "无法打开任务", &Refusal::from(&status)),
    };
    // What a department may see of the application is asked only by its
    // agents (GetStepApplication's callers); other roles are told so.
    let application = if visit.session.person.role != Role::Agent {
        Err("本部门可见的申请信息仅向部门经办人显示。".to_owned())
    } else {
        match guard::token(wb, visit, &OidcConfig::audience_of("intake")).await {
            Ok(token) => {
                let request =
                    with_purpose(GetStepApplicationRequest { case_id: task.case_id.clone() }, TASK_PAGE_PURPOSE);
                match wb.services.intake(&token).get_step_application(request).await {
                    Ok(answer) => Ok((&answer.into_inner()).into()),
                    Err(status) => Err(Refusal::from(&status).message),
                }
            }
            Err(refused) => return refused,
        }
    };
    let person = &visit.session.person;
    let mut row = InboxRow::new(&task, person, &wb.names);
    let (status, flash, attempt) = match outcome {
        Outcome::Shown(flash) => (StatusCode::OK, flash, None),
        Outcome::ClaimRefused(refusal) => {
            row.error = Some(refusal.message);
            (refusal.status, None, None)
        }
        Outcome::Refused(status, attempt) => (status, None, Some(attempt)),
    };
    let decisions = Decisions::new(&task, person, &wb.names, wb.result_max_bytes, attempt);
    let layout = visit.layout(wb, "任务详情", "/inbox");
    (status, Html(TaskPage::new(layout, &task, row, application, flash, decisions, &wb.names))).into_response()
}

/// `POST /tasks/{id}/claim` with `csrf`, `version`, `key`, and `back` (the
/// inbox's filters, to show a refusal in) or `from=task` (the task page).
pub async fn claim(
    State(wb): State<Arc<Workbench>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let visit = match guard::post(&wb, &headers, &form).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    // A form the page did not make: refused here, the service never asked.
    let (Ok(version), key) = (form.get("version").parse::<u64>(), form.get("key")) else {
        return refused_page(&wb, &visit, "请求有误", &bad("version: 应为任务的版本号"));
    };
    if key.is_empty() || key.chars().count() > 128 {
        return refused_page(&wb, &visit, "请求有误", &bad("key: 应为 1 至 128 个字符"));
    }
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tasks")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let request =
        ClaimTaskRequest { idempotency_key: key.to_owned(), task_id: task_id.clone(), expected_version: version };
    match wb.services.tasks(&token).claim_task(request).await {
        Ok(_) => {
            tracing::info!("claimed a task through the workbench");
            redirect(&format!("/tasks/{}?claimed=1", path_segment(&task_id)))
        }
        Err(status) => {
            let refusal = Refusal::from(&status);
            // The page the form came from, the refusal next to the task.
            if form.get("from") == "task" {
                return task_page(&wb, &visit, &task_id, Outcome::ClaimRefused(refusal)).await;
            }
            let filters = Filters::parse(&pairs(form.get("back"))).unwrap_or_default();
            let (page, _) = inbox_page(&wb, &visit, &filters).await;
            match page {
                Ok(page) => (refusal.status, Html(page.refused(&task_id, refusal.message))).into_response(),
                Err(refused) => refused,
            }
        }
    }
}

pub(super) fn bad(message: &str) -> Refusal {
    Refusal { status: StatusCode::BAD_REQUEST, message: message.to_owned() }
}

/// A path segment, percent-encoded.
pub(super) fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

//! The case officer's pages: `/worklist` (tracking's OfficerWorklist),
//! `/cases/{case}` (GetTimeline with the case's summary, routing's GetPlan
//! and the task service's ListCaseTasks for the steps) and `/cases?number=` (the
//! header's search, FindCaseByNumber, then to the case page; its actions are
//! in [`super::officer`]). Read with the
//! person's own tokens: who may see which case is tracking's and the task
//! service's to decide, and their refusal is what the page shows.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::routing::v1::{GetPlanRequest, Plan};
use yiciban_proto::tasks::v1::{ListCaseTasksRequest, Task};
use yiciban_proto::tracking::v1::{FindCaseByNumberRequest, GetTimelineRequest};

use super::guard::{self, Visit};
use super::respond::{Html, redirect};
use super::work::{bad, pairs, path_segment, refused_page};
use crate::Workbench;
use crate::calls::Refusal;
use crate::pages::officer::{self, CaseAction, CaseAttempt, intake_version};
use crate::pages::worklist::WorklistQuery;
use crate::pages::{CasePage, WorklistPage};

/// The most timeline entries one case page shows (the service's page limit).
const TIMELINE_MAX: u32 = 1000;

/// The longest case number the search passes on.
const MAX_NUMBER_CHARS: usize = 64;

fn worklist_title(role: Role) -> &'static str {
    if role == Role::Officer { "我的办件" } else { "专人办件" }
}

/// `GET /worklist?stage=&warning=&officer=&page=`.
pub async fn worklist(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let path = if raw.is_empty() { "/worklist".to_owned() } else { format!("/worklist?{raw}") };
    let visit = match guard::require(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let role = visit.session.person.role;
    let page = |query: &WorklistQuery, answer| {
        WorklistPage::new(visit.layout(&wb, worklist_title(role), "/worklist"), role, query, answer, &wb.names)
    };
    let query = match WorklistQuery::parse(&pairs(&raw)) {
        Ok(q) => q,
        Err(bad) => {
            let page = page(&WorklistQuery::default(), None);
            return (
                StatusCode::BAD_REQUEST,
                Html(WorklistPage { error: Some(format!("筛选条件无效：{bad}")), ..page }),
            )
                .into_response();
        }
    };
    // Anyone but an officer names whose list to read.
    if role != Role::Officer && query.officer.is_empty() {
        return Html(page(&query, None)).into_response();
    }
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tracking")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    match wb.services.tracking(&token).officer_worklist(query.request(role)).await {
        Ok(answer) => Html(page(&query, Some(&answer.into_inner()))).into_response(),
        Err(status) => {
            let refusal = Refusal::from(&status);
            (refusal.status, Html(WorklistPage { error: Some(refusal.message), ..page(&query, None) })).into_response()
        }
    }
}

/// `GET /cases/{case}` (`?done=urge|officer` after an action): the case page.
pub async fn case(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let visit = match guard::require(&wb, &headers, &format!("/cases/{}", path_segment(&case_id))).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let flash = pairs(&raw.unwrap_or_default())
        .iter()
        .find_map(|(k, v)| (k == "done").then(|| CaseAction::of_segment(v).map(CaseAction::confirmation)).flatten());
    case_page(&wb, &visit, &case_id, CaseOutcome::Shown(flash)).await
}

/// How the case page is shown.
pub(super) enum CaseOutcome {
    /// As it is, with the confirmation of what was just done.
    Shown(Option<&'static str>),
    /// With a refused form shown again (the answer's status).
    Refused(StatusCode, CaseAttempt),
}

/// The case page of `case_id` as `visit`'s person may see it, with the
/// actions the person may take and a service's refusal of the last one.
pub(super) async fn case_page(wb: &Workbench, visit: &Visit, case_id: &str, outcome: CaseOutcome) -> Response {
    let token = match guard::token(wb, visit, &OidcConfig::audience_of("tracking")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let request =
        GetTimelineRequest { case_id: case_id.to_owned(), page_size: TIMELINE_MAX, page_token: String::new() };
    let timeline = match wb.services.tracking(&token).get_timeline(request).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused_page(wb, visit, "无法打开办件", &Refusal::from(&status)),
    };
    let Some(summary) = timeline.summary else {
        return refused_page(wb, visit, "无法打开办件", &Refusal::from(tonic::Status::internal("no summary")));
    };
    let (plan, tasks) = match steps(wb, visit, &summary.case_id).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let layout = visit.layout(wb, "办件详情", "");
    let truncated = !timeline.next_page_token.is_empty();
    let (status, flash, attempt) = match outcome {
        CaseOutcome::Shown(flash) => (StatusCode::OK, flash, None),
        CaseOutcome::Refused(status, attempt) => (status, None, Some(attempt)),
    };
    let version = intake_version(&summary.case_id, &timeline.entries);
    let role = visit.session.person.role;
    let notes = if officer::may_read_notes(role) {
        match super::notes::of_case(wb, visit, &summary.case_id).await {
            Ok(notes) => Some(notes),
            Err(refused) => return refused,
        }
    } else {
        None
    };
    let mut page = CasePage::new(layout, &summary, &timeline.entries, truncated, plan, tasks, &wb.names).with_actions(
        role,
        version,
        attempt.as_ref(),
        flash,
    );
    if let Some(notes) = notes {
        page = page.with_notes(notes);
    }
    (status, Html(CasePage { window: role == Role::Clerk, ..page })).into_response()
}

/// The case's plan (routing) and department tasks (the task service) as
/// the services let the person see them, each service's refusal as the
/// section's message; `Err` only when the person has no token for them
/// (the page saying why).
async fn steps(
    wb: &Workbench,
    visit: &Visit,
    case_id: &str,
) -> Result<(Result<Plan, String>, Result<Vec<Task>, String>), Response> {
    let routing = guard::token(wb, visit, &OidcConfig::audience_of("routing")).await?;
    let tasks = guard::token(wb, visit, &OidcConfig::audience_of("tasks")).await?;
    let mut routing = wb.services.routing(&routing);
    let mut tasks = wb.services.tasks(&tasks);
    let (plan, listed) = tokio::join!(
        routing.get_plan(GetPlanRequest { case_id: case_id.to_owned() }),
        tasks.list_case_tasks(ListCaseTasksRequest { case_id: case_id.to_owned() }),
    );
    let plan = plan
        .map_err(|status| Refusal::from(&status).message)
        .and_then(|answer| answer.into_inner().plan.ok_or_else(|| "没有办理计划。".to_owned()));
    Ok((plan, listed.map(|answer| answer.into_inner().tasks).map_err(|status| Refusal::from(&status).message)))
}

/// `GET /cases?number=`: the case of that number, or why not.
pub async fn find(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let visit = match guard::require(&wb, &headers, "/").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let asked = pairs(&raw.unwrap_or_default());
    let number = asked.iter().find(|(k, _)| k == "number").map_or("", |(_, v)| v.trim());
    if number.is_empty() || number.chars().count() > MAX_NUMBER_CHARS {
        let message = format!("办件编号：请输入办件编号（如 YCB-20260115-000123），至多 {MAX_NUMBER_CHARS} 个字符");
        return refused_page(&wb, &visit, "查找办件", &bad(&message));
    }
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tracking")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let request = FindCaseByNumberRequest { case_number: number.to_owned() };
    match wb.services.tracking(&token).find_case_by_number(request).await {
        Ok(answer) => match answer.into_inner().summary {
            Some(summary) => redirect(&format!("/cases/{}", path_segment(&summary.case_id))),
            None => refused_page(&wb, &visit, "查找办件", &Refusal::from(tonic::Status::internal("no summary"))),
        },
        Err(status) => refused_page(&wb, &visit, "查找办件", &Refusal::from(&status)),
    }
}

//! The reads: a department's inbox (filtered, most urgent first, paged),
//! one task, and every task of a case. Working days used are counted at read
//! time from each open task's clock.

use prost::Message as _;
use tonic::metadata::MetadataValue;
use tonic::{Response, Status};
use yiciban_calendar::CaseClock;
use yiciban_domain::FieldViolation;
use yiciban_domain::tasks::{TaskStatus, WarningLevel};
use yiciban_platform::access::{REFUSAL_CASE_KEY, REFUSAL_KEY};
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::wire::known;
use yiciban_proto::tasks::v1 as pb;

use super::access::{may_list_case, visible_case_tasks, visible_task};
use super::uuid_field;
use crate::Tasks;
use yiciban_commands::refuse;

use crate::commands::warning_rank;
use crate::deadlines::working_days_used;
use crate::repo::{self, InboxFilter, StoredTask};

/// Page size when none is asked.
const DEFAULT_PAGE: u32 = 50;
/// Largest page.
const MAX_PAGE: u32 = 500;

const OPEN_STATES: [TaskStatus; 3] = [TaskStatus::Pending, TaskStatus::InProgress, TaskStatus::WaitingForSupplement];

fn to_message(tasks: &Tasks, stored: StoredTask) -> Result<pb::Task, Status> {
    let mut task = pb::Task::decode(stored.task.as_slice()).map_err(|e| internal("reading an indexed task", &e))?;
    if stored.open {
        let clock: Option<CaseClock> =
            serde_json::from_value(stored.clock).map_err(|e| internal("reading a task's clock", &e))?;
        if let Some(clock) = clock {
            task.working_days_used = working_days_used(&clock, tasks.clock.now(), &tasks.calendar.current());
        }
    }
    Ok(task)
}

/// ListInbox: a department's inbox, for its agents (their own only),
/// supervisors, clerks and administrators.
pub async fn list_inbox(
    tasks: &Tasks,
    caller: &Caller,
    req: pb::ListInboxRequest,
) -> Result<pb::ListInboxResponse, Status> {
    // A department's inbox is the department's work, not a case's: an
    // officer follows their own cases in tracking's OfficerWorklist.
    caller.require(
        &[Role::Agent, Role::Supervisor, Role::Clerk, Role::Admin],
        "read department inboxes (officers follow their cases in OfficerWorklist)",
    )?;
    let mut v = Vec::new();
    let asked = req.department.trim();
    let department = match (caller.role, caller.department.as_deref()) {
        (Role::Agent, Some(own)) if asked.is_empty() || asked == own => own.to_owned(),
        (Role::Agent, own) => {
            return Err(Status::permission_denied(format!(
                "an agent of {:?} reads only its own department's inbox, not {asked:?}",
                own.unwrap_or_default()
            )));
        }
        _ if asked.is_empty() => {
            v.push(FieldViolation::new("department", "须指明部门代码"));
            String::new()
        }
        _ => asked.to_owned(),
    };
    let mut states = Vec::new();
    for (i, s) in req.states.iter().enumerate() {
        match TaskStatus::try_from(known::<common::TaskState>(*s)).ok() {
            Some(state) => states.push(state.as_str().to_owned()),
            None => v.push(FieldViolation::new(format!("states[{i}]"), "不是有效的环节状态")),
        }
    }
    if states.is_empty() {
        states = OPEN_STATES.iter().map(|s| s.as_str().to_owned()).collect();
    }
    let due_before = match &req.due_before {
        None => None,
        Some(d) => {
            let parsed = chrono::NaiveDate::try_from(*d).ok();
            if parsed.is_none() {
                v.push(FieldViolation::new("due_before", "不是有效的日期"));
            }
            parsed
        }
    };
    let min_warning = match req.min_warning {
        0 => 0,
        _ => match WarningLevel::try_from(req.min_warning()).ok() {
            Some(level) => warning_rank(Some(level)),
            None => {
                v.push(FieldViolation::new("min_warning", "不是有效的预警等级"));
                0
            }
        },
    };
    if req.page_size > MAX_PAGE {
        v.push(FieldViolation::new("page_size", format!("每页最多{MAX_PAGE}条")));
    }
    let offset: i64 = if req.page_token.is_empty() {
        0
    } else {
        req.page_token.parse().unwrap_or_else(|_| {
            v.push(FieldViolation::new("page_token", "须为上一页返回的 next_page_token"));
            0
        })
    };
    if !v.is_empty() {
        return Err(refuse(v));
    }
    let size = if req.page_size == 0 { DEFAULT_PAGE } else { req.page_size };
    let filter = InboxFilter {
        department,
        states,
        due_before,
        package_id: Some(req.package_id.trim().to_owned()).filter(|p| !p.is_empty()),
        assignee: Some(req.assignee.trim().to_owned()).filter(|a| !a.is_empty()),
        min_warning,
    };
    let (rows, total) = repo::inbox(tasks.pool(), tasks.schema(), &filter, offset, i64::from(size))
        .await
        .map_err(|e| internal("reading the inbox", &e))?;
    let next = offset + rows.len() as i64;
    let tasks_pb = rows.into_iter().map(|r| to_message(tasks, r)).collect::<Result<Vec<_>, _>>()?;
    Ok(pb::ListInboxResponse {
        tasks: tasks_pb,
        next_page_token: if next < total { next.to_string() } else { String::new() },
        total_count: u32::try_from(total).unwrap_or(u32::MAX),
    })
}

/// GetTask: a task the caller may see (see [`super::access`]).
pub async fn get_task(tasks: &Tasks, caller: &Caller, req: pb::GetTaskRequest) -> Result<pb::GetTaskResponse, Status> {
    let task_id = uuid_field("task_id", &req.task_id)?;
    let loaded = visible_task(tasks, caller, task_id).await?;
    Ok(pb::GetTaskResponse { task: Some(tasks.task_message(loaded.case_id, &loaded.state, loaded.now)) })
}

/// ListCaseTasks: the tasks of the case the caller may see. A case with no
/// task the caller may see is answered like a case with no task at all (an
/// empty list), the refusal recorded.
pub async fn list_case_tasks(
    tasks: &Tasks,
    caller: &Caller,
    req: pb::ListCaseTasksRequest,
) -> Result<Response<pb::ListCaseTasksResponse>, Status> {
    let case_id = uuid_field("case_id", &req.case_id)?;
    let (seen, withheld) = if may_list_case(tasks, caller, case_id).await? {
        let rows = repo::case_tasks(tasks.pool(), tasks.schema(), case_id)
            .await
            .map_err(|e| internal("reading the case's tasks", &e))?;
        let all = rows.into_iter().map(|r| to_message(tasks, r)).collect::<Result<Vec<_>, _>>()?;
        visible_case_tasks(caller, all)
    } else {
        (Vec::new(), Some("the officer is not assigned to this case"))
    };
    let mut response = Response::new(pb::ListCaseTasksResponse { tasks: seen });
    if let Some(reason) = withheld {
        mark_hidden(&mut response, &case_id.to_string(), reason);
    }
    Ok(response)
}

/// Marks an answer that withholds what the caller may not see, for the
/// authentication layer to record (it removes the marks before the answer
/// leaves, as for [`yiciban_platform::access::hidden`]).
fn mark_hidden<T>(response: &mut Response<T>, case: &str, reason: &'static str) {
    let metadata = response.metadata_mut();
    metadata.insert(REFUSAL_KEY, MetadataValue::from_static(reason));
    if let Ok(value) = MetadataValue::try_from(case) {
        metadata.insert(REFUSAL_CASE_KEY, value);
    }
}

//! The department's work on a task: claim, approve, deny, return for
//! supplement, resume, transfer, cancel and the post-check; and the case
//! officer's urging (督办). Each parses its
//! request first (INVALID_ARGUMENT, nothing recorded), then authorises the
//! caller against the loaded task, then lets the aggregate decide with the
//! facts of the task's clock at now.

use tonic::{Response, Status};
use uuid::Uuid;
use yiciban_calendar::date_in_china;
use yiciban_domain::FieldViolation;
use yiciban_domain::tasks::{
    Approve, Cancel, CancelReason, Claim, Command, Deny, PostCheckOutcome, RecordPostCheck, Resume,
    ReturnForSupplement, Task, Transfer, Transferrer, Urge,
};
use yiciban_platform::{Caller, Role};
use yiciban_proto::convert::tasks::{material_ids_input, result_document_input};
use yiciban_proto::tasks::v1 as pb;

use super::access::{agent_department, require_agent_of};
use super::{TasksApi, uuid_field};
use crate::deadlines::{Deadlines, stopped_days, working_days_used};
use yiciban_commands::{Loaded, refuse};

/// An optional date field, or its violation.
fn optional_date(
    field: &str,
    d: Option<&yiciban_proto::common::v1::Date>,
) -> Result<Option<chrono::NaiveDate>, Status> {
    match d {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::try_from(*d)
            .map(Some)
            .map_err(|_| refuse([FieldViolation::new(field, "不是有效的日期")])),
    }
}

impl TasksApi {
    fn used(&self, loaded: &Loaded<Task>) -> u32 {
        loaded.state.clock.as_ref().map_or(0, |c| working_days_used(c, loaded.now, &self.tasks.calendar.current()))
    }
}

/// ClaimTask: an agent of the task's department takes a pending task.
pub async fn claim(
    api: &TasksApi,
    caller: &Caller,
    req: pb::ClaimTaskRequest,
) -> Result<Response<pb::ClaimTaskResponse>, Status> {
    let agent_department = agent_department(caller, "claim tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            require_agent_of(caller, &loaded.state, &[], "claim")?;
            Ok(Command::Claim(Claim {
                agent: caller.subject.clone(),
                agent_department: agent_department.clone(),
                now: loaded.now,
            }))
        },
        |task, _| pb::ClaimTaskResponse { version: task.version },
    )
    .await
}

/// ApproveTask: the assignee approves with the result document.
pub async fn approve(
    api: &TasksApi,
    caller: &Caller,
    req: pb::ApproveTaskRequest,
) -> Result<Response<pb::ApproveTaskResponse>, Status> {
    agent_department(caller, "approve tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    let result = result_document_input("result", req.result.as_ref()).map_err(refuse)?;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            require_agent_of(caller, &loaded.state, &[], "approve")?;
            Ok(Command::Approve(Approve {
                by: caller.subject.clone(),
                result: result.clone(),
                comment: req.comment.clone(),
                now: loaded.now,
                working_days_used: api.used(loaded),
            }))
        },
        |task, _| pb::ApproveTaskResponse {
            post_check_pending: task.post_check == yiciban_domain::tasks::PostCheck::Pending,
            version: task.version,
        },
    )
    .await
}

/// DenyTask: the assignee denies with reason and legal basis.
pub async fn deny(
    api: &TasksApi,
    caller: &Caller,
    req: pb::DenyTaskRequest,
) -> Result<Response<pb::DenyTaskResponse>, Status> {
    agent_department(caller, "deny tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            require_agent_of(caller, &loaded.state, &[], "deny")?;
            Ok(Command::Deny(Deny {
                by: caller.subject.clone(),
                reason: req.reason.clone(),
                legal_basis: req.legal_basis.clone(),
                remedy_notice: req.remedy_notice.clone(),
                now: loaded.now,
                working_days_used: api.used(loaded),
            }))
        },
        |task, _| pb::DenyTaskResponse { version: task.version },
    )
    .await
}

/// ReturnForSupplement: the assignee asks the applicant for everything
/// missing at once; the task's clock stops.
pub async fn return_for_supplement(
    api: &TasksApi,
    caller: &Caller,
    req: pb::ReturnForSupplementRequest,
) -> Result<Response<pb::ReturnForSupplementResponse>, Status> {
    agent_department(caller, "return tasks for supplement")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    let now = api.tasks.clock.now();
    let due_by = match optional_date("due_by", req.due_by.as_ref())? {
        Some(d) => d,
        None => api.tasks.calendar.promise("supplement deadline", date_in_china(now), api.tasks.supplement_days)?,
    };
    let request_id = Uuid::now_v7();
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            require_agent_of(caller, &loaded.state, &[], "return")?;
            Ok(Command::ReturnForSupplement(ReturnForSupplement {
                by: caller.subject.clone(),
                supplement_request_id: request_id,
                items: req.items.iter().map(Into::into).collect(),
                due_by,
                now: loaded.now,
            }))
        },
        |task, _| pb::ReturnForSupplementResponse {
            supplement_request_id: request_id.to_string(),
            due_by: task.supplement.as_ref().map(|s| s.due_by.into()),
            version: task.version,
        },
    )
    .await
}

/// ResumeTask: the supplement arrived; the clock runs again and the due
/// dates move by the working days it stood still. Callers: service, or the
/// assignee.
pub async fn resume(
    api: &TasksApi,
    caller: &Caller,
    req: pb::ResumeTaskRequest,
) -> Result<Response<pb::ResumeTaskResponse>, Status> {
    caller.require(&[Role::Service, Role::Agent], "resume tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    let request_id = uuid_field("supplement_request_id", &req.supplement_request_id)?;
    let tasks = &api.tasks;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            let (task, now) = (&loaded.state, loaded.now);
            if caller.role == Role::Agent {
                require_agent_of(caller, task, &[], "resume")?;
                if task.assignee.as_deref() != Some(caller.subject.as_str()) {
                    return Err(Status::permission_denied("only the task's assignee (or a service) resumes it"));
                }
            }
            let limit = task.created.as_ref().map_or(0, |c| c.promised_working_days);
            let mut clock = task.clock.clone().ok_or_else(|| Status::internal("a created task has a clock"))?;
            let stopped = stopped_days(&clock, now, &tasks.calendar.current());
            // A clock that is not stopped is refused by the aggregate; the
            // current dates stand in as facts then.
            let resumed = clock
                .resume(now)
                .ok()
                .and_then(|()| Deadlines::of(&clock, limit, tasks.warn_share, &tasks.calendar.current()));
            let (due_by, warn_on) = match resumed {
                Some(d) => (d.due_by, d.warn_on),
                None => (task.due_by.unwrap_or_default(), task.warn_on.unwrap_or_default()),
            };
            Ok(Command::Resume(Resume {
                supplement_request_id: request_id,
                now,
                stopped_working_days: stopped,
                due_by,
                warn_on,
            }))
        },
        |task, _| pb::ResumeTaskResponse { due_by: task.due_by.map(Into::into), version: task.version },
    )
    .await
}

/// TransferTask: the assignee (or a supervisor) hands an open task to a
/// colleague of the same department.
pub async fn transfer(
    api: &TasksApi,
    caller: &Caller,
    req: pb::TransferTaskRequest,
) -> Result<Response<pb::TransferTaskResponse>, Status> {
    caller.require(&[Role::Agent, Role::Supervisor], "transfer tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            let by = if caller.role == Role::Agent {
                require_agent_of(caller, &loaded.state, &[], "transfer")?;
                Transferrer::Agent(caller.subject.clone())
            } else {
                Transferrer::Supervisor(caller.subject.clone())
            };
            Ok(Command::Transfer(Transfer {
                by,
                to_assignee: req.to_assignee.clone(),
                reason: req.reason.clone(),
                now: loaded.now,
            }))
        },
        |task, _| pb::TransferTaskResponse { version: task.version },
    )
    .await
}

/// CancelTask: the case ended otherwise. Callers: service, admin.
pub async fn cancel(
    api: &TasksApi,
    caller: &Caller,
    req: pb::CancelTaskRequest,
) -> Result<Response<pb::CancelTaskResponse>, Status> {
    caller.require(&[Role::Service, Role::Admin], "cancel tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    let reason = CancelReason::try_from(req.reason())
        .map_err(|_| refuse([FieldViolation::new("reason", "须选择取消原因（TaskCancelReason）")]))?;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| Ok(Command::Cancel(Cancel { reason, detail: req.detail.clone(), now: loaded.now })),
        |task, _| pb::CancelTaskResponse { version: task.version },
    )
    .await
}

/// RecordPostCheck: an agent of the post-check department records the
/// check of an approval's commitments; a failure may revoke the approval.
pub async fn record_post_check(
    api: &TasksApi,
    caller: &Caller,
    req: pb::RecordPostCheckRequest,
) -> Result<Response<pb::RecordPostCheckResponse>, Status> {
    agent_department(caller, "record post-checks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    let mut violations = Vec::new();
    let material_ids = material_ids_input("material_ids", &req.material_ids).map_err(|v| violations.extend(v)).ok();
    let checked_on =
        optional_date("checked_on", req.checked_on.as_ref())?.unwrap_or_else(|| date_in_china(api.tasks.clock.now()));
    if req.passed && req.revoke_approval {
        violations.push(FieldViolation::new("revoke_approval", "核查通过时不能撤销许可"));
    }
    let (true, Some(material_ids)) = (violations.is_empty(), material_ids) else {
        return Err(refuse(violations));
    };
    let outcome = if req.passed {
        PostCheckOutcome::Passed { note: req.finding.clone() }
    } else {
        PostCheckOutcome::Failed {
            finding: req.finding.clone(),
            revoke_with_legal_basis: req.revoke_approval.then(|| req.legal_basis.clone()),
        }
    };
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| {
            let checkers: Vec<&str> = loaded
                .state
                .created
                .iter()
                .flat_map(|c| c.commitments.iter().map(|k| k.post_check_department.as_str()))
                .collect();
            require_agent_of(caller, &loaded.state, &checkers, "post-check")?;
            Ok(Command::RecordPostCheck(RecordPostCheck {
                by: caller.subject.clone(),
                material_ids: material_ids.clone(),
                outcome: outcome.clone(),
                checked_on,
            }))
        },
        |task, _| pb::RecordPostCheckResponse {
            revoked: task.status == yiciban_domain::tasks::TaskStatus::Revoked,
            version: task.version,
        },
    )
    .await
}

/// UrgeTask (督办): the case's assigned officer or a supervisor urges the
/// department with a note. Whether an officer is the case's is checked when
/// the task is loaded (another officer's task is NOT_FOUND, see
/// [`super::access::visible_task`]).
pub async fn urge(
    api: &TasksApi,
    caller: &Caller,
    req: pb::UrgeTaskRequest,
) -> Result<Response<pb::UrgeTaskResponse>, Status> {
    caller.require(&[Role::Officer, Role::Supervisor], "urge tasks")?;
    let task_id = uuid_field("task_id", &req.task_id)?;
    api.run(
        caller,
        task_id,
        req.expected_version,
        (&req.idempotency_key, &req),
        |loaded| Ok(Command::Urge(Urge { by: caller.subject.clone(), note: req.note.clone(), now: loaded.now })),
        |task, _| pb::UrgeTaskResponse { urge_count: task.urged.count, version: task.version },
    )
    .await
}

//! Task conversions between `yiciban_domain::tasks` and the wire:
//!
//! - **events** ([`encode_event`], [`decode_event`]): a task event and the
//!   prost payload of its `yiciban.events.v1` message, named by the message
//!   name. The events' `at` is not in the payload: it is the envelope's
//!   `occurred_at`, handed back to [`decode_event`].
//! - **read model** ([`task_to_pb`]): the `Task` message of the task service.
//! - **requests**: parsing helpers that collect every field violation
//!   ([`parse_uuid`], [`parse_department`], [`result_document_input`],
//!   [`material_ids_input`], [`supplement_items_from_pb`],
//!   [`cancel_reason_from_pb`]).

use chrono::{DateTime, Utc};
use prost::{Message, Name};
use uuid::Uuid;
use yiciban_domain::FieldViolation;
use yiciban_domain::tasks::{
    ApprovalRevoked, CancelReason, Event, PostCheck, PostCheckFailed, PostCheckPassed, ResultDocument, SupplementItem,
    Task, TaskApproved, TaskCancelled, TaskClaimed, TaskCreated, TaskDenied, TaskEscalated, TaskResumed,
    TaskReturnedForSupplement, TaskStatus, TaskTransferred, TaskWarned, WarningLevel,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

use super::intake::{
    ConvertError, checked, commitment_from_pb, commitment_to_pb, date, date_from_pb, date_to_pb, invalid, timestamp,
};
use super::routing::{document_kind_from_pb, result_document_from_pb, result_document_to_pb};
use crate::common::v1 as pb;
use crate::events::v1 as ev;
use crate::tasks::v1 as api;

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// The event type (message name) and prost payload of a task event.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    match event {
        Event::TaskCreated(e) => (ev::TaskCreated::NAME, created_to_pb(e).encode_to_vec()),
        Event::TaskClaimed(e) => (
            ev::TaskClaimed::NAME,
            ev::TaskClaimed { task_id: e.task_id.to_string(), assignee: e.assignee.clone() }.encode_to_vec(),
        ),
        Event::TaskTransferred(e) => (
            ev::TaskTransferred::NAME,
            ev::TaskTransferred {
                task_id: e.task_id.to_string(),
                from_assignee: e.from_assignee.clone(),
                to_assignee: e.to_assignee.clone(),
                reason: e.reason.clone(),
            }
            .encode_to_vec(),
        ),
        Event::TaskApproved(e) => (
            ev::TaskApproved::NAME,
            ev::TaskApproved {
                task_id: e.task_id.to_string(),
                result: Some(result_document_to_pb(&e.result)),
                comment: e.comment.clone(),
                working_days_used: e.working_days_used,
                on_time: e.on_time,
                post_check_pending: e.post_check_pending,
            }
            .encode_to_vec(),
        ),
        Event::TaskDenied(e) => (
            ev::TaskDenied::NAME,
            ev::TaskDenied {
                task_id: e.task_id.to_string(),
                reason: e.reason.clone(),
                legal_basis: e.legal_basis.clone(),
                remedy_notice: e.remedy_notice.clone(),
                working_days_used: e.working_days_used,
            }
            .encode_to_vec(),
        ),
        Event::TaskReturnedForSupplement(e) => (
            ev::TaskReturnedForSupplement::NAME,
            ev::TaskReturnedForSupplement {
                task_id: e.task_id.to_string(),
                supplement_request_id: e.supplement_request_id.to_string(),
                items: e.items.iter().map(supplement_item_to_pb).collect(),
                due_by: Some(date_to_pb(e.due_by)),
            }
            .encode_to_vec(),
        ),
        Event::TaskResumed(e) => (
            ev::TaskResumed::NAME,
            ev::TaskResumed {
                task_id: e.task_id.to_string(),
                supplement_request_id: e.supplement_request_id.to_string(),
                stopped_working_days: e.stopped_working_days,
                due_by: Some(date_to_pb(e.due_by)),
                warn_on: Some(date_to_pb(e.warn_on)),
            }
            .encode_to_vec(),
        ),
        Event::TaskWarned(e) => (
            ev::TaskWarned::NAME,
            ev::TaskWarned {
                task_id: e.task_id.to_string(),
                level: warning_to_pb(Some(e.level)) as i32,
                due_by: Some(date_to_pb(e.due_by)),
                working_days_used: e.working_days_used,
                promised_working_days: e.promised_working_days,
            }
            .encode_to_vec(),
        ),
        Event::TaskEscalated(e) => (
            ev::TaskEscalated::NAME,
            ev::TaskEscalated {
                task_id: e.task_id.to_string(),
                lead_department: e.lead_department.as_str().to_owned(),
                officer_id: e.officer_id.clone(),
                overdue_working_days: e.overdue_working_days,
                reason: e.reason.clone(),
            }
            .encode_to_vec(),
        ),
        Event::TaskCancelled(e) => (
            ev::TaskCancelled::NAME,
            ev::TaskCancelled {
                task_id: e.task_id.to_string(),
                reason: cancel_reason_to_pb(e.reason) as i32,
                detail: e.detail.clone(),
            }
            .encode_to_vec(),
        ),
        Event::PostCheckPassed(e) => (
            ev::PostCheckPassed::NAME,
            ev::PostCheckPassed {
                task_id: e.task_id.to_string(),
                material_ids: e.material_ids.iter().map(|m| m.as_str().to_owned()).collect(),
                note: e.note.clone(),
                checked_on: Some(date_to_pb(e.checked_on)),
            }
            .encode_to_vec(),
        ),
        Event::PostCheckFailed(e) => (
            ev::PostCheckFailed::NAME,
            ev::PostCheckFailed {
                task_id: e.task_id.to_string(),
                material_ids: e.material_ids.iter().map(|m| m.as_str().to_owned()).collect(),
                finding: e.finding.clone(),
                checked_on: Some(date_to_pb(e.checked_on)),
            }
            .encode_to_vec(),
        ),
        Event::ApprovalRevoked(e) => (
            ev::ApprovalRevoked::NAME,
            ev::ApprovalRevoked {
                task_id: e.task_id.to_string(),
                document_number: e.document_number.clone(),
                reason: e.reason.clone(),
                legal_basis: e.legal_basis.clone(),
            }
            .encode_to_vec(),
        ),
    }
}

/// The task event of a stored `event_type` and payload, recorded at `at`
/// (the envelope's `occurred_at`): the inverse of [`encode_event`], every
/// value validated again.
pub fn decode_event(event_type: &str, payload: &[u8], at: DateTime<Utc>) -> Result<Event, ConvertError> {
    fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
        M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
    }
    Ok(match event_type {
        ev::TaskCreated::NAME => Event::TaskCreated(created_from_pb(&message(payload)?, at)?),
        ev::TaskClaimed::NAME => {
            let e: ev::TaskClaimed = message(payload)?;
            Event::TaskClaimed(TaskClaimed {
                task_id: uuid("TaskClaimed", "task_id", &e.task_id)?,
                assignee: e.assignee,
                at,
            })
        }
        ev::TaskTransferred::NAME => {
            let e: ev::TaskTransferred = message(payload)?;
            Event::TaskTransferred(TaskTransferred {
                task_id: uuid("TaskTransferred", "task_id", &e.task_id)?,
                from_assignee: e.from_assignee,
                to_assignee: e.to_assignee,
                reason: e.reason,
                at,
            })
        }
        ev::TaskApproved::NAME => {
            const AT: &str = "TaskApproved";
            let e: ev::TaskApproved = message(payload)?;
            let result = e.result.as_ref().ok_or_else(|| invalid(format!("{AT}.result"), "missing"))?;
            Event::TaskApproved(TaskApproved {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                result: result_document_from_pb(&format!("{AT}.result"), result)?,
                comment: e.comment,
                working_days_used: e.working_days_used,
                on_time: e.on_time,
                post_check_pending: e.post_check_pending,
                at,
            })
        }
        ev::TaskDenied::NAME => {
            let e: ev::TaskDenied = message(payload)?;
            Event::TaskDenied(TaskDenied {
                task_id: uuid("TaskDenied", "task_id", &e.task_id)?,
                reason: e.reason,
                legal_basis: e.legal_basis,
                remedy_notice: e.remedy_notice,
                working_days_used: e.working_days_used,
                at,
            })
        }
        ev::TaskReturnedForSupplement::NAME => {
            const AT: &str = "TaskReturnedForSupplement";
            let e: ev::TaskReturnedForSupplement = message(payload)?;
            Event::TaskReturnedForSupplement(TaskReturnedForSupplement {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                supplement_request_id: uuid(AT, "supplement_request_id", &e.supplement_request_id)?,
                items: supplement_items_from_pb(&e.items),
                due_by: date(AT, "due_by", e.due_by.as_ref())?,
                at,
            })
        }
        ev::TaskResumed::NAME => {
            const AT: &str = "TaskResumed";
            let e: ev::TaskResumed = message(payload)?;
            Event::TaskResumed(TaskResumed {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                supplement_request_id: uuid(AT, "supplement_request_id", &e.supplement_request_id)?,
                stopped_working_days: e.stopped_working_days,
                due_by: date(AT, "due_by", e.due_by.as_ref())?,
                warn_on: date(AT, "warn_on", e.warn_on.as_ref())?,
                at,
            })
        }
        ev::TaskWarned::NAME => {
            const AT: &str = "TaskWarned";
            let e: ev::TaskWarned = message(payload)?;
            Event::TaskWarned(TaskWarned {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                level: warning_from_pb(e.level).ok_or_else(|| invalid(format!("{AT}.level"), "not YELLOW or RED"))?,
                due_by: date(AT, "due_by", e.due_by.as_ref())?,
                working_days_used: e.working_days_used,
                promised_working_days: e.promised_working_days,
            })
        }
        ev::TaskEscalated::NAME => {
            const AT: &str = "TaskEscalated";
            let e: ev::TaskEscalated = message(payload)?;
            Event::TaskEscalated(TaskEscalated {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                lead_department: checked(AT, "lead_department", DepartmentCode::parse(&e.lead_department))?,
                officer_id: e.officer_id,
                overdue_working_days: e.overdue_working_days,
                reason: e.reason,
            })
        }
        ev::TaskCancelled::NAME => {
            const AT: &str = "TaskCancelled";
            let e: ev::TaskCancelled = message(payload)?;
            Event::TaskCancelled(TaskCancelled {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                reason: cancel_reason_from_pb(e.reason).ok_or_else(|| invalid(format!("{AT}.reason"), "not set"))?,
                detail: e.detail,
                at,
            })
        }
        ev::PostCheckPassed::NAME => {
            const AT: &str = "PostCheckPassed";
            let e: ev::PostCheckPassed = message(payload)?;
            Event::PostCheckPassed(PostCheckPassed {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                material_ids: material_ids(AT, &e.material_ids)?,
                note: e.note,
                checked_on: date(AT, "checked_on", e.checked_on.as_ref())?,
            })
        }
        ev::PostCheckFailed::NAME => {
            const AT: &str = "PostCheckFailed";
            let e: ev::PostCheckFailed = message(payload)?;
            Event::PostCheckFailed(PostCheckFailed {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                material_ids: material_ids(AT, &e.material_ids)?,
                finding: e.finding,
                checked_on: date(AT, "checked_on", e.checked_on.as_ref())?,
            })
        }
        ev::ApprovalRevoked::NAME => {
            let e: ev::ApprovalRevoked = message(payload)?;
            Event::ApprovalRevoked(ApprovalRevoked {
                task_id: uuid("ApprovalRevoked", "task_id", &e.task_id)?,
                document_number: e.document_number,
                reason: e.reason,
                legal_basis: e.legal_basis,
            })
        }
        other => return Err(ConvertError::UnknownEventType(other.to_owned())),
    })
}

fn uuid(at: &str, field: &str, value: &str) -> Result<Uuid, ConvertError> {
    Uuid::parse_str(value).map_err(|_| invalid(format!("{at}.{field}"), "not a UUID"))
}

fn material_ids(at: &str, values: &[String]) -> Result<Vec<MaterialId>, ConvertError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| MaterialId::parse(v).map_err(|e| invalid(format!("{at}.material_ids[{i}]"), e)))
        .collect()
}

fn created_to_pb(e: &TaskCreated) -> ev::TaskCreated {
    ev::TaskCreated {
        task_id: e.task_id.to_string(),
        case_number: e.case_number.to_string(),
        package_id: e.package_id.as_str().to_owned(),
        step_id: e.step_id.clone(),
        item_code: e.item_code.as_str().to_owned(),
        item_name: e.item_name.clone(),
        department: e.department.as_str().to_owned(),
        promised_working_days: e.promised_working_days,
        due_by: Some(date_to_pb(e.due_by)),
        warn_on: Some(date_to_pb(e.warn_on)),
        material_ids: e.material_ids.iter().map(|m| m.as_str().to_owned()).collect(),
        commitments: e.commitments.iter().map(commitment_to_pb).collect(),
        lead_department: e.lead_department.as_str().to_owned(),
    }
}

fn created_from_pb(e: &ev::TaskCreated, at: DateTime<Utc>) -> Result<TaskCreated, ConvertError> {
    const AT: &str = "TaskCreated";
    Ok(TaskCreated {
        task_id: uuid(AT, "task_id", &e.task_id)?,
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        package_id: checked(AT, "package_id", PackageId::parse(&e.package_id))?,
        step_id: e.step_id.clone(),
        item_code: checked(AT, "item_code", ItemCode::parse(&e.item_code))?,
        item_name: e.item_name.clone(),
        department: checked(AT, "department", DepartmentCode::parse(&e.department))?,
        promised_working_days: e.promised_working_days,
        due_by: date(AT, "due_by", e.due_by.as_ref())?,
        warn_on: date(AT, "warn_on", e.warn_on.as_ref())?,
        material_ids: material_ids(AT, &e.material_ids)?,
        commitments: e
            .commitments
            .iter()
            .enumerate()
            .map(|(i, c)| commitment_from_pb(&format!("{AT}.commitments[{i}]"), c))
            .collect::<Result<_, _>>()?,
        lead_department: checked(AT, "lead_department", DepartmentCode::parse(&e.lead_department))?,
        at,
    })
}

// ---------------------------------------------------------------------------
// Small values
// ---------------------------------------------------------------------------

/// A supplement item on the wire.
pub fn supplement_item_to_pb(i: &SupplementItem) -> pb::SupplementItem {
    pb::SupplementItem {
        material_id: i.material_id.clone(),
        field_path: i.field_path.clone(),
        requirement: i.requirement.clone(),
    }
}

/// Supplement items from the wire, as given (the domain validates them).
pub fn supplement_items_from_pb(items: &[pb::SupplementItem]) -> Vec<SupplementItem> {
    items
        .iter()
        .map(|i| SupplementItem {
            material_id: i.material_id.clone(),
            field_path: i.field_path.clone(),
            requirement: i.requirement.clone(),
        })
        .collect()
}

/// The wire warning level (`None` = on time).
pub fn warning_to_pb(level: Option<WarningLevel>) -> pb::WarningLevel {
    match level {
        None => pb::WarningLevel::Unspecified,
        Some(WarningLevel::Yellow) => pb::WarningLevel::Yellow,
        Some(WarningLevel::Red) => pb::WarningLevel::Red,
    }
}

/// The domain warning level; `None` for UNSPECIFIED or an unknown value.
pub fn warning_from_pb(level: i32) -> Option<WarningLevel> {
    match pb::WarningLevel::try_from(level).ok()? {
        pb::WarningLevel::Yellow => Some(WarningLevel::Yellow),
        pb::WarningLevel::Red => Some(WarningLevel::Red),
        pb::WarningLevel::Unspecified => None,
    }
}

/// The wire reason of a cancellation.
pub fn cancel_reason_to_pb(r: CancelReason) -> pb::TaskCancelReason {
    match r {
        CancelReason::CaseWithdrawn => pb::TaskCancelReason::CaseWithdrawn,
        CancelReason::CaseTerminated => pb::TaskCancelReason::CaseTerminated,
        CancelReason::CaseDenied => pb::TaskCancelReason::CaseDenied,
        CancelReason::CreatedInError => pb::TaskCancelReason::CreatedInError,
    }
}

/// The domain reason of a cancellation; `None` when unset or unknown.
pub fn cancel_reason_from_pb(r: i32) -> Option<CancelReason> {
    match pb::TaskCancelReason::try_from(r).ok()? {
        pb::TaskCancelReason::CaseWithdrawn => Some(CancelReason::CaseWithdrawn),
        pb::TaskCancelReason::CaseTerminated => Some(CancelReason::CaseTerminated),
        pb::TaskCancelReason::CaseDenied => Some(CancelReason::CaseDenied),
        pb::TaskCancelReason::CreatedInError => Some(CancelReason::CreatedInError),
        pb::TaskCancelReason::Unspecified => None,
    }
}

/// The wire state of a task.
pub fn task_state_to_pb(status: TaskStatus) -> pb::TaskState {
    match status {
        TaskStatus::New => pb::TaskState::Unspecified,
        TaskStatus::Pending => pb::TaskState::Pending,
        TaskStatus::InProgress => pb::TaskState::InProgress,
        TaskStatus::WaitingForSupplement => pb::TaskState::WaitingForSupplement,
        TaskStatus::Approved => pb::TaskState::Approved,
        TaskStatus::Denied => pb::TaskState::Denied,
        TaskStatus::Cancelled => pb::TaskState::Cancelled,
        TaskStatus::Revoked => pb::TaskState::Revoked,
    }
}

/// The domain state of a wire state; `None` for UNSPECIFIED or unknown.
pub fn task_state_from_pb(state: i32) -> Option<TaskStatus> {
    Some(match pb::TaskState::try_from(state).ok()? {
        pb::TaskState::Unspecified => return None,
        pb::TaskState::Pending => TaskStatus::Pending,
        pb::TaskState::InProgress => TaskStatus::InProgress,
        pb::TaskState::WaitingForSupplement => TaskStatus::WaitingForSupplement,
        pb::TaskState::Approved => TaskStatus::Approved,
        pb::TaskState::Denied => TaskStatus::Denied,
        pb::TaskState::Cancelled => TaskStatus::Cancelled,
        pb::TaskState::Revoked => TaskStatus::Revoked,
    })
}

fn post_check_to_pb(p: PostCheck) -> api::PostCheckState {
    match p {
        PostCheck::NotNeeded => api::PostCheckState::Unspecified,
        PostCheck::Pending => api::PostCheckState::Pending,
        PostCheck::Passed => api::PostCheckState::Passed,
        PostCheck::Failed => api::PostCheckState::Failed,
    }
}

// ---------------------------------------------------------------------------
// Read model
// ---------------------------------------------------------------------------

/// The `Task` message of `task`, whose case is `case_id`, with the working
/// days used up to now (computed by the service from the task's clock).
pub fn task_to_pb(case_id: Uuid, task: &Task, working_days_used: u32) -> api::Task {
    let Some(c) = &task.created else { return api::Task::default() };
    api::Task {
        task_id: c.task_id.to_string(),
        case_id: case_id.to_string(),
        case_number: c.case_number.to_string(),
        package_id: c.package_id.as_str().to_owned(),
        step_id: c.step_id.clone(),
        item_code: c.item_code.as_str().to_owned(),
        item_name: c.item_name.clone(),
        department: c.department.as_str().to_owned(),
        state: task_state_to_pb(task.status) as i32,
        assignee: task.assignee.clone().unwrap_or_default(),
        promised_working_days: c.promised_working_days,
        working_days_used,
        due_by: task.due_by.map(date_to_pb),
        warning: warning_to_pb(task.warning) as i32,
        escalated: task.escalated,
        material_ids: c.material_ids.iter().map(|m| m.as_str().to_owned()).collect(),
        commitments: c.commitments.iter().map(commitment_to_pb).collect(),
        supplement_request_id: task.supplement.as_ref().map(|s| s.request_id.to_string()).unwrap_or_default(),
        supplement_items: task.supplement.iter().flat_map(|s| s.items.iter().map(supplement_item_to_pb)).collect(),
        supplement_due_by: task.supplement.as_ref().map(|s| date_to_pb(s.due_by)),
        result: task.result.as_ref().map(result_document_to_pb),
        reason: task.reason.clone(),
        legal_basis: task.legal_basis.clone(),
        post_check: post_check_to_pb(task.post_check) as i32,
        created_at: Some(timestamp(c.at)),
        claimed_at: task.claimed_at.map(timestamp),
        finished_at: task.finished_at.map(timestamp),
        version: task.version,
        lead_department: c.lead_department.as_str().to_owned(),
        warn_on: task.warn_on.map(date_to_pb),
    }
}

// ---------------------------------------------------------------------------
// Requests: every violation at once
// ---------------------------------------------------------------------------

/// A UUID field of a request.
pub fn parse_uuid(field: &str, raw: &str) -> Result<Uuid, FieldViolation> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldViolation::new(field, "须为 UUID"))
}

/// A department code field of a request.
pub fn parse_department(field: &str, raw: &str) -> Result<DepartmentCode, FieldViolation> {
    DepartmentCode::parse(raw.trim()).map_err(|e| FieldViolation::new(field, e.to_string()))
}

/// Catalog material ids of a request, every bad one named.
pub fn material_ids_input(field: &str, raw: &[String]) -> Result<Vec<MaterialId>, Vec<FieldViolation>> {
    let mut ids = Vec::new();
    let mut violations = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match MaterialId::parse(r.trim()) {
            Ok(id) => ids.push(id),
            Err(e) => violations.push(FieldViolation::new(format!("{field}[{i}]"), e.to_string())),
        }
    }
    if violations.is_empty() { Ok(ids) } else { Err(violations) }
}

/// The result document of an approval, every malformed field named (`field`
/// is the request's field, e.g. `result`). Names and numbers are checked by
/// the domain.
pub fn result_document_input(
    field: &str,
    d: Option<&pb::ResultDocument>,
) -> Result<ResultDocument, Vec<FieldViolation>> {
    let Some(d) = d else {
        return Err(vec![FieldViolation::new(field, "须提供审批结果（证照种类、名称、编号）")]);
    };
    let mut violations = Vec::new();
    let kind = document_kind_from_pb(d.kind);
    if kind.is_none() {
        violations.push(FieldViolation::new(format!("{field}.kind"), "须选择证照种类"));
    }
    let department = DepartmentCode::parse(d.issuing_department.trim())
        .map_err(|e| violations.push(FieldViolation::new(format!("{field}.issuing_department"), e.to_string())))
        .ok();
    let item_code = ItemCode::parse(d.item_code.trim())
        .map_err(|e| violations.push(FieldViolation::new(format!("{field}.item_code"), e.to_string())))
        .ok();
    let mut optional_date = |name: &str, value: Option<&pb::Date>| {
        value.and_then(|v| {
            let parsed = date_from_pb(v);
            if parsed.is_none() {
                violations.push(FieldViolation::new(format!("{field}.{name}"), "不是有效的日期"));
            }
            parsed
        })
    };
    let valid_from = optional_date("valid_from", d.valid_from.as_ref());
    let valid_until = optional_date("valid_until", d.valid_until.as_ref());
    match (kind, department, item_code) {
        (Some(kind), Some(issuing_department), Some(item_code)) if violations.is_empty() => Ok(ResultDocument {
            kind,
            name: d.name.clone(),
            number: d.number.clone(),
            issuing_department,
            item_code,
            valid_from,
            valid_until,
            physical: d.physical,
        }),
        _ => Err(violations),
    }
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;

//! Task conversions between `yiciban_domain::tasks` and the wire:
//!
//! - **events**: `From` / `TryFrom` between every task event and its
//!   `yiciban.events.v1` message, every value validated again; a stream's
//!   events as stored with [`encode_event`] / [`decode_event`]. The events'
//!   `at` is not in the payload: it is the envelope's `occurred_at`, so
//!   those events are read from a [`Recorded`] message.
//! - **read model** ([`task_to_pb`]): the `Task` message of the task service.
//! - values: supplement items, the task's enums (`enum_pair!`).
//! - **requests**: parsing helpers that collect every field violation
//!   ([`parse_uuid`], [`parse_department`], [`result_document_input`],
//!   [`material_ids_input`]).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yiciban_domain::FieldViolation;
use yiciban_domain::tasks::{
    ApprovalRevoked, CancelReason, Commitment, Event, PostCheck, PostCheckFailed, PostCheckPassed, ResultDocument,
    ResultDocumentKind, SupplementItem, Task, TaskApproved, TaskCancelled, TaskClaimed, TaskCreated, TaskDenied,
    TaskEscalated, TaskResumed, TaskReturnedForSupplement, TaskStatus, TaskTransferred, TaskUrged, TaskWarned,
    WarningLevel,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

use super::case::strings;
use super::wire::{At as _, ConvertError, Recorded, date, each, enum_pair, required, timestamp, uuid};
use crate::common::v1 as pb;
use crate::events::EventPayload;
use crate::events::v1 as ev;
use crate::tasks::v1 as api;

// ---------------------------------------------------------------------------
// A stream's events as stored
// ---------------------------------------------------------------------------

/// The event type (message name) and prost payload of a task event.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    let payload = EventPayload::from(event);
    (payload.event_type().expect("a task event is a known message"), payload.encode_to_vec())
}

/// The task event of a stored `event_type` and payload, recorded at `at`
/// (the envelope's `occurred_at`): the inverse of [`encode_event`], every
/// value validated again.
pub fn decode_event(event_type: &str, payload: &[u8], at: DateTime<Utc>) -> Result<Event, ConvertError> {
    Event::try_from(Recorded::new(&EventPayload::decode_known(event_type, payload)?, at))
}

impl From<&Event> for EventPayload {
    fn from(event: &Event) -> Self {
        match event {
            Event::TaskCreated(e) => ev::TaskCreated::from(e).into(),
            Event::TaskClaimed(e) => ev::TaskClaimed::from(e).into(),
            Event::TaskTransferred(e) => ev::TaskTransferred::from(e).into(),
            Event::TaskApproved(e) => ev::TaskApproved::from(e).into(),
            Event::TaskDenied(e) => ev::TaskDenied::from(e).into(),
            Event::TaskReturnedForSupplement(e) => ev::TaskReturnedForSupplement::from(e).into(),
            Event::TaskResumed(e) => ev::TaskResumed::from(e).into(),
            Event::TaskWarned(e) => ev::TaskWarned::from(e).into(),
            Event::TaskEscalated(e) => ev::TaskEscalated::from(e).into(),
            Event::TaskCancelled(e) => ev::TaskCancelled::from(e).into(),
            Event::PostCheckPassed(e) => ev::PostCheckPassed::from(e).into(),
            Event::PostCheckFailed(e) => ev::PostCheckFailed::from(e).into(),
            Event::ApprovalRevoked(e) => ev::ApprovalRevoked::from(e).into(),
            Event::TaskUrged(e) => ev::TaskUrged::from(e).into(),
        }
    }
}

/// A task event from its message, recorded at `at`; another area's event is
/// [`ConvertError::UnknownEventType`]. An error names the field from the
/// message name on (`TaskClaimed.task_id`).
impl TryFrom<Recorded<'_, EventPayload>> for Event {
    type Error = ConvertError;

    fn try_from(recorded: Recorded<'_, EventPayload>) -> Result<Self, ConvertError> {
        let at = recorded.at;
        let event = match recorded.message {
            EventPayload::TaskCreated(e) => Recorded::new(e, at).try_into().map(Event::TaskCreated),
            EventPayload::TaskClaimed(e) => Recorded::new(e, at).try_into().map(Event::TaskClaimed),
            EventPayload::TaskTransferred(e) => Recorded::new(e, at).try_into().map(Event::TaskTransferred),
            EventPayload::TaskApproved(e) => Recorded::new(e, at).try_into().map(Event::TaskApproved),
            EventPayload::TaskDenied(e) => Recorded::new(e, at).try_into().map(Event::TaskDenied),
            EventPayload::TaskReturnedForSupplement(e) => {
                Recorded::new(e, at).try_into().map(Event::TaskReturnedForSupplement)
            }
            EventPayload::TaskResumed(e) => Recorded::new(e, at).try_into().map(Event::TaskResumed),
            EventPayload::TaskWarned(e) => e.try_into().map(Event::TaskWarned),
            EventPayload::TaskEscalated(e) => e.try_into().map(Event::TaskEscalated),
            EventPayload::TaskCancelled(e) => Recorded::new(e, at).try_into().map(Event::TaskCancelled),
            EventPayload::PostCheckPassed(e) => e.try_into().map(Event::PostCheckPassed),
            EventPayload::PostCheckFailed(e) => e.try_into().map(Event::PostCheckFailed),
            EventPayload::ApprovalRevoked(e) => e.try_into().map(Event::ApprovalRevoked),
            EventPayload::TaskUrged(e) => Recorded::new(e, at).try_into().map(Event::TaskUrged),
            other => return Err(ConvertError::UnknownEventType(other.event_type().unwrap_or("?").to_owned())),
        };
        event.at(recorded.message.event_type().unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

impl From<&TaskCreated> for ev::TaskCreated {
    fn from(e: &TaskCreated) -> Self {
        ev::TaskCreated {
            task_id: e.task_id.to_string(),
            case_number: e.case_number.to_string(),
            package_id: e.package_id.to_string(),
            step_id: e.step_id.clone(),
            item_code: e.item_code.to_string(),
            item_name: e.item_name.clone(),
            department: e.department.to_string(),
            promised_working_days: e.promised_working_days,
            due_by: Some(e.due_by.into()),
            warn_on: Some(e.warn_on.into()),
            material_ids: strings(&e.material_ids),
            commitments: e.commitments.iter().map(Into::into).collect(),
            lead_department: e.lead_department.to_string(),
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskCreated>> for TaskCreated {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskCreated>) -> Result<Self, ConvertError> {
        Ok(TaskCreated {
            task_id: uuid(&e.task_id).at("task_id")?,
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            package_id: PackageId::parse(&e.package_id).at("package_id")?,
            step_id: e.step_id.clone(),
            item_code: ItemCode::parse(&e.item_code).at("item_code")?,
            item_name: e.item_name.clone(),
            department: DepartmentCode::parse(&e.department).at("department")?,
            promised_working_days: e.promised_working_days,
            due_by: date(e.due_by.as_ref()).at("due_by")?,
            warn_on: date(e.warn_on.as_ref()).at("warn_on")?,
            material_ids: each(&e.material_ids, |m| MaterialId::parse(m)).at("material_ids")?,
            commitments: each(&e.commitments, Commitment::try_from).at("commitments")?,
            lead_department: DepartmentCode::parse(&e.lead_department).at("lead_department")?,
            at,
        })
    }
}

impl From<&TaskClaimed> for ev::TaskClaimed {
    fn from(e: &TaskClaimed) -> Self {
        ev::TaskClaimed { task_id: e.task_id.to_string(), assignee: e.assignee.clone() }
    }
}

impl TryFrom<Recorded<'_, ev::TaskClaimed>> for TaskClaimed {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskClaimed>) -> Result<Self, ConvertError> {
        Ok(TaskClaimed { task_id: uuid(&e.task_id).at("task_id")?, assignee: e.assignee.clone(), at })
    }
}

impl From<&TaskTransferred> for ev::TaskTransferred {
    fn from(e: &TaskTransferred) -> Self {
        ev::TaskTransferred {
            task_id: e.task_id.to_string(),
            from_assignee: e.from_assignee.clone(),
            to_assignee: e.to_assignee.clone(),
            reason: e.reason.clone(),
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskTransferred>> for TaskTransferred {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskTransferred>) -> Result<Self, ConvertError> {
        Ok(TaskTransferred {
            task_id: uuid(&e.task_id).at("task_id")?,
            from_assignee: e.from_assignee.clone(),
            to_assignee: e.to_assignee.clone(),
            reason: e.reason.clone(),
            at,
        })
    }
}

impl From<&TaskUrged> for ev::TaskUrged {
    fn from(e: &TaskUrged) -> Self {
        ev::TaskUrged {
            task_id: e.task_id.to_string(),
            urged_by: e.urged_by.clone(),
            note: e.note.clone(),
            urge_count: e.urge_count,
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskUrged>> for TaskUrged {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskUrged>) -> Result<Self, ConvertError> {
        Ok(TaskUrged {
            task_id: uuid(&e.task_id).at("task_id")?,
            urged_by: e.urged_by.clone(),
            note: e.note.clone(),
            urge_count: e.urge_count,
            at,
        })
    }
}

impl From<&TaskApproved> for ev::TaskApproved {
    fn from(e: &TaskApproved) -> Self {
        ev::TaskApproved {
            task_id: e.task_id.to_string(),
            result: Some((&e.result).into()),
            comment: e.comment.clone(),
            working_days_used: e.working_days_used,
            on_time: e.on_time,
            post_check_pending: e.post_check_pending,
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskApproved>> for TaskApproved {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskApproved>) -> Result<Self, ConvertError> {
        Ok(TaskApproved {
            task_id: uuid(&e.task_id).at("task_id")?,
            result: required(e.result.as_ref()).and_then(ResultDocument::try_from).at("result")?,
            comment: e.comment.clone(),
            working_days_used: e.working_days_used,
            on_time: e.on_time,
            post_check_pending: e.post_check_pending,
            at,
        })
    }
}

impl From<&TaskDenied> for ev::TaskDenied {
    fn from(e: &TaskDenied) -> Self {
        ev::TaskDenied {
            task_id: e.task_id.to_string(),
            reason: e.reason.clone(),
            legal_basis: e.legal_basis.clone(),
            remedy_notice: e.remedy_notice.clone(),
            working_days_used: e.working_days_used,
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskDenied>> for TaskDenied {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskDenied>) -> Result<Self, ConvertError> {
        Ok(TaskDenied {
            task_id: uuid(&e.task_id).at("task_id")?,
            reason: e.reason.clone(),
            legal_basis: e.legal_basis.clone(),
            remedy_notice: e.remedy_notice.clone(),
            working_days_used: e.working_days_used,
            at,
        })
    }
}

impl From<&TaskReturnedForSupplement> for ev::TaskReturnedForSupplement {
    fn from(e: &TaskReturnedForSupplement) -> Self {
        ev::TaskReturnedForSupplement {
            task_id: e.task_id.to_string(),
            supplement_request_id: e.supplement_request_id.to_string(),
            items: e.items.iter().map(Into::into).collect(),
            due_by: Some(e.due_by.into()),
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskReturnedForSupplement>> for TaskReturnedForSupplement {
    type Error = ConvertError;

    fn try_from(
        Recorded { message: e, at }: Recorded<'_, ev::TaskReturnedForSupplement>,
    ) -> Result<Self, ConvertError> {
        Ok(TaskReturnedForSupplement {
            task_id: uuid(&e.task_id).at("task_id")?,
            supplement_request_id: uuid(&e.supplement_request_id).at("supplement_request_id")?,
            items: e.items.iter().map(Into::into).collect(),
            due_by: date(e.due_by.as_ref()).at("due_by")?,
            at,
        })
    }
}

impl From<&TaskResumed> for ev::TaskResumed {
    fn from(e: &TaskResumed) -> Self {
        ev::TaskResumed {
            task_id: e.task_id.to_string(),
            supplement_request_id: e.supplement_request_id.to_string(),
            stopped_working_days: e.stopped_working_days,
            due_by: Some(e.due_by.into()),
            warn_on: Some(e.warn_on.into()),
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskResumed>> for TaskResumed {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskResumed>) -> Result<Self, ConvertError> {
        Ok(TaskResumed {
            task_id: uuid(&e.task_id).at("task_id")?,
            supplement_request_id: uuid(&e.supplement_request_id).at("supplement_request_id")?,
            stopped_working_days: e.stopped_working_days,
            due_by: date(e.due_by.as_ref()).at("due_by")?,
            warn_on: date(e.warn_on.as_ref()).at("warn_on")?,
            at,
        })
    }
}

impl From<&TaskWarned> for ev::TaskWarned {
    fn from(e: &TaskWarned) -> Self {
        ev::TaskWarned {
            task_id: e.task_id.to_string(),
            level: pb::WarningLevel::from(e.level) as i32,
            due_by: Some(e.due_by.into()),
            working_days_used: e.working_days_used,
            promised_working_days: e.promised_working_days,
        }
    }
}

impl TryFrom<&ev::TaskWarned> for TaskWarned {
    type Error = ConvertError;

    fn try_from(e: &ev::TaskWarned) -> Result<Self, ConvertError> {
        Ok(TaskWarned {
            task_id: uuid(&e.task_id).at("task_id")?,
            level: WarningLevel::try_from(e.level()).at("level")?,
            due_by: date(e.due_by.as_ref()).at("due_by")?,
            working_days_used: e.working_days_used,
            promised_working_days: e.promised_working_days,
        })
    }
}

impl From<&TaskEscalated> for ev::TaskEscalated {
    fn from(e: &TaskEscalated) -> Self {
        ev::TaskEscalated {
            task_id: e.task_id.to_string(),
            lead_department: e.lead_department.to_string(),
            officer_id: e.officer_id.clone(),
            overdue_working_days: e.overdue_working_days,
            reason: e.reason.clone(),
        }
    }
}

impl TryFrom<&ev::TaskEscalated> for TaskEscalated {
    type Error = ConvertError;

    fn try_from(e: &ev::TaskEscalated) -> Result<Self, ConvertError> {
        Ok(TaskEscalated {
            task_id: uuid(&e.task_id).at("task_id")?,
            lead_department: DepartmentCode::parse(&e.lead_department).at("lead_department")?,
            officer_id: e.officer_id.clone(),
            overdue_working_days: e.overdue_working_days,
            reason: e.reason.clone(),
        })
    }
}

impl From<&TaskCancelled> for ev::TaskCancelled {
    fn from(e: &TaskCancelled) -> Self {
        ev::TaskCancelled {
            task_id: e.task_id.to_string(),
            reason: pb::TaskCancelReason::from(e.reason) as i32,
            detail: e.detail.clone(),
        }
    }
}

impl TryFrom<Recorded<'_, ev::TaskCancelled>> for TaskCancelled {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::TaskCancelled>) -> Result<Self, ConvertError> {
        Ok(TaskCancelled {
            task_id: uuid(&e.task_id).at("task_id")?,
            reason: CancelReason::try_from(e.reason()).at("reason")?,
            detail: e.detail.clone(),
            at,
        })
    }
}

impl From<&PostCheckPassed> for ev::PostCheckPassed {
    fn from(e: &PostCheckPassed) -> Self {
        ev::PostCheckPassed {
            task_id: e.task_id.to_string(),
            material_ids: strings(&e.material_ids),
            note: e.note.clone(),
            checked_on: Some(e.checked_on.into()),
        }
    }
}

impl TryFrom<&ev::PostCheckPassed> for PostCheckPassed {
    type Error = ConvertError;

    fn try_from(e: &ev::PostCheckPassed) -> Result<Self, ConvertError> {
        Ok(PostCheckPassed {
            task_id: uuid(&e.task_id).at("task_id")?,
            material_ids: each(&e.material_ids, |m| MaterialId::parse(m)).at("material_ids")?,
            note: e.note.clone(),
            checked_on: date(e.checked_on.as_ref()).at("checked_on")?,
        })
    }
}

impl From<&PostCheckFailed> for ev::PostCheckFailed {
    fn from(e: &PostCheckFailed) -> Self {
        ev::PostCheckFailed {
            task_id: e.task_id.to_string(),
            material_ids: strings(&e.material_ids),
            finding: e.finding.clone(),
            checked_on: Some(e.checked_on.into()),
        }
    }
}

impl TryFrom<&ev::PostCheckFailed> for PostCheckFailed {
    type Error = ConvertError;

    fn try_from(e: &ev::PostCheckFailed) -> Result<Self, ConvertError> {
        Ok(PostCheckFailed {
            task_id: uuid(&e.task_id).at("task_id")?,
            material_ids: each(&e.material_ids, |m| MaterialId::parse(m)).at("material_ids")?,
            finding: e.finding.clone(),
            checked_on: date(e.checked_on.as_ref()).at("checked_on")?,
        })
    }
}

impl From<&ApprovalRevoked> for ev::ApprovalRevoked {
    fn from(e: &ApprovalRevoked) -> Self {
        ev::ApprovalRevoked {
            task_id: e.task_id.to_string(),
            document_number: e.document_number.clone(),
            reason: e.reason.clone(),
            legal_basis: e.legal_basis.clone(),
        }
    }
}

impl TryFrom<&ev::ApprovalRevoked> for ApprovalRevoked {
    type Error = ConvertError;

    fn try_from(e: &ev::ApprovalRevoked) -> Result<Self, ConvertError> {
        Ok(ApprovalRevoked {
            task_id: uuid(&e.task_id).at("task_id")?,
            document_number: e.document_number.clone(),
            reason: e.reason.clone(),
            legal_basis: e.legal_basis.clone(),
        })
    }
}

// ---------------------------------------------------------------------------
// Values and enums
// ---------------------------------------------------------------------------

/// A supplement item on the wire.
impl From<&SupplementItem> for pb::SupplementItem {
    fn from(i: &SupplementItem) -> Self {
        pb::SupplementItem {
            material_id: i.material_id.clone(),
            field_path: i.field_path.clone(),
            requirement: i.requirement.clone(),
        }
    }
}

/// A supplement item from the wire, as given (the domain validates it).
impl From<&pb::SupplementItem> for SupplementItem {
    fn from(i: &pb::SupplementItem) -> Self {
        SupplementItem {
            material_id: i.material_id.clone(),
            field_path: i.field_path.clone(),
            requirement: i.requirement.clone(),
        }
    }
}

// `None` (on time) is UNSPECIFIED.
enum_pair!(WarningLevel, pb::WarningLevel {
    Yellow <=> Yellow,
    Red <=> Red,
});

enum_pair!(CancelReason, pb::TaskCancelReason {
    CaseWithdrawn <=> CaseWithdrawn,
    CaseTerminated <=> CaseTerminated,
    CaseDenied <=> CaseDenied,
    CreatedInError <=> CreatedInError,
});

// `New` (an empty stream) is UNSPECIFIED.
enum_pair!(TaskStatus, pb::TaskState {
    Pending <=> Pending,
    InProgress <=> InProgress,
    WaitingForSupplement <=> WaitingForSupplement,
    Approved <=> Approved,
    Denied <=> Denied,
    Cancelled <=> Cancelled,
    Revoked <=> Revoked,
}, to_wire {
    New => Unspecified,
});

// No post-check needed is UNSPECIFIED.
enum_pair!(PostCheck, api::PostCheckState {
    Pending <=> Pending,
    Passed <=> Passed,
    Failed <=> Failed,
}, to_wire {
    NotNeeded => Unspecified,
});

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
        package_id: c.package_id.to_string(),
        step_id: c.step_id.clone(),
        item_code: c.item_code.to_string(),
        item_name: c.item_name.clone(),
        department: c.department.to_string(),
        state: pb::TaskState::from(task.status) as i32,
        assignee: task.assignee.clone().unwrap_or_default(),
        promised_working_days: c.promised_working_days,
        working_days_used,
        due_by: task.due_by.map(pb::Date::from),
        warning: pb::WarningLevel::from(task.warning) as i32,
        escalated: task.escalated,
        material_ids: strings(&c.material_ids),
        commitments: c.commitments.iter().map(Into::into).collect(),
        supplement_request_id: task.supplement.as_ref().map(|s| s.request_id.to_string()).unwrap_or_default(),
        supplement_items: task.supplement.iter().flat_map(|s| s.items.iter().map(Into::into)).collect(),
        supplement_due_by: task.supplement.as_ref().map(|s| s.due_by.into()),
        result: task.result.as_ref().map(Into::into),
        reason: task.reason.clone(),
        legal_basis: task.legal_basis.clone(),
        post_check: api::PostCheckState::from(task.post_check) as i32,
        created_at: Some(timestamp(c.at)),
        claimed_at: task.claimed_at.map(timestamp),
        finished_at: task.finished_at.map(timestamp),
        version: task.version,
        lead_department: c.lead_department.to_string(),
        warn_on: task.warn_on.map(pb::Date::from),
        urge_count: task.urged.count,
        last_urged_at: task.urged.last_at.map(timestamp),
        last_urged_by: task.urged.last_by.clone(),
        last_urge_note: task.urged.last_note.clone(),
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
    let kind = ResultDocumentKind::try_from(d.kind()).ok();
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
            let parsed = NaiveDate::try_from(*v).ok();
            if parsed.is_none() {
                violations.push(FieldViolation::new(format!("{field}.{name}"), "不是有效的日期"));
            }
            parsed
        })
    };
    let valid_from = optional_date("valid_from", d.valid_from.as_ref());
    let valid_until = optional_date("valid_until", d.valid_until.as_ref());
    if let Some(copy) = &d.electronic_copy {
        let named = format!("{field}.electronic_copy");
        for (name, description) in super::issuance::file_ref_violations(&named, copy) {
            violations.push(FieldViolation::new(name, description));
        }
    }
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
            electronic_copy: d.electronic_copy.as_ref().map(Into::into),
        }),
        _ => Err(violations),
    }
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;

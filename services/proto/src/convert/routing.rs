//! Routing conversions between `yiciban_domain::routing` and the wire: the
//! plan stream's events (`From` / `TryFrom`, every value validated again;
//! a stream's events as stored with [`encode_event`] / [`decode_event`]),
//! routing's enums (`enum_pair!`), and the plan read model ([`plan_to_pb`])
//! for `GetPlan`. The clock's and the decision's `at` is not in the payload:
//! it is the envelope's `occurred_at`, so those events are read from a
//! [`Recorded`] message.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yiciban_domain::case::Commitment;
use yiciban_domain::routing::{
    CancelReason, CaseClockResumed, CaseClockStopped, CaseDecided, CaseHandedToIssuance, CaseOutcome, CasePlan,
    CasePlanned, ClockStopReason, Event, PlanEnded, PlanStatus, PlannedStep, ResultDocument, StepCancelled, StepDenial,
    StepDispatched, StepOutcome, StepOutcomeRecorded, StepStatus,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, PackageId};

use super::wire::{At as _, ConvertError, Recorded, date, each, enum_pair, timestamp, uuid};
use crate::common::v1 as pb;
use crate::events::EventPayload;
use crate::events::v1 as ev;
use crate::routing::v1 as api;

// ---------------------------------------------------------------------------
// A stream's events as stored
// ---------------------------------------------------------------------------

/// The event type (message name) and prost payload of a plan event.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    let payload = EventPayload::from(event);
    (payload.event_type().expect("a plan event is a known message"), payload.encode_to_vec())
}

/// The plan event of a stored `event_type` and payload, recorded at `at`
/// (the envelope's `occurred_at`): the inverse of [`encode_event`], every
/// value validated again.
pub fn decode_event(event_type: &str, payload: &[u8], at: DateTime<Utc>) -> Result<Event, ConvertError> {
    Event::try_from(Recorded::new(&EventPayload::decode_known(event_type, payload)?, at))
}

impl From<&Event> for EventPayload {
    fn from(event: &Event) -> Self {
        match event {
            Event::CasePlanned(e) => ev::CasePlanned::from(e).into(),
            Event::StepDispatched(e) => ev::StepDispatched::from(e).into(),
            Event::StepOutcomeRecorded(e) => ev::StepOutcomeRecorded::from(e).into(),
            Event::CaseClockStopped(e) => ev::CaseClockStopped::from(e).into(),
            Event::CaseClockResumed(e) => ev::CaseClockResumed::from(e).into(),
            Event::CaseDecided(e) => ev::CaseDecided::from(e).into(),
            Event::StepCancelled(e) => ev::StepCancelled::from(e).into(),
            Event::CaseHandedToIssuance(e) => ev::CaseHandedToIssuance::from(e).into(),
            Event::PlanEnded(e) => ev::PlanEnded::from(e).into(),
        }
    }
}

/// A plan event from its message, recorded at `at`; another area's event is
/// [`ConvertError::UnknownEventType`]. An error names the field from the
/// message name on (`StepDispatched.task_id`).
impl TryFrom<Recorded<'_, EventPayload>> for Event {
    type Error = ConvertError;

    fn try_from(recorded: Recorded<'_, EventPayload>) -> Result<Self, ConvertError> {
        let at = recorded.at;
        let event = match recorded.message {
            EventPayload::CasePlanned(e) => e.try_into().map(Event::CasePlanned),
            EventPayload::StepDispatched(e) => e.try_into().map(Event::StepDispatched),
            EventPayload::StepOutcomeRecorded(e) => e.try_into().map(Event::StepOutcomeRecorded),
            EventPayload::CaseClockStopped(e) => Recorded::new(e, at).try_into().map(Event::CaseClockStopped),
            EventPayload::CaseClockResumed(e) => Recorded::new(e, at).try_into().map(Event::CaseClockResumed),
            EventPayload::CaseDecided(e) => Recorded::new(e, at).try_into().map(Event::CaseDecided),
            EventPayload::StepCancelled(e) => e.try_into().map(Event::StepCancelled),
            EventPayload::CaseHandedToIssuance(e) => e.try_into().map(Event::CaseHandedToIssuance),
            EventPayload::PlanEnded(e) => Recorded::new(e, at).try_into().map(Event::PlanEnded),
            other => return Err(ConvertError::UnknownEventType(other.event_type().unwrap_or("?").to_owned())),
        };
        event.at(recorded.message.event_type().unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

impl From<&CasePlanned> for ev::CasePlanned {
    fn from(e: &CasePlanned) -> Self {
        ev::CasePlanned {
            case_number: e.case_number.to_string(),
            package_id: e.package_id.to_string(),
            lead_department: e.lead_department.to_string(),
            steps: e.steps.iter().map(Into::into).collect(),
            promised_working_days: e.promised_working_days,
            promised_by: Some(e.promised_by.into()),
            accepted_on: Some(e.accepted_on.into()),
            catalog_version: e.catalog_version.clone(),
        }
    }
}

impl TryFrom<&ev::CasePlanned> for CasePlanned {
    type Error = ConvertError;

    fn try_from(e: &ev::CasePlanned) -> Result<Self, ConvertError> {
        Ok(CasePlanned {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            package_id: PackageId::parse(&e.package_id).at("package_id")?,
            lead_department: DepartmentCode::parse(&e.lead_department).at("lead_department")?,
            steps: each(&e.steps, PlannedStep::try_from).at("steps")?,
            promised_working_days: e.promised_working_days,
            promised_by: date(e.promised_by.as_ref()).at("promised_by")?,
            accepted_on: date(e.accepted_on.as_ref()).at("accepted_on")?,
            catalog_version: super::catalog::catalog_version_or_seed(&e.catalog_version),
        })
    }
}

impl From<&PlannedStep> for ev::PlannedStep {
    fn from(s: &PlannedStep) -> Self {
        ev::PlannedStep {
            step_id: s.step_id.clone(),
            item_code: s.item_code.to_string(),
            item_name: s.item_name.clone(),
            department: s.department.to_string(),
            depends_on: s.depends_on.clone(),
            promised_working_days: s.promised_working_days,
            commitments: s.commitments.iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<&ev::PlannedStep> for PlannedStep {
    type Error = ConvertError;

    fn try_from(s: &ev::PlannedStep) -> Result<Self, ConvertError> {
        Ok(PlannedStep {
            step_id: s.step_id.clone(),
            item_code: ItemCode::parse(&s.item_code).at("item_code")?,
            item_name: s.item_name.clone(),
            department: DepartmentCode::parse(&s.department).at("department")?,
            depends_on: s.depends_on.clone(),
            promised_working_days: s.promised_working_days,
            commitments: each(&s.commitments, Commitment::try_from).at("commitments")?,
        })
    }
}

impl From<&StepDispatched> for ev::StepDispatched {
    fn from(e: &StepDispatched) -> Self {
        ev::StepDispatched {
            step_id: e.step_id.clone(),
            task_id: e.task_id.to_string(),
            item_code: e.item_code.to_string(),
            department: e.department.to_string(),
        }
    }
}

impl TryFrom<&ev::StepDispatched> for StepDispatched {
    type Error = ConvertError;

    fn try_from(e: &ev::StepDispatched) -> Result<Self, ConvertError> {
        Ok(StepDispatched {
            step_id: e.step_id.clone(),
            task_id: uuid(&e.task_id).at("task_id")?,
            item_code: ItemCode::parse(&e.item_code).at("item_code")?,
            department: DepartmentCode::parse(&e.department).at("department")?,
        })
    }
}

impl From<&StepOutcomeRecorded> for ev::StepOutcomeRecorded {
    fn from(e: &StepOutcomeRecorded) -> Self {
        let mut pb = ev::StepOutcomeRecorded {
            step_id: e.step_id.clone(),
            task_id: e.task_id.to_string(),
            ..Default::default()
        };
        match &e.outcome {
            StepOutcome::Approved { results } => {
                pb.set_outcome(ev::StepOutcome::Approved);
                pb.results = results.iter().map(Into::into).collect();
            }
            StepOutcome::Denied { reason, legal_basis } => {
                pb.set_outcome(ev::StepOutcome::Denied);
                pb.reason = reason.clone();
                pb.legal_basis = legal_basis.clone();
            }
            StepOutcome::ReturnedForSupplement { supplement_request_id, missing } => {
                pb.set_outcome(ev::StepOutcome::ReturnedForSupplement);
                pb.supplement_request_id = supplement_request_id.clone();
                pb.missing = missing.clone();
            }
            StepOutcome::Resumed => pb.set_outcome(ev::StepOutcome::Resumed),
        }
        pb
    }
}

impl TryFrom<&ev::StepOutcomeRecorded> for StepOutcomeRecorded {
    type Error = ConvertError;

    fn try_from(e: &ev::StepOutcomeRecorded) -> Result<Self, ConvertError> {
        let outcome = match e.outcome() {
            ev::StepOutcome::Approved => {
                StepOutcome::Approved { results: each(&e.results, ResultDocument::try_from).at("results")? }
            }
            ev::StepOutcome::Denied => {
                StepOutcome::Denied { reason: e.reason.clone(), legal_basis: e.legal_basis.clone() }
            }
            ev::StepOutcome::ReturnedForSupplement => StepOutcome::ReturnedForSupplement {
                supplement_request_id: e.supplement_request_id.clone(),
                missing: e.missing.clone(),
            },
            ev::StepOutcome::Resumed => StepOutcome::Resumed,
            ev::StepOutcome::Unspecified => return Err(ConvertError::invalid("not set").at("outcome")),
        };
        Ok(StepOutcomeRecorded { step_id: e.step_id.clone(), task_id: uuid(&e.task_id).at("task_id")?, outcome })
    }
}

impl From<&CaseClockStopped> for ev::CaseClockStopped {
    fn from(e: &CaseClockStopped) -> Self {
        ev::CaseClockStopped {
            reason: ev::ClockStopReason::from(e.reason) as i32,
            task_id: e.task_id.to_string(),
            supplement_request_id: e.supplement_request_id.clone(),
        }
    }
}

impl TryFrom<Recorded<'_, ev::CaseClockStopped>> for CaseClockStopped {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::CaseClockStopped>) -> Result<Self, ConvertError> {
        Ok(CaseClockStopped {
            reason: ClockStopReason::try_from(e.reason()).at("reason")?,
            task_id: uuid(&e.task_id).at("task_id")?,
            supplement_request_id: e.supplement_request_id.clone(),
            at,
        })
    }
}

impl From<&CaseClockResumed> for ev::CaseClockResumed {
    fn from(e: &CaseClockResumed) -> Self {
        ev::CaseClockResumed {
            task_id: e.task_id.to_string(),
            stopped_working_days: e.stopped_working_days,
            promised_by: Some(e.promised_by.into()),
        }
    }
}

impl TryFrom<Recorded<'_, ev::CaseClockResumed>> for CaseClockResumed {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::CaseClockResumed>) -> Result<Self, ConvertError> {
        Ok(CaseClockResumed {
            task_id: uuid(&e.task_id).at("task_id")?,
            stopped_working_days: e.stopped_working_days,
            promised_by: date(e.promised_by.as_ref()).at("promised_by")?,
            at,
        })
    }
}

impl From<&CaseDecided> for ev::CaseDecided {
    fn from(e: &CaseDecided) -> Self {
        ev::CaseDecided {
            case_number: e.case_number.to_string(),
            outcome: pb::CaseOutcome::from(e.outcome) as i32,
            results: e.results.iter().map(Into::into).collect(),
            denials: e.denials.iter().map(Into::into).collect(),
            explanation: e.explanation.clone(),
            working_days_used: e.working_days_used,
            on_time: e.on_time,
        }
    }
}

impl TryFrom<Recorded<'_, ev::CaseDecided>> for CaseDecided {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::CaseDecided>) -> Result<Self, ConvertError> {
        Ok(CaseDecided {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            outcome: CaseOutcome::try_from(e.outcome()).at("outcome")?,
            results: each(&e.results, ResultDocument::try_from).at("results")?,
            denials: each(&e.denials, StepDenial::try_from).at("denials")?,
            explanation: e.explanation.clone(),
            working_days_used: e.working_days_used,
            on_time: e.on_time,
            at,
        })
    }
}

impl From<&StepDenial> for ev::StepDenial {
    fn from(d: &StepDenial) -> Self {
        ev::StepDenial {
            step_id: d.step_id.clone(),
            task_id: d.task_id.to_string(),
            item_code: d.item_code.to_string(),
            department: d.department.to_string(),
            reason: d.reason.clone(),
            legal_basis: d.legal_basis.clone(),
        }
    }
}

impl TryFrom<&ev::StepDenial> for StepDenial {
    type Error = ConvertError;

    fn try_from(d: &ev::StepDenial) -> Result<Self, ConvertError> {
        Ok(StepDenial {
            step_id: d.step_id.clone(),
            task_id: uuid(&d.task_id).at("task_id")?,
            item_code: ItemCode::parse(&d.item_code).at("item_code")?,
            department: DepartmentCode::parse(&d.department).at("department")?,
            reason: d.reason.clone(),
            legal_basis: d.legal_basis.clone(),
        })
    }
}

impl From<&StepCancelled> for ev::StepCancelled {
    fn from(e: &StepCancelled) -> Self {
        ev::StepCancelled {
            step_id: e.step_id.clone(),
            task_id: e.task_id.to_string(),
            department: e.department.to_string(),
            reason: pb::TaskCancelReason::from(e.reason) as i32,
        }
    }
}

impl TryFrom<&ev::StepCancelled> for StepCancelled {
    type Error = ConvertError;

    fn try_from(e: &ev::StepCancelled) -> Result<Self, ConvertError> {
        Ok(StepCancelled {
            step_id: e.step_id.clone(),
            task_id: uuid(&e.task_id).at("task_id")?,
            department: DepartmentCode::parse(&e.department).at("department")?,
            reason: CancelReason::try_from(e.reason()).at("reason")?,
        })
    }
}

impl From<&CaseHandedToIssuance> for ev::CaseHandedToIssuance {
    fn from(e: &CaseHandedToIssuance) -> Self {
        ev::CaseHandedToIssuance {
            case_number: e.case_number.to_string(),
            outcome: pb::CaseOutcome::from(e.outcome) as i32,
            documents: e.documents.iter().map(Into::into).collect(),
            issue_by: Some(e.issue_by.into()),
        }
    }
}

impl TryFrom<&ev::CaseHandedToIssuance> for CaseHandedToIssuance {
    type Error = ConvertError;

    fn try_from(e: &ev::CaseHandedToIssuance) -> Result<Self, ConvertError> {
        Ok(CaseHandedToIssuance {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            outcome: CaseOutcome::try_from(e.outcome()).at("outcome")?,
            documents: each(&e.documents, ResultDocument::try_from).at("documents")?,
            issue_by: date(e.issue_by.as_ref()).at("issue_by")?,
        })
    }
}

impl From<&PlanEnded> for ev::PlanEnded {
    fn from(e: &PlanEnded) -> Self {
        ev::PlanEnded { reason: pb::TaskCancelReason::from(e.reason) as i32 }
    }
}

impl TryFrom<Recorded<'_, ev::PlanEnded>> for PlanEnded {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::PlanEnded>) -> Result<Self, ConvertError> {
        Ok(PlanEnded { reason: CancelReason::try_from(e.reason()).at("reason")?, at })
    }
}

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

enum_pair!(ClockStopReason, ev::ClockStopReason {
    Supplement <=> Supplement,
    SpecialProcedure <=> SpecialProcedure,
});

// A plan ends or a step is cancelled for a reason of the case; CREATED_IN_ERROR
// is the task service's own.
enum_pair!(CancelReason, pb::TaskCancelReason {
    CaseDenied <=> CaseDenied,
    CaseWithdrawn <=> CaseWithdrawn,
    CaseTerminated <=> CaseTerminated,
});

// ---------------------------------------------------------------------------
// Read model
// ---------------------------------------------------------------------------

/// Working figures of a plan the service computes from its clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanFigures {
    /// Working days used so far, stopped time excluded.
    pub working_days_used: u32,
    /// When the case was decided, if it was.
    pub decided_at: Option<DateTime<Utc>>,
}

/// The plan read model for `GetPlan`.
pub fn plan_to_pb(case_id: Uuid, plan: &CasePlan, version: u64, figures: PlanFigures) -> api::Plan {
    let steps = plan
        .steps
        .iter()
        .map(|s| {
            let mut step = api::PlanStep {
                step_id: s.step.step_id.clone(),
                item_code: s.step.item_code.to_string(),
                item_name: s.step.item_name.clone(),
                department: s.step.department.to_string(),
                depends_on: s.step.depends_on.clone(),
                promised_working_days: s.step.promised_working_days,
                task_id: s.status.task_id().map(|t| t.to_string()).unwrap_or_default(),
                ..Default::default()
            };
            let state = match &s.status {
                StepStatus::Pending => api::StepState::Waiting,
                StepStatus::Dispatched { .. } => api::StepState::Dispatched,
                StepStatus::ReturnedForSupplement { .. } => {
                    step.waiting_for_supplement = true;
                    api::StepState::Dispatched
                }
                StepStatus::Approved { results, .. } => {
                    step.result = results.first().map(Into::into);
                    api::StepState::Approved
                }
                StepStatus::Denied { reason, legal_basis, .. } => {
                    step.denial_reason = reason.clone();
                    step.denial_legal_basis = legal_basis.clone();
                    api::StepState::Denied
                }
                StepStatus::Cancelled { .. } => api::StepState::Cancelled,
            };
            step.set_state(state);
            step
        })
        .collect();
    api::Plan {
        case_id: case_id.to_string(),
        case_number: plan.case_number.map(|n| n.to_string()).unwrap_or_default(),
        package_id: plan.package_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        lead_department: plan.lead_department.as_ref().map(ToString::to_string).unwrap_or_default(),
        steps,
        promised_working_days: plan.promised_working_days,
        promised_by: plan.promised_by.map(pb::Date::from),
        clock_stopped: plan.clock_stopped(),
        working_days_used: figures.working_days_used,
        denial_pending_confirmation: plan.status == PlanStatus::Running && plan.has_denial(),
        outcome: pb::CaseOutcome::from(plan.status.outcome()) as i32,
        decided_at: figures.decided_at.map(timestamp),
        handed_to_issuance: matches!(plan.status, PlanStatus::HandedToIssuance(_)),
        version,
    }
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;

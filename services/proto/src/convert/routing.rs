//! Routing conversions between `yiciban_domain::routing` and the wire: the
//! plan stream's events ([`encode_event`], [`decode_event`]; decoding
//! re-validates every value), result documents, and the plan read model
//! ([`plan_to_pb`]) for `GetPlan`. The events' `at` is not in the payload: it
//! is the envelope's `occurred_at`, handed back to [`decode_event`].

use chrono::{DateTime, Utc};
use prost::{Message, Name};
use uuid::Uuid;
use yiciban_domain::routing::{
    CancelReason, CaseClockResumed, CaseClockStopped, CaseDecided, CaseHandedToIssuance, CaseOutcome, CasePlan,
    CasePlanned, ClockStopReason, Event, PlanEnded, PlanStatus, PlannedStep, ResultDocument, ResultDocumentKind,
    StepCancelled, StepDenial, StepDispatched, StepOutcome, StepOutcomeRecorded, StepStatus,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, PackageId};

use super::intake::{
    ConvertError, checked, commitment_from_pb, commitment_to_pb, date, date_from_pb, date_to_pb, invalid,
};
use crate::common::v1 as pb;
use crate::events::v1 as ev;
use crate::routing::v1 as api;

/// The event type (message name) and prost payload of a plan event.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    match event {
        Event::CasePlanned(e) => (ev::CasePlanned::NAME, planned_to_pb(e).encode_to_vec()),
        Event::StepDispatched(e) => (
            ev::StepDispatched::NAME,
            ev::StepDispatched {
                step_id: e.step_id.clone(),
                task_id: e.task_id.to_string(),
                item_code: e.item_code.as_str().to_owned(),
                department: e.department.as_str().to_owned(),
            }
            .encode_to_vec(),
        ),
        Event::StepOutcomeRecorded(e) => (ev::StepOutcomeRecorded::NAME, outcome_to_pb(e).encode_to_vec()),
        Event::CaseClockStopped(e) => (
            ev::CaseClockStopped::NAME,
            ev::CaseClockStopped {
                reason: stop_reason_to_pb(e.reason) as i32,
                task_id: e.task_id.to_string(),
                supplement_request_id: e.supplement_request_id.clone(),
            }
            .encode_to_vec(),
        ),
        Event::CaseClockResumed(e) => (
            ev::CaseClockResumed::NAME,
            ev::CaseClockResumed {
                task_id: e.task_id.to_string(),
                stopped_working_days: e.stopped_working_days,
                promised_by: Some(date_to_pb(e.promised_by)),
            }
            .encode_to_vec(),
        ),
        Event::CaseDecided(e) => (ev::CaseDecided::NAME, decided_to_pb(e).encode_to_vec()),
        Event::StepCancelled(e) => (
            ev::StepCancelled::NAME,
            ev::StepCancelled {
                step_id: e.step_id.clone(),
                task_id: e.task_id.to_string(),
                department: e.department.as_str().to_owned(),
                reason: cancel_reason_to_pb(e.reason) as i32,
            }
            .encode_to_vec(),
        ),
        Event::CaseHandedToIssuance(e) => (
            ev::CaseHandedToIssuance::NAME,
            ev::CaseHandedToIssuance {
                case_number: e.case_number.to_string(),
                outcome: outcome_kind_to_pb(e.outcome) as i32,
                documents: e.documents.iter().map(result_document_to_pb).collect(),
                issue_by: Some(date_to_pb(e.issue_by)),
            }
            .encode_to_vec(),
        ),
        Event::PlanEnded(e) => {
            (ev::PlanEnded::NAME, ev::PlanEnded { reason: cancel_reason_to_pb(e.reason) as i32 }.encode_to_vec())
        }
    }
}

/// The plan event of a stored `event_type` and payload, recorded at `at`
/// (the envelope's `occurred_at`): the inverse of [`encode_event`], every
/// value validated again.
pub fn decode_event(event_type: &str, payload: &[u8], at: DateTime<Utc>) -> Result<Event, ConvertError> {
    fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
        M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
    }
    match event_type {
        ev::CasePlanned::NAME => planned_from_pb(&message(payload)?).map(Event::CasePlanned),
        ev::StepDispatched::NAME => {
            const AT: &str = "StepDispatched";
            let e: ev::StepDispatched = message(payload)?;
            Ok(Event::StepDispatched(StepDispatched {
                step_id: e.step_id,
                task_id: uuid(AT, "task_id", &e.task_id)?,
                item_code: checked(AT, "item_code", ItemCode::parse(&e.item_code))?,
                department: checked(AT, "department", DepartmentCode::parse(&e.department))?,
            }))
        }
        ev::StepOutcomeRecorded::NAME => outcome_from_pb(&message(payload)?).map(Event::StepOutcomeRecorded),
        ev::CaseClockStopped::NAME => {
            const AT: &str = "CaseClockStopped";
            let e: ev::CaseClockStopped = message(payload)?;
            Ok(Event::CaseClockStopped(CaseClockStopped {
                reason: stop_reason_from_pb(e.reason).ok_or_else(|| invalid(format!("{AT}.reason"), "not set"))?,
                task_id: uuid(AT, "task_id", &e.task_id)?,
                supplement_request_id: e.supplement_request_id,
                at,
            }))
        }
        ev::CaseClockResumed::NAME => {
            const AT: &str = "CaseClockResumed";
            let e: ev::CaseClockResumed = message(payload)?;
            Ok(Event::CaseClockResumed(CaseClockResumed {
                task_id: uuid(AT, "task_id", &e.task_id)?,
                stopped_working_days: e.stopped_working_days,
                promised_by: date(AT, "promised_by", e.promised_by.as_ref())?,
                at,
            }))
        }
        ev::CaseDecided::NAME => decided_from_pb(&message(payload)?, at).map(Event::CaseDecided),
        ev::StepCancelled::NAME => {
            const AT: &str = "StepCancelled";
            let e: ev::StepCancelled = message(payload)?;
            Ok(Event::StepCancelled(StepCancelled {
                step_id: e.step_id,
                task_id: uuid(AT, "task_id", &e.task_id)?,
                department: checked(AT, "department", DepartmentCode::parse(&e.department))?,
                reason: cancel_reason_from_pb(e.reason).ok_or_else(|| invalid(format!("{AT}.reason"), "not set"))?,
            }))
        }
        ev::CaseHandedToIssuance::NAME => {
            const AT: &str = "CaseHandedToIssuance";
            let e: ev::CaseHandedToIssuance = message(payload)?;
            Ok(Event::CaseHandedToIssuance(CaseHandedToIssuance {
                case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
                outcome: outcome_kind_from_pb(e.outcome).ok_or_else(|| invalid(format!("{AT}.outcome"), "not set"))?,
                documents: documents_from_pb(AT, "documents", &e.documents)?,
                issue_by: date(AT, "issue_by", e.issue_by.as_ref())?,
            }))
        }
        ev::PlanEnded::NAME => {
            let e: ev::PlanEnded = message(payload)?;
            Ok(Event::PlanEnded(PlanEnded {
                reason: cancel_reason_from_pb(e.reason).ok_or_else(|| invalid("PlanEnded.reason", "not set"))?,
                at,
            }))
        }
        other => Err(ConvertError::UnknownEventType(other.to_owned())),
    }
}

fn uuid(at: &str, field: &str, value: &str) -> Result<Uuid, ConvertError> {
    Uuid::parse_str(value).map_err(|_| invalid(format!("{at}.{field}"), "not a UUID"))
}

fn planned_to_pb(e: &CasePlanned) -> ev::CasePlanned {
    ev::CasePlanned {
        case_number: e.case_number.to_string(),
        package_id: e.package_id.as_str().to_owned(),
        lead_department: e.lead_department.as_str().to_owned(),
        steps: e
            .steps
            .iter()
            .map(|s| ev::PlannedStep {
                step_id: s.step_id.clone(),
                item_code: s.item_code.as_str().to_owned(),
                item_name: s.item_name.clone(),
                department: s.department.as_str().to_owned(),
                depends_on: s.depends_on.clone(),
                promised_working_days: s.promised_working_days,
                commitments: s.commitments.iter().map(commitment_to_pb).collect(),
            })
            .collect(),
        promised_working_days: e.promised_working_days,
        promised_by: Some(date_to_pb(e.promised_by)),
        accepted_on: Some(date_to_pb(e.accepted_on)),
    }
}

fn planned_from_pb(e: &ev::CasePlanned) -> Result<CasePlanned, ConvertError> {
    const AT: &str = "CasePlanned";
    let steps = e
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("{AT}.steps[{i}]");
            Ok(PlannedStep {
                step_id: s.step_id.clone(),
                item_code: checked(&at, "item_code", ItemCode::parse(&s.item_code))?,
                item_name: s.item_name.clone(),
                department: checked(&at, "department", DepartmentCode::parse(&s.department))?,
                depends_on: s.depends_on.clone(),
                promised_working_days: s.promised_working_days,
                commitments: s
                    .commitments
                    .iter()
                    .enumerate()
                    .map(|(j, c)| commitment_from_pb(&format!("{at}.commitments[{j}]"), c))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    Ok(CasePlanned {
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        package_id: checked(AT, "package_id", PackageId::parse(&e.package_id))?,
        lead_department: checked(AT, "lead_department", DepartmentCode::parse(&e.lead_department))?,
        steps,
        promised_working_days: e.promised_working_days,
        promised_by: date(AT, "promised_by", e.promised_by.as_ref())?,
        accepted_on: date(AT, "accepted_on", e.accepted_on.as_ref())?,
    })
}

fn outcome_to_pb(e: &StepOutcomeRecorded) -> ev::StepOutcomeRecorded {
    let mut pb =
        ev::StepOutcomeRecorded { step_id: e.step_id.clone(), task_id: e.task_id.to_string(), ..Default::default() };
    match &e.outcome {
        StepOutcome::Approved { results } => {
            pb.set_outcome(ev::StepOutcome::Approved);
            pb.results = results.iter().map(result_document_to_pb).collect();
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

fn outcome_from_pb(e: &ev::StepOutcomeRecorded) -> Result<StepOutcomeRecorded, ConvertError> {
    const AT: &str = "StepOutcomeRecorded";
    let outcome = match ev::StepOutcome::try_from(e.outcome).unwrap_or(ev::StepOutcome::Unspecified) {
        ev::StepOutcome::Approved => StepOutcome::Approved { results: documents_from_pb(AT, "results", &e.results)? },
        ev::StepOutcome::Denied => StepOutcome::Denied { reason: e.reason.clone(), legal_basis: e.legal_basis.clone() },
        ev::StepOutcome::ReturnedForSupplement => StepOutcome::ReturnedForSupplement {
            supplement_request_id: e.supplement_request_id.clone(),
            missing: e.missing.clone(),
        },
        ev::StepOutcome::Resumed => StepOutcome::Resumed,
        ev::StepOutcome::Unspecified => return Err(invalid(format!("{AT}.outcome"), "not set")),
    };
    Ok(StepOutcomeRecorded { step_id: e.step_id.clone(), task_id: uuid(AT, "task_id", &e.task_id)?, outcome })
}

fn decided_to_pb(e: &CaseDecided) -> ev::CaseDecided {
    ev::CaseDecided {
        case_number: e.case_number.to_string(),
        outcome: outcome_kind_to_pb(e.outcome) as i32,
        results: e.results.iter().map(result_document_to_pb).collect(),
        denials: e
            .denials
            .iter()
            .map(|d| ev::StepDenial {
                step_id: d.step_id.clone(),
                task_id: d.task_id.to_string(),
                item_code: d.item_code.as_str().to_owned(),
                department: d.department.as_str().to_owned(),
                reason: d.reason.clone(),
                legal_basis: d.legal_basis.clone(),
            })
            .collect(),
        explanation: e.explanation.clone(),
        working_days_used: e.working_days_used,
        on_time: e.on_time,
    }
}

fn decided_from_pb(e: &ev::CaseDecided, at: DateTime<Utc>) -> Result<CaseDecided, ConvertError> {
    const AT: &str = "CaseDecided";
    let denials = e
        .denials
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let at = format!("{AT}.denials[{i}]");
            Ok(StepDenial {
                step_id: d.step_id.clone(),
                task_id: uuid(&at, "task_id", &d.task_id)?,
                item_code: checked(&at, "item_code", ItemCode::parse(&d.item_code))?,
                department: checked(&at, "department", DepartmentCode::parse(&d.department))?,
                reason: d.reason.clone(),
                legal_basis: d.legal_basis.clone(),
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    Ok(CaseDecided {
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        outcome: outcome_kind_from_pb(e.outcome).ok_or_else(|| invalid(format!("{AT}.outcome"), "not set"))?,
        results: documents_from_pb(AT, "results", &e.results)?,
        denials,
        explanation: e.explanation.clone(),
        working_days_used: e.working_days_used,
        on_time: e.on_time,
        at,
    })
}

fn documents_from_pb(at: &str, field: &str, docs: &[pb::ResultDocument]) -> Result<Vec<ResultDocument>, ConvertError> {
    docs.iter().enumerate().map(|(i, d)| result_document_from_pb(&format!("{at}.{field}[{i}]"), d)).collect()
}

/// A result document on the wire (no electronic copy: the domain does not
/// carry one yet).
pub fn result_document_to_pb(d: &ResultDocument) -> pb::ResultDocument {
    pb::ResultDocument {
        kind: document_kind_to_pb(d.kind) as i32,
        name: d.name.clone(),
        number: d.number.clone(),
        issuing_department: d.issuing_department.as_str().to_owned(),
        item_code: d.item_code.as_str().to_owned(),
        valid_from: d.valid_from.map(date_to_pb),
        valid_until: d.valid_until.map(date_to_pb),
        physical: d.physical,
        electronic_copy: None,
    }
}

/// A result document from the wire, validated; `at` names it in errors.
pub fn result_document_from_pb(at: &str, d: &pb::ResultDocument) -> Result<ResultDocument, ConvertError> {
    let optional_date = |field: &str, value: Option<&pb::Date>| {
        value
            .map(|v| date_from_pb(v).ok_or_else(|| invalid(format!("{at}.{field}"), "not a calendar date")))
            .transpose()
    };
    Ok(ResultDocument {
        kind: document_kind_from_pb(d.kind).ok_or_else(|| invalid(format!("{at}.kind"), "not set"))?,
        name: d.name.clone(),
        number: d.number.clone(),
        issuing_department: checked(at, "issuing_department", DepartmentCode::parse(&d.issuing_department))?,
        item_code: checked(at, "item_code", ItemCode::parse(&d.item_code))?,
        valid_from: optional_date("valid_from", d.valid_from.as_ref())?,
        valid_until: optional_date("valid_until", d.valid_until.as_ref())?,
        physical: d.physical,
    })
}

/// The wire kind of a document.
pub fn document_kind_to_pb(kind: ResultDocumentKind) -> pb::ResultDocumentKind {
    match kind {
        ResultDocumentKind::Licence => pb::ResultDocumentKind::Licence,
        ResultDocumentKind::Certificate => pb::ResultDocumentKind::Certificate,
        ResultDocumentKind::Registration => pb::ResultDocumentKind::Registration,
        ResultDocumentKind::Decision => pb::ResultDocumentKind::Decision,
        ResultDocumentKind::Card => pb::ResultDocumentKind::Card,
        ResultDocumentKind::Other => pb::ResultDocumentKind::Other,
    }
}

/// The domain kind of a wire kind; `None` when unset. A notice (告知书) is
/// kept as `Other` (the domain has no notice kind).
pub fn document_kind_from_pb(kind: i32) -> Option<ResultDocumentKind> {
    Some(match pb::ResultDocumentKind::try_from(kind).ok()? {
        pb::ResultDocumentKind::Unspecified => return None,
        pb::ResultDocumentKind::Licence => ResultDocumentKind::Licence,
        pb::ResultDocumentKind::Certificate => ResultDocumentKind::Certificate,
        pb::ResultDocumentKind::Registration => ResultDocumentKind::Registration,
        pb::ResultDocumentKind::Decision => ResultDocumentKind::Decision,
        pb::ResultDocumentKind::Card => ResultDocumentKind::Card,
        pb::ResultDocumentKind::Notice | pb::ResultDocumentKind::Other => ResultDocumentKind::Other,
    })
}

fn stop_reason_to_pb(r: ClockStopReason) -> ev::ClockStopReason {
    match r {
        ClockStopReason::Supplement => ev::ClockStopReason::Supplement,
        ClockStopReason::SpecialProcedure => ev::ClockStopReason::SpecialProcedure,
    }
}

fn stop_reason_from_pb(r: i32) -> Option<ClockStopReason> {
    match ev::ClockStopReason::try_from(r).ok()? {
        ev::ClockStopReason::Supplement => Some(ClockStopReason::Supplement),
        ev::ClockStopReason::SpecialProcedure => Some(ClockStopReason::SpecialProcedure),
        ev::ClockStopReason::Unspecified => None,
    }
}

/// The wire outcome of a decision.
pub fn outcome_kind_to_pb(o: CaseOutcome) -> pb::CaseOutcome {
    match o {
        CaseOutcome::Approved => pb::CaseOutcome::Approved,
        CaseOutcome::Denied => pb::CaseOutcome::Denied,
    }
}

fn outcome_kind_from_pb(o: i32) -> Option<CaseOutcome> {
    match pb::CaseOutcome::try_from(o).ok()? {
        pb::CaseOutcome::Approved => Some(CaseOutcome::Approved),
        pb::CaseOutcome::Denied => Some(CaseOutcome::Denied),
        pb::CaseOutcome::Unspecified => None,
    }
}

/// The wire reason of a cancellation.
pub fn cancel_reason_to_pb(r: CancelReason) -> pb::TaskCancelReason {
    match r {
        CancelReason::CaseDenied => pb::TaskCancelReason::CaseDenied,
        CancelReason::CaseWithdrawn => pb::TaskCancelReason::CaseWithdrawn,
        CancelReason::CaseTerminated => pb::TaskCancelReason::CaseTerminated,
    }
}

fn cancel_reason_from_pb(r: i32) -> Option<CancelReason> {
    match pb::TaskCancelReason::try_from(r).ok()? {
        pb::TaskCancelReason::CaseDenied => Some(CancelReason::CaseDenied),
        pb::TaskCancelReason::CaseWithdrawn => Some(CancelReason::CaseWithdrawn),
        pb::TaskCancelReason::CaseTerminated => Some(CancelReason::CaseTerminated),
        pb::TaskCancelReason::Unspecified | pb::TaskCancelReason::CreatedInError => None,
    }
}

/// Working figures of a plan the service computes from its clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanFigures {
    /// Working days used so far, stopped time excluded.
    pub working_days_used: u32,
    /// When the case was decided, if it was.
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The plan read model for `GetPlan`.
pub fn plan_to_pb(case_id: Uuid, plan: &CasePlan, version: u64, figures: PlanFigures) -> api::Plan {
    let steps = plan
        .steps
        .iter()
        .map(|s| {
            let mut step = api::PlanStep {
                step_id: s.step.step_id.clone(),
                item_code: s.step.item_code.as_str().to_owned(),
                item_name: s.step.item_name.clone(),
                department: s.step.department.as_str().to_owned(),
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
                    step.result = results.first().map(result_document_to_pb);
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
    let outcome = plan.status.outcome().map(outcome_kind_to_pb).unwrap_or(pb::CaseOutcome::Unspecified);
    api::Plan {
        case_id: case_id.to_string(),
        case_number: plan.case_number.map(|n| n.to_string()).unwrap_or_default(),
        package_id: plan.package_id.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        lead_department: plan.lead_department.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
        steps,
        promised_working_days: plan.promised_working_days,
        promised_by: plan.promised_by.map(date_to_pb),
        clock_stopped: plan.clock_stopped(),
        working_days_used: figures.working_days_used,
        denial_pending_confirmation: plan.status == PlanStatus::Running && plan.has_denial(),
        outcome: outcome as i32,
        decided_at: figures.decided_at.map(super::intake::timestamp),
        handed_to_issuance: matches!(plan.status, PlanStatus::HandedToIssuance(_)),
        version,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The envelope's `occurred_at` of every event here.
    fn at() -> DateTime<Utc> {
        "2026-03-20T02:00:00Z".parse().unwrap()
    }

    fn doc(kind: ResultDocumentKind) -> ResultDocument {
        ResultDocument {
            kind,
            name: "食品经营许可证".into(),
            number: "JY11502030000123".into(),
            issuing_department: DepartmentCode::parse("samr").unwrap(),
            item_code: ItemCode::parse("DEMO-CY-02").unwrap(),
            valid_from: Some(date(2026, 3, 20)),
            valid_until: Some(date(2031, 3, 19)),
            physical: true,
        }
    }

    #[test]
    fn every_plan_event_round_trips() {
        let task = Uuid::from_u128(7);
        let samr = DepartmentCode::parse("samr").unwrap();
        let events = vec![
            Event::CasePlanned(CasePlanned {
                case_number: CaseNumber::new(date(2026, 3, 16), 1).unwrap(),
                package_id: PackageId::parse("open-restaurant").unwrap(),
                lead_department: samr.clone(),
                steps: vec![PlannedStep {
                    step_id: "s1".into(),
                    item_code: ItemCode::parse("DEMO-CY-01").unwrap(),
                    item_name: "营业执照".into(),
                    department: samr.clone(),
                    depends_on: vec![],
                    promised_working_days: 3,
                    commitments: vec![],
                }],
                promised_working_days: 15,
                promised_by: date(2026, 4, 7),
                accepted_on: date(2026, 3, 16),
            }),
            Event::StepDispatched(StepDispatched {
                step_id: "s1".into(),
                task_id: task,
                item_code: ItemCode::parse("DEMO-CY-01").unwrap(),
                department: samr.clone(),
            }),
            Event::StepOutcomeRecorded(StepOutcomeRecorded {
                step_id: "s1".into(),
                task_id: task,
                outcome: StepOutcome::Approved { results: vec![doc(ResultDocumentKind::Licence)] },
            }),
            Event::StepOutcomeRecorded(StepOutcomeRecorded {
                step_id: "s1".into(),
                task_id: task,
                outcome: StepOutcome::ReturnedForSupplement {
                    supplement_request_id: "sr".into(),
                    missing: vec!["m_a".into(), "form.b".into()],
                },
            }),
            Event::StepOutcomeRecorded(StepOutcomeRecorded {
                step_id: "s1".into(),
                task_id: task,
                outcome: StepOutcome::Denied { reason: "r".into(), legal_basis: "l".into() },
            }),
            Event::StepOutcomeRecorded(StepOutcomeRecorded {
                step_id: "s1".into(),
                task_id: task,
                outcome: StepOutcome::Resumed,
            }),
            Event::CaseClockStopped(CaseClockStopped {
                reason: ClockStopReason::Supplement,
                task_id: task,
                supplement_request_id: "sr".into(),
                at: at(),
            }),
            Event::CaseClockResumed(CaseClockResumed {
                task_id: task,
                stopped_working_days: 2,
                promised_by: date(2026, 4, 9),
                at: at(),
            }),
            Event::CaseDecided(CaseDecided {
                case_number: CaseNumber::new(date(2026, 3, 16), 1).unwrap(),
                outcome: CaseOutcome::Denied,
                results: vec![],
                denials: vec![StepDenial {
                    step_id: "s1".into(),
                    task_id: task,
                    item_code: ItemCode::parse("DEMO-CY-01").unwrap(),
                    department: samr.clone(),
                    reason: "r".into(),
                    legal_basis: "l".into(),
                }],
                explanation: "e".into(),
                working_days_used: 4,
                on_time: true,
                at: at(),
            }),
            Event::StepCancelled(StepCancelled {
                step_id: "s2".into(),
                task_id: task,
                department: samr,
                reason: CancelReason::CaseDenied,
            }),
            Event::CaseHandedToIssuance(CaseHandedToIssuance {
                case_number: CaseNumber::new(date(2026, 3, 16), 1).unwrap(),
                outcome: CaseOutcome::Denied,
                documents: vec![doc(ResultDocumentKind::Decision)],
                issue_by: date(2026, 4, 1),
            }),
            Event::PlanEnded(PlanEnded { reason: CancelReason::CaseWithdrawn, at: at() }),
        ];
        for event in events {
            let (kind, bytes) = encode_event(&event);
            assert_eq!(kind, event.event_type());
            assert_eq!(decode_event(kind, &bytes, at()).unwrap(), event);
        }
    }

    #[test]
    fn a_bad_stored_value_is_named_by_its_field() {
        let bytes = ev::StepDispatched {
            step_id: "s1".into(),
            task_id: "not-a-uuid".into(),
            item_code: "DEMO-CY-01".into(),
            department: "samr".into(),
        }
        .encode_to_vec();
        let err = decode_event("StepDispatched", &bytes, at()).unwrap_err();
        assert!(err.to_string().contains("StepDispatched.task_id"), "{err}");
        assert!(matches!(decode_event("Nope", &[], at()), Err(ConvertError::UnknownEventType(_))));
    }
}

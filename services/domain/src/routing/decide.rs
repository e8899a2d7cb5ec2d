//! The decisions of the routing aggregate: planning, task outcomes and the
//! lead department's confirmation of a denial.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::command::{
    Command, ConfirmDenial, DecisionFacts, EndPlan, PlanCase, RecordTaskOutcome, TaskIds, TaskOutcome,
};
use super::error::RoutingError;
use super::event::{
    CancelReason, CaseClockResumed, CaseClockStopped, CaseDecided, CaseHandedToIssuance, CasePlanned, ClockStopReason,
    Event, PlanEnded, PlannedStep, StepCancelled, StepDenial, StepDispatched, StepOutcome, StepOutcomeRecorded,
};
use super::state::{CasePlan, PlanStatus, StepStatus, evolve};
use crate::case::{CaseOutcome, Commitment, ResultDocumentKind};
use crate::catalog::Package;
use crate::values::{DepartmentCode, ItemCode};

/// Decides a command against the plan: the events to append, or why not.
/// Pure and synchronous.
pub(super) fn decide(plan: &CasePlan, command: Command) -> Result<Vec<Event>, RoutingError> {
    match command {
        Command::PlanCase(cmd) => plan_case(plan, cmd),
        Command::RecordTaskOutcome(cmd) => record_outcome(plan, cmd),
        Command::ConfirmDenial(cmd) => confirm_denial(plan, cmd),
        Command::EndPlan(cmd) => end_plan(plan, cmd),
    }
}

/// Hands each commitment to the step whose task post-checks it: the first
/// step of its post-check department, or the lead department's first step
/// when the plan has no step of that department (or the first step when it
/// has neither). Every commitment lands on exactly one step.
pub fn assign_commitments(steps: &mut [PlannedStep], lead: &DepartmentCode, commitments: Vec<Commitment>) {
    for commitment in commitments {
        let target = steps
            .iter()
            .position(|s| s.department == commitment.post_check_department)
            .or_else(|| steps.iter().position(|s| &s.department == lead))
            .or(if steps.is_empty() { None } else { Some(0) });
        if let Some(i) = target {
            steps[i].commitments.push(commitment);
        }
    }
}

/// The steps of a case covering the non-optional items and `chosen_optional`
/// (catalog order; dependencies on left-out steps dropped) and the case's
/// promised working days: the critical path of those steps, or the
/// package's promise if shorter. The service uses the days to compute
/// [`PlanCase::promised_by`].
pub fn plan_steps(package: &Package, chosen_optional: &[ItemCode]) -> Result<(Vec<PlannedStep>, u32), RoutingError> {
    for code in chosen_optional {
        if !package.item(code).is_some_and(|i| i.optional) {
            return Err(RoutingError::NotAnOptionalItem { item_code: code.to_string() });
        }
    }
    let mut kept = Vec::new();
    for step in &package.steps {
        let item = package
            .item(&step.item_code)
            .ok_or_else(|| RoutingError::InconsistentPackage { step_id: step.id.clone() })?;
        if !item.optional || chosen_optional.contains(&item.code) {
            kept.push((step, item));
        }
    }
    let ids: Vec<&str> = kept.iter().map(|(s, _)| s.id.as_str()).collect();
    let steps: Vec<PlannedStep> = kept
        .iter()
        .map(|(s, i)| PlannedStep {
            step_id: s.id.clone(),
            item_code: i.code.clone(),
            item_name: i.name.clone(),
            department: i.department.clone(),
            depends_on: s.depends_on.iter().filter(|d| ids.contains(&d.as_str())).cloned().collect(),
            promised_working_days: i.promised_days,
            commitments: Vec::new(),
        })
        .collect();
    let days = critical_path_days(&steps).min(package.promised_total_days);
    Ok((steps, days))
}

/// Longest chain of promised days through an acyclic step list.
fn critical_path_days(steps: &[PlannedStep]) -> u32 {
    fn finish(id: &str, steps: &[PlannedStep], memo: &mut BTreeMap<String, u32>, depth: usize) -> u32 {
        if let Some(d) = memo.get(id) {
            return *d;
        }
        let Some(step) = steps.iter().find(|s| s.step_id == id) else { return 0 };
        // The catalog guarantees an acyclic graph; the depth bound only keeps
        // a malformed one from recursing forever.
        let before = if depth > steps.len() {
            0
        } else {
            step.depends_on.iter().map(|d| finish(d, steps, memo, depth + 1)).max().unwrap_or(0)
        };
        let total = before + step.promised_working_days;
        memo.insert(id.to_owned(), total);
        total
    }
    let mut memo = BTreeMap::new();
    steps.iter().map(|s| finish(&s.step_id, steps, &mut memo, 0)).max().unwrap_or(0)
}

fn plan_case(plan: &CasePlan, cmd: PlanCase) -> Result<Vec<Event>, RoutingError> {
    if plan.status != PlanStatus::New {
        return Err(RoutingError::AlreadyPlanned);
    }
    let (mut steps, critical_path) = plan_steps(&cmd.package, &cmd.optional_item_codes)?;
    let promised_working_days = cmd.promised_working_days.unwrap_or(critical_path);
    assign_commitments(&mut steps, &cmd.package.lead_department, cmd.commitments);
    if cmd.promised_by < cmd.accepted_on {
        return Err(RoutingError::Invalid {
            field: "promised_by", description: "承诺办结日期不能早于受理日期"
        });
    }
    let planned = Event::CasePlanned(CasePlanned {
        case_number: cmd.case_number,
        package_id: cmd.package.id.clone(),
        lead_department: cmd.package.lead_department.clone(),
        steps,
        promised_working_days,
        promised_by: cmd.promised_by,
        accepted_on: cmd.accepted_on,
        catalog_version: cmd.catalog_version.clone(),
    });
    let next = evolve(plan.clone(), &planned);
    let mut events = vec![planned];
    events.extend(dispatch_ready(&next, &cmd.task_ids)?);
    Ok(events)
}

/// Dispatches every pending step whose prerequisites are all approved.
fn dispatch_ready(plan: &CasePlan, task_ids: &TaskIds) -> Result<Vec<Event>, RoutingError> {
    let approved = |id: &String| plan.step(id).is_some_and(|s| matches!(s.status, StepStatus::Approved { .. }));
    plan.steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending && s.step.depends_on.iter().all(approved))
        .map(|s| {
            let task_id = *task_ids
                .get(&s.step.step_id)
                .ok_or_else(|| RoutingError::MissingTaskId { step_id: s.step.step_id.clone() })?;
            Ok(Event::StepDispatched(StepDispatched {
                step_id: s.step.step_id.clone(),
                task_id,
                item_code: s.step.item_code.clone(),
                department: s.step.department.clone(),
            }))
        })
        .collect()
}

fn validate_outcome(outcome: &TaskOutcome) -> Result<(), RoutingError> {
    match outcome {
        TaskOutcome::Denied { reason, .. } | TaskOutcome::Revoked { reason, .. } if reason.trim().is_empty() => {
            Err(RoutingError::Invalid { field: "outcome.reason", description: "不予许可必须说明理由" })
        }
        TaskOutcome::ReturnedForSupplement { supplement_request_id, missing } => {
            if supplement_request_id.trim().is_empty() {
                Err(RoutingError::Invalid {
                    field: "outcome.supplement_request_id",
                    description: "补正必须有补正通知编号",
                })
            } else if missing.is_empty() {
                Err(RoutingError::Invalid {
                    field: "outcome.missing", description: "补正必须一次性告知全部所需材料"
                })
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn record_outcome(plan: &CasePlan, cmd: RecordTaskOutcome) -> Result<Vec<Event>, RoutingError> {
    validate_outcome(&cmd.outcome)?;
    if plan.status == PlanStatus::New {
        return Err(RoutingError::NoSuchPlan);
    }
    if matches!(cmd.outcome, TaskOutcome::Revoked { .. }) && plan.status.outcome().is_some() {
        return Ok(Vec::new());
    }
    let step_id = cmd.step_id;
    let step = plan.step(&step_id).ok_or_else(|| RoutingError::UnknownStep { step_id: step_id.clone() })?;
    let Some(task_id) = step.status.task_id() else {
        return Err(RoutingError::StepNotDispatched { step_id });
    };
    if task_id != cmd.task_id {
        return Err(RoutingError::UnknownTask { step_id, task_id: cmd.task_id });
    }
    // The same outcome delivered again: nothing new.
    let repeated = match (&step.status, &cmd.outcome) {
        (StepStatus::Approved { .. }, TaskOutcome::Approved { .. })
        | (StepStatus::Denied { .. }, TaskOutcome::Denied { .. })
        | (StepStatus::Denied { .. }, TaskOutcome::Revoked { .. })
        | (StepStatus::Dispatched { .. }, TaskOutcome::Resumed { .. }) => true,
        (
            StepStatus::ReturnedForSupplement { supplement_request_id: had, .. },
            TaskOutcome::ReturnedForSupplement { supplement_request_id, .. },
        ) => had == supplement_request_id,
        _ => false,
    };
    if repeated {
        return Ok(Vec::new());
    }
    if plan.status != PlanStatus::Running {
        return Err(RoutingError::AlreadyDecided { status: plan.status });
    }
    let allowed = matches!(
        (&step.status, &cmd.outcome),
        (StepStatus::Dispatched { .. }, TaskOutcome::Approved { .. })
            | (StepStatus::Dispatched { .. }, TaskOutcome::Denied { .. })
            | (StepStatus::Approved { .. }, TaskOutcome::Revoked { .. })
            | (StepStatus::Dispatched { .. }, TaskOutcome::ReturnedForSupplement { .. })
            | (StepStatus::ReturnedForSupplement { .. }, TaskOutcome::Resumed { .. })
    );
    if !allowed {
        return Err(RoutingError::OutcomeNotAllowed { step_id });
    }

    let (outcome, resume_facts) = match cmd.outcome {
        TaskOutcome::Approved { results } => (StepOutcome::Approved { results }, None),
        TaskOutcome::Denied { reason, legal_basis } | TaskOutcome::Revoked { reason, legal_basis } => {
            (StepOutcome::Denied { reason: reason.trim().to_owned(), legal_basis: legal_basis.trim().to_owned() }, None)
        }
        TaskOutcome::ReturnedForSupplement { supplement_request_id, missing } => {
            (StepOutcome::ReturnedForSupplement { supplement_request_id, missing }, None)
        }
        TaskOutcome::Resumed { stopped_working_days, promised_by } => {
            (StepOutcome::Resumed, Some((stopped_working_days, promised_by)))
        }
    };
    let recorded = Event::StepOutcomeRecorded(StepOutcomeRecorded { step_id, task_id, outcome: outcome.clone() });
    let next = evolve(plan.clone(), &recorded);
    let mut events = vec![recorded];

    match outcome {
        StepOutcome::Approved { .. } if !next.has_denial() => {
            if next.steps.iter().all(|s| matches!(s.status, StepStatus::Approved { .. })) {
                events.extend(approve_case(&next, &cmd.decision, cmd.now));
            } else {
                events.extend(dispatch_ready(&next, &cmd.task_ids)?);
            }
        }
        StepOutcome::ReturnedForSupplement { supplement_request_id, .. } if !plan.clock_stopped() => {
            clock_may_move(plan, cmd.now)?;
            events.push(Event::CaseClockStopped(CaseClockStopped {
                reason: ClockStopReason::Supplement,
                task_id,
                supplement_request_id,
                at: cmd.now,
            }));
        }
        StepOutcome::Resumed => {
            let still_waiting = next.steps.iter().any(|s| matches!(s.status, StepStatus::ReturnedForSupplement { .. }));
            if let (false, true, Some((stopped_working_days, promised_by))) =
                (still_waiting, plan.clock_stopped(), resume_facts)
            {
                clock_may_move(plan, cmd.now)?;
                events.push(Event::CaseClockResumed(CaseClockResumed {
                    task_id,
                    stopped_working_days,
                    promised_by,
                    at: cmd.now,
                }));
            }
        }
        _ => {}
    }
    Ok(events)
}

fn on_time(plan: &CasePlan, facts: &DecisionFacts) -> bool {
    plan.promised_by.is_some_and(|by| facts.today <= by)
}

/// Refuses to stop or resume the case clock at `now` when that is before
/// the clock's last transition: its history stays in time order, so
/// `evolve` never meets a transition the clock would refuse.
fn clock_may_move(plan: &CasePlan, now: DateTime<Utc>) -> Result<(), RoutingError> {
    match &plan.clock {
        Some(clock) if now < clock.last_transition() => {
            Err(RoutingError::ClockOutOfOrder { at: now, last_transition: clock.last_transition() })
        }
        _ => Ok(()),
    }
}

/// Every step approved: the case is decided approved and handed to issuance.
fn approve_case(plan: &CasePlan, facts: &DecisionFacts, now: DateTime<Utc>) -> Vec<Event> {
    let case_number = plan.case_number.expect("a running plan has a case number");
    let results: Vec<_> = plan
        .steps
        .iter()
        .flat_map(|s| match &s.status {
            StepStatus::Approved { results, .. } => results.clone(),
            _ => Vec::new(),
        })
        .collect();
    vec![
        Event::CaseDecided(CaseDecided {
            case_number,
            outcome: CaseOutcome::Approved,
            results: results.clone(),
            denials: Vec::new(),
            explanation: String::new(),
            working_days_used: facts.working_days_used,
            on_time: on_time(plan, facts),
            at: now,
        }),
        Event::CaseHandedToIssuance(CaseHandedToIssuance {
            case_number,
            outcome: CaseOutcome::Approved,
            documents: results,
            issue_by: facts.issue_by,
        }),
    ]
}

fn confirm_denial(plan: &CasePlan, cmd: ConfirmDenial) -> Result<Vec<Event>, RoutingError> {
    let explanation = cmd.explanation.trim();
    if explanation.is_empty() {
        return Err(RoutingError::Invalid {
            field: "explanation", description: "必须说明不予许可的理由及救济途径"
        });
    }
    if cmd.decision_document.kind != ResultDocumentKind::Decision {
        return Err(RoutingError::Invalid {
            field: "decision_document.kind", description: "不予许可须出具决定书"
        });
    }
    let (Some(lead), Some(case_number)) = (&plan.lead_department, &plan.case_number) else {
        return Err(RoutingError::NoSuchPlan);
    };
    if plan.status != PlanStatus::Running {
        return Err(RoutingError::AlreadyDecided { status: plan.status });
    }
    if &cmd.department != lead {
        return Err(RoutingError::NotLeadDepartment { lead: lead.clone(), department: cmd.department });
    }
    let denials: Vec<StepDenial> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.status {
            StepStatus::Denied { task_id, reason, legal_basis } => Some(StepDenial {
                step_id: s.step.step_id.clone(),
                task_id: *task_id,
                item_code: s.step.item_code.clone(),
                department: s.step.department.clone(),
                reason: reason.clone(),
                legal_basis: legal_basis.clone(),
            }),
            _ => None,
        })
        .collect();
    if denials.is_empty() {
        return Err(RoutingError::NoDenial);
    }
    let mut events = vec![Event::CaseDecided(CaseDecided {
        case_number: *case_number,
        outcome: CaseOutcome::Denied,
        results: Vec::new(),
        denials,
        explanation: explanation.to_owned(),
        working_days_used: cmd.decision.working_days_used,
        on_time: on_time(plan, &cmd.decision),
        at: cmd.now,
    })];
    for s in plan.open_steps() {
        events.push(Event::StepCancelled(StepCancelled {
            step_id: s.step.step_id.clone(),
            task_id: s.status.task_id().expect("an open step has a task"),
            department: s.step.department.clone(),
            reason: CancelReason::CaseDenied,
        }));
    }
    events.push(Event::CaseHandedToIssuance(CaseHandedToIssuance {
        case_number: *case_number,
        outcome: CaseOutcome::Denied,
        documents: vec![cmd.decision_document],
        issue_by: cmd.decision.issue_by,
    }));
    Ok(events)
}

/// The case ended at intake before a decision: cancel every open task and
/// stop the plan. A plan already decided or ended is left as it is (no
/// events): its tasks are closed or in issuance's hands.
fn end_plan(plan: &CasePlan, cmd: EndPlan) -> Result<Vec<Event>, RoutingError> {
    if cmd.reason == CancelReason::CaseDenied {
        return Err(RoutingError::Invalid {
            field: "reason", description: "不予许可须由牵头部门确认，不能直接终止"
        });
    }
    match plan.status {
        PlanStatus::New => return Err(RoutingError::NoSuchPlan),
        PlanStatus::Running => {}
        PlanStatus::Decided(_) | PlanStatus::HandedToIssuance(_) | PlanStatus::Ended(_) => return Ok(Vec::new()),
    }
    if plan.clock_stopped() {
        // Ending the plan resumes the stopped clock.
        clock_may_move(plan, cmd.now)?;
    }
    let mut events: Vec<Event> = plan
        .open_steps()
        .map(|s| {
            Event::StepCancelled(StepCancelled {
                step_id: s.step.step_id.clone(),
                task_id: s.status.task_id().expect("an open step has a task"),
                department: s.step.department.clone(),
                reason: cmd.reason,
            })
        })
        .collect();
    events.push(Event::PlanEnded(PlanEnded { reason: cmd.reason, at: cmd.now }));
    Ok(events)
}

//! The plan's state, folded from its events.

use chrono::NaiveDate;
use uuid::Uuid;

use super::event::{CancelReason, CaseOutcome, ClockStopReason, Event, PlannedStep, ResultDocument, StepOutcome};
use crate::values::{CaseNumber, DepartmentCode, PackageId};

/// Where the plan is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlanStatus {
    /// Nothing planned.
    #[default]
    New,
    /// Steps are being done (联办中).
    Running,
    /// Decided, not yet handed to issuance (never observed between commands).
    Decided(CaseOutcome),
    /// Decided and handed to issuance.
    HandedToIssuance(CaseOutcome),
    /// Ended before a decision (withdrawn or terminated at intake).
    Ended(CancelReason),
}

impl PlanStatus {
    /// The decision, once decided.
    pub fn outcome(self) -> Option<CaseOutcome> {
        match self {
            PlanStatus::Decided(o) | PlanStatus::HandedToIssuance(o) => Some(o),
            _ => None,
        }
    }
}

/// Where a step is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStatus {
    /// Waiting for its prerequisites.
    Pending,
    /// Its task runs.
    Dispatched {
        /// The task.
        task_id: Uuid,
    },
    /// Approved.
    Approved {
        /// The task.
        task_id: Uuid,
        /// Its result documents.
        results: Vec<ResultDocument>,
    },
    /// Denied.
    Denied {
        /// The task.
        task_id: Uuid,
        /// Why.
        reason: String,
        /// Legal basis.
        legal_basis: String,
    },
    /// Waiting for the applicant's supplement.
    ReturnedForSupplement {
        /// The task.
        task_id: Uuid,
        /// The request.
        supplement_request_id: String,
        /// Everything asked for.
        missing: Vec<String>,
    },
    /// Its task was cancelled by the case's decision.
    Cancelled {
        /// The task.
        task_id: Uuid,
    },
}

impl StepStatus {
    /// The step's task, once dispatched.
    pub fn task_id(&self) -> Option<Uuid> {
        match self {
            StepStatus::Pending => None,
            StepStatus::Dispatched { task_id }
            | StepStatus::Approved { task_id, .. }
            | StepStatus::Denied { task_id, .. }
            | StepStatus::ReturnedForSupplement { task_id, .. }
            | StepStatus::Cancelled { task_id } => Some(*task_id),
        }
    }

    /// True while its task is open (running or waiting on the applicant).
    pub fn is_open(&self) -> bool {
        matches!(self, StepStatus::Dispatched { .. } | StepStatus::ReturnedForSupplement { .. })
    }
}

/// One step and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepState {
    /// The step as planned.
    pub step: PlannedStep,
    /// Where it is.
    pub status: StepStatus,
}

/// Why and by whom the case clock is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStop {
    /// Why.
    pub reason: ClockStopReason,
    /// The task that stopped it.
    pub task_id: Uuid,
    /// The supplement request.
    pub supplement_request_id: String,
}

/// The state of a case's plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Where the plan is.
    pub status: PlanStatus,
    /// The case number, once planned.
    pub case_number: Option<CaseNumber>,
    /// The package, once planned.
    pub package_id: Option<PackageId>,
    /// The lead department, once planned.
    pub lead_department: Option<DepartmentCode>,
    /// The steps, in catalog order.
    pub steps: Vec<StepState>,
    /// Promised working days of the case.
    pub promised_working_days: u32,
    /// Last day the case is on time (moved by clock stops).
    pub promised_by: Option<NaiveDate>,
    /// Set while the case clock is stopped.
    pub clock_stop: Option<ClockStop>,
    /// The acceptance day, once planned.
    pub accepted_on: Option<NaiveDate>,
}

impl Plan {
    /// The step `id`.
    pub fn step(&self, id: &str) -> Option<&StepState> {
        self.steps.iter().find(|s| s.step.step_id == id)
    }

    fn step_mut(&mut self, id: &str) -> Option<&mut StepState> {
        self.steps.iter_mut().find(|s| s.step.step_id == id)
    }

    /// Ids of the steps not dispatched yet: the service offers a fresh task
    /// id for each with every [`super::RecordTaskOutcome`].
    pub fn undispatched_steps(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter(|s| s.status == StepStatus::Pending).map(|s| s.step.step_id.as_str())
    }

    /// The steps whose tasks are open.
    pub fn open_steps(&self) -> impl Iterator<Item = &StepState> {
        self.steps.iter().filter(|s| s.status.is_open())
    }

    /// True when some step was denied.
    pub fn has_denial(&self) -> bool {
        self.steps.iter().any(|s| matches!(s.status, StepStatus::Denied { .. }))
    }

    /// True when the case clock is stopped.
    pub fn clock_stopped(&self) -> bool {
        self.clock_stop.is_some()
    }
}

/// Folds one event into the plan.
pub fn evolve(mut plan: Plan, event: &Event) -> Plan {
    match event {
        Event::CasePlanned(e) => {
            plan.status = PlanStatus::Running;
            plan.case_number = Some(e.case_number);
            plan.package_id = Some(e.package_id.clone());
            plan.lead_department = Some(e.lead_department.clone());
            plan.steps = e.steps.iter().map(|s| StepState { step: s.clone(), status: StepStatus::Pending }).collect();
            plan.promised_working_days = e.promised_working_days;
            plan.promised_by = Some(e.promised_by);
            plan.accepted_on = Some(e.accepted_on);
        }
        Event::StepDispatched(e) => {
            if let Some(s) = plan.step_mut(&e.step_id) {
                s.status = StepStatus::Dispatched { task_id: e.task_id };
            }
        }
        Event::StepOutcomeRecorded(e) => {
            if let Some(s) = plan.step_mut(&e.step_id) {
                let task_id = e.task_id;
                s.status = match &e.outcome {
                    StepOutcome::Approved { results } => StepStatus::Approved { task_id, results: results.clone() },
                    StepOutcome::Denied { reason, legal_basis } => {
                        StepStatus::Denied { task_id, reason: reason.clone(), legal_basis: legal_basis.clone() }
                    }
                    StepOutcome::ReturnedForSupplement { supplement_request_id, missing } => {
                        StepStatus::ReturnedForSupplement {
                            task_id,
                            supplement_request_id: supplement_request_id.clone(),
                            missing: missing.clone(),
                        }
                    }
                    StepOutcome::Resumed => StepStatus::Dispatched { task_id },
                };
            }
        }
        Event::CaseClockStopped(e) => {
            plan.clock_stop = Some(ClockStop {
                reason: e.reason,
                task_id: e.task_id,
                supplement_request_id: e.supplement_request_id.clone(),
            });
        }
        Event::CaseClockResumed(e) => {
            plan.clock_stop = None;
            plan.promised_by = Some(e.promised_by);
        }
        Event::CaseDecided(e) => plan.status = PlanStatus::Decided(e.outcome),
        Event::StepCancelled(e) => {
            if let Some(s) = plan.step_mut(&e.step_id) {
                s.status = StepStatus::Cancelled { task_id: e.task_id };
            }
        }
        Event::CaseHandedToIssuance(e) => plan.status = PlanStatus::HandedToIssuance(e.outcome),
        Event::PlanEnded(e) => {
            plan.status = PlanStatus::Ended(e.reason);
            plan.clock_stop = None;
        }
    }
    plan
}

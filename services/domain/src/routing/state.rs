//! The plan's state, folded from its events: the steps and where each is,
//! the case's decision, and the case clock (from 00:00 of the acceptance day,
//! stopped while a task waits on the applicant) with the working-day figures
//! that follow from it on the calendar.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use uuid::Uuid;
use yiciban_calendar::{CaseClock, WorkingCalendar, date_in_china, start_of_day};

use super::command::DecisionFacts;
use super::event::{CancelReason, ClockStopReason, Event, PlannedStep, StepOutcome};
use crate::case::{CaseOutcome, ResultDocument};
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

/// The figures a decision recorded (from its `CaseDecided`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionFigures {
    /// Working days used, stopped time excluded.
    pub working_days_used: u32,
    /// Decided on or before the promised day.
    pub on_time: bool,
}

/// The routing aggregate's state: a case's plan (see the module docs of
/// [`crate::routing`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CasePlan {
    /// Where the plan is.
    pub status: PlanStatus,
    /// Number of events applied (the stream version).
    pub version: u64,
    /// The case number, once planned.
    pub case_number: Option<CaseNumber>,
    /// The package, once planned.
    pub package_id: Option<PackageId>,
    /// The catalog version the plan was made on, once planned.
    pub catalog_version: Option<String>,
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
    /// The case clock, once planned: started at 00:00 of the acceptance day,
    /// stopped and resumed with the clock events.
    pub clock: Option<CaseClock>,
    /// When the case was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The figures of the decision, once decided.
    pub decision: Option<DecisionFigures>,
}

impl CasePlan {
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

    /// Working days used by `now`, stopped time excluded; a started day
    /// counts as used. 0 before the plan exists.
    pub fn working_days_used(&self, calendar: &WorkingCalendar, now: DateTime<Utc>) -> u32 {
        self.clock.as_ref().map_or(0, |c| c.elapsed(now, calendar).value.as_days().ceil() as u32)
    }

    /// The figures of a decision taken `now`, with the documents to be
    /// issued within `issue_days` working days.
    pub fn decision_facts(&self, calendar: &WorkingCalendar, issue_days: u32, now: DateTime<Utc>) -> DecisionFacts {
        let today = date_in_china(now);
        DecisionFacts {
            today,
            working_days_used: self.working_days_used(calendar, now),
            issue_by: calendar.add_working_days_date(today, issue_days).value,
        }
    }

    /// If the clock resumed `now`: the working days it stood still in the
    /// current stop, and the new last day of the promise. While the clock
    /// runs (or before the plan exists): no stop and the promise as it is.
    pub fn resume_facts(&self, calendar: &WorkingCalendar, now: DateTime<Utc>) -> (u32, NaiveDate) {
        let fallback = self.promised_by.unwrap_or_else(|| date_in_china(now));
        let Some(clock) = &self.clock else { return (0, fallback) };
        if clock.is_running() {
            return (0, fallback);
        }
        let stopped_at = clock.last_transition();
        let stopped = calendar.working_days_between(stopped_at, now).value.whole_days().max(0) as u32;
        let mut resumed = clock.clone();
        if resumed.resume(now.max(stopped_at)).is_err() {
            return (stopped, fallback);
        }
        let promised_by =
            resumed.deadline(self.promised_working_days, calendar).map(|d| last_day(d.value)).unwrap_or(fallback);
        (stopped, promised_by)
    }
}

/// The last calendar day of a deadline instant (24:00 of a day belongs to it).
fn last_day(deadline: DateTime<Utc>) -> NaiveDate {
    date_in_china(deadline - TimeDelta::seconds(1))
}

/// Why the case clock stopped, as the clock records it.
fn stop_reason(reason: ClockStopReason) -> String {
    match reason {
        ClockStopReason::Supplement => "补正",
        ClockStopReason::SpecialProcedure => "特别程序",
    }
    .to_owned()
}

/// Stops the clock at `at`. The clock's history stays in time order: decide
/// refuses a command dated before the clock's last transition and emits a
/// stop only while the clock runs, so the clamp below changes nothing for
/// the events it decides; it keeps a stream written otherwise countable.
fn stop_clock(clock: &mut CaseClock, at: DateTime<Utc>, reason: ClockStopReason) {
    if clock.is_running() {
        let at = at.max(clock.last_transition());
        // Cannot fail: the clock runs and `at` is not before its last transition.
        let _ = clock.stop(at, stop_reason(reason));
    }
}

/// Resumes a stopped clock at `at` (a running one is left as it is); see
/// [`stop_clock`] for the clamp.
fn resume_clock(clock: &mut CaseClock, at: DateTime<Utc>) {
    if !clock.is_running() {
        let at = at.max(clock.last_transition());
        // Cannot fail: the clock is stopped and `at` is not before its last transition.
        let _ = clock.resume(at);
    }
}

/// Folds one event into the plan; every event advances the version by one.
pub(super) fn evolve(mut plan: CasePlan, event: &Event) -> CasePlan {
    plan.version += 1;
    match event {
        Event::CasePlanned(e) => {
            plan.status = PlanStatus::Running;
            plan.case_number = Some(e.case_number);
            plan.package_id = Some(e.package_id.clone());
            plan.catalog_version = Some(e.catalog_version.clone());
            plan.lead_department = Some(e.lead_department.clone());
            plan.steps = e.steps.iter().map(|s| StepState { step: s.clone(), status: StepStatus::Pending }).collect();
            plan.promised_working_days = e.promised_working_days;
            plan.promised_by = Some(e.promised_by);
            plan.accepted_on = Some(e.accepted_on);
            plan.clock = Some(CaseClock::start(start_of_day(e.accepted_on)));
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
            if let Some(clock) = plan.clock.as_mut() {
                stop_clock(clock, e.at, e.reason);
            }
        }
        Event::CaseClockResumed(e) => {
            plan.clock_stop = None;
            plan.promised_by = Some(e.promised_by);
            if let Some(clock) = plan.clock.as_mut() {
                resume_clock(clock, e.at);
            }
        }
        Event::CaseDecided(e) => {
            plan.status = PlanStatus::Decided(e.outcome);
            plan.decided_at = Some(e.at);
            plan.decision = Some(DecisionFigures { working_days_used: e.working_days_used, on_time: e.on_time });
        }
        Event::StepCancelled(e) => {
            if let Some(s) = plan.step_mut(&e.step_id) {
                s.status = StepStatus::Cancelled { task_id: e.task_id };
            }
        }
        Event::CaseHandedToIssuance(e) => plan.status = PlanStatus::HandedToIssuance(e.outcome),
        Event::PlanEnded(e) => {
            plan.status = PlanStatus::Ended(e.reason);
            plan.clock_stop = None;
            if let Some(clock) = plan.clock.as_mut() {
                resume_clock(clock, e.at);
            }
        }
    }
    plan
}

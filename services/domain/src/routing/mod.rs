//! The routing aggregate (联办方案): one case's plan stream `plan-<case id>`,
//! whose state is [`CasePlan`]. It plans an accepted case from its package's
//! step graph, dispatches the steps whose prerequisites are approved (steps
//! without any at once, in parallel), reacts to the task outcomes, runs the
//! case clock and decides the case. `decide` and `evolve` ([`Aggregate`])
//! are pure; every fact from outside (the time included) is in the command.
//! The clock is part of the state: the clock events and the decision carry
//! their time, and a command dated before the clock's last transition is
//! refused ([`RoutingError::ClockOutOfOrder`]).
//!
//! # Task ids are facts
//!
//! The aggregate never invents ids. Every command that may dispatch steps
//! carries `task_ids`, a map step id → fresh task id (the service allocates
//! one UUIDv7 per step it offers). For [`PlanCase`] the service offers an id
//! for every step of the package (or at least every step without
//! dependencies); for [`RecordTaskOutcome`] an id for every step of
//! [`CasePlan::undispatched_steps`]. Ids of steps that are not dispatched are
//! ignored; a step to dispatch without an id is refused
//! ([`RoutingError::MissingTaskId`], INVALID_ARGUMENT). A redelivered
//! outcome produces no events, so its fresh ids are simply unused.
//!
//! # Events
//!
//! The proto events of `routing.proto` ([`CasePlanned`], [`StepDispatched`],
//! [`CaseClockStopped`], [`CaseClockResumed`], [`CaseDecided`],
//! [`CaseHandedToIssuance`]) plus two the proto does not have yet:
//! [`StepOutcomeRecorded`] (the plan's own record of a task's outcome, which
//! the plan needs to know what is approved) and [`StepCancelled`] (an open
//! task to cancel after a denial; the process manager cancels the task).
//!
//! # Outcomes
//!
//! - approved: dependents whose prerequisites are now all approved are
//!   dispatched; when every step is approved the case is decided approved
//!   (with every result document) and handed to issuance;
//! - denied: recorded; nothing more is dispatched and the case waits for the
//!   lead department's [`ConfirmDenial`], which decides it denied (every
//!   denial with its reason), cancels every open task and hands the denial
//!   decision to issuance;
//! - returned for supplement (every missing thing at once): the case clock
//!   stops, unless another task already waits on the applicant;
//! - resumed: the task runs again; the clock resumes once no task waits.
//! - revoked (an approval withdrawn after a failed post-check, 承诺不实):
//!   while the case runs the step counts as denied; a decided case is not
//!   reopened.
//!
//! The same outcome delivered again yields no events (`Ok(vec![])`).

mod command;
mod decide;
mod error;
mod event;
mod state;

pub use command::{Command, ConfirmDenial, DecisionFacts, EndPlan, PlanCase, RecordTaskOutcome, TaskIds, TaskOutcome};
pub use decide::{assign_commitments, plan_steps};
pub use error::RoutingError;
pub use event::{
    CancelReason, CaseClockResumed, CaseClockStopped, CaseDecided, CaseHandedToIssuance, CasePlanned, ClockStopReason,
    Event, PlanEnded, PlannedStep, StepCancelled, StepDenial, StepDispatched, StepOutcome, StepOutcomeRecorded,
};
pub use state::{CasePlan, ClockStop, DecisionFigures, PlanStatus, StepState, StepStatus};

use crate::aggregate::Aggregate;
pub use crate::case::{CaseOutcome, ResultDocument, ResultDocumentKind};

impl Aggregate for CasePlan {
    type Command = Command;
    type Event = Event;
    type Error = RoutingError;

    const STREAM: &'static str = "plan";

    fn decide(&self, command: Command) -> Result<Vec<Event>, RoutingError> {
        decide::decide(self, command)
    }

    fn evolve(self, event: &Event) -> Self {
        state::evolve(self, event)
    }

    fn version(&self) -> u64 {
        self.version
    }
}

#[cfg(test)]
mod tests;

//! Where each case event is published — the department token of its
//! subject `<prefix>.evt.<department>.<source>.<case id>.<EventType>.<partition>` — in
//! one table that the owning services' encoders and the generated event
//! catalogue (`docs/EVENTS.md`, `docs/asyncapi.json`) both read, so the
//! contract and the code cannot say different things.
//!
//! Three kinds: an event that concerns one department goes on that
//! department's subject (a task's events, a rating or rectification of a
//! department); a case-level event goes on `_`; and the case-level events a
//! case's lead department (牵头部门) follows — acceptance, plan, clock,
//! decision, hand-over, preparation, closing, termination, withdrawal — go
//! on the lead department's subject instead of `_` when the case's lead is
//! known, so the lead's feed holds them (nothing of other departments' tasks,
//! and never the applicant's personal data of ApplicationSubmitted).

/// Where one event type is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On a department's subject; the text says which department.
    Department(&'static str),
    /// On `_`: no department's feed receives it.
    CaseLevel,
    /// Case-level, published on the case's lead department's subject when
    /// the case's lead department is known (`_` otherwise).
    CaseLevelToLead,
}

/// Every event type not published case-level only; the rest are
/// [`Placement::CaseLevel`].
const PLACEMENTS: &[(&str, Placement)] = &[
    ("ApplicationAccepted", Placement::CaseLevelToLead),
    ("DeficiencyCleared", Placement::CaseLevelToLead),
    ("CaseTerminated", Placement::CaseLevelToLead),
    ("ApplicationWithdrawn", Placement::CaseLevelToLead),
    ("CasePlanned", Placement::CaseLevelToLead),
    ("StepDispatched", Placement::Department("the step's department")),
    ("StepCancelled", Placement::Department("the step's department")),
    ("PlanEnded", Placement::CaseLevelToLead),
    ("CaseClockStopped", Placement::CaseLevelToLead),
    ("CaseClockResumed", Placement::CaseLevelToLead),
    ("CaseDecided", Placement::CaseLevelToLead),
    ("CaseHandedToIssuance", Placement::CaseLevelToLead),
    ("TaskCreated", Placement::Department("the task's department")),
    ("TaskClaimed", Placement::Department("the task's department")),
    ("TaskTransferred", Placement::Department("the task's department")),
    ("TaskApproved", Placement::Department("the task's department")),
    ("TaskDenied", Placement::Department("the task's department")),
    ("TaskReturnedForSupplement", Placement::Department("the task's department")),
    ("TaskResumed", Placement::Department("the task's department")),
    ("TaskWarned", Placement::Department("the task's department")),
    ("TaskEscalated", Placement::Department("the task's department")),
    ("TaskCancelled", Placement::Department("the task's department")),
    ("PostCheckPassed", Placement::Department("the task's department")),
    ("PostCheckFailed", Placement::Department("the task's department")),
    ("ApprovalRevoked", Placement::Department("the task's department")),
    ("TaskUrged", Placement::Department("the task's department")),
    ("IssuancePrepared", Placement::CaseLevelToLead),
    ("CaseClosed", Placement::CaseLevelToLead),
    ("RatingReceived", Placement::Department("the rated department; case-level when the rating names none")),
    ("RatingMarkedInvalid", Placement::Department("the rated department; case-level when the rating named none")),
    ("RectificationOpened", Placement::Department("the responsible department")),
    ("RectificationVerified", Placement::Department("the responsible department")),
    ("RectificationRectified", Placement::Department("the responsible department")),
    ("RectificationExplained", Placement::Department("the responsible department")),
    ("RectificationClosed", Placement::Department("the responsible department")),
];

/// Where events of `event_type` are published.
pub fn placement(event_type: &str) -> Placement {
    PLACEMENTS.iter().find(|(t, _)| *t == event_type).map_or(Placement::CaseLevel, |(_, p)| *p)
}

/// True for the case-level events the case's lead department receives.
pub fn lead_receives(event_type: &str) -> bool {
    placement(event_type) == Placement::CaseLevelToLead
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placed_type_is_an_event_and_placed_once() {
        for (i, (t, _)) in PLACEMENTS.iter().enumerate() {
            assert!(crate::payload::EVENT_TYPES.contains(t), "{t} is not an event type");
            assert!(!PLACEMENTS[..i].iter().any(|(u, _)| u == t), "{t} is placed twice");
        }
    }

    #[test]
    fn personal_data_never_reaches_the_lead() {
        assert_eq!(placement("ApplicationSubmitted"), Placement::CaseLevel);
        assert!(lead_receives("CaseClosed"));
        assert!(!lead_receives("TaskApproved"));
        assert!(!lead_receives("StepOutcomeRecorded"), "another department's outcome is not the lead's");
    }
}

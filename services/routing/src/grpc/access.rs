//! Who may read which plan: clerks, supervisors, administrators and
//! services every plan; an officer the plans of the cases assigned to them
//! (asked of intake, see [`yiciban_platform::officers::OfficerLookup`]); an
//! agent the plans of the cases its department has a task in or leads.
//! A plan the caller may not see is answered exactly like a case without a
//! plan ([`crate::commands::no_plan`] and [`hidden`] give the same words),
//! so that a refusal tells nothing about other people's cases; applicants
//! (who follow their case at intake) are refused by role.

use tonic::Status;
use uuid::Uuid;
use yiciban_commands::EventCodec as _;
use yiciban_domain::routing::{CasePlan, StepStatus};
use yiciban_platform::access::hidden;
use yiciban_platform::{Caller, Role};

use crate::Routing;
use crate::commands::{PlanCodec, load_planned};

/// Whether an agent of `own` takes part in the plan: a step of its
/// department was dispatched (it has a task), or its department leads.
pub fn agent_takes_part(own: &str, plan: &CasePlan) -> bool {
    !own.is_empty()
        && (plan.lead_department.as_ref().is_some_and(|lead| lead.as_str() == own)
            || plan.steps.iter().any(|s| s.step.department.as_str() == own && s.status != StepStatus::Pending))
}

/// The plan of `case_id` if the caller may see it; `NOT_FOUND` in the same
/// words whether the case has no plan or is someone else's.
///
/// An officer's assignment is checked before the plan is read, so that when
/// intake cannot say, the `UNAVAILABLE` is the same for every case id.
pub async fn readable_plan(routing: &Routing, caller: &Caller, case_id: Uuid) -> Result<CasePlan, Status> {
    let case = case_id.to_string();
    match caller.role {
        Role::Clerk | Role::Supervisor | Role::Admin | Role::Service => load_planned(&routing.plans, case_id).await,
        Role::Agent => {
            let plan = load_planned(&routing.plans, case_id).await?;
            if agent_takes_part(caller.department.as_deref().unwrap_or_default(), &plan) {
                Ok(plan)
            } else {
                Err(hidden(&case, PlanCodec::NOUN, "the agent's department takes no part in this case"))
            }
        }
        Role::Officer if routing.officers.is_officer_of(caller, case_id).await? => {
            load_planned(&routing.plans, case_id).await
        }
        Role::Officer => Err(hidden(&case, PlanCodec::NOUN, "the officer is not assigned to this case")),
        Role::Applicant => Err(Status::permission_denied("applicants follow their case at intake, not its plan")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::no_plan;

    #[test]
    fn a_case_without_a_plan_reads_exactly_like_a_hidden_plan() {
        let id = Uuid::now_v7();
        let missing = no_plan(id);
        let refused = hidden(&id.to_string(), PlanCodec::NOUN, "not assigned");
        assert_eq!((missing.code(), missing.message()), (refused.code(), refused.message()));
    }

    #[test]
    fn an_agent_without_a_department_takes_part_in_nothing() {
        assert!(!agent_takes_part("", &CasePlan::default()));
        assert!(!agent_takes_part("samr", &CasePlan::default()));
    }
}

//! Who may read which case and list: clerks, supervisors and services read
//! every case; an officer the cases assigned to them; an agent the cases
//! with a task of its department (or led by it); an applicant its own case,
//! recognised by the lookup value of the identity claim. A case the caller may
//! not read is NOT_FOUND, exactly like a case that does not exist, so that
//! refusals tell nothing about other people's cases.

use tonic::Status;
use yiciban_platform::{Caller, IdentityKey, Role};

use crate::projection::CaseView;

/// The NOT_FOUND of an unknown or unreadable case.
pub fn case_not_found(what: &str) -> Status {
    Status::not_found(format!("no case {what} is visible to the caller"))
}

/// `Ok` when `caller` may read `view`, NOT_FOUND when the case is someone
/// else's, PERMISSION_DENIED for roles that read no cases here.
pub fn may_read(caller: &Caller, view: &CaseView, identity_key: &IdentityKey, what: &str) -> Result<(), Status> {
    let allowed = match caller.role {
        Role::Clerk | Role::Supervisor | Role::Service => true,
        Role::Officer => !view.officer_id.is_empty() && view.officer_id == caller.subject,
        Role::Agent => caller
            .department
            .as_deref()
            .is_some_and(|own| view.lead_department == own || view.tasks.values().any(|t| t.department == own)),
        Role::Applicant => identity_key.claimed_by(caller, &view.applicant_key),
        Role::Admin => {
            return Err(Status::permission_denied(
                "an admin does not read cases; this needs one of: clerk, officer, agent, supervisor, applicant, service",
            ));
        }
    };
    if allowed { Ok(()) } else { Err(case_not_found(what)) }
}

/// The department an agent's lists are limited to: its own; asking for
/// another is PERMISSION_DENIED. Other roles get what they asked for (None
/// when they asked for nothing).
pub fn list_department(caller: &Caller, asked: &str, what: &str) -> Result<Option<String>, Status> {
    let asked = asked.trim();
    if caller.role != Role::Agent {
        return Ok(Some(asked.to_owned()).filter(|d| !d.is_empty()));
    }
    let own = caller.department.clone().unwrap_or_default();
    if asked.is_empty() || asked == own {
        Ok(Some(own))
    } else {
        Err(Status::permission_denied(format!(
            "an agent of {own:?} reads only its own department's {what}, not {asked:?}"
        )))
    }
}

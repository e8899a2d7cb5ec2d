//! Who may read which case and list: clerks, supervisors and services read
//! every case; an officer the cases assigned to them; an agent the cases
//! with a task of its department (or led by it); an applicant its own case,
//! recognised by the lookup value of the identity claim. A case the caller may
//! not read is NOT_FOUND, in exactly the words of a case that does not exist
//! ([`case_not_found`], [`hidden`]), so that refusals tell nothing about
//! other people's cases; the refusal is recorded. Lists are filtered the
//! same way: an agent's to its own department, an officer's to their own
//! cases ([`ListScope`]).

use tonic::Status;
use yiciban_platform::access::hidden;
use yiciban_platform::{Caller, IdentityKey, Role};

use crate::projection::CaseView;

/// What a case is called in a refusal ("case <id or number> not found").
const CASE: &str = "case";

/// The NOT_FOUND of an unknown case: the same words as a hidden one.
pub fn case_not_found(what: &str) -> Status {
    Status::not_found(format!("{CASE} {what} not found"))
}

/// `Ok` when `caller` may read `view`, NOT_FOUND when the case is someone
/// else's, PERMISSION_DENIED for roles that read no cases here.
pub fn may_read(caller: &Caller, view: &CaseView, identity_key: &IdentityKey, what: &str) -> Result<(), Status> {
    let refused = match caller.role {
        Role::Clerk | Role::Supervisor | Role::Service => None,
        Role::Officer => (view.officer_id.is_empty() || view.officer_id != caller.subject)
            .then_some("the officer is not assigned to this case"),
        Role::Agent => (!caller
            .department
            .as_deref()
            .is_some_and(|own| view.lead_department == own || view.tasks.values().any(|t| t.department == own)))
        .then_some("the agent's department takes no part in this case"),
        Role::Applicant => {
            (!identity_key.claimed_by(caller, &view.applicant_key)).then_some("the case is not the applicant's own")
        }
        Role::Admin => {
            return Err(Status::permission_denied(
                "an admin does not read cases; this needs one of: clerk, officer, agent, supervisor, applicant, service",
            ));
        }
    };
    match refused {
        None => Ok(()),
        Some(reason) => Err(hidden(what, CASE, reason)),
    }
}

/// Whose tasks a department queue or the overdue board lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListScope {
    /// Only this department's tasks (an agent: always its own).
    pub department: Option<String>,
    /// Only tasks of the cases assigned to this officer (an officer: always
    /// themself).
    pub officer: Option<String>,
}

/// The scope of a task list asked for `asked` department by `caller`: an
/// agent its own department only (another is PERMISSION_DENIED), an officer
/// only the cases assigned to them, others what they asked.
pub fn list_scope(caller: &Caller, asked: &str, what: &str) -> Result<ListScope, Status> {
    let department = list_department(caller, asked, what)?;
    let officer = (caller.role == Role::Officer).then(|| caller.subject.clone());
    Ok(ListScope { department, officer })
}

/// The department an agent's lists are limited to: its own; asking for
/// another is PERMISSION_DENIED. Other roles get what they asked for (None
/// when they asked for nothing).
fn list_department(caller: &Caller, asked: &str, what: &str) -> Result<Option<String>, Status> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, subject: &str, department: Option<&str>) -> Caller {
        Caller {
            subject: subject.into(),
            role,
            department: department.map(Into::into),
            applicant_key: None,
            cause: None,
        }
    }

    #[test]
    fn an_unknown_case_reads_exactly_like_a_hidden_one() {
        let missing = case_not_found("0190c1e2-0000-7000-8000-000000000001");
        let refused = hidden("0190c1e2-0000-7000-8000-000000000001", CASE, "not assigned");
        assert_eq!((missing.code(), missing.message()), (refused.code(), refused.message()));
    }

    #[test]
    fn lists_are_limited_to_the_agents_department_and_the_officers_cases() {
        let agent = caller(Role::Agent, "agent-samr-1", Some("samr"));
        let scope = list_scope(&agent, "", "queue").unwrap();
        assert_eq!(scope, ListScope { department: Some("samr".into()), officer: None });
        let e = list_scope(&agent, "police", "queue").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        let officer = caller(Role::Officer, "officer-001", None);
        let scope = list_scope(&officer, "samr", "queue").unwrap();
        assert_eq!(scope, ListScope { department: Some("samr".into()), officer: Some("officer-001".into()) });
        let supervisor = caller(Role::Supervisor, "sup-001", None);
        assert_eq!(list_scope(&supervisor, "", "board").unwrap(), ListScope::default());
    }
}

//! Which cases a caller may see and act on, beyond the role the access-rule
//! table already checked: clerks, administrators and services every case,
//! supervisors every case masked, an officer only the cases assigned to
//! them, an agent only cases in which its department has a task, an
//! applicant only its own. A case outside the caller's scope is answered
//! with [`access::hidden`], worded exactly like a case that does not exist
//! ([`case_not_found`]).

use tonic::Status;
use uuid::Uuid;
use yiciban_platform::{Caller, Role, access};
use yiciban_proto::tasks::v1 as tasks;

use crate::Intake;
use crate::repo::IndexedCase;

/// The answer for a case that does not exist, worded exactly as
/// [`access::hidden`] words a case the caller may not see.
pub fn case_not_found(case_id: Uuid) -> Status {
    Status::not_found(format!("case {case_id} not found"))
}

/// How a caller in scope sees the case's personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// In clear: the applicant itself, clerks, administrators, services.
    Clear,
    /// Masked: supervisors, the assigned officer, agents with a task.
    Masked,
}

/// What the scope of a caller depends on besides its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The caller's identity is the case's applicant's.
    pub owns: bool,
    /// The caller's department has a task in the case (asked only for agents).
    pub department_took_part: bool,
}

/// The decision: the view of a caller in scope, or the hidden refusal.
pub fn decide(caller: &Caller, case: &IndexedCase, standing: Standing) -> Result<View, Status> {
    let hidden = |reason| Err(access::hidden(&case.case_id.to_string(), "case", reason));
    match caller.role {
        Role::Clerk | Role::Admin | Role::Service => Ok(View::Clear),
        Role::Supervisor => Ok(View::Masked),
        Role::Officer if case.officer_id.as_deref() == Some(caller.subject.as_str()) => Ok(View::Masked),
        Role::Officer => hidden("officer not assigned to the case"),
        Role::Applicant if standing.owns => Ok(View::Clear),
        Role::Applicant => hidden("applicant does not own the case"),
        Role::Agent if standing.department_took_part => Ok(View::Masked),
        Role::Agent => hidden("agent's department has no task in the case"),
    }
}

/// The case's index row and how `caller` sees it: [`case_not_found`] for an
/// unknown case, hidden for one outside the caller's scope. For an agent the
/// task service is asked (as the intake service) which departments have a
/// task; when it cannot answer, the call fails (UNAVAILABLE), never opens.
pub async fn visible(intake: &Intake, caller: &Caller, case_id: Uuid) -> Result<(IndexedCase, View), Status> {
    let case = crate::repo::find_case(intake.pool(), intake.schema(), case_id)
        .await
        .map_err(|e| yiciban_platform::status::internal("looking up the case", &e))?
        .ok_or_else(|| case_not_found(case_id))?;
    let owns = caller.role == Role::Applicant && intake.identity_key.claimed_by(caller, &case.applicant_key);
    let department_took_part = match (caller.role, caller.department.as_deref()) {
        (Role::Agent, Some(department)) if !department.is_empty() => {
            case_tasks(intake, case_id).await?.iter().any(|t| t.department == department)
        }
        _ => false,
    };
    let view = decide(caller, &case, Standing { owns, department_took_part })?;
    Ok((case, view))
}

/// The case's tasks, from the task service (asked as the intake service):
/// which department holds which step. UNAVAILABLE when it cannot answer —
/// a scope that depends on it fails closed, never opens.
pub async fn case_tasks(intake: &Intake, case_id: Uuid) -> Result<Vec<tasks::Task>, Status> {
    let listed = intake
        .tasks
        .clone()
        .list_case_tasks(tasks::ListCaseTasksRequest { case_id: case_id.to_string() })
        .await
        .map_err(|s| {
            tracing::warn!(%case_id, code = ?s.code(), "the task service could not say which departments take part");
            Status::unavailable(
                "the department-task service could not be asked what your department holds in this case; try again",
            )
        })?;
    Ok(listed.into_inner().tasks)
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

    fn case(officer: Option<&str>) -> IndexedCase {
        IndexedCase {
            case_id: Uuid::now_v7(),
            case_number: "YCB-20260316-000001".into(),
            package_id: "open-restaurant".into(),
            applicant_key: "k".into(),
            officer_id: officer.map(Into::into),
            status: "accepted".into(),
            open: true,
            deficiency_deadline: None,
            version: 1,
        }
    }

    const NONE: Standing = Standing { owns: false, department_took_part: false };

    #[test]
    fn a_case_outside_the_scope_reads_exactly_like_a_missing_one() {
        let c = case(Some("officer-001"));
        let missing = case_not_found(c.case_id);
        for who in [
            caller(Role::Officer, "officer-002", None),
            caller(Role::Agent, "agent-fire-1", Some("fire")),
            caller(Role::Applicant, "citizen-9", None),
        ] {
            let refused = decide(&who, &c, NONE).unwrap_err();
            assert_eq!((refused.code(), refused.message()), (missing.code(), missing.message()), "{who:?}");
            assert!(refused.metadata().get(access::REFUSAL_KEY).is_some(), "recorded as a refusal");
        }
    }

    #[test]
    fn each_role_sees_its_own_scope_clear_or_masked() {
        let c = case(Some("officer-001"));
        assert_eq!(decide(&caller(Role::Clerk, "clerk-001", None), &c, NONE).unwrap(), View::Clear);
        assert_eq!(decide(&caller(Role::Service, "tasks", None), &c, NONE).unwrap(), View::Clear);
        assert_eq!(decide(&caller(Role::Supervisor, "sup-001", None), &c, NONE).unwrap(), View::Masked);
        assert_eq!(decide(&caller(Role::Officer, "officer-001", None), &c, NONE).unwrap(), View::Masked);
        let took_part = Standing { owns: false, department_took_part: true };
        assert_eq!(decide(&caller(Role::Agent, "agent-samr-1", Some("samr")), &c, took_part).unwrap(), View::Masked);
        let owns = Standing { owns: true, department_took_part: false };
        assert_eq!(decide(&caller(Role::Applicant, "citizen-1", None), &c, owns).unwrap(), View::Clear);
        // A case without an officer is no officer's.
        assert!(decide(&caller(Role::Officer, "officer-001", None), &case(None), NONE).is_err());
    }
}

//! Who may read and act on which task. An agent reads and acts only on its
//! own department's tasks (and reads the tasks of cases its department
//! leads); officers, supervisors, clerks, admins and services read all;
//! commands name their roles in the RPCs.

use tonic::Status;
use yiciban_domain::tasks::Task;
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::{Caller, Role};

/// The calling agent's department; `PERMISSION_DENIED` for other roles.
pub fn agent_department(caller: &Caller, action: &str) -> Result<DepartmentCode, Status> {
    caller.require(&[Role::Agent], action)?;
    caller
        .department
        .as_deref()
        .and_then(|d| DepartmentCode::parse(d).ok())
        .ok_or_else(|| Status::permission_denied("the agent's token names no valid department"))
}

/// `PERMISSION_DENIED` unless the caller is an agent of the task's
/// department (or of one of `also` departments).
pub fn require_agent_of(caller: &Caller, task: &Task, also: &[&str], action: &str) -> Result<(), Status> {
    let own = agent_department(caller, action)?;
    let department = task.department().unwrap_or_default();
    if own.as_str() == department || also.contains(&own.as_str()) {
        return Ok(());
    }
    Err(Status::permission_denied(format!(
        "task belongs to department {department:?}; an agent of {:?} may not {action} it (agents act only on their own department's tasks)",
        own.as_str()
    )))
}

/// `PERMISSION_DENIED` unless the caller may read the task.
pub fn may_read(caller: &Caller, task: &Task) -> Result<(), Status> {
    let (department, lead) = match &task.created {
        Some(c) => (c.department.as_str(), c.lead_department.as_str()),
        None => ("", ""),
    };
    match caller.role {
        Role::Officer | Role::Supervisor | Role::Clerk | Role::Admin | Role::Service => Ok(()),
        Role::Agent => {
            let own = caller.department.as_deref().unwrap_or_default();
            if own == department || own == lead {
                Ok(())
            } else {
                Err(Status::permission_denied(format!(
                    "task belongs to department {department:?}; an agent of {own:?} reads only its own department's tasks"
                )))
            }
        }
        Role::Applicant => Err(Status::permission_denied("applicants follow their case at intake, not its tasks")),
    }
}

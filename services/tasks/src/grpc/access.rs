//! Who may see and act on which task. An agent sees the tasks of its own
//! department, every task of a case its department leads, and the tasks
//! whose commitments its department post-checks; it acts only on its own
//! department's tasks (and post-checks those it checks). An officer sees
//! the tasks of the cases assigned to them (asked of intake, see
//! [`OfficerLookup`](yiciban_platform::officers::OfficerLookup)); clerks,
//! supervisors, administrators and services see every task.
//!
//! A task the caller may not see is answered exactly like a task that does
//! not exist ([`task_not_found`] and [`hidden`] give the same words), so
//! that a refusal tells nothing about other departments' or officers'
//! cases; refusing an action on a task the caller does see, or a role that
//! reads no tasks at all, stays `PERMISSION_DENIED`.

use tonic::Status;
use uuid::Uuid;
use yiciban_commands::Loaded;
use yiciban_domain::tasks::Task;
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::access::hidden;
use yiciban_platform::{Caller, Role};
use yiciban_proto::tasks::v1 as pb;

use crate::Tasks;

/// What a refused task is called in the answer ("task <id> not found").
const TASK: &str = "task";

/// `NOT_FOUND` for a task that does not exist: the same words as a hidden
/// one.
pub fn task_not_found(task_id: Uuid) -> Status {
    Status::not_found(format!("{TASK} {task_id} not found"))
}

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
/// department (or of one of `also` departments). Called on a task the
/// caller sees (see [`visible_task`]).
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

/// Whether an agent of `own` sees a task of `department` in a case led by
/// `lead`, with commitments post-checked by `checkers`.
fn agent_sees<'a>(own: &str, department: &str, lead: &str, mut checkers: impl Iterator<Item = &'a str>) -> bool {
    !own.is_empty() && (own == department || own == lead || checkers.any(|c| c == own))
}

/// Whether an agent sees `task` (its department's, its case led by the
/// agent's department, or post-checked by it).
fn agent_sees_task(caller: &Caller, task: &Task) -> bool {
    let own = caller.department.as_deref().unwrap_or_default();
    task.created.as_ref().is_some_and(|c| {
        agent_sees(
            own,
            c.department.as_str(),
            c.lead_department.as_str(),
            c.commitments.iter().map(|k| k.post_check_department.as_str()),
        )
    })
}

/// Whether an agent sees the listed `task` (same rule as for a loaded one).
fn agent_sees_message(caller: &Caller, task: &pb::Task) -> bool {
    let own = caller.department.as_deref().unwrap_or_default();
    agent_sees(
        own,
        &task.department,
        &task.lead_department,
        task.commitments.iter().map(|k| k.post_check_department.as_str()),
    )
}

/// The task `task_id` if the caller may see it; `NOT_FOUND` in the same
/// words whether it does not exist or is someone else's; `PERMISSION_DENIED`
/// for an applicant (applicants follow their case at intake).
pub async fn visible_task(tasks: &Tasks, caller: &Caller, task_id: Uuid) -> Result<Loaded<Task>, Status> {
    if caller.role == Role::Officer {
        // Without intake, refused alike for every id, before anything is read.
        tasks.officers.ready()?;
    }
    let loaded = tasks.runner.load(task_id).await?.ok_or_else(|| task_not_found(task_id))?;
    let id = task_id.to_string();
    match caller.role {
        Role::Clerk | Role::Supervisor | Role::Admin | Role::Service => Ok(loaded),
        Role::Agent if agent_sees_task(caller, &loaded.state) => Ok(loaded),
        Role::Agent => Err(hidden(&id, TASK, "the agent's department has no part in this task")),
        Role::Officer if tasks.officers.is_officer_of(caller, loaded.case_id).await? => Ok(loaded),
        Role::Officer => Err(hidden(&id, TASK, "the officer is not assigned to this task's case")),
        Role::Applicant => Err(Status::permission_denied("applicants follow their case at intake, not its tasks")),
    }
}

/// Whether `caller` may list the tasks of `case_id` at all: an officer only
/// those of a case assigned to them (asked of intake before anything is
/// read, so that an outage answers alike for every case), everybody else
/// yes (agents are filtered by [`visible_case_tasks`]).
/// `PERMISSION_DENIED` for an applicant.
pub async fn may_list_case(tasks: &Tasks, caller: &Caller, case_id: Uuid) -> Result<bool, Status> {
    match caller.role {
        Role::Officer => tasks.officers.is_officer_of(caller, case_id).await,
        Role::Applicant => Err(Status::permission_denied("applicants follow their case at intake, not its tasks")),
        _ => Ok(true),
    }
}

/// The tasks an agent sees among `all` of a case (those of its department
/// or post-checked by it, all when its department leads the case), and
/// whether some were withheld while none is seen (a refusal to record);
/// other callers allowed to list the case see them all.
pub fn visible_case_tasks(caller: &Caller, all: Vec<pb::Task>) -> (Vec<pb::Task>, Option<&'static str>) {
    if caller.role != Role::Agent {
        return (all, None);
    }
    let before = all.len();
    let seen: Vec<_> = all.into_iter().filter(|t| agent_sees_message(caller, t)).collect();
    let withheld = before > 0 && seen.is_empty();
    (seen, withheld.then_some("the agent's department has no part in this case"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_task_reads_exactly_like_a_hidden_one() {
        let id = Uuid::now_v7();
        let missing = task_not_found(id);
        let refused = hidden(&id.to_string(), TASK, "another department's task");
        assert_eq!((missing.code(), missing.message()), (refused.code(), refused.message()));
    }

    #[test]
    fn an_agent_sees_its_own_led_and_post_checked_tasks_only() {
        let none = std::iter::empty::<&str>;
        assert!(agent_sees("samr", "samr", "police", none()));
        assert!(agent_sees("police", "samr", "police", none()));
        assert!(agent_sees("fire", "samr", "police", ["fire"].into_iter()));
        assert!(!agent_sees("health", "samr", "police", ["fire"].into_iter()));
        assert!(!agent_sees("", "", "", none()), "an agent without a department sees nothing");
    }

    #[test]
    fn listed_tasks_follow_the_same_rule() {
        let agent = |d: &str| Caller {
            subject: "agent".into(),
            role: Role::Agent,
            department: Some(d.into()),
            applicant_key: None,
            cause: None,
        };
        let task = pb::Task {
            department: "samr".into(),
            lead_department: "police".into(),
            commitments: vec![yiciban_proto::common::v1::Commitment {
                post_check_department: "fire".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        for (department, sees) in [("samr", true), ("police", true), ("fire", true), ("health", false)] {
            assert_eq!(agent_sees_message(&agent(department), &task), sees, "{department}");
        }
    }
}

//! `/inbox`: a department's open tasks with the filters, the clock and the
//! warnings, and the claim form of each task the person may claim.

use askama::Template;
use yiciban_platform::Role;
use yiciban_proto::common::v1::TaskState;
use yiciban_proto::tasks::v1::{ListInboxResponse, Task};

use super::filters::{Filters, StateFilter, WarningFilter};
use super::{Layout, format};
use crate::Names;
use crate::sessions::Person;

/// An option of a filter's select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The claim form of one task.
#[derive(Debug, Clone)]
pub struct ClaimForm {
    pub action: String,
    /// The task stream version shown: a colleague's claim in between is
    /// refused by the service (ABORTED), not overwritten.
    pub version: u64,
    /// The idempotency key of this form: a double submit claims once.
    pub key: String,
}

/// One task of the list.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub task_id: String,
    pub href: String,
    pub case_number: String,
    pub item_name: String,
    pub package: String,
    pub department: String,
    pub state: &'static str,
    pub clock: String,
    pub due: String,
    pub warning: Option<(&'static str, &'static str)>,
    pub assignee: String,
    pub claim: Option<ClaimForm>,
    /// "已督办 N 次" once the case officer urged the department; else empty.
    pub urged: String,
    /// The service's refusal of the last action on this task.
    pub error: Option<String>,
}

impl InboxRow {
    /// The row of `task` for `person`: the claim form only for an agent of
    /// the task's own department on a pending task (the service decides;
    /// the form is not offered where it would only be refused).
    pub fn new(task: &Task, person: &Person, names: &Names) -> InboxRow {
        let claimable = person.role == Role::Agent
            && person.department.as_deref() == Some(task.department.as_str())
            && task.state == TaskState::Pending as i32;
        InboxRow {
            href: format!("/tasks/{}", task.task_id),
            task_id: task.task_id.clone(),
            case_number: task.case_number.clone(),
            item_name: task.item_name.clone(),
            package: names.package(&task.package_id),
            department: names.department(&task.department),
            state: format::state(task.state),
            clock: format::clock(task),
            due: format::date(task.due_by.as_ref()),
            warning: format::warning(task.warning),
            assignee: task.assignee.clone(),
            claim: claimable.then(|| ClaimForm {
                action: format!("/tasks/{}/claim", task.task_id),
                version: task.version,
                key: yiciban_platform::auth::pkce::random_token(),
            }),
            urged: urged(task.urge_count),
            error: None,
        }
    }
}

/// How often the case officer urged the department (督办), worded; empty
/// when never.
pub fn urged(count: u32) -> String {
    if count == 0 { String::new() } else { format!("已督办 {count} 次") }
}

/// The inbox page.
#[derive(Debug, Template)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub layout: Layout,
    /// Whose inbox: the department's name, empty when none is chosen yet.
    pub department: String,
    /// Non-agents choose the department.
    pub departments: Option<Vec<Choice>>,
    pub states: Vec<Choice>,
    pub warnings: Vec<Choice>,
    pub packages: Vec<Choice>,
    pub rows: Vec<InboxRow>,
    pub total: u32,
    pub next_page: Option<String>,
    /// Only the person's own tasks.
    pub mine: bool,
    /// The filters' query, for the claim forms to come back to.
    pub back: String,
    /// A message about the whole list (a refused filter, a refused list).
    pub error: Option<String>,
}

fn choices<T>(all: &[T], selected: T, value: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<Choice>
where
    T: Copy + PartialEq,
{
    all.iter()
        .map(|&c| Choice { value: value(c).to_owned(), label: label(c).to_owned(), selected: c == selected })
        .collect()
}

impl InboxPage {
    /// The page for `filters`, with the tasks of `answer` (none when the
    /// list was refused: `error` says why).
    pub fn new(
        layout: Layout,
        person: &Person,
        filters: &Filters,
        answer: Option<&ListInboxResponse>,
        names: &Names,
    ) -> InboxPage {
        let role = person.role;
        let own_department = person.department.as_deref().filter(|_| role == Role::Agent);
        let department_code = own_department.unwrap_or(&filters.department);
        let departments = (role != Role::Agent).then(|| {
            names
                .departments
                .iter()
                .map(|(code, name)| Choice {
                    value: code.clone(),
                    label: name.clone(),
                    selected: *code == filters.department,
                })
                .collect()
        });
        let mut packages =
            vec![Choice { value: String::new(), label: "全部事项".into(), selected: filters.package.is_empty() }];
        packages.extend(names.packages.iter().map(|(id, name)| Choice {
            value: id.clone(),
            label: name.clone(),
            selected: *id == filters.package,
        }));
        let rows =
            answer.map(|a| a.tasks.iter().map(|t| InboxRow::new(t, person, names)).collect()).unwrap_or_default();
        let next_page = answer
            .filter(|a| !a.next_page_token.is_empty())
            .map(|a| Filters { page: a.next_page_token.clone(), ..filters.clone() }.href(true));
        InboxPage {
            layout,
            department: if department_code.is_empty() { String::new() } else { names.department(department_code) },
            departments,
            states: choices(&StateFilter::ALL, filters.state, StateFilter::as_str, StateFilter::label),
            warnings: choices(&WarningFilter::ALL, filters.warning, WarningFilter::as_str, WarningFilter::label),
            packages,
            rows,
            total: answer.map_or(0, |a| a.total_count),
            next_page,
            mine: filters.mine,
            back: filters.query(true),
            error: None,
        }
    }

    /// Puts the service's refusal next to the task it was about (or above
    /// the list when the task is not on this page).
    pub fn refused(mut self, task_id: &str, message: String) -> InboxPage {
        match self.rows.iter_mut().find(|r| r.task_id == task_id) {
            Some(row) => row.error = Some(message),
            None => self.error = Some(message),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, department: Option<&str>) -> Person {
        Person { subject: "p".into(), role, department: department.map(Into::into), display_name: "p".into() }
    }

    #[test]
    fn only_an_agent_of_the_tasks_own_department_is_offered_the_claim_of_a_pending_task() {
        let names = Names::default();
        let mut task = Task {
            task_id: "t".into(),
            department: "samr".into(),
            state: TaskState::Pending as i32,
            version: 3,
            ..Default::default()
        };
        let row = InboxRow::new(&task, &person(Role::Agent, Some("samr")), &names);
        let claim = row.claim.expect("offered");
        assert_eq!((claim.action.as_str(), claim.version, claim.key.len()), ("/tasks/t/claim", 3, 43));
        for other in [person(Role::Agent, Some("fire")), person(Role::Supervisor, None), person(Role::Clerk, None)] {
            assert!(InboxRow::new(&task, &other, &names).claim.is_none(), "{other:?}");
        }
        task.state = TaskState::InProgress as i32;
        assert!(InboxRow::new(&task, &person(Role::Agent, Some("samr")), &names).claim.is_none());
    }
}

//! `/cases/{case}`: one case as tracking, routing and the task service
//! show it to the person — the summary and its clock, what the applicant
//! owes, the routing plan (every step, what it waits for, which department
//! holds it, joined with its task from ListCaseTasks), the clock stops and
//! the whole timeline; and the forms of [`super::officer`] (督办 on an open
//! step, 改派专办员).

use askama::Template;
use yiciban_platform::Role;
use yiciban_proto::common::v1::TaskState;
use yiciban_proto::intake::v1::CaseNote;
use yiciban_proto::routing::v1::{Plan, PlanStep, StepState};
use yiciban_proto::tasks::v1::Task;
use yiciban_proto::tracking::v1::{CaseSummary, TimelineEntry};

use super::decide::ActionForm;
use super::lanes::{LaneRow, Lanes};
use super::officer::{self, CaseAction, CaseAttempt};
use super::worklist::{HolderView, case_clock, owed};
use super::{Layout, format};
use crate::Names;

/// The case's facts.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub case_id: String,
    pub case_number: String,
    pub package: String,
    pub applicant: String,
    pub stage: &'static str,
    pub lead_department: String,
    /// "name（login）", the login alone, or empty.
    pub officer: String,
    pub submitted_at: String,
    pub accepted_on: String,
    pub promised_by: String,
    pub clock: String,
    pub warning: Option<(&'static str, &'static str)>,
    pub closed_at: String,
    pub owed: Vec<String>,
    pub holders: Vec<HolderView>,
}

impl CaseFacts {
    pub fn new(s: &CaseSummary, names: &Names) -> CaseFacts {
        let officer = match (s.officer_name.is_empty(), s.officer_id.is_empty()) {
            (_, true) => String::new(),
            (true, false) => s.officer_id.clone(),
            (false, false) => format!("{}（{}）", s.officer_name, s.officer_id),
        };
        CaseFacts {
            case_id: s.case_id.clone(),
            case_number: s.case_number.clone(),
            package: if s.package_name.is_empty() { names.package(&s.package_id) } else { s.package_name.clone() },
            applicant: s.applicant_display.clone(),
            stage: format::case_status(s.status),
            lead_department: names.department(&s.lead_department),
            officer,
            submitted_at: format::timestamp(s.submitted_at.as_ref()),
            accepted_on: format::date(s.accepted_on.as_ref()),
            promised_by: format::date(s.promised_by.as_ref()),
            clock: case_clock(s),
            warning: format::warning(s.warning),
            closed_at: format::timestamp(s.closed_at.as_ref()),
            owed: owed(s),
            holders: s.holders.iter().map(|h| HolderView::new(h, names)).collect(),
        }
    }
}

/// One step of the routing plan as its department task stands.
#[derive(Debug, Clone, Default)]
pub struct StepRow {
    /// The task's page; empty until the step is dispatched.
    pub href: String,
    pub step_id: String,
    pub item_name: String,
    pub department: String,
    /// The steps it waits for: `s1（卫生健康委）`.
    pub waits_for: Vec<String>,
    pub state: &'static str,
    pub assignee: String,
    pub created_at: String,
    pub due: String,
    pub clock: String,
    pub warning: Option<(&'static str, &'static str)>,
    /// What the department asked the applicant for, while waiting.
    pub supplement: Vec<String>,
    pub supplement_due: String,
    /// The step's task; empty until dispatched.
    pub task_id: String,
    /// The task's stream version (the urging's `expected_version`).
    pub version: u64,
    /// The task is open (pending, in progress, waiting for a supplement).
    pub open: bool,
    /// "已督办 N 次", or empty.
    pub urged: String,
    /// The 督办 form, when the person may urge this step's department.
    pub urge: Option<ActionForm>,
}

impl StepRow {
    /// A step with its task (`None` while not dispatched, or when the task
    /// service shows it not to the person).
    fn of_step(step: &PlanStep, plan: &Plan, task: Option<&Task>, names: &Names) -> StepRow {
        let department_of = |id: &str| {
            plan.steps.iter().find(|s| s.step_id == id).map(|s| names.department(&s.department)).unwrap_or_default()
        };
        let mut row = task.map(|t| StepRow::of_task(t, names)).unwrap_or_else(|| StepRow {
            step_id: step.step_id.clone(),
            item_name: step.item_name.clone(),
            department: names.department(&step.department),
            assignee: "—".to_owned(),
            ..StepRow::default()
        });
        row.waits_for = step.depends_on.iter().map(|id| format!("{id}（{}）", department_of(id))).collect();
        if task.is_none() {
            row.state = step_state(step.state);
        }
        row
    }

    fn of_task(task: &Task, names: &Names) -> StepRow {
        StepRow {
            href: format!("/tasks/{}", task.task_id),
            step_id: task.step_id.clone(),
            item_name: task.item_name.clone(),
            department: names.department(&task.department),
            waits_for: Vec::new(),
            state: format::state(task.state),
            assignee: if task.assignee.is_empty() { "—".to_owned() } else { task.assignee.clone() },
            created_at: format::timestamp(task.created_at.as_ref()),
            due: format::date(task.due_by.as_ref()),
            clock: format::clock(task),
            warning: format::warning(task.warning),
            supplement: task.supplement_items.iter().map(|i| i.requirement.clone()).collect(),
            supplement_due: format::date(task.supplement_due_by.as_ref()),
            task_id: task.task_id.clone(),
            version: task.version,
            open: matches!(
                TaskState::try_from(task.state),
                Ok(TaskState::Pending | TaskState::InProgress | TaskState::WaitingForSupplement)
            ),
            urged: super::inbox::urged(task.urge_count),
            urge: None,
        }
    }
}

/// A plan step's progress in words, for a step without a task shown.
fn step_state(state: i32) -> &'static str {
    match StepState::try_from(state).unwrap_or(StepState::Unspecified) {
        StepState::Waiting => "等待前序环节",
        StepState::Dispatched => "已派发",
        StepState::Approved => "准予",
        StepState::Denied => "不予许可",
        StepState::Cancelled => "已取消",
        StepState::Unspecified => "未知",
    }
}

/// The steps of the plan in its order, each with its task; tasks outside
/// the plan (or every task, without a plan) after them.
pub fn steps(plan: Option<&Plan>, tasks: &[Task], names: &Names) -> Vec<StepRow> {
    let mut rows = Vec::new();
    let mut shown = Vec::new();
    if let Some(plan) = plan {
        for step in &plan.steps {
            let task = tasks.iter().find(|t| !step.task_id.is_empty() && t.task_id == step.task_id);
            if let Some(t) = task {
                shown.push(t.task_id.as_str());
            }
            rows.push(StepRow::of_step(step, plan, task, names));
        }
    }
    rows.extend(tasks.iter().filter(|t| !shown.contains(&t.task_id.as_str())).map(|t| StepRow::of_task(t, names)));
    rows
}

/// A stop of the case clock, from the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRow {
    pub from: String,
    /// Empty while still stopped.
    pub until: String,
    pub why: String,
}

/// The clock stops of a timeline: each `CaseClockStopped` until the next
/// `CaseClockResumed`.
pub fn stops(entries: &[TimelineEntry]) -> Vec<StopRow> {
    let mut stops: Vec<StopRow> = Vec::new();
    for e in entries {
        match e.event_type.as_str() {
            "CaseClockStopped" => stops.push(StopRow {
                from: format::timestamp(e.occurred_at.as_ref()),
                until: String::new(),
                why: e.summary.clone(),
            }),
            "CaseClockResumed" => {
                if let Some(open) = stops.iter_mut().rev().find(|s| s.until.is_empty()) {
                    open.until = format::timestamp(e.occurred_at.as_ref());
                }
            }
            _ => {}
        }
    }
    stops
}

/// One entry of the timeline.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub at: String,
    pub department: String,
    pub actor: String,
    pub summary: String,
    pub event_type: String,
    /// Working days since the previous entry.
    pub days: u32,
    /// The row's class: `red`, `yellow`, `stop`, `resume`, `done`, or empty.
    pub mark: &'static str,
}

impl EntryRow {
    /// A note (办件备注) as a timeline row: author and time; an erased
    /// note's text is gone.
    pub fn note(n: &CaseNote) -> EntryRow {
        EntryRow {
            at: format::timestamp(n.written_at.as_ref()),
            department: String::new(),
            actor: format::actor(n.author.as_ref()),
            summary: if n.erased { "（备注已随申请人个人信息删除）".to_owned() } else { n.text.clone() },
            event_type: "办件备注".to_owned(),
            days: 0,
            mark: "note",
        }
    }

    pub fn new(e: &TimelineEntry, names: &Names) -> EntryRow {
        EntryRow {
            at: format::timestamp(e.occurred_at.as_ref()),
            department: if e.department.is_empty() { String::new() } else { names.department(&e.department) },
            actor: format::actor(e.actor.as_ref()),
            summary: e.summary.clone(),
            event_type: e.event_type.clone(),
            days: e.working_days_since_previous,
            mark: mark(e),
        }
    }
}

/// How an entry stands out.
fn mark(e: &TimelineEntry) -> &'static str {
    match e.event_type.as_str() {
        "TaskWarned" if e.summary.contains("红牌") => "red",
        "TaskWarned" => "yellow",
        "TaskEscalated" | "PostCheckFailed" | "ApprovalRevoked" | "TaskDenied" | "CaseTerminated" => "red",
        "CaseClockStopped" | "TaskReturnedForSupplement" => "stop",
        "CaseClockResumed" | "TaskResumed" | "MaterialsSupplemented" => "resume",
        "TaskApproved" | "ApplicationAccepted" | "CaseDecided" | "CaseClosed" => "done",
        _ => "",
    }
}

/// The case page.
#[derive(Debug, Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub layout: Layout,
    pub case: CaseFacts,
    pub steps: Vec<StepRow>,
    /// Why the plan or the tasks could not be read (the services' words).
    pub step_errors: Vec<String>,
    pub stops: Vec<StopRow>,
    /// The timeline, one lane per department.
    pub lanes: Lanes,
    /// The timeline has more entries than shown.
    pub truncated: bool,
    /// The confirmation of the action just done (督办, 改派).
    pub flash: Option<&'static str>,
    /// The 改派专办员 form, for a supervisor or administrator.
    pub reassign: Option<ActionForm>,
    /// The window's pages (补正收件, 出件与评价) are offered: a clerk's.
    pub window: bool,
    /// The 办件备注 form, for a clerk, the officer or a supervisor.
    pub note: Option<ActionForm>,
    /// Why the notes could not be read (intake's words).
    pub notes_error: Option<String>,
}

impl CasePage {
    pub fn new(
        layout: Layout,
        summary: &CaseSummary,
        entries: &[TimelineEntry],
        truncated: bool,
        plan: Result<Plan, String>,
        tasks: Result<Vec<Task>, String>,
        names: &Names,
    ) -> CasePage {
        let step_errors = [plan.as_ref().err(), tasks.as_ref().err()].into_iter().flatten().cloned().collect();
        CasePage {
            layout,
            case: CaseFacts::new(summary, names),
            steps: steps(plan.as_ref().ok(), tasks.as_deref().unwrap_or_default(), names),
            step_errors,
            stops: stops(entries),
            lanes: Lanes::new(summary, entries, names),
            truncated,
            flash: None,
            reassign: None,
            window: false,
            note: None,
            notes_error: None,
        }
    }

    /// The page with the forms `role` may use, a refused one shown again
    /// (`attempt`) and the confirmation of what was just done (`flash`);
    /// `intake_version` is the case stream's version the page shows.
    pub fn with_actions(
        mut self,
        role: Role,
        intake_version: u64,
        attempt: Option<&CaseAttempt>,
        flash: Option<&'static str>,
    ) -> CasePage {
        let case = super::task::segment(&self.case.case_id);
        if officer::may_urge(role) {
            for step in self.steps.iter_mut().filter(|s| s.open && !s.task_id.is_empty()) {
                let action = format!("/cases/{case}/tasks/{}/urge", super::task::segment(&step.task_id));
                step.urge = Some(officer::form(action, step.version, attempt, |a| {
                    a.action == CaseAction::Urge && a.task_id == step.task_id
                }));
            }
        }
        if officer::may_reassign(role) {
            let action = format!("/cases/{case}/officer");
            self.reassign = Some(officer::form(action, intake_version, attempt, |a| a.action == CaseAction::Reassign));
        }
        if officer::may_note(role) {
            let action = format!("/cases/{case}/notes");
            self.note = Some(officer::form(action, 0, attempt, |a| a.action == CaseAction::Note));
        }
        self.flash = flash;
        self
    }

    /// The case's notes merged into the timeline by time (Beijing time,
    /// minute; a note after the entries of its minute), or why they could
    /// not be read.
    pub fn with_notes(mut self, notes: Result<Vec<CaseNote>, String>) -> CasePage {
        match notes {
            Ok(notes) => {
                let rows = &mut self.lanes.rows;
                for n in &notes {
                    let entry = EntryRow::note(n);
                    let at = rows.iter().position(|r| r.entry.at > entry.at).unwrap_or(rows.len());
                    // In the case's own lane, the clock as the entry before it left it.
                    let stopped = at.checked_sub(1).is_some_and(|i| rows[i].stopped);
                    rows.insert(at, LaneRow { entry, col: 1, stopped });
                }
            }
            Err(why) => self.notes_error = Some(why),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event_type: &str, seconds: i64) -> TimelineEntry {
        TimelineEntry {
            event_type: event_type.into(),
            occurred_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            summary: format!("{event_type} 的说明"),
            ..Default::default()
        }
    }

    #[test]
    fn a_clock_stop_lasts_until_the_next_resumption_and_an_open_one_stays_open() {
        // 2026-01-07 10:00 and 2026-01-12 09:00 Beijing time.
        let (stop, resume) = (1_767_751_200, 1_768_179_600);
        let found = stops(&[
            entry("ApplicationAccepted", stop - 100),
            entry("CaseClockStopped", stop),
            entry("CaseClockResumed", resume),
            entry("CaseClockStopped", resume + 86_400),
        ]);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].from.as_str(), found[0].until.as_str()), ("2026-01-07 10:00", "2026-01-12 09:00"));
        assert_eq!(found[1].until, "");
        assert_eq!(mark(&entry("CaseClockStopped", 0)), "stop");
    }

    #[test]
    fn a_waiting_step_names_what_it_waits_for_and_a_dispatched_one_shows_its_task() {
        let step = |id: &str, department: &str, depends_on: &[&str], state: StepState, task_id: &str| PlanStep {
            step_id: id.into(),
            item_name: format!("事项{id}"),
            department: department.into(),
            depends_on: depends_on.iter().map(|s| (*s).to_owned()).collect(),
            state: state as i32,
            task_id: task_id.into(),
            ..Default::default()
        };
        let plan = Plan {
            steps: vec![
                step("s1", "cdc", &[], StepState::Dispatched, "t1"),
                step("s2", "samr", &["s1"], StepState::Waiting, ""),
            ],
            ..Default::default()
        };
        let task = |id: &str, step: &str| Task {
            task_id: id.into(),
            step_id: step.into(),
            department: "cdc".into(),
            assignee: "agent-cdc-1".into(),
            ..Default::default()
        };
        let names = Names::default();
        let rows = steps(Some(&plan), &[task("t1", "s1"), task("t9", "post")], &names);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].href.as_str(), rows[0].assignee.as_str()), ("/tasks/t1", "agent-cdc-1"));
        assert_eq!(
            (rows[1].state, rows[1].waits_for.as_slice()),
            ("等待前序环节", ["s1（cdc）".to_owned()].as_slice())
        );
        assert_eq!((rows[1].href.as_str(), rows[2].step_id.as_str()), ("", "post"));
        assert_eq!(steps(None, &[task("t1", "s1")], &names).len(), 1);
    }
}

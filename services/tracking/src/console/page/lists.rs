//! The list pages: `/worklist` (an officer's open cases) and `/overdue`
//! (the yellow/red board, grouped by department).

use std::collections::BTreeMap;

use askama::Template;
use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;

use super::format::{self, Card, Status};
use super::{Layout, Links};
use crate::projection::Names;

/// `/worklist?officer=`: the form, and the officer's cases once one is named.
#[derive(Debug, Template)]
#[template(path = "worklist.html")]
pub struct WorklistPage {
    pub layout: Layout,
    pub officer: String,
    /// `None` until an officer is named.
    pub list: Option<CaseList>,
}

/// A list of cases and how many there are in all.
#[derive(Debug, Clone)]
pub struct CaseList {
    pub total: u32,
    pub cases: Vec<CaseRow>,
}

/// A case in a list.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub href: String,
    pub number: String,
    pub package: String,
    pub applicant: String,
    pub status: Status,
    pub days_used: u32,
    pub days_promised: u32,
    pub clock_stopped: bool,
    pub promised_by: String,
    /// What the case waits for (deficiencies, the applicant, pick-up).
    pub needs: Vec<String>,
    pub card: Option<Card>,
}

impl WorklistPage {
    /// The page for `officer` (empty: not named yet) with their `list`.
    pub fn new(links: &Links, officer: &str, list: Option<&pb::OfficerWorklistResponse>) -> WorklistPage {
        WorklistPage {
            layout: Layout::new("专人办件", links),
            officer: officer.to_owned(),
            list: list.map(|l| CaseList {
                total: l.total_count,
                cases: l.cases.iter().map(|c| CaseRow::new(links, c)).collect(),
            }),
        }
    }
}

impl CaseRow {
    fn new(links: &Links, c: &pb::CaseSummary) -> CaseRow {
        let mut needs = Vec::new();
        if c.open_deficiencies > 0 {
            needs.push(format!(
                "容缺待补{}项（{}前）",
                c.open_deficiencies,
                format::date(c.next_deficiency_due_by.as_ref())
            ));
        }
        if !c.owed_by_applicant.is_empty() {
            needs.push(format!("等待申请人：{}", c.owed_by_applicant.join("、")));
        }
        if c.status == common::CaseStatus::Issued as i32 {
            needs.push("待领取/送达".to_owned());
        }
        CaseRow {
            href: links.case(&c.case_number),
            number: c.case_number.clone(),
            package: c.package_name.clone(),
            applicant: c.applicant_display.clone(),
            status: Status::of(c.status),
            days_used: c.working_days_used,
            days_promised: c.promised_working_days,
            clock_stopped: c.clock_stopped,
            promised_by: format::date(c.promised_by.as_ref()),
            needs,
            card: Card::of(c.warning),
        }
    }
}

/// `/overdue?department=`: the counts and the warned tasks by department.
#[derive(Debug, Template)]
#[template(path = "overdue.html")]
pub struct OverduePage {
    pub layout: Layout,
    /// The department filter as asked; empty for all the caller may see.
    pub department: String,
    pub red: u32,
    pub yellow: u32,
    /// One group per department, by department code.
    pub groups: Vec<OverdueGroup>,
}

/// The warned tasks of one department.
#[derive(Debug, Clone)]
pub struct OverdueGroup {
    pub name: String,
    pub code: String,
    pub red: usize,
    pub yellow: usize,
    pub rows: Vec<OverdueRow>,
}

/// A warned task.
#[derive(Debug, Clone)]
pub struct OverdueRow {
    pub href: String,
    pub number: String,
    pub item: String,
    pub state: &'static str,
    pub assignee: String,
    pub days_used: u32,
    pub days_promised: u32,
    pub due: String,
    /// Working days past due; 0 for not yet overdue.
    pub overdue_days: u32,
    pub card: Option<Card>,
    /// Whether a supervisor was called in (已督办).
    pub escalated: bool,
}

impl OverduePage {
    /// The board filtered by `department`.
    pub fn new(links: &Links, department: &str, board: &pb::OverdueBoardResponse, names: &Names) -> OverduePage {
        let mut by_department: BTreeMap<&str, Vec<(&pb::TaskRow, &pb::OverdueEntry)>> = BTreeMap::new();
        for e in &board.entries {
            if let Some(t) = &e.task {
                by_department.entry(t.department.as_str()).or_default().push((t, e));
            }
        }
        let groups = by_department
            .into_iter()
            .map(|(code, tasks)| {
                let red = tasks.iter().filter(|(t, _)| t.warning == common::WarningLevel::Red as i32).count();
                OverdueGroup {
                    name: names.department(code).to_owned(),
                    code: code.to_owned(),
                    red,
                    yellow: tasks.len() - red,
                    rows: tasks.into_iter().map(|(t, e)| OverdueRow::new(links, t, e)).collect(),
                }
            })
            .collect();
        OverduePage {
            layout: Layout::new("预警", links),
            department: department.to_owned(),
            red: board.red_count,
            yellow: board.yellow_count,
            groups,
        }
    }
}

impl OverdueRow {
    fn new(links: &Links, t: &pb::TaskRow, e: &pb::OverdueEntry) -> OverdueRow {
        OverdueRow {
            href: links.case(&t.case_number),
            number: t.case_number.clone(),
            item: t.item_name.clone(),
            state: format::task_state(t.state),
            assignee: if t.assignee.is_empty() { "—".to_owned() } else { t.assignee.clone() },
            days_used: t.working_days_used,
            days_promised: t.promised_working_days,
            due: format::date(t.due_by.as_ref()),
            overdue_days: e.overdue_working_days,
            card: Card::of(t.warning),
            escalated: e.escalated,
        }
    }
}

//! `/overdue`: tracking's overdue board (黄牌/红牌), red first, as the
//! service lists it for the person — everything for a supervisor, an
//! officer's own cases, an agent's own department.

use askama::Template;
use yiciban_proto::common::v1::WarningLevel;
use yiciban_proto::tracking::v1::{OverdueBoardRequest, OverdueBoardResponse, OverdueEntry};

use super::filters::{BadFilter, code};
use super::inbox::Choice;
use super::{Layout, format};
use crate::Names;

/// Entries per page.
pub const PAGE_SIZE: u32 = 100;

/// The board's filters as the page's query carries them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OverdueQuery {
    /// A department code; empty for every department the person may see.
    pub department: String,
    /// Red only (`level=red`); yellow and red otherwise.
    pub red_only: bool,
    pub page: String,
}

impl OverdueQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<OverdueQuery, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let red_only = match get("level") {
            "" | "yellow" => false,
            "red" => true,
            _ => return Err(BadFilter { field: "level", reason: "应为 yellow 或 red".into() }),
        };
        Ok(OverdueQuery {
            department: code("department", get("department"), 64)?,
            red_only,
            page: code("page", get("page"), 512)?,
        })
    }

    pub fn request(&self) -> OverdueBoardRequest {
        OverdueBoardRequest {
            department: self.department.clone(),
            min_level: if self.red_only { WarningLevel::Red } else { WarningLevel::Yellow } as i32,
            page_size: PAGE_SIZE,
            page_token: self.page.clone(),
        }
    }

    /// `/overdue` with these filters and `page`.
    pub fn href(&self, page: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !self.department.is_empty() {
            q.append_pair("department", &self.department);
        }
        if self.red_only {
            q.append_pair("level", "red");
        }
        if !page.is_empty() {
            q.append_pair("page", page);
        }
        let query = q.finish();
        if query.is_empty() { "/overdue".to_owned() } else { format!("/overdue?{query}") }
    }
}

/// One warned or overdue task.
#[derive(Debug, Clone)]
pub struct OverdueRow {
    pub case_href: String,
    pub case_number: String,
    pub item_name: String,
    pub department: String,
    pub lead_department: String,
    pub state: &'static str,
    pub assignee: String,
    pub officer: String,
    pub due: String,
    pub used: String,
    pub overdue_days: u32,
    pub warning: Option<(&'static str, &'static str)>,
    pub escalated: bool,
    pub clock_stopped: bool,
}

impl OverdueRow {
    fn new(e: &OverdueEntry, names: &Names) -> Option<OverdueRow> {
        let t = e.task.as_ref()?;
        Some(OverdueRow {
            case_href: format!("/cases/{}", t.case_id),
            case_number: t.case_number.clone(),
            item_name: t.item_name.clone(),
            department: names.department(&t.department),
            lead_department: names.department(&e.lead_department),
            state: format::state(t.state),
            assignee: if t.assignee.is_empty() { "待认领".to_owned() } else { t.assignee.clone() },
            officer: e.officer_id.clone(),
            due: format::date(t.due_by.as_ref()),
            used: format!("{}/{}", t.working_days_used, t.promised_working_days),
            overdue_days: e.overdue_working_days,
            warning: format::warning(t.warning),
            escalated: e.escalated,
            clock_stopped: t.clock_stopped,
        })
    }
}

/// `/overdue`.
#[derive(Debug, Template)]
#[template(path = "overdue.html")]
pub struct OverduePage {
    pub layout: Layout,
    pub departments: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub yellow: u32,
    pub red: u32,
    /// `None` when the service refused.
    pub rows: Option<Vec<OverdueRow>>,
    pub next_page: Option<String>,
    pub error: Option<String>,
    /// The supervisor's 逾期未报: the month being reported and its
    /// departments flagged late (ADR 0039); `None` for other roles.
    pub late_reports: Option<LateReports>,
}

/// The departments flagged late on a month's report.
#[derive(Debug, Clone, Default)]
pub struct LateReports {
    pub period: String,
    pub href: String,
    /// `None` when the list could not be read (see `error`).
    pub rows: Option<Vec<super::reports::ReportRow>>,
    pub error: Option<String>,
}

impl OverduePage {
    pub fn new(layout: Layout, query: &OverdueQuery, answer: Option<&OverdueBoardResponse>, names: &Names) -> Self {
        let mut departments = vec![Choice {
            value: String::new(),
            label: "全部（可见范围内）".into(),
            selected: query.department.is_empty(),
        }];
        departments.extend(names.departments.iter().map(|(code, name)| Choice {
            value: code.clone(),
            label: name.clone(),
            selected: *code == query.department,
        }));
        let levels = vec![
            Choice { value: String::new(), label: "黄牌及以上".into(), selected: !query.red_only },
            Choice { value: "red".into(), label: "仅红牌".into(), selected: query.red_only },
        ];
        OverduePage {
            layout,
            departments,
            levels,
            yellow: answer.map_or(0, |a| a.yellow_count),
            red: answer.map_or(0, |a| a.red_count),
            rows: answer.map(|a| a.entries.iter().filter_map(|e| OverdueRow::new(e, names)).collect()),
            next_page: answer.filter(|a| !a.next_page_token.is_empty()).map(|a| query.href(&a.next_page_token)),
            error: None,
            late_reports: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[test]
    fn the_boards_query_reads_back_and_asks_for_yellow_unless_red_only() {
        let q = OverdueQuery::parse(&pairs("department=cdc&level=red")).unwrap();
        assert_eq!(OverdueQuery::parse(&pairs(q.href("").split_once('?').unwrap().1)).unwrap(), q);
        assert_eq!(q.request().min_level, WarningLevel::Red as i32);
        assert_eq!(OverdueQuery::default().request().min_level, WarningLevel::Yellow as i32);
        assert_eq!(OverdueQuery::parse(&pairs("level=green")).unwrap_err().field, "level");
        assert_eq!(OverdueQuery::parse(&pairs("department=a%20b")).unwrap_err().field, "department");
    }
}

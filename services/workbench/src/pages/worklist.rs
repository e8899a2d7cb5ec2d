//! `/worklist`: the cases a case officer (专人) follows, from tracking's
//! OfficerWorklist — most urgent first, as the service sorts them —
//! filtered by stage and warning (a supervisor names the officer), each
//! with who holds which step, the due date, the clock and what is owed.

use askama::Template;
use yiciban_platform::Role;
use yiciban_proto::common::v1::{CaseStatus, WarningLevel};
use yiciban_proto::tracking::v1::{CaseSummary, Holder, OfficerWorklistRequest, OfficerWorklistResponse};

use super::filters::{BadFilter, WarningFilter, code};
use super::inbox::Choice;
use super::{Layout, format};
use crate::Names;

/// Cases per page.
pub const PAGE_SIZE: u32 = 100;

/// The stages a worklist may be narrowed to: the query's value, the
/// status, its label. Empty (every open stage) is the default.
const STAGES: [(&str, CaseStatus); 8] = [
    ("submitted", CaseStatus::Submitted),
    ("accepted", CaseStatus::Accepted),
    ("accepted_with_deficiency", CaseStatus::AcceptedWithDeficiency),
    ("in_joint_processing", CaseStatus::InJointProcessing),
    ("waiting_for_supplement", CaseStatus::WaitingForSupplement),
    ("approved", CaseStatus::Approved),
    ("denied", CaseStatus::Denied),
    ("issued", CaseStatus::Issued),
];

/// The worklist's filters as the page's query carries them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorklistQuery {
    /// One stage (a value of [`STAGES`]); empty for every open one.
    pub stage: String,
    pub warning: WarningFilter,
    /// The officer looked into (supervisors); officers always themselves.
    pub officer: String,
    /// The service's page token; empty for the first page.
    pub page: String,
}

impl WorklistQuery {
    /// The filters of a query's `(name, value)` pairs; other names are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<WorklistQuery, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let stage = get("stage");
        if !stage.is_empty() && !STAGES.iter().any(|(value, _)| *value == stage) {
            return Err(BadFilter { field: "stage", reason: "应为页面列出的办件阶段之一".into() });
        }
        let warning = match get("warning") {
            "" => WarningFilter::Any,
            value => WarningFilter::ALL
                .into_iter()
                .find(|w| w.as_str() == value)
                .ok_or_else(|| BadFilter { field: "warning", reason: "应为 yellow 或 red".into() })?,
        };
        Ok(WorklistQuery {
            stage: stage.to_owned(),
            warning,
            officer: code("officer", get("officer"), 64)?,
            page: code("page", get("page"), 512)?,
        })
    }

    /// The request for a person in `role` (an officer's own list is the
    /// service's default; a supervisor names the officer).
    pub fn request(&self, role: Role) -> OfficerWorklistRequest {
        let statuses = STAGES.iter().filter(|(value, _)| *value == self.stage).map(|(_, s)| *s as i32).collect();
        let min_warning = match self.warning {
            WarningFilter::Any => WarningLevel::Unspecified,
            WarningFilter::Yellow => WarningLevel::Yellow,
            WarningFilter::Red => WarningLevel::Red,
        };
        OfficerWorklistRequest {
            officer_id: if role == Role::Officer { String::new() } else { self.officer.clone() },
            statuses,
            min_warning: min_warning as i32,
            page_size: PAGE_SIZE,
            page_token: self.page.clone(),
        }
    }

    /// `/worklist` with these filters and `page`.
    pub fn href(&self, page: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in
            [("stage", self.stage.as_str()), ("warning", self.warning.as_str()), ("officer", &self.officer)]
        {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if !page.is_empty() {
            q.append_pair("page", page);
        }
        let query = q.finish();
        if query.is_empty() { "/worklist".to_owned() } else { format!("/worklist?{query}") }
    }
}

/// Who holds one step of a case now.
#[derive(Debug, Clone)]
pub struct HolderView {
    pub department: String,
    pub item_name: String,
    pub state: &'static str,
    /// The agent holding it, or `待认领`.
    pub assignee: String,
    pub held: String,
    pub due: String,
    pub warning: Option<(&'static str, &'static str)>,
    /// "已督办 N 次", or empty.
    pub urged: String,
}

impl HolderView {
    pub fn new(holder: &Holder, names: &Names) -> HolderView {
        HolderView {
            department: names.department(&holder.department),
            item_name: holder.item_name.clone(),
            state: format::state(holder.state),
            assignee: if holder.assignee.is_empty() { "待认领".to_owned() } else { holder.assignee.clone() },
            held: format!(
                "{} 起，已 {} 个工作日",
                format::timestamp(holder.held_since.as_ref()),
                holder.working_days_held
            ),
            due: format::date(holder.due_by.as_ref()),
            warning: format::warning(holder.warning),
            urged: super::inbox::urged(holder.urge_count),
        }
    }
}

/// One case of the list.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub href: String,
    pub case_number: String,
    pub package: String,
    pub applicant: String,
    pub stage: &'static str,
    pub holders: Vec<HolderView>,
    pub promised_by: String,
    pub clock: String,
    pub warning: Option<(&'static str, &'static str)>,
    /// What the applicant still owes.
    pub owed: Vec<String>,
}

impl CaseRow {
    pub fn new(summary: &CaseSummary, names: &Names) -> CaseRow {
        CaseRow {
            href: format!("/cases/{}", summary.case_id),
            case_number: summary.case_number.clone(),
            package: if summary.package_name.is_empty() {
                names.package(&summary.package_id)
            } else {
                summary.package_name.clone()
            },
            applicant: summary.applicant_display.clone(),
            stage: format::case_status(summary.status),
            holders: summary.holders.iter().map(|h| HolderView::new(h, names)).collect(),
            promised_by: format::date(summary.promised_by.as_ref()),
            clock: case_clock(summary),
            warning: format::warning(summary.warning),
            owed: owed(summary),
        }
    }
}

/// The case's clock in words: running or stopped, working days used.
pub fn case_clock(summary: &CaseSummary) -> String {
    let used = format!("已用 {}/{} 个工作日", summary.working_days_used, summary.promised_working_days);
    if summary.closed_at.is_some() {
        format!("已结束 · {used}")
    } else if summary.clock_stopped {
        format!("暂停计时（等待补正） · {used}")
    } else {
        format!("计时中 · {used}")
    }
}

/// What the applicant still owes: the service's own lines, and the
/// deficiencies' count and first due date.
pub fn owed(summary: &CaseSummary) -> Vec<String> {
    let mut owed = summary.owed_by_applicant.clone();
    if summary.open_deficiencies > 0 {
        owed.push(format!(
            "容缺待补 {} 项（最早 {} 前）",
            summary.open_deficiencies,
            format::date(summary.next_deficiency_due_by.as_ref())
        ));
    }
    owed
}

/// `/worklist`.
#[derive(Debug, Template)]
#[template(path = "worklist.html")]
pub struct WorklistPage {
    pub layout: Layout,
    pub stages: Vec<Choice>,
    pub warnings: Vec<Choice>,
    /// The officer field, for supervisors.
    pub officer: Option<String>,
    /// The list, or `None` before a supervisor names an officer.
    pub rows: Option<Vec<CaseRow>>,
    pub total: u32,
    pub next_page: Option<String>,
    /// The filters' or the service's refusal.
    pub error: Option<String>,
}

impl WorklistPage {
    pub fn new(
        layout: Layout,
        role: Role,
        query: &WorklistQuery,
        answer: Option<&OfficerWorklistResponse>,
        names: &Names,
    ) -> WorklistPage {
        let choice = |value: &str, label: &str, selected: bool| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected,
        };
        let mut stages = vec![choice("", "全部在办", query.stage.is_empty())];
        stages.extend(
            STAGES.iter().map(|(value, s)| choice(value, format::case_status(*s as i32), *value == query.stage)),
        );
        WorklistPage {
            layout,
            stages,
            warnings: WarningFilter::ALL.iter().map(|w| choice(w.as_str(), w.label(), *w == query.warning)).collect(),
            officer: (role != Role::Officer).then(|| query.officer.clone()),
            rows: answer.map(|a| a.cases.iter().map(|c| CaseRow::new(c, names)).collect()),
            total: answer.map_or(0, |a| a.total_count),
            next_page: answer.filter(|a| !a.next_page_token.is_empty()).map(|a| query.href(&a.next_page_token)),
            error: None,
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
    fn the_query_reads_back_from_its_own_link_and_a_bad_value_is_named() {
        let q = WorklistQuery::parse(&pairs("stage=waiting_for_supplement&warning=red&officer=officer-002")).unwrap();
        assert_eq!(WorklistQuery::parse(&pairs(q.href("").split_once('?').unwrap().1)).unwrap(), q);
        assert_eq!(WorklistQuery::parse(&pairs("")).unwrap().href(""), "/worklist");
        assert_eq!(WorklistQuery::parse(&pairs("stage=closed")).unwrap_err().field, "stage");
        assert_eq!(WorklistQuery::parse(&pairs("warning=green")).unwrap_err().field, "warning");
        assert_eq!(WorklistQuery::parse(&pairs("officer=a%20b")).unwrap_err().field, "officer");
    }

    #[test]
    fn an_officer_asks_for_their_own_list_and_a_supervisor_names_one() {
        let q = WorklistQuery::parse(&pairs("stage=issued&warning=yellow&officer=officer-002")).unwrap();
        let own = q.request(Role::Officer);
        assert_eq!(own.officer_id, "");
        assert_eq!(own.statuses, [CaseStatus::Issued as i32]);
        assert_eq!(own.min_warning, WarningLevel::Yellow as i32);
        assert_eq!(q.request(Role::Supervisor).officer_id, "officer-002");
        assert!(WorklistQuery::default().request(Role::Officer).statuses.is_empty());
    }
}

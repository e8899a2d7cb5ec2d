//! `/progress`: the public progress page (进度查询, ADR 0032) — the form
//! (case number and the last six characters of the applicant's ID number
//! or credit code) and, for a matching pair, the case's stage, the
//! departments holding it, the promised date and what the applicant still
//! owes. Nothing else of the case: no name, no officer, no staff login.

use askama::Template;
use yiciban_proto::tracking::v1::CaseSummary;

use super::worklist::owed;
use super::{Layout, format};
use crate::Names;

/// The one answer for an unknown case number and a wrong tail alike.
pub const NOT_FOUND: &str = "未找到该办件，或证件号码后六位不符。请核对受理通知书上的办件编号和申请人证件号码后再试。";

/// What a matching pair shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressView {
    pub case_number: String,
    pub package: String,
    pub stage: &'static str,
    /// The departments holding the case now, by name; empty when none does.
    pub departments: Vec<String>,
    pub accepted_on: String,
    pub promised_by: String,
    /// Whether the clock runs, is stopped for a supplement, or has ended.
    pub clock: &'static str,
    pub closed_at: String,
    pub owed: Vec<String>,
}

impl ProgressView {
    /// The facts of `s` the applicant may see without signing in, and
    /// nothing else (the masked name, the officer, the assignees, the
    /// warnings stay out).
    pub fn new(s: &CaseSummary, names: &Names) -> ProgressView {
        let mut departments: Vec<String> = s.holders.iter().map(|h| names.department(&h.department)).collect();
        departments.dedup();
        let clock = if s.closed_at.is_some() {
            "已结束"
        } else if s.clock_stopped {
            "暂停计时（等待补正材料）"
        } else if s.accepted_on.is_some() {
            "计时中"
        } else {
            "未开始"
        };
        ProgressView {
            case_number: s.case_number.clone(),
            package: if s.package_name.is_empty() { names.package(&s.package_id) } else { s.package_name.clone() },
            stage: format::case_status(s.status),
            departments,
            accepted_on: format::date(s.accepted_on.as_ref()),
            promised_by: format::date(s.promised_by.as_ref()),
            clock,
            closed_at: format::timestamp(s.closed_at.as_ref()),
            owed: owed(s),
        }
    }
}

/// `/progress`.
#[derive(Debug, Template)]
#[template(path = "progress.html")]
pub struct ProgressPage {
    pub layout: Layout,
    /// The form token of this browser's progress cookie.
    pub form_token: String,
    /// The case number as typed (shown again); the tail never is.
    pub case_number: String,
    pub case_number_error: Option<String>,
    pub tail_error: Option<String>,
    /// A message about the whole query (not found, too many tries, a
    /// service down).
    pub message: Option<String>,
    /// The answer to a matching pair; `Err` when tracking has not caught up
    /// with the case yet.
    pub result: Option<Result<ProgressView, String>>,
    /// Whom to call (咨询电话…) in one line: the centre's, or the found
    /// case's package's; empty when the catalog could not say.
    pub contact: String,
}

impl ProgressPage {
    /// The empty form.
    pub fn new(form_token: String) -> ProgressPage {
        ProgressPage {
            layout: Layout::anonymous("办件进度查询"),
            form_token,
            case_number: String::new(),
            case_number_error: None,
            tail_error: None,
            message: None,
            result: None,
            contact: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use yiciban_proto::common::v1::{CaseStatus, Date};
    use yiciban_proto::tracking::v1::Holder;

    use super::*;

    #[test]
    fn the_view_holds_no_name_officer_or_assignee() {
        let names = Names::seed().unwrap();
        let summary = CaseSummary {
            case_number: "YCB-20260929-000001".into(),
            package_id: "newborn-birth".into(),
            status: CaseStatus::InJointProcessing as i32,
            applicant_display: "王*".into(),
            officer_id: "officer-001".into(),
            officer_name: "张伟".into(),
            holders: vec![
                Holder { department: "cdc".into(), assignee: "agent-cdc-1".into(), ..Default::default() },
                Holder { department: "cdc".into(), ..Default::default() },
            ],
            accepted_on: Some(Date { year: 2026, month: 9, day: 29 }),
            promised_by: Some(Date { year: 2026, month: 10, day: 20 }),
            ..Default::default()
        };
        let view = ProgressView::new(&summary, &names);
        assert_eq!(view.stage, "联办中");
        assert_eq!(view.departments.len(), 1);
        assert_eq!((view.promised_by.as_str(), view.clock), ("2026-10-20", "计时中"));
        let contact = "0472-5163108（“一件事一次办”综合窗口）".to_owned();
        let page = ProgressPage { result: Some(Ok(view)), contact, ..ProgressPage::new("t".into()) }.render().unwrap();
        assert!(page.contains("咨询电话：0472-5163108"), "{page}");
        for private in ["王*", "张伟", "officer-001", "agent-cdc-1"] {
            assert!(!page.contains(private), "{private} in {page}");
        }
    }
}

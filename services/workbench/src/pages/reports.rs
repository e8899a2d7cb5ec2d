//! The monthly reports (月报, ADR 0039): `/reports/{period}/{department}`,
//! one department's month — its status, the office's return reason, the
//! figures (frozen at submission, or the live preview of a draft), the two
//! texts and the forms the role may use: an agent saves a draft or submits,
//! a supervisor returns (with a reason) or accepts; the same page printable
//! and as a PDF. `/reports?period=` (月报汇总), every department's row of a
//! month for supervisors, with its CSV. The supervision service decides
//! who may read and do what.

use askama::Template;
use yiciban_platform::Role;
use yiciban_proto::supervision::v1::{GetReportResponse, ListReportsResponse, Report, ReportFigures, ReportStatus};

use super::decide::Sent;
use super::supervision::StepRow;
use super::{Layout, format};
use crate::pdf::{self, Block};

/// The status in Chinese.
pub fn status_label(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Unspecified | ReportStatus::NotStarted => "未填报",
        ReportStatus::Draft => "草稿",
        ReportStatus::Submitted => "已报送，待审核",
        ReportStatus::Returned => "已退回修改",
        ReportStatus::Accepted => "已采纳",
    }
}

/// `/reports/{period}/{department}`.
pub fn href(period: &str, department: &str) -> String {
    format!("/reports/{period}/{department}")
}

/// One action of the report page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction {
    Draft,
    Submit,
    Return,
    Accept,
}

impl ReportAction {
    /// The last segment of `POST /reports/{period}/{department}/<segment>`
    /// and the page's `done` value.
    pub fn segment(self) -> &'static str {
        match self {
            ReportAction::Draft => "draft",
            ReportAction::Submit => "submit",
            ReportAction::Return => "return",
            ReportAction::Accept => "accept",
        }
    }

    pub fn of_segment(segment: &str) -> Option<ReportAction> {
        [ReportAction::Draft, ReportAction::Submit, ReportAction::Return, ReportAction::Accept]
            .into_iter()
            .find(|a| a.segment() == segment)
    }

    /// What the page confirms after the action went through.
    pub fn confirmation(self) -> &'static str {
        match self {
            ReportAction::Draft => "草稿已保存。",
            ReportAction::Submit => "月报已报送，数据已按报送时冻结。",
            ReportAction::Return => "已退回修改。",
            ReportAction::Accept => "已采纳。",
        }
    }

    /// The form input a service's field violation is about.
    pub fn input_of(field: &str) -> Option<String> {
        let input = match field {
            "text.difficulties" => "difficulties",
            "text.publicity" => "publicity",
            "reason" => "reason",
            _ => return None,
        };
        Some(input.to_owned())
    }

    /// Whether `role` is offered the department's form (draft, submit) or
    /// the office's (return, accept) on a report in `status` (the service
    /// decides again).
    pub fn offered(role: Role, status: ReportStatus) -> (bool, bool) {
        let open = matches!(
            status,
            ReportStatus::Unspecified | ReportStatus::NotStarted | ReportStatus::Draft | ReportStatus::Returned
        );
        (role == Role::Agent && open, role == Role::Supervisor && status == ReportStatus::Submitted)
    }
}

/// One figure of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRow {
    pub label: &'static str,
    pub value: String,
}

/// The figures as the page and the PDF list them.
pub fn figure_rows(f: &ReportFigures) -> Vec<FigureRow> {
    let rate = if f.tasks_finished == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}%", f64::from(f.tasks_on_time) * 100.0 / f64::from(f.tasks_finished))
    };
    let row = |label, value: u32| FigureRow { label, value: value.to_string() };
    vec![
        row("咨询", f.consultations),
        row("申请", f.applications),
        row("受理", f.accepted),
        row("容缺受理", f.accepted_with_deficiency),
        row("告知承诺", f.commitments),
        row("不予受理", f.not_accepted),
        row("办结环节", f.tasks_finished),
        row("按时办结环节", f.tasks_on_time),
        FigureRow { label: "按时办结率", value: rate },
        row("超期（红牌）", f.overdue),
        row("评价", f.ratings),
        row("差评", f.bad_ratings),
        row("收到意见、建议、投诉", f.opinions_received),
        row("办结意见", f.opinions_closed),
        row("按期办结意见", f.opinions_closed_on_time),
    ]
}

/// The form of the report page (one per side).
#[derive(Debug, Clone)]
pub struct ReportForm {
    pub version: u64,
    pub key: String,
    pub sent: Sent,
}

impl ReportForm {
    fn new(version: u64, sent: Sent) -> ReportForm {
        ReportForm { version, key: uuid::Uuid::now_v7().to_string(), sent }
    }
}

/// `/reports/{period}/{department}` (and its printable variant).
#[derive(Debug, Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub layout: Layout,
    pub href: String,
    pub period: String,
    pub department: String,
    pub department_name: String,
    pub status: &'static str,
    pub submitted: bool,
    pub submissions: u32,
    pub on_time: bool,
    pub due_on: String,
    pub flagged_late_on: String,
    pub returned_reason: String,
    /// What the figures are: frozen at submission, or the live preview.
    pub figures_title: &'static str,
    pub figures: Vec<FigureRow>,
    pub difficulties: String,
    pub publicity: String,
    pub history: Vec<StepRow>,
    /// The department's form (draft and submit).
    pub department_form: Option<ReportForm>,
    /// The office's forms (return with a reason, accept).
    pub office_form: Option<ReportForm>,
    pub done: Option<&'static str>,
    /// A refusal of a form the page no longer offers (e.g. a second
    /// submission while the first waits for the office).
    pub error: Option<String>,
    /// The printable page: no forms, no navigation links.
    pub print: bool,
}

impl ReportPage {
    /// The page of `answer` for `role`; `refused` is a form sent back with
    /// what the service said (the department's for draft and submit, else
    /// the office's).
    pub fn new(
        layout: Layout,
        answer: &GetReportResponse,
        role: Role,
        refused: Option<(ReportAction, Sent)>,
    ) -> Option<ReportPage> {
        let r = answer.report.as_ref()?;
        let (mine, office) = ReportAction::offered(role, r.status());
        let sent_for = |department_side: bool| match &refused {
            Some((a, sent)) if matches!(a, ReportAction::Draft | ReportAction::Submit) == department_side => {
                sent.clone()
            }
            _ => Sent::default(),
        };
        let text = r.text.clone().unwrap_or_default();
        let (figures_title, figures) = match (&r.figures, &answer.preview) {
            (Some(f), None) => ("报送时冻结的数据", figure_rows(f)),
            (_, Some(f)) => ("实时数据（预览：报送时按当时数据冻结）", figure_rows(f)),
            (None, None) => ("数据", Vec::new()),
        };
        let submitted = matches!(r.status(), ReportStatus::Submitted | ReportStatus::Accepted);
        Some(ReportPage {
            layout,
            href: href(&r.period, &r.department),
            period: r.period.clone(),
            department: r.department.clone(),
            department_name: r.department_name.clone(),
            status: status_label(r.status()),
            submitted,
            submissions: r.submissions,
            on_time: r.submitted_on_time,
            due_on: format::date(r.due_on.as_ref()),
            flagged_late_on: format::date(r.flagged_late_on.as_ref()),
            returned_reason: r.returned_reason.clone(),
            figures_title,
            figures,
            difficulties: text.difficulties,
            publicity: text.publicity,
            history: answer
                .history
                .iter()
                .map(|s| StepRow { at: format::timestamp(s.at.as_ref()), who: s.actor.clone(), text: s.text.clone() })
                .collect(),
            department_form: mine.then(|| ReportForm::new(r.version, sent_for(true))),
            office_form: office.then(|| ReportForm::new(r.version, sent_for(false))),
            done: None,
            error: None,
            print: false,
        })
    }

    /// The texts as typed again after a refusal, else the report's.
    pub fn typed(&self, name: &str) -> String {
        let typed = self.department_form.as_ref().map_or("", |f| f.sent.value(name));
        if self.department_form.as_ref().is_some_and(|f| f.sent.has_errors()) {
            return typed.to_owned();
        }
        match name {
            "difficulties" => self.difficulties.clone(),
            _ => self.publicity.clone(),
        }
    }

    /// The file's name.
    pub fn pdf_file_name(&self) -> String {
        format!("月报-{}-{}.pdf", self.department, self.period)
    }

    /// The report as a PDF (the printable page's words).
    pub fn pdf(&self) -> Vec<u8> {
        const TITLE: f32 = 18.0;
        const BODY: f32 = 12.0;
        let name = if self.department_name.is_empty() { &self.department } else { &self.department_name };
        let mut blocks = vec![
            Block::centred(format!("{name} {} 月度报送", self.period), TITLE),
            Block::Gap(8.0),
            Block::text(format!("状态：{}（报送 {} 次）", self.status, self.submissions), BODY),
            Block::text(format!("报送期限：{}", self.due_on), BODY),
        ];
        if !self.flagged_late_on.is_empty() {
            blocks.push(Block::text(format!("逾期未报：{} 标记", self.flagged_late_on), BODY));
        }
        if !self.returned_reason.is_empty() {
            blocks.push(Block::text(format!("退回原因：{}", self.returned_reason), BODY));
        }
        blocks.push(Block::Gap(6.0));
        blocks.push(Block::text(self.figures_title, BODY));
        for f in &self.figures {
            blocks.push(Block::indented(format!("{}：{}", f.label, f.value), BODY, 24.0));
        }
        blocks.push(Block::Gap(6.0));
        for (label, text) in [("困难问题", &self.difficulties), ("宣传活动", &self.publicity)] {
            blocks.push(Block::text(label, BODY));
            blocks.push(Block::indented(if text.is_empty() { "—" } else { text.as_str() }, BODY, 24.0));
        }
        pdf::render(&format!("{name} {} 月度报送", self.period), &blocks)
    }
}

/// One department's row of the month.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub href: String,
    pub department: String,
    pub name: String,
    pub status: &'static str,
    pub submissions: u32,
    pub on_time: bool,
    pub flagged_late_on: String,
    pub updated: String,
}

impl ReportRow {
    pub fn new(r: &Report) -> ReportRow {
        ReportRow {
            href: href(&r.period, &r.department),
            department: r.department.clone(),
            name: r.department_name.clone(),
            status: status_label(r.status()),
            submissions: r.submissions,
            on_time: r.submitted_on_time,
            flagged_late_on: format::date(r.flagged_late_on.as_ref()),
            updated: format::timestamp(r.updated_at.as_ref()),
        }
    }
}

/// `/reports?period=` (月报汇总).
#[derive(Debug, Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub layout: Layout,
    pub period: String,
    pub due_on: String,
    pub previous: String,
    pub next: String,
    /// `None` when the list could not be read (see `error`).
    pub rows: Option<Vec<ReportRow>>,
    pub late: usize,
    pub error: Option<String>,
}

impl ReportsPage {
    pub fn new(layout: Layout, period: &str, answer: Option<&ListReportsResponse>) -> ReportsPage {
        let month = yiciban_domain::reporting::ReportPeriod::parse(period).ok();
        let rows: Option<Vec<ReportRow>> = answer.map(|a| a.reports.iter().map(ReportRow::new).collect());
        ReportsPage {
            layout,
            period: period.to_owned(),
            due_on: answer.map(|a| format::date(a.due_on.as_ref())).unwrap_or_default(),
            previous: month.map(|m| m.previous().to_string()).unwrap_or_default(),
            next: month.map(|m| m.next().to_string()).unwrap_or_default(),
            late: rows.as_ref().map_or(0, |rows| rows.iter().filter(|r| !r.flagged_late_on.is_empty()).count()),
            rows,
            error: None,
        }
    }
}

/// The month a report page opens on: the previous one (the one being
/// reported), China time.
/// The latest month whose report is due already (late from the 16th of the
/// next month): the month the board's 逾期未报 list is about — before the
/// 16th, the month before the one being reported.
pub fn last_due_month(now: chrono::DateTime<chrono::Utc>) -> String {
    let china = (now + chrono::Duration::hours(8)).date_naive();
    let reported = yiciban_domain::reporting::ReportPeriod::of(china).previous();
    if reported.is_late_on(china) { reported } else { reported.previous() }.to_string()
}

pub fn reporting_month(now: chrono::DateTime<chrono::Utc>) -> String {
    let china = (now + chrono::Duration::hours(8)).date_naive();
    yiciban_domain::reporting::ReportPeriod::of(china).previous().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_board_lists_the_latest_month_whose_report_is_due_already() {
        let at = |text: &str| -> chrono::DateTime<chrono::Utc> { text.parse().unwrap() };
        // 2 October (China): September is reported until the 15th; August is the late one.
        assert_eq!(last_due_month(at("2026-10-02T02:00:00Z")), "2026-08");
        assert_eq!(reporting_month(at("2026-10-02T02:00:00Z")), "2026-09");
        // 16 October, 00:30 in China: September is late now.
        assert_eq!(last_due_month(at("2026-10-15T16:30:00Z")), "2026-09");
        assert_eq!(last_due_month(at("2026-01-20T02:00:00Z")), "2025-12");
    }

    #[test]
    fn the_department_is_offered_its_form_while_open_and_the_office_its_forms_once_submitted() {
        assert_eq!(ReportAction::offered(Role::Agent, ReportStatus::NotStarted), (true, false));
        assert_eq!(ReportAction::offered(Role::Agent, ReportStatus::Returned), (true, false));
        assert_eq!(ReportAction::offered(Role::Agent, ReportStatus::Submitted), (false, false));
        assert_eq!(ReportAction::offered(Role::Supervisor, ReportStatus::Submitted), (false, true));
        assert_eq!(ReportAction::offered(Role::Supervisor, ReportStatus::Accepted), (false, false));
        assert_eq!(ReportAction::offered(Role::Admin, ReportStatus::Submitted), (false, false));
        assert_eq!(ReportAction::input_of("text.publicity").as_deref(), Some("publicity"));
        assert_eq!(ReportAction::of_segment("accept"), Some(ReportAction::Accept));
        assert_eq!(ReportAction::of_segment("delete"), None);
    }

    #[test]
    fn the_on_time_rate_is_a_percentage_and_a_dash_without_finished_tasks() {
        let rows = figure_rows(&ReportFigures { tasks_finished: 8, tasks_on_time: 7, ..Default::default() });
        assert_eq!(rows.iter().find(|r| r.label == "按时办结率").unwrap().value, "87.5%");
        let none = figure_rows(&ReportFigures::default());
        assert_eq!(none.iter().find(|r| r.label == "按时办结率").unwrap().value, "—");
    }

    #[test]
    fn the_month_reported_is_the_previous_one_in_china() {
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&chrono::Utc);
        assert_eq!(reporting_month(at("2026-11-30T17:00:00Z")), "2026-11");
        assert_eq!(reporting_month(at("2026-11-30T15:00:00Z")), "2026-10");
    }
}

//! The monthly statistics (月度统计) of the office report, computed from the
//! case read models alone (pure): every figure is counted in the month (China
//! time) in which its event happened — submissions by submission, acceptances
//! by the day of acceptance, decisions by decision, tasks by their end,
//! warnings when raised, ratings when given, rectifications when opened or
//! closed. Rows: the (filtered) total, one per department (tasks, ratings and
//! rectifications of that department; case counts of the cases it took part
//! in) and one per package.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use yiciban_calendar::date_in_china;

use super::Names;
use super::view::{Acceptance, CaseView, Outcome, TaskState, TaskView};

/// A calendar month in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// The month `year`-`month`; `None` unless 1 ≤ month ≤ 12 and the year
    /// has four digits.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1000..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    /// Parses "YYYY-MM".
    pub fn parse(text: &str) -> Option<Month> {
        let text = text.trim();
        let (y, m) = text.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.chars().chain(m.chars()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    /// The month of an instant, in China time.
    pub fn of(at: DateTime<Utc>) -> Month {
        Month::of_date(date_in_china(at))
    }

    /// The month of a calendar day.
    pub fn of_date(day: NaiveDate) -> Month {
        Month { year: day.year(), month: day.month() }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    /// The month after it.
    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    /// Its first instant (00:00 China time of its first day).
    pub fn start(self) -> DateTime<Utc> {
        yiciban_calendar::start_of_day(self.first_day())
    }

    /// True when `day` is in it.
    pub fn contains_date(self, day: NaiveDate) -> bool {
        Month::of_date(day) == self
    }

    /// True when `at` falls in it (China time).
    pub fn contains(self, at: DateTime<Utc>) -> bool {
        Month::of(at) == self
    }

    fn has(self, at: Option<DateTime<Utc>>) -> bool {
        at.is_some_and(|at| self.contains(at))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Why a period cannot be reported on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("须为年月 YYYY-MM，如 2026-01")]
    Malformed,
    #[error("{0} 尚未开始，不能统计未来的月份")]
    Future(Month),
}

/// The month of a request: "YYYY-MM", not after the month of `now`.
pub fn parse_period(text: &str, now: DateTime<Utc>) -> Result<Month, PeriodError> {
    let month = Month::parse(text).ok_or(PeriodError::Malformed)?;
    if month > Month::of(now) {
        return Err(PeriodError::Future(month));
    }
    Ok(month)
}

/// The figures of one row for one month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Department code or package id; empty for the total.
    pub key: String,
    pub label: String,
    pub submitted: u32,
    pub accepted: u32,
    pub accepted_with_deficiency: u32,
    /// Accepted cases with at least one commitment (告知承诺).
    pub commitments: u32,
    pub not_accepted: u32,
    pub decided: u32,
    pub approved: u32,
    pub denied: u32,
    pub withdrawn: u32,
    pub terminated: u32,
    pub closed: u32,
    pub decided_on_time: u32,
    /// Sum of the working days of the decided cases.
    pub decided_working_days: u64,
    pub tasks_finished: u32,
    pub tasks_on_time: u32,
    pub yellow_warnings: u32,
    pub red_warnings: u32,
    /// Valid ratings.
    pub ratings: u32,
    pub bad_ratings: u32,
    pub invalid_ratings: u32,
    /// Valid ratings by score 1..5 (index 0 = score 1).
    pub ratings_by_score: [u32; 5],
    pub rectifications_opened: u32,
    pub rectifications_closed: u32,
    pub rectifications_closed_on_time: u32,
    /// Opened by the end of the month and not closed by then.
    pub rectifications_open: u32,
    pub return_visits: u32,
    pub return_visits_reached: u32,
    /// Valid real-name bad ratings of the month.
    pub real_name_bad_ratings: u32,
    /// … of which the case got a return visit after the rating.
    pub real_name_bad_visited: u32,
}

fn rate(part: u32, whole: u32) -> f64 {
    if whole == 0 { 0.0 } else { f64::from(part) / f64::from(whole) }
}

impl Row {
    fn new(key: &str, label: &str) -> Row {
        Row { key: key.to_owned(), label: label.to_owned(), ..Row::default() }
    }

    pub fn on_time_rate(&self) -> f64 {
        rate(self.decided_on_time, self.decided)
    }

    /// Mean working days from acceptance to decision of the decided cases.
    pub fn average_working_days(&self) -> f64 {
        if self.decided == 0 { 0.0 } else { self.decided_working_days as f64 / f64::from(self.decided) }
    }

    pub fn task_on_time_rate(&self) -> f64 {
        rate(self.tasks_on_time, self.tasks_finished)
    }

    /// Valid ratings 3..5 over valid ratings (满意率).
    pub fn satisfaction_rate(&self) -> f64 {
        rate(self.ratings - self.bad_ratings, self.ratings)
    }

    pub fn bad_rating_visit_rate(&self) -> f64 {
        rate(self.real_name_bad_visited, self.real_name_bad_ratings)
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        Row { key: self.key.clone(), label: self.label.clone(), ..Row::default() } == *self
    }
}

/// The statistics of one month.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub period: Month,
    pub total: Row,
    pub by_department: Vec<Row>,
    pub by_package: Vec<Row>,
    /// Time of the latest event folded into the cases read.
    pub as_of: Option<DateTime<Utc>>,
}

/// Restrictions of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub department: Option<String>,
    pub package_id: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    All,
    Department(&'a str),
}

/// True when `department` took part in the case (led it or held a task).
fn takes_part(case: &CaseView, department: &str) -> bool {
    case.lead_department == department || case.tasks.values().any(|t| t.department == department)
}

fn task_on_time(task: &TaskView) -> bool {
    task.finished_on_time.unwrap_or_else(|| {
        let days = task.final_working_days.unwrap_or(u32::MAX);
        task.promised_working_days > 0 && days <= task.promised_working_days
    })
}

fn add_case(row: &mut Row, case: &CaseView, month: Month, scope: Scope<'_>) {
    let part = match scope {
        Scope::All => true,
        Scope::Department(d) => takes_part(case, d),
    };
    if part {
        add_case_level(row, case, month);
    }
    let ours = |department: &str| match scope {
        Scope::All => true,
        Scope::Department(d) => department == d,
    };
    for task in case.tasks.values().filter(|t| ours(&t.department)) {
        let finished = matches!(task.state, TaskState::Approved | TaskState::Denied | TaskState::Revoked)
            && task.final_working_days.is_some();
        if finished && month.has(task.finished_at) {
            row.tasks_finished += 1;
            row.tasks_on_time += u32::from(task_on_time(task));
        }
        row.yellow_warnings += u32::from(month.has(task.yellow_at));
        row.red_warnings += u32::from(month.has(task.red_at));
    }
    for rating in &case.ratings {
        let concerned = if rating.department.is_empty() { &case.lead_department } else { &rating.department };
        if !ours(concerned) || !month.contains(rating.at) {
            continue;
        }
        if !rating.valid {
            row.invalid_ratings += 1;
            continue;
        }
        row.ratings += 1;
        if let Some(slot) = (rating.score as usize).checked_sub(1).and_then(|i| row.ratings_by_score.get_mut(i)) {
            *slot += 1;
        }
        if rating.score <= 2 {
            row.bad_ratings += 1;
            if rating.real_name {
                row.real_name_bad_ratings += 1;
                row.real_name_bad_visited += u32::from(case.return_visits.iter().any(|v| v.at >= rating.at));
            }
        }
    }
    let end = month.next().start();
    for r in case.rectifications.iter().filter(|r| ours(&r.department)) {
        row.rectifications_opened += u32::from(month.has(r.opened_at));
        if month.has(r.closed_at) {
            row.rectifications_closed += 1;
            row.rectifications_closed_on_time += u32::from(r.closed_on_time);
        }
        let opened_by_end = r.opened_at.is_some_and(|at| at < end);
        let closed_by_end = r.closed_at.is_some_and(|at| at < end);
        row.rectifications_open += u32::from(opened_by_end && !closed_by_end);
    }
}

fn add_case_level(row: &mut Row, case: &CaseView, month: Month) {
    row.submitted += u32::from(month.has(case.submitted_at));
    if case.accepted_on.is_some_and(|d| month.contains_date(d)) {
        match case.acceptance {
            Acceptance::Accepted => row.accepted += 1,
            Acceptance::AcceptedWithDeficiency => row.accepted_with_deficiency += 1,
            Acceptance::Pending | Acceptance::NotAccepted => {}
        }
        if matches!(case.acceptance, Acceptance::Accepted | Acceptance::AcceptedWithDeficiency) {
            row.commitments += u32::from(case.commitments > 0);
        }
    }
    row.not_accepted += u32::from(case.acceptance == Acceptance::NotAccepted && month.has(case.not_accepted_at));
    if month.has(case.decided_at) {
        row.decided += 1;
        match case.outcome {
            Outcome::Approved => row.approved += 1,
            Outcome::Denied => row.denied += 1,
            Outcome::Undecided => {}
        }
        let on_time = case.decided_on_time.unwrap_or_else(|| {
            let decided_on = case.decided_at.map(date_in_china);
            decided_on.zip(case.promised_by).is_some_and(|(d, by)| d <= by)
        });
        row.decided_on_time += u32::from(on_time);
        row.decided_working_days += u64::from(case.decided_working_days.unwrap_or_default());
    }
    row.withdrawn += u32::from(month.has(case.withdrawn_at));
    row.terminated += u32::from(month.has(case.terminated_at));
    row.closed += u32::from(month.has(case.closed_at));
    for visit in case.return_visits.iter().filter(|v| month.contains(v.at)) {
        row.return_visits += 1;
        row.return_visits_reached += u32::from(visit.reached);
    }
}

/// The statistics of `month` over `cases` (any superset of the cases with an
/// event in the month), restricted by `filter`.
pub fn monthly_report(cases: &[CaseView], month: Month, filter: &Filter, names: &Names) -> Report {
    let cases: Vec<&CaseView> = cases
        .iter()
        .filter(|c| filter.package_id.as_deref().is_none_or(|p| c.package_id == p))
        .filter(|c| filter.department.as_deref().is_none_or(|d| takes_part(c, d)))
        .collect();
    let row_of = |key: &str, label: &str, scope: Scope<'_>, of: &dyn Fn(&CaseView) -> bool| {
        let mut row = Row::new(key, label);
        for case in cases.iter().filter(|c| of(c)) {
            add_case(&mut row, case, month, scope);
        }
        row
    };
    let total_scope = filter.department.as_deref().map_or(Scope::All, Scope::Department);
    let total = row_of("", "合计", total_scope, &|_| true);
    let departments: BTreeSet<&str> = match filter.department.as_deref() {
        Some(d) => BTreeSet::from([d]),
        None => cases
            .iter()
            .flat_map(|c| {
                std::iter::once(c.lead_department.as_str())
                    .chain(c.tasks.values().map(|t| t.department.as_str()))
                    .chain(c.ratings.iter().map(|r| r.department.as_str()))
                    .chain(c.rectifications.iter().map(|r| r.department.as_str()))
            })
            .filter(|d| !d.is_empty())
            .collect(),
    };
    let by_department = departments
        .into_iter()
        .map(|d| row_of(d, names.department(d), Scope::Department(d), &|_| true))
        .filter(|r| !r.is_empty())
        .collect();
    let packages: BTreeSet<&str> = cases.iter().map(|c| c.package_id.as_str()).filter(|p| !p.is_empty()).collect();
    let by_package = packages
        .into_iter()
        .map(|p| {
            let label = names.package(p).unwrap_or(p);
            row_of(p, label, total_scope, &|c: &CaseView| c.package_id == p)
        })
        .filter(|r| !r.is_empty())
        .collect();
    Report {
        period: month,
        total,
        by_department,
        by_package,
        as_of: cases.iter().filter_map(|c| c.last_event_at).max(),
    }
}

/// The CSV header (Chinese), one column per figure.
pub const CSV_HEADER: [&str; 41] = [
    "统计月份",
    "行类型",
    "代码",
    "名称",
    "申请数",
    "受理",
    "容缺受理",
    "告知承诺",
    "不予受理",
    "办理决定",
    "准予",
    "不予准予",
    "撤回",
    "终止",
    "办结",
    "按时办结",
    "按时办结率",
    "平均办理工作日",
    "部门环节办结",
    "部门环节按时",
    "部门环节按时率",
    "黄牌",
    "红牌",
    "有效评价",
    "差评",
    "无效评价",
    "非常不满意(1)",
    "不满意(2)",
    "基本满意(3)",
    "满意(4)",
    "非常满意(5)",
    "满意率",
    "整改新开",
    "整改办结",
    "整改按时办结",
    "整改未结",
    "回访",
    "回访联系上",
    "实名差评",
    "实名差评已回访",
    "实名差评回访率",
];

fn field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn csv_row(out: &mut String, period: Month, kind: &str, row: &Row) {
    let mut cells: Vec<String> = vec![period.to_string(), kind.to_owned(), row.key.clone(), row.label.clone()];
    let counts = [
        row.submitted,
        row.accepted,
        row.accepted_with_deficiency,
        row.commitments,
        row.not_accepted,
        row.decided,
        row.approved,
        row.denied,
        row.withdrawn,
        row.terminated,
        row.closed,
        row.decided_on_time,
    ];
    cells.extend(counts.iter().map(u32::to_string));
    cells.push(format!("{:.4}", row.on_time_rate()));
    cells.push(format!("{:.2}", row.average_working_days()));
    cells.push(row.tasks_finished.to_string());
    cells.push(row.tasks_on_time.to_string());
    cells.push(format!("{:.4}", row.task_on_time_rate()));
    let counts = [row.yellow_warnings, row.red_warnings, row.ratings, row.bad_ratings, row.invalid_ratings];
    cells.extend(counts.iter().chain(&row.ratings_by_score).map(u32::to_string));
    cells.push(format!("{:.4}", row.satisfaction_rate()));
    let counts = [
        row.rectifications_opened,
        row.rectifications_closed,
        row.rectifications_closed_on_time,
        row.rectifications_open,
        row.return_visits,
        row.return_visits_reached,
        row.real_name_bad_ratings,
        row.real_name_bad_visited,
    ];
    cells.extend(counts.iter().map(u32::to_string));
    cells.push(format!("{:.4}", row.bad_rating_visit_rate()));
    debug_assert_eq!(cells.len(), CSV_HEADER.len());
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, cell);
    }
    out.push_str("\r\n");
}

/// The report as RFC 4180 CSV, UTF-8 with a byte-order mark: the header,
/// the total, then the department and package rows.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("\u{feff}");
    let _ = write!(out, "{}\r\n", CSV_HEADER.join(","));
    csv_row(&mut out, report.period, "合计", &report.total);
    for row in &report.by_department {
        csv_row(&mut out, report.period, "部门", row);
    }
    for row in &report.by_package {
        csv_row(&mut out, report.period, "事项包", row);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use prost::{Message, Name};
    use yiciban_domain::catalog::Catalog;
    use yiciban_proto::common::v1 as common;
    use yiciban_proto::convert::intake::{date_to_pb, timestamp};
    use yiciban_proto::events::v1 as ev;

    use super::*;
    use crate::projection::{Context, Decoded, apply};

    fn cst(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
    }

    fn pd(y: i32, m: u32, d: u32) -> Option<common::Date> {
        Some(date_to_pb(NaiveDate::from_ymd_opt(y, m, d).unwrap()))
    }

    /// Cases built by folding events.
    struct Cases {
        names: Names,
        views: HashMap<&'static str, CaseView>,
        versions: HashMap<String, u64>,
    }

    impl Cases {
        fn new() -> Cases {
            Cases {
                names: Names::from_catalog(&Catalog::seed().unwrap()),
                views: HashMap::new(),
                versions: HashMap::new(),
            }
        }

        /// Folds `message` into case `case` (a UUID) as an event of its
        /// `stream` kind ("case", "plan", "task", "issuance") at `at`.
        fn event<M: Message + Name>(&mut self, case: &'static str, stream: &str, at: &str, message: &M) {
            let stream_id = format!("{stream}-{case}");
            let version = self.versions.entry(stream_id.clone()).or_default();
            *version += 1;
            let envelope = ev::EventEnvelope {
                event_id: format!("{stream_id}-{version}"),
                case_id: case.into(),
                stream_id,
                stream_version: *version,
                event_type: M::NAME.into(),
                schema_version: 1,
                occurred_at: Some(timestamp(cst(at))),
                source: stream.into(),
                department: if stream == "task" { "samr".into() } else { String::new() },
                payload: message.encode_to_vec(),
                ..Default::default()
            };
            let decoded = Decoded::of(&envelope).unwrap();
            let view = self.views.entry(case).or_default();
            apply(view, &decoded, &Context { names: &self.names, identity_salt: b"salt" });
        }

        fn report(&self, period: &str, filter: &Filter) -> Report {
            let mut cases: Vec<CaseView> = self.views.values().cloned().collect();
            cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
            monthly_report(&cases, Month::parse(period).unwrap(), filter, &self.names)
        }
    }

    const A: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000a1";
    const B: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000a2";
    const C: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000a3";

    fn submitted(n: &str) -> ev::ApplicationSubmitted {
        ev::ApplicationSubmitted { case_number: n.into(), package_id: "open-restaurant".into(), ..Default::default() }
    }

    fn accepted(n: &str, on: (i32, u32, u32), deficient: bool, commitments: usize) -> ev::ApplicationAccepted {
        ev::ApplicationAccepted {
            case_number: n.into(),
            package_id: "open-restaurant".into(),
            accepted_on: pd(on.0, on.1, on.2),
            lead_department: "samr".into(),
            promised_working_days: 10,
            promised_by: Some(date_to_pb(NaiveDate::from_ymd_opt(on.0, on.1, on.2).unwrap() + chrono::Days::new(14))),
            deficiencies: if deficient {
                vec![common::Deficiency { material_id: "m1".into(), ..Default::default() }]
            } else {
                Vec::new()
            },
            commitments: vec![common::Commitment::default(); commitments],
            ..Default::default()
        }
    }

    fn task(case: &str, department: &str) -> ev::TaskCreated {
        ev::TaskCreated {
            task_id: format!("{case}-t-{department}"),
            package_id: "open-restaurant".into(),
            department: department.into(),
            promised_working_days: 5,
            lead_department: "samr".into(),
            ..Default::default()
        }
    }

    /// A: submitted and accepted in January, a yellow card in January; the
    /// task approved late, the case decided on time, closed and rated 5 in
    /// February. B: submitted and refused in January. C: accepted with a
    /// deficiency and two commitments in February, a denied task of "tax",
    /// a real-name 1 for samr, a rectification opened (and still open) and a
    /// return visit, a set-aside rating.
    fn two_months() -> Cases {
        let mut g = Cases::new();
        g.event(A, "case", "2026-01-20T09:00", &submitted("YCB-20260120-000001"));
        g.event(A, "case", "2026-01-20T09:10", &accepted("YCB-20260120-000001", (2026, 1, 20), false, 0));
        g.event(A, "task", "2026-01-20T10:00", &task(A, "samr"));
        g.event(
            A,
            "task",
            "2026-01-28T00:00",
            &ev::TaskWarned {
                task_id: format!("{A}-t-samr"),
                level: common::WarningLevel::Yellow as i32,
                ..Default::default()
            },
        );
        g.event(
            A,
            "task",
            "2026-02-02T10:00",
            &ev::TaskApproved {
                task_id: format!("{A}-t-samr"),
                working_days_used: 7,
                on_time: false,
                ..Default::default()
            },
        );
        g.event(
            A,
            "plan",
            "2026-02-02T11:00",
            &ev::CaseDecided {
                outcome: common::CaseOutcome::Approved as i32,
                working_days_used: 8,
                on_time: true,
                ..Default::default()
            },
        );
        g.event(A, "issuance", "2026-02-03T09:00", &ev::CaseClosed::default());
        g.event(
            A,
            "issuance",
            "2026-02-03T09:30",
            &ev::RatingReceived { rating_id: "ra".into(), score: 5, ..Default::default() },
        );

        g.event(B, "case", "2026-01-31T23:30", &submitted("YCB-20260131-000002"));
        g.event(
            B,
            "case",
            "2026-01-31T23:50",
            &ev::ApplicationNotAccepted { package_id: "open-restaurant".into(), ..Default::default() },
        );

        g.event(C, "case", "2026-02-01T00:10", &submitted("YCB-20260201-000003"));
        g.event(C, "case", "2026-02-02T09:00", &accepted("YCB-20260201-000003", (2026, 2, 2), true, 2));
        g.event(C, "task", "2026-02-02T10:00", &task(C, "tax"));
        g.event(
            C,
            "task",
            "2026-02-04T10:00",
            &ev::TaskDenied { task_id: format!("{C}-t-tax"), working_days_used: 3, ..Default::default() },
        );
        g.event(
            C,
            "issuance",
            "2026-02-05T09:00",
            &ev::RatingReceived {
                rating_id: "rc".into(),
                score: 1,
                real_name: true,
                department: "samr".into(),
                ..Default::default()
            },
        );
        g.event(
            C,
            "issuance",
            "2026-02-05T09:05",
            &ev::RatingReceived { rating_id: "rc2".into(), score: 2, ..Default::default() },
        );
        g.event(
            C,
            "issuance",
            "2026-02-05T09:06",
            &ev::RatingMarkedInvalid { rating_id: "rc2".into(), ..Default::default() },
        );
        g.event(
            C,
            "issuance",
            "2026-02-05T10:00",
            &ev::RectificationOpened {
                rectification_id: "x1".into(),
                responsible_department: "samr".into(),
                due_by: pd(2026, 2, 20),
                ..Default::default()
            },
        );
        g.event(
            C,
            "issuance",
            "2026-02-06T10:00",
            &ev::ReturnVisitRecorded { visit_id: "v1".into(), reached: true, score: 3, ..Default::default() },
        );
        g
    }

    #[test]
    fn a_period_is_a_past_or_current_month_in_china_time() {
        // 2026-01-31 17:00 UTC is already 1 February in China.
        let now = DateTime::parse_from_rfc3339("2026-01-31T17:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_period("2026-02", now).unwrap().to_string(), "2026-02");
        assert_eq!(parse_period(" 2025-12 ", now).unwrap().to_string(), "2025-12");
        assert!(matches!(parse_period("2026-03", now), Err(PeriodError::Future(_))));
        for bad in ["", "2026-1", "2026-13", "2026-00", "26-01", "2026/01", "2026-01-01", "２０２６-01", "abcd-ef"]
        {
            assert_eq!(parse_period(bad, now), Err(PeriodError::Malformed), "{bad:?}");
        }
        let m = Month::parse("2026-12").unwrap();
        assert_eq!((m.next().to_string(), m.start()), ("2027-01".to_owned(), cst("2026-12-01T00:00")));
    }

    #[test]
    fn january_counts_the_submissions_acceptances_refusals_and_warnings_of_january() {
        let g = two_months();
        let r = g.report("2026-01", &Filter::default());
        let t = &r.total;
        assert_eq!((t.key.as_str(), t.label.as_str()), ("", "合计"));
        assert_eq!((t.submitted, t.accepted, t.accepted_with_deficiency, t.not_accepted), (2, 1, 0, 1));
        assert_eq!((t.decided, t.closed, t.tasks_finished, t.yellow_warnings, t.ratings), (0, 0, 0, 1, 0));
        assert_eq!((t.on_time_rate(), t.average_working_days()), (0.0, 0.0));
        // B was submitted at 23:30 China time on 31 January: January.
        assert_eq!(r.by_package.len(), 1);
        assert_eq!(
            (r.by_package[0].key.as_str(), r.by_package[0].label.as_str()),
            ("open-restaurant", "开办餐饮店一件事")
        );
        assert_eq!(r.by_package[0].submitted, 2);
        let depts: Vec<&str> = r.by_department.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(depts, ["samr"], "tax appears in February only");
        assert_eq!(r.as_of, Some(cst("2026-02-06T10:00")));
    }

    #[test]
    fn february_counts_decisions_tasks_ratings_and_rectifications_per_department() {
        let g = two_months();
        let r = g.report("2026-02", &Filter::default());
        let t = &r.total;
        assert_eq!(
            (t.submitted, t.accepted, t.accepted_with_deficiency, t.commitments, t.not_accepted),
            (1, 0, 1, 1, 0)
        );
        assert_eq!((t.decided, t.approved, t.decided_on_time, t.closed), (1, 1, 1, 1));
        assert_eq!((t.on_time_rate(), t.average_working_days()), (1.0, 8.0));
        assert_eq!((t.tasks_finished, t.tasks_on_time, t.task_on_time_rate()), (2, 1, 0.5));
        assert_eq!((t.ratings, t.bad_ratings, t.invalid_ratings, t.ratings_by_score), (2, 1, 1, [1, 0, 0, 0, 1]));
        assert_eq!(t.satisfaction_rate(), 0.5);
        assert_eq!((t.rectifications_opened, t.rectifications_closed, t.rectifications_open), (1, 0, 1));
        assert_eq!((t.return_visits, t.return_visits_reached), (1, 1));
        assert_eq!((t.real_name_bad_ratings, t.real_name_bad_visited, t.bad_rating_visit_rate()), (1, 1, 1.0));

        let depts: Vec<&str> = r.by_department.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(depts, ["samr", "tax"]);
        let samr = &r.by_department[0];
        assert_eq!(samr.label, g.names.department("samr"));
        assert_eq!((samr.tasks_finished, samr.tasks_on_time), (1, 0), "A's task, approved late");
        assert_eq!(
            (samr.ratings, samr.ratings_by_score),
            (2, [1, 0, 0, 0, 1]),
            "C's rating names samr, A's falls to the lead"
        );
        assert_eq!(samr.rectifications_opened, 1);
        let tax = &r.by_department[1];
        assert_eq!((tax.tasks_finished, tax.tasks_on_time, tax.ratings), (1, 1, 0), "3 of 5 days");
        assert_eq!((tax.accepted_with_deficiency, tax.decided), (1, 0), "C's case figures, where tax took part");

        // Filters: one department, one package.
        let only_tax = g.report("2026-02", &Filter { department: Some("tax".into()), package_id: None });
        assert_eq!(only_tax.by_department.len(), 1);
        assert_eq!((only_tax.total.tasks_finished, only_tax.total.submitted, only_tax.total.ratings), (1, 1, 0));
        let other = g.report("2026-02", &Filter { department: None, package_id: Some("newborn".into()) });
        assert!(other.total.is_empty() && other.by_department.is_empty() && other.by_package.is_empty());
    }

    #[test]
    fn the_csv_has_a_header_and_one_row_per_total_department_and_package_with_plain_numbers() {
        let g = two_months();
        let mut r = g.report("2026-02", &Filter::default());
        r.by_package[0].label = "包, \"引号\"".into();
        let csv = to_csv(&r);
        assert!(csv.starts_with('\u{feff}'));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1 + 1 + 2 + 1);
        assert_eq!(lines[0].split(',').count(), CSV_HEADER.len());
        assert!(lines[0].starts_with("统计月份,行类型,代码,名称,申请数"));
        assert!(
            lines[1].starts_with("2026-02,合计,,合计,1,0,1,1,0,1,1,0,0,0,1,1,1.0000,8.00,2,1,0.5000,"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("2026-02,部门,samr,"));
        assert!(lines[4].starts_with("2026-02,事项包,open-restaurant,\"包, \"\"引号\"\"\","), "{}", lines[4]);
    }
}

//! The monthly statistics (月度统计) of the office report, computed from the
//! case read models alone (pure): every figure is counted in the month (China
//! time) in which its event happened — submissions by submission, acceptances
//! by the day of acceptance, decisions by decision, tasks by their end,
//! warnings when raised, ratings when given, rectifications when opened or
//! closed. Rows: the (filtered) total, one per department (tasks, ratings and
//! rectifications of that department; case counts of the cases it took part
//! in) and one per package.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use yiciban_calendar::date_in_china;

use super::Names;
use super::view::{Acceptance, CaseView, Outcome, TaskState, TaskView};

/// A calendar month in China time: the domain's one month type, the same
/// the monthly reports are due by ([`ReportPeriod`]).
///
/// [`ReportPeriod`]: yiciban_domain::reporting::ReportPeriod
pub use yiciban_domain::reporting::ReportPeriod as Month;

/// The month of an instant, in China time.
pub fn month_of(at: DateTime<Utc>) -> Month {
    Month::of(date_in_china(at))
}

/// What the statistics ask of a month about instants (China time).
pub trait Instants {
    /// Its first instant (00:00 China time of its first day).
    fn start(self) -> DateTime<Utc>;
    /// True when `at` falls in it.
    fn holds(self, at: DateTime<Utc>) -> bool;
    /// True when `at` is set and falls in it.
    fn has(self, at: Option<DateTime<Utc>>) -> bool;
}

impl Instants for Month {
    fn start(self) -> DateTime<Utc> {
        yiciban_calendar::start_of_day(self.first_day())
    }

    fn holds(self, at: DateTime<Utc>) -> bool {
        month_of(at) == self
    }

    fn has(self, at: Option<DateTime<Utc>>) -> bool {
        at.is_some_and(|at| self.holds(at))
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
    let month = Month::parse(text.trim()).map_err(|_| PeriodError::Malformed)?;
    if month > month_of(now) {
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

/// True for a task that finished (approved, denied, or approved and later
/// revoked) with its final working days known.
pub(crate) fn task_finished(task: &TaskView) -> bool {
    matches!(task.state, TaskState::Approved | TaskState::Denied | TaskState::Revoked)
        && task.final_working_days.is_some()
}

/// Whether a finished task was on time, as its final event said (older
/// events: by its working days against its limit).
pub(crate) fn task_on_time(task: &TaskView) -> bool {
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
        if task_finished(task) && month.has(task.finished_at) {
            row.tasks_finished += 1;
            row.tasks_on_time += u32::from(task_on_time(task));
        }
        row.yellow_warnings += u32::from(month.has(task.yellow_at));
        row.red_warnings += u32::from(month.has(task.red_at));
    }
    for rating in &case.ratings {
        let concerned = if rating.department.is_empty() { &case.lead_department } else { &rating.department };
        if !ours(concerned) || !month.holds(rating.at) {
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
    if case.accepted_on.is_some_and(|d| month.contains(d)) {
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
    for visit in case.return_visits.iter().filter(|v| month.holds(v.at)) {
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

mod csv;

pub use csv::{CSV_HEADER, to_csv};

#[cfg(test)]
pub(crate) mod tests;

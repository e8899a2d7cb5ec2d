//! The items behind an assessment (考核) of a period, selected from the case
//! read models (pure): the tasks finished, the valid ratings received and
//! the rectifications opened in its months, each with its department and the
//! person it concerns. Counted in the month their event happened, exactly as
//! the monthly statistics count them ([`super::stats`]), so one month's
//! items and its report agree.
//!
//! A task concerns the agent it was assigned to when it finished. A rating
//! or rectification concerns a department (a rating of the whole case: the
//! lead department) and, within it, every agent who handled a task of that
//! department on the case (谁办理、谁负责).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike as _, Utc};

use super::stats::{Month, PeriodError, month_of, parse_period, task_finished, task_on_time};
use super::view::{CaseView, Verdict};

/// The longest period an assessment covers, in months.
pub const MAX_MONTHS: i32 = 12;

/// The months `from`..=`to` (China time), at most [`MAX_MONTHS`] of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from: Month,
    to: Month,
}

/// Why a period cannot be assessed, by the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodRefusal {
    /// A month malformed or in the future.
    Month { field: &'static str, error: PeriodError },
    /// `to` before `from`.
    Reversed { from: Month },
    /// More than [`MAX_MONTHS`] months.
    TooLong,
}

impl PeriodRefusal {
    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PeriodRefusal::Month { field, .. } => field,
            PeriodRefusal::Reversed { .. } | PeriodRefusal::TooLong => "to_month",
        }
    }

    /// What is wrong with it, for a person.
    pub fn description(&self) -> String {
        match self {
            PeriodRefusal::Month { error, .. } => error.to_string(),
            PeriodRefusal::Reversed { from } => format!("不能早于起始月份 {from}"),
            PeriodRefusal::TooLong => format!("考核期最长{MAX_MONTHS}个月"),
        }
    }
}

impl Period {
    /// The period of a request: both months "YYYY-MM", not after the month
    /// of `now`, in order, at most [`MAX_MONTHS`] months. Every problem at
    /// once.
    pub fn parse(from: &str, to: &str, now: DateTime<Utc>) -> Result<Period, Vec<PeriodRefusal>> {
        let from = parse_period(from, now).map_err(|error| PeriodRefusal::Month { field: "from_month", error });
        let to = parse_period(to, now).map_err(|error| PeriodRefusal::Month { field: "to_month", error });
        match (from, to) {
            (Ok(from), Ok(to)) if to < from => Err(vec![PeriodRefusal::Reversed { from }]),
            (Ok(from), Ok(to)) if months_between(from, to) >= MAX_MONTHS => Err(vec![PeriodRefusal::TooLong]),
            (Ok(from), Ok(to)) => Ok(Period { from, to }),
            (from, to) => Err([from.err(), to.err()].into_iter().flatten().collect()),
        }
    }

    /// Its first month.
    pub fn from(self) -> Month {
        self.from
    }

    /// Its last month.
    pub fn to(self) -> Month {
        self.to
    }

    /// True when `at` falls in one of its months (China time).
    pub fn contains(self, at: DateTime<Utc>) -> bool {
        (self.from..=self.to).contains(&month_of(at))
    }

    fn has(self, at: Option<DateTime<Utc>>) -> bool {
        at.is_some_and(|at| self.contains(at))
    }
}

/// How many months `to` comes after `from` (0 for the same month).
fn months_between(from: Month, to: Month) -> i32 {
    let (a, b) = (from.first_day(), to.first_day());
    (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32
}

/// Whose items are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    /// Only this department's.
    pub department: Option<String>,
    /// Only those concerning this staff login.
    pub person: Option<String>,
}

impl ItemFilter {
    fn admits(&self, department: &str, persons: &[String]) -> bool {
        self.department.as_deref().is_none_or(|d| d == department)
            && self.person.as_deref().is_none_or(|p| persons.iter().any(|q| q == p))
    }
}

/// A task finished in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskItem {
    pub task_id: String,
    pub case_id: String,
    pub case_number: String,
    pub department: String,
    /// The assignee when it finished; empty if never claimed.
    pub person: String,
    pub finished_at: DateTime<Utc>,
    pub on_time: bool,
}

/// A valid rating received in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingItem {
    pub rating_id: String,
    pub case_id: String,
    pub case_number: String,
    /// The department rated (the lead department for the whole case).
    pub department: String,
    pub score: u32,
    /// The agents who handled that department's tasks on the case.
    pub persons: Vec<String>,
    pub rated_at: DateTime<Utc>,
}

/// A rectification opened in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectificationItem {
    pub rectification_id: String,
    pub case_id: String,
    pub case_number: String,
    pub department: String,
    /// The agents who handled that department's tasks on the case.
    pub persons: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub verdict: Verdict,
    pub closed: bool,
}

/// The items of a period, each list ordered by case number, then id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Items {
    pub tasks: Vec<TaskItem>,
    pub ratings: Vec<RatingItem>,
    pub rectifications: Vec<RectificationItem>,
    /// Time of the latest event folded into the cases read.
    pub as_of: Option<DateTime<Utc>>,
}

/// The agents who handled a task of `department` on `case`, each once.
fn handlers(case: &CaseView, department: &str) -> Vec<String> {
    let persons: BTreeSet<&str> = case
        .tasks
        .values()
        .filter(|t| t.department == department && !t.assignee.is_empty())
        .map(|t| t.assignee.as_str())
        .collect();
    persons.into_iter().map(str::to_owned).collect()
}

/// The items of `period` over `cases` (any superset of the cases with an
/// event in it), restricted by `filter`.
pub fn assessment_items(cases: &[CaseView], period: Period, filter: &ItemFilter) -> Items {
    let mut items = Items { as_of: cases.iter().filter_map(|c| c.last_event_at).max(), ..Items::default() };
    for case in cases {
        for task in case.tasks.values().filter(|t| task_finished(t)) {
            let Some(finished_at) = task.finished_at.filter(|at| period.contains(*at)) else { continue };
            if !filter.admits(&task.department, std::slice::from_ref(&task.assignee)) {
                continue;
            }
            items.tasks.push(TaskItem {
                task_id: task.task_id.clone(),
                case_id: case.case_id.clone(),
                case_number: case.case_number.clone(),
                department: task.department.clone(),
                person: task.assignee.clone(),
                finished_at,
                on_time: task_on_time(task),
            });
        }
        for rating in case.ratings.iter().filter(|r| r.valid && period.contains(r.at)) {
            let department = if rating.department.is_empty() { &case.lead_department } else { &rating.department };
            let persons = handlers(case, department);
            if !filter.admits(department, &persons) {
                continue;
            }
            items.ratings.push(RatingItem {
                rating_id: rating.rating_id.clone(),
                case_id: case.case_id.clone(),
                case_number: case.case_number.clone(),
                department: department.clone(),
                score: rating.score,
                persons,
                rated_at: rating.at,
            });
        }
        for r in case.rectifications.iter().filter(|r| period.has(r.opened_at)) {
            let persons = handlers(case, &r.department);
            if !filter.admits(&r.department, &persons) {
                continue;
            }
            items.rectifications.push(RectificationItem {
                rectification_id: r.rectification_id.clone(),
                case_id: case.case_id.clone(),
                case_number: case.case_number.clone(),
                department: r.department.clone(),
                persons,
                opened_at: r.opened_at.unwrap_or_default(),
                verdict: r.verdict,
                closed: r.closed_at.is_some(),
            });
        }
    }
    items.tasks.sort_by(|a, b| (&a.case_number, &a.task_id).cmp(&(&b.case_number, &b.task_id)));
    items.ratings.sort_by(|a, b| (&a.case_number, &a.rating_id).cmp(&(&b.case_number, &b.rating_id)));
    items
        .rectifications
        .sort_by(|a, b| (&a.case_number, &a.rectification_id).cmp(&(&b.case_number, &b.rectification_id)));
    items
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::projection::stats::Filter;
    use crate::projection::stats::tests::{A, C, two_months};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-10T12:00:00+08:00").unwrap().with_timezone(&Utc)
    }

    fn period(from: &str, to: &str) -> Period {
        Period::parse(from, to, now()).unwrap()
    }

    fn select(from: &str, to: &str, filter: &ItemFilter) -> Items {
        let g = two_months();
        let mut cases: Vec<CaseView> = g.views.values().cloned().collect();
        cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        assessment_items(&cases, period(from, to), filter)
    }

    #[test]
    fn a_period_is_up_to_twelve_past_or_current_months_in_order_with_every_fault_at_once() {
        let p = period("2025-04", "2026-03");
        assert_eq!((p.from().to_string(), p.to().to_string()), ("2025-04".to_owned(), "2026-03".to_owned()));
        let fields = |from: &str, to: &str| -> Vec<&'static str> {
            Period::parse(from, to, now()).unwrap_err().iter().map(PeriodRefusal::field).collect()
        };
        assert_eq!(fields("2025-03", "2026-03"), ["to_month"], "thirteen months");
        assert_eq!(fields("2026-02", "2026-01"), ["to_month"], "reversed");
        assert_eq!(fields("x", "2026-04"), ["from_month", "to_month"], "malformed and future");
        let refusal = &Period::parse("2026-02", "2026-01", now()).unwrap_err()[0];
        assert_eq!(refusal.description(), "不能早于起始月份 2026-02");
    }

    #[test]
    fn the_items_of_one_month_agree_with_its_monthly_statistics_department_by_department() {
        let g = two_months();
        for month in ["2026-01", "2026-02"] {
            let report = g.report(month, &Filter::default());
            for row in std::iter::once(&report.total).chain(&report.by_department) {
                let department = Some(row.key.clone()).filter(|k| !k.is_empty());
                let items = select(month, month, &ItemFilter { department, person: None });
                let on_time = items.tasks.iter().filter(|t| t.on_time).count() as u32;
                let bad = items.ratings.iter().filter(|r| r.score <= 2).count() as u32;
                assert_eq!(
                    (items.tasks.len() as u32, on_time, items.ratings.len() as u32, bad),
                    (row.tasks_finished, row.tasks_on_time, row.ratings, row.bad_ratings),
                    "{month} {}",
                    row.key
                );
                assert_eq!(items.rectifications.len() as u32, row.rectifications_opened, "{month} {}", row.key);
            }
        }
    }

    #[test]
    fn each_item_names_its_case_department_and_the_person_who_handled_it() {
        let items = select("2026-01", "2026-02", &ItemFilter::default());
        let tasks: Vec<(&str, &str, &str, bool)> = items
            .tasks
            .iter()
            .map(|t| (t.case_id.as_str(), t.department.as_str(), t.person.as_str(), t.on_time))
            .collect();
        assert_eq!(tasks, [(A, "samr", "agent-samr-1", false), (C, "tax", "agent-tax-1", true)]);
        assert_eq!(items.tasks[0].case_number, "YCB-20260120-000001");
        // A's rating of the whole case falls to the lead department; C's
        // names samr, where nobody on C handled a task; C's set-aside
        // rating is not listed.
        let ratings: Vec<(&str, &str, u32, Vec<String>)> = items
            .ratings
            .iter()
            .map(|r| (r.rating_id.as_str(), r.department.as_str(), r.score, r.persons.clone()))
            .collect();
        assert_eq!(ratings, [("ra", "samr", 5, vec!["agent-samr-1".to_owned()]), ("rc", "samr", 1, vec![])]);
        let x = &items.rectifications[0];
        assert_eq!((x.rectification_id.as_str(), x.case_id.as_str(), x.department.as_str()), ("x1", C, "samr"));
        assert_eq!((x.verdict, x.closed), (Verdict::Justified, false));
        assert_eq!(items.as_of, two_months().views.values().filter_map(|c| c.last_event_at).max());
    }

    #[test]
    fn a_person_gets_the_items_that_concern_them_and_a_month_without_events_none() {
        let mine = select("2026-01", "2026-02", &ItemFilter { department: None, person: Some("agent-samr-1".into()) });
        assert_eq!((mine.tasks.len(), mine.ratings.len(), mine.rectifications.len()), (1, 1, 0));
        assert_eq!(mine.ratings[0].rating_id, "ra");
        let tax = select("2026-02", "2026-02", &ItemFilter { department: Some("tax".into()), person: None });
        assert_eq!((tax.tasks.len(), tax.ratings.len(), tax.rectifications.len()), (1, 0, 0));
        let january = select("2026-01", "2026-01", &ItemFilter::default());
        assert!(january.tasks.is_empty() && january.ratings.is_empty() && january.rectifications.is_empty());
    }
}

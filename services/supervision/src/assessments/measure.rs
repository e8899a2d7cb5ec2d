//! Measuring (pure): the period of a request, and every indicator for every
//! department or person from tracking's case items, the upheld complaints
//! of the office's own records and the monthly reports due — each figure
//! with the evidence behind it, so that `count` is the number of its
//! evidence that counts (ADR 0040). Scoring is the domain's
//! ([`yiciban_domain::reporting::assessment`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use yiciban_domain::refusal::FieldViolation;
use yiciban_domain::reporting::ReportPeriod;
use yiciban_domain::reporting::assessment::{AssessmentKind, Evidence, Indicator, Measured};
use yiciban_proto::tracking::v1 as tracking;

/// The longest period, in months.
pub const MAX_MONTHS: u32 = 12;

/// The period of a request: both months "YYYY-MM", not after the month of
/// `today`, in order, at most [`MAX_MONTHS`] months. Every problem at once.
pub fn period(from: &str, to: &str, today: NaiveDate) -> Result<(ReportPeriod, ReportPeriod), Vec<FieldViolation>> {
    let this_month = ReportPeriod::of(today);
    let month = |field: &str, text: &str| match ReportPeriod::parse(text.trim()) {
        Ok(m) if m > this_month => Err(FieldViolation::new(field, format!("{m} 尚未开始，不能考核未来的月份"))),
        Ok(m) => Ok(m),
        Err(e) => Err(FieldViolation::new(field, e.to_string())),
    };
    match (month("from_month", from), month("to_month", to)) {
        (Ok(from), Ok(to)) if to < from => {
            Err(vec![FieldViolation::new("to_month", format!("不能早于起始月份 {from}"))])
        }
        (Ok(from), Ok(to)) if months_between(from, to) >= MAX_MONTHS => {
            Err(vec![FieldViolation::new("to_month", format!("考核期最长{MAX_MONTHS}个月"))])
        }
        (Ok(from), Ok(to)) => Ok((from, to)),
        (from, to) => Err([from.err(), to.err()].into_iter().flatten().collect()),
    }
}

fn months_between(from: ReportPeriod, to: ReportPeriod) -> u32 {
    let mut n = 0;
    let mut m = from;
    while m < to {
        m = m.next();
        n += 1;
    }
    n
}

/// A complaint the office upheld: closed, not as unfounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpheldComplaint {
    /// The opinion's id.
    pub opinion_id: String,
    /// The case it concerns; empty when none.
    pub case_id: String,
    /// The department it was assigned to (or concerns); empty when none.
    pub department: String,
    /// The person it was assigned to (or names); empty when none.
    pub person: String,
}

/// A monthly report due in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDue {
    /// The report's id.
    pub report_id: String,
    /// Its department.
    pub department: String,
    /// Submitted by the 15th of the next month.
    pub on_time: bool,
}

/// The reports `departments` owed for `month` (its 15th passed), each
/// on time when its row says it was submitted by then; a department with
/// no row made no submission. A report is named by its month and
/// department ("2026-09/samr"), its stream `report-<id>` derived from both.
pub fn reports_of_month<'a>(
    month: ReportPeriod,
    departments: impl IntoIterator<Item = &'a str>,
    rows: &[crate::reports::rows::ReportRow],
) -> Vec<ReportDue> {
    departments
        .into_iter()
        .map(|department| ReportDue {
            report_id: format!("{month}/{department}"),
            department: department.to_owned(),
            on_time: rows.iter().any(|r| r.department == department && r.submitted_on_time),
        })
        .collect()
}

/// Everything measured for one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// Tracking's items of the period.
    pub items: tracking::ListAssessmentItemsResponse,
    /// Complaints upheld, received in the period.
    pub complaints: Vec<UpheldComplaint>,
    /// Reports due in the period (departments only).
    pub reports: Vec<ReportDue>,
}

fn evidence(kind: &str, id: &str, case_id: &str, counts: bool) -> Evidence {
    Evidence { kind: kind.into(), id: id.into(), case_id: (!case_id.is_empty()).then(|| case_id.to_owned()), counts }
}

/// Whom an item counts for: its department, or the persons it concerns.
fn pick<'a>(kind: AssessmentKind, department: &'a str, persons: Vec<&'a str>) -> Vec<&'a str> {
    match kind {
        AssessmentKind::Departments => vec![department],
        AssessmentKind::Persons => persons,
    }
}

/// Figures of one subject as they are gathered.
#[derive(Debug, Default)]
struct Tally {
    tasks: Vec<Evidence>,
    ratings: Vec<Evidence>,
    rectifications: Vec<Evidence>,
    complaints: Vec<Evidence>,
    reports: Vec<Evidence>,
}

fn counted(evidence: &[Evidence]) -> u32 {
    u32::try_from(evidence.iter().filter(|e| e.counts).count()).unwrap_or(u32::MAX)
}

fn rate(indicator: Indicator, evidence: Vec<Evidence>) -> Measured {
    let out_of = u32::try_from(evidence.len()).unwrap_or(u32::MAX);
    Measured { indicator, count: counted(&evidence), out_of, evidence }
}

fn deduction(indicator: Indicator, evidence: Vec<Evidence>) -> Measured {
    Measured { indicator, count: counted(&evidence), out_of: 0, evidence }
}

impl Tally {
    fn measured(self, kind: AssessmentKind) -> Vec<Measured> {
        let mut m = vec![
            rate(Indicator::OnTimeRate, self.tasks),
            rate(Indicator::BadRatingRate, self.ratings),
            deduction(Indicator::Rectifications, self.rectifications),
            deduction(Indicator::OpinionsUpheld, self.complaints),
        ];
        // Report punctuality applies to departments, and only where a
        // report was due: with none, the line is left out and the total
        // scaled over the rest rather than given for nothing.
        if kind == AssessmentKind::Departments && !self.reports.is_empty() {
            m.push(rate(Indicator::ReportPunctuality, self.reports));
        }
        m
    }
}

/// Every indicator for every department (or person) with an item in
/// `sources`, in order of subject. A task counts for its department and its
/// assignee; a rating or rectification for its department and each agent
/// who handled that department's tasks on the case; an upheld complaint for
/// the department and person it was assigned to; a report for its
/// department. Only rectifications found justified and complaints upheld
/// are counted; a rate's evidence holds all its items, those that count
/// (on time, bad) marked.
pub fn measure(kind: AssessmentKind, sources: &Sources) -> BTreeMap<String, Vec<Measured>> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut add = |subjects: Vec<&str>, put: &dyn Fn(&mut Tally)| {
        for s in subjects.into_iter().filter(|s| !s.is_empty()) {
            put(tallies.entry(s.to_owned()).or_default());
        }
    };
    let items = &sources.items;
    for t in &items.tasks {
        let e = evidence("task", &t.task_id, &t.case_id, t.on_time);
        add(pick(kind, &t.department, vec![t.person.as_str()]), &|tally| tally.tasks.push(e.clone()));
    }
    for r in &items.ratings {
        let e = evidence("rating", &r.rating_id, &r.case_id, r.score <= 2);
        let persons = r.persons.iter().map(String::as_str).collect();
        add(pick(kind, &r.department, persons), &|tally| tally.ratings.push(e.clone()));
    }
    let justified = tracking::RectificationVerdict::Justified as i32;
    for r in items.rectifications.iter().filter(|r| r.verdict == justified) {
        let e = evidence("rectification", &r.rectification_id, &r.case_id, true);
        let persons = r.persons.iter().map(String::as_str).collect();
        add(pick(kind, &r.department, persons), &|tally| tally.rectifications.push(e.clone()));
    }
    for c in &sources.complaints {
        let e = evidence("opinion", &c.opinion_id, &c.case_id, true);
        add(pick(kind, &c.department, vec![c.person.as_str()]), &|tally| tally.complaints.push(e.clone()));
    }
    if kind == AssessmentKind::Departments {
        for r in &sources.reports {
            let e = evidence("report", &r.report_id, "", r.on_time);
            add(vec![r.department.as_str()], &|tally| tally.reports.push(e.clone()));
        }
    }
    tallies.into_iter().map(|(subject, tally)| (subject, tally.measured(kind))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn task(id: &str, department: &str, person: &str, on_time: bool) -> tracking::AssessmentTask {
        tracking::AssessmentTask {
            task_id: id.into(),
            case_id: format!("case-{id}"),
            department: department.into(),
            person: person.into(),
            on_time,
            ..Default::default()
        }
    }

    fn sources() -> Sources {
        let rating = |id: &str, score: u32, persons: &[&str]| tracking::AssessmentRating {
            rating_id: id.into(),
            case_id: "case-r".into(),
            department: "samr".into(),
            score,
            persons: persons.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        };
        let rectification = |id: &str, verdict: tracking::RectificationVerdict| tracking::AssessmentRectification {
            rectification_id: id.into(),
            case_id: "case-r".into(),
            department: "samr".into(),
            persons: vec!["agent-a".into()],
            verdict: verdict as i32,
            ..Default::default()
        };
        Sources {
            items: tracking::ListAssessmentItemsResponse {
                tasks: vec![
                    task("t1", "samr", "agent-a", true),
                    task("t2", "samr", "agent-b", false),
                    task("t3", "tax", "agent-t", true),
                ],
                ratings: vec![rating("r1", 1, &["agent-a", "agent-b"]), rating("r2", 5, &[])],
                rectifications: vec![
                    rectification("x1", tracking::RectificationVerdict::Justified),
                    rectification("x2", tracking::RectificationVerdict::Unfounded),
                    rectification("x3", tracking::RectificationVerdict::Unspecified),
                ],
                as_of: None,
            },
            complaints: vec![UpheldComplaint {
                opinion_id: "o1".into(),
                case_id: String::new(),
                department: "tax".into(),
                person: "agent-t".into(),
            }],
            reports: vec![ReportDue { report_id: "p1".into(), department: "tax".into(), on_time: false }],
        }
    }

    fn line(m: &[Measured], indicator: Indicator) -> Option<&Measured> {
        m.iter().find(|l| l.indicator == indicator)
    }

    #[test]
    fn a_period_is_up_to_twelve_past_or_current_months_in_order() {
        let today = day("2026-07-03");
        let (from, to) = period("2025-08", "2026-07", today).unwrap();
        assert_eq!((from.to_string(), to.to_string()), ("2025-08".to_owned(), "2026-07".to_owned()));
        let fields = |from: &str, to: &str| -> Vec<String> {
            period(from, to, today).unwrap_err().into_iter().map(|v| v.field).collect()
        };
        assert_eq!(fields("2025-07", "2026-07"), ["to_month"], "thirteen months");
        assert_eq!(fields("2026-05", "2026-04"), ["to_month"], "reversed");
        assert_eq!(fields("", "2026-08"), ["from_month", "to_month"], "empty and future");
    }

    #[test]
    fn departments_get_every_figure_with_its_evidence_and_count_what_counts() {
        let m = measure(AssessmentKind::Departments, &sources());
        assert_eq!(m.keys().collect::<Vec<_>>(), ["samr", "tax"]);
        let samr = &m["samr"];
        let on_time = line(samr, Indicator::OnTimeRate).unwrap();
        assert_eq!((on_time.count, on_time.out_of, on_time.evidence.len()), (1, 2, 2));
        let bad = line(samr, Indicator::BadRatingRate).unwrap();
        assert_eq!((bad.count, bad.out_of), (1, 2));
        let rect = line(samr, Indicator::Rectifications).unwrap();
        assert_eq!((rect.count, rect.evidence[0].id.as_str()), (1, "x1"), "only the justified one");
        assert!(line(samr, Indicator::ReportPunctuality).is_none(), "no report was due");
        let tax = &m["tax"];
        let upheld = line(tax, Indicator::OpinionsUpheld).unwrap();
        assert_eq!(
            (upheld.count, upheld.evidence[0].kind.as_str(), upheld.evidence[0].case_id.clone()),
            (1, "opinion", None)
        );
        let reports = line(tax, Indicator::ReportPunctuality).unwrap();
        assert_eq!((reports.count, reports.out_of), (0, 1));
        for measured in m.values().flatten() {
            assert_eq!(measured.count as usize, measured.evidence.iter().filter(|e| e.counts).count());
        }
    }

    #[test]
    fn persons_get_their_tasks_and_the_ratings_of_the_cases_they_handled_and_no_reports() {
        let m = measure(AssessmentKind::Persons, &sources());
        assert_eq!(m.keys().collect::<Vec<_>>(), ["agent-a", "agent-b", "agent-t"]);
        let b = &m["agent-b"];
        assert_eq!(line(b, Indicator::OnTimeRate).map(|l| (l.count, l.out_of)), Some((0, 1)));
        assert_eq!(line(b, Indicator::BadRatingRate).map(|l| (l.count, l.out_of)), Some((1, 1)));
        assert_eq!(line(&m["agent-a"], Indicator::Rectifications).map(|l| l.count), Some(1));
        assert_eq!(line(&m["agent-t"], Indicator::OpinionsUpheld).map(|l| l.count), Some(1));
        assert!(m.values().all(|lines| line(lines, Indicator::ReportPunctuality).is_none()));
    }
}

//! The monthly statistics: periods, counting per month, departments and packages, the CSV.

use std::collections::HashMap;

use chrono::NaiveDate;
use prost::{Message, Name};
use yiciban_domain::catalog::Catalog;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::events::v1 as ev;

use super::*;
use crate::projection::{Context, Decoded, apply};

fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

fn pd(y: i32, m: u32, d: u32) -> Option<common::Date> {
    Some(NaiveDate::from_ymd_opt(y, m, d).unwrap().into())
}

/// Cases built by folding events.
pub(crate) struct Cases {
    pub(crate) names: Names,
    pub(crate) views: HashMap<&'static str, CaseView>,
    versions: HashMap<String, u64>,
}

impl Cases {
    fn new() -> Cases {
        Cases { names: Names::from_catalog(&Catalog::seed().unwrap()), views: HashMap::new(), versions: HashMap::new() }
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
        apply(
            view,
            &decoded,
            &Context { names: &self.names, identity_key: &crate::projection::tests::test_key("key") },
        );
    }

    pub(crate) fn report(&self, period: &str, filter: &Filter) -> Report {
        let mut cases: Vec<CaseView> = self.views.values().cloned().collect();
        cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        monthly_report(&cases, Month::parse(period).unwrap(), filter, &self.names)
    }
}

pub(crate) const A: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000a1";
pub(crate) const B: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000a2";
pub(crate) const C: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000a3";

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
        promised_by: Some((NaiveDate::from_ymd_opt(on.0, on.1, on.2).unwrap() + chrono::Days::new(14)).into()),
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
pub(crate) fn two_months() -> Cases {
    let mut g = Cases::new();
    g.event(A, "case", "2026-01-20T09:00", &submitted("YCB-20260120-000001"));
    g.event(A, "case", "2026-01-20T09:10", &accepted("YCB-20260120-000001", (2026, 1, 20), false, 0));
    g.event(A, "task", "2026-01-20T10:00", &task(A, "samr"));
    let claim = |case: &str, department: &str, assignee: &str| ev::TaskClaimed {
        task_id: format!("{case}-t-{department}"),
        assignee: assignee.into(),
    };
    g.event(A, "task", "2026-01-20T11:00", &claim(A, "samr", "agent-samr-1"));
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
    g.event(C, "task", "2026-02-02T11:00", &claim(C, "tax", "agent-tax-1"));
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
        "2026-02-05T11:00",
        &ev::RectificationVerified {
            rectification_id: "x1".into(),
            finding: common::RectificationFinding::JustifiedSimple as i32,
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
    for bad in ["", "2026-1", "2026-13", "2026-00", "26-01", "2026/01", "2026-01-01", "２０２６-01", "abcd-ef"] {
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
    assert_eq!((r.by_package[0].key.as_str(), r.by_package[0].label.as_str()), ("open-restaurant", "开办餐饮店一件事"));
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
    assert_eq!((t.submitted, t.accepted, t.accepted_with_deficiency, t.commitments, t.not_accepted), (1, 0, 1, 1, 0));
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
    assert!(lines[1].starts_with("2026-02,合计,,合计,1,0,1,1,0,1,1,0,0,0,1,1,1.0000,8.00,2,1,0.5000,"), "{}", lines[1]);
    assert!(lines[2].starts_with("2026-02,部门,samr,"));
    assert!(lines[4].starts_with("2026-02,事项包,open-restaurant,\"包, \"\"引号\"\"\","), "{}", lines[4]);
}

#[test]
fn a_name_with_commas_quotes_or_line_breaks_reads_back_whole_from_the_csv() {
    let g = two_months();
    let mut r = g.report("2026-02", &Filter::default());
    let label = "包, \"引号\"\r\n第二行";
    r.by_package[0].label = label.into();
    let csv = to_csv(&r);
    let mut reader = ::csv::ReaderBuilder::new().from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
    let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1 + 2 + 1);
    assert_eq!((&records[3][1], &records[3][3]), ("事项包", label));
}

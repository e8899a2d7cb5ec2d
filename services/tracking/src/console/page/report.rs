//! `/report?month=YYYY-MM`: the monthly statistics by department and by
//! package, each table closed by the total, with the CSV download link.

use askama::Template;
use yiciban_proto::tracking::v1 as pb;

use super::format;
use super::{Layout, Links};

/// The monthly report's page.
#[derive(Debug, Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub layout: Layout,
    /// The month of the report, "YYYY-MM".
    pub period: String,
    /// The month as asked (the form's value).
    pub month: String,
    pub csv_href: String,
    pub generated: String,
    /// By department, then by package.
    pub tables: Vec<StatsTable>,
}

/// One table of the report.
#[derive(Debug, Clone)]
pub struct StatsTable {
    pub title: &'static str,
    pub rows: Vec<StatsRow>,
    /// The month's total, shown as the last row.
    pub total: Option<StatsRow>,
}

/// One row of figures, worded for the page.
#[derive(Debug, Clone)]
pub struct StatsRow {
    pub label: String,
    pub submitted: u32,
    pub accepted: u32,
    pub accepted_with_deficiency: u32,
    pub commitments: u32,
    pub not_accepted: u32,
    pub closed: u32,
    pub on_time_rate: String,
    /// With one decimal.
    pub average_working_days: String,
    pub ratings: u32,
    /// The count of each score 1 to 5.
    pub ratings_by_score: Vec<u32>,
    pub satisfaction_rate: String,
    pub rectifications_opened: u32,
    pub rectifications_closed: u32,
    pub rectifications_open: u32,
}

impl ReportPage {
    /// The page of report `r`, asked for as `month`.
    pub fn new(links: &Links, month: &str, r: &pb::MonthlyReport) -> ReportPage {
        let total = r.total.as_ref().map(StatsRow::new);
        let table = |title, rows: &[pb::StatisticsRow]| StatsTable {
            title,
            rows: rows.iter().map(StatsRow::new).collect(),
            total: total.clone(),
        };
        ReportPage {
            layout: Layout::new("月度统计", links),
            period: r.period.clone(),
            month: month.to_owned(),
            csv_href: links.href("/report.csv", &[("month", &r.period)]),
            generated: format::at(r.generated_at.as_ref()),
            tables: vec![table("按部门 By department", &r.by_department), table("按套餐 By package", &r.by_package)],
        }
    }
}

impl StatsRow {
    fn new(x: &pb::StatisticsRow) -> StatsRow {
        StatsRow {
            label: x.label.clone(),
            submitted: x.submitted,
            accepted: x.accepted,
            accepted_with_deficiency: x.accepted_with_deficiency,
            commitments: x.commitments,
            not_accepted: x.not_accepted,
            closed: x.closed,
            on_time_rate: format::percent(x.on_time_rate),
            average_working_days: format!("{:.1}", x.average_working_days),
            ratings: x.ratings,
            ratings_by_score: x.ratings_by_score.clone(),
            satisfaction_rate: format::percent(x.satisfaction_rate),
            rectifications_opened: x.rectifications_opened,
            rectifications_closed: x.rectifications_closed,
            rectifications_open: x.rectifications_open,
        }
    }
}

//! `/statistics`: one month's figures from tracking's MonthlyStatistics
//! (total, by department, by package), and the link to the same figures
//! as a CSV file (`/statistics.csv`, ExportMonthlyStatisticsCsv).

use askama::Template;
use chrono::{DateTime, FixedOffset, Utc};
use yiciban_proto::tracking::v1::{
    ExportMonthlyStatisticsCsvRequest, MonthlyReport, MonthlyStatisticsRequest, StatisticsRow,
};

use super::filters::{BadFilter, code};
use super::inbox::Choice;
use super::{Layout, format};
use crate::Names;

/// The month and filters of the page's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticsQuery {
    /// `YYYY-MM`.
    pub period: String,
    pub department: String,
    pub package: String,
}

/// `YYYY-MM` of `now` in Beijing time.
pub fn this_month(now: DateTime<Utc>) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    now.with_timezone(&beijing).format("%Y-%m").to_string()
}

impl StatisticsQuery {
    /// The query of `pairs`; the month defaults to `default_period`.
    pub fn parse(pairs: &[(String, String)], default_period: &str) -> Result<StatisticsQuery, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let period = match get("period") {
            "" => default_period.to_owned(),
            p => {
                let b = p.as_bytes();
                let month = p.get(5..).and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
                let shaped = b.len() == 7
                    && b[4] == b'-'
                    && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit())
                    && (1..=12).contains(&month);
                if !shaped {
                    return Err(BadFilter {
                        field: "period", reason: "应为 YYYY-MM 格式的月份，如 2026-11".into()
                    });
                }
                p.to_owned()
            }
        };
        Ok(StatisticsQuery {
            period,
            department: code("department", get("department"), 64)?,
            package: code("package", get("package"), 64)?,
        })
    }

    pub fn request(&self) -> MonthlyStatisticsRequest {
        MonthlyStatisticsRequest {
            period: self.period.clone(),
            department: self.department.clone(),
            package_id: self.package.clone(),
        }
    }

    pub fn csv_request(&self) -> ExportMonthlyStatisticsCsvRequest {
        ExportMonthlyStatisticsCsvRequest {
            period: self.period.clone(),
            department: self.department.clone(),
            package_id: self.package.clone(),
        }
    }

    /// The query string (without `?`).
    pub fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("period", &self.period);
        if !self.department.is_empty() {
            q.append_pair("department", &self.department);
        }
        if !self.package.is_empty() {
            q.append_pair("package", &self.package);
        }
        q.finish()
    }
}

/// One row of figures, worded.
#[derive(Debug, Clone)]
pub struct FiguresRow {
    pub label: String,
    pub submitted: u32,
    pub accepted: u32,
    pub accepted_with_deficiency: u32,
    pub not_accepted: u32,
    pub decided: u32,
    pub closed: u32,
    pub on_time_rate: String,
    pub average_working_days: String,
    pub task_on_time_rate: String,
    pub yellow: u32,
    pub red: u32,
    pub ratings: u32,
    pub satisfaction_rate: String,
    pub rectifications_open: u32,
    pub rectifications_opened: u32,
    pub rectifications_closed: u32,
    /// Accepted with a commitment replacing a proof (告知承诺).
    pub commitments: u32,
    /// `1分 0 · 2分 1 · …`: the valid ratings by score.
    pub ratings_by_score: String,
}

impl FiguresRow {
    fn new(r: &StatisticsRow, label: String) -> FiguresRow {
        FiguresRow {
            label,
            submitted: r.submitted,
            accepted: r.accepted,
            accepted_with_deficiency: r.accepted_with_deficiency,
            not_accepted: r.not_accepted,
            decided: r.decided,
            closed: r.closed,
            on_time_rate: format::percent(r.on_time_rate),
            average_working_days: format!("{:.1}", r.average_working_days),
            task_on_time_rate: format::percent(r.task_on_time_rate),
            yellow: r.yellow_warnings,
            red: r.red_warnings,
            ratings: r.ratings,
            satisfaction_rate: format::percent(r.satisfaction_rate),
            rectifications_open: r.rectifications_open,
            rectifications_opened: r.rectifications_opened,
            rectifications_closed: r.rectifications_closed,
            commitments: r.commitments,
            ratings_by_score: r
                .ratings_by_score
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{}分 {n}", i + 1))
                .collect::<Vec<_>>()
                .join(" · "),
        }
    }
}

/// The figures of a month.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub period: String,
    pub generated_at: String,
    pub as_of: String,
    pub total: Option<FiguresRow>,
    pub by_department: Vec<FiguresRow>,
    pub by_package: Vec<FiguresRow>,
}

impl ReportView {
    fn new(report: &MonthlyReport, names: &Names) -> ReportView {
        let label = |r: &StatisticsRow, name: &dyn Fn(&str) -> String| {
            if r.label.is_empty() { name(&r.key) } else { r.label.clone() }
        };
        ReportView {
            period: report.period.clone(),
            generated_at: format::timestamp(report.generated_at.as_ref()),
            as_of: format::timestamp(report.as_of.as_ref()),
            total: report.total.as_ref().map(|r| FiguresRow::new(r, "合计".to_owned())),
            by_department: report
                .by_department
                .iter()
                .map(|r| FiguresRow::new(r, label(r, &|k| names.department(k))))
                .collect(),
            by_package: report.by_package.iter().map(|r| FiguresRow::new(r, label(r, &|k| names.package(k)))).collect(),
        }
    }
}

impl ReportView {
    /// The tables below the total: by department, by package.
    pub fn sections(&self) -> [(&'static str, &[FiguresRow]); 2] {
        [("按部门", &self.by_department), ("按一件事", &self.by_package)]
    }
}

/// `/statistics`.
#[derive(Debug, Template)]
#[template(path = "statistics.html")]
pub struct StatisticsPage {
    pub layout: Layout,
    pub period: String,
    pub departments: Vec<Choice>,
    pub packages: Vec<Choice>,
    /// `/statistics.csv?…` for the same month and filters.
    pub csv_href: String,
    pub report: Option<ReportView>,
    /// The query's or the service's refusal.
    pub error: Option<String>,
}

impl StatisticsPage {
    pub fn new(layout: Layout, query: &StatisticsQuery, report: Option<&MonthlyReport>, names: &Names) -> Self {
        let choices = |all: &str, map: &std::collections::BTreeMap<String, String>, chosen: &str| {
            let mut list = vec![Choice { value: String::new(), label: all.to_owned(), selected: chosen.is_empty() }];
            list.extend(map.iter().map(|(code, name)| Choice {
                value: code.clone(),
                label: name.clone(),
                selected: code == chosen,
            }));
            list
        };
        StatisticsPage {
            layout,
            period: query.period.clone(),
            departments: choices("全部部门", &names.departments, &query.department),
            packages: choices("全部一件事", &names.packages, &query.package),
            csv_href: format!("/statistics.csv?{}", query.query()),
            report: report.map(|r| ReportView::new(r, names)),
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
    fn the_month_defaults_to_this_one_in_beijing_and_must_be_a_month() {
        // 2026-11-30 17:00 UTC is already December in Beijing.
        let now = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(this_month(now), "2026-12");
        let q = StatisticsQuery::parse(&pairs(""), "2026-12").unwrap();
        assert_eq!(q.query(), "period=2026-12");
        let q = StatisticsQuery::parse(&pairs("period=2026-01&department=samr"), "2026-12").unwrap();
        assert_eq!((q.request().period.as_str(), q.csv_request().department.as_str()), ("2026-01", "samr"));
        for bad in ["2026-13", "2026-1", "26-01-01", "2026/01", "２０２６-01"] {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("period", bad).finish();
            assert_eq!(StatisticsQuery::parse(&pairs(&query), "2026-12").unwrap_err().field, "period", "{bad}");
        }
    }
}

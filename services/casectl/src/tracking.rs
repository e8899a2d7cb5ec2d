//! `casectl timeline | worklist | overdue`: the case officer's views over the
//! tracking service (`--tracking-addr`): one case's full-process timeline,
//! an officer's cases most urgent first, and the yellow/red board.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;

use crate::connect::{Connection, explain};
use crate::text::{self, date, or_dash, timestamp};

#[derive(Debug, Subcommand)]
pub enum TrackingCommand {
    /// A case's full-process timeline (全流程): every step of every department, in order.
    Timeline {
        /// Id of the case (UUID) or its case number (YCB-…).
        case: String,
    },
    /// An officer's cases, most urgent first (default: the caller's own).
    Worklist {
        /// Staff login of the officer (supervisors only).
        #[arg(long)]
        officer: Option<String>,
    },
    /// Tasks with a yellow or red card (黄牌/红牌), red first.
    Overdue {
        /// Only this department (an agent always sees its own).
        #[arg(long)]
        department: Option<String>,
    },
    /// Rebuild every read model from the event stores beside the live ones, with a progress bar (admin).
    Rebuild {
        /// One read model to name (empty = all; they are rebuilt together anyway).
        #[arg(long, default_value = "")]
        projection: String,
    },
    /// The monthly statistics for the office report (月度统计), per department and package.
    Report {
        /// The month, YYYY-MM (China time).
        #[arg(long)]
        month: String,
        /// Write the CSV export to this file instead of printing the table.
        #[arg(long, value_name = "FILE")]
        csv: Option<std::path::PathBuf>,
    },
}

pub async fn run(conn: &Connection, command: TrackingCommand) -> anyhow::Result<()> {
    let mut client = TrackingServiceClient::new(conn.tracking_channel().await?);
    match command {
        TrackingCommand::Timeline { case } => {
            let case_id = if case.starts_with("YCB-") {
                client
                    .find_case_by_number(pb::FindCaseByNumberRequest { case_number: case })
                    .await
                    .map_err(explain)?
                    .into_inner()
                    .summary
                    .context("tracking sent no case")?
                    .case_id
            } else {
                case
            };
            let mut entries = Vec::new();
            let mut token = String::new();
            let summary = loop {
                let page = client
                    .get_timeline(pb::GetTimelineRequest {
                        case_id: case_id.clone(),
                        page_size: 1000,
                        page_token: token,
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                entries.extend(page.entries);
                if page.next_page_token.is_empty() {
                    break page.summary;
                }
                token = page.next_page_token;
            };
            if let Some(s) = &summary {
                print!("{}", summary_text(s));
            }
            print!("{}", timeline_table(&entries));
        }
        TrackingCommand::Worklist { officer } => {
            let page = client
                .officer_worklist(pb::OfficerWorklistRequest {
                    officer_id: officer.unwrap_or_default(),
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .map_err(explain)?
                .into_inner();
            let rows: Vec<Vec<String>> = page
                .cases
                .iter()
                .map(|c| {
                    vec![
                        c.case_number.clone(),
                        status_name(c.status()).to_owned(),
                        warning(c.warning()).to_owned(),
                        date(c.promised_by.as_ref()),
                        format!("{}/{}", c.working_days_used, c.promised_working_days),
                        holders(c),
                        c.owed_by_applicant.join("; "),
                    ]
                })
                .collect();
            print!(
                "{}",
                text::table(&["CASE", "STATUS", "WARNING", "PROMISED BY", "DAYS", "HELD BY", "APPLICANT OWES"], &rows)
            );
            println!("{} case(s)", page.total_count);
        }
        TrackingCommand::Overdue { department } => {
            let page = client
                .overdue_board(pb::OverdueBoardRequest {
                    department: department.unwrap_or_default(),
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .map_err(explain)?
                .into_inner();
            let rows: Vec<Vec<String>> = page
                .entries
                .iter()
                .map(|e| {
                    let t = e.task.clone().unwrap_or_default();
                    vec![
                        warning(t.warning()).to_owned(),
                        t.case_number.clone(),
                        t.department.clone(),
                        or_dash(&t.assignee).to_owned(),
                        date(t.due_by.as_ref()),
                        e.overdue_working_days.to_string(),
                        if e.escalated { format!("→ {}", e.lead_department) } else { "-".into() },
                        format!("{} {}", t.item_code, t.item_name),
                    ]
                })
                .collect();
            print!(
                "{}",
                text::table(&["CARD", "CASE", "DEPT", "ASSIGNEE", "DUE", "OVERDUE", "ESCALATED", "ITEM"], &rows)
            );
            println!("{} red, {} yellow", page.red_count, page.yellow_count);
        }
        TrackingCommand::Rebuild { projection } => {
            let started = client
                .start_rebuild(pb::StartRebuildRequest {
                    idempotency_key: uuid::Uuid::new_v4().to_string(),
                    projection,
                })
                .await
                .map_err(explain)?
                .into_inner();
            let bar = rebuild_bar(on_terminal_stderr(), 40);
            loop {
                let p = client
                    .get_rebuild_progress(pb::GetRebuildProgressRequest { rebuild_id: started.rebuild_id.clone() })
                    .await
                    .map_err(explain)?
                    .into_inner();
                advance(&bar, p.events_applied, p.events_total);
                match p.state() {
                    pb::RebuildState::Completed => {
                        bar.finish();
                        println!("rebuild {} done: {} events, switched over", p.rebuild_id, p.events_applied);
                        break;
                    }
                    pb::RebuildState::Failed => {
                        bar.abandon();
                        anyhow::bail!(
                            "rebuild {} failed: {} (the live read models stay in use)",
                            p.rebuild_id,
                            p.error
                        );
                    }
                    _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
                }
            }
        }
        TrackingCommand::Report { month, csv: Some(path) } => {
            let file = client
                .export_monthly_statistics_csv(pb::ExportMonthlyStatisticsCsvRequest {
                    period: month,
                    ..Default::default()
                })
                .await
                .map_err(explain)?
                .into_inner();
            std::fs::write(&path, &file.content).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {} ({} bytes)", path.display(), file.content.len());
        }
        TrackingCommand::Report { month, csv: None } => {
            let report = client
                .monthly_statistics(pb::MonthlyStatisticsRequest { period: month, ..Default::default() })
                .await
                .map_err(explain)?
                .into_inner()
                .report
                .context("tracking sent no report")?;
            print!("{}", report_table(&report));
        }
    }
    Ok(())
}

/// One line per total, department and package: the figures of the office report.
pub fn report_table(report: &pb::MonthlyReport) -> String {
    let row = |r: &pb::StatisticsRow| {
        vec![
            r.label.clone(),
            r.submitted.to_string(),
            r.accepted.to_string(),
            r.accepted_with_deficiency.to_string(),
            r.commitments.to_string(),
            r.not_accepted.to_string(),
            r.closed.to_string(),
            format!("{:.1}%", r.on_time_rate * 100.0),
            format!("{:.1}", r.average_working_days),
            r.ratings_by_score.iter().map(u32::to_string).collect::<Vec<_>>().join("/"),
            format!("{}/{}", r.rectifications_open, r.rectifications_closed),
        ]
    };
    let rows: Vec<Vec<String>> =
        report.total.iter().chain(report.by_department.iter()).chain(report.by_package.iter()).map(row).collect();
    format!(
        "period {}\n{}",
        report.period,
        text::table(
            &[
                "",
                "APPLIED",
                "ACCEPTED",
                "DEFICIENCY",
                "COMMITMENTS",
                "NOT ACCEPTED",
                "CLOSED",
                "ON TIME",
                "AVG DAYS",
                "RATINGS 1/2/3/4/5",
                "RECTIFICATIONS OPEN/CLOSED",
            ],
            &rows
        )
    )
}

/// Standard error when it is a terminal; otherwise a hidden target, so that
/// a pipe or a CI log gets no bar at all (the closing line on stdout says
/// how the rebuild ended).
fn on_terminal_stderr() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

/// The rebuild's bar, `[#####-----]  50% 5/10 events` with `width`
/// characters of bar.
fn rebuild_bar(target: ProgressDrawTarget, width: usize) -> ProgressBar {
    let style = ProgressStyle::with_template(&format!("[{{bar:{width}}}] {{percent:>3}}% {{pos}}/{{len}} events"))
        .expect("the progress template is valid")
        .progress_chars("#-");
    // No length until the rebuild has counted its events: 0 %, not 100 %.
    ProgressBar::with_draw_target(None, target).with_style(style)
}

/// Shows `done` of `total` events (a total of 0: not counted yet).
fn advance(bar: &ProgressBar, done: u64, total: u64) {
    if total > 0 {
        bar.set_length(total);
    }
    bar.set_position(done);
}

fn warning(level: common::WarningLevel) -> &'static str {
    match level {
        common::WarningLevel::Unspecified => "-",
        common::WarningLevel::Yellow => "🟡 yellow",
        common::WarningLevel::Red => "🔴 red",
    }
}

fn status_name(status: common::CaseStatus) -> &'static str {
    match status {
        common::CaseStatus::Unspecified => "-",
        common::CaseStatus::Submitted => "submitted 已申报",
        common::CaseStatus::Accepted => "accepted 已受理",
        common::CaseStatus::AcceptedWithDeficiency => "accepted with deficiency 容缺受理",
        common::CaseStatus::NotAccepted => "not accepted 不予受理",
        common::CaseStatus::InJointProcessing => "in joint processing 联办中",
        common::CaseStatus::WaitingForSupplement => "waiting for supplement 补正中",
        common::CaseStatus::Approved => "approved 准予",
        common::CaseStatus::Denied => "denied 不予许可",
        common::CaseStatus::Issued => "issued 已出件",
        common::CaseStatus::Closed => "closed 办结",
        common::CaseStatus::Withdrawn => "withdrawn 撤回",
        common::CaseStatus::Terminated => "terminated 终止",
    }
}

fn holders(c: &pb::CaseSummary) -> String {
    if c.holders.is_empty() {
        return "-".into();
    }
    c.holders.iter().map(|h| format!("{} ({}d)", h.department, h.working_days_held)).collect::<Vec<_>>().join(", ")
}

/// The header of a timeline: who holds the case and how its clock stands.
pub fn summary_text(s: &pb::CaseSummary) -> String {
    let clock = if s.clock_stopped { "stopped (补正)" } else { "running" };
    format!(
        "case          {} ({})\npackage       {}\napplicant     {}\nstatus        {}\nofficer       {}\nclock         {} of {} working days used, promised by {}, {}\nheld by       {}\n\n",
        s.case_number,
        s.case_id,
        s.package_name,
        s.applicant_display,
        status_name(s.status()),
        or_dash(&s.officer_id),
        s.working_days_used,
        s.promised_working_days,
        date(s.promised_by.as_ref()),
        clock,
        holders(s),
    )
}

/// Every entry as a table row: when, department, working days the step took, what.
pub fn timeline_table(entries: &[pb::TimelineEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                timestamp(e.occurred_at.as_ref()),
                or_dash(&e.department).to_owned(),
                e.working_days_since_previous.to_string(),
                e.summary.clone(),
            ]
        })
        .collect();
    text::table(&["WHEN", "DEPT", "+DAYS", "WHAT"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bar as a terminal shows it after `done` of `total` events.
    fn progress_bar(done: u64, total: u64, width: usize) -> String {
        let term = indicatif::InMemoryTerm::new(2, 80);
        let bar = rebuild_bar(ProgressDrawTarget::term_like(Box::new(term.clone())), width);
        advance(&bar, done, total);
        // Draws the frame as it stands (finishing would move it to the end).
        bar.abandon();
        term.contents()
    }

    #[test]
    fn the_progress_bar_fills_with_the_share_done() {
        assert_eq!(progress_bar(0, 0, 10), "[----------]   0% 0/0 events");
        assert_eq!(progress_bar(5, 10, 10), "[#####-----]  50% 5/10 events");
        assert_eq!(progress_bar(12, 10, 4), "[####] 100% 12/10 events");
    }

    #[test]
    fn a_timeline_reads_as_a_table_of_steps() {
        let entries = vec![
            pb::TimelineEntry {
                event_type: "ApplicationAccepted".into(),
                occurred_at: Some(prost_types::Timestamp { seconds: 1_790_000_000, nanos: 0 }),
                summary: "窗口 clerk-001 受理".into(),
                ..Default::default()
            },
            pb::TimelineEntry {
                event_type: "TaskClaimed".into(),
                department: "samr".into(),
                working_days_since_previous: 2,
                summary: "市场监督管理局 agent-samr-1 认领 食品经营许可".into(),
                ..Default::default()
            },
        ];
        let table = timeline_table(&entries);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("WHEN"));
        assert!(lines[1].contains("窗口 clerk-001 受理"));
        assert!(lines[2].contains("samr") && lines[2].contains("  2  "));
    }
}

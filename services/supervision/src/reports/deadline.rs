//! The report deadline sweep: on and after the 16th, every department of
//! the catalog in force that made no submission of the previous month by
//! the 15th gets ONE `ReportFlaggedLate` (逾期未报, the warning on the
//! supervisor's board), raised through the same command path as the RPCs.
//! Only the previous month is swept: a month whose 16th to last day saw no
//! sweep at all (the service down the whole time) is not flagged later;
//! its list row still reads "not started" past its due day. The stream is found from the
//! department and month alone (the report id is derived from both), the
//! idempotency key is `flag-late-<report>` in the system's namespace, and
//! the aggregate flags a report only once: sweeps that overlap (several
//! replicas), repeat or catch up after a restart flag each late report
//! exactly once. A department whose flag fails is logged, counted
//! (`yiciban_sweep_failures_total{sweep="supervision-escalation"}`, the
//! service's sweep) and tried again by the next sweep.

use chrono::NaiveDate;
use tonic::Code;
use yiciban_commands::{Executed, Invocation, Target};
use yiciban_domain::reporting::{Command, ReportPeriod, report_id};
use yiciban_domain::values::DepartmentCode;
use yiciban_proto::supervision::v1 as pb;

use crate::{SWEEPER, Supervision};

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadlineReport {
    /// Reports flagged late now.
    pub flagged: usize,
    /// Reports whose flag failed (retried by the next sweep).
    pub failed: usize,
}

/// Whether `period`'s report is owed and late on `today`: past its 15th,
/// and not before `from`, the first month reported through yiciban
/// (`YICIBAN_REPORTS_FROM`; none: every month).
pub fn owed(period: ReportPeriod, today: NaiveDate, from: Option<ReportPeriod>) -> bool {
    period.is_late_on(today) && from.is_none_or(|first| period >= first)
}

/// The month whose reports are swept on `today`: the previous one, from
/// the 16th on, unless it is before `from`.
pub fn months_due(today: NaiveDate, from: Option<ReportPeriod>) -> Vec<ReportPeriod> {
    let previous = ReportPeriod::of(today).previous();
    [previous].into_iter().filter(|p| owed(*p, today, from)).collect()
}

/// Flags every late report of the months due on `today`. `UNAVAILABLE`
/// (an error) while the catalog cannot list its departments.
pub async fn sweep_once(state: &Supervision, today: NaiveDate) -> anyhow::Result<DeadlineReport> {
    let mut report = DeadlineReport::default();
    let months = months_due(today, state.reports_from);
    if months.is_empty() {
        return Ok(report);
    }
    let departments = state
        .catalog
        .departments()
        .await
        .map_err(|s| anyhow::anyhow!("listing the catalog's departments: {}", s.message()))?;
    for period in months {
        for (code, _) in &departments {
            let Ok(department) = DepartmentCode::parse(code) else {
                tracing::warn!(department = code, "the catalog names a department code the reports refuse; skipped");
                continue;
            };
            match flag(state, &department, period, today).await {
                Ok(true) => report.flagged += 1,
                Ok(false) => {}
                Err(e) => {
                    yiciban_metrics::Sweep::SupervisionEscalation.failed();
                    tracing::error!(department = code, %period, error = %format!("{e:#}"), "flagging a late report failed");
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Flags one report late; `false` when it is not late or was flagged
/// before.
async fn flag(
    state: &Supervision,
    department: &DepartmentCode,
    period: ReportPeriod,
    today: NaiveDate,
) -> anyhow::Result<bool> {
    let id = report_id(department, period);
    let invocation = Invocation::system(SWEEPER, format!("flag-late-{id}"));
    let command = Command::FlagLate { department: department.clone(), period, today };
    let result = state
        .reports
        .run(
            Target::Open { id, case_id: id },
            &invocation,
            |_| Ok(command.clone()),
            // Nobody reads the sweep's answer: none is built.
            |_, _| pb::GetReportResponse::default(),
        )
        .await;
    match result {
        Ok(Executed::Done(_)) => Ok(true),
        Ok(Executed::Replayed(_) | Executed::Unchanged(_)) => Ok(false),
        Err(s) if s.code() == Code::FailedPrecondition => Ok(false),
        Err(s) => Err(anyhow::anyhow!("flagging report {id} late: {}", s.message())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn months(today: &str) -> Vec<String> {
        months_due(day(today), None).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_previous_month_is_swept_from_the_16th_to_the_end_of_the_month() {
        assert!(months("2026-12-15").is_empty());
        assert_eq!(months("2026-12-16"), ["2026-11"]);
        assert_eq!(months("2026-12-31"), ["2026-11"]);
        assert!(months("2027-01-01").is_empty());
        assert_eq!(months("2027-01-16"), ["2026-12"]);
    }

    #[test]
    fn months_before_the_first_reported_through_yiciban_are_never_owed() {
        let from = ReportPeriod::parse("2026-12").ok();
        assert!(months_due(day("2026-12-16"), from).is_empty(), "November was reported on paper");
        assert_eq!(months_due(day("2027-01-16"), from).len(), 1);
        assert!(!owed(ReportPeriod::parse("2026-11").unwrap(), day("2027-06-01"), from));
        assert!(owed(ReportPeriod::parse("2026-12").unwrap(), day("2027-06-01"), from));
    }
}

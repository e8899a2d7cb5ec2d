//! `yiciban.supervision.v1.ReportService`: the monthly reports. An agent
//! drafts, submits and reads its own department's (a `department` naming
//! another is PERMISSION_DENIED); supervisors (the 政务公开 office) return,
//! accept, read, list and export all; admins read. Each handler parses the
//! request listing every bad field at once, and changes nothing on any
//! refusal.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use yiciban_commands::{Invocation, Loaded, Target};
use yiciban_domain::Aggregate as _;
use yiciban_domain::reporting::{Command, Event, MonthlyReport, ReportFigures, ReportPeriod, Submit, report_id};
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::status::{from_store, internal};
use yiciban_platform::{Caller, FieldViolation, Role};
use yiciban_proto::convert::reports::{decode_report_event, report_to_pb, text_of};
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::supervision::v1::report_service_server::ReportService;

use super::{refused, violation};
use crate::Supervision;
use crate::reports::{csv, figures, rows};

/// The gRPC face of the monthly reports.
#[derive(Debug, Clone)]
pub struct ReportApi {
    state: Arc<Supervision>,
}

impl ReportApi {
    pub fn new(state: Arc<Supervision>) -> Self {
        ReportApi { state }
    }
}

/// The month of a request, or its violation.
fn period(raw: &str, v: &mut Vec<FieldViolation>) -> Option<ReportPeriod> {
    ReportPeriod::parse(raw.trim()).map_err(|e| v.push(violation("period", e.to_string()))).ok()
}

/// Which department's report a request is about: an agent's own (another
/// named: PERMISSION_DENIED), else the one named (required).
fn department(caller: &Caller, raw: &str, v: &mut Vec<FieldViolation>) -> Result<Option<DepartmentCode>, Status> {
    let raw = raw.trim();
    if caller.role == Role::Agent {
        let own = caller.department.clone().unwrap_or_default();
        if !raw.is_empty() && raw != own {
            return Err(Status::permission_denied(format!(
                "an agent acts for its own department's report only ({own}), not {raw}'s"
            )));
        }
        return Ok(DepartmentCode::parse(&own).map_err(|_| v.push(violation("department", "令牌未指明部门"))).ok());
    }
    if raw.is_empty() {
        v.push(violation("department", "不能为空"));
        return Ok(None);
    }
    Ok(DepartmentCode::parse(raw).map_err(|_| v.push(violation("department", "不是有效的部门代码"))).ok())
}

/// The department and month of a request, every bad field at once.
fn which(caller: &Caller, raw_department: &str, raw_period: &str) -> Result<(DepartmentCode, ReportPeriod), Status> {
    let mut v = Vec::new();
    let department = department(caller, raw_department, &mut v)?;
    let period = period(raw_period, &mut v);
    match (department, period) {
        (Some(d), Some(p)) if v.is_empty() => Ok((d, p)),
        _ => Err(refused(&v)),
    }
}

fn answer(loaded: &Loaded<MonthlyReport>, department: &DepartmentCode, period: ReportPeriod) -> Option<pb::Report> {
    Some(report_to_pb(&loaded.state, department, period, "", Some(loaded.now)))
}

impl ReportApi {
    /// Runs `command` on `department`'s report of `period`.
    async fn run(
        &self,
        invocation: &Invocation,
        department: &DepartmentCode,
        period: ReportPeriod,
        command: Command,
        existing: bool,
    ) -> Result<Option<pb::Report>, Status> {
        let id = report_id(department, period);
        let target = if existing { Target::Existing(id) } else { Target::Open { id, case_id: id } };
        let executed = self
            .state
            .reports
            .run(
                target,
                invocation,
                |_| Ok(command.clone()),
                |after, _| pb::GetReportResponse { report: answer(after, department, period), ..Default::default() },
            )
            .await
            .map_err(|s| match s.code() {
                // A report never started is the domain's NOT_FOUND too.
                tonic::Code::NotFound => Status::not_found(format!("{department} has no report of {period} yet")),
                _ => s,
            })?;
        Ok(executed.into_inner().report)
    }

    /// The department's figures of the month as they stand now.
    async fn figures(&self, department: &DepartmentCode, period: ReportPeriod) -> Result<ReportFigures, Status> {
        let state = &self.state;
        figures::compute(&*state.statistics, state.pool(), state.schema(), department.as_str(), period).await
    }
}

/// One step of a report's history, in Chinese.
fn describe(event: &Event) -> String {
    match event {
        Event::Drafted { .. } => "保存草稿".to_owned(),
        Event::Submitted { submission, on_time, .. } => {
            format!("第 {submission} 次报送{}", if *on_time { "（按时）" } else { "（逾期）" })
        }
        Event::Returned { reason, .. } => format!("退回修改：{reason}"),
        Event::Accepted { .. } => "已采纳".to_owned(),
        Event::FlaggedLate { on, .. } => format!("{on} 逾期未报"),
    }
}

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn save_report_draft(
        &self,
        request: Request<pb::SaveReportDraftRequest>,
    ) -> Result<Response<pb::SaveReportDraftResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Agent], "save a monthly report")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let (department, period) = which(&caller, &req.department, &req.period)?;
        let command = Command::SaveDraft { department: department.clone(), period, text: text_of(req.text.as_ref()) };
        let report = self.run(&invocation, &department, period, command, false).await?;
        Ok(Response::new(pb::SaveReportDraftResponse { report }))
    }

    async fn submit_report(
        &self,
        request: Request<pb::SubmitReportRequest>,
    ) -> Result<Response<pb::SubmitReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Agent], "submit a monthly report")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let (department, period) = which(&caller, &req.department, &req.period)?;
        let today = self.state.today();
        // Before the month is over the domain refuses whatever the figures;
        // tracking is not asked about a month that is still running.
        let figures =
            if period.is_over_on(today) { self.figures(&department, period).await? } else { ReportFigures::default() };
        let command = Command::Submit(Submit {
            department: department.clone(),
            period,
            text: text_of(req.text.as_ref()),
            figures,
            today,
        });
        let report = self.run(&invocation, &department, period, command, false).await?;
        Ok(Response::new(pb::SubmitReportResponse { report }))
    }

    async fn return_report(
        &self,
        request: Request<pb::ReturnReportRequest>,
    ) -> Result<Response<pb::ReturnReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Supervisor], "return a monthly report")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let (department, period) = which(&caller, &req.department, &req.period)?;
        let command = Command::Return { reason: req.reason.trim().to_owned() };
        let report = self.run(&invocation, &department, period, command, true).await?;
        Ok(Response::new(pb::ReturnReportResponse { report }))
    }

    async fn accept_report(
        &self,
        request: Request<pb::AcceptReportRequest>,
    ) -> Result<Response<pb::AcceptReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Supervisor], "accept a monthly report")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let (department, period) = which(&caller, &req.department, &req.period)?;
        let report = self.run(&invocation, &department, period, Command::Accept, true).await?;
        Ok(Response::new(pb::AcceptReportResponse { report }))
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::GetReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Agent, Role::Supervisor, Role::Admin], "read a monthly report")?;
        let req = request.into_inner();
        let (department, period) = which(&caller, &req.department, &req.period)?;
        let id = report_id(&department, period);
        let stored =
            self.state.reports.store().read_stream(&MonthlyReport::stream_id(id), 1).await.map_err(from_store)?;
        let mut state = MonthlyReport::default();
        let mut history = Vec::with_capacity(stored.len());
        for e in &stored {
            let event =
                decode_report_event(&e.event_type, &e.payload).map_err(|err| internal("reading the report", &err))?;
            state = state.evolve(&event);
            history.push(pb::ReportStep {
                event_type: e.event_type.clone(),
                text: describe(&event),
                actor: e.metadata.actor.clone(),
                at: Some(timestamp(e.metadata.occurred_at)),
            });
        }
        let today = self.state.today();
        let preview = if state.status().open_to_the_department() && period.first_day() <= today {
            Some(pb::ReportFigures::from(&self.figures(&department, period).await?))
        } else {
            None
        };
        let name = self.state.department_name(department.as_str()).await;
        let updated_at = stored.last().map(|e| e.metadata.occurred_at);
        Ok(Response::new(pb::GetReportResponse {
            report: Some(report_to_pb(&state, &department, period, &name, updated_at)),
            preview,
            history,
        }))
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Agent, Role::Supervisor, Role::Admin], "list monthly reports")?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let period = period(&req.period, &mut v);
        let status = match pb::ReportStatus::try_from(req.status) {
            Ok(pb::ReportStatus::Unspecified) => None,
            Ok(s) => Some(s),
            Err(_) => {
                v.push(violation("status", "unknown value"));
                None
            }
        };
        let Some(period) = period.filter(|_| v.is_empty()) else { return Err(refused(&v)) };
        let mut reports = month(&self.state, period).await?;
        if caller.role == Role::Agent {
            let own = caller.department.clone().unwrap_or_default();
            reports.retain(|r| r.department == own);
        }
        reports.retain(|r| status.is_none_or(|s| r.status() == s) && (!req.late_only || r.flagged_late_on.is_some()));
        Ok(Response::new(pb::ListReportsResponse {
            period: period.to_string(),
            due_on: Some(period.due_on().into()),
            reports,
        }))
    }

    async fn export_reports_csv(
        &self,
        request: Request<pb::ExportReportsCsvRequest>,
    ) -> Result<Response<pb::ExportReportsCsvResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Supervisor, Role::Admin], "export the monthly reports")?;
        let mut v = Vec::new();
        let Some(period) = period(&request.get_ref().period, &mut v) else { return Err(refused(&v)) };
        let reports = month(&self.state, period).await?;
        Ok(Response::new(pb::ExportReportsCsvResponse {
            content: csv::to_csv(&reports),
            content_type: "text/csv; charset=utf-8".into(),
            file_name: format!("yiciban-reports-{period}.csv"),
        }))
    }
}

/// Every department's report of `period`: the catalog's departments and
/// those with a row, a department without a row answered as not started.
async fn month(state: &Supervision, period: ReportPeriod) -> Result<Vec<pb::Report>, Status> {
    use prost::Message as _;
    let departments = state.catalog.departments().await?;
    let stored = rows::of_month(state.pool(), state.schema(), &period.to_string())
        .await
        .map_err(|e| internal("listing the month's reports", &e))?;
    let mut by_department = std::collections::BTreeMap::new();
    for row in stored {
        let report = pb::Report::decode(row.report.as_slice()).map_err(|e| internal("reading a report row", &e))?;
        by_department.insert(row.department, report);
    }
    for (code, _) in &departments {
        if let (false, Ok(department)) = (by_department.contains_key(code), DepartmentCode::parse(code)) {
            let not_started = report_to_pb(&MonthlyReport::default(), &department, period, "", None);
            by_department.insert(code.clone(), not_started);
        }
    }
    let names: std::collections::HashMap<_, _> = departments.into_iter().collect();
    Ok(by_department
        .into_values()
        .map(|mut r| {
            r.department_name = names.get(&r.department).cloned().unwrap_or_default();
            r
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_month_names_its_field() {
        let mut v = Vec::new();
        assert_eq!(period("2026-13", &mut v), None);
        assert_eq!(v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["period"]);
        assert!(period(" 2026-11 ", &mut v).is_some());
    }

    #[test]
    fn every_step_reads_in_chinese() {
        let d = DepartmentCode::parse("samr").unwrap();
        let p = ReportPeriod::parse("2026-11").unwrap();
        assert_eq!(describe(&Event::Returned { submission: 1, reason: "数字有误".into() }), "退回修改：数字有误");
        let flagged = Event::FlaggedLate { department: d, period: p, on: p.due_on().succ_opt().unwrap() };
        assert_eq!(describe(&flagged), "2026-12-16 逾期未报");
    }
}

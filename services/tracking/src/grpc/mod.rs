//! The gRPC face of the tracking service: TrackingService. Each query parses
//! its request (every malformed field at once, as INVALID_ARGUMENT with field
//! violations), authorises the caller (see [`access`]), reads the tables and
//! evaluates the time-dependent figures at the injected clock's now. The
//! monthly statistics are computed from the case read models; rebuilds run
//! in the background (see [`crate::rebuild`]).

mod access;
mod wire;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_domain::values::CaseNumber;
use yiciban_platform::status::{internal, invalid_argument};
use yiciban_platform::{Caller, FieldViolation, Role};
use yiciban_proto::tracking::v1 as pb;
use yiciban_proto::tracking::v1::tracking_service_server::TrackingService;

use crate::Tracking;
use crate::projection::stats::Instants as _;
use crate::projection::{CaseStatus, CaseView, TaskState, Warning, items, stats};
use crate::rebuild::{PROJECTIONS, RebuildError};
use access::{case_not_found, list_scope, may_read};

/// Default page of the lists.
const DEFAULT_PAGE: u32 = 50;
/// Largest page of the lists.
const MAX_PAGE: u32 = 500;
/// Default page of a timeline.
const DEFAULT_TIMELINE_PAGE: u32 = 200;
/// Largest page of a timeline.
const MAX_TIMELINE_PAGE: u32 = 1000;
/// Most items of one kind an assessment's period may hold.
const MAX_ASSESSMENT_ITEMS: usize = 20_000;

/// The TrackingService RPCs.
#[derive(Debug, Clone)]
pub struct TrackingApi {
    tracking: Arc<Tracking>,
}

impl TrackingApi {
    /// The RPCs over the service state.
    pub fn new(tracking: Arc<Tracking>) -> Self {
        TrackingApi { tracking }
    }

    /// The case `case_id` if the caller may read it; NOT_FOUND otherwise.
    pub(crate) async fn readable_case(&self, caller: &Caller, case_id: Uuid) -> Result<CaseView, Status> {
        let what = case_id.to_string();
        let view = self
            .tracking
            .repo
            .case(case_id)
            .await
            .map_err(|e| internal("reading a case", &e))?
            .ok_or_else(|| case_not_found(&what))?;
        may_read(caller, &view, self.tracking.identity_key(), &what)?;
        Ok(view)
    }

    /// The statistics of a requested month: the period parsed (malformed or
    /// future: INVALID_ARGUMENT), the cases with an event since its start
    /// read, the figures computed.
    async fn report(&self, period: &str, department: &str, package_id: &str) -> Result<stats::Report, Status> {
        let month = stats::parse_period(period, self.tracking.clock.now())
            .map_err(|e| refuse(&[violation("period", e.to_string())]))?;
        let cases =
            self.tracking.repo.cases_since(month.start()).await.map_err(|e| internal("reading the cases", &e))?;
        let filter = stats::Filter {
            department: Some(department.trim().to_owned()).filter(|d| !d.is_empty()),
            package_id: Some(package_id.trim().to_owned()).filter(|p| !p.is_empty()),
        };
        Ok(stats::monthly_report(&cases, month, &filter, &self.tracking.names.current()))
    }

    fn summary(&self, view: &CaseView) -> pb::CaseSummary {
        wire::summary(view, self.tracking.clock.now(), &self.tracking.calendar.current())
    }
}

fn violation(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
    FieldViolation { field: field.into(), description: description.into() }
}

fn refuse(v: &[FieldViolation]) -> Status {
    invalid_argument("the request is invalid", v)
}

fn parse_uuid(v: &mut Vec<FieldViolation>, field: &str, raw: &str) -> Uuid {
    raw.trim().parse().unwrap_or_else(|_| {
        v.push(violation(field, "须为UUID，如 0190f3c2-7a1e-7c3e-8f00-000000000000"));
        Uuid::nil()
    })
}

/// (offset, size) of a page request.
fn page(v: &mut Vec<FieldViolation>, page_size: u32, page_token: &str, default: u32, max: u32) -> (i64, i64) {
    if page_size > max {
        v.push(violation("page_size", format!("每页最多{max}条")));
    }
    let offset = if page_token.is_empty() {
        0
    } else {
        page_token.parse::<i64>().ok().filter(|o| *o >= 0).unwrap_or_else(|| {
            v.push(violation("page_token", "须为上一页返回的 next_page_token"));
            0
        })
    };
    let size = if page_size == 0 { default } else { page_size.min(max) };
    (offset, i64::from(size))
}

fn next_token(offset: i64, returned: usize, total: i64) -> String {
    let next = offset + returned as i64;
    if next < total { next.to_string() } else { String::new() }
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[tonic::async_trait]
impl TrackingService for TrackingApi {
    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn get_case_summary(
        &self,
        request: Request<pb::GetCaseSummaryRequest>,
    ) -> Result<Response<pb::GetCaseSummaryResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let case_id = parse_uuid(&mut v, "case_id", &req.case_id);
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let view = self.readable_case(&caller, case_id).await?;
        Ok(Response::new(pb::GetCaseSummaryResponse { summary: Some(self.summary(&view)) }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn get_timeline(
        &self,
        request: Request<pb::GetTimelineRequest>,
    ) -> Result<Response<pb::GetTimelineResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let case_id = parse_uuid(&mut v, "case_id", &req.case_id);
        let (offset, size) = page(&mut v, req.page_size, &req.page_token, DEFAULT_TIMELINE_PAGE, MAX_TIMELINE_PAGE);
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let view = self.readable_case(&caller, case_id).await?;
        let (mut previous, entries, total) =
            self.tracking.repo.timeline(case_id, offset, size).await.map_err(|e| internal("reading a timeline", &e))?;
        let calendar = &self.tracking.calendar.current();
        let mut out = Vec::with_capacity(entries.len());
        for entry in &entries {
            out.push(wire::timeline_entry(entry, previous.as_ref(), &view, calendar));
            previous = Some(entry.clone());
        }
        Ok(Response::new(pb::GetTimelineResponse {
            next_page_token: next_token(offset, out.len(), total),
            entries: out,
            summary: Some(self.summary(&view)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn find_case_by_number(
        &self,
        request: Request<pb::FindCaseByNumberRequest>,
    ) -> Result<Response<pb::FindCaseByNumberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let number = request.into_inner().case_number.trim().to_owned();
        if let Err(e) = CaseNumber::parse(&number) {
            return Err(refuse(&[violation("case_number", e.to_string())]));
        }
        let view = self
            .tracking
            .repo
            .case_by_number(&number)
            .await
            .map_err(|e| internal("finding a case by number", &e))?
            .ok_or_else(|| case_not_found(&number))?;
        may_read(&caller, &view, self.tracking.identity_key(), &number)?;
        Ok(Response::new(pb::FindCaseByNumberResponse { summary: Some(self.summary(&view)) }))
    }

    #[tracing::instrument(skip_all)]
    async fn officer_worklist(
        &self,
        request: Request<pb::OfficerWorklistRequest>,
    ) -> Result<Response<pb::OfficerWorklistResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Officer, Role::Supervisor], "read officer worklists")?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let asked = req.officer_id.trim();
        let officer_id = match caller.role {
            Role::Officer if asked.is_empty() || asked == caller.subject => caller.subject.clone(),
            Role::Officer => {
                return Err(Status::permission_denied(format!(
                    "an officer reads only their own worklist, not {asked:?}"
                )));
            }
            _ if asked.is_empty() => {
                v.push(violation("officer_id", "须指明专人的登录名"));
                String::new()
            }
            _ => asked.to_owned(),
        };
        let mut statuses = Vec::new();
        for (i, s) in req.statuses.iter().enumerate() {
            match CaseStatus::from_pb(*s) {
                Some(status) => statuses.push(status.as_str()),
                None => v.push(violation(format!("statuses[{i}]"), "不是有效的办件状态")),
            }
        }
        let min_warning = Warning::from_pb(req.min_warning).unwrap_or_else(|| {
            v.push(violation("min_warning", "不是有效的预警等级"));
            Warning::None
        });
        let (offset, size) = page(&mut v, req.page_size, &req.page_token, DEFAULT_PAGE, MAX_PAGE);
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let (cases, total) = self
            .tracking
            .repo
            .worklist(&officer_id, &statuses, min_warning.rank(), offset, size)
            .await
            .map_err(|e| internal("reading a worklist", &e))?;
        Ok(Response::new(pb::OfficerWorklistResponse {
            next_page_token: next_token(offset, cases.len(), total),
            cases: cases.iter().map(|c| self.summary(c)).collect(),
            total_count: count(total),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn department_queue(
        &self,
        request: Request<pb::DepartmentQueueRequest>,
    ) -> Result<Response<pb::DepartmentQueueResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Agent, Role::Officer, Role::Supervisor], "read department queues")?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let scope = list_scope(&caller, &req.department, "queue")?;
        let department = scope.department.clone().unwrap_or_else(|| {
            v.push(violation("department", "须指明部门代码"));
            String::new()
        });
        let mut states = Vec::new();
        for (i, s) in req.states.iter().enumerate() {
            match TaskState::from_pb(*s) {
                Some(state) => states.push(state.as_str()),
                None => v.push(violation(format!("states[{i}]"), "不是有效的环节状态")),
            }
        }
        if states.is_empty() {
            states = TaskState::ALL.into_iter().filter(|s| s.is_open()).map(TaskState::as_str).collect();
        }
        let (offset, size) = page(&mut v, req.page_size, &req.page_token, DEFAULT_PAGE, MAX_PAGE);
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let package = Some(req.package_id.trim()).filter(|p| !p.is_empty());
        let (tasks, total) = self
            .tracking
            .repo
            .department_queue(&department, scope.officer.as_deref(), &states, package, offset, size)
            .await
            .map_err(|e| internal("reading a department queue", &e))?;
        let now = self.tracking.clock.now();
        Ok(Response::new(pb::DepartmentQueueResponse {
            next_page_token: next_token(offset, tasks.len(), total),
            tasks: tasks.iter().map(|t| wire::task_row(t, now, &self.tracking.calendar.current())).collect(),
            total_count: count(total),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn overdue_board(
        &self,
        request: Request<pb::OverdueBoardRequest>,
    ) -> Result<Response<pb::OverdueBoardResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Officer, Role::Supervisor, Role::Agent], "read the overdue board")?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let scope = list_scope(&caller, &req.department, "overdue board")?;
        let min_level = match Warning::from_pb(req.min_level) {
            Some(Warning::None) => Warning::Yellow,
            Some(level) => level,
            None => {
                v.push(violation("min_level", "不是有效的预警等级"));
                Warning::Yellow
            }
        };
        let (offset, size) = page(&mut v, req.page_size, &req.page_token, DEFAULT_PAGE, MAX_PAGE);
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let (tasks, yellow, red) = self
            .tracking
            .repo
            .overdue(scope.department.as_deref(), scope.officer.as_deref(), min_level.rank(), offset, size)
            .await
            .map_err(|e| internal("reading the overdue board", &e))?;
        let now = self.tracking.clock.now();
        Ok(Response::new(pb::OverdueBoardResponse {
            next_page_token: next_token(offset, tasks.len(), yellow + red),
            entries: tasks.iter().map(|t| wire::overdue_entry(t, now, &self.tracking.calendar.current())).collect(),
            yellow_count: count(yellow),
            red_count: count(red),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn monthly_statistics(
        &self,
        request: Request<pb::MonthlyStatisticsRequest>,
    ) -> Result<Response<pb::MonthlyStatisticsResponse>, Status> {
        let caller = Caller::of(&request)?;
        // A service here is one the access rule admits (the supervision
        // service, freezing a monthly report's figures).
        caller.require(&[Role::Supervisor, Role::Admin, Role::Service], "read the monthly statistics")?;
        let req = request.into_inner();
        let report = self.report(&req.period, &req.department, &req.package_id).await?;
        Ok(Response::new(pb::MonthlyStatisticsResponse {
            report: Some(wire::report(&report, self.tracking.clock.now())),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn export_monthly_statistics_csv(
        &self,
        request: Request<pb::ExportMonthlyStatisticsCsvRequest>,
    ) -> Result<Response<pb::ExportMonthlyStatisticsCsvResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Supervisor, Role::Admin], "export the monthly statistics")?;
        let req = request.into_inner();
        let report = self.report(&req.period, &req.department, &req.package_id).await?;
        Ok(Response::new(pb::ExportMonthlyStatisticsCsvResponse {
            content: stats::to_csv(&report).into_bytes(),
            content_type: "text/csv; charset=utf-8".into(),
            file_name: format!("yiciban-statistics-{}.csv", report.period),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_assessment_items(
        &self,
        request: Request<pb::ListAssessmentItemsRequest>,
    ) -> Result<Response<pb::ListAssessmentItemsResponse>, Status> {
        let caller = Caller::of(&request)?;
        if caller.service() != Some("supervision") {
            caller.require(&[Role::Supervisor, Role::Admin], "list the items behind an assessment")?;
        }
        let req = request.into_inner();
        let period =
            items::Period::parse(&req.from_month, &req.to_month, self.tracking.clock.now()).map_err(|refusals| {
                let v: Vec<FieldViolation> = refusals.iter().map(|r| violation(r.field(), r.description())).collect();
                refuse(&v)
            })?;
        let cases = self
            .tracking
            .repo
            .cases_since(period.from().start())
            .await
            .map_err(|e| internal("reading the cases", &e))?;
        let filter = items::ItemFilter {
            department: Some(req.department.trim().to_owned()).filter(|d| !d.is_empty()),
            person: Some(req.person.trim().to_owned()).filter(|p| !p.is_empty()),
        };
        let found = items::assessment_items(&cases, period, &filter);
        let most = found.tasks.len().max(found.ratings.len()).max(found.rectifications.len());
        if most > MAX_ASSESSMENT_ITEMS {
            return Err(Status::failed_precondition(format!(
                "the period holds {most} items of one kind, more than {MAX_ASSESSMENT_ITEMS}; ask for a shorter period or one department"
            )));
        }
        Ok(Response::new(wire::assessment_items(&found)))
    }

    #[tracing::instrument(skip_all)]
    async fn start_rebuild(
        &self,
        request: Request<pb::StartRebuildRequest>,
    ) -> Result<Response<pb::StartRebuildResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin], "rebuild the read models")?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let key = req.idempotency_key.trim();
        if key.is_empty() || key.chars().count() > 128 {
            v.push(violation("idempotency_key", "须为1至128个字符"));
        }
        let projection = req.projection.trim();
        if !projection.is_empty() && !PROJECTIONS.contains(&projection) {
            v.push(violation("projection", format!("须为空（全部）或以下之一：{}", PROJECTIONS.join("、"))));
        }
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let rebuilder = self.tracking.rebuilder.clone();
        let (id, new) = rebuilder.start(key, projection, self.tracking.clock.now()).await.map_err(|e| match e {
            RebuildError::Running(id) => Status::failed_precondition(format!(
                "rebuild {id} is running; start another after it completed (GetRebuildProgress)"
            )),
            RebuildError::KeyReused => {
                Status::already_exists("the idempotency key was used for a different rebuild request")
            }
            other => internal("starting a rebuild", &other),
        })?;
        if new {
            let shutdown = self.tracking.shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    result = rebuilder.run(id) => if let Err(e) = result {
                        tracing::error!(rebuild_id = %id, error = %e, "rebuild failed");
                    },
                    () = shutdown.cancelled() => {}
                }
            });
        }
        Ok(Response::new(pb::StartRebuildResponse { rebuild_id: id.to_string() }))
    }

    #[tracing::instrument(skip_all, fields(rebuild_id = %request.get_ref().rebuild_id))]
    async fn get_rebuild_progress(
        &self,
        request: Request<pb::GetRebuildProgressRequest>,
    ) -> Result<Response<pb::GetRebuildProgressResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin], "read rebuild progress")?;
        let req = request.into_inner();
        let mut v = Vec::new();
        let id = parse_uuid(&mut v, "rebuild_id", &req.rebuild_id);
        if !v.is_empty() {
            return Err(refuse(&v));
        }
        let progress = self
            .tracking
            .rebuilder
            .progress(id)
            .await
            .map_err(|e| internal("reading a rebuild", &e))?
            .ok_or_else(|| Status::not_found(format!("no rebuild {id}")))?;
        Ok(Response::new(wire::rebuild_progress(&progress)))
    }
}

//! The supervisor's pages: `/overdue` (tracking's OverdueBoard, and for
//! supervisors the departments flagged late on the month's report: 逾期未报),
//! `/statistics` (MonthlyStatistics) and `/statistics.csv`
//! (ExportMonthlyStatisticsCsv, a `text/csv` attachment fetched by GET with
//! the session cookie alone). Tracking decides who may read which: an
//! agent's board is its own department's, the statistics are supervisors'
//! and admins'; a refusal is the page with the service's message.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::supervision::v1::ListReportsRequest;

use super::guard;
use super::respond::Html;
use super::work::{bad, pairs, refused_page};
use crate::Workbench;
use crate::calls::Refusal;
use crate::files::{self, Disposition};
use crate::pages::overdue::{LateReports, OverdueQuery};
use crate::pages::reports::{ReportRow, last_due_month};
use crate::pages::statistics::{StatisticsQuery, this_month};
use crate::pages::{OverduePage, StatisticsPage};

/// The query string and the path to come back to after signing in.
fn asked(raw: Option<String>, path: &str) -> (String, String) {
    let raw = raw.unwrap_or_default();
    let back = if raw.is_empty() { path.to_owned() } else { format!("{path}?{raw}") };
    (raw, back)
}

/// `GET /overdue?department=&level=&page=`.
pub async fn overdue(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let (raw, back) = asked(raw, "/overdue");
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    // The same board, as far as the service lets the person see it.
    let title = match visit.session.person.role {
        Role::Agent => "本部门预警",
        Role::Officer => "办件预警",
        _ => "超期看板",
    };
    let page =
        |query: &OverdueQuery, answer| OverduePage::new(visit.layout(&wb, title, "/overdue"), query, answer, &wb.names);
    let query = match OverdueQuery::parse(&pairs(&raw)) {
        Ok(q) => q,
        Err(bad) => {
            let page = page(&OverdueQuery::default(), None);
            return (
                StatusCode::BAD_REQUEST,
                Html(OverduePage { error: Some(format!("筛选条件无效：{bad}")), ..page }),
            )
                .into_response();
        }
    };
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tracking")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let late_reports = match visit.session.person.role {
        Role::Supervisor => match guard::token(&wb, &visit, &OidcConfig::audience_of("supervision")).await {
            Ok(token) => Some(late_reports(&wb, &token).await),
            Err(refused) => return refused,
        },
        _ => None,
    };
    match wb.services.tracking(&token).overdue_board(query.request()).await {
        Ok(answer) => Html(OverduePage { late_reports, ..page(&query, Some(&answer.into_inner())) }).into_response(),
        Err(status) => {
            let refusal = Refusal::from(&status);
            let page = OverduePage { error: Some(refusal.message), late_reports, ..page(&query, None) };
            (refusal.status, Html(page)).into_response()
        }
    }
}

/// The departments flagged late on the latest month whose report is due
/// already (the supervision service's `ListReports`, late ones only); the
/// board shows a refusal beside the list rather than failing.
async fn late_reports(wb: &Workbench, token: &str) -> LateReports {
    let period = last_due_month(wb.sessions.now());
    let href = format!("/reports?period={period}");
    let mut late = LateReports { period: period.clone(), href, ..Default::default() };
    let Some(mut client) = wb.services.reports(token) else {
        late.error = Some("未配置督查服务（YICIBAN_SUPERVISION_URL）。".into());
        return late;
    };
    let request = ListReportsRequest { period, late_only: true, ..Default::default() };
    match client.list_reports(request).await {
        Ok(answer) => late.rows = Some(answer.into_inner().reports.iter().map(ReportRow::new).collect()),
        Err(status) => late.error = Some(Refusal::from(&status).message),
    }
    late
}

/// `GET /statistics?period=&department=&package=` (the month defaults to
/// this one, Beijing time).
pub async fn statistics(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let (raw, back) = asked(raw, "/statistics");
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let this_month = this_month(wb.sessions.now());
    let page = |query: &StatisticsQuery, report| {
        StatisticsPage::new(visit.layout(&wb, "月度统计", "/statistics"), query, report, &wb.names)
    };
    let query = match StatisticsQuery::parse(&pairs(&raw), &this_month) {
        Ok(q) => q,
        Err(bad) => {
            let fallback =
                StatisticsQuery { period: this_month.clone(), department: String::new(), package: String::new() };
            let page = StatisticsPage { error: Some(format!("查询条件无效：{bad}")), ..page(&fallback, None) };
            return (StatusCode::BAD_REQUEST, Html(page)).into_response();
        }
    };
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tracking")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    match wb.services.tracking(&token).monthly_statistics(query.request()).await {
        Ok(answer) => Html(page(&query, answer.into_inner().report.as_ref())).into_response(),
        Err(status) => {
            let refusal = Refusal::from(&status);
            (refusal.status, Html(StatisticsPage { error: Some(refusal.message), ..page(&query, None) }))
                .into_response()
        }
    }
}

/// `GET /statistics.csv?period=&department=&package=`: the month's figures
/// as the service's CSV file, saved as an attachment.
pub async fn statistics_csv(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let (raw, _) = asked(raw, "/statistics");
    // Signed out: to the sign-in, then to the page (not straight into a download).
    let visit = match guard::require(&wb, &headers, "/statistics").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let query = match StatisticsQuery::parse(&pairs(&raw), &this_month(wb.sessions.now())) {
        Ok(q) => q,
        Err(why) => return refused_page(&wb, &visit, "无法下载统计", &bad(&why.to_string())),
    };
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("tracking")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let file = match wb.services.tracking(&token).export_monthly_statistics_csv(query.csv_request()).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused_page(&wb, &visit, "无法下载统计", &Refusal::from(&status)),
    };
    let name =
        if file.file_name.is_empty() { format!("yiciban-statistics-{}.csv", query.period) } else { file.file_name };
    tracing::info!(size_bytes = file.content.len(), "monthly statistics downloaded");
    let mut response = (StatusCode::OK, file.content).into_response();
    let h = response.headers_mut();
    // Always CSV, whatever the answer said: never rendered as a page.
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&files::content_disposition(Disposition::Attachment, &name)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

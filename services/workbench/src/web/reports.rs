//! The monthly reports' pages (月报, ADR 0039): `GET /report` (an agent's
//! 本部门月报: its department's report of the month being reported), `GET
//! /reports?period=` (月报汇总: every department's row of a month), `GET
//! /reports.csv?period=` (the service's CSV, an attachment), `GET
//! /reports/{period}/{department}` (one report; `?done=` confirms),
//! `/print` (the printable page) and `/pdf` (the same as a PDF file), and
//! `POST /reports/{period}/{department}/{action}` (draft, submit, return,
//! accept: checked like every POST, sent with the version the page showed
//! and the form's key; refused: the page again with the service's words
//! next to the field — nothing was recorded).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::supervision::v1::{
    AcceptReportRequest, ExportReportsCsvRequest, GetReportRequest, ListReportsRequest, ReportText,
    ReturnReportRequest, SaveReportDraftRequest, SubmitReportRequest,
};

use super::decide::typed;
use super::guard::{self, Visit};
use super::respond::{Html, redirect};
use super::work::{pairs, path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Refusal, Reports};
use crate::files::{self, Disposition};
use crate::pages::decide::Sent;
use crate::pages::reports::{self, ReportAction, ReportPage, ReportsPage, reporting_month};

const REPORT: &str = "月度报送";
const REPORTS: &str = "月报汇总";

/// The report service as the person; a refusal when no supervision
/// service is configured.
async fn client(wb: &Workbench, visit: &Visit) -> Result<Result<Reports, Refusal>, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("supervision")).await?;
    Ok(wb.services.reports(&token).ok_or(Refusal {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "未配置督查服务（YICIBAN_SUPERVISION_URL）。/ No supervision service is configured.".into(),
    }))
}

/// The navigation entry the page sits under.
fn nav(visit: &Visit) -> &'static str {
    if visit.session.person.role == Role::Agent { "/report" } else { "/reports" }
}

/// `GET /report`: an agent's own department's report of the month being
/// reported; anyone else to the month's list.
pub async fn own(State(wb): State<Arc<Workbench>>, headers: HeaderMap) -> Response {
    let visit = match guard::require(&wb, &headers, "/report").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let month = reporting_month(wb.sessions.now());
    match (&visit.session.person.role, &visit.session.person.department) {
        (Role::Agent, Some(department)) => redirect(&reports::href(&month, &path_segment(department))),
        _ => redirect(&format!("/reports?period={month}")),
    }
}

/// `GET /reports?period=` (the month being reported by default).
pub async fn month(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let back = if raw.is_empty() { "/reports".to_owned() } else { format!("/reports?{raw}") };
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let asked = pairs(&raw);
    let period = asked
        .iter()
        .find(|(k, _)| k == "period")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| reporting_month(wb.sessions.now()));
    let layout = || visit.layout(&wb, REPORTS, "/reports");
    let failed = |refusal: Refusal| {
        let page = ReportsPage { error: Some(refusal.message), ..ReportsPage::new(layout(), &period, None) };
        (refusal.status, Html(page)).into_response()
    };
    let mut client = match client(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return failed(refusal),
        Err(refused) => return refused,
    };
    let request = ListReportsRequest { period: period.clone(), ..Default::default() };
    match client.list_reports(request).await {
        Ok(answer) => Html(ReportsPage::new(layout(), &period, Some(&answer.into_inner()))).into_response(),
        Err(status) => failed(Refusal::from(&status)),
    }
}

/// `GET /reports.csv?period=`: the month's reports as the service's CSV
/// file, saved as an attachment.
pub async fn csv(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    // Signed out: to the sign-in, then to the page (not straight into a download).
    let visit = match guard::require(&wb, &headers, "/reports").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let period = pairs(&raw.unwrap_or_default())
        .into_iter()
        .find(|(k, _)| k == "period")
        .map(|(_, v)| v)
        .unwrap_or_else(|| reporting_month(wb.sessions.now()));
    let mut client = match client(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, "无法下载月报", &refusal),
        Err(refused) => return refused,
    };
    let file = match client.export_reports_csv(ExportReportsCsvRequest { period: period.clone() }).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused_page(&wb, &visit, "无法下载月报", &Refusal::from(&status)),
    };
    let name = if file.file_name.is_empty() { format!("yiciban-reports-{period}.csv") } else { file.file_name };
    tracing::info!(size_bytes = file.content.len(), "monthly reports downloaded");
    attachment(file.content, "text/csv; charset=utf-8", &name)
}

fn attachment(content: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut response = (StatusCode::OK, content).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&files::content_disposition(Disposition::Attachment, name)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The report page as the service answers the person: `Err` is the page
/// to answer instead.
async fn page(
    wb: &Workbench,
    visit: &Visit,
    period: &str,
    department: &str,
    refused: Option<(ReportAction, Sent)>,
) -> Result<ReportPage, Response> {
    let mut client = match client(wb, visit).await? {
        Ok(c) => c,
        Err(refusal) => return Err(refused_page(wb, visit, REPORT, &refusal)),
    };
    let request = GetReportRequest { department: department.to_owned(), period: period.to_owned() };
    let answer = match client.get_report(request).await {
        Ok(a) => a.into_inner(),
        Err(status) => return Err(refused_page(wb, visit, REPORT, &Refusal::from(&status))),
    };
    let layout = visit.layout(wb, REPORT, nav(visit));
    ReportPage::new(layout, &answer, visit.session.person.role, refused).ok_or_else(|| {
        let refusal = Refusal { status: StatusCode::BAD_GATEWAY, message: String::new() };
        refused_page(wb, visit, REPORT, &refusal)
    })
}

/// `GET /reports/{period}/{department}?done=`.
pub async fn report(
    State(wb): State<Arc<Workbench>>,
    Path((period, department)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let back = reports::href(&path_segment(&period), &path_segment(&department));
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let done = pairs(&raw.unwrap_or_default())
        .iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| ReportAction::of_segment(v));
    match page(&wb, &visit, &period, &department, None).await {
        Ok(mut page) => {
            page.done = done.map(ReportAction::confirmation);
            Html(page).into_response()
        }
        Err(refused) => refused,
    }
}

/// `GET /reports/{period}/{department}/{view}`: `print` (the printable
/// page) or `pdf` (the same as a PDF file).
pub async fn printed(
    State(wb): State<Arc<Workbench>>,
    Path((period, department, view)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let back = reports::href(&path_segment(&period), &path_segment(&department));
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    if view != "print" && view != "pdf" {
        let refusal = Refusal { status: StatusCode::NOT_FOUND, message: "没有这个页面。/ No such page.".into() };
        return refused_page(&wb, &visit, "请求有误", &refusal);
    }
    let mut page = match page(&wb, &visit, &period, &department, None).await {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    page.print = true;
    if view == "pdf" {
        tracing::info!("a monthly report downloaded as PDF");
        return attachment(page.pdf(), "application/pdf", &page.pdf_file_name());
    }
    Html(page).into_response()
}

/// `POST /reports/{period}/{department}/{action}`.
pub async fn act(
    State(wb): State<Arc<Workbench>>,
    Path((period, department, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = super::decide::action_form(&wb, &headers, &body, &action, ReportAction::of_segment).await;
    let (form, visit, action, meta) = match checked {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let mut client = match client(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, REPORT, &refusal),
        Err(refused) => return refused,
    };
    let (key, version) = (meta.key, meta.version);
    let text = || {
        Some(ReportText {
            difficulties: form.get("difficulties").to_owned(),
            publicity: form.get("publicity").to_owned(),
        })
    };
    let (d, p) = (department.clone(), period.clone());
    let answer: Result<(), tonic::Status> = match action {
        ReportAction::Draft => client
            .save_report_draft(SaveReportDraftRequest {
                idempotency_key: key,
                department: d,
                period: p,
                text: text(),
                expected_version: version,
            })
            .await
            .map(drop),
        ReportAction::Submit => client
            .submit_report(SubmitReportRequest {
                idempotency_key: key,
                department: d,
                period: p,
                text: text(),
                expected_version: version,
            })
            .await
            .map(drop),
        ReportAction::Return => client
            .return_report(ReturnReportRequest {
                idempotency_key: key,
                department: d,
                period: p,
                reason: form.get("reason").to_owned(),
                expected_version: version,
            })
            .await
            .map(drop),
        ReportAction::Accept => client
            .accept_report(AcceptReportRequest {
                idempotency_key: key,
                department: d,
                period: p,
                expected_version: version,
            })
            .await
            .map(drop),
    };
    let href = reports::href(&path_segment(&period), &path_segment(&department));
    match answer {
        Ok(()) => {
            tracing::info!(action = action.segment(), "an action on a monthly report through the workbench");
            redirect(&format!("{href}?done={}", action.segment()))
        }
        Err(status) => {
            tracing::info!(action = action.segment(), code = ?status.code(), "the supervision service refused an action on a monthly report");
            let sent = Sent::refused(typed(&form), &status, ReportAction::input_of);
            let code = Refusal::from(&status).status;
            match page(&wb, &visit, &period, &department, Some((action, sent))).await {
                Ok(mut page) => {
                    let department_side = matches!(action, ReportAction::Draft | ReportAction::Submit);
                    let offered =
                        if department_side { page.department_form.is_some() } else { page.office_form.is_some() };
                    if !offered {
                        page.error = Some(Refusal::from(&status).message);
                    }
                    (code, Html(page)).into_response()
                }
                Err(refused) => refused,
            }
        }
    }
}

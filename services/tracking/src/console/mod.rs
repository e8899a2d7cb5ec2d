//! The staff console (办件跟踪台): server-rendered HTML pages on their own
//! HTTP port, for case officers, department agents and supervisors. Every
//! page reads through the TrackingService RPCs themselves ([`TrackingApi`]),
//! called in process with the caller verified from the request's bearer
//! token, so the queries, the role rules (supervisor everything, officer
//! own cases, agent own department) and the masking of applicant data are
//! exactly the gRPC service's. The pages work without JavaScript; the one
//! stylesheet is served by the service (no CDN).
//!
//! The token comes from an `Authorization: Bearer` header, a `token` query
//! parameter (kept in the page's links; for tests and local links) or the
//! `token` cookie that `/login` sets.
//!
//! | path | page |
//! |---|---|
//! | `/` | search a case by number, links |
//! | `/cases/{number or id}` | summary, clock, holders, timeline as swimlanes |
//! | `/worklist?officer=` | an officer's open cases |
//! | `/overdue?department=` | yellow/red board by department |
//! | `/report?month=YYYY-MM` | the monthly statistics; `/report.csv?month=` |
//! | `/login`, `/logout` | the token cookie |
//!
//! The handlers here check the caller, call the RPCs and build a page's
//! view model ([`page`]); its askama template in `templates/` renders it,
//! escaping every value, and [`respond`] answers it with the CSP.

mod page;
mod respond;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tonic::{Code, Request, Status};
use uuid::Uuid;
use yiciban_platform::auth::Verifier;
use yiciban_platform::{Caller, Role};
use yiciban_proto::tracking::v1 as pb;
use yiciban_proto::tracking::v1::tracking_service_server::TrackingService as _;

use crate::Tracking;
use crate::grpc::TrackingApi;
use crate::projection::stats::Month;
use page::{CasePage, ErrorPage, HomePage, Links, LoginPage, OverduePage, ReportPage, WorklistPage, path_segment};
use respond::{Html, redirect};

/// The console's stylesheet.
const CSS: &str = include_str!("console.css");

#[derive(Clone)]
struct Console {
    tracking: Arc<Tracking>,
    api: TrackingApi,
    verifier: Verifier,
}

/// The console's routes over the service state, verifying tokens with
/// `verifier` (the issuer's keys, tracking's audience).
pub fn router(tracking: Arc<Tracking>, verifier: Verifier) -> Router {
    let console = Console { api: TrackingApi::new(tracking.clone()), tracking, verifier };
    Router::new()
        .route("/", get(home))
        .route("/cases/{key}", get(case))
        .route("/worklist", get(worklist))
        .route("/overdue", get(overdue))
        .route("/report", get(report))
        .route("/report.csv", get(report_csv))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .route("/assets/console.css", get(stylesheet))
        .with_state(console)
}

/// The query parameters of a request, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn of(raw: Option<String>) -> Query {
        Query(form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
    }
}

/// Who is asking, and the token to carry in links when it came in the query.
struct Visitor {
    caller: Caller,
    links: Links,
}

/// The bearer token of a request: header, then `?token=`, then cookie; and
/// whether it came from the query.
fn token_of(headers: &HeaderMap, query: &Query) -> Option<(String, bool)> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some((bearer.to_owned(), false));
    }
    let asked = query.get("token");
    if !asked.is_empty() {
        return Some((asked.to_owned(), true));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("token="))
        .find(|t| !t.is_empty())
        .map(|t| (t.to_owned(), false))
}

impl Console {
    /// The verified staff caller of a request, or the page refusing it.
    async fn visitor(&self, headers: &HeaderMap, query: &Query) -> Result<Visitor, Response> {
        let Some((token, from_query)) = token_of(headers, query) else {
            return Err(login_page(
                StatusCode::UNAUTHORIZED,
                "请先登录（需要工作人员令牌） / Please sign in with a staff token.",
            ));
        };
        // Staff only: the token is verified, but an applicant's identity is
        // never asked of the issuer here.
        let caller = self
            .verifier
            .verify_token(&token)
            .await
            .map_err(|e| login_page(StatusCode::UNAUTHORIZED, &format!("令牌无效 / Invalid token: {e}")))?
            .caller;
        if caller.role == Role::Applicant {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "仅限工作人员 / Staff only",
                "申请人请通过办事大厅或小程序查询办件进度。",
                &Links::default(),
            ));
        }
        let links = Links { token: from_query.then_some(token), role: Some(caller.role), who: caller.subject.clone() };
        Ok(Visitor { caller, links })
    }
}

/// A request to the RPCs as `caller`, exactly as the gRPC interceptor would
/// hand it on.
fn rpc<T>(caller: &Caller, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(caller.clone());
    request
}

/// The page of a refused or failed RPC.
fn failed(status: &Status, links: &Links) -> Response {
    let (code, title) = match status.code() {
        Code::NotFound => (StatusCode::NOT_FOUND, "未找到 / Not found"),
        Code::PermissionDenied => (StatusCode::FORBIDDEN, "无权查看 / Not allowed"),
        Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "请先登录 / Sign in"),
        Code::InvalidArgument | Code::FailedPrecondition => (StatusCode::BAD_REQUEST, "请求有误 / Bad request"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "服务出错 / Server error"),
    };
    let detail = match status.code() {
        Code::NotFound => "没有这个办件，或者您无权查看。 / No such case, or it is not yours to see.".to_owned(),
        Code::InvalidArgument => format!("{}（请检查输入的格式）", status.message()),
        Code::Internal | Code::Unknown | Code::Unavailable => "请稍后再试。 / Please try again later.".to_owned(),
        _ => status.message().to_owned(),
    };
    error_page(code, title, &detail, links)
}

/// The error page titled `title` explaining `detail`, answered with `code`.
fn error_page(code: StatusCode, title: &str, detail: &str, links: &Links) -> Response {
    (code, Html(ErrorPage::new(title, detail, links))).into_response()
}

/// The sign-in page with `note` (empty: none), answered with `code`.
fn login_page(code: StatusCode, note: &str) -> Response {
    (code, Html(LoginPage::new(note))).into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("max-age=300")),
        ],
        CSS,
    )
        .into_response()
}

async fn home(State(c): State<Console>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = Query::of(raw);
    let v = match c.visitor(&headers, &query).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let q = query.get("q");
    if !q.is_empty() {
        return redirect(&v.links.href(&format!("/cases/{}", path_segment(q)), &[]));
    }
    Html(HomePage::new(&v.links, &v.caller)).into_response()
}

async fn case(
    State(c): State<Console>,
    Path(key): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = Query::of(raw);
    let v = match c.visitor(&headers, &query).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let key = key.trim();
    // A case number is found by number (the same RPC and rule as gRPC), an
    // id read directly.
    let case_id = match key.parse::<Uuid>() {
        Ok(id) => id.to_string(),
        Err(_) => {
            let found = c
                .api
                .find_case_by_number(rpc(&v.caller, pb::FindCaseByNumberRequest { case_number: key.to_owned() }))
                .await;
            match found {
                Ok(r) => r.into_inner().summary.map(|s| s.case_id).unwrap_or_default(),
                Err(status) => return failed(&status, &v.links),
            }
        }
    };
    let mut entries = Vec::new();
    let mut summary = None;
    let mut page_token = String::new();
    // The whole timeline, page by page (bounded).
    for _ in 0..20 {
        let request = pb::GetTimelineRequest { case_id: case_id.clone(), page_size: 1000, page_token };
        match c.api.get_timeline(rpc(&v.caller, request)).await {
            Ok(r) => {
                let r = r.into_inner();
                entries.extend(r.entries);
                summary = r.summary.or(summary);
                page_token = r.next_page_token;
            }
            Err(status) => return failed(&status, &v.links),
        }
        if page_token.is_empty() {
            break;
        }
    }
    let Some(summary) = summary else {
        return failed(&Status::not_found("no summary"), &v.links);
    };
    // The clock stops with their reasons (authorised by the same rule).
    let stops = match case_id.parse::<Uuid>() {
        Ok(id) => match c.api.readable_case(&v.caller, id).await {
            Ok(view) => view.clock_stops,
            Err(status) => return failed(&status, &v.links),
        },
        Err(_) => Vec::new(),
    };
    Html(CasePage::new(&v.links, &summary, &entries, &stops, &c.tracking.names.current())).into_response()
}

async fn worklist(State(c): State<Console>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = Query::of(raw);
    let v = match c.visitor(&headers, &query).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let mut officer = query.get("officer").to_owned();
    if officer.is_empty() && v.caller.role == Role::Officer {
        officer = v.caller.subject.clone();
    }
    if officer.is_empty() {
        return Html(WorklistPage::new(&v.links, "", None)).into_response();
    }
    let request = pb::OfficerWorklistRequest { officer_id: officer.clone(), page_size: 500, ..Default::default() };
    match c.api.officer_worklist(rpc(&v.caller, request)).await {
        Ok(r) => Html(WorklistPage::new(&v.links, &officer, Some(&r.into_inner()))).into_response(),
        Err(status) => failed(&status, &v.links),
    }
}

async fn overdue(State(c): State<Console>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = Query::of(raw);
    let v = match c.visitor(&headers, &query).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let department = query.get("department").to_owned();
    let request = pb::OverdueBoardRequest { department: department.clone(), page_size: 500, ..Default::default() };
    match c.api.overdue_board(rpc(&v.caller, request)).await {
        Ok(r) => {
            Html(OverduePage::new(&v.links, &department, &r.into_inner(), &c.tracking.names.current())).into_response()
        }
        Err(status) => failed(&status, &v.links),
    }
}

/// The month asked for, or the current one.
fn month_of(c: &Console, query: &Query) -> String {
    let asked = query.get("month");
    if asked.is_empty() { Month::of(c.tracking.clock.now()).to_string() } else { asked.to_owned() }
}

async fn report(State(c): State<Console>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = Query::of(raw);
    let v = match c.visitor(&headers, &query).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let month = month_of(&c, &query);
    let request = pb::MonthlyStatisticsRequest { period: month.clone(), ..Default::default() };
    match c.api.monthly_statistics(rpc(&v.caller, request)).await {
        Ok(r) => match r.into_inner().report {
            Some(report) => Html(ReportPage::new(&v.links, &month, &report)).into_response(),
            None => failed(&Status::internal("no report"), &v.links),
        },
        Err(status) => failed(&status, &v.links),
    }
}

async fn report_csv(State(c): State<Console>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = Query::of(raw);
    let v = match c.visitor(&headers, &query).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let request = pb::ExportMonthlyStatisticsCsvRequest { period: month_of(&c, &query), ..Default::default() };
    match c.api.export_monthly_statistics_csv(rpc(&v.caller, request)).await {
        Ok(r) => {
            let r = r.into_inner();
            let disposition = format!("attachment; filename=\"{}\"", r.file_name.replace(['"', '\\'], "_"));
            let mut response = r.content.into_response();
            let h = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&r.content_type) {
                h.insert(header::CONTENT_TYPE, value);
            }
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(status) => failed(&status, &v.links),
    }
}

async fn login_form() -> Response {
    login_page(StatusCode::OK, "")
}

async fn login(body: String) -> Response {
    let form = Query::of(Some(body));
    let token = form.get("token");
    // A cookie value carries no separators; a JWT never has them.
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',' && b != b'"') {
        return login_page(StatusCode::BAD_REQUEST, "请粘贴有效的令牌 / Paste a valid token.");
    }
    let mut response = redirect("/");
    if let Ok(cookie) = HeaderValue::from_str(&format!("token={token}; Path=/; HttpOnly; SameSite=Strict")) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn logout() -> Response {
    let mut response = redirect("/login");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static("token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"));
    response
}

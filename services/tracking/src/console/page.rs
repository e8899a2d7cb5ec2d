//! The console's HTML: a layout, the pages, and the small formatting helpers.
//! Every piece of data goes through [`esc`] (or [`Links::href`], which
//! percent-encodes and then escapes).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, FixedOffset, Utc};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;

use crate::projection::{CaseStatus, ClockStop, Names, TaskState};

/// A rendered page.
pub struct Html(pub String);

/// What the links of a page carry: the token when it came in the query.
#[derive(Debug, Default, Clone)]
pub struct Links {
    pub token: Option<String>,
    pub role: Option<Role>,
    pub who: String,
}

impl Links {
    /// An escaped link to `path` with `params` (and the token, if any).
    pub fn href(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(token) = &self.token {
            query.append_pair("token", token);
        }
        let query = query.finish();
        if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
    }

    /// Hidden form fields carrying the token.
    fn hidden(&self) -> String {
        self.token
            .as_ref()
            .map_or_else(String::new, |t| format!(r#"<input type="hidden" name="token" value="{}">"#, esc(t)))
    }
}

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path segment, percent-encoded.
pub fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

fn at(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map_or_else(|| "—".to_owned(), |t| t.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string())
}

fn at_utc(t: DateTime<Utc>) -> String {
    t.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string()
}

fn date(d: Option<&common::Date>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

fn status_label(status: i32) -> (&'static str, &'static str) {
    let s = CaseStatus::from_pb(status).unwrap_or_default();
    let zh = match s {
        CaseStatus::Unknown => "未知",
        CaseStatus::Submitted => "已提交",
        CaseStatus::Accepted => "已受理",
        CaseStatus::AcceptedWithDeficiency => "容缺受理",
        CaseStatus::NotAccepted => "不予受理",
        CaseStatus::InJointProcessing => "联办中",
        CaseStatus::WaitingForSupplement => "待补正",
        CaseStatus::Approved => "准予许可",
        CaseStatus::Denied => "不予许可",
        CaseStatus::Issued => "已出证",
        CaseStatus::Closed => "已办结",
        CaseStatus::Withdrawn => "已撤回",
        CaseStatus::Terminated => "已终止",
    };
    (zh, s.as_str())
}

fn state_label(state: i32) -> &'static str {
    match TaskState::from_pb(state) {
        Some(TaskState::Pending) => "待认领",
        Some(TaskState::InProgress) => "办理中",
        Some(TaskState::WaitingForSupplement) => "待补正",
        Some(TaskState::Approved) => "已准予",
        Some(TaskState::Denied) => "不予许可",
        Some(TaskState::Cancelled) => "已取消",
        Some(TaskState::Revoked) => "已撤销",
        None => "—",
    }
}

fn role_label(role: i32) -> &'static str {
    match common::Role::try_from(role) {
        Ok(common::Role::Clerk) => "综窗",
        Ok(common::Role::Agent) => "部门",
        Ok(common::Role::Officer) => "专人",
        Ok(common::Role::Supervisor) => "督查",
        Ok(common::Role::Admin) => "管理员",
        Ok(common::Role::Applicant) => "申请人",
        _ => "系统",
    }
}

/// The badge of a warning level.
fn warning(level: i32) -> &'static str {
    match common::WarningLevel::try_from(level) {
        Ok(common::WarningLevel::Red) => r#"<span class="card red" title="red warning">红牌</span>"#,
        Ok(common::WarningLevel::Yellow) => r#"<span class="card yellow" title="yellow warning">黄牌</span>"#,
        _ => "",
    }
}

pub fn respond(code: StatusCode, body: String) -> Response {
    let mut response = (code, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

pub fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The layout around `body`.
fn layout(title: &str, links: &Links, body: &str) -> String {
    let mut nav = String::new();
    let _ = write!(
        nav,
        r#"<a href="{}">查询 Search</a><a href="{}">我的办件 Worklist</a><a href="{}">预警 Overdue</a><a href="{}">月报 Report</a>"#,
        esc(&links.href("/", &[])),
        esc(&links.href("/worklist", &[])),
        esc(&links.href("/overdue", &[])),
        esc(&links.href("/report", &[])),
    );
    let who = match links.role {
        Some(role) => format!(
            r#"<span class="who">{} · {}</span><a href="/logout">退出</a>"#,
            esc(&links.who),
            esc(role.as_str())
        ),
        None => r#"<a href="/login">登录 Sign in</a>"#.to_owned(),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 一次办 办件跟踪台</title><link rel="stylesheet" href="/assets/console.css"></head>
<body><header><a class="brand" href="{home}">一次办 · 办件跟踪台 <small>Staff console</small></a><nav>{nav}</nav><div class="user">{who}</div></header>
<main>{body}</main><footer>工作人员专用 · 申请人个人信息已脱敏 / Staff only · applicant data masked</footer></body></html>"#,
        title = esc(title),
        home = esc(&links.href("/", &[])),
    )
}

pub fn error(code: StatusCode, title: &str, detail: &str, links: &Links) -> Response {
    let body = format!(r#"<section class="error"><h1>{}</h1><p>{}</p></section>"#, esc(title), esc(detail));
    respond(code, layout(title, links, &body))
}

pub fn login(code: StatusCode, message: &str) -> Response {
    let note = if message.is_empty() { String::new() } else { format!(r#"<p class="note">{}</p>"#, esc(message)) };
    let body = format!(
        r#"<section class="login"><h1>登录 <small>Sign in</small></h1>{note}
<form method="post" action="/login"><label>令牌 Token <textarea name="token" rows="4" required></textarea></label>
<button type="submit">登录</button></form>
<p class="hint">粘贴工作人员令牌（casectl 或管理员签发），保存在本机 Cookie 中。Paste a staff token; it is kept in a cookie.</p></section>"#
    );
    respond(code, layout("登录", &Links::default(), &body))
}

pub fn home(links: &Links, caller: &Caller) -> Html {
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<section class="search"><h1>查询办件 <small>Find a case</small></h1>
<form method="get" action="/">{hidden}<label>办件编号 Case number <input name="q" placeholder="如 YCB-20260929-0001" autofocus></label><button type="submit">查询</button></form></section>
<section><h2>常用 <small>Shortcuts</small></h2><ul class="shortcuts">"#,
        hidden = links.hidden(),
    );
    if caller.role == Role::Officer {
        let _ = write!(body, r#"<li><a href="{}">我的办件 My cases</a></li>"#, esc(&links.href("/worklist", &[])));
    }
    let _ = write!(
        body,
        r#"<li><a href="{}">黄红牌预警 Overdue board</a></li><li><a href="{}">月度统计 Monthly report</a></li></ul></section>"#,
        esc(&links.href("/overdue", &[])),
        esc(&links.href("/report", &[])),
    );
    Html(layout("查询", links, &body))
}

/// What kind of mark an entry gets on its lane.
fn mark(entry: &pb::TimelineEntry) -> &'static str {
    match entry.event_type.as_str() {
        "TaskWarned" if entry.summary.contains("红牌") => "red",
        "TaskWarned" => "yellow",
        "TaskEscalated" | "PostCheckFailed" | "ApprovalRevoked" => "red",
        "CaseClockStopped" | "TaskReturnedForSupplement" => "stop",
        "CaseClockResumed" | "TaskResumed" | "MaterialsSupplemented" => "resume",
        "TaskApproved" | "ApplicationAccepted" | "CaseDecided" | "PickedUp" | "Delivered" | "CaseClosed" => "done",
        "TaskDenied" | "ApplicationNotAccepted" | "CaseTerminated" => "denied",
        _ => "",
    }
}

pub fn case(
    links: &Links,
    s: &pb::CaseSummary,
    entries: &[pb::TimelineEntry],
    stops: &[ClockStop],
    names: &Names,
) -> Html {
    let (status_zh, status_en) = status_label(s.status);
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<section class="summary"><h1>办件 <span class="case-number">{number}</span> <span class="status status-{status_en}" title="{status_en}">{status_zh}</span> {warning}</h1>
<p class="package">{package}</p><dl>"#,
        number = esc(&s.case_number),
        status_en = esc(status_en),
        status_zh = esc(status_zh),
        warning = warning(s.warning),
        package = esc(&s.package_name),
    );
    let officer = if s.officer_name.is_empty() {
        s.officer_id.clone()
    } else {
        format!("{}（{}）", s.officer_name, s.officer_id)
    };
    let clock = if s.clock_stopped {
        let why = stops.iter().rev().find(|c| c.resumed_at.is_none()).map_or("", |c| c.reason.as_str());
        format!(r#"<span class="clock stopped">已暂停 stopped</span> {}"#, esc(why))
    } else if CaseStatus::from_pb(s.status).is_some_and(CaseStatus::is_terminal) || s.closed_at.is_some() {
        r#"<span class="clock ended">已结束 ended</span>"#.to_owned()
    } else {
        r#"<span class="clock running">计时中 running</span>"#.to_owned()
    };
    for (term, value) in [
        ("申请人 Applicant", esc(&s.applicant_display)),
        ("牵头部门 Lead", esc(names.department(&s.lead_department))),
        ("专人 Officer", esc(&officer)),
        ("提交 Submitted", esc(&at(s.submitted_at.as_ref()))),
        ("受理 Accepted", esc(&date(s.accepted_on.as_ref()))),
        (
            "时限 Clock",
            format!(
                r#"已用 <b class="used">{}</b> / 承诺 <b>{}</b> 个工作日（{} 前办结） {}"#,
                s.working_days_used,
                s.promised_working_days,
                esc(&date(s.promised_by.as_ref())),
                clock
            ),
        ),
        (
            "待补 Owed",
            if s.owed_by_applicant.is_empty() { "—".to_owned() } else { esc(&s.owed_by_applicant.join("；")) },
        ),
    ] {
        let _ = write!(b, "<dt>{term}</dt><dd>{value}</dd>");
    }
    b.push_str("</dl></section>");

    // Who holds the case now.
    b.push_str(r#"<section class="holders"><h2>当前办理 <small>Holders</small></h2>"#);
    if s.holders.is_empty() {
        b.push_str(r#"<p class="empty">目前没有部门在办。 / No department holds the case.</p>"#);
    } else {
        b.push_str("<table><thead><tr><th>部门 Department</th><th>事项 Item</th><th>状态 State</th><th>经办人 Assignee</th><th>自 Since</th><th>已用工作日 Days</th><th>期限 Due</th><th>预警</th></tr></thead><tbody>");
        for h in &s.holders {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(names.department(&h.department)),
                esc(&h.item_name),
                esc(state_label(h.state)),
                esc(if h.assignee.is_empty() { "—" } else { &h.assignee }),
                esc(&at(h.held_since.as_ref())),
                h.working_days_held,
                esc(&date(h.due_by.as_ref())),
                warning(h.warning),
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");

    if !stops.is_empty() {
        b.push_str(r#"<section class="stops"><h2>计时暂停 <small>Clock stops</small></h2><ul>"#);
        for stop in stops {
            let _ = write!(
                b,
                "<li>{} — {}：{}</li>",
                esc(&at_utc(stop.stopped_at)),
                esc(&stop.resumed_at.map_or_else(|| "至今 still stopped".to_owned(), at_utc)),
                esc(&stop.reason),
            );
        }
        b.push_str("</ul></section>");
    }

    swimlanes(&mut b, s, entries, names);
    Html(layout(&format!("办件 {}", s.case_number), links, &b))
}

/// The timeline as swimlanes: a case-level lane, then one per department in
/// the order they joined; one row per entry, in time order.
fn swimlanes(b: &mut String, s: &pb::CaseSummary, entries: &[pb::TimelineEntry], names: &Names) {
    let mut lanes: Vec<&str> = vec![""];
    for d in entries.iter().map(|e| e.department.as_str()).chain(s.holders.iter().map(|h| h.department.as_str())) {
        if !lanes.contains(&d) {
            lanes.push(d);
        }
    }
    let held: BTreeMap<&str, i32> = s.holders.iter().map(|h| (h.department.as_str(), h.warning)).collect();
    let _ = write!(
        b,
        r#"<section class="timeline"><h2>全流程 <small>Timeline · {} 条</small></h2><div class="lanes">"#,
        entries.len(),
    );
    // Placement by classes only (the CSP allows no inline styles): the time
    // column, then `c1` (the case) and one column class per lane; each
    // time cell starts a row and its entry lands beside it.
    let _ = write!(b, r#"<div class="lane-head time-head" data-col="0">时间 Time</div>"#);
    for (i, lane) in lanes.iter().enumerate() {
        let (name, class) = if lane.is_empty() {
            ("办件 Case".to_owned(), "case-lane")
        } else {
            (names.department(lane).to_owned(), if held.contains_key(lane) { "holding" } else { "" })
        };
        let _ = write!(
            b,
            r#"<div class="lane-head {class} c{col}" data-dept="{dept}">{name}{warn}</div>"#,
            col = i + 1,
            dept = esc(lane),
            name = esc(&name),
            warn = held.get(lane).map_or("", |w| warning(*w)),
        );
    }
    let mut stopped = false;
    for e in entries {
        let col = lanes.iter().position(|l| *l == e.department).unwrap_or(0) + 1;
        let m = mark(e);
        if e.event_type == "CaseClockStopped" {
            stopped = true;
        }
        let actor = e.actor.as_ref();
        let who = actor.map_or(String::new(), |a| {
            if a.subject.is_empty() {
                role_label(a.role).to_owned()
            } else {
                format!("{} · {}", a.subject, role_label(a.role))
            }
        });
        let _ = write!(
            b,
            r#"<div class="time{stop} r">{time}{since}</div><div class="entry {m} c{col}" data-event="{ty}" data-dept="{dept}"><p>{summary}</p><small>{ty} · {who}</small></div>"#,
            stop = if stopped { " stopped" } else { "" },
            time = esc(&at(e.occurred_at.as_ref())),
            since = if e.working_days_since_previous > 0 {
                format!(r#"<small>+{} 工作日</small>"#, e.working_days_since_previous)
            } else {
                String::new()
            },
            ty = esc(&e.event_type),
            dept = esc(&e.department),
            summary = esc(&e.summary),
            who = esc(&who),
        );
        if e.event_type == "CaseClockResumed" {
            stopped = false;
        }
    }
    b.push_str("</div></section>");
}

pub fn worklist(links: &Links, officer: &str, list: Option<&pb::OfficerWorklistResponse>) -> Html {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<section><h1>专人办件 <small>Officer worklist</small></h1><form method="get" action="/worklist">{}<label>专人登录名 Officer <input name="officer" value="{}"></label><button type="submit">查看</button></form>"#,
        links.hidden(),
        esc(officer)
    );
    if let Some(list) = list {
        let _ = write!(b, "<p>{} 件在办 · open cases</p>", list.total_count);
        cases_table(&mut b, links, &list.cases);
    }
    b.push_str("</section>");
    Html(layout("专人办件", links, &b))
}

fn cases_table(b: &mut String, links: &Links, cases: &[pb::CaseSummary]) {
    if cases.is_empty() {
        b.push_str(r#"<p class="empty">没有办件。 / No cases.</p>"#);
        return;
    }
    b.push_str("<table><thead><tr><th>办件编号 Case</th><th>套餐 Package</th><th>申请人</th><th>状态 Status</th><th>已用/承诺</th><th>办结期限 Due</th><th>待办 Needs</th><th>预警</th></tr></thead><tbody>");
    for c in cases {
        let (zh, en) = status_label(c.status);
        let mut needs = Vec::new();
        if c.open_deficiencies > 0 {
            needs.push(format!("容缺待补{}项（{}前）", c.open_deficiencies, date(c.next_deficiency_due_by.as_ref())));
        }
        if !c.owed_by_applicant.is_empty() {
            needs.push(format!("等待申请人：{}", c.owed_by_applicant.join("、")));
        }
        if c.status == common::CaseStatus::Issued as i32 {
            needs.push("待领取/送达".to_owned());
        }
        let _ = write!(
            b,
            r#"<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td title="{}">{}</td><td>{} / {}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&links.href(&format!("/cases/{}", path_segment(&c.case_number)), &[])),
            esc(&c.case_number),
            esc(&c.package_name),
            esc(&c.applicant_display),
            esc(en),
            esc(zh),
            c.working_days_used,
            c.promised_working_days,
            if c.clock_stopped { " ⏸" } else { "" },
            esc(&date(c.promised_by.as_ref())),
            esc(&needs.join("；")),
            warning(c.warning),
        );
    }
    b.push_str("</tbody></table>");
}

pub fn overdue(links: &Links, department: &str, board: &pb::OverdueBoardResponse, names: &Names) -> Html {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<section><h1>黄红牌预警 <small>Overdue board</small></h1><form method="get" action="/overdue">{}<label>部门代码 Department <input name="department" value="{}"></label><button type="submit">筛选</button></form>
<p class="counts"><span class="card red">红牌 {}</span> <span class="card yellow">黄牌 {}</span></p>"#,
        links.hidden(),
        esc(department),
        board.red_count,
        board.yellow_count,
    );
    let mut by_department: BTreeMap<&str, Vec<&pb::OverdueEntry>> = BTreeMap::new();
    for e in &board.entries {
        if let Some(t) = &e.task {
            by_department.entry(t.department.as_str()).or_default().push(e);
        }
    }
    if by_department.is_empty() {
        b.push_str(r#"<p class="empty">没有预警。 / Nothing overdue.</p>"#);
    }
    for (dept, rows) in by_department {
        let red = rows
            .iter()
            .filter(|e| e.task.as_ref().is_some_and(|t| t.warning == common::WarningLevel::Red as i32))
            .count();
        let _ = write!(
            b,
            r#"<h2>{} <small>{} · 红 {} · 黄 {}</small></h2><table><thead><tr><th>办件 Case</th><th>事项 Item</th><th>状态</th><th>经办人</th><th>已用/时限</th><th>期限 Due</th><th>超期</th><th>预警</th></tr></thead><tbody>"#,
            esc(names.department(dept)),
            esc(dept),
            red,
            rows.len() - red
        );
        for e in rows {
            let Some(t) = &e.task else { continue };
            let _ = write!(
                b,
                r#"<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>"#,
                esc(&links.href(&format!("/cases/{}", path_segment(&t.case_number)), &[])),
                esc(&t.case_number),
                esc(&t.item_name),
                esc(state_label(t.state)),
                esc(if t.assignee.is_empty() { "—" } else { &t.assignee }),
                t.working_days_used,
                t.promised_working_days,
                esc(&date(t.due_by.as_ref())),
                if e.overdue_working_days > 0 {
                    format!("{} 工作日", e.overdue_working_days)
                } else {
                    "—".to_owned()
                },
                warning(t.warning),
                if e.escalated { " 已督办" } else { "" },
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");
    Html(layout("预警", links, &b))
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

pub fn report(links: &Links, month: &str, r: &pb::MonthlyReport) -> Html {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<section><h1>月度统计 <small>Monthly report {period}</small></h1><form method="get" action="/report">{hidden}<label>月份 Month <input name="month" value="{month}" placeholder="YYYY-MM"></label><button type="submit">查看</button></form>
<p><a class="download" href="{csv}">下载 CSV / Download CSV</a> · 生成于 {generated}</p>"#,
        period = esc(&r.period),
        hidden = links.hidden(),
        month = esc(month),
        csv = esc(&links.href("/report.csv", &[("month", &r.period)])),
        generated = esc(&at(r.generated_at.as_ref())),
    );
    let head = "<table class=\"stats\"><thead><tr><th></th><th>申请</th><th>受理</th><th>容缺受理</th><th>承诺制</th><th>不予受理</th><th>办结</th><th>按时办结率</th><th>平均工作日</th><th>评价数</th><th>评价分布 1–5</th><th>满意率</th><th>整改 开/结/未结</th></tr></thead><tbody>";
    let row = |b: &mut String, x: &pb::StatisticsRow, class: &str| {
        let _ = write!(
            b,
            r#"<tr class="{}"><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}/{}</td></tr>"#,
            class,
            esc(&x.label),
            x.submitted,
            x.accepted,
            x.accepted_with_deficiency,
            x.commitments,
            x.not_accepted,
            x.closed,
            percent(x.on_time_rate),
            x.average_working_days,
            x.ratings,
            esc(&x.ratings_by_score.iter().map(u32::to_string).collect::<Vec<_>>().join(" / ")),
            percent(x.satisfaction_rate),
            x.rectifications_opened,
            x.rectifications_closed,
            x.rectifications_open,
        );
    };
    for (title, rows) in [("按部门 By department", &r.by_department), ("按套餐 By package", &r.by_package)] {
        let _ = write!(b, "<h2>{}</h2>{}", esc(title), head);
        for x in rows {
            row(&mut b, x, "");
        }
        if let Some(total) = &r.total {
            row(&mut b, total, "total");
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");
    Html(layout("月度统计", links, &b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_links_are_escaped() {
        assert_eq!(esc(r#"<b a="1">'&'</b>"#), "&lt;b a=&quot;1&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;");
        let links = Links { token: Some("a.b&c".into()), ..Links::default() };
        assert_eq!(links.href("/x", &[("q", "<1 2>")]), "/x?q=%3C1+2%3E&token=a.b%26c");
        assert_eq!(path_segment("YCB 1/2"), "YCB%201%2F2");
    }

    #[test]
    fn a_case_page_escapes_what_it_shows() {
        let summary = pb::CaseSummary {
            case_number: "YCB-<script>".into(),
            package_name: "新生儿\"出生\"一件事".into(),
            ..Default::default()
        };
        let entry = pb::TimelineEntry {
            event_type: "TaskWarned".into(),
            department: "<dept>".into(),
            summary: "户籍 红牌：<img src=x>".into(),
            ..Default::default()
        };
        let Html(html) = case(&Links::default(), &summary, &[entry], &[], &Names::default());
        assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<dept>"));
        assert!(html.contains("YCB-&lt;script&gt;"));
        assert!(html.contains(r#"class="entry red c2""#), "{html}");
    }
}

//! Every page rendered from its view model: what it shows, and that data
//! holding markup, quotes and ampersands comes out escaped.

use askama::Template;
use chrono::{TimeZone as _, Utc};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;

use super::*;
use crate::projection::{ClockStop, Names};

/// Data that would run a script, close an attribute or start an entity if
/// it were not escaped.
const EVIL: &str = r#"<script>alert("x&y")</script>'"#;
/// [`EVIL`] as askama escapes it.
const EVIL_ESCAPED: &str = "&#60;script&#62;alert(&#34;x&#38;y&#34;)&#60;/script&#62;&#39;";

fn render(page: impl Template) -> String {
    page.render().expect("the page renders")
}

/// Asserts that `html` shows [`EVIL`] only escaped, at least `times` times.
fn assert_escaped(html: &str, times: usize) {
    assert!(!html.contains("<script") && !html.contains(r#"alert("x"#), "raw data in:\n{html}");
    let shown = html.matches(EVIL_ESCAPED).count();
    assert!(shown >= times, "{EVIL} shown escaped {shown} times, expected {times}:\n{html}");
}

fn links(role: Role) -> Links {
    Links { token: Some(EVIL.into()), role: Some(role), who: EVIL.into() }
}

fn caller(role: Role) -> Caller {
    Caller { subject: "officer-1".into(), role, department: None, applicant_key: None, cause: None }
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

#[test]
fn text_and_links_are_escaped() {
    let links = Links { token: Some("a.b&c".into()), ..Links::default() };
    assert_eq!(links.href("/x", &[("q", "<1 2>")]), "/x?q=%3C1+2%3E&token=a.b%26c");
    assert_eq!(path_segment("YCB 1/2"), "YCB%201%2F2");
    let html = render(ErrorPage::new(r#"<b a="1">'&'</b>"#, "", &links));
    assert!(html.contains("<h1>&#60;b a=&#34;1&#34;&#62;&#39;&#38;&#39;&#60;/b&#62;</h1>"), "{html}");
    assert!(html.contains(r#"<a href="/worklist?token=a.b%26c">"#), "{html}");
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
    let html = render(CasePage::new(&Links::default(), &summary, &[entry], &[], &Names::default()));
    assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<dept>"));
    assert!(html.contains("YCB-&#60;script&#62;"));
    assert!(html.contains(r#"class="entry red c2""#), "{html}");
}

#[test]
fn the_home_page_offers_the_search_and_an_officer_their_own_cases() {
    let html = render(HomePage::new(&links(Role::Officer), &caller(Role::Officer)));
    assert_escaped(&html, 2); // the token's hidden field and who is signed in
    assert!(html.contains(&[r#"<input type="hidden" name="token" value=""#, EVIL_ESCAPED, r#"">"#].concat()), "{html}");
    assert!(html.contains(&[r#"<span class="who">"#, EVIL_ESCAPED, " · officer</span>"].concat()), "{html}");
    assert!(html.contains(r#"href="/overdue?token=%3Cscript%3Ealert%28%22x%26y%22%29%3C%2Fscript%3E%27""#));
    assert!(html.contains("<title>查询 · 一次办 办件跟踪台</title>") && html.contains(r#"<input name="q""#));
    assert!(html.contains("我的办件 My cases") && html.contains("黄红牌预警 Overdue board"));

    let html = render(HomePage::new(&Links::default(), &caller(Role::Supervisor)));
    assert!(!html.contains("我的办件 My cases") && !html.contains(r#"type="hidden""#), "{html}");
    assert!(html.contains(r#"<a href="/login">登录 Sign in</a>"#) && html.contains(r#"<a href="/report">"#));
}

fn summary() -> pb::CaseSummary {
    pb::CaseSummary {
        case_number: EVIL.into(),
        package_name: EVIL.into(),
        status: common::CaseStatus::InJointProcessing as i32,
        warning: common::WarningLevel::Red as i32,
        applicant_display: EVIL.into(),
        lead_department: "samr".into(),
        officer_id: "officer-1".into(),
        officer_name: EVIL.into(),
        working_days_used: 3,
        promised_working_days: 10,
        promised_by: date(2026, 10, 15),
        clock_stopped: true,
        owed_by_applicant: vec![EVIL.into(), "照片".into()],
        holders: vec![pb::Holder {
            department: "fire".into(),
            item_name: EVIL.into(),
            state: common::TaskState::InProgress as i32,
            working_days_held: 2,
            warning: common::WarningLevel::Yellow as i32,
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn a_case_page_shows_the_summary_clock_holders_stops_and_swimlanes() {
    let at = |secs| Some(prost_types::Timestamp { seconds: secs, nanos: 0 });
    let entries = [
        pb::TimelineEntry {
            event_type: "CaseClockStopped".into(),
            summary: EVIL.into(),
            occurred_at: at(1_790_000_000),
            actor: Some(common::Actor { subject: EVIL.into(), role: common::Role::Clerk as i32, ..Default::default() }),
            ..Default::default()
        },
        pb::TimelineEntry {
            event_type: "TaskApproved".into(),
            department: "tax\"&".into(),
            working_days_since_previous: 2,
            ..Default::default()
        },
    ];
    let stops =
        [ClockStop { stopped_at: Utc.timestamp_opt(1_790_000_000, 0).unwrap(), resumed_at: None, reason: EVIL.into() }];
    let html = render(CasePage::new(&links(Role::Supervisor), &summary(), &entries, &stops, &Names::default()));
    // number, package, applicant, officer, owed, holder, the stop's reason
    // (clock and list), the entry's summary and actor; the title; the token.
    assert_escaped(&html, 12);
    assert!(
        html.contains(r#"<span class="status status-in_joint_processing" title="in_joint_processing">联办中</span>"#)
    );
    assert!(html.contains(r#"<span class="card red" title="red warning">红牌</span></h1>"#), "{html}");
    assert!(html.contains(&[r#"<span class="clock stopped">已暂停 stopped</span> "#, EVIL_ESCAPED, "</dd>"].concat()));
    assert!(html.contains(&["<dd>", EVIL_ESCAPED, "（officer-1）</dd>"].concat()), "{html}");
    assert!(html.contains(&["<dd>", EVIL_ESCAPED, "；照片</dd>"].concat()), "{html}");
    assert!(
        html.contains(r#"<td>办理中</td>"#)
            && html.contains(r#"<span class="card yellow" title="yellow warning">黄牌</span>"#)
    );
    assert!(html.contains("至今 still stopped") && html.contains("Timeline · 2 条"), "{html}");
    // The lanes: the case, the entries' departments, then the holders'.
    assert!(html.contains(r#"<div class="lane-head case-lane c1" data-dept="">办件 Case</div>"#), "{html}");
    assert!(html.contains(r#"<div class="lane-head holding c3" data-dept="fire">fire<span class="card yellow""#));
    assert!(html.contains(r#"<div class="lane-head  c2" data-dept="tax&#34;&#38;">tax&#34;&#38;</div>"#), "{html}");
    assert!(html.contains(r#"<div class="entry stop c1" data-event="CaseClockStopped" data-dept="">"#));
    assert!(html.contains(&["<small>CaseClockStopped · ", EVIL_ESCAPED, " · 综窗</small>"].concat()), "{html}");
    assert!(html.contains(r#"<div class="time stopped r">2026-09-21 22:13</div>"#), "{html}");
    assert!(html.contains(r#"<div class="time stopped r">—<small>+2 工作日</small></div>"#), "{html}");
    assert!(html.contains(r#"<div class="entry done c2" data-event="TaskApproved" data-dept="tax&#34;&#38;">"#));
}

#[test]
fn a_running_or_ended_clock_and_no_holders_are_said_so() {
    let mut s = pb::CaseSummary { status: common::CaseStatus::Accepted as i32, ..Default::default() };
    let html = render(CasePage::new(&Links::default(), &s, &[], &[], &Names::default()));
    assert!(html.contains(r#"<span class="clock running">计时中 running</span></dd>"#), "{html}");
    assert!(html.contains("目前没有部门在办。") && html.contains("<dt>待补 Owed</dt><dd>—</dd>"), "{html}");
    assert!(!html.contains("计时暂停"), "no stops, no list");
    s.status = common::CaseStatus::Closed as i32;
    let html = render(CasePage::new(&Links::default(), &s, &[], &[], &Names::default()));
    assert!(html.contains(r#"<span class="clock ended">已结束 ended</span></dd>"#), "{html}");
}

#[test]
fn the_worklist_lists_an_officers_cases_with_what_each_waits_for() {
    let mut case = summary();
    case.status = common::CaseStatus::Issued as i32;
    case.open_deficiencies = 1;
    case.next_deficiency_due_by = date(2026, 10, 3);
    let list = pb::OfficerWorklistResponse { cases: vec![case], total_count: 7, ..Default::default() };
    let html = render(WorklistPage::new(&links(Role::Supervisor), EVIL, Some(&list)));
    // the form's value, the token, who; number, package, applicant, owed.
    assert_escaped(&html, 7);
    assert!(html.contains(&[r#"<input name="officer" value=""#, EVIL_ESCAPED, r#"">"#].concat()), "{html}");
    assert!(html.contains("<p>7 件在办 · open cases</p>"), "{html}");
    assert!(html.contains(r#"<a href="/cases/%3Cscript%3Ealert%28%22x%26y%22%29%3C%2Fscript%3E%27?token="#), "{html}");
    assert!(html.contains(r#"<td title="issued">已出证</td><td>3 / 10 ⏸</td><td>2026-10-15</td>"#), "{html}");
    assert!(
        html.contains(&["容缺待补1项（2026-10-03前）；等待申请人：", EVIL_ESCAPED, "、照片；待领取/送达"].concat()),
        "{html}"
    );

    let html = render(WorklistPage::new(&Links::default(), "", None));
    assert!(html.contains(r#"<input name="officer" value="">"#) && !html.contains("件在办"), "{html}");
    let html = render(WorklistPage::new(&Links::default(), "o", Some(&pb::OfficerWorklistResponse::default())));
    assert!(html.contains("<p>0 件在办 · open cases</p>") && html.contains("没有办件。"), "{html}");
}

#[test]
fn the_overdue_board_groups_warned_tasks_by_department_with_their_cards() {
    let task = |department: &str, number: &str, warning: common::WarningLevel| pb::TaskRow {
        department: department.into(),
        case_number: number.into(),
        item_name: EVIL.into(),
        state: common::TaskState::InProgress as i32,
        working_days_used: 4,
        promised_working_days: 3,
        due_by: date(2026, 10, 1),
        warning: warning as i32,
        ..Default::default()
    };
    let board = pb::OverdueBoardResponse {
        entries: vec![
            pb::OverdueEntry {
                task: Some(task("samr", "N1", common::WarningLevel::Red)),
                overdue_working_days: 2,
                escalated: true,
                ..Default::default()
            },
            pb::OverdueEntry { task: Some(task("samr", "N2", common::WarningLevel::Yellow)), ..Default::default() },
            pb::OverdueEntry { task: Some(task("a&b", "N3", common::WarningLevel::Yellow)), ..Default::default() },
        ],
        red_count: 1,
        yellow_count: 2,
        ..Default::default()
    };
    let html = render(OverduePage::new(&links(Role::Supervisor), EVIL, &board, &Names::default()));
    // the form's value, the token, who; the item of each of three tasks.
    assert_escaped(&html, 6);
    assert!(html.contains(r#"<span class="card red">红牌 1</span> <span class="card yellow">黄牌 2</span>"#));
    let (a_and_b, samr) = (html.find("<h2>a&#38;b <small>a&#38;b · 红 0 · 黄 1</small></h2>"), html.find("<h2>samr"));
    assert!(a_and_b.is_some() && samr.is_some() && a_and_b < samr, "by department code:\n{html}");
    assert!(html.contains("<h2>samr <small>samr · 红 1 · 黄 1</small></h2>"), "{html}");
    let escalated = concat!(
        r#"<td>4 / 3</td><td>2026-10-01</td><td>2 工作日</td>"#,
        r#"<td><span class="card red" title="red warning">红牌</span> 已督办</td>"#
    );
    assert!(html.contains(escalated), "{html}");
    assert!(html.contains(r#"<td>—</td><td><span class="card yellow" title="yellow warning">黄牌</span></td>"#));

    let html = render(OverduePage::new(&Links::default(), "", &pb::OverdueBoardResponse::default(), &Names::default()));
    assert!(html.contains("没有预警。 / Nothing overdue.") && !html.contains("<table>"), "{html}");
}

#[test]
fn the_report_shows_both_tables_each_closed_by_the_total_and_links_the_csv() {
    let row = |label: &str| pb::StatisticsRow {
        label: label.into(),
        submitted: 3,
        closed: 2,
        on_time_rate: 2.0 / 3.0,
        average_working_days: 4.3,
        ratings: 5,
        ratings_by_score: vec![1, 0, 2, 1, 1],
        satisfaction_rate: 0.8,
        rectifications_opened: 1,
        rectifications_closed: 1,
        ..Default::default()
    };
    let report = pb::MonthlyReport {
        period: "2026-09".into(),
        total: Some(row("合计")),
        by_department: vec![row(EVIL)],
        by_package: vec![row("开办餐饮店一件事")],
        ..Default::default()
    };
    let html = render(ReportPage::new(&links(Role::Supervisor), EVIL, &report));
    // the form's value, the token, who; the department's label.
    assert_escaped(&html, 4);
    assert!(html.contains("<h1>月度统计 <small>Monthly report 2026-09</small></h1>"), "{html}");
    assert!(html.contains(r#"<a class="download" href="/report.csv?month=2026-09&#38;token=%3Cscript"#), "{html}");
    assert!(html.contains("<h2>按部门 By department</h2>") && html.contains("<h2>按套餐 By package</h2>"));
    let package = concat!(
        r#"<tr class=""><th>开办餐饮店一件事</th><td>3</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td>"#,
        "<td>66.7%</td><td>4.3</td><td>5</td><td>1 / 0 / 2 / 1 / 1</td><td>80.0%</td><td>1/1/0</td></tr>"
    );
    assert!(html.contains(package), "{html}");
    assert_eq!(html.matches(r#"<tr class="total"><th>合计</th>"#).count(), 2, "{html}");
}

#[test]
fn the_sign_in_page_shows_why_it_is_asked_for() {
    let html = render(LoginPage::new(EVIL));
    assert_escaped(&html, 1);
    assert!(html.contains(&[r#"<p class="note">"#, EVIL_ESCAPED, r#"</p>"#].concat()), "{html}");
    assert!(html.contains(r#"<form method="post" action="/login">"#) && html.contains(r#"<textarea name="token""#));
    assert!(html.contains(r#"<a href="/login">登录 Sign in</a>"#) && !html.contains(r#"class="who""#));
    assert!(!render(LoginPage::new("")).contains(r#"class="note""#));
}

#[test]
fn an_error_page_shows_its_title_and_detail() {
    let html = render(ErrorPage::new(EVIL, EVIL, &links(Role::Agent)));
    // the title (page and heading), the detail, who.
    assert_escaped(&html, 4);
    assert!(
        html.contains(
            &["<section class=\"error\">\n  <h1>", EVIL_ESCAPED, "</h1>\n  <p>", EVIL_ESCAPED, "</p>"].concat()
        )
    );
    assert!(html.contains(&["<title>", EVIL_ESCAPED, " · 一次办 办件跟踪台</title>"].concat()), "{html}");
}

#[test]
fn no_template_turns_escaping_off() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files = vec![dir];
    let mut seen = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let compact: String = text.split_whitespace().collect();
        for off in ["|safe", "|escape(\"none\")", "|e(\"none\")", "escape=\"none\""] {
            assert!(!compact.contains(off), "{} turns escaping off with {off}", path.display());
        }
        seen += 1;
    }
    assert!(seen >= 8, "the templates were read ({seen})");
}

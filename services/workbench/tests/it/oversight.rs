//! The supervisor's pages: the overdue board (tracking's OverdueBoard) and
//! the monthly statistics with their CSV download (a GET with the session
//! cookie alone); what an agent may not read is the service's refusal,
//! shown as its message.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use yiciban_proto::common::v1::WarningLevel;
use yiciban_testkit::applications::newborn;

use crate::helpers::{CDC, MATERNITY, of, spawn_app};

#[tokio::test]
async fn a_supervisor_sees_the_overdue_board_and_downloads_the_months_csv() {
    let app = spawn_app().await;
    let (case_id, tasks) = app.case_with_tasks(newborn("overdue-1")).await;
    let maternity = of(&tasks, MATERNITY);
    // Well past every first step's time limit: the sweep cards them red.
    app.days_pass(40).await;
    let summary = app.summary_when(&case_id, "a red card", |s| s.warning == WarningLevel::Red as i32).await;

    let browser = app.signed_in("sup-001").await;
    let home = browser.get("/").await;
    assert!(home.body.contains("href=\"/overdue\"") && home.body.contains("href=\"/statistics\""), "{}", home.body);

    let board = browser.get("/overdue").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    assert!(board.body.contains(&format!("href=\"/cases/{case_id}\">{}</a>", summary.case_number)), "{}", board.body);
    assert!(board.body.contains(&maternity.item_name) && board.body.contains("红牌"), "{}", board.body);
    // Narrowed to a department without a step in the case, it is not there.
    let samr = browser.get("/overdue?department=samr").await;
    assert_eq!(samr.status, StatusCode::OK, "{}", samr.body);
    assert!(!samr.body.contains(&summary.case_number) && samr.body.contains("没有预警或超期的环节"));

    // The officer's worklist, as the supervisor names the officer.
    let worklist = browser.get(&format!("/worklist?officer={}", summary.officer_id)).await;
    assert_eq!(worklist.status, StatusCode::OK, "{}", worklist.body);
    assert!(worklist.body.contains(&format!("href=\"/cases/{case_id}\"")) && worklist.body.contains("红牌"));

    let stats = browser.get("/statistics?period=2026-09").await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    assert!(stats.body.contains("<dt>申报</dt><dd>1 件"), "the month's one case: {}", stats.body);
    assert!(stats.body.contains("href=\"/statistics.csv?period=2026-09\""), "{}", stats.body);
    let bad = browser.get("/statistics?period=2026-13").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("查询条件无效：period"), "{}", bad.body);

    let csv = browser.http.get(format!("{}/statistics.csv?period=2026-09", browser.base)).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = csv.headers()[CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("2026-09"), "{disposition}");
    let body = csv.text().await.unwrap();
    let header = body.trim_start_matches('\u{feff}').lines().next().unwrap_or_default().to_owned();
    assert!(header.starts_with("统计月份,行类型,代码,名称,申请数"), "{header}");
    assert!(body.lines().count() >= 2, "a total row after the header: {body}");

    // Without a session: to the sign-in, never the file.
    let anonymous = app.browser().get("/statistics.csv?period=2026-09").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(anonymous.location().starts_with("/auth/login"), "{}", anonymous.location());
}

#[tokio::test]
async fn an_agent_is_told_the_services_refusal_for_the_supervisors_pages() {
    let app = spawn_app().await;
    let browser = app.signed_in("agent-maternity-1").await;

    let stats = browser.get("/statistics").await;
    assert_eq!(stats.status, StatusCode::FORBIDDEN, "{}", stats.body);
    assert!(stats.body.contains("class=\"error\" role=\"alert\""), "{}", stats.body);
    assert!(stats.body.contains("supervisor"), "the service's own words: {}", stats.body);
    let csv = browser.get("/statistics.csv?period=2026-09").await;
    assert_eq!(csv.status, StatusCode::FORBIDDEN, "{}", csv.body);
    assert!(csv.body.contains("<html") && !csv.body.contains("统计月份,"), "a page, never the file");

    // The board of another department: refused; its own: allowed.
    let other = browser.get(&format!("/overdue?department={CDC}")).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.body);
    assert!(other.body.contains("reads only its own department"), "{}", other.body);
    let own = browser.get("/overdue").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    for page in [&stats, &other] {
        assert!(!page.body.contains("Status {") && !page.body.contains("tonic"), "no internals: {}", page.body);
    }
}

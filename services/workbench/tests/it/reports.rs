//! 月报 in the workbench (ADR 0039), over HTTP against the real services
//! (the supervision service asks the real tracking for the case figures):
//! an agent opens 本部门月报, saves a draft, has a submission without a
//! text refused next to the field (nothing recorded), submits; the office
//! sees every department in 月报汇总, returns the report with a reason
//! (refused without one), the department submits again and the office
//! accepts; the CSV, the printable page and the PDF; another department's
//! agent is refused; the supervisor's board lists 逾期未报.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{Browser, Page, spawn_app};

/// The test clock's day is 29 September 2026: the month being reported is
/// August, due 15 September, late since.
const AUGUST: &str = "/reports/2026-08/samr";

fn error_at<'a>(page: &'a Page, input: &str) -> &'a str {
    let marker = format!("id=\"{input}-error\" role=\"alert\">");
    let at = page.body.find(&marker).unwrap_or_else(|| panic!("an error at {input}:\n{}", page.body)) + marker.len();
    page.body[at..].split('<').next().unwrap()
}

/// Posts the form whose action is `{AUGUST}/{form}` as `action` with
/// `fields`.
async fn act(browser: &Browser, page: &Page, form: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let marker = format!("action=\"{AUGUST}/{form}\"");
    let (csrf, version, key) = (page.csrf(), page.field_after(&marker, "version"), page.field_after(&marker, "key"));
    let mut body = vec![("csrf", csrf.as_str()), ("version", version.as_str()), ("key", key.as_str())];
    body.extend_from_slice(fields);
    browser.post(&format!("{AUGUST}/{action}"), &body, &[]).await
}

#[tokio::test]
async fn a_department_drafts_and_submits_its_month_and_the_office_returns_and_accepts_it() {
    let app = spawn_app().await;
    let agent = app.signed_in("agent-samr-1").await;
    let home = agent.get("/").await;
    assert!(home.body.contains("href=\"/report\""), "the nav links 本部门月报: {}", home.body);
    let own = agent.get("/report").await;
    assert_eq!((own.status, own.location()), (StatusCode::SEE_OTHER, AUGUST), "{}", own.body);

    // The deadline sweep at the service's start flags August late (it is
    // 29 September): waited for, so the forms carry the version after it.
    let page = yiciban_testkit::eventually("August flagged late", Duration::from_secs(10), || async {
        let page = agent.follow(AUGUST).await;
        page.body.contains("逾期未报（2026-09-29 标记）").then_some(page)
    })
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("未填报") && page.body.contains("实时数据"), "{}", page.body);
    assert!(page.body.contains("按时办结率"), "the live figures: {}", page.body);

    let saved = act(&agent, &page, "draft", "draft", &[("difficulties", "窗口人手不足"), ("publicity", "")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = agent.follow(saved.location()).await;
    assert!(page.body.contains("草稿已保存") && page.body.contains("窗口人手不足"), "{}", page.body);

    // Submitting without the publicity text: refused next to the field.
    let refused = act(&agent, &page, "draft", "submit", &[("difficulties", "窗口人手不足"), ("publicity", " ")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(error_at(&refused, "report-publicity").contains("宣传活动"), "{}", refused.body);
    assert!(refused.body.contains("草稿"), "still a draft: {}", refused.body);

    let submitted =
        act(&agent, &refused, "draft", "submit", &[("difficulties", "窗口人手不足"), ("publicity", "进社区宣传两次")])
            .await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.body);
    let page = agent.follow(submitted.location()).await;
    assert!(page.body.contains("报送时冻结的数据") && page.body.contains("已报送"), "{}", page.body);
    assert!(!page.body.contains(&format!("action=\"{AUGUST}/draft\"")), "no form once submitted: {}", page.body);

    // The office: every department of the month, samr submitted.
    let office = app.signed_in("sup-001").await;
    let home = office.get("/").await;
    assert!(home.body.contains("href=\"/reports\""), "the nav links 月报汇总: {}", home.body);
    let month = office.get("/reports?period=2026-08").await;
    assert_eq!(month.status, StatusCode::OK, "{}", month.body);
    assert!(
        month.body.contains(&format!("href=\"{AUGUST}\"")) && month.body.contains("已报送，待审核"),
        "{}",
        month.body
    );
    assert!(month.body.contains("未填报"), "departments not started are listed: {}", month.body);

    let page = office.get(AUGUST).await;
    let no_reason = act(&office, &page, "return", "return", &[("reason", " ")]).await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST, "{}", no_reason.body);
    assert!(error_at(&no_reason, "report-reason").contains("退回原因"), "{}", no_reason.body);
    let returned = act(&office, &no_reason, "return", "return", &[("reason", "请写明宣传活动的日期")]).await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.body);

    // The department sees why, and submits again.
    let page = agent.get(AUGUST).await;
    assert!(page.body.contains("已退回修改") && page.body.contains("请写明宣传活动的日期"), "{}", page.body);
    let again =
        act(&agent, &page, "draft", "submit", &[("difficulties", "无"), ("publicity", "9月3日进社区宣传")]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);

    let page = office.get(AUGUST).await;
    let accepted = act(&office, &page, "accept", "accept", &[]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let page = office.follow(accepted.location()).await;
    assert!(page.body.contains("已采纳") && page.body.contains("9月3日进社区宣传"), "{}", page.body);

    // The CSV, the printable page and the PDF.
    let csv = office.get("/reports.csv?period=2026-08").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.body.starts_with('\u{feff}') && csv.body.contains("已采纳"), "{}", csv.body);
    let print = office.get(&format!("{AUGUST}/print")).await;
    assert_eq!(print.status, StatusCode::OK, "{}", print.body);
    assert!(print.body.contains("9月3日进社区宣传") && !print.body.contains("<textarea"), "{}", print.body);
    let pdf = office.get(&format!("{AUGUST}/pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF"), "a PDF file");

    // Another department's agent: refused, as the service says.
    let outsider = app.signed_in("agent-cdc-1").await;
    let theirs = outsider.get(AUGUST).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.body);
    assert!(!theirs.body.contains("9月3日进社区宣传"), "{}", theirs.body);
}

#[tokio::test]
async fn the_supervisors_board_lists_the_departments_flagged_late() {
    let app = spawn_app().await;
    let office = app.signed_in("sup-001").await;
    // The deadline sweep runs at the service's start: on 29 September every
    // department of the catalog without an August submission is flagged.
    let board = yiciban_testkit::eventually("the late reports on the board", Duration::from_secs(10), || async {
        let board = office.get("/overdue").await;
        board.body.contains(&format!("href=\"{AUGUST}\"")).then_some(board)
    })
    .await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    assert!(board.body.contains("逾期未报（2026-08 月报）"), "{}", board.body);
    assert!(board.body.contains(&format!("href=\"{AUGUST}\"")), "{}", board.body);
    // An agent's board has no such list.
    let agent = app.signed_in("agent-samr-1").await;
    let own = agent.get("/overdue").await;
    assert!(!own.body.contains("逾期未报"), "{}", own.body);
}

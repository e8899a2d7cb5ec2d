//! A department's month in a real browser (issue 21), every step a
//! person's: a complaint arrives on the hotline and the clerk records it
//! (意见登记); the supervisor assigns it to 市场监督管理局, whose agent
//! answers it, and closes it; the supervisor draws the month's answered
//! opinions for return visits (回访抽样) and records the visit; in the next
//! month the department drafts and submits its report (本部门月报), the
//! 政务公开 office returns it with a reason, the department corrects and
//! submits again and the office accepts it (月报汇总), prints it and
//! downloads it as a PDF; the departments that did not report the month
//! before stand under 逾期未报 on the board; the scoring rules of the
//! assessment are looked at. Every form used is checked for labels.

use crate::helpers::spawn_app;
use crate::web::{Web, assert_labelled};

const SUPERVISOR: (&str, &str) = ("sup-001", "陈静（督办负责人）");

#[tokio::test]
async fn a_departments_month_in_the_browser_from_a_complaint_to_the_accepted_report() {
    let app = spawn_app().await;
    let web = Web::start(&app).await;
    let names = yiciban_workbench::Names::seed().unwrap();
    let samr = names.department("samr");

    // The complaint arrives on the 12345 hotline: the clerk records it.
    let clerk = web.signed_in("clerk-001", "王芳（窗口受理）").await;
    clerk.link("意见登记").await.click().await;
    clerk.wait_for_text("内容摘要").await;
    assert_labelled(&clerk, "the opinion form").await;
    clerk.find("#kind option[value=\"complaint\"]").await.click().await;
    clerk.find("#channel option[value=\"12345\"]").await.click().await;
    clerk.find("#summary").await.send_keys("营业执照变更窗口排队两小时").await;
    clerk.find("#department").await.send_keys("samr").await;
    clerk.find("#contact_name").await.send_keys("赵六").await;
    clerk.find("#contact_phone").await.send_keys("13800002222").await;
    clerk.find("form[action=\"/opinions/new\"] button[type=\"submit\"]").await.click().await;
    clerk.wait_for_text("已登记。").await;
    clerk.close().await;

    // The supervisor assigns it to samr's agent.
    let supervisor = web.signed_in(SUPERVISOR.0, SUPERVISOR.1).await;
    supervisor.link("意见处理").await.click().await;
    supervisor.link("营业执照变更窗口排队两小时").await.click().await;
    supervisor.wait_for_text("答复期限").await;
    let opinion_url = supervisor.url().await;
    assert!(!supervisor.text().await.contains("13800002222"), "the contact is shown masked");
    assert_labelled(&supervisor, "the opinion's forms").await;
    supervisor.find("#assign-department").await.send_keys("samr").await;
    supervisor.find("#assign-person").await.send_keys("agent-samr-1").await;
    supervisor.find("form[action$=\"/assign\"] button[type=\"submit\"]").await.click().await;
    supervisor.wait_for_text("已交办。").await;

    // samr's agent answers it from 本部门意见.
    let agent = web.signed_in("agent-samr-1", &samr).await;
    agent.link("本部门意见").await.click().await;
    agent.link("营业执照变更窗口排队两小时").await.click().await;
    agent.find("#answer-answer").await.send_keys("已增开一个窗口并公示取号时段").await;
    agent.find("form[action$=\"/answer\"] button[type=\"submit\"]").await.click().await;
    agent.wait_for_text("答复已记录。").await;

    // The supervisor closes it, draws the month's answered opinions for
    // return visits and records the visit.
    supervisor.goto(&opinion_url).await;
    supervisor.find("form[action$=\"/close\"] button[type=\"submit\"]").await.click().await;
    supervisor.wait_for_text("已办结。").await;
    supervisor.link("意见处理").await.click().await;
    supervisor.find("details.action summary").await.click().await;
    assert_labelled(&supervisor, "the return-visit draw").await;
    supervisor.find("#sample-percent").await.send_keys("100").await;
    supervisor.find("form[action=\"/opinions/sample\"] button[type=\"submit\"]").await.click().await;
    let drawn = supervisor.wait_for_text("本次抽中 1 件").await;
    assert!(drawn.contains("待回访"), "{drawn}");
    supervisor.link("营业执照变更窗口排队两小时").await.click().await;
    supervisor.find("input[name=\"satisfied\"]").await.click().await;
    supervisor.find("#visit-note").await.send_keys("反映人表示满意").await;
    supervisor.find("form[action$=\"/visit\"] button[type=\"submit\"]").await.click().await;
    supervisor.wait_for_text("回访已记录。").await;

    // The next month (everyone signs in afresh): samr drafts its report,
    // then submits it.
    supervisor.close().await;
    agent.close().await;
    app.days_pass(3).await;
    let agent = web.signed_in("agent-samr-1", &samr).await;
    let supervisor = web.signed_in(SUPERVISOR.0, SUPERVISOR.1).await;
    agent.link("本部门月报").await.click().await;
    agent.wait_for_text("2026-09 月度报送").await;
    assert_labelled(&agent, "the report form").await;
    agent.find("#report-difficulties").await.send_keys("窗口高峰时段排队较长").await;
    agent.find("#report-publicity").await.send_keys("开展“一件事一次办”进社区宣传2场").await;
    agent.find("form[action$=\"/draft\"] button:not([formaction])").await.click().await;
    agent.wait_for_text("草稿已保存。").await;
    agent.find("button[formaction$=\"/submit\"]").await.click().await;
    agent.wait_for_text("月报已报送").await;

    // The office returns it with a reason; samr corrects and submits again.
    supervisor.link("月报汇总").await.click().await;
    supervisor.goto(&web.at("/reports?period=2026-09")).await;
    supervisor.link(&samr).await.click().await;
    supervisor.wait_for_text("已报送，待审核").await;
    assert_labelled(&supervisor, "the office's forms").await;
    supervisor.find("#report-reason").await.send_keys("请补充宣传活动的参与人数").await;
    supervisor.find("form[action$=\"/return\"] button[type=\"submit\"]").await.click().await;
    supervisor.wait_for_text("已退回修改。").await;
    let report_url = supervisor.url().await;
    agent.link("本部门月报").await.click().await;
    agent.wait_for_text("请补充宣传活动的参与人数").await;
    agent.find("#report-publicity").await.send_keys("，参与群众约120人").await;
    agent.find("button[formaction$=\"/submit\"]").await.click().await;
    agent.wait_for_text("月报已报送").await;
    agent.close().await;

    // The office accepts it, prints it and downloads the PDF.
    supervisor.goto(&report_url).await;
    supervisor.find("form[action$=\"/accept\"] button[type=\"submit\"]").await.click().await;
    let accepted = supervisor.wait_for_text("已采纳。").await;
    assert!(accepted.contains("参与群众约120人"), "{accepted}");
    supervisor.link("打印版").await.click().await;
    let printed = supervisor.wait_for_text("宣传活动").await;
    assert!(!printed.contains("退回修改</button>"), "no forms on the printed page");
    supervisor.goto(&report_url).await;
    supervisor.link("下载 PDF").await.click().await;
    let (pdf_name, pdf) = supervisor.downloaded().await;
    assert!(pdf_name.ends_with(".pdf") && pdf.starts_with(b"%PDF-"), "{pdf_name}: a PDF");

    // Last month's reports nobody submitted stand on the board.
    supervisor.link("超期看板").await.click().await;
    supervisor.wait_for_text("逾期未报（2026-08 月报）").await;

    // The assessment's scoring rules, as the office configured them.
    supervisor.link("考核").await.click().await;
    supervisor.link("考核规则").await.click().await;
    supervisor.wait_for_text("保存为新版本").await;
    assert_labelled(&supervisor, "the scoring rules").await;
    supervisor.close().await;
}

//! 短信记录 (`/messages`): the notifier's text messages as a supervisor sees
//! them — the acceptance message of a case taken at the window, its phone
//! masked, sent to the local sink — and the notifier's refusal of an agent.

use reqwest::StatusCode;
use yiciban_testkit::applications::newborn;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_supervisor_sees_the_text_messages_with_the_phone_masked_and_an_agent_is_refused() {
    let app = spawn_app().await;
    let accepted = app.intake_as_clerk().submit_application(newborn("sms-1")).await.unwrap().into_inner();
    let browser = app.signed_in("sup-001").await;
    let home = browser.get("/").await;
    assert!(home.body.contains("href=\"/messages\""), "the nav links 短信记录: {}", home.body);

    let page =
        yiciban_testkit::eventually("the acceptance message sent", std::time::Duration::from_secs(30), || async {
            let page = browser.get(&format!("/messages?case={}", accepted.case_id)).await;
            // The status column's words are also the filter's: wait for the row.
            (page.status == StatusCode::OK && page.body.contains("<td>已发送</td>")).then_some(page)
        })
        .await;
    assert!(page.body.contains(&accepted.case_number), "{}", page.body);
    assert!(page.body.contains("138****0000") && !page.body.contains("13800000000"), "{}", page.body);
    assert!(page.body.contains("已受理") && page.body.contains("受理"), "{}", page.body);

    let bad = browser.get("/messages?status=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("筛选条件无效"), "{}", bad.body);

    let agent = app.signed_in("agent-cdc-1").await;
    let refused = agent.get("/messages").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(!refused.body.contains("138****0000"));
}

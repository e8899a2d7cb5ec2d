//! 办件备注 in the workbench (issue 15 item 4, ADR 0034): the case's officer
//! adds a note on the case page — an empty or too long one refused next to
//! the field, nothing kept — and it shows in the timeline with its author
//! and Beijing time; a supervisor reads it too; an agent is offered no form
//! and, posting one by hand, is shown intake's refusal; the agent's case
//! page has no notes; no note reaches intake's events.

use reqwest::StatusCode;
use yiciban_testkit::applications::newborn;

use crate::helpers::{Browser, OFFICER, Page, spawn_app};

/// The words next to the note's text.
fn error_at_text(page: &Page) -> &str {
    let marker = "id=\"note-text-error\" role=\"alert\">";
    let at = page.body.find(marker).unwrap_or_else(|| panic!("an error at the text:\n{}", page.body)) + marker.len();
    page.body[at..].split('<').next().unwrap()
}

/// Posts `text` with the note form of `page` (its token, version and key).
async fn post_note(browser: &Browser, page: &Page, case_id: &str, text: &str) -> Page {
    let action = format!("/cases/{case_id}/notes");
    let marker = format!("action=\"{action}\"");
    let (csrf, version, key) = (page.csrf(), page.field_after(&marker, "version"), page.field_after(&marker, "key"));
    let form = [("csrf", csrf.as_str()), ("version", version.as_str()), ("key", key.as_str()), ("text", text)];
    browser.post(&action, &form, &[]).await
}

async fn note_count(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM intake.case_notes").fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn the_officer_adds_a_note_that_shows_in_the_timeline_and_an_agent_may_not() {
    let app = spawn_app().await;
    let (case_id, _) = app.case_with_tasks(newborn("note-1")).await;
    app.summary_when(&case_id, "the officer assigned", |s| s.officer_id == OFFICER).await;
    let officer = app.signed_in(OFFICER).await;
    let path = format!("/cases/{case_id}");
    let page = officer.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("action=\"/cases/{case_id}/notes\"")), "{}", page.body);

    // Empty, then too long: refused next to the field, nothing kept.
    let events = app.intake_event_count().await;
    let refused = post_note(&officer, &page, &case_id, "").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(!error_at_text(&refused).is_empty());
    let long = "备".repeat(1001);
    let refused = post_note(&officer, &refused, &case_id, &long).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(error_at_text(&refused).contains("1000"), "{}", refused.body);
    assert!(refused.body.contains(&long), "what was typed is kept");
    assert_eq!(note_count(app.pool()).await, 0);

    let text = "申请人来电：周一补交出生医学证明原件 <b>";
    let done = post_note(&officer, &refused, &case_id, text).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=note"));
    let page = officer.get(done.location()).await;
    assert!(page.body.contains("已添加备注"), "{}", page.body);
    assert!(page.body.contains("申请人来电：周一补交出生医学证明原件 &#60;b&#62;"), "escaped: {}", page.body);
    assert!(page.body.contains(&format!("专人 {OFFICER}")) && page.body.contains("办件备注"), "{}", page.body);
    assert_eq!(app.intake_event_count().await, events, "a note is no event");

    let supervisor = app.signed_in("sup-001").await;
    assert!(supervisor.get(&path).await.body.contains("申请人来电：周一补交出生医学证明原件"));

    // An agent of a department of the case: no notes, no form; posting the
    // officer's form by hand is refused by intake and shown on the page.
    let agent = app.signed_in("agent-maternity-1").await;
    let own = agent.get(&path).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(!own.body.contains("申请人来电") && !own.body.contains("/notes\""), "{}", own.body);
    let marker = format!("action=\"/cases/{case_id}/notes\"");
    let (version, key) = (page.field_after(&marker, "version"), page.field_after(&marker, "key"));
    let csrf = own.csrf();
    let form = [("csrf", csrf.as_str()), ("version", version.as_str()), ("key", key.as_str()), ("text", "部门备注")];
    let refused = agent.post(&format!("/cases/{case_id}/notes"), &form, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("class=\"error\" role=\"alert\""), "{}", refused.body);
    assert_eq!(note_count(app.pool()).await, 1);
}

//! The public progress page (进度查询, ADR 0032): reachable without
//! signing in; the right pair shows the stage, the departments and the
//! promised date and nothing personal; a wrong tail and an unknown number
//! get the same neutral message; tries are limited per client address and
//! per case number; the form's token and the escaping hold; the page says
//! whom to call.

use reqwest::StatusCode;
use yiciban_testkit::applications::{MOTHER_ID, newborn};

use crate::helpers::{Browser, Page, TestApp, spawn_app};

const NOT_FOUND: &str = "未找到该办件，或证件号码后六位不符";

/// The tail of the seeded mother's ID number.
fn right_tail() -> &'static str {
    &MOTHER_ID[MOTHER_ID.len() - 6..]
}

/// A browser on the progress page: the page and its form token.
async fn on_the_page(app: &TestApp) -> (Browser, String) {
    let browser = app.browser();
    let page = browser.get("/progress").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = page.field_after("action=\"/progress\"", "csrf");
    (browser, token)
}

async fn ask(browser: &Browser, token: &str, number: &str, tail: &str, from: &str) -> Page {
    let form = [("csrf", token), ("case_number", number), ("id_tail", tail)];
    browser.post("/progress", &form, &[("x-forwarded-for", from)]).await
}

/// A submitted case, once tracking holds it with its first steps: its number.
async fn a_case(app: &TestApp) -> (String, yiciban_proto::tracking::v1::CaseSummary) {
    let (case_id, _) = app.case_with_tasks(newborn("progress-1")).await;
    let summary = app.summary_when(&case_id, "both first steps held", |s| s.holders.len() >= 2).await;
    (summary.case_number.clone(), summary)
}

#[tokio::test]
async fn the_right_pair_shows_the_stage_the_departments_and_the_date_and_nothing_personal() {
    let app = spawn_app().await;
    let (number, summary) = a_case(&app).await;
    // Without signing in: the page itself, not the way to sign in.
    let (browser, token) = on_the_page(&app).await;
    assert!(browser.session_id().is_none());
    // Whom to call, before asking anything: the centre's consultation phone.
    let blank = browser.get("/progress").await;
    assert!(blank.body.contains("如有疑问，请拨打咨询电话：0472-5163108"), "{}", blank.body);

    // A lower-case x is taken as the check character X.
    let page = ask(&browser, &token, &number, &right_tail().to_lowercase(), "198.51.100.1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&number) && page.body.contains("联办中"), "{}", page.body);
    let names = yiciban_workbench::Names::seed().unwrap();
    assert!(page.body.contains(&names.package(&summary.package_id)), "{}", page.body);
    let promised = summary.promised_by.unwrap();
    let promised = format!("{:04}-{:02}-{:02}", promised.year, promised.month, promised.day);
    assert!(page.body.contains(&promised), "the promised date {promised}: {}", page.body);
    for holder in &summary.holders {
        assert!(page.body.contains(&names.department(&holder.department)), "{}", page.body);
    }
    // Nothing personal: not the name (in clear or masked), the ID number,
    // the phone, the form's names, the officer or the holders' logins.
    for private in ["王丽", "王*", MOTHER_ID, "13800000000", "张小宝", "officer-001", summary.officer_name.as_str()]
    {
        assert!(private.is_empty() || !page.body.contains(private), "{private} shown: {}", page.body);
    }
    // The tail is never shown again.
    assert!(!page.body.contains(right_tail()), "{}", page.body);
    // The case's package's contact.
    assert!(
        page.body.contains("咨询电话：0472-5163108（“一件事一次办”综合窗口）；全国政务服务便民热线 12345"),
        "{}",
        page.body
    );
    // Nothing was shown in clear, so nothing is in intake's read log for it.
    let reads = app.all_intake_reads().await;
    assert!(reads.iter().all(|r| r.caller != "progress" && !r.method.ends_with("CheckApplicantTail")), "{reads:?}");
}

#[tokio::test]
async fn a_wrong_tail_and_an_unknown_number_get_the_same_neutral_message() {
    let app = spawn_app().await;
    let (number, _) = a_case(&app).await;
    let (browser, token) = on_the_page(&app).await;

    let wrong_tail = ask(&browser, &token, &number, "000000", "198.51.100.2").await;
    assert_eq!(wrong_tail.status, StatusCode::NOT_FOUND, "{}", wrong_tail.body);
    assert!(wrong_tail.body.contains(NOT_FOUND), "{}", wrong_tail.body);
    assert!(!wrong_tail.body.contains("联办中"), "{}", wrong_tail.body);

    let unknown = ask(&browser, &token, "YCB-20260929-999999", right_tail(), "198.51.100.2").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    // Word for word the same page: nothing tells which part was wrong.
    let message = |p: &Page| p.body.split("role=\"alert\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(message(&wrong_tail), message(&unknown));
}

#[tokio::test]
async fn the_eleventh_try_from_one_address_within_ten_minutes_is_refused() {
    let app = spawn_app().await;
    let (browser, token) = on_the_page(&app).await;
    for n in 1..=10 {
        let number = format!("YCB-20260929-{n:06}");
        let page = ask(&browser, &token, &number, "123456", "203.0.113.9").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "try {n}: {}", page.body);
    }
    let eleventh = ask(&browser, &token, "YCB-20260929-000011", "123456", "203.0.113.9").await;
    assert_eq!(eleventh.status, StatusCode::TOO_MANY_REQUESTS, "{}", eleventh.body);
    assert!(eleventh.body.contains("查询过于频繁"), "{}", eleventh.body);
    // Another address is not held back by it.
    let other = ask(&browser, &token, "YCB-20260929-000011", "123456", "203.0.113.10").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    // Ten minutes later the address may ask again.
    app.clock.advance(chrono::Duration::minutes(11));
    let later = ask(&browser, &token, "YCB-20260929-000012", "123456", "203.0.113.9").await;
    assert_eq!(later.status, StatusCode::NOT_FOUND, "{}", later.body);
}

#[tokio::test]
async fn five_wrong_tries_on_a_case_number_lock_it_for_an_hour_even_for_the_right_pair() {
    let app = spawn_app().await;
    let (number, _) = a_case(&app).await;
    let (browser, token) = on_the_page(&app).await;
    // From five addresses: the lock is the case number's, not an address's.
    for n in 1..=5 {
        let page = ask(&browser, &token, &number, &format!("{n:06}"), &format!("192.0.2.{n}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "try {n}: {}", page.body);
    }
    let sixth = ask(&browser, &token, &number, right_tail(), "192.0.2.6").await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS, "{}", sixth.body);
    assert!(sixth.body.contains("错误查询次数过多") && !sixth.body.contains("联办中"), "{}", sixth.body);
    // An hour later the right pair answers.
    app.clock.advance(chrono::Duration::minutes(61));
    let later = ask(&browser, &token, &number, right_tail(), "192.0.2.6").await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert!(later.body.contains("联办中"), "{}", later.body);
}

#[tokio::test]
async fn a_query_without_the_form_token_or_from_another_site_is_refused_and_not_counted() {
    let app = spawn_app().await;
    let (browser, token) = on_the_page(&app).await;
    let number = "YCB-20260929-000001";
    let no_token = ask(&browser, "", number, "123456", "203.0.113.20").await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "{}", no_token.body);
    let forged = ask(&browser, &"0".repeat(64), number, "123456", "203.0.113.20").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    // Another browser's token does not fit this browser's cookie.
    let (_, other_token) = on_the_page(&app).await;
    assert_ne!(other_token, token);
    let swapped = ask(&browser, &other_token, number, "123456", "203.0.113.20").await;
    assert_eq!(swapped.status, StatusCode::FORBIDDEN, "{}", swapped.body);
    let form = [("csrf", token.as_str()), ("case_number", number), ("id_tail", "123456")];
    let cross = browser.post("/progress", &form, &[("origin", "https://evil.example")]).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", cross.body);
    let tries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM workbench.progress_tries").fetch_one(app.pool()).await.unwrap();
    assert_eq!(tries, 0, "refused forms are no tries");
}

#[tokio::test]
async fn markup_in_the_case_number_is_shown_as_text_and_bad_input_is_no_try() {
    let app = spawn_app().await;
    let (browser, token) = on_the_page(&app).await;
    let page = ask(&browser, &token, "<script>alert(1)</script>", "12", "203.0.113.30").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    assert!(page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{}", page.body);
    assert!(page.body.contains("progress-number-error") && page.body.contains("progress-tail-error"));
    let tries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM workbench.progress_tries").fetch_one(app.pool()).await.unwrap();
    assert_eq!(tries, 0, "a form with problems is no try");
}

#[tokio::test]
async fn only_the_progress_identity_may_check_a_tail() {
    let app = spawn_app().await;
    let (number, _) = a_case(&app).await;
    let request =
        yiciban_proto::intake::v1::CheckApplicantTailRequest { case_number: number, id_tail: right_tail().to_owned() };
    let refused = app.intake_as_clerk().check_applicant_tail(request).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");
}

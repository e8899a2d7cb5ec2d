//! Logout is a POST with the form token; it ends the session server-side,
//! so the old cookie no longer opens anything.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use crate::helpers::spawn_app;

#[tokio::test]
async fn logout_ends_the_session_and_the_old_cookie_no_longer_works() {
    let app = spawn_app().await;
    let browser = app.signed_in("agent-maternity-1").await;
    let home = browser.get("/").await;
    let stolen = browser.session_id().expect("the browser holds a session cookie");

    let refused = browser.post("/auth/logout", &[], &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "logout needs the form token");
    assert_eq!(browser.get("/").await.status, StatusCode::OK, "still signed in");

    assert!(app.issuer.holds_refresh_token("agent-maternity-1"), "the workbench holds the sign-in");
    let out = browser.post("/auth/logout", &[("csrf", &home.csrf())], &[]).await;
    let cleared = out.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cleared.starts_with("__Host-yiciban-session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    // Revoked at the issuer, and on to its end-session endpoint (no token in the URL), then back.
    assert!(!app.issuer.holds_refresh_token("agent-maternity-1"), "the refresh token is revoked");
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let signed_out = format!("{}/signed-out", app.url);
    let end_session = reqwest::Url::parse(out.location()).unwrap();
    assert_eq!(end_session.as_str().split('?').next(), Some(format!("{}/logout", app.issuer.url()).as_str()));
    let query: Vec<(String, String)> = end_session.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [("client_id".to_owned(), "yiciban-workbench".to_owned()), ("post_logout_redirect_uri".to_owned(), signed_out)]
    );
    let page = browser.follow(out.location()).await;
    assert!(page.body.contains("您已退出工作台"), "{}", page.body);
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);

    // The old cookie, sent again by another client: no session.
    let replay = app.browser();
    let answer = replay
        .http
        .get(format!("{}/", app.url))
        .header("cookie", format!("__Host-yiciban-session={stolen}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(answer.headers()["location"].to_str().unwrap().starts_with("/auth/login"));
}

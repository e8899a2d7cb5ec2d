//! Signing in: code + PKCE through the issuer, the session cookie, who the
//! header names, and the sign-ins that are refused.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_sign_in_goes_through_the_issuer_and_lands_on_the_roles_home_with_a_host_only_session_cookie() {
    let app = spawn_app().await;
    let browser = app.browser();

    // Not signed in: to the sign-in, then back.
    let asked = browser.get("/inbox?state=pending").await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    assert_eq!(asked.location(), "/auth/login?return_to=%2Finbox%3Fstate%3Dpending");

    // The authorization request: code + PKCE S256, state, nonce, no token.
    let login = browser.get(&format!("{}&login_hint=agent-maternity-1", asked.location())).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let to_issuer = reqwest::Url::parse(login.location()).unwrap();
    assert!(login.location().starts_with(&app.issuer.url()));
    let query: Vec<(String, String)> = to_issuer.query_pairs().into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(param("response_type"), Some("code"));
    assert_eq!(param("client_id"), Some("yiciban-workbench"));
    assert_eq!(param("code_challenge_method"), Some("S256"));
    assert_eq!(param("redirect_uri"), Some(format!("{}/auth/callback", app.url).as_str()));
    assert_eq!(param("state").map(str::len), Some(43));
    assert_eq!(param("nonce").map(str::len), Some(43));
    let binding = login.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(binding.starts_with("__Host-yiciban-sign-in=") && binding.contains("Secure; HttpOnly; SameSite=Lax"));

    // The issuer answers with a code; the callback starts the session.
    let code = browser.get(login.location()).await;
    assert_eq!(code.status, StatusCode::FOUND);
    assert!(code.location().starts_with(&format!("{}/auth/callback?code=", app.url)));
    let callback = browser.get(code.location()).await;
    assert_eq!(callback.status, StatusCode::SEE_OTHER);
    assert_eq!(callback.location(), "/inbox?state=pending");
    let cookies: Vec<&str> = callback.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    let session = cookies.iter().find(|c| c.starts_with("__Host-yiciban-session=")).expect("a session cookie");
    assert!(session.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"), "{session}");
    let value = session.trim_start_matches("__Host-yiciban-session=").split(';').next().unwrap();
    assert_eq!(value.len(), 43, "only the session id: {session}");
    assert!(cookies.iter().any(|c| c.starts_with("__Host-yiciban-sign-in=;")), "the sign-in cookie is cleared");

    let inbox = browser.get("/inbox?state=pending").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert!(inbox.body.contains("卫生健康委（助产机构）经办人 · 部门经办人"), "{}", inbox.body);
    assert!(inbox.body.contains("本部门待办"));
    let home = browser.get("/").await;
    assert!(home.body.contains("打开待办箱"));
}

#[tokio::test]
async fn each_role_gets_its_own_navigation() {
    let app = spawn_app().await;
    let officer = app.signed_in("officer-001").await.get("/").await;
    assert!(officer.body.contains("专办员") && !officer.body.contains("href=\"/inbox\""), "{}", officer.body);
    let supervisor = app.signed_in("sup-001").await.get("/").await;
    assert!(supervisor.body.contains("督办负责人") && supervisor.body.contains(">部门待办<"), "{}", supervisor.body);
}

#[tokio::test]
async fn a_callback_from_another_browser_or_a_second_time_starts_no_session() {
    let app = spawn_app().await;
    let victim = app.browser();
    let login = victim.get("/auth/login?login_hint=agent-maternity-1").await;
    let code = victim.get(login.location()).await;

    // Another browser (without the sign-in cookie) presenting the answer.
    let attacker = app.browser();
    let refused = attacker.get(code.location()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("登录请求已失效"), "{}", refused.body);
    assert_eq!(attacker.get("/").await.status, StatusCode::SEE_OTHER, "no session for the attacker");

    // The sign-in was taken by that attempt: the right browser cannot use it either.
    let late = victim.get(code.location()).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(victim.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_applicant_cannot_sign_in_to_the_workbench() {
    let app = spawn_app().await;
    let refused = app.browser().sign_in("mother").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("仅限工作人员"), "{}", refused.body);
}

#[tokio::test]
async fn every_page_carries_the_strict_headers() {
    let app = spawn_app().await;
    for page in [app.browser().get("/signed-out").await, app.signed_in("sup-001").await.get("/").await] {
        let h = &page.headers;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "only the workbench's own script file: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(!page.body.contains("<script"), "{}", page.body);
    }
}

#[tokio::test]
async fn a_session_unused_for_the_idle_time_ends() {
    let app = spawn_app().await;
    let browser = app.signed_in("sup-001").await;
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(browser.get("/").await.status, StatusCode::OK, "used within the idle time");
    app.clock.advance(chrono::Duration::minutes(31));
    let ended = browser.get("/").await;
    assert_eq!((ended.status, ended.location()), (StatusCode::SEE_OTHER, "/auth/login?return_to=%2F"));
}

#[tokio::test]
async fn signing_in_again_in_the_same_browser_replaces_its_session() {
    let app = spawn_app().await;
    let browser = app.signed_in("agent-maternity-1").await;
    let first = browser.session_id().unwrap();
    let again = browser.sign_in("sup-001").await;
    assert!(again.body.contains("督办负责人"), "{}", again.body);
    let second = browser.session_id().unwrap();
    assert_ne!(first, second, "a new session id at every sign-in");
    let old =
        app.browser().http.get(format!("{}/", app.url)).header("cookie", format!("__Host-yiciban-session={first}"));
    assert_eq!(old.send().await.unwrap().status(), StatusCode::SEE_OTHER, "the replaced session is gone");
    assert!(!app.issuer.holds_refresh_token("agent-maternity-1"), "and its sign-in revoked");
}

#[tokio::test]
async fn a_session_in_use_refreshes_its_tokens_and_still_ends_at_its_absolute_end() {
    let app = spawn_app().await;
    let browser = app.signed_in("agent-maternity-1").await;
    assert_eq!(browser.get("/inbox").await.status, StatusCode::OK);
    let before = app.sealed_tokens().await;
    // Used every 29 minutes: never idle. Past the access tokens' lifetime
    // (6 h at the test issuer) the inbox still opens — on a refreshed token.
    for _ in 0..14 {
        app.clock.advance(chrono::Duration::minutes(29));
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
    }
    let inbox = browser.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert!(inbox.body.contains("本部门待办"));
    let after = app.sealed_tokens().await;
    assert_eq!(after.len(), 1);
    assert_ne!(before, after, "the refreshed tokens were stored (sealed)");
    assert!(!String::from_utf8_lossy(&after[0]).contains("eyJ"), "no JWT in clear in the table");
    assert!(app.issuer.holds_refresh_token("agent-maternity-1"));
    // 10 hours after signing in the session ends, however busy.
    for _ in 0..7 {
        app.clock.advance(chrono::Duration::minutes(29));
        let _ = browser.get("/").await;
    }
    let ended = browser.get("/").await;
    assert_eq!((ended.status, ended.location()), (StatusCode::SEE_OTHER, "/auth/login?return_to=%2F"));
}

//! casectl's sign-in against a real OpenID Connect issuer over HTTP (the
//! development issuer): the binary is run as a user would run it, with its
//! profiles in a private temporary configuration directory.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{Home, audiences_of};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use yiciban_devissuer::{DevIssuer, IssuerConfig};
use yiciban_platform::auth::{ClaimMapping, IssuerKeys, KeyPolicy, Verifier, http_client};

async fn issuer() -> DevIssuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = IssuerConfig::seeded(&[("samr".to_owned(), "市场监管局".to_owned())]);
    DevIssuer::start(listener, config).await.unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Verifies `token` as the service `service` would (JWKS over HTTP, aud, iss).
async fn verify(issuer: &DevIssuer, service: &str, token: &str) -> yiciban_platform::Caller {
    let keys = Arc::new(IssuerKeys::new(http_client(None).unwrap(), &issuer.issuer(), KeyPolicy::default()));
    Verifier::new(keys, &format!("urn:yiciban:{service}"), ClaimMapping::default()).verify(token).await.unwrap()
}

#[tokio::test]
async fn login_with_a_user_stores_a_private_profile() {
    let issuer = issuer().await;
    let home = Home::new();
    home.login(&issuer.issuer(), "default", "agent-samr-1").await;

    let path = home.profile("default");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(path.parent().unwrap().parent().unwrap()), 0o700);
    let profile = home.read("default");
    assert_eq!(profile["issuer"], issuer.issuer());
    assert_eq!(profile["client_id"], "yiciban-casectl");
    assert_eq!(profile["username"], "agent-samr-1");
    assert!(profile["refresh_token"].as_str().is_some_and(|t| !t.is_empty()));

    let (ok, out, err) = home.run(&["whoami"]).await;
    assert!(ok, "{err}");
    for expected in [issuer.issuer().as_str(), "agent-samr-1", "agent", "samr", "未验证"] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }
}

#[tokio::test]
async fn the_refresh_token_gets_a_token_per_audience_and_a_cached_one_is_reused() {
    let issuer = issuer().await;
    let home = Home::new();
    home.login(&issuer.issuer(), "clerk", "clerk-001").await;
    let first_refresh = home.read("clerk")["refresh_token"].clone();

    let tasks = home.token("clerk", "tasks").await;
    let routing = home.token("clerk", "routing").await;
    assert_eq!(audiences_of(&tasks), ["urn:yiciban:tasks"]);
    assert_eq!(audiences_of(&routing), ["urn:yiciban:routing"]);
    let caller = verify(&issuer, "tasks", &tasks).await;
    assert_eq!((caller.subject.as_str(), caller.role.as_str()), ("clerk-001", "clerk"));
    verify(&issuer, "routing", &routing).await;

    let profile = home.read("clerk");
    assert_eq!(profile["audiences"]["urn:yiciban:tasks"]["access_token"], tasks.as_str());
    assert_ne!(profile["refresh_token"], first_refresh, "the issuer rotates refresh tokens; the new one is kept");
    // Fresh: the same token again, without asking the issuer.
    assert_eq!(home.token("clerk", "tasks").await, tasks);
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed() {
    let issuer = issuer().await;
    let home = Home::new();
    home.login(&issuer.issuer(), "default", "officer-001").await;
    let old = home.token("default", "issuance").await;

    let mut profile = home.read("default");
    profile["audiences"]["urn:yiciban:issuance"]["expires_at"] = 1.into();
    profile["audiences"]["urn:yiciban:issuance"]["refresh_at"] = 1.into();
    home.write("default", &profile);

    let new = home.token("default", "issuance").await;
    assert_ne!(new, old);
    assert_eq!(verify(&issuer, "issuance", &new).await.subject, "officer-001");
    let stored = &home.read("default")["audiences"]["urn:yiciban:issuance"];
    assert_eq!(stored["access_token"], new.as_str());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(stored["expires_at"].as_u64().unwrap() > now);
}

#[tokio::test]
async fn a_refused_refresh_says_to_sign_in_again() {
    let issuer = issuer().await;
    let home = Home::new();
    home.login(&issuer.issuer(), "default", "clerk-002").await;
    let mut profile = home.read("default");
    profile["refresh_token"] = "revoked-or-made-up".into();
    home.write("default", &profile);

    let (ok, _, err) = home.run(&["token", "--service", "intake"]).await;
    assert!(!ok);
    assert!(err.contains("casectl login --profile default"), "{err}");
    assert!(err.contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn logout_revokes_the_sign_in_and_deletes_the_profile() {
    let issuer = issuer().await;
    let home = Home::new();
    home.login(&issuer.issuer(), "sup", "sup-001").await;
    assert!(home.profile("sup").exists());

    assert!(issuer.holds_refresh_token("sup-001"));
    let (ok, _, err) = home.run(&["--as", "sup", "logout"]).await;
    assert!(ok, "{err}");
    assert!(err.contains("revoked at"), "the development issuer revokes (RFC 7009): {err}");
    assert!(!issuer.holds_refresh_token("sup-001"));
    assert!(!home.profile("sup").exists());
    let (ok, _, err) = home.run(&["--profile", "sup", "token"]).await;
    assert!(!ok);
    assert!(err.contains("casectl login --profile sup"), "{err}");
}

/// A `casectl login --no-browser` waiting for its callback, and the query
/// of the authorization URL it printed.
async fn waiting_login(home: &Home, issuer: &DevIssuer) -> (tokio::process::Child, String, Lines) {
    let mut child = home
        .casectl(&["login", "--issuer", &issuer.issuer(), "--no-browser"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let query = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(query) = line.trim().strip_prefix(&format!("{}/authorize?", issuer.issuer())) {
                return query.to_owned();
            }
        }
        panic!("casectl printed no authorization URL");
    })
    .await
    .unwrap();
    (child, query, lines)
}

type Lines = tokio::io::Lines<BufReader<tokio::process::ChildStderr>>;

/// The exit status and the rest of the standard error.
async fn finish(mut child: tokio::process::Child, mut lines: Lines) -> (bool, String) {
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    (status.success(), rest)
}

#[tokio::test]
async fn a_browser_sign_in_completes_at_the_loopback_callback() {
    let issuer = issuer().await;
    let home = Home::new();
    let (child, query, lines) = waiting_login(&home, &issuer).await;
    // The test is the browser: it follows the issuer's redirect to casectl.
    let url = format!("{}/authorize?{query}&login_hint=officer-002", issuer.issuer());
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(page.url().as_str().starts_with("http://127.0.0.1:"), "{}", page.url());
    assert!(page.text().await.unwrap().contains("可以关闭此窗口"));
    let (ok, err) = finish(child, lines).await;
    assert!(ok, "{err}");
    assert_eq!(home.read("default")["username"], "officer-002");
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused() {
    let issuer = issuer().await;
    let home = Home::new();
    let (child, query, lines) = waiting_login(&home, &issuer).await;
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["client_id"], "yiciban-casectl");
    let redirect_uri = &params["redirect_uri"];
    assert!(redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"), "{redirect_uri}");
    assert!(params["state"].len() >= 32);

    let forged = format!("{redirect_uri}?code=stolen&state=not-{}", params["state"]);
    let answer = reqwest::get(&forged).await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(answer.text().await.unwrap().contains("登录未完成"));

    let (ok, err) = finish(child, lines).await;
    assert!(!ok);
    assert!(err.contains("state"), "{err}");
    assert!(!home.profile("default").exists());
}

#[tokio::test]
async fn a_profile_is_not_used_against_another_issuer() {
    let (first, second) = (issuer().await, issuer().await);
    let home = Home::new();
    home.login(&first.issuer(), "default", "clerk-001").await;

    let (ok, _, err) = home.run(&["--issuer", &second.issuer(), "token", "--service", "tasks"]).await;
    assert!(!ok);
    assert!(err.contains(&first.issuer()) && err.contains(&second.issuer()), "{err}");
    let (ok, _, err) = home
        .casectl(&["token"])
        .env("YICIBAN_OIDC_ISSUER", second.issuer())
        .output()
        .await
        .map(|o| (o.status.success(), String::new(), String::from_utf8(o.stderr).unwrap()))
        .unwrap();
    assert!(!ok, "{err}");
    // Without naming an issuer, the profile's own is used.
    let token = home.token("default", "tasks").await;
    verify(&first, "tasks", &token).await;
}

#[tokio::test]
async fn the_old_as_role_login_tells_how_to_sign_in() {
    let home = Home::new();
    let (ok, _, err) = home.run(&["--as", "clerk:clerk-001", "case", "YCB-1"]).await;
    assert!(!ok);
    assert!(err.contains("casectl login --profile clerk --user clerk-001"), "{err}");
}

//! casectl against the real, OpenID-Certified `oidc-provider` (started by
//! `yiciban_testkit::OidcProvider`), as strict about refresh tokens as the
//! package is by default: one only for the scope `offline_access`, which its
//! authorization endpoint keeps only with `prompt=consent`. The binary is
//! run as a user would run it; the test is the person at the browser (the
//! provider's own login, consent and user-code pages).

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{Home, audiences_of};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use yiciban_platform::auth::{ClaimMapping, IssuerKeys, KeyPolicy, Verifier, http_client};
use yiciban_testkit::oidc::{OidcProvider, ProviderConfig, RefreshTokens};

/// The provider with the standard clients and users, refresh tokens only
/// for `offline_access`.
async fn provider() -> OidcProvider {
    let config = ProviderConfig { refresh_tokens: RefreshTokens::OfflineAccess, ..ProviderConfig::standard() };
    OidcProvider::start(config).await.unwrap()
}

/// Verifies `token` as the service `service` would: the provider's JWKS
/// over HTTP, its issuer, the service's audience.
async fn verify(
    provider: &OidcProvider,
    service: &str,
    token: &str,
) -> Result<yiciban_platform::Caller, yiciban_platform::auth::TokenError> {
    let keys = Arc::new(IssuerKeys::new(http_client(None).unwrap(), provider.issuer(), KeyPolicy::default()));
    Verifier::new(keys, &format!("urn:yiciban:{service}"), ClaimMapping::default()).verify(token).await
}

type Lines = tokio::io::Lines<BufReader<tokio::process::ChildStderr>>;

/// A `casectl login` running, with its standard error read line by line.
struct Running {
    child: tokio::process::Child,
    lines: Lines,
    seen: String,
}

impl Running {
    fn start(home: &Home, args: &[&str]) -> Running {
        let mut child = home.casectl(args).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        Running { child, lines, seen: String::new() }
    }

    /// Reads lines until `pick` finds what it looks for in one.
    async fn until<T>(&mut self, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = self.lines.next_line().await.unwrap() {
                self.seen.push_str(&line);
                self.seen.push('\n');
                if let Some(found) = pick(&line) {
                    return Some(found);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(found)) => found,
            Ok(None) => panic!("casectl ended without printing it:\n{}", self.seen),
            Err(_) => panic!("casectl did not print it within 30 s:\n{}", self.seen),
        }
    }

    /// The exit status and everything it wrote to standard error.
    async fn finish(mut self) -> (bool, String) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await.unwrap().unwrap();
        while let Some(line) = self.lines.next_line().await.unwrap() {
            self.seen.push_str(&line);
            self.seen.push('\n');
        }
        (status.success(), self.seen)
    }
}

/// `casectl login --device`: the printed verification address and user code.
async fn device_login(home: &Home, provider: &OidcProvider, profile: &str) -> (Running, String, String) {
    let mut login = Running::start(home, &["login", "--device", "--issuer", provider.issuer(), "--profile", profile]);
    let uri = login
        .until(|line| {
            let at = line.find("Open ")? + "Open ".len();
            Some(line[at..].split_whitespace().next()?.to_owned()).filter(|_| line.contains("enter the code"))
        })
        .await;
    // The code is the next line with text: `    XXXX-XXXX`.
    let code = login.until(|line| Some(line.trim().to_owned()).filter(|l| !l.is_empty())).await;
    (login, uri, code)
}

/// `casectl login --no-browser` with `extra` arguments: the printed
/// authorization URL.
async fn browser_login(home: &Home, provider: &OidcProvider, profile: &str, extra: &[&str]) -> (Running, String) {
    let mut args = vec!["login", "--no-browser", "--issuer", provider.issuer(), "--profile", profile];
    args.extend(extra);
    let mut login = Running::start(home, &args);
    let prefix = format!("{}?", provider.discovery().authorization_endpoint);
    let url = login.until(|line| Some(line.trim().to_owned()).filter(|l| l.starts_with(&prefix))).await;
    (login, url)
}

/// Acts as the browser for `url`: signs `user` in and consents at the
/// provider, then follows the redirect to casectl's loopback callback;
/// the callback's page.
async fn sign_in_in_browser(provider: &OidcProvider, url: &str, user: &str) -> (reqwest::StatusCode, String) {
    let redirect = provider.sign_in_at(url, user).await.unwrap();
    let query: HashMap<String, String> = redirect.query_pairs().into_owned().collect();
    let redirect_uri = params::one(url, "redirect_uri");
    assert!(
        redirect.as_str().starts_with(&format!("{redirect_uri}?")),
        "{redirect} is not the callback {redirect_uri}"
    );
    assert!(query.contains_key("code"), "{redirect}");
    let page = reqwest::get(redirect).await.unwrap();
    (page.status(), page.text().await.unwrap())
}

/// Reading the query of a URL the test got as text.
mod params {
    /// The (first) value of `name` in the query of `url`.
    pub fn one(url: &str, name: &str) -> String {
        all(url, name).into_iter().next().unwrap_or_else(|| panic!("no {name} in {url}"))
    }

    /// Every value of `name` in the query of `url`.
    pub fn all(url: &str, name: &str) -> Vec<String> {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k == name).map(|(_, v)| v.into_owned()).collect()
    }
}

#[tokio::test]
async fn a_device_sign_in_confirmed_elsewhere_gets_a_token_per_service() {
    let provider = provider().await;
    let home = Home::new();
    let (login, uri, code) = device_login(&home, &provider, "agent").await;
    assert_eq!(uri, provider.verification_uri());
    assert!(code.len() >= 8 && code.contains('-'), "user code {code:?}");

    provider.confirm_device(&code, "agent-samr-1").await.unwrap();
    let (ok, err) = login.finish().await;
    assert!(ok, "{err}");
    let profile = home.read("agent");
    assert_eq!(profile["issuer"], provider.issuer());
    assert_eq!(profile["username"], "agent-samr-1");
    let first_refresh = profile["refresh_token"].as_str().unwrap().to_owned();

    let (ok, out, err) = home.run(&["--profile", "agent", "whoami"]).await;
    assert!(ok, "{err}");
    for expected in [provider.issuer(), "agent-samr-1", "agent", "samr"] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }

    // Each service's token by refresh with its audience as `resource`.
    let tasks = home.token("agent", "tasks").await;
    let routing = home.token("agent", "routing").await;
    assert_eq!(audiences_of(&tasks), ["urn:yiciban:tasks"]);
    assert_eq!(audiences_of(&routing), ["urn:yiciban:routing"]);
    let caller = verify(&provider, "tasks", &tasks).await.unwrap();
    assert_eq!(
        (caller.subject.as_str(), caller.role.as_str(), caller.department.as_deref()),
        ("agent-samr-1", "agent", Some("samr"))
    );
    verify(&provider, "routing", &routing).await.unwrap();
    assert!(verify(&provider, "routing", &tasks).await.is_err(), "a token for tasks must not pass at routing");
    // The webhook service's too: the sign-in asked for its audience.
    let webhooks = home.token("agent", "webhooks").await;
    assert_eq!(audiences_of(&webhooks), ["urn:yiciban:webhooks"]);
    verify(&provider, "webhooks", &webhooks).await.unwrap();
    let profile = home.read("agent");
    assert_ne!(
        profile["refresh_token"],
        first_refresh.as_str(),
        "the provider rotates refresh tokens; the new one is kept"
    );
    assert_eq!(profile["audiences"]["urn:yiciban:tasks"]["access_token"], tasks.as_str());
}

#[tokio::test]
async fn a_wrong_user_code_is_refused_and_the_device_waits() {
    let provider = provider().await;
    let home = Home::new();
    let (login, _, code) = device_login(&home, &provider, "default").await;
    let wrong = if code.starts_with('B') { "CCCC-CCCC" } else { "BBBB-BBBB" };
    let refused = provider.confirm_device(wrong, "clerk-001").await.unwrap_err();
    assert!(format!("{refused:#}").contains("did not accept"), "{refused:#}");
    // The right code still signs in.
    provider.confirm_device(&code, "clerk-001").await.unwrap();
    let (ok, err) = login.finish().await;
    assert!(ok, "{err}");
    assert_eq!(home.read("default")["username"], "clerk-001");
}

#[tokio::test]
async fn a_browser_sign_in_by_code_and_pkce_completes_at_the_loopback_callback() {
    let provider = provider().await;
    let home = Home::new();
    let (login, url) = browser_login(&home, &provider, "officer", &[]).await;
    assert_eq!(params::one(&url, "code_challenge_method"), "S256");
    assert_eq!(params::one(&url, "client_id"), "yiciban-casectl");
    assert_eq!(params::one(&url, "scope"), "openid profile offline_access yiciban.identity");
    assert_eq!(params::one(&url, "prompt"), "consent");
    let resources = params::all(&url, "resource");
    assert_eq!(
        resources.len(),
        8,
        "every service, the webhook service's, the notifier's and the supervision service's included: {resources:?}"
    );
    assert!(resources.contains(&"urn:yiciban:webhooks".to_owned()), "{resources:?}");
    assert!(resources.contains(&"urn:yiciban:notifier".to_owned()), "{resources:?}");
    assert!(resources.contains(&"urn:yiciban:supervision".to_owned()), "{resources:?}");

    let (status, page) = sign_in_in_browser(&provider, &url, "officer-002").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    assert!(page.contains("可以关闭此窗口"), "{page}");
    let (ok, err) = login.finish().await;
    assert!(ok, "{err}");
    assert!(err.contains("officer-002"), "{err}");
    assert_eq!(home.read("officer")["username"], "officer-002");

    let issuance = home.token("officer", "issuance").await;
    let intake = home.token("officer", "intake").await;
    assert_eq!(audiences_of(&issuance), ["urn:yiciban:issuance"]);
    assert_eq!(audiences_of(&intake), ["urn:yiciban:intake"]);
    assert_eq!(verify(&provider, "issuance", &issuance).await.unwrap().role.as_str(), "officer");
    assert_eq!(verify(&provider, "intake", &intake).await.unwrap().subject, "officer-002");
}

#[tokio::test]
async fn without_offline_access_a_strict_provider_gives_no_refresh_token_and_casectl_says_so() {
    let provider = provider().await;
    let home = Home::new();
    let (login, url) = browser_login(&home, &provider, "default", &["--scope", "openid profile"]).await;
    assert!(params::all(&url, "prompt").is_empty(), "no consent forced without offline_access: {url}");
    let (status, _) = sign_in_in_browser(&provider, &url, "clerk-001").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let (ok, err) = login.finish().await;
    assert!(!ok, "a sign-in without a refresh token must fail");
    assert!(err.contains("no refresh token") && err.contains("offline_access"), "{err}");
    assert!(!home.profile("default").exists());
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_at_the_provider_and_deletes_the_profile() {
    let provider = provider().await;
    let home = Home::new();
    let (login, url) = browser_login(&home, &provider, "sup", &[]).await;
    sign_in_in_browser(&provider, &url, "sup-001").await;
    let (ok, err) = login.finish().await;
    assert!(ok, "{err}");
    home.token("sup", "tracking").await;
    let refresh = home.read("sup")["refresh_token"].as_str().unwrap().to_owned();
    let before = provider.introspect("yiciban-casectl", &refresh).await.unwrap();
    assert_eq!(before["active"], true, "{before}");

    let (ok, _, err) = home.run(&["--profile", "sup", "logout"]).await;
    assert!(ok, "{err}");
    assert!(err.contains("已在签发方撤销"), "{err}");
    assert!(!home.profile("sup").exists());

    let after = provider.introspect("yiciban-casectl", &refresh).await.unwrap();
    assert_eq!(after["active"], false, "{after}");
    let refused = provider.refresh(&refresh, "urn:yiciban:tracking").await.unwrap_err();
    assert!(format!("{refused:#}").contains("invalid_grant"), "{refused:#}");
    let (ok, _, err) = home.run(&["--profile", "sup", "token", "--service", "tracking"]).await;
    assert!(!ok);
    assert!(err.contains("casectl login --profile sup"), "{err}");
}

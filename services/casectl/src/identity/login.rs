//! Signing in with the authorization code grant and PKCE S256 (RFC 6749
//! §4.1, RFC 7636) through a loopback redirect (RFC 8252): the browser is
//! opened where there is one and the URL is always printed.
//!
//! With a `login_hint` the issuer may sign the user in without showing a
//! page (the development issuer of `make run` does, for its seeded users);
//! casectl then fetches the authorization URL itself and delivers the
//! redirect to its own callback. An issuer that wants interaction answers
//! with a page instead, and casectl falls back to the browser.

use std::time::Duration;

use anyhow::{Context as _, bail};
use reqwest::Url;
use yiciban_platform::auth::pkce::{challenge, random_token};

use super::callback::Callback;
use super::issuer::{Issuer, Tokens};

/// How long casectl waits for the browser.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// What a code-flow sign-in asks for.
#[derive(Debug)]
pub struct CodeFlow<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    /// Sent as `login_hint`; casectl then tries to follow the redirect itself.
    pub user: Option<&'a str>,
    /// Never start a browser (the URL is printed anyway).
    pub no_browser: bool,
}

/// Signs in at `issuer`; the token response of the code exchange.
pub async fn sign_in(issuer: &Issuer, flow: &CodeFlow<'_>) -> anyhow::Result<Tokens> {
    let endpoint = issuer
        .discovery
        .authorization_endpoint
        .as_deref()
        .context("the issuer's discovery document names no authorization_endpoint; try `casectl login --device`")?;
    let verifier = random_token();
    let state = random_token();
    let callback = Callback::bind(state.clone(), issuer.id().to_owned()).await?;
    let mut url = Url::parse(endpoint).with_context(|| format!("authorization_endpoint {endpoint:?} is not a URL"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", flow.client_id)
        .append_pair("redirect_uri", callback.redirect_uri())
        .append_pair("scope", flow.scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    // OpenID Connect Core §11: offline_access is granted only with
    // prompt=consent (strict issuers such as oidc-provider drop it otherwise,
    // and then give no refresh token).
    if wants_offline_access(flow.scope) {
        url.query_pairs_mut().append_pair("prompt", "consent");
    }
    // Every service casectl may call, as RFC 8707 resource indicators: an
    // issuer that honours them strictly lets a refresh ask only for
    // resources named here (Keycloak ignores them and maps audiences).
    for service in yiciban_platform::auth::SERVICES {
        url.query_pairs_mut().append_pair("resource", &super::audience(service));
    }
    if let Some(user) = flow.user {
        url.query_pairs_mut().append_pair("login_hint", user);
    }
    let followed = match flow.user {
        Some(user) => follow_without_page(issuer, &url, callback.redirect_uri(), user).await?,
        None => false,
    };
    if !followed {
        eprintln!("请在浏览器中打开以下地址登录 / Open this address in a browser to sign in:\n\n  {url}\n");
        if !flow.no_browser {
            open_browser(url.as_str());
        }
        eprintln!("等待登录完成… / Waiting for the sign-in…");
    }
    let redirect_uri = callback.redirect_uri().to_owned();
    let code = callback.code(BROWSER_TIMEOUT).await?;
    issuer
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("client_id", flow.client_id),
            ("code_verifier", &verifier),
            ("resource", &super::audience("intake")),
        ])
        .await
        .context("the issuer refused the authorization code")
}

/// Fetches the authorization URL without following redirects; when the
/// issuer redirects straight to our callback (it honoured `login_hint`
/// without interaction), delivers that redirect to the callback. Whether it
/// did; `false` means the browser is needed.
async fn follow_without_page(issuer: &Issuer, url: &Url, redirect_uri: &str, user: &str) -> anyhow::Result<bool> {
    let response = issuer.http.get(url.clone()).send().await.context("cannot reach the authorization endpoint")?;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .filter(|_| response.status().is_redirection());
    let Some(location) = location.filter(|l| l.starts_with(&format!("{redirect_uri}?"))) else {
        eprintln!(
            "签发方没有直接登录 {user}（需要在页面上操作）；改用浏览器。\n\
             The issuer did not sign {user} in without a page (login_hint needs interaction there); use the browser."
        );
        return Ok(false);
    };
    // Whatever the callback answers, it has the outcome; `Callback::code` reports it.
    issuer.http.get(location).send().await.context("cannot deliver the redirect to the callback")?;
    Ok(true)
}

/// Whether `scope` asks for `offline_access` (a refresh token that outlives
/// the issuer's browser session).
pub fn wants_offline_access(scope: &str) -> bool {
    scope.split_ascii_whitespace().any(|s| s == "offline_access")
}

/// Starts the desktop's browser when there is one; failures are quiet (the
/// URL is printed anyway).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        Some("xdg-open")
    } else {
        None
    };
    if let Some(opener) = opener {
        let _ = std::process::Command::new(opener)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

/// Refuses a token response without a refresh token: casectl needs one to
/// get each service's token.
pub fn require_refresh_token(tokens: &Tokens) -> anyhow::Result<&str> {
    match tokens.refresh_token.as_deref() {
        Some(token) if !token.is_empty() => Ok(token),
        _ => bail!(
            "the issuer gave no refresh token; casectl needs one (keep offline_access in --scope, the default \
             \"openid profile offline_access yiciban.identity\", or enable refresh tokens for the client at the issuer)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_access_is_recognised_as_a_whole_scope() {
        assert!(wants_offline_access("openid profile offline_access"));
        assert!(wants_offline_access("offline_access"));
        assert!(!wants_offline_access("openid profile"));
        assert!(!wants_offline_access("openid offline_access_extra"));
    }
}

//! Who is asking, and whether a POST may go through: the session from the
//! cookie; for every POST the origin (the workbench's own, or refused) and
//! the session's form token (CSRF); the person's access token for a
//! service, refreshed when needed.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use sha2::{Digest as _, Sha256};

use super::respond::{Html, SESSION_COOKIE, clear_cookie, cookie, redirect};
use crate::Workbench;
use crate::oidc::OidcError;
use crate::pages::{ErrorPage, Layout};
use crate::sessions::{AccessToken, BrowserSecret, Session, Tokens};

/// A signed-in visit.
#[derive(Debug)]
pub struct Visit {
    pub id: BrowserSecret,
    pub session: Session,
}

impl Visit {
    /// The layout of a page titled `title` at `path`.
    pub fn layout(&self, wb: &Workbench, title: &str, path: &str) -> Layout {
        Layout::new(title, path, &self.session.person, &self.session.csrf_token, &wb.names)
    }
}

/// A POST's form fields.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    /// A form of fields already read (a multipart form's text fields).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }

    /// Every value of the field `name` (checkboxes), trimmed, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.trim())
    }

    /// The fields as sent, for a form shown again.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The field `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
    }
}

/// A page refusing the request.
pub fn refuse(status: StatusCode, title: &str, detail: &str, sign_in: bool) -> Response {
    (status, Html(ErrorPage::anonymous(title, detail, sign_in))).into_response()
}

/// A path of the workbench to come back to after signing in: absolute,
/// not protocol-relative, bounded; anything else is `/`.
pub fn local_path(asked: &str) -> String {
    let ok = asked.starts_with('/')
        && !asked.starts_with("//")
        && asked.len() <= 512
        && asked.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if ok { asked.to_owned() } else { "/".to_owned() }
}

/// The session of the request, if any.
pub async fn visit(wb: &Workbench, headers: &HeaderMap) -> Result<Option<Visit>, Response> {
    let Some(id) = cookie(headers, SESSION_COOKIE).and_then(BrowserSecret::parse) else { return Ok(None) };
    match wb.sessions.find(&id).await {
        Ok(found) => Ok(found.map(|session| Visit { id, session })),
        Err(error) => {
            tracing::error!(error = %error, "reading a session failed");
            Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "服务出错", "请稍后再试。", false))
        }
    }
}

/// The signed-in visit of a page, or the way to sign in (then back to `path`).
pub async fn require(wb: &Workbench, headers: &HeaderMap, path: &str) -> Result<Visit, Response> {
    match visit(wb, headers).await? {
        Some(visit) => Ok(visit),
        None => {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("return_to", path).finish();
            Err(redirect(&format!("/auth/login?{query}")))
        }
    }
}

/// Whether the request comes from the workbench's own pages: an `Origin`
/// must be the public origin; without one, a browser's `Sec-Fetch-Site`
/// must not say another site sent it.
pub fn same_origin(wb: &Workbench, headers: &HeaderMap) -> bool {
    from_public_origin(&wb.public_url, headers)
}

/// [`same_origin`] against `public_url`. A browser sends `Origin: null`
/// with a form of a page whose referrer policy is `no-referrer` (every
/// workbench page's, Fetch §"serializing a request origin"), even to the
/// page's own origin: then only `Sec-Fetch-Site: same-origin` lets it
/// through.
fn from_public_origin(public_url: &str, headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or_default());
    match headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or_default()) {
        Some("null") => site == Some("same-origin"),
        Some(origin) => origin == public_url,
        None => site.is_none_or(|site| site == "same-origin" || site == "none"),
    }
}

/// Checks a POST before anything is done: its origin, its session and the
/// session's form token. A refused POST changes nothing.
pub async fn post(wb: &Workbench, headers: &HeaderMap, form: &Form) -> Result<Visit, Response> {
    let visit = post_visit(wb, headers).await?;
    form_token(&visit, form.get("csrf"))?;
    Ok(visit)
}

/// The first half of [`post`], before the body is read (a file upload's
/// form is read only for a signed-in person from the workbench's origin):
/// the origin and the session.
pub async fn post_visit(wb: &Workbench, headers: &HeaderMap) -> Result<Visit, Response> {
    if !same_origin(wb, headers) {
        tracing::warn!("a cross-site POST was refused");
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "请求被拒绝",
            "跨站请求被拒绝。/ Cross-site request refused.",
            false,
        ));
    }
    let Some(visit) = visit(wb, headers).await? else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "请先登录",
            "登录已失效，请重新登录。/ Please sign in again.",
            true,
        ));
    };
    Ok(visit)
}

/// The second half of [`post`]: the form carries the session's form token.
pub fn form_token(visit: &Visit, sent: &str) -> Result<(), Response> {
    // Compared as hashes: no early exit on the token's bytes.
    if sent.is_empty() || Sha256::digest(sent.as_bytes()) != Sha256::digest(visit.session.csrf_token.as_bytes()) {
        tracing::warn!("a POST without its session's form token was refused");
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "请求被拒绝",
            "表单已失效，请刷新页面后重试。/ The form has expired; reload the page and try again.",
            false,
        ));
    }
    Ok(())
}

/// The person's access token for `audience`, or the page saying why there
/// is none (the sign-in ended at the issuer: the session ends too).
pub async fn token(wb: &Workbench, visit: &Visit, audience: &str) -> Result<String, Response> {
    let refreshed = wb.sessions.access_token(&visit.session, audience, |tokens| refresh(wb, tokens, audience)).await;
    let signed_out = || {
        let mut response =
            refuse(StatusCode::UNAUTHORIZED, "请重新登录", "登录已过期，请重新登录。/ Your sign-in has expired.", true);
        clear_cookie(&mut response, SESSION_COOKIE);
        response
    };
    match refreshed {
        Ok(AccessToken::Token(token)) => Ok(token),
        Ok(AccessToken::Ended) => Err(signed_out()),
        Ok(AccessToken::Refused(OidcError::Refused { error, .. })) => {
            tracing::info!(error = %error, "the issuer refused a session's refresh token; the session ends");
            if let Err(e) = wb.sessions.end(&visit.id).await {
                tracing::warn!(error = %e, "ending a session whose sign-in ended failed");
            }
            Err(signed_out())
        }
        Ok(AccessToken::Refused(error)) => {
            tracing::warn!(error = %error, "no access token for a session");
            Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "登录服务不可用", "登录服务暂时不可用，请稍后再试。", false))
        }
        Err(error) => {
            tracing::error!(error = %error, "reading a session's tokens failed");
            Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "服务出错", "请稍后再试。", false))
        }
    }
}

/// A token for `audience` from the session's refresh token (which the
/// issuer may rotate).
async fn refresh(wb: &Workbench, mut tokens: Tokens, audience: &str) -> Result<Tokens, OidcError> {
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        return Err(OidcError::Refused { error: "no_refresh_token".into(), description: None });
    };
    let answer = wb.provider.refresh(&refresh_token, audience).await?;
    if let Some(rotated) = &answer.refresh_token {
        tokens.refresh_token = Some(rotated.clone());
    }
    let lifetime = answer.lifetime();
    tokens.keep(audience, answer.access_token, lifetime, wb.sessions.now());
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), http::HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn a_post_comes_from_the_public_origin_or_a_null_origin_the_browser_says_is_the_same() {
        const OURS: &str = "https://workbench.example";
        let allowed = |pairs| from_public_origin(OURS, &headers(pairs));
        assert!(allowed(&[("origin", OURS)]));
        assert!(allowed(&[("origin", OURS), ("sec-fetch-site", "same-origin")]));
        // A page with `Referrer-Policy: no-referrer` posting to itself.
        assert!(allowed(&[("origin", "null"), ("sec-fetch-site", "same-origin")]));
        assert!(allowed(&[]), "no browser headers at all: the form token decides");
        assert!(allowed(&[("sec-fetch-site", "none")]));

        assert!(!allowed(&[("origin", "https://evil.example")]));
        assert!(!allowed(&[("origin", "https://evil.example"), ("sec-fetch-site", "same-origin")]));
        // A null origin is a sandboxed frame, a data: page or another site's no-referrer page.
        assert!(!allowed(&[("origin", "null")]));
        assert!(!allowed(&[("origin", "null"), ("sec-fetch-site", "cross-site")]));
        assert!(!allowed(&[("origin", "null"), ("sec-fetch-site", "same-site")]));
        assert!(!allowed(&[("origin", "null"), ("sec-fetch-site", "none")]));
        assert!(!allowed(&[("sec-fetch-site", "cross-site")]));
        assert!(!allowed(&[("sec-fetch-site", "same-site")]));
    }

    #[test]
    fn only_a_local_path_is_come_back_to() {
        assert_eq!(local_path("/tasks/1?x=2"), "/tasks/1?x=2");
        for bad in ["", "https://evil.example/", "//evil.example", "/\\evil", "/a b", "javascript:x"] {
            assert_eq!(local_path(bad), "/", "{bad}");
        }
    }
}

//! The workbench's HTTP answers: a rendered page, a redirect, and the
//! cookies. The headers every answer carries are set once, by the router's
//! layer ([`security_headers`]).

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The session cookie: `__Host-` (Secure, no Domain, Path=/), HttpOnly,
/// SameSite=Lax; its value is the session id and nothing else.
pub const SESSION_COOKIE: &str = "__Host-yiciban-session";

/// Binds a sign-in under way to the browser that started it.
pub const SIGN_IN_COOKIE: &str = "__Host-yiciban-sign-in";

/// A page answered as HTML; `(StatusCode, Html(page))` answers it with
/// another status.
pub struct Html<T>(pub T);

impl<T: Template> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(body) => {
                let mut response = (StatusCode::OK, body).into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                response
            }
            Err(error) => {
                tracing::error!(error = &error as &dyn std::error::Error, "rendering a workbench page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "服务出错 / Server error").into_response()
            }
        }
    }
}

/// A 303 to `to` (a path of the workbench, or the issuer).
pub fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Sets the cookie `name` to `value` on `response` (`max_age` seconds, or
/// for the browser's session).
pub fn set_cookie(response: &mut Response, name: &str, value: &str, max_age: Option<u64>) {
    let age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    let cookie = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax{age}");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Removes the cookie `name`.
pub fn clear_cookie(response: &mut Response, name: &str) {
    set_cookie(response, name, "", Some(0));
}

/// The value of the cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// The content security policy of every answer: the workbench's own
/// stylesheet, forms and one script file (upload progress; never an inline
/// script, handler or `eval`), never framed; a form may lead to the issuer
/// (logout continues at its end-session endpoint).
pub fn content_security_policy(issuer_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self' {issuer_origin}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The headers every answer carries (a policy the answer set is kept).
pub fn security_headers(response: &mut Response, csp: &HeaderValue, https: bool) {
    let h = response.headers_mut();
    // A material's file sets its own, stricter policy (sandboxed).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The callback's URL carries the authorization code: no page leaks its URL.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_host_prefixed_secure_http_only_and_lax() {
        let mut response = StatusCode::OK.into_response();
        set_cookie(&mut response, SESSION_COOKIE, "abc", None);
        clear_cookie(&mut response, SIGN_IN_COOKIE);
        let set: Vec<_> = response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(set[0], "__Host-yiciban-session=abc; Path=/; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(set[1], "__Host-yiciban-sign-in=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
    }

    #[test]
    fn a_cookie_is_read_by_its_exact_name() {
        let mut headers = HeaderMap::new();
        headers
            .insert(header::COOKIE, HeaderValue::from_static("x__Host-yiciban-session=no; __Host-yiciban-session=yes"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("yes"));
        assert_eq!(cookie(&headers, SIGN_IN_COOKIE), None);
    }

    #[test]
    fn the_policy_allows_only_the_workbenchs_own_script_file_and_no_framing() {
        let csp = content_security_policy("https://sso.example");
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains("data:"));
    }
}

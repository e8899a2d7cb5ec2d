//! The console's HTTP answers: a rendered page with the headers every page
//! carries (the strict content security policy, no caching, no sniffing,
//! no referrer), and the redirect.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The content security policy of every page: the console's own
/// stylesheet, images and forms, and nothing else (no script, no inline
/// style).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'";

/// A page answered as HTML with the console's headers; `(StatusCode,
/// Html(page))` answers it with another status.
pub struct Html<T>(pub T);

impl<T: Template> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(body) => with_headers((StatusCode::OK, body).into_response()),
            Err(error) => {
                tracing::error!(error = &error as &dyn std::error::Error, "rendering a console page failed");
                with_headers((StatusCode::INTERNAL_SERVER_ERROR, "服务出错 / Server error").into_response())
            }
        }
    }
}

fn with_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// A 303 to `to`.
pub fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::page::LoginPage;

    #[test]
    fn a_page_is_answered_as_html_under_the_strict_csp_with_the_status_asked_for() {
        let response = (StatusCode::UNAUTHORIZED, Html(LoginPage::new("note"))).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let h = response.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    }
}

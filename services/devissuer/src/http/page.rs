//! The sign-in page (a list of the configured users to pick) and the error
//! page, rendered from `templates/` by askama, which escapes every value.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use crate::config::User;

/// The Chinese name of a yiciban role.
fn role_label(role: &str) -> &str {
    match role {
        "yiciban-clerk" => "窗口受理员",
        "yiciban-agent" => "部门经办人",
        "yiciban-officer" => "专办员",
        "yiciban-supervisor" => "督办负责人",
        "yiciban-admin" => "系统管理员",
        "yiciban-applicant" => "申请人",
        other => other,
    }
}

/// One user to pick.
struct Row<'a> {
    display_name: &'a str,
    role: &'a str,
    department: Option<&'a str>,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    title: &'a str,
    client_id: &'a str,
    page_token: &'a str,
    users: Vec<Row<'a>>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn html(status: StatusCode, page: Result<String, askama::Error>) -> Response {
    let Ok(document) = page else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response();
    };
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
            ),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        document,
    )
        .into_response()
}

/// The page listing `users`; each button posts the request's one-time
/// `page` token with the chosen username.
pub fn sign_in(client_id: &str, page_token: &str, users: &[User]) -> Response {
    let users = users
        .iter()
        .map(|u| Row {
            display_name: &u.display_name,
            role: role_label(&u.role),
            department: u.department.as_deref(),
            username: &u.username,
        })
        .collect();
    html(StatusCode::OK, SignInPage { title: "一次办 · 开发登录", client_id, page_token, users }.render())
}

/// A 400 page for a request that cannot be answered by redirect.
pub fn error(message: &str) -> Response {
    html(StatusCode::BAD_REQUEST, ErrorPage { title: "登录请求无效", message }.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped() {
        let page = ErrorPage { title: "t", message: "<a href=\"x\">'&'</a>" }.render().unwrap();
        assert!(page.contains("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;"), "{page}");
        assert!(!page.contains("<a href"), "{page}");
    }
}

//! The sign-in page (a list of the configured users to pick) and the error
//! page, server-rendered with every value HTML-escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use crate::config::User;

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

const STYLE: &str = "body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%}td{padding:.4rem;border-bottom:1px solid #ddd}\
.note{color:#666;font-size:.9rem}button{padding:.3rem .8rem}";

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let document = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
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
    let mut rows = String::new();
    for user in users {
        let department = user.department.as_deref().map(|d| format!("（{}）", escape(d))).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{name}</td><td>{role}{department}</td><td><code>{username}</code></td>\
             <td><button type=\"submit\" name=\"username\" value=\"{username}\">以此身份登录</button></td></tr>",
            name = escape(&user.display_name),
            role = escape(role_label(&user.role)),
            username = escape(&user.username),
        ));
    }
    let body = format!(
        "<p>应用 <code>{client}</code> 请求登录。请选择登录身份：</p>\
         <form method=\"post\" action=\"/authorize\">\
         <input type=\"hidden\" name=\"page\" value=\"{page}\">\
         <table>{rows}</table>\
         <p><button type=\"submit\" name=\"cancel\" value=\"1\">取消</button></p></form>\
         <p class=\"note\">这是开发用的身份提供方，仅供本地开发和测试使用，不做密码校验。\
         在授权请求中加上 <code>login_hint=用户名</code> 可跳过本页直接登录。</p>",
        client = escape(client_id),
        page = escape(page_token),
    );
    html(StatusCode::OK, "一次办 · 开发登录", &body)
}

/// A 400 page for a request that cannot be answered by redirect.
pub fn error(message: &str) -> Response {
    let body = format!("<p>{}</p><p class=\"note\">请回到应用重新发起登录。</p>", escape(message));
    html(StatusCode::BAD_REQUEST, "登录请求无效", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}

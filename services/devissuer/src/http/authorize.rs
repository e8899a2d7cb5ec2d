//! The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2): validates the request, shows the sign-in page (or signs in the
//! `login_hint` user at once), then redirects with a code.
//!
//! Until the client and its redirect URI are known good, errors are a 400
//! page; after, they go back to the client as `error=` (RFC 6749 §4.1.2.1).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::params::Params;
use super::{Issuer, granted_scope, page, redirect};
use crate::claims;
use crate::grants::{Authorization, Code};

/// `GET /authorize`: an authorization request in the query.
pub async fn authorize_get(State(issuer): State<Arc<Issuer>>, RawQuery(query): RawQuery) -> Response {
    request(&issuer, &Params::parse(query.unwrap_or_default().as_bytes()))
}

/// `POST /authorize`: the sign-in page's choice (a `page` field), or an
/// authorization request in a form body (OpenID Connect Core §3.1.2.1).
pub async fn authorize_post(State(issuer): State<Arc<Issuer>>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    match params.one("page") {
        Ok(Some(page_token)) => sign_in(&issuer, page_token, &params),
        Ok(None) => request(&issuer, &params),
        Err(_) => page::error("登录表单无效。"),
    }
}

/// An error sent back to the client.
fn refuse(issuer: &Issuer, redirect_uri: &str, state: Option<&str>, error: &str, description: &str) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", &issuer.url));
    redirect::to(redirect_uri, &params)
}

fn request(issuer: &Issuer, params: &Params) -> Response {
    let (Ok(client_id), Ok(redirect_uri)) = (params.one("client_id"), params.one("redirect_uri")) else {
        return page::error("client_id 或 redirect_uri 重复出现。");
    };
    let Some(client) = client_id.and_then(|id| issuer.config.client(id)) else {
        return page::error("未知的应用（client_id）。");
    };
    let Some(redirect_uri) = redirect_uri.filter(|uri| redirect::allowed(client, uri)) else {
        return page::error("回调地址（redirect_uri）缺失或未登记。");
    };
    // From here on the client hears of every error at its redirect URI.
    let state = params.one("state").ok().flatten();
    let refuse = |error: &str, description: &str| refuse(issuer, redirect_uri, state, error, description);
    if let Some(name) = params.repeated(&["resource"]) {
        return refuse("invalid_request", &format!("parameter {name} sent more than once"));
    }
    let one = |name: &str| params.one(name).ok().flatten();
    match one("response_type") {
        Some("code") => {}
        Some(_) => return refuse("unsupported_response_type", "only response_type=code is supported"),
        None => return refuse("invalid_request", "response_type is required"),
    }
    let Some(state) = state else {
        return refuse("invalid_request", "state is required");
    };
    if one("request").is_some() || one("request_uri").is_some() {
        return refuse("request_not_supported", "request objects are not supported");
    }
    match one("code_challenge_method") {
        Some("S256") => {}
        Some(_) => return refuse("invalid_request", "code_challenge_method must be S256"),
        None => return refuse("invalid_request", "PKCE is required: code_challenge_method=S256"),
    }
    let challenge = match one("code_challenge") {
        Some(c) if c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => c,
        _ => return refuse("invalid_request", "code_challenge must be BASE64URL(SHA256(code_verifier))"),
    };
    let authorization = Authorization {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        code_challenge: challenge.to_owned(),
        state: state.to_owned(),
        scope: granted_scope(one("scope")),
        nonce: one("nonce").map(str::to_owned),
    };
    let hinted = one("login_hint").filter(|hint| issuer.config.user(hint).is_some());
    if let Some(username) = hinted {
        return grant(issuer, authorization, username);
    }
    if one("prompt").is_some_and(|prompt| prompt.split(' ').any(|p| p == "none")) {
        return refuse("login_required", "prompt=none needs a login_hint of a known user");
    }
    let page_token = issuer.grants.await_sign_in(authorization);
    page::sign_in(&client.id, &page_token, &issuer.config.users)
}

fn sign_in(issuer: &Issuer, page_token: &str, params: &Params) -> Response {
    let Some(authorization) = issuer.grants.take_sign_in(page_token) else {
        return page::error("登录页面已失效或已使用。");
    };
    if matches!(params.one("cancel"), Ok(Some(_))) {
        let (uri, state) = (&authorization.redirect_uri, Some(authorization.state.as_str()));
        return refuse(issuer, uri, state, "access_denied", "the user cancelled the sign-in");
    }
    match params.one("username") {
        Ok(Some(username)) if issuer.config.user(username).is_some() => grant(issuer, authorization, username),
        _ => page::error("未知的登录身份。"),
    }
}

/// Issues the code for `username` and redirects to the client.
fn grant(issuer: &Issuer, authorization: Authorization, username: &str) -> Response {
    let (redirect_uri, state) = (authorization.redirect_uri.clone(), authorization.state.clone());
    let code = Code { authorization, username: username.to_owned(), auth_time: claims::now() };
    let code = issuer.grants.issue_code(code, issuer.config.code_ttl);
    tracing::info!(username, "development sign-in");
    redirect::to(&redirect_uri, &[("code", &code), ("state", &state), ("iss", &issuer.url)])
}

//! Signing in and out: `/auth/login` starts an authorization request (code
//! with PKCE S256, `state`, `nonce`) bound to this browser by a short-lived
//! cookie; `/auth/callback` takes it back once, checks the answer (issuer,
//! ID token, nonce, who signed in) and starts the session; `/auth/logout`
//! (a POST with the form token) ends the session, revokes the refresh token
//! and continues at the issuer's end-session endpoint when it has one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;

use super::guard::{self, Form, local_path, refuse};
use super::respond::{Html, SESSION_COOKIE, SIGN_IN_COOKIE, clear_cookie, cookie, redirect, set_cookie};
use crate::Workbench;
use crate::pages::SignedOutPage;
use crate::sessions::{BrowserSecret, Person, SIGN_IN_TTL, Tokens};

fn query(raw: Option<String>) -> Form {
    Form::parse(raw.unwrap_or_default().as_bytes())
}

/// A login hint passed on to the issuer: a staff login, 1 to 128
/// printable characters; anything else is left out.
fn login_hint(asked: &str) -> Option<&str> {
    (!asked.is_empty() && asked.chars().count() <= 128 && !asked.chars().any(char::is_control)).then_some(asked)
}

/// `GET /auth/login?return_to=/path&login_hint=<login>`.
pub async fn login(State(wb): State<Arc<Workbench>>, RawQuery(raw): RawQuery) -> Response {
    let params = query(raw);
    let return_to = local_path(params.get("return_to"));
    let authorization = match wb.provider.authorization(login_hint(params.get("login_hint"))).await {
        Ok(a) => a,
        Err(error) => {
            tracing::warn!(error = %error, "cannot start a sign-in");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "登录服务不可用",
                "登录服务暂时不可用，请稍后再试。",
                false,
            );
        }
    };
    let browser = BrowserSecret::generate();
    let kept = wb
        .sessions
        .begin_sign_in(&authorization.state, &browser, &authorization.nonce, &authorization.verifier, &return_to)
        .await;
    if let Err(error) = kept {
        tracing::error!(error = %error, "keeping a sign-in failed");
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "服务出错", "请稍后再试。", false);
    }
    let mut response = redirect(&authorization.url);
    set_cookie(&mut response, SIGN_IN_COOKIE, browser.expose(), Some(SIGN_IN_TTL.as_secs()));
    response
}

/// `GET /auth/callback?code=…&state=…` (or `error=…`).
pub async fn callback(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let params = query(raw);
    let mut response = match sign_in(&wb, &headers, &params).await {
        Ok((id, return_to)) => {
            // A new sign-in in this browser replaces the session it had.
            if let Some(old) = cookie(&headers, SESSION_COOKIE).and_then(BrowserSecret::parse) {
                end(&wb, &old).await;
            }
            let mut response = redirect(&return_to);
            set_cookie(&mut response, SESSION_COOKIE, id.expose(), None);
            response
        }
        Err(refused) => refused,
    };
    clear_cookie(&mut response, SIGN_IN_COOKIE);
    response
}

async fn sign_in(wb: &Workbench, headers: &HeaderMap, params: &Form) -> Result<(BrowserSecret, String), Response> {
    let expired = || {
        refuse(
            StatusCode::BAD_REQUEST,
            "登录未完成",
            "登录请求已失效，或不是从本浏览器发起的，请重新登录。/ This sign-in has expired or was not started here.",
            true,
        )
    };
    let browser = cookie(headers, SIGN_IN_COOKIE).and_then(BrowserSecret::parse);
    let state = params.get("state");
    if state.is_empty() {
        return Err(expired());
    }
    let pending = match wb.sessions.take_sign_in(state, browser.as_ref()).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return Err(expired()),
        Err(error) => {
            tracing::error!(error = %error, "reading a sign-in failed");
            return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "服务出错", "请稍后再试。", true));
        }
    };
    if !params.get("error").is_empty() {
        let said: String = params.get("error_description").chars().take(200).collect();
        let detail = format!("登录服务拒绝了登录：{} {said}", params.get("error").chars().take(64).collect::<String>());
        return Err(refuse(StatusCode::UNAUTHORIZED, "登录未完成", &detail, true));
    }
    // RFC 9207: an answer naming another issuer is a mix-up.
    let iss = params.get("iss");
    if !iss.is_empty() && iss.trim_end_matches('/') != wb.provider.issuer() {
        return Err(refuse(StatusCode::BAD_REQUEST, "登录未完成", "登录应答来自另一个登录服务。", true));
    }
    let failed = |error: crate::oidc::OidcError| {
        tracing::warn!(error = %error, "a sign-in failed");
        refuse(
            StatusCode::UNAUTHORIZED,
            "登录未完成",
            "无法完成登录，请重新登录。/ The sign-in could not be completed.",
            true,
        )
    };
    let answer = wb.provider.exchange(params.get("code"), &pending.verifier).await.map_err(failed)?;
    let id_token =
        answer.id_token.as_deref().ok_or_else(|| failed(crate::oidc::OidcError::Invalid("no ID token".into())))?;
    let id = wb.provider.verify_id_token(id_token, &pending.nonce).await.map_err(failed)?;
    let caller = wb.provider.person(&answer.access_token).await.map_err(failed)?;
    if matches!(caller.role, Role::Applicant | Role::Service) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "仅限工作人员",
            "工作台仅供工作人员使用；申请人请通过办事大厅或网上办事查询进度。",
            false,
        ));
    }
    let person = Person {
        display_name: if id.display_name.is_empty() { caller.subject.clone() } else { id.display_name },
        subject: caller.subject,
        role: caller.role,
        department: caller.department,
    };
    let mut tokens = Tokens { refresh_token: answer.refresh_token.clone(), ..Tokens::default() };
    if let Some(first) = wb.provider.audiences().first() {
        let lifetime = answer.lifetime();
        tokens.keep(first, answer.access_token, lifetime, wb.sessions.now());
    }
    match wb.sessions.create(&person, &tokens).await {
        Ok((id, _)) => {
            tracing::info!(role = person.role.as_str(), "signed in to the workbench");
            Ok((id, pending.return_to))
        }
        Err(error) => {
            tracing::error!(error = %error, "starting a session failed");
            Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "服务出错", "请稍后再试。", true))
        }
    }
}

/// `POST /auth/logout` (form token required).
pub async fn logout(State(wb): State<Arc<Workbench>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let visit = match guard::post(&wb, &headers, &form).await {
        Ok(visit) => visit,
        Err(refused) => return refused,
    };
    if !end(&wb, &visit.id).await {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "服务出错", "退出未完成，请重试。", false);
    }
    let signed_out = format!("{}/signed-out", wb.public_url);
    let to = wb.provider.end_session_url(&signed_out).await.unwrap_or_else(|| "/signed-out".to_owned());
    let mut response = redirect(&to);
    clear_cookie(&mut response, SESSION_COOKIE);
    response
}

/// Ends the session of `id` and revokes its refresh token at the issuer;
/// false when the session store failed (the session may still be live).
async fn end(wb: &Workbench, id: &BrowserSecret) -> bool {
    match wb.sessions.end(id).await {
        Ok(Some(tokens)) => {
            if let Some(refresh_token) = &tokens.refresh_token {
                wb.provider.revoke(refresh_token).await;
            }
            true
        }
        Ok(None) => true,
        Err(error) => {
            tracing::error!(error = %error, "ending a session failed");
            false
        }
    }
}

/// `GET /signed-out`.
pub async fn signed_out() -> Response {
    Html(SignedOutPage::default()).into_response()
}

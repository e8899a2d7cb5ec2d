//! Ending a sign-in: token revocation (RFC 7009) and RP-initiated logout
//! (OpenID Connect RP-Initiated Logout 1.0). The development issuer keeps no
//! browser session, so logout only sends the browser back where the client
//! asked — to an address of the client's own registered redirect URIs'
//! origins (or any loopback one for a public client), never elsewhere.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};

use super::client_auth::authenticate;
use super::params::Params;
use super::{Issuer, page, redirect};

/// `POST /revoke` (RFC 7009 §2): a client revokes its refresh token; the
/// answer is 200 whether or not the token was live (§2.2).
pub async fn revoke(State(issuer): State<Arc<Issuer>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let client = match authenticate(&issuer.config, &headers, &params) {
        Ok(client) => client,
        Err(refused) => return refused.into_response(),
    };
    if let Ok(Some(token)) = params.one("token") {
        let revoked = issuer.grants.revoke_refresh(token, &client.id);
        tracing::info!(client = %client.id, revoked, "token revocation");
    }
    StatusCode::OK.into_response()
}

/// `GET /logout?client_id=…&post_logout_redirect_uri=…[&state=…]`.
pub async fn logout(State(issuer): State<Arc<Issuer>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let (Ok(Some(client_id)), Ok(target)) = (params.one("client_id"), params.one("post_logout_redirect_uri")) else {
        return page::error("退出请求缺少 client_id。");
    };
    let Some(client) = issuer.config.client(client_id) else {
        return page::error("未知的应用（client_id）。");
    };
    let Some(target) = target else {
        return page::error("您已退出。");
    };
    let registered_origin = client.redirect_uris.iter().any(|r| origin(r).is_some_and(|o| Some(o) == origin(target)));
    if !registered_origin && !redirect::allowed(client, target) {
        return page::error("退出后的返回地址（post_logout_redirect_uri）未登记。");
    }
    let state = params.one("state").ok().flatten();
    redirect::to(target, &state.map(|s| vec![("state", s)]).unwrap_or_default())
}

/// `scheme://authority` of an absolute http(s) URI without a fragment.
fn origin(uri: &str) -> Option<String> {
    let parsed = uri.parse::<axum::http::Uri>().ok()?;
    let scheme = parsed.scheme_str().filter(|s| matches!(*s, "http" | "https"))?;
    let authority = parsed.authority().filter(|a| !a.as_str().contains('@'))?;
    (!uri.contains('#')).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_are_scheme_and_authority() {
        assert_eq!(super::origin("https://w.example/auth/callback").as_deref(), Some("https://w.example"));
        assert_eq!(super::origin("http://127.0.0.1:8090/x?y").as_deref(), Some("http://127.0.0.1:8090"));
        assert_eq!(super::origin("http://u@evil.example/"), None);
        assert_eq!(super::origin("/relative"), None);
    }
}

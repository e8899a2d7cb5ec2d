//! The token endpoint (RFC 6749 §3.2): client credentials, authorization
//! code with PKCE (RFC 7636) and refresh tokens, each with the RFC 8707
//! `resource` choosing the access token's audience.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::client_auth::authenticate;
use super::error::TokenError;
use super::params::Params;
use super::{Issuer, audiences, granted_scope, json_response};
use crate::claims;
use crate::config::{Client, User};
use crate::grants::Refused;

/// `POST /token`.
pub async fn token(State(issuer): State<Arc<Issuer>>, headers: HeaderMap, body: Bytes) -> Response {
    match respond(&issuer, &headers, &body) {
        Ok(body) => json_response(StatusCode::OK, &Value::Object(body)),
        Err(error) => {
            tracing::debug!(?error, "token request refused");
            error.into_response()
        }
    }
}

fn respond(issuer: &Issuer, headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, TokenError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(TokenError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    let params = Params::parse(body);
    if let Some(name) = params.repeated(&["resource"]) {
        return Err(TokenError::invalid_request(format!("parameter {name} sent more than once")));
    }
    let client = authenticate(&issuer.config, headers, &params)?;
    let audiences = audiences(&params.all("resource")).map_err(TokenError::invalid_target)?;
    let one = |name: &str| params.one(name).map_err(TokenError::invalid_request);
    match one("grant_type")? {
        Some("client_credentials") => client_credentials(issuer, client, &audiences, one("scope")?),
        Some("authorization_code") => {
            let code = one("code")?.ok_or_else(|| TokenError::invalid_request("code is required"))?;
            let redirect_uri = one("redirect_uri")?;
            let verifier = one("code_verifier")?;
            authorization_code(issuer, client, &audiences, code, redirect_uri, verifier)
        }
        Some("refresh_token") => {
            let token =
                one("refresh_token")?.ok_or_else(|| TokenError::invalid_request("refresh_token is required"))?;
            refresh(issuer, client, &audiences, token, one("scope")?)
        }
        Some(other) => Err(TokenError::unsupported_grant_type(format!("grant type {other:?} is not supported"))),
        None => Err(TokenError::invalid_request("grant_type is required")),
    }
}

/// RFC 6749 §4.4: a confidential client's own token, no refresh token.
fn client_credentials(
    issuer: &Issuer,
    client: &Client,
    audiences: &[String],
    scope: Option<&str>,
) -> Result<Map<String, Value>, TokenError> {
    if client.is_public() {
        return Err(TokenError::unauthorized_client("a public client cannot use client credentials"));
    }
    // Refresh tokens are for sign-ins; a client asks for a new token instead.
    let scope = granted_scope(scope).split(' ').filter(|s| *s != "offline_access").collect::<Vec<_>>().join(" ");
    let claims = issuer.grant(&client.id, audiences, &scope).client_access(client);
    Ok(bearer(issuer, issuer.keys.sign(super::ACCESS_TOKEN_TYPE, &claims), &scope))
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6: the code is spent on first use, and
/// must belong to this client, this redirect URI and this verifier.
fn authorization_code(
    issuer: &Issuer,
    client: &Client,
    audiences: &[String],
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Map<String, Value>, TokenError> {
    let (code, family) = issuer.grants.redeem_code(code).map_err(|refused| match refused {
        Refused::Replayed => TokenError::invalid_grant("authorization code already used; its tokens are revoked"),
        Refused::Unknown => TokenError::invalid_grant("authorization code unknown or expired"),
    })?;
    let request = &code.authorization;
    if request.client_id != client.id {
        return Err(TokenError::invalid_grant("authorization code was issued to another client"));
    }
    if redirect_uri != Some(request.redirect_uri.as_str()) {
        return Err(TokenError::invalid_grant("redirect_uri differs from the authorization request"));
    }
    let verifier = verifier.ok_or_else(|| TokenError::invalid_grant("code_verifier is required (PKCE)"))?;
    if !valid_verifier(verifier) {
        return Err(TokenError::invalid_grant("code_verifier must be 43 to 128 unreserved characters"));
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != request.code_challenge {
        return Err(TokenError::invalid_grant("code_verifier does not match the code challenge"));
    }
    let user = signed_in(issuer, &code.username)?;
    let mut body =
        user_tokens(issuer, client, user, audiences, &request.scope, code.auth_time, request.nonce.as_deref());
    let refresh = issuer.grants.issue_refresh(
        &client.id,
        &user.username,
        &request.scope,
        code.auth_time,
        family,
        issuer.config.refresh_ttl,
    );
    body.insert("refresh_token".into(), refresh.into());
    Ok(body)
}

/// RFC 6749 §6 with rotation: the presented refresh token is spent, a new
/// one of the same sign-in comes back.
fn refresh(
    issuer: &Issuer,
    client: &Client,
    audiences: &[String],
    token: &str,
    scope: Option<&str>,
) -> Result<Map<String, Value>, TokenError> {
    let grant = issuer.grants.redeem_refresh(token).map_err(|refused| match refused {
        Refused::Replayed => TokenError::invalid_grant("refresh token already used; the sign-in is revoked"),
        Refused::Unknown => TokenError::invalid_grant("refresh token unknown, expired or revoked"),
    })?;
    if grant.client_id != client.id {
        return Err(TokenError::invalid_grant("refresh token was issued to another client"));
    }
    let scope = match scope {
        None => grant.scope.clone(),
        Some(asked) => {
            let original: Vec<&str> = grant.scope.split(' ').collect();
            if let Some(extra) = asked.split(' ').find(|s| !s.is_empty() && !original.contains(s)) {
                return Err(TokenError::invalid_scope(format!("scope {extra:?} was not granted")));
            }
            granted_scope(Some(asked))
        }
    };
    let user = signed_in(issuer, &grant.username)?;
    let mut body = user_tokens(issuer, client, user, audiences, &scope, grant.auth_time, None);
    let next = issuer.grants.issue_refresh(
        &client.id,
        &user.username,
        &grant.scope,
        grant.auth_time,
        grant.family(),
        issuer.config.refresh_ttl,
    );
    body.insert("refresh_token".into(), next.into());
    Ok(body)
}

fn signed_in<'a>(issuer: &'a Issuer, username: &str) -> Result<&'a User, TokenError> {
    issuer.config.user(username).ok_or_else(|| TokenError::invalid_grant("the signed-in user no longer exists"))
}

/// The access token and, with scope `openid`, the ID token of a user.
fn user_tokens(
    issuer: &Issuer,
    client: &Client,
    user: &User,
    audiences: &[String],
    scope: &str,
    auth_time: u64,
    nonce: Option<&str>,
) -> Map<String, Value> {
    let access = issuer.user_access_token(user, &client.id, audiences, scope);
    let id_token = scope.split(' ').any(|s| s == "openid").then(|| {
        let sub = issuer.subject_of(user);
        let grant = claims::Grant {
            issuer: &issuer.url,
            client_id: &client.id,
            audiences: &[],
            scope,
            ttl: issuer.config.access_ttl,
        };
        let claims = claims::id_token(&grant, &claims::SignIn { user, sub: &sub, auth_time, nonce }, &access);
        issuer.keys.sign("JWT", &claims)
    });
    let mut body = bearer(issuer, access, scope);
    if let Some(id_token) = id_token {
        body.insert("id_token".into(), id_token.into());
    }
    body
}

/// RFC 6749 §5.1.
fn bearer(issuer: &Issuer, access_token: String, scope: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("access_token".into(), access_token.into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), issuer.config.access_ttl.as_secs().into());
    body.insert("scope".into(), scope.into());
    body
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_follow_rfc_7636() {
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}

//! The userinfo endpoint (OpenID Connect Core §5.3): the claims of the
//! person an access token of this issuer was issued to — any of its
//! audiences, as Keycloak's userinfo takes them — filtered by the token's
//! scope. It is the only place an applicant's ID number is released (scope
//! `yiciban.identity`); the services ask it with the applicant's own token.
//! Errors follow RFC 6750 §3: `invalid_token` (401) for a token that is
//! missing, not this issuer's, expired or of nobody it knows;
//! `insufficient_scope` (403) without `openid`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::{ACCESS_TOKEN_TYPE, Issuer, json_response};
use crate::claims;

/// `GET` or `POST /userinfo` with `Authorization: Bearer <access token>`.
pub async fn userinfo(State(issuer): State<Arc<Issuer>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = bearer else {
        return refused(StatusCode::UNAUTHORIZED, "invalid_token", "an access token is required (Bearer)");
    };
    let Some(claims) = issuer.keys.verify(token, ACCESS_TOKEN_TYPE, &issuer.url) else {
        return refused(StatusCode::UNAUTHORIZED, "invalid_token", "the access token is not valid at this issuer");
    };
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return refused(StatusCode::FORBIDDEN, "insufficient_scope", "the access token lacks the scope openid");
    }
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default();
    match issuer.person(sub) {
        Some(user) => json_response(StatusCode::OK, &Value::Object(claims::userinfo(&user, sub, scope))),
        None => refused(StatusCode::UNAUTHORIZED, "invalid_token", "the access token names no person of this issuer"),
    }
}

fn refused(status: StatusCode, error: &'static str, description: &str) -> Response {
    let mut response = json_response(status, &json!({ "error": error, "error_description": description }));
    let challenge = format!("Bearer realm=\"yiciban-dev-issuer\", error=\"{error}\"");
    if let Ok(value) = HeaderValue::try_from(challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

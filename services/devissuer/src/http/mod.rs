//! The issuer's HTTP face: discovery, JWKS, the token endpoint, the
//! authorization endpoint with its sign-in page, revocation, logout and
//! userinfo.

mod authorize;
mod client_auth;
mod error;
mod logout;
mod page;
mod params;
mod redirect;
mod token;
mod userinfo;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::claims::{self, Grant, SUPPORTED_SCOPES, subject};
use crate::config::{IssuerConfig, User};
use crate::grants::Grants;
use crate::keys::KeySet;

/// The JOSE `typ` of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Everything the endpoints share.
pub struct Issuer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Clients, users, lifetimes.
    pub config: IssuerConfig,
    /// Signing keys.
    pub keys: KeySet,
    /// Pending sign-ins, codes and refresh tokens.
    pub grants: Grants,
    /// People tokens were minted for who are not in `config` (tests, the
    /// load generator), by subject, so userinfo can answer for them.
    minted: Mutex<Vec<(String, User)>>,
}

impl Issuer {
    /// An issuer at `url` with a fresh key.
    pub fn new(url: String, config: IssuerConfig) -> Issuer {
        Issuer { url, config, keys: KeySet::generate(), grants: Grants::default(), minted: Mutex::new(Vec::new()) }
    }

    /// A signed access token for `user` through `client_id`.
    pub fn user_access_token(&self, user: &User, client_id: &str, audiences: &[String], scope: &str) -> String {
        let claims = self.grant(client_id, audiences, scope).user_access(user, &self.subject_of(user));
        self.keys.sign(ACCESS_TOKEN_TYPE, &claims)
    }

    /// The subject of `user`: a configured user's by name (the same in every
    /// run). Anyone else a token is minted for (tests, the load generator) is
    /// remembered for userinfo: by name when without an identity, and with a
    /// fresh random subject per name and identity otherwise — so two test
    /// applicants sharing a name stay two people, and no subject is derived
    /// from an ID number.
    pub fn subject_of(&self, user: &User) -> String {
        let same = |u: &User| u.username == user.username && u.id_number == user.id_number && u.role == user.role;
        if self.config.user(&user.username).is_some_and(same) {
            return subject("user", &user.username);
        }
        let mut minted = self.minted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((sub, _)) = minted.iter().find(|(_, u)| same(u)) {
            return sub.clone();
        }
        let sub = match user.id_number {
            None => subject("user", &user.username),
            Some(_) => uuid::Uuid::new_v4().to_string(),
        };
        minted.push((sub.clone(), user.clone()));
        sub
    }

    /// The person whose subject is `sub`: configured or minted.
    pub fn person(&self, sub: &str) -> Option<User> {
        let minted = self.minted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, user)) = minted.iter().find(|(s, _)| s == sub) {
            return Some(user.clone());
        }
        self.config.users.iter().find(|u| subject("user", &u.username) == sub).cloned()
    }

    /// A signed client-credentials token of `client` for `audiences`.
    pub fn client_access_token(&self, client: &crate::Client, audiences: &[String]) -> String {
        let claims = self.grant(&client.id, audiences, "").client_access(client);
        self.keys.sign(ACCESS_TOKEN_TYPE, &claims)
    }

    fn grant<'a>(&'a self, client_id: &'a str, audiences: &'a [String], scope: &'a str) -> Grant<'a> {
        Grant { issuer: &self.url, client_id, audiences, scope, ttl: self.config.access_ttl }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// The issuer's routes.
pub fn router(issuer: Arc<Issuer>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", axum::routing::post(token::token))
        .route("/authorize", get(authorize::authorize_get).post(authorize::authorize_post))
        .route("/revoke", axum::routing::post(logout::revoke))
        .route("/logout", get(logout::logout))
        .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .with_state(issuer)
}

/// OpenID Connect Discovery 1.0 §3 (and RFC 8414).
async fn discovery(State(issuer): State<Arc<Issuer>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": issuer.url,
            "authorization_endpoint": issuer.endpoint("/authorize"),
            "token_endpoint": issuer.endpoint("/token"),
            "jwks_uri": issuer.endpoint("/jwks"),
            "revocation_endpoint": issuer.endpoint("/revoke"),
            "end_session_endpoint": issuer.endpoint("/logout"),
            "userinfo_endpoint": issuer.endpoint("/userinfo"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": SUPPORTED_SCOPES,
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "client_id", "scope", "auth_time",
                "nonce", "at_hash", "name", "preferred_username", "realm_access", "department", "id_number"
            ],
            "authorization_response_iss_parameter_supported": true,
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
        }),
    )
}

/// The public signing keys (RFC 7517), newest first.
async fn jwks(State(issuer): State<Arc<Issuer>>) -> Response {
    let mut response = json_response(StatusCode::OK, &json!(issuer.keys.jwks()));
    // Verifiers refetch on an unknown kid; a short cache keeps rotation visible.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
    response
}

/// A JSON body that no cache keeps (RFC 6749 §5.1).
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The audiences of a token: the RFC 8707 `resource` values, each one of
/// the services' audiences, or all of them when none is asked for.
pub fn audiences(resources: &[&str]) -> Result<Vec<String>, String> {
    let known = crate::config::audiences();
    if resources.is_empty() {
        return Ok(known);
    }
    let mut chosen: Vec<String> = Vec::new();
    for resource in resources {
        if !known.iter().any(|k| k == resource) {
            return Err(format!("unknown resource {resource:?}; expected one of {}", known.join(", ")));
        }
        if !chosen.iter().any(|c| c == resource) {
            chosen.push((*resource).to_owned());
        }
    }
    Ok(chosen)
}

/// The scope granted for a request (see [`claims::granted_scope`]).
pub fn granted_scope(requested: Option<&str>) -> String {
    claims::granted_scope(requested)
}

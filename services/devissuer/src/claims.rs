//! The claims of the issuer's tokens: access tokens of users and of
//! service clients, ID tokens, and the registered claims `mint` fills in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::config::{APPLICANT_ROLE, Client, User};

/// The scope that releases an applicant's ID number or credit code, at the
/// userinfo endpoint only (never in a token).
pub const IDENTITY_SCOPE: &str = "yiciban.identity";

/// The scopes the issuer grants; others in a request are left out of the
/// grant (RFC 6749 §3.3: the response's `scope` says what was granted).
pub const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", IDENTITY_SCOPE];

/// The requested scopes the issuer grants, space-separated, in request order.
pub fn granted_scope(requested: Option<&str>) -> String {
    let mut granted: Vec<&str> = Vec::new();
    for scope in requested.unwrap_or_default().split(' ').filter(|s| !s.is_empty()) {
        if SUPPORTED_SCOPES.contains(&scope) && !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    granted.join(" ")
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// A stable subject for a name: the same user or client has the same `sub`
/// in every run (a UUID-shaped hash, as Keycloak's subjects are UUIDs).
pub fn subject(kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("yiciban-dev-issuer:{kind}:{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

/// `aud` as a string for one audience, an array for several (RFC 7519 §4.1.3).
fn audience_value(audiences: &[String]) -> Value {
    match audiences {
        [one] => Value::String(one.clone()),
        many => json!(many),
    }
}

/// `iss`, `iat`, `nbf`, `exp` and a fresh `jti`.
fn registered(issuer: &str, ttl: Duration) -> Map<String, Value> {
    let now = now();
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("iat".into(), now.into());
    claims.insert("nbf".into(), now.into());
    claims.insert("exp".into(), (now + ttl.as_secs()).into());
    claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
    claims
}

/// Fills `iss`, `iat` and `exp` where absent (tokens minted by tests).
pub fn fill_registered(issuer: &str, ttl: Duration, claims: &mut Map<String, Value>) {
    let now = now();
    claims.entry("iss").or_insert_with(|| issuer.into());
    claims.entry("iat").or_insert_with(|| now.into());
    claims.entry("exp").or_insert_with(|| (now + ttl.as_secs()).into());
}

/// Who an access token is for and on whose behalf.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    /// The issuer URL.
    pub issuer: &'a str,
    /// The client the token is issued to (`azp`, `client_id`).
    pub client_id: &'a str,
    /// The token's audiences.
    pub audiences: &'a [String],
    /// The granted scope.
    pub scope: &'a str,
    /// The token's lifetime.
    pub ttl: Duration,
}

impl Grant<'_> {
    fn base(&self) -> Map<String, Value> {
        let mut claims = registered(self.issuer, self.ttl);
        claims.insert("aud".into(), audience_value(self.audiences));
        claims.insert("azp".into(), self.client_id.into());
        claims.insert("client_id".into(), self.client_id.into());
        claims.insert("scope".into(), self.scope.into());
        claims
    }

    /// A user's access token (subject `sub`): one role, the username, the
    /// department of an agent; never an applicant's ID number, which only
    /// the userinfo endpoint releases ([`userinfo`]).
    pub fn user_access(&self, user: &User, sub: &str) -> Map<String, Value> {
        let mut claims = self.base();
        claims.insert("sub".into(), sub.into());
        claims.insert("typ".into(), "Bearer".into());
        claims.insert("realm_access".into(), json!({ "roles": [user.role] }));
        claims.insert("preferred_username".into(), user.username.clone().into());
        claims.insert("name".into(), user.display_name.clone().into());
        if let Some(department) = &user.department {
            claims.insert("department".into(), department.clone().into());
        }
        claims
    }

    /// A service client's own access token (client credentials).
    pub fn client_access(&self, client: &Client) -> Map<String, Value> {
        let mut claims = self.base();
        claims.insert("sub".into(), subject("client", &client.id).into());
        claims.insert("typ".into(), "Bearer".into());
        claims.insert("realm_access".into(), json!({ "roles": client.roles }));
        claims.insert("preferred_username".into(), format!("service-account-{}", client.id).into());
        claims
    }
}

/// The userinfo answer (OpenID Connect Core §5.3.2) for `user`, subject
/// `sub`, to an access token granted `scope`: `sub` always; the username and
/// name with `profile`; an applicant's ID number or credit code
/// (`id_number`) with [`IDENTITY_SCOPE`] — the only place it is released.
pub fn userinfo(user: &User, sub: &str, scope: &str) -> Map<String, Value> {
    let granted = |name: &str| scope.split(' ').any(|s| s == name);
    let mut claims = Map::new();
    claims.insert("sub".into(), sub.into());
    if granted("profile") {
        claims.insert("preferred_username".into(), user.username.clone().into());
        claims.insert("name".into(), user.display_name.clone().into());
    }
    if granted(IDENTITY_SCOPE)
        && user.role == APPLICANT_ROLE
        && let Some(id_number) = &user.id_number
    {
        claims.insert("id_number".into(), id_number.clone().into());
    }
    claims
}

/// Who signed in, when, and the `nonce` the client sent.
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    /// The person.
    pub user: &'a User,
    /// The person's subject (`Issuer::subject_of`).
    pub sub: &'a str,
    /// When the person signed in (seconds since the epoch).
    pub auth_time: u64,
    /// The authorization request's `nonce`.
    pub nonce: Option<&'a str>,
}

/// The ID token of a sign-in (OpenID Connect Core §2) through `grant`'s
/// client (its audience), `nonce` echoed, `at_hash` of the access token
/// issued with it; no ID number.
pub fn id_token(grant: &Grant<'_>, sign_in: &SignIn<'_>, access_token: &str) -> Map<String, Value> {
    let mut claims = registered(grant.issuer, grant.ttl);
    claims.insert("sub".into(), sign_in.sub.into());
    claims.insert("aud".into(), grant.client_id.into());
    claims.insert("azp".into(), grant.client_id.into());
    claims.insert("auth_time".into(), sign_in.auth_time.into());
    claims.insert("preferred_username".into(), sign_in.user.username.clone().into());
    claims.insert("name".into(), sign_in.user.display_name.clone().into());
    if let Some(nonce) = sign_in.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    let digest = Sha256::digest(access_token.as_bytes());
    claims.insert("at_hash".into(), URL_SAFE_NO_PAD.encode(&digest[..16]).into());
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_scope_keeps_supported_scopes_once() {
        assert_eq!(granted_scope(Some("openid email openid profile")), "openid profile");
        assert_eq!(granted_scope(None), "");
    }

    #[test]
    fn subjects_are_stable_and_distinct() {
        assert_eq!(subject("user", "clerk-001"), subject("user", "clerk-001"));
        assert_ne!(subject("user", "clerk-001"), subject("user", "clerk-002"));
        assert_ne!(subject("user", "x"), subject("client", "x"));
    }

    #[test]
    fn no_access_token_carries_an_identity_number_and_only_userinfo_releases_an_applicants() {
        let grant = Grant {
            issuer: "http://127.0.0.1:1",
            client_id: "yiciban-casectl",
            audiences: &["urn:yiciban:intake".into()],
            scope: "openid",
            ttl: Duration::from_secs(60),
        };
        let mut user = User {
            username: "clerk-001".into(),
            display_name: "王芳".into(),
            role: "yiciban-clerk".into(),
            department: None,
            id_number: Some("11010519491231002X".into()),
        };
        assert!(grant.user_access(&user, "s").get("id_number").is_none());
        assert!(userinfo(&user, "s", "openid yiciban.identity").get("id_number").is_none(), "staff");
        user.role = APPLICANT_ROLE.into();
        let claims = grant.user_access(&user, "s");
        assert!(claims.get("id_number").is_none(), "{claims:?}");
        assert!(!Value::Object(claims.clone()).to_string().contains("11010519491231002X"));
        assert_eq!((&claims["sub"], &claims["aud"]), (&json!("s"), &json!("urn:yiciban:intake")));
        assert_eq!(claims["realm_access"]["roles"], json!([APPLICANT_ROLE]));
        let released = userinfo(&user, "s", "openid profile yiciban.identity");
        assert_eq!((&released["sub"], &released["id_number"]), (&json!("s"), &json!("11010519491231002X")));
        let withheld = userinfo(&user, "s", "openid profile");
        assert!(withheld.get("id_number").is_none() && withheld["preferred_username"] == "clerk-001");
        assert_eq!(Value::Object(userinfo(&user, "s", "openid")), json!({"sub": "s"}));
    }
}

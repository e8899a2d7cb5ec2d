//! The development issuer over real HTTP: discovery, JWKS, every grant,
//! the sign-in page, key rotation and userinfo.

mod authorize;
mod client;
mod grants;
mod keys;
mod logout;
mod userinfo;

use serde_json::Value;
use yiciban_devissuer::{DevIssuer, IssuerConfig};

/// An issuer on a fresh loopback port with the seeded users (one agent of `samr`).
pub async fn start() -> DevIssuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let config = IssuerConfig::seeded(&[("samr".into(), "市场监督管理局".into())]);
    DevIssuer::start(listener, config).await.expect("start the issuer")
}

/// Verifies `token` against the issuer's JWKS fetched over HTTP, as a
/// service does: ES256 only, the issuer and the audience checked.
pub async fn verify(issuer: &DevIssuer, token: &str, audience: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let discovery = client::get(&format!("{}/.well-known/openid-configuration", issuer.issuer())).await.json();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(client::get(discovery["jwks_uri"].as_str().unwrap()).await.json()).unwrap();
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.expect("kid in the header");
    let jwk = jwks.find(&kid).ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer.issuer()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
}

/// The public client of staff tools.
pub const CASECTL: &str = "yiciban-casectl";
/// A loopback redirect as casectl uses (RFC 8252).
pub const CALLBACK: &str = "http://127.0.0.1:53682/callback";

/// A fresh PKCE pair: (code_verifier, S256 code_challenge).
pub fn pkce() -> (String, String) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let verifier = format!("{}-{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The authorization request of casectl with `extra` parameters (a `scope`
/// among them replaces the default `openid profile offline_access`).
pub fn authorize_url(issuer: &DevIssuer, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", CASECTL),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile offline_access"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    if extra.iter().any(|(name, _)| *name == "scope") {
        params.retain(|(name, _)| *name != "scope");
    }
    params.extend_from_slice(extra);
    client::with_query(&format!("{}/authorize", issuer.issuer()), &params)
}

/// Signs `username` in through `login_hint`; returns (code, verifier).
pub async fn code_for(issuer: &DevIssuer, username: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let reply = client::get(&authorize_url(issuer, &challenge, &[("login_hint", username)])).await;
    let code = reply.redirect_param("code").expect("a code");
    (code, verifier)
}

/// Signs `username` in asking for `scope`; returns (code, verifier).
pub async fn code_for_scope(issuer: &DevIssuer, username: &str, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let reply = client::get(&authorize_url(issuer, &challenge, &[("login_hint", username), ("scope", scope)])).await;
    let code = reply.redirect_param("code").expect("a code");
    (code, verifier)
}

/// Exchanges a code at the token endpoint as casectl.
pub async fn exchange(issuer: &DevIssuer, code: &str, verifier: &str, extra: &[(&str, &str)]) -> client::Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", CASECTL),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
    ];
    form.extend_from_slice(extra);
    client::post_form(&format!("{}/token", issuer.issuer()), &form, None).await
}

//! The workbench as an OpenID Connect relying party (a confidential client):
//! discovery, the authorization request (code + PKCE S256, `state`,
//! `nonce`, RFC 8707 `resource` for each service it calls), the code
//! exchange and refreshes per audience at the token endpoint, the ID
//! token's checks (signature by the issuer's published keys, issuer,
//! audience, lifetime, nonce), who signed in as the services will see them
//! (the access token mapped exactly as the services map it, ADR 0015),
//! token revocation (RFC 7009) and RP-initiated logout, where the issuer
//! offers them.

use std::sync::Arc;

use jsonwebtoken::Validation;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use yiciban_platform::Caller;
use yiciban_platform::auth::keys::ACCEPTED;
use yiciban_platform::auth::keys::Discovery;
use yiciban_platform::auth::pkce::{challenge, random_token};
use yiciban_platform::auth::verify::LEEWAY_SECONDS;
use yiciban_platform::auth::{IssuerKeys, Verifier};

/// The longest answer read from the issuer.
const MAX_ANSWER: usize = 256 * 1024;

/// Why the issuer gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The issuer did not answer, or not as OAuth says it must.
    #[error("the sign-in service is unreachable: {0}")]
    Unavailable(String),
    /// An OAuth error answer (`invalid_grant`, …).
    #[error("the sign-in service refused: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused { error: String, description: Option<String> },
    /// A token that does not pass its checks.
    #[error("the sign-in could not be verified: {0}")]
    Invalid(String),
}

/// A token endpoint answer (RFC 6749 §5.1).
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

impl TokenAnswer {
    /// The access token's lifetime in seconds (five minutes when unsaid,
    /// at most a day).
    pub fn lifetime(&self) -> u64 {
        self.expires_in.unwrap_or(300).clamp(1, 24 * 3600)
    }
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// What the ID token says of the person, after its checks.
#[derive(Debug, Clone)]
pub struct IdClaims {
    /// `name`, else `preferred_username`, else `sub`.
    pub display_name: String,
}

/// The start of a sign-in: what goes to the issuer, and what the
/// workbench keeps to check the answer.
#[derive(Debug)]
pub struct Authorization {
    /// The URL the browser is sent to.
    pub url: String,
    /// The `state` sent (kept as its hash).
    pub state: String,
    /// The `nonce` sent, echoed in the ID token.
    pub nonce: String,
    /// The PKCE verifier (kept sealed).
    pub verifier: String,
}

/// The workbench's client at one issuer.
pub struct Provider {
    http: reqwest::Client,
    keys: Arc<IssuerKeys>,
    /// Maps an access token to the caller the services will see.
    access: Verifier,
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
    scope: String,
    /// `urn:yiciban:<service>` of each service called; the first one's token
    /// comes with the code.
    audiences: Vec<String>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("issuer", &self.keys.issuer()).field("client_id", &self.client_id).finish()
    }
}

/// How the provider is set up.
pub struct ProviderSettings {
    pub http: reqwest::Client,
    pub keys: Arc<IssuerKeys>,
    pub claims: yiciban_platform::auth::ClaimMapping,
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub scope: String,
    pub audiences: Vec<String>,
}

impl Provider {
    pub fn new(s: ProviderSettings) -> Provider {
        let first = s.audiences.first().cloned().unwrap_or_default();
        Provider {
            access: Verifier::new(s.keys.clone(), &first, s.claims),
            http: s.http,
            keys: s.keys,
            client_id: s.client_id,
            client_secret: s.client_secret,
            redirect_uri: s.redirect_uri,
            scope: s.scope,
            audiences: s.audiences,
        }
    }

    /// The issuer URL (no trailing slash).
    pub fn issuer(&self) -> &str {
        self.keys.issuer()
    }

    /// The audiences of the services called, the first one first.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The issuer's discovery document, as the token verifier holds it
    /// (fetched once, its `issuer` checked against the configured one).
    async fn discovery(&self) -> Result<Discovery, OidcError> {
        self.keys.discovery().await.map_err(|e| OidcError::Unavailable(e.to_string()))
    }

    /// An endpoint the workbench cannot do without.
    fn required(endpoint: Option<String>, name: &str) -> Result<String, OidcError> {
        endpoint.ok_or_else(|| OidcError::Unavailable(format!("the issuer's discovery document names no {name}")))
    }

    /// A new authorization request (RFC 6749 §4.1.1 with RFC 7636 and
    /// RFC 8707; `prompt=consent` with `offline_access`, OpenID Connect
    /// Core §11). `login_hint` tells the issuer who is expected (OpenID
    /// Connect Core §3.1.2.1); the development issuer signs a seeded user
    /// in by it without its page.
    pub async fn authorization(&self, login_hint: Option<&str>) -> Result<Authorization, OidcError> {
        let endpoint = Self::required(self.discovery().await?.authorization_endpoint, "authorization_endpoint")?;
        let (state, nonce, verifier) = (random_token(), random_token(), random_token());
        let mut url = reqwest::Url::parse(&endpoint)
            .map_err(|e| OidcError::Unavailable(format!("authorization_endpoint {endpoint:?}: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &self.scope)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        if self.scope.split_ascii_whitespace().any(|s| s == "offline_access") {
            url.query_pairs_mut().append_pair("prompt", "consent");
        }
        for audience in &self.audiences {
            url.query_pairs_mut().append_pair("resource", audience);
        }
        if let Some(hint) = login_hint {
            url.query_pairs_mut().append_pair("login_hint", hint);
        }
        Ok(Authorization { url: url.into(), state, nonce, verifier })
    }

    /// Redeems the authorization code (with the first audience).
    pub async fn exchange(&self, code: &str, verifier: &str) -> Result<TokenAnswer, OidcError> {
        let audience = self.audiences.first().map(String::as_str).unwrap_or_default();
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", verifier),
            ("resource", audience),
        ])
        .await
    }

    /// An access token for `audience` from the refresh token (which the
    /// issuer may rotate: the answer's replaces it).
    pub async fn refresh(&self, refresh_token: &str, audience: &str) -> Result<TokenAnswer, OidcError> {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("resource", audience)]).await
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<TokenAnswer, OidcError> {
        let endpoint = Self::required(self.discovery().await?.token_endpoint, "token_endpoint")?;
        let response = self
            .http
            .post(&endpoint)
            .basic_auth(encode(&self.client_id), Some(encode(self.client_secret.expose_secret())))
            .form(form)
            .send()
            .await
            .map_err(|e| OidcError::Unavailable(format!("POST {endpoint}: {e}")))?;
        let (status, body) = read(response, &endpoint).await?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| OidcError::Unavailable(format!("{endpoint} answered no token response: {e}")));
        }
        match serde_json::from_slice::<ErrorAnswer>(&body) {
            Ok(e) => Err(OidcError::Refused {
                error: bounded(&e.error),
                description: e.error_description.map(|d| bounded(&d)),
            }),
            Err(_) => Err(OidcError::Unavailable(format!("{endpoint} answered {status}"))),
        }
    }

    /// Checks the ID token of a sign-in (OpenID Connect Core §3.1.3.7):
    /// signed by the issuer with an accepted asymmetric algorithm, for this
    /// client, within its lifetime, carrying the `nonce` sent.
    pub async fn verify_id_token(&self, id_token: &str, nonce: &str) -> Result<IdClaims, OidcError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| invalid("the ID token is not a JWT"))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(invalid("the ID token's algorithm is not accepted"));
        }
        let kid =
            header.kid.as_deref().filter(|k| !k.is_empty()).ok_or_else(|| invalid("the ID token names no key"))?;
        let key = self.keys.key(kid).await.map_err(|e| OidcError::Invalid(format!("the ID token's key: {e}")))?;
        if !key.algorithms.contains(&header.alg) {
            return Err(invalid("the ID token's algorithm does not fit its key"));
        }
        let mut validation = Validation::new(header.alg);
        let issuer = self.keys.issuer();
        validation.set_issuer(&[issuer.to_owned(), format!("{issuer}/")]);
        validation.set_audience(&[self.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let data = jsonwebtoken::decode::<serde_json::Value>(id_token, &key.decoding, &validation)
            .map_err(|e| OidcError::Invalid(format!("the ID token: {e}")))?;
        let claims = data.claims;
        let text =
            |name: &str| claims.get(name).and_then(serde_json::Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        // Core §3.1.3.7 (4, 5): an authorized party, when named, is this client.
        if text("azp").is_some_and(|azp| azp != self.client_id) {
            return Err(invalid("the ID token was issued to another client (azp)"));
        }
        // Core §3.1.3.7 (11): the nonce sent, compared as hashes (no early exit on the bytes).
        let echoed = text("nonce").ok_or_else(|| invalid("the ID token carries no nonce"))?;
        if Sha256::digest(echoed.as_bytes()) != Sha256::digest(nonce.as_bytes()) {
            return Err(invalid("the ID token's nonce is not the one sent"));
        }
        let display_name =
            text("name").or_else(|| text("preferred_username")).or_else(|| text("sub")).unwrap_or_default();
        Ok(IdClaims { display_name: display_name.chars().take(100).collect() })
    }

    /// Who the services will see behind `access_token` (the first
    /// audience's), mapped by the same rules as theirs.
    pub async fn person(&self, access_token: &str) -> Result<Caller, OidcError> {
        self.access.verify(access_token).await.map_err(|e| OidcError::Invalid(format!("the access token: {e}")))
    }

    /// Revokes `refresh_token` (RFC 7009) where the issuer names a
    /// revocation endpoint; a failure is logged, the session ends anyway.
    pub async fn revoke(&self, refresh_token: &str) {
        let Ok(discovery) = self.discovery().await else { return };
        let Some(endpoint) = discovery.revocation_endpoint else { return };
        let sent = self
            .http
            .post(&endpoint)
            .basic_auth(encode(&self.client_id), Some(encode(self.client_secret.expose_secret())))
            .form(&[("token", refresh_token), ("token_type_hint", "refresh_token")])
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) => {
                tracing::warn!(status = %answer.status(), "the issuer did not revoke a signed-out refresh token")
            }
            Err(error) => tracing::warn!(%error, "the issuer's revocation endpoint is unreachable"),
        }
    }

    /// Where to send the browser to end the sign-in at the issuer too
    /// (OpenID Connect RP-Initiated Logout 1.0, by `client_id`: no token in
    /// the URL), when the issuer offers it.
    pub async fn end_session_url(&self, post_logout_redirect_uri: &str) -> Option<String> {
        let endpoint = self.discovery().await.ok()?.end_session_endpoint?;
        let mut url = reqwest::Url::parse(&endpoint).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
        Some(url.into())
    }
}

fn invalid(why: &str) -> OidcError {
    OidcError::Invalid(why.to_owned())
}

/// RFC 6749 §2.3.1: client id and secret form-encoded inside Basic.
fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// An issuer's text, bounded before it is shown or logged.
fn bounded(text: &str) -> String {
    text.chars().take(200).collect()
}

async fn read(mut response: reqwest::Response, url: &str) -> Result<(reqwest::StatusCode, Vec<u8>), OidcError> {
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| OidcError::Unavailable(format!("reading {url}: {e}")))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER {
            return Err(OidcError::Unavailable(format!("{url} answered more than {MAX_ANSWER} bytes")));
        }
    }
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuers_error_is_bounded() {
        assert_eq!(bounded(&"x".repeat(1000)).len(), 200);
    }
}

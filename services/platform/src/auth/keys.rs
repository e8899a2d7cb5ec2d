//! The issuer's public keys: OpenID Connect discovery, then the JWKS,
//! cached. The cache is refreshed when it is older than `max_age`, and a
//! token naming a key id the cache does not hold makes it fetch the JWKS
//! again — at most once per `min_refetch`, so a flood of tokens with made-up
//! key ids cannot turn into a flood of requests at the issuer. The issuer
//! can so rotate its keys without any service restarting. When the issuer
//! cannot be reached, the keys already held keep working.
//!
//! Only asymmetric keys are taken (RSA, P-256/P-384, Ed25519); a symmetric
//! (`oct`) key in a JWKS is ignored, so an HMAC token can never verify.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::error::TokenError;

/// The algorithms an RSA key may verify.
const RSA: [Algorithm; 6] =
    [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512];

/// The asymmetric algorithms accepted.
pub const ACCEPTED: [Algorithm; 9] =
    [RSA[0], RSA[1], RSA[2], RSA[3], RSA[4], RSA[5], Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA];

/// The largest discovery document or JWKS read.
const MAX_DOCUMENT: usize = 256 * 1024;

/// What discovery says (the parts yiciban uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// Where applicants' identities are released ([`super::userinfo`]).
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// RFC 7009 token revocation (the workbench's logout).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// OpenID Connect RP-Initiated Logout (the workbench's logout).
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// One published key and the algorithms it may verify.
pub struct Key {
    pub decoding: DecodingKey,
    pub algorithms: Vec<Algorithm>,
}

/// How often the keys are fetched.
#[derive(Debug, Clone, Copy)]
pub struct KeyPolicy {
    /// Keys older than this are fetched again before use.
    pub max_age: Duration,
    /// An unknown key id fetches the JWKS at most this often.
    pub min_refetch: Duration,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy { max_age: Duration::from_secs(600), min_refetch: Duration::from_secs(10) }
    }
}

#[derive(Default)]
struct Held {
    discovery: Option<Discovery>,
    keys: HashMap<String, Arc<Key>>,
    fetched: Option<Instant>,
}

/// The cached keys of one issuer.
pub struct IssuerKeys {
    http: reqwest::Client,
    issuer: String,
    policy: KeyPolicy,
    held: RwLock<Held>,
    /// When the JWKS was last asked for (success or not); also makes the
    /// fetches single-flight.
    last_attempt: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKeys").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// The HTTP client for the issuer: short timeouts, and the private CA of
/// `ca_file` trusted besides the system's roots.
pub fn http_client(ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("yiciban/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| anyhow::anyhow!("reading the CA file {}: {e}", path.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| anyhow::anyhow!("the CA file {} holds no PEM certificate: {e}", path.display()))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    Ok(builder.build()?)
}

/// Reads a JSON document of at most [`MAX_DOCUMENT`] bytes.
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> Result<T, String> {
    let response = http.get(url).send().await.map_err(|e| format!("GET {url}: {e}"))?;
    read_json(response, url).await
}

/// Reads a JSON response of at most [`MAX_DOCUMENT`] bytes; a non-success
/// status is an error naming it.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    mut response: reqwest::Response,
    url: &str,
) -> Result<T, String> {
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading {url}: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOCUMENT {
            return Err(format!("{url} answered more than {MAX_DOCUMENT} bytes"));
        }
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("{url} answered {status}: {text}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url} answered no valid JSON document: {e}"))
}

impl IssuerKeys {
    /// The keys of `issuer` (its URL, without `/.well-known/…`).
    pub fn new(http: reqwest::Client, issuer: &str, policy: KeyPolicy) -> Self {
        IssuerKeys {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            policy,
            held: RwLock::new(Held::default()),
            last_attempt: Mutex::new(None),
        }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer's discovery document, fetched once (and again after a
    /// failure). Its `issuer` must be the configured one (OpenID Connect
    /// Discovery §4.3).
    pub async fn discovery(&self) -> Result<Discovery, TokenError> {
        if let Some(d) = &self.held.read().await.discovery {
            return Ok(d.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let discovery: Discovery = get_json(&self.http, &url).await.map_err(TokenError::IssuerUnavailable)?;
        if discovery.issuer.trim_end_matches('/') != self.issuer {
            return Err(TokenError::IssuerUnavailable(format!(
                "the discovery document at {url} names the issuer {:?}, not the configured one",
                discovery.issuer
            )));
        }
        self.held.write().await.discovery = Some(discovery.clone());
        Ok(discovery)
    }

    /// The key `kid`, fetching the JWKS when the cache is old or does not
    /// hold it (rate-limited).
    pub async fn key(&self, kid: &str) -> Result<Arc<Key>, TokenError> {
        {
            let held = self.held.read().await;
            let fresh = held.fetched.is_some_and(|at| at.elapsed() < self.policy.max_age);
            if let (true, Some(key)) = (fresh, held.keys.get(kid)) {
                return Ok(key.clone());
            }
        }
        let fetched = self.refresh().await;
        let held = self.held.read().await;
        match (held.keys.get(kid), fetched) {
            (Some(key), _) => Ok(key.clone()),
            (None, Err(e)) if held.keys.is_empty() => Err(e),
            (None, _) => Err(TokenError::UnknownKey),
        }
    }

    /// Fetches the JWKS unless another fetch happened within `min_refetch`
    /// (then the cache stays as it is).
    pub async fn refresh(&self) -> Result<(), TokenError> {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.policy.min_refetch) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let result = self.fetch().await;
        if let Err(e) = &result {
            tracing::warn!(issuer = %self.issuer, error = %e, "could not fetch the issuer's keys; the keys held stay in use");
        }
        result
    }

    async fn fetch(&self) -> Result<(), TokenError> {
        let discovery = self.discovery().await?;
        let set: JwkSet = match get_json(&self.http, &discovery.jwks_uri).await {
            Ok(set) => set,
            Err(e) => {
                // The issuer may have moved its JWKS: discover it again next time.
                self.held.write().await.discovery = None;
                return Err(TokenError::IssuerUnavailable(e));
            }
        };
        let keys: HashMap<String, Arc<Key>> =
            set.keys.iter().filter_map(|jwk| Some((jwk.common.key_id.clone()?, Arc::new(usable(jwk)?)))).collect();
        if keys.is_empty() {
            return Err(TokenError::IssuerUnavailable(format!(
                "the JWKS at {} holds no usable signing key",
                discovery.jwks_uri
            )));
        }
        tracing::info!(issuer = %self.issuer, keys = keys.len(), "fetched the issuer's signing keys");
        let mut held = self.held.write().await;
        held.keys = keys;
        held.fetched = Some(Instant::now());
        Ok(())
    }
}

/// The key and its algorithms, or `None` for a key that must not verify
/// tokens (symmetric, encryption-only, unknown type or curve).
fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption) | Some(PublicKeyUse::Other(_))) {
        return None;
    }
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => RSA.to_vec(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => by_type,
        Some(named) => {
            let alg = key_algorithm(named)?;
            if !by_type.contains(&alg) {
                return None;
            }
            vec![alg]
        }
    };
    Some(Key { decoding: DecodingKey::from_jwk(jwk).ok()?, algorithms })
}

fn key_algorithm(named: KeyAlgorithm) -> Option<Algorithm> {
    Some(match named {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: serde_json::Value) -> Jwk {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_symmetric_key_in_a_jwks_is_never_used() {
        let oct = jwk(serde_json::json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0", "alg": "HS256"}));
        assert!(usable(&oct).is_none());
    }

    #[test]
    fn an_ec_key_verifies_only_its_curve_and_an_alg_must_fit_the_key() {
        let p256 = serde_json::json!({"kty": "EC", "kid": "e", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert_eq!(usable(&jwk(p256.clone())).unwrap().algorithms, vec![Algorithm::ES256]);
        let mut lying = p256;
        lying["alg"] = "RS256".into();
        assert!(usable(&jwk(lying)).is_none());
    }

    #[test]
    fn an_encryption_key_is_not_a_signing_key() {
        let enc = serde_json::json!({"kty": "EC", "kid": "e", "crv": "P-256", "use": "enc",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(usable(&jwk(enc)).is_none());
    }
}

//! Talking to the OpenID Connect issuer: discovery, the token endpoint
//! (RFC 6749 §5 answers and errors) and token revocation (RFC 7009).

use anyhow::{Context as _, bail};
use reqwest::Url;
use serde::Deserialize;

/// The parts of the discovery document casectl uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

/// An issuer found by discovery.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub http: reqwest::Client,
    pub discovery: Discovery,
}

/// A successful token response.
#[derive(Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl Tokens {
    /// The access token's lifetime in seconds (five minutes when unsaid).
    pub fn lifetime(&self) -> u64 {
        self.expires_in.unwrap_or(300).min(24 * 3600)
    }
}

/// Why the token endpoint gave no tokens.
#[derive(Debug)]
pub enum Refused {
    /// An RFC 6749 §5.2 error (`invalid_grant`, `authorization_pending`, …).
    OAuth { error: String, description: Option<String> },
    /// No answer, or not one per RFC 6749.
    Unreachable(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::OAuth { error, description: Some(d) } => write!(f, "{error}: {d}"),
            Refused::OAuth { error, description: None } => f.write_str(error),
            Refused::Unreachable(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Refused {}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The HTTP client for the issuer: no redirects followed, the private CA of
/// `YICIBAN_OIDC_CA_FILE` trusted besides the system's roots.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    let ca = std::env::var_os("YICIBAN_OIDC_CA_FILE").filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    yiciban_platform::auth::http_client(ca.as_deref())
}

/// The issuer URL as given, without trailing slashes; plain HTTP only to a
/// loopback host or in explicit development mode (`YICIBAN_DEV_MODE=true`),
/// since refresh tokens travel to it.
pub fn normalize(issuer: &str) -> anyhow::Result<String> {
    let trimmed = issuer.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).with_context(|| format!("issuer {issuer:?} is not a URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let dev_mode = std::env::var("YICIBAN_DEV_MODE").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
    match url.scheme() {
        "https" => {}
        "http" if loopback || dev_mode => {}
        "http" => bail!("issuer {trimmed} is plain HTTP; use https (or YICIBAN_DEV_MODE=true for development)"),
        other => bail!("issuer {trimmed}: scheme {other:?} is not http(s)"),
    }
    Ok(trimmed.to_owned())
}

/// Whether two issuer identifiers name the same issuer (trailing slashes aside).
pub fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl Issuer {
    /// Reads `<issuer>/.well-known/openid-configuration`; its `issuer` must
    /// be the one asked for (OpenID Connect Discovery §4.3).
    pub async fn discover(http: reqwest::Client, issuer: &str) -> anyhow::Result<Issuer> {
        let issuer = normalize(issuer)?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let response = http.get(&url).send().await.with_context(|| format!("cannot reach the issuer at {url}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("{url} answered {status}; is {issuer} an OpenID Connect issuer?");
        }
        let discovery: Discovery =
            response.json().await.with_context(|| format!("{url} is not an OpenID Connect discovery document"))?;
        if !same_issuer(&discovery.issuer, &issuer) {
            bail!("{url} names the issuer {:?}, not {issuer:?}; refusing it", discovery.issuer);
        }
        Ok(Issuer { http, discovery })
    }

    /// The issuer identifier.
    pub fn id(&self) -> &str {
        &self.discovery.issuer
    }

    /// A token request (form body, public client: `client_id` in `form`).
    pub async fn token(&self, form: &[(&str, &str)]) -> Result<Tokens, Refused> {
        self.post(&self.discovery.token_endpoint, form).await
    }

    /// A form POST answered by JSON `T`, or an RFC 6749 §5.2 error.
    pub async fn post<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<T, Refused> {
        let response = self
            .http
            .post(endpoint)
            .form(form)
            .send()
            .await
            .map_err(|e| Refused::Unreachable(format!("POST {endpoint}: {e}")))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| Refused::Unreachable(format!("reading {endpoint}: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                Refused::Unreachable(format!("{endpoint} answered {status} without the expected JSON: {e}"))
            });
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => Err(Refused::OAuth { error: e.error, description: e.error_description }),
            Err(_) => Err(Refused::Unreachable(format!(
                "{endpoint} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))),
        }
    }

    /// Revokes `refresh_token` (RFC 7009) when the issuer names a
    /// revocation endpoint; whether it did.
    pub async fn revoke(&self, client_id: &str, refresh_token: &str) -> anyhow::Result<bool> {
        let Some(endpoint) = &self.discovery.revocation_endpoint else {
            return Ok(false);
        };
        let form = [("token", refresh_token), ("token_type_hint", "refresh_token"), ("client_id", client_id)];
        let response = self.http.post(endpoint).form(&form).send().await.with_context(|| format!("POST {endpoint}"))?;
        // RFC 7009 §2.2: 200 also for a token already invalid.
        if !response.status().is_success() {
            bail!("{endpoint} answered {}", response.status());
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_issuers_only_on_loopback() {
        assert_eq!(normalize("http://127.0.0.1:8081/").unwrap(), "http://127.0.0.1:8081");
        assert_eq!(normalize("https://sso.example/realms/yiciban").unwrap(), "https://sso.example/realms/yiciban");
        assert!(normalize("ftp://127.0.0.1").is_err());
        assert!(normalize("not a url").is_err());
        if std::env::var_os("YICIBAN_DEV_MODE").is_none() {
            assert!(normalize("http://sso.example").is_err());
        }
    }

    #[test]
    fn issuers_compare_without_trailing_slashes() {
        assert!(same_issuer("https://a/realms/x/", "https://a/realms/x"));
        assert!(!same_issuer("https://a/realms/x", "https://a/realms/y"));
    }
}

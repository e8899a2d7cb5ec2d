//! Client authentication at the token endpoint (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or `none` for a public
//! client, never two methods at once.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use super::error::TokenError;
use super::params::Params;
use crate::config::{Client, IssuerConfig};

/// The authenticated client of a token request.
pub fn authenticate<'a>(
    config: &'a IssuerConfig,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a Client, TokenError> {
    let basic = basic_credentials(headers)?;
    let posted_id = params.one("client_id").map_err(TokenError::invalid_request)?;
    let posted_secret = params.one("client_secret").map_err(TokenError::invalid_request)?;
    let (id, secret) = match basic {
        Some((id, secret)) => {
            if posted_secret.is_some() {
                return Err(TokenError::invalid_request("use one client authentication method, not two"));
            }
            if posted_id.is_some_and(|posted| posted != id) {
                return Err(TokenError::invalid_request("client_id differs from the authenticated client"));
            }
            (id, Some(secret))
        }
        None => {
            let id = posted_id.ok_or_else(|| TokenError::invalid_client("client authentication required"))?;
            (id.to_owned(), posted_secret.map(str::to_owned))
        }
    };
    let client = config.client(&id).ok_or_else(|| TokenError::invalid_client("unknown client or wrong secret"))?;
    match (&client.secret, secret) {
        (Some(expected), Some(given)) if same_secret(expected, &given) => Ok(client),
        (Some(_), Some(_)) => Err(TokenError::invalid_client("unknown client or wrong secret")),
        (Some(_), None) => Err(TokenError::invalid_client("client authentication required")),
        (None, Some(_)) => Err(TokenError::invalid_client("a public client has no secret")),
        (None, None) => Ok(client),
    }
}

/// The `Authorization: Basic` credentials, form-decoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || TokenError::invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::invalid_client("unsupported authorization scheme"));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id).ok_or_else(malformed)?, form_decode(secret).ok_or_else(malformed)?)))
}

/// Decodes one `application/x-www-form-urlencoded` value.
fn form_decode(value: &str) -> Option<String> {
    if value.contains(['&', '=']) {
        return None;
    }
    let mut pairs = form_urlencoded::parse(value.as_bytes());
    let decoded = pairs.next().map(|(key, _)| key.into_owned()).unwrap_or_default();
    Some(decoded)
}

/// Compares secrets in time independent of where they differ.
fn same_secret(expected: &str, given: &str) -> bool {
    let (a, b) = (Sha256::digest(expected.as_bytes()), Sha256::digest(given.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config() -> IssuerConfig {
        IssuerConfig::seeded(&[])
    }

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
        headers
    }

    #[test]
    fn basic_and_post_authenticate_confidential_clients() {
        let config = config();
        let none = Params::parse(b"");
        assert_eq!(
            authenticate(&config, &basic("yiciban-intake", "dev-secret-intake"), &none).unwrap().id,
            "yiciban-intake"
        );
        let post = Params::parse(b"client_id=yiciban-tasks&client_secret=dev-secret-tasks");
        assert_eq!(authenticate(&config, &HeaderMap::new(), &post).unwrap().id, "yiciban-tasks");
    }

    #[test]
    fn wrong_missing_or_doubled_credentials_are_refused() {
        let config = config();
        let none = Params::parse(b"");
        assert!(authenticate(&config, &basic("yiciban-intake", "dev-secret-tasks"), &none).is_err());
        assert!(authenticate(&config, &HeaderMap::new(), &Params::parse(b"client_id=yiciban-intake")).is_err());
        assert!(authenticate(&config, &HeaderMap::new(), &none).is_err());
        let both = Params::parse(b"client_secret=dev-secret-intake");
        assert!(authenticate(&config, &basic("yiciban-intake", "dev-secret-intake"), &both).is_err());
        let public_with_secret = Params::parse(b"client_id=yiciban-casectl&client_secret=x");
        assert!(authenticate(&config, &HeaderMap::new(), &public_with_secret).is_err());
        let public = Params::parse(b"client_id=yiciban-casectl");
        assert!(authenticate(&config, &HeaderMap::new(), &public).unwrap().is_public());
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("a=b"), None);
    }
}

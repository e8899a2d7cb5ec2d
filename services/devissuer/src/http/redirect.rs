//! Redirect URIs: which a client may use, and the authorization response
//! sent back to them (RFC 6749 §4.1.2, RFC 9207 `iss`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use crate::config::Client;

/// Whether `client` may be redirected to `uri`: a registered URI verbatim,
/// or for a public client any loopback `http://127.0.0.1:<port>/<path>`,
/// `http://localhost:<port>/<path>` or `http://[::1]:<port>/<path>`
/// (RFC 8252 §7.3: the port is chosen by the native app at run time).
pub fn allowed(client: &Client, uri: &str) -> bool {
    client.redirect_uris.iter().any(|r| r == uri) || (client.is_public() && is_loopback(uri))
}

fn is_loopback(uri: &str) -> bool {
    if uri.contains('#') {
        return false;
    }
    let Ok(parsed) = uri.parse::<axum::http::Uri>() else {
        return false;
    };
    let Some(authority) = parsed.authority() else {
        return false;
    };
    parsed.scheme_str() == Some("http")
        && !authority.as_str().contains('@')
        && matches!(authority.host(), "127.0.0.1" | "localhost" | "[::1]")
        && authority.port_u16().is_some_and(|port| port != 0)
        && parsed.path().starts_with('/')
}

/// `redirect_uri` with `params` added to its query, as a 302.
pub fn to(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            ],
        )
            .into_response(),
        // Unreachable for a URI that parsed; refuse rather than panic.
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(secret: Option<&str>) -> Client {
        Client {
            id: "c".into(),
            secret: secret.map(Into::into),
            roles: vec![],
            redirect_uris: vec!["https://app.example/cb".into()],
        }
    }

    #[test]
    fn public_clients_may_use_any_loopback_port() {
        let public = client(None);
        for ok in [
            "http://127.0.0.1:53121/callback",
            "http://localhost:8400/cb",
            "http://[::1]:9000/x",
            "https://app.example/cb",
        ] {
            assert!(allowed(&public, ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1/callback",
            "https://127.0.0.1:1/callback",
            "http://127.0.0.2:1/callback",
            "http://evil.example:80/callback",
            "http://user@127.0.0.1:1/callback",
            "http://127.0.0.1:1/callback#frag",
            "http://localhost.evil.example:1/cb",
            "/callback",
        ] {
            assert!(!allowed(&public, bad), "{bad}");
        }
    }

    #[test]
    fn confidential_clients_use_registered_uris_only() {
        let confidential = client(Some("s"));
        assert!(allowed(&confidential, "https://app.example/cb"));
        assert!(!allowed(&confidential, "http://127.0.0.1:53121/callback"));
    }

    #[test]
    fn the_response_extends_an_existing_query() {
        let response = to("http://127.0.0.1:1/cb?x=1", &[("code", "a b"), ("state", "s&t")]);
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[header::LOCATION], "http://127.0.0.1:1/cb?x=1&code=a+b&state=s%26t");
    }
}

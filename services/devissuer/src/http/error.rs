//! Token endpoint errors (RFC 6749 §5.2, RFC 8707 §2).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::json_response;

/// An error response of the token endpoint.
#[derive(Debug)]
pub struct TokenError {
    code: &'static str,
    description: String,
}

impl TokenError {
    fn new(code: &'static str, description: impl Into<String>) -> TokenError {
        TokenError { code, description: description.into() }
    }

    /// A missing, repeated or malformed parameter.
    pub fn invalid_request(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_request", description)
    }

    /// Client authentication failed (401).
    pub fn invalid_client(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_client", description)
    }

    /// A code, verifier or refresh token that does not hold.
    pub fn invalid_grant(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_grant", description)
    }

    /// The client may not use this grant type.
    pub fn unauthorized_client(description: impl Into<String>) -> TokenError {
        TokenError::new("unauthorized_client", description)
    }

    /// A grant type the issuer does not know.
    pub fn unsupported_grant_type(description: impl Into<String>) -> TokenError {
        TokenError::new("unsupported_grant_type", description)
    }

    /// A scope beyond the original grant.
    pub fn invalid_scope(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_scope", description)
    }

    /// A `resource` that is not one of the services (RFC 8707).
    pub fn invalid_target(description: impl Into<String>) -> TokenError {
        TokenError::new("invalid_target", description)
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = if self.code == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        let mut response = json_response(status, &json!({ "error": self.code, "error_description": self.description }));
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"yiciban-dev-issuer\""));
        }
        response
    }
}

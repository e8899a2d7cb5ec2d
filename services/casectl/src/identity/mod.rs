//! Who casectl acts as: a sign-in at an OpenID Connect issuer, kept as a
//! profile (a refresh token, and an access token per service audience), or
//! a bearer token given as it is.

pub mod callback;
pub mod claims;
pub mod device;
pub mod issuer;
pub mod login;
pub mod profile;
pub mod session;

/// The issuer of `make run` (the development issuer), when neither
/// `--issuer` nor `YICIBAN_OIDC_ISSUER` names one.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8081";

/// The public client of staff tools.
pub const DEFAULT_CLIENT_ID: &str = "yiciban-casectl";

/// The audience of service `name` (`urn:yiciban:<name>`).
pub fn audience(service: &str) -> String {
    yiciban_platform::config::OidcConfig::audience_of(service)
}

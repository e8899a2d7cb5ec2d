//! What a token says about its holder, read for display only: casectl
//! decodes the payload without checking the signature (the services verify
//! every token against the issuer's keys; casectl only labels its profiles).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{self, GeneralPurpose};
use serde_json::Value;
use yiciban_platform::auth::ClaimMapping;

/// base64url as JWT segments are written: unpadded, padding accepted too.
const JWT_SEGMENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    general_purpose::NO_PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The payload of a JWT, decoded but NOT verified.
pub fn unverified_payload(token: &str) -> Option<Value> {
    let payload = JWT_SEGMENT.decode(token.split('.').nth(1)?).ok()?;
    serde_json::from_slice(&payload).ok()
}

/// Who a token names, unverified, as the services would map its claims
/// (the claim names follow the same `YICIBAN_OIDC_*_CLAIM` variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The staff login (`preferred_username` by default).
    pub username: Option<String>,
    /// The yiciban role, or why none could be read.
    pub role: Result<String, String>,
    /// The agent's department.
    pub department: Option<String>,
}

impl Holder {
    /// Reads `token` (unverified); `None` when it is not a JWT.
    pub fn of(token: &str) -> Option<Holder> {
        let claims = unverified_payload(token)?;
        let mapping = mapping();
        let text = |path: &str| {
            path.split('.').try_fold(&claims, |v, key| v.get(key)).and_then(Value::as_str).map(str::to_owned)
        };
        let username = text(&mapping.username).or_else(|| text("sub"));
        let department = text(&mapping.department);
        let role = mapping.caller(&claims).map(|caller| caller.role.as_str().to_owned()).map_err(|e| e.to_string());
        Some(Holder { username, role, department })
    }
}

/// The claim mapping of the environment (the services' variables), else the defaults.
fn mapping() -> ClaimMapping {
    let mut mapping = ClaimMapping::default();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(v) = env("YICIBAN_OIDC_ROLES_CLAIM") {
        mapping.roles = v;
    }
    if let Some(v) = env("YICIBAN_OIDC_ROLE_PREFIX") {
        mapping.role_prefix = v;
    }
    if let Some(v) = env("YICIBAN_OIDC_DEPARTMENT_CLAIM") {
        mapping.department = v;
    }
    if let Some(v) = env("YICIBAN_OIDC_USERNAME_CLAIM") {
        mapping.username = v;
    }
    if let Some(v) = env("YICIBAN_OIDC_IDENTITY_CLAIM") {
        mapping.identity = v;
    }
    mapping
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &str) -> String {
        format!("e30.{}.sig", JWT_SEGMENT.encode(claims))
    }

    #[test]
    fn base64url_decodes_with_and_without_padding() {
        assert_eq!(JWT_SEGMENT.decode("eyJzdWIiOiJhIn0").unwrap(), br#"{"sub":"a"}"#);
        assert_eq!(JWT_SEGMENT.decode("YQ==").unwrap(), b"a");
        assert_eq!(JWT_SEGMENT.decode("_-8").unwrap(), [0xff, 0xef]);
        assert!(JWT_SEGMENT.decode("a b").is_err());
    }

    #[test]
    fn an_agent_is_read_with_login_role_and_department() {
        let holder = Holder::of(&token(
            r#"{"sub":"x1","preferred_username":"agent-samr-1","department":"samr","realm_access":{"roles":["offline_access","yiciban-agent"]}}"#,
        ))
        .unwrap();
        assert_eq!(holder.username.as_deref(), Some("agent-samr-1"));
        assert_eq!(holder.role.as_deref(), Ok("agent"));
        assert_eq!(holder.department.as_deref(), Some("samr"));
    }

    #[test]
    fn a_token_without_a_yiciban_role_says_why() {
        let holder = Holder::of(&token(r#"{"sub":"x1","realm_access":{"roles":["other"]}}"#)).unwrap();
        assert_eq!(holder.username.as_deref(), Some("x1"));
        assert!(holder.role.is_err());
        assert!(Holder::of("not-a-token").is_none());
    }
}

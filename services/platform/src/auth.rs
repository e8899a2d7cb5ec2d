//! Bearer-token (JWT, HS256) authentication. Every gRPC call carries
//! `authorization: Bearer <token>`; the interceptor checks it and puts the
//! [`Caller`] into the request's extensions, where handlers authorise: an
//! agent acts only for its department, an applicant only for its identity.

use std::str::FromStr;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};
use yiciban_proto::common::v1 as pb;

/// The token issuer.
pub const ISSUER: &str = "yiciban";

/// The role a caller acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Clerk,
    Agent,
    Officer,
    Supervisor,
    Admin,
    Applicant,
    Service,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Agent => "agent",
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Applicant => "applicant",
            Role::Service => "service",
        }
    }

    /// The wire role.
    pub fn to_proto(self) -> pb::Role {
        match self {
            Role::Clerk => pb::Role::Clerk,
            Role::Agent => pb::Role::Agent,
            Role::Officer => pb::Role::Officer,
            Role::Supervisor => pb::Role::Supervisor,
            Role::Admin => pb::Role::Admin,
            Role::Applicant => pb::Role::Applicant,
            Role::Service => pb::Role::Service,
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "clerk" => Role::Clerk,
            "agent" => Role::Agent,
            "officer" => Role::Officer,
            "supervisor" => Role::Supervisor,
            "admin" => Role::Admin,
            "applicant" => Role::Applicant,
            "service" => Role::Service,
            other => {
                return Err(format!(
                    "unknown role {other:?}: expected clerk, agent, officer, supervisor, admin, applicant or service"
                ));
            }
        })
    }
}

/// The claims of a yiciban token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Staff login, service name, or the applicant's account.
    pub sub: String,
    pub role: Role,
    /// Department code; required for agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    /// The applicant's identity (resident ID number or credit code); required
    /// for applicants. Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Who is calling, as checked by the interceptor.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    pub department: Option<String>,
    pub identity: Option<String>,
    /// The chain a calling service's command continues (see
    /// [`crate::cause`]); only a caller in the `service` role may name one.
    pub cause: Option<crate::cause::Cause>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The identity is personal data: never printed.
        f.debug_struct("Caller")
            .field("subject", &self.subject)
            .field("role", &self.role)
            .field("department", &self.department)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The caller as the wire actor recorded on events.
    pub fn actor(&self) -> pb::Actor {
        pb::Actor {
            subject: self.subject.clone(),
            role: self.role.to_proto() as i32,
            department: self.department.clone().unwrap_or_default(),
        }
    }

    /// `PERMISSION_DENIED` unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), Status> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "a {} may not {action}; this needs one of: {}",
                self.role.as_str(),
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            )))
        }
    }

    /// `PERMISSION_DENIED` unless the caller is an agent of `department` (or
    /// one of `also` roles).
    pub fn require_department(&self, department: &str, also: &[Role], action: &str) -> Result<(), Status> {
        if also.contains(&self.role) {
            return Ok(());
        }
        if self.role == Role::Agent && self.department.as_deref() == Some(department) {
            return Ok(());
        }
        Err(Status::permission_denied(format!("only agents of department {department:?} may {action}")))
    }

    /// Takes the caller the interceptor put into the request, with the
    /// cause a calling service sent along.
    pub fn of<T>(request: &Request<T>) -> Result<Caller, Status> {
        let mut caller = request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no verified caller on this request"))?;
        if caller.role == Role::Service {
            caller.cause = crate::cause::Cause::from_metadata(request.metadata());
        }
        Ok(caller)
    }
}

/// Signs and verifies tokens with one HMAC key.
#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator(..)")
    }
}

/// Why a signing key cannot be used; raised once, when the service (or
/// casectl) starts, never per request.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the token signing key (YICIBAN_JWT_SECRET) is empty")]
    Empty,
    /// jsonwebtoken finds its crypto backend from its crate features: exactly
    /// one of `rust_crypto` (ours, in the workspace Cargo.toml) and
    /// `aws_lc_rs` must be on. Another crate of the build turning the second
    /// one on would make every sign and verify panic; this says so at start.
    #[error(
        "jsonwebtoken has no crypto backend: exactly one of its features rust_crypto and aws_lc_rs must be enabled in the build"
    )]
    NoCryptoBackend,
    #[error("the token signing key is refused: {0}")]
    Refused(#[from] jsonwebtoken::errors::Error),
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the token's claims are incomplete: {0}")]
    Incomplete(&'static str),
}

impl Authenticator {
    /// An authenticator signing with `secret`; refuses an empty key and a
    /// build in which jsonwebtoken has no single crypto backend.
    pub fn new(secret: &SecretString) -> Result<Self, KeyError> {
        let key = secret.expose_secret().as_bytes();
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err(KeyError::NoCryptoBackend);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 30;
        Ok(Authenticator {
            encoding: EncodingKey::from_secret(key)?,
            decoding: DecodingKey::from_secret(key)?,
            validation,
        })
    }

    /// Mints a token valid for `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        role: Role,
        department: Option<&str>,
        identity: Option<&str>,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            dept: department.map(str::to_owned),
            identity: identity.map(str::to_owned),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
        };
        check_complete(&claims)?;
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Verifies a token and returns its caller.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims;
        check_complete(&claims)?;
        Ok(Caller {
            subject: claims.sub,
            role: claims.role,
            department: claims.dept,
            identity: claims.identity,
            cause: None,
        })
    }

    /// The tonic interceptor: `UNAUTHENTICATED` without a valid bearer token.
    pub fn intercept(&self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token> metadata"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization metadata must be 'Bearer <token>'"))?;
        let caller = self.verify(token).map_err(|e| Status::unauthenticated(e.to_string()))?;
        tracing::Span::current().record("caller.role", caller.role.as_str());
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

fn check_complete(claims: &Claims) -> Result<(), TokenError> {
    if claims.sub.is_empty() {
        return Err(TokenError::Incomplete("sub is empty"));
    }
    if claims.role == Role::Agent && claims.dept.as_deref().is_none_or(str::is_empty) {
        return Err(TokenError::Incomplete("an agent token must name its department (dept)"));
    }
    if claims.role == Role::Applicant && claims.identity.as_deref().is_none_or(str::is_empty) {
        return Err(TokenError::Incomplete("an applicant token must carry the applicant's identity"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        Authenticator::new(&SecretString::from("test-secret")).unwrap()
    }

    #[test]
    fn a_minted_token_verifies_to_its_caller() {
        let a = auth();
        let t = a.mint("agent-7", Role::Agent, Some("samr"), None, Duration::from_secs(60)).unwrap();
        let c = a.verify(&t).unwrap();
        assert_eq!((c.subject.as_str(), c.role, c.department.as_deref()), ("agent-7", Role::Agent, Some("samr")));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = Authenticator::new(&SecretString::from("other")).unwrap();
        let t = other.mint("x", Role::Clerk, None, None, Duration::from_secs(60)).unwrap();
        assert!(auth().verify(&t).is_err());
    }

    #[test]
    fn an_empty_key_is_refused_at_construction() {
        assert!(matches!(Authenticator::new(&SecretString::from("")), Err(KeyError::Empty)));
    }

    #[test]
    fn a_token_of_another_issuer_is_refused() {
        let a = auth();
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "x".into(),
            role: Role::Clerk,
            dept: None,
            identity: None,
            iss: "someone-else".into(),
            iat: now,
            exp: now + 60,
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &a.encoding).unwrap();
        assert!(matches!(a.verify(&t), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn agents_need_a_department_and_applicants_an_identity() {
        let a = auth();
        assert!(a.mint("a", Role::Agent, None, None, Duration::from_secs(60)).is_err());
        assert!(a.mint("p", Role::Applicant, None, None, Duration::from_secs(60)).is_err());
    }

    #[test]
    fn the_interceptor_refuses_missing_and_malformed_tokens() {
        let a = auth();
        let err = a.intercept(Request::new(())).unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
        let mut r = Request::new(());
        r.metadata_mut().insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(a.intercept(r).unwrap_err().code(), tonic::Code::Unauthenticated);
        let mut r = Request::new(());
        let t = a.mint("c", Role::Clerk, None, None, Duration::from_secs(60)).unwrap();
        r.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
        let r = a.intercept(r).unwrap();
        assert_eq!(Caller::of(&r).unwrap().role, Role::Clerk);
    }

    #[test]
    fn an_agent_acts_only_for_its_own_department() {
        let c = Caller {
            subject: "a".into(),
            role: Role::Agent,
            department: Some("samr".into()),
            identity: None,
            cause: None,
        };
        assert!(c.require_department("samr", &[], "approve").is_ok());
        let e = c.require_department("fire", &[Role::Supervisor], "approve").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
    }
}

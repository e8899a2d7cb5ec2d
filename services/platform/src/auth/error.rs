//! Why a token was refused. Every message names the reason and never
//! repeats the token or a claim's value (a token is a credential; claims
//! hold personal data).

use tonic::Status;

/// Why a bearer token does not identify a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("missing authorization: Bearer <token> metadata")]
    Missing,
    #[error("authorization metadata must be 'Bearer <token>'")]
    NotBearer,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error(
        "the token's algorithm {0} is not accepted: only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 and EdDSA"
    )]
    Algorithm(String),
    #[error("the token names no key (kid)")]
    NoKeyId,
    #[error("the token was signed with a key the issuer does not publish")]
    UnknownKey,
    #[error("the token's algorithm does not match its key")]
    AlgorithmMismatch,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is not meant for this service (aud)")]
    WrongAudience,
    #[error("the token lacks the claim {0}")]
    MissingClaim(&'static str),
    #[error("the token's claim {0} is too long")]
    ClaimTooLong(&'static str),
    #[error("the token carries no yiciban role")]
    NoRole,
    #[error("the token carries more than one yiciban role")]
    SeveralRoles,
    #[error("an agent's token must name its department")]
    AgentWithoutDepartment,
    #[error(
        "the issuer's userinfo names no ID number or credit code for this applicant: sign in again granting the scope yiciban.identity"
    )]
    ApplicantWithoutIdentity,
    /// A token carrying the ID-number claim itself: the issuer is set up to
    /// put the number into tokens, which then travel with every call.
    #[error(
        "the token carries the claim {0}: an ID number or credit code is taken only from the issuer's userinfo, never from a token; the issuer must release it on userinfo only"
    )]
    IdentityInToken(String),
    #[error("the issuer refused this token at its userinfo endpoint: sign in again")]
    UserinfoRefused,
    #[error("the issuer's userinfo answered for another subject than the token's")]
    UserinfoSubjectMismatch,
    #[error("the service role is accepted only from the client of a yiciban service")]
    NotAService,
    #[error("a token of a service's client may act only in the service role")]
    ServiceClientAsPerson,
    /// The issuer could not be asked for its keys or for an applicant's
    /// identity (userinfo): not the caller's fault,
    /// so `UNAVAILABLE` (retried by process managers), not `UNAUTHENTICATED`.
    #[error("the token issuer cannot be asked now (its keys or its userinfo): {0}")]
    IssuerUnavailable(String),
}

impl TokenError {
    /// A short, fixed label for metrics and the refusal log.
    pub fn label(&self) -> &'static str {
        match self {
            TokenError::Missing => "missing",
            TokenError::NotBearer => "not_bearer",
            TokenError::Malformed => "malformed",
            TokenError::Algorithm(_) => "algorithm",
            TokenError::NoKeyId => "no_kid",
            TokenError::UnknownKey => "unknown_key",
            TokenError::AlgorithmMismatch => "algorithm_mismatch",
            TokenError::BadSignature => "bad_signature",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::WrongIssuer => "wrong_issuer",
            TokenError::WrongAudience => "wrong_audience",
            TokenError::MissingClaim(_) => "missing_claim",
            TokenError::ClaimTooLong(_) => "claim_too_long",
            TokenError::NoRole => "no_role",
            TokenError::SeveralRoles => "several_roles",
            TokenError::AgentWithoutDepartment => "agent_without_department",
            TokenError::ApplicantWithoutIdentity => "applicant_without_identity",
            TokenError::IdentityInToken(_) => "identity_in_token",
            TokenError::UserinfoRefused => "userinfo_refused",
            TokenError::UserinfoSubjectMismatch => "userinfo_subject_mismatch",
            TokenError::NotAService => "not_a_service",
            TokenError::ServiceClientAsPerson => "service_client_as_person",
            TokenError::IssuerUnavailable(_) => "issuer_unavailable",
        }
    }

    /// The gRPC status: `UNAVAILABLE` when the issuer could not be reached,
    /// `UNAUTHENTICATED` otherwise.
    pub fn status(&self) -> Status {
        match self {
            TokenError::IssuerUnavailable(_) => Status::unavailable(self.to_string()),
            _ => Status::unauthenticated(self.to_string()),
        }
    }

    /// Maps a jsonwebtoken validation failure.
    pub(crate) fn from_jwt(e: &jsonwebtoken::errors::Error) -> TokenError {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::InvalidSignature => TokenError::BadSignature,
            K::ExpiredSignature => TokenError::Expired,
            K::ImmatureSignature => TokenError::NotYetValid,
            K::InvalidIssuer => TokenError::WrongIssuer,
            K::InvalidAudience => TokenError::WrongAudience,
            K::InvalidAlgorithm => TokenError::AlgorithmMismatch,
            // Only exp, iss and aud are required (see `Verifier`).
            K::MissingRequiredClaim(c) => TokenError::MissingClaim(match c.as_str() {
                "exp" => "exp",
                "iss" => "iss",
                "aud" => "aud",
                _ => "a registered claim",
            }),
            _ => TokenError::Malformed,
        }
    }
}

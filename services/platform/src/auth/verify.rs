//! Verifies a bearer token: a JWT signed by the configured issuer with one
//! of its published asymmetric keys, for this service's audience, within its
//! lifetime (30 s leeway), mapped to a [`Caller`]; for an applicant at a
//! service that recognises applicants, with its keyed identity learned from
//! the issuer's userinfo ([`super::userinfo`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};

use super::caller::Caller;
use super::claims::ClaimMapping;
use super::error::TokenError;
use super::keys::{ACCEPTED, IssuerKeys, Key};
use super::token_cache::{TokenCache, key_of};
use super::userinfo::Identities;
use crate::auth::Role;
use crate::identity::IdentityKey;

/// The clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// The longest token read (a JWT with a few dozen claims is 1–2 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A verified token's caller, before an applicant's identity is learned.
pub struct Verified {
    /// The caller, `applicant_key` not yet set.
    pub caller: Caller,
    applicant: Option<Pending>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified").field("caller", &self.caller).finish_non_exhaustive()
    }
}

/// What asking userinfo for an applicant needs: the token (a credential,
/// never printed), its subject and how long it is still valid.
struct Pending {
    token: String,
    subject: String,
    lifetime: Duration,
}

/// What a verification found, remembered for the token's next
/// presentations ([`super::token_cache`]): the caller, for an applicant the
/// subject and `exp` (the lifetime is counted again at each presentation),
/// and the issuer's key that verified it.
#[derive(Clone)]
struct Found {
    caller: Caller,
    applicant: Option<(String, u64)>,
    kid: String,
    key: Arc<Key>,
}

/// Checks bearer tokens for one service.
#[derive(Clone)]
pub struct Verifier {
    keys: Arc<IssuerKeys>,
    audience: String,
    mapping: ClaimMapping,
    /// Set once by [`Verifier::recognise_applicants`]; shared by every
    /// clone, so layers built before it was set see it too.
    identities: Arc<OnceLock<Identities>>,
    /// Tokens verified already, until they expire (ADR 0041); shared by
    /// every clone.
    verified: Arc<TokenCache<Found>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("issuer", &self.keys.issuer()).field("audience", &self.audience).finish()
    }
}

impl Verifier {
    /// A verifier of tokens from the issuer of `keys` for `audience`.
    pub fn new(keys: Arc<IssuerKeys>, audience: &str, mapping: ClaimMapping) -> Self {
        Verifier {
            keys,
            audience: audience.to_owned(),
            mapping,
            identities: Arc::new(OnceLock::new()),
            verified: Arc::new(TokenCache::new()),
        }
    }

    /// From now on an applicant's caller carries its keyed identity (under
    /// `key`), learned from the issuer's userinfo through `http`; without
    /// this an applicant's `applicant_key` stays `None`. Only the first
    /// call counts.
    pub fn recognise_applicants(&self, http: reqwest::Client, key: IdentityKey) {
        let identities = Identities::new(self.keys.clone(), http, key, &self.mapping.identity);
        if self.identities.set(identities).is_err() {
            tracing::warn!("applicants are recognised already; the second identity key is ignored");
        }
    }

    /// Verifies the value of an `authorization` header; an applicant's
    /// identity is not learned yet ([`Verifier::identify`]), so a call the
    /// access rules refuse anyway costs the issuer nothing.
    pub async fn verify_header(&self, header: Option<&[u8]>) -> Result<Verified, TokenError> {
        let header = header.ok_or(TokenError::Missing)?;
        let token = std::str::from_utf8(header)
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::NotBearer)?;
        self.verify_token(token).await
    }

    /// Verifies a token and returns its caller, an applicant's with its
    /// keyed identity where this service recognises applicants.
    pub async fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let verified = self.verify_token(token).await?;
        self.identify(verified).await
    }

    /// The verified caller, with an applicant's keyed identity learned from
    /// the issuer's userinfo (cached) where this service recognises
    /// applicants ([`Verifier::recognise_applicants`]).
    pub async fn identify(&self, verified: Verified) -> Result<Caller, TokenError> {
        let Verified { mut caller, applicant } = verified;
        if let (Some(pending), Some(identities)) = (applicant, self.identities.get()) {
            let key = identities.applicant_key(&pending.token, &pending.subject, pending.lifetime).await?;
            caller.applicant_key = Some(key);
        }
        Ok(caller)
    }

    /// Verifies a token: its caller, an applicant's identity still to learn.
    /// A token verified before, still within its lifetime and under a key
    /// the issuer still publishes (the very key held when it was verified)
    /// is answered from memory ([`super::token_cache`], ADR 0041); any
    /// other is checked in full and, if accepted, remembered until its
    /// `exp` plus the leeway.
    pub async fn verify_token(&self, token: &str) -> Result<Verified, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let key = key_of(token);
        let now = crate::auth::userinfo::unix_now();
        let remembered = match self.verified.get(&key, now) {
            // Only while the key that verified it is the one held now: a
            // key the issuer withdrew (or any fetch of the keys since) makes
            // the token go through the full check again.
            Some(found) => match self.keys.key(&found.kid).await {
                Ok(held) if Arc::ptr_eq(&held, &found.key) => Some(found),
                _ => None,
            },
            None => None,
        };
        let found = match remembered {
            Some(found) => found,
            None => {
                let (found, expires) = self.verify_signed(token).await?;
                self.verified.put(key, found.clone(), expires.saturating_add(LEEWAY_SECONDS), now);
                found
            }
        };
        let applicant = found.applicant.map(|(subject, expires)| Pending {
            token: token.to_owned(),
            subject,
            lifetime: Duration::from_secs(expires.saturating_sub(now)),
        });
        Ok(Verified { caller: found.caller, applicant })
    }

    /// The full check of a token: its algorithm, key, signature, issuer,
    /// audience and lifetime; what it found, and its `exp`.
    async fn verify_signed(&self, token: &str) -> Result<(Found, u64), TokenError> {
        refuse_unaccepted_algorithm(token)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.as_deref().filter(|k| !k.is_empty()).ok_or(TokenError::NoKeyId)?;
        let key = self.keys.key(kid).await?;
        if !key.algorithms.contains(&header.alg) {
            return Err(TokenError::AlgorithmMismatch);
        }
        let validation = self.validation(header.alg);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key.decoding, &validation)
            .map_err(|e| TokenError::from_jwt(&e))?;
        let claims = &data.claims;
        // Required by the validation, so present on every accepted token.
        let expires = claims
            .get("exp")
            .and_then(|exp| exp.as_u64().or_else(|| exp.as_f64().map(|seconds| seconds.max(0.0) as u64)))
            .ok_or(TokenError::MissingClaim("exp"))?;
        let caller = self.mapping.caller(claims)?;
        let applicant = match caller.role {
            Role::Applicant => {
                let subject =
                    claims.get("sub").and_then(serde_json::Value::as_str).ok_or(TokenError::MissingClaim("sub"))?;
                Some((subject.to_owned(), expires))
            }
            _ => None,
        };
        Ok((Found { caller, applicant, kid: kid.to_owned(), key }, expires))
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        let issuer = self.keys.issuer();
        v.set_issuer(&[issuer.to_owned(), format!("{issuer}/")]);
        v.set_audience(&[self.audience.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.leeway = LEEWAY_SECONDS;
        v.validate_exp = true;
        v.validate_nbf = true;
        v
    }
}

/// Reads the header's `alg` before anything else, so `none`, `HS256` and
/// names jsonwebtoken does not know are refused by name.
fn refuse_unaccepted_algorithm(token: &str) -> Result<(), TokenError> {
    use base64::Engine as _;
    let encoded = token.split('.').next().ok_or(TokenError::Malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed)?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    let alg = header.get("alg").and_then(serde_json::Value::as_str).ok_or(TokenError::Malformed)?;
    let accepted = ACCEPTED.iter().any(|a| format!("{a:?}") == alg);
    if accepted {
        Ok(())
    } else {
        // Bounded: the name is echoed in the answer.
        Err(TokenError::Algorithm(alg.chars().take(16).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str) -> String {
        use base64::Engine as _;
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.", e(header), e(r#"{"sub":"x"}"#))
    }

    #[test]
    fn none_and_symmetric_algorithms_are_refused_by_name() {
        for alg in ["none", "HS256", "HS512", "RS1"] {
            let refused = refuse_unaccepted_algorithm(&token(&format!(r#"{{"alg":"{alg}"}}"#)));
            assert_eq!(refused, Err(TokenError::Algorithm(alg.to_owned())));
        }
        assert!(refuse_unaccepted_algorithm(&token(r#"{"alg":"ES256","kid":"k"}"#)).is_ok());
        assert_eq!(refuse_unaccepted_algorithm("not a token"), Err(TokenError::Malformed));
    }
}

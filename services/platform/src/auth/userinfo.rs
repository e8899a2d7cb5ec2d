//! An applicant's identity, learned from the issuer and kept only as its
//! keyed hash. Tokens carry a subject, never an ID number (ADR 0029): the
//! number or credit code is released by the issuer's OpenID Connect userinfo
//! endpoint (found through discovery) to the applicant's own access token,
//! under the scope [`IDENTITY_SCOPE`]. [`Identities`] asks it, turns the
//! answer at once into the [`IdentityKey`] lookup value and forgets the
//! number; the value is cached per token subject ([`Cache`]: bounded, never
//! past the token's expiry, holding nothing but the keyed hash).
//!
//! Failures a caller can act on: the issuer cannot be reached or answers
//! with an error → [`TokenError::IssuerUnavailable`] (`UNAVAILABLE`, try
//! again); the issuer refuses the token at userinfo →
//! [`TokenError::UserinfoRefused`]; the answer names another subject or no
//! identity → [`TokenError::UserinfoSubjectMismatch`] /
//! [`TokenError::ApplicantWithoutIdentity`] (`UNAUTHENTICATED`: sign in again
//! granting the identity scope).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::error::TokenError;
use super::keys::{IssuerKeys, read_json};
use crate::identity::IdentityKey;

/// The scope under which an issuer releases an applicant's ID number or
/// credit code at its userinfo endpoint (and nowhere else).
pub const IDENTITY_SCOPE: &str = "yiciban.identity";

/// The most subjects whose keyed identity is held at once.
pub const MAX_CACHED_SUBJECTS: usize = 10_000;

/// The longest a keyed identity is held, whatever the token's lifetime.
pub const MAX_CACHE_AGE: Duration = Duration::from_secs(15 * 60);

/// The longest identity taken from a userinfo answer (an ID number has 18
/// characters, a credit code 18; anything much longer is not one).
const MAX_IDENTITY_CHARS: usize = 64;

/// Learns applicants' identities from the issuer's userinfo endpoint.
pub struct Identities {
    keys: Arc<IssuerKeys>,
    http: reqwest::Client,
    key: IdentityKey,
    /// The userinfo claim holding the number: `YICIBAN_OIDC_IDENTITY_CLAIM`.
    claim: String,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities").field("issuer", &self.keys.issuer()).field("claim", &self.claim).finish()
    }
}

impl Identities {
    /// Asks the userinfo endpoint of the issuer of `keys` for the claim
    /// `claim`, and keys what it answers with `key`.
    pub fn new(keys: Arc<IssuerKeys>, http: reqwest::Client, key: IdentityKey, claim: &str) -> Self {
        Identities { keys, http, key, claim: claim.to_owned(), cache: Mutex::new(Cache::new(MAX_CACHED_SUBJECTS)) }
    }

    /// The keyed hash of the identity of the applicant holding `token` (a
    /// verified access token whose `sub` is `subject`, valid for
    /// `lifetime` more), from the cache or the issuer's userinfo.
    pub async fn applicant_key(&self, token: &str, subject: &str, lifetime: Duration) -> Result<String, TokenError> {
        if let Some(key) = self.lock().get(subject, Instant::now()) {
            return Ok(key);
        }
        let endpoint = self.keys.discovery().await?.userinfo_endpoint.ok_or_else(|| {
            TokenError::IssuerUnavailable("the issuer's discovery document names no userinfo_endpoint".into())
        })?;
        let response = self
            .http
            .get(&endpoint)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| TokenError::IssuerUnavailable(format!("GET {endpoint}: {}", bounded(&e.to_string()))))?;
        if matches!(response.status(), reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN) {
            return Err(TokenError::UserinfoRefused);
        }
        let answer: Value =
            read_json(response, &endpoint).await.map_err(|e| TokenError::IssuerUnavailable(bounded(&e)))?;
        let key = keyed_identity(&answer, subject, &self.claim, &self.key)?;
        let now = Instant::now();
        self.lock().insert(subject, key.clone(), now, now + lifetime.min(MAX_CACHE_AGE));
        Ok(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Seconds since the Unix epoch (a token's `exp` is in them).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// At most 200 characters of an error (it is answered to the caller).
fn bounded(text: &str) -> String {
    text.chars().take(200).collect()
}

/// The keyed hash of the identity a userinfo answer gives for `subject`:
/// the answer must name the same subject (OpenID Connect Core §5.3.2) and
/// carry `claim` as a non-empty string of at most 64 characters.
pub fn keyed_identity(answer: &Value, subject: &str, claim: &str, key: &IdentityKey) -> Result<String, TokenError> {
    if answer.get("sub").and_then(Value::as_str) != Some(subject) {
        return Err(TokenError::UserinfoSubjectMismatch);
    }
    let identity = claim
        .split('.')
        .try_fold(answer, |value, name| value.get(name))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::ApplicantWithoutIdentity)?;
    if identity.chars().count() > MAX_IDENTITY_CHARS {
        return Err(TokenError::ClaimTooLong("identity"));
    }
    Ok(key.lookup(identity))
}

/// Keyed identities by token subject, each until its expiry; at most
/// `capacity` of them (when full, expired entries go first, then the one
/// expiring soonest). The time is given, so it is tested without waiting.
#[derive(Debug)]
pub struct Cache {
    capacity: usize,
    entries: HashMap<String, (String, Instant)>,
}

impl Cache {
    /// An empty cache of at most `capacity` subjects (at least one).
    pub fn new(capacity: usize) -> Self {
        Cache { capacity: capacity.max(1), entries: HashMap::new() }
    }

    /// The keyed identity of `subject` if held and not expired at `now`.
    pub fn get(&self, subject: &str, now: Instant) -> Option<String> {
        self.entries.get(subject).filter(|(_, until)| now < *until).map(|(key, _)| key.clone())
    }

    /// Holds `key` for `subject` from `now` until `until`.
    pub fn insert(&mut self, subject: &str, key: String, now: Instant, until: Instant) {
        if !self.entries.contains_key(subject) && self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, expiry)| *expiry > now);
            if self.entries.len() >= self.capacity {
                let soonest = self.entries.iter().min_by_key(|(_, (_, expiry))| *expiry).map(|(s, _)| s.clone());
                if let Some(soonest) = soonest {
                    self.entries.remove(&soonest);
                }
            }
        }
        self.entries.insert(subject.to_owned(), (key, until));
    }

    /// How many subjects are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no subject is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;

    fn key() -> IdentityKey {
        IdentityKey::new(&SecretString::from("k"))
    }

    #[test]
    fn a_userinfo_answer_becomes_the_keyed_hash_of_its_identity() {
        let answer = json!({"sub": "5f0c", "id_number": " 11010519491231002x "});
        let keyed = keyed_identity(&answer, "5f0c", "id_number", &key()).unwrap();
        assert_eq!(keyed, key().lookup("11010519491231002X"));
        assert!(!keyed.contains("110105"));
        let nested = json!({"sub": "5f0c", "person": {"certNo": "91350100M000100Y43"}});
        assert_eq!(
            keyed_identity(&nested, "5f0c", "person.certNo", &key()).unwrap(),
            key().lookup("91350100M000100Y43")
        );
    }

    #[test]
    fn an_answer_for_another_subject_or_without_the_identity_is_refused() {
        let k = key();
        let other = json!({"sub": "someone-else", "id_number": "11010519491231002X"});
        assert_eq!(keyed_identity(&other, "5f0c", "id_number", &k), Err(TokenError::UserinfoSubjectMismatch));
        assert_eq!(
            keyed_identity(&json!({"id_number": "11010519491231002X"}), "5f0c", "id_number", &k),
            Err(TokenError::UserinfoSubjectMismatch)
        );
        for without in
            [json!({"sub": "5f0c"}), json!({"sub": "5f0c", "id_number": " "}), json!({"sub": "5f0c", "id_number": 7})]
        {
            assert_eq!(keyed_identity(&without, "5f0c", "id_number", &k), Err(TokenError::ApplicantWithoutIdentity));
        }
        let long = json!({"sub": "5f0c", "id_number": "1".repeat(65)});
        assert_eq!(keyed_identity(&long, "5f0c", "id_number", &k), Err(TokenError::ClaimTooLong("identity")));
    }

    #[test]
    fn a_cached_identity_is_held_until_its_expiry_only() {
        let mut cache = Cache::new(4);
        let now = Instant::now();
        cache.insert("a", "ka".into(), now, now + Duration::from_secs(60));
        assert_eq!(cache.get("a", now).as_deref(), Some("ka"));
        assert_eq!(cache.get("a", now + Duration::from_secs(59)).as_deref(), Some("ka"));
        assert_eq!(cache.get("a", now + Duration::from_secs(60)), None);
        assert_eq!(cache.get("b", now), None);
    }

    #[test]
    fn a_full_cache_drops_the_expired_then_the_soonest_to_expire() {
        let mut cache = Cache::new(2);
        let now = Instant::now();
        cache.insert("gone", "k0".into(), now, now);
        cache.insert("late", "k1".into(), now, now + Duration::from_secs(600));
        cache.insert("new", "k2".into(), now, now + Duration::from_secs(300));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("gone", now), None);
        cache.insert("newer", "k3".into(), now, now + Duration::from_secs(900));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("new", now), None, "the soonest to expire made room");
        assert_eq!(cache.get("late", now).as_deref(), Some("k1"));
        assert_eq!(cache.get("newer", now).as_deref(), Some("k3"));
        // a subject already held is replaced, not counted twice
        cache.insert("late", "k1b".into(), now, now + Duration::from_secs(60));
        assert_eq!((cache.len(), cache.get("late", now).as_deref()), (2, Some("k1b")));
    }
}

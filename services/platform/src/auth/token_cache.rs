//! Tokens this service verified already (ADR 0041): a caller presents the
//! same access token on every call until it expires, and checking its
//! signature again each time was a large part of what a call cost
//! (docs/BENCHMARKS.md). A token is remembered by the SHA-256 of its exact
//! text, with what its verification found, until its `exp` plus the leeway
//! the verification itself allows — never longer than the token would have
//! been accepted — and the verifier answers from it only while the issuer's
//! key that verified the token is still the one it holds
//! ([`super::verify`]). A token that differs by one byte (another
//! signature, a tampered claim) is another entry and is verified in full; a
//! refusal is never remembered.
//!
//! Bounded: at most [`CAPACITY`] tokens; when full, the expired ones go,
//! and if none has expired, all of them (the next calls verify again).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::Digest as _;

/// The most tokens remembered at once (each a few hundred bytes).
pub const CAPACITY: usize = 4096;

/// What verifying a token found, kept for its next presentations.
#[derive(Debug, Clone)]
pub struct Remembered<T> {
    /// The verification's result.
    pub value: T,
    /// Unix seconds after which the token is no longer accepted (its `exp`
    /// plus the leeway).
    pub until: u64,
}

/// Verified tokens by the hash of their text.
#[derive(Debug, Default)]
pub struct TokenCache<T> {
    entries: Mutex<HashMap<[u8; 32], Remembered<T>>>,
}

/// The key of a token: the SHA-256 of its text.
pub fn key_of(token: &str) -> [u8; 32] {
    sha2::Sha256::digest(token.as_bytes()).into()
}

impl<T: Clone> TokenCache<T> {
    /// A new, empty cache.
    pub fn new() -> Self {
        TokenCache { entries: Mutex::new(HashMap::new()) }
    }

    /// What verifying this token found, if it was verified before and is
    /// still within its lifetime at `now` (unix seconds).
    pub fn get(&self, key: &[u8; 32], now: u64) -> Option<T> {
        let mut entries = self.entries.lock().expect("token cache lock");
        match entries.get(key) {
            Some(r) if now <= r.until => Some(r.value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers a verified token until `until` (unix seconds), unless that
    /// has passed at `now`.
    pub fn put(&self, key: [u8; 32], value: T, until: u64, now: u64) {
        if until < now {
            return;
        }
        let mut entries = self.entries.lock().expect("token cache lock");
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, r| now <= r.until);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, Remembered { value, until });
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("token cache lock").len()
    }

    /// Whether no token is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_until_its_time_and_never_after() {
        let cache = TokenCache::new();
        let key = key_of("header.claims.signature");
        cache.put(key, "caller", 1_000, 900);
        assert_eq!(cache.get(&key, 900), Some("caller"));
        assert_eq!(cache.get(&key, 1_000), Some("caller"), "the last accepted second");
        assert_eq!(cache.get(&key, 1_001), None, "expired");
        assert!(cache.is_empty(), "an expired token is forgotten when it is looked up");
    }

    #[test]
    fn a_token_differing_by_one_byte_is_another_token() {
        let cache = TokenCache::new();
        cache.put(key_of("header.claims.signaturE"), "caller", 1_000, 900);
        assert_eq!(cache.get(&key_of("header.claims.signature"), 900), None);
    }

    #[test]
    fn a_token_expired_already_is_not_remembered() {
        let cache = TokenCache::new();
        cache.put(key_of("t"), "caller", 899, 900);
        assert!(cache.is_empty());
    }

    #[test]
    fn the_cache_stays_bounded_dropping_expired_tokens_first() {
        let cache = TokenCache::new();
        for i in 0..CAPACITY {
            // Half of them expire at 950.
            let until = if i % 2 == 0 { 950 } else { 2_000 };
            cache.put(key_of(&format!("t{i}")), i, until, 900);
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put(key_of("new"), 0, 2_000, 1_000);
        assert_eq!(cache.len(), CAPACITY / 2 + 1, "the expired half went, the new one came");
        assert_eq!(cache.get(&key_of("t1"), 1_000), Some(1), "an unexpired one stayed");
        for i in 0..CAPACITY {
            cache.put(key_of(&format!("u{i}")), i, 3_000, 1_000);
        }
        assert!(cache.len() <= CAPACITY, "never more than the capacity");
    }
}

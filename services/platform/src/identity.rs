//! The one keyed hash by which services recognise a person or a company
//! without keeping its number: HMAC-SHA256, under `YICIBAN_IDENTITY_KEY`, of
//! the identity (resident ID number or unified social credit code) trimmed
//! and upper-cased. Intake's case index and credit list, issuance's own-case
//! check and collectors, and tracking's read model all use it, so one
//! applicant has one lookup value everywhere (ADR 0012).

use hmac::{Hmac, KeyInit as _, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use crate::auth::Caller;

/// The development key; never used where `YICIBAN_IDENTITY_KEY` is set.
pub const DEV_IDENTITY_KEY: &str = "yiciban-local-development-identity-key-change-me";

/// The key of the identity lookups, ready to hash (the key's HMAC pads are
/// computed once, not per lookup). Its `Debug` shows nothing of the key.
///
/// An ID number has little entropy (region, birth date, a sequence number and
/// a check digit): anyone holding the key can find the number behind a lookup
/// value by trying them all, and without the key nobody can. Keep it secret
/// and keep it the same: changing it orphans every stored lookup value.
#[derive(Clone)]
pub struct IdentityKey {
    mac: Hmac<Sha256>,
}

impl IdentityKey {
    /// A key from its secret (any length; HMAC hashes a key longer than a
    /// SHA-256 block).
    pub fn new(key: &SecretString) -> Self {
        let mac = Hmac::new_from_slice(key.expose_secret().as_bytes()).expect("HMAC takes a key of any length");
        IdentityKey { mac }
    }

    /// The lookup value of `identity`: 64 lower-case hex characters, the same
    /// for any spacing around it and any letter case (`…123x` and ` …123X`).
    pub fn lookup(&self, identity: &str) -> String {
        hex::encode(self.keyed(identity).finalize().into_bytes())
    }

    /// Whether `stored` is the lookup value of `identity`, compared in constant
    /// time. An empty or malformed `stored` matches nothing.
    pub fn matches(&self, identity: &str, stored: &str) -> bool {
        let Ok(code) = hex::decode(stored) else { return false };
        self.keyed(identity).verify_slice(&code).is_ok()
    }

    /// Whether the caller is the applicant behind `stored`: its keyed
    /// identity (learned from the issuer's userinfo, see
    /// [`crate::auth::userinfo`]) equals `stored`, compared in constant time;
    /// false for a caller without one and for an empty `stored`.
    pub fn claimed_by(&self, caller: &Caller, stored: &str) -> bool {
        caller.applicant_key.as_deref().is_some_and(|own| !stored.is_empty() && same_lookup(own, stored))
    }

    fn keyed(&self, identity: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(identity.trim().to_ascii_uppercase().as_bytes());
        mac
    }
}

/// Two lookup values equal, compared without an early exit (their length is
/// not secret: it is always 64).
pub fn same_lookup(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> IdentityKey {
        IdentityKey::new(&SecretString::from(secret))
    }

    #[test]
    fn a_lookup_is_hmac_sha256_of_the_upper_cased_identity() {
        // Computed independently:
        // printf %s 15020319900101123X | openssl dgst -sha256 -hmac Jefe
        let expected = "383740d62e2061c42921ba693a8f01d60d91a949855012a7eca9ff8b65aabbd4";
        assert_eq!(key("Jefe").lookup("15020319900101123X"), expected);
        assert_eq!(key("Jefe").lookup(" 15020319900101123x\n"), expected);
    }

    #[test]
    fn a_key_longer_than_a_block_is_hashed_first_as_rfc_2104_says() {
        // printf %s 91350100M000100Y43 | openssl dgst -sha256 -hmac kkk…k (100 × k)
        assert_eq!(
            key(&"k".repeat(100)).lookup("91350100M000100Y43"),
            "46b556211f267d5bca0b6aaa321ed2e0b674e6187de093f0ca529af033143f50"
        );
    }

    #[test]
    fn another_key_gives_another_lookup() {
        assert_ne!(key("one").lookup("15020319900101123X"), key("two").lookup("15020319900101123X"));
    }

    #[test]
    fn a_stored_lookup_matches_its_identity_only() {
        let k = key("k");
        let stored = k.lookup("15020319900101123X");
        assert!(k.matches("15020319900101123x ", &stored));
        assert!(!k.matches("150203199001011234", &stored));
        assert!(!key("other").matches("15020319900101123X", &stored));
        for malformed in ["", "zz", &stored[..62]] {
            assert!(!k.matches("15020319900101123X", malformed), "{malformed:?}");
        }
    }

    #[test]
    fn only_a_caller_with_the_same_keyed_identity_is_the_one_behind_a_stored_lookup() {
        use crate::auth::Role;
        let k = key("k");
        let stored = k.lookup("15020319900101123X");
        let caller = |role, identity: Option<&str>| Caller {
            subject: "someone".into(),
            role,
            department: None,
            applicant_key: identity.map(|i| k.lookup(i)),
            cause: None,
        };
        assert!(k.claimed_by(&caller(Role::Applicant, Some("15020319900101123x")), &stored));
        assert!(!k.claimed_by(&caller(Role::Applicant, Some("150203199001011234")), &stored));
        assert!(!k.claimed_by(&caller(Role::Clerk, None), &stored));
        assert!(!k.claimed_by(&caller(Role::Applicant, Some("15020319900101123X")), ""));
        assert!(!k.claimed_by(&caller(Role::Applicant, Some("15020319900101123X")), &stored[..63]));
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        assert_eq!(format!("{:?}", key("very-secret")), "IdentityKey(..)");
    }
}

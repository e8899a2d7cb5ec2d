//! The issuer's signing keys: ES256 (P-256) key pairs generated in the
//! process, never stored; the current one signs, the previous ones stay in
//! the JWKS until retired so tokens they signed still verify.

use std::sync::RwLock;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::EncodePrivateKey as _;
use rand::RngCore as _;

/// The signing algorithm of every token.
pub const ALGORITHM: Algorithm = Algorithm::ES256;

/// One key pair: the private half for signing and the public JWK.
struct KeyPair {
    kid: String,
    private: EncodingKey,
    public: Jwk,
}

impl KeyPair {
    /// A fresh P-256 key pair from the operating system's randomness; its
    /// `kid` is the RFC 7638 thumbprint of the public key.
    fn generate() -> KeyPair {
        let secret = loop {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            // A 32-byte string is a valid scalar except with probability ~2^-128.
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let der = secret.to_pkcs8_der().expect("a P-256 secret key encodes as PKCS#8");
        let private = EncodingKey::from_ec_der(der.as_bytes());
        let mut public = Jwk::from_encoding_key(&private, ALGORITHM).expect("the public half of a fresh P-256 key");
        let kid = public.thumbprint(ThumbprintHash::SHA256).expect("thumbprint of an EC JWK");
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        KeyPair { kid, private, public }
    }
}

/// The current key and the previous ones still published.
pub struct KeySet {
    /// Newest first; the first signs.
    pairs: RwLock<Vec<KeyPair>>,
}

impl KeySet {
    /// A key set with one fresh key.
    pub fn generate() -> KeySet {
        KeySet { pairs: RwLock::new(vec![KeyPair::generate()]) }
    }

    /// Signs `claims` with the current key (header `alg`, `kid`, `typ`).
    pub fn sign(&self, typ: &str, claims: &serde_json::Map<String, serde_json::Value>) -> String {
        let pairs = self.pairs.read().expect("key set lock");
        let current = &pairs[0];
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(typ.into());
        header.kid = Some(current.kid.clone());
        jsonwebtoken::encode(&header, claims, &current.private).expect("signing with a valid P-256 key")
    }

    /// The `kid` of the current key.
    #[cfg(test)]
    pub fn current_kid(&self) -> String {
        self.pairs.read().expect("key set lock")[0].kid.clone()
    }

    /// The public keys, newest first (the `/jwks` document).
    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: self.pairs.read().expect("key set lock").iter().map(|p| p.public.clone()).collect() }
    }

    /// The claims of `token` when one of the published keys signed it, its
    /// header `typ` is `typ`, `iss` is `issuer` and it has not expired. Any
    /// audience: the userinfo endpoint takes every access token of the
    /// issuer, as Keycloak's does.
    pub fn verify(&self, token: &str, typ: &str, issuer: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != ALGORITHM || header.typ.as_deref() != Some(typ) {
            return None;
        }
        let kid = header.kid?;
        let key = {
            let pairs = self.pairs.read().expect("key set lock");
            DecodingKey::from_jwk(&pairs.iter().find(|p| p.kid == kid)?.public).ok()?
        };
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        jsonwebtoken::decode(token, &key, &validation).ok().map(|data| data.claims)
    }

    /// A new current key; the previous ones stay published.
    pub fn rotate(&self) {
        let fresh = KeyPair::generate();
        self.pairs.write().expect("key set lock").insert(0, fresh);
    }

    /// Publishes only the current key.
    pub fn retire_old_keys(&self) {
        self.pairs.write().expect("key set lock").truncate(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_has_only_public_parameters_and_rotation_keeps_the_old_key() {
        let keys = KeySet::generate();
        let first = keys.current_kid();
        let json = serde_json::to_value(keys.jwks()).unwrap();
        let key = &json["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], first.as_str());
        assert!(key.get("d").is_none(), "no private part: {key}");

        keys.rotate();
        assert_ne!(keys.current_kid(), first);
        let kids: Vec<_> = keys.jwks().keys.iter().filter_map(|k| k.common.key_id.clone()).collect();
        assert_eq!(kids, [keys.current_kid(), first]);
        keys.retire_old_keys();
        assert_eq!(keys.jwks().keys.len(), 1);
    }

    #[test]
    fn a_token_verifies_with_its_type_and_issuer_under_a_published_key_only() {
        let keys = KeySet::generate();
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), "http://i".into());
        claims.insert("sub".into(), "s".into());
        claims.insert("exp".into(), (crate::claims::now() + 60).into());
        let token = keys.sign("at+jwt", &claims);
        assert_eq!(keys.verify(&token, "at+jwt", "http://i").unwrap()["sub"], "s");
        assert!(keys.verify(&token, "JWT", "http://i").is_none(), "another type");
        assert!(keys.verify(&token, "at+jwt", "http://other").is_none(), "another issuer");
        assert!(KeySet::generate().verify(&token, "at+jwt", "http://i").is_none(), "another issuer's key");
        claims.insert("exp".into(), (crate::claims::now() - 1).into());
        assert!(keys.verify(&keys.sign("at+jwt", &claims), "at+jwt", "http://i").is_none(), "expired");
        keys.rotate();
        keys.retire_old_keys();
        assert!(keys.verify(&token, "at+jwt", "http://i").is_none(), "a retired key");
    }

    #[test]
    fn every_key_set_is_fresh() {
        assert_ne!(KeySet::generate().current_kid(), KeySet::generate().current_kid());
    }
}

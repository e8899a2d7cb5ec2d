//! Sealing one value under a data key with an authenticated cipher:
//! AES-256-GCM by default, SM4-GCM (GB/T 32907 in Galois/counter mode)
//! where national algorithms are required. Pure: no I/O.
//!
//! A sealed value is self-describing, so values sealed under either
//! algorithm, before and after a change of the default, stay readable:
//!
//! ```text
//! [format = 1][algorithm id][12-byte random nonce][ciphertext ‖ 16-byte tag]
//! ```
//!
//! The associated data (e.g. which applicant and which field) is
//! authenticated, not stored: a value moved to another applicant or field
//! does not open.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead as _, Generate as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use zeroize::Zeroizing;

use crate::PrivacyError;

/// SM4 in Galois/counter mode with a 96-bit nonce.
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// The version of the sealed layout.
const FORMAT: u8 = 1;
/// Nonce length of both ciphers.
const NONCE: usize = 12;
/// Format, algorithm, nonce.
const HEADER: usize = 2 + NONCE;

/// An authenticated cipher a data key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// AES-256 in GCM: the default.
    Aes256Gcm,
    /// SM4 in GCM: where national algorithms are required (等保, 密评).
    Sm4Gcm,
}

impl Algorithm {
    fn id(self) -> u8 {
        match self {
            Algorithm::Aes256Gcm => 1,
            Algorithm::Sm4Gcm => 2,
        }
    }

    fn from_id(id: u8) -> Option<Algorithm> {
        match id {
            1 => Some(Algorithm::Aes256Gcm),
            2 => Some(Algorithm::Sm4Gcm),
            _ => None,
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Algorithm::Aes256Gcm => 32,
            Algorithm::Sm4Gcm => 16,
        }
    }

    /// The configuration name: `aes-256-gcm` or `sm4-gcm`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Aes256Gcm => "aes-256-gcm",
            Algorithm::Sm4Gcm => "sm4-gcm",
        }
    }

    /// Reads a configuration name (see [`Algorithm::name`]).
    pub fn parse(name: &str) -> Result<Algorithm, PrivacyError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "aes-256-gcm" => Ok(Algorithm::Aes256Gcm),
            "sm4-gcm" => Ok(Algorithm::Sm4Gcm),
            other => {
                Err(PrivacyError::Config(format!("unknown cipher {other:?}: aes-256-gcm (the default) or sm4-gcm")))
            }
        }
    }
}

/// A secret key for one algorithm, wiped from memory when dropped; its
/// `Debug` shows the algorithm only.
#[derive(Clone)]
pub struct SecretKey {
    algorithm: Algorithm,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({}, ..)", self.algorithm.name())
    }
}

impl SecretKey {
    /// A fresh random key from the system's secure generator.
    pub fn generate(algorithm: Algorithm) -> SecretKey {
        let bytes = match algorithm {
            Algorithm::Aes256Gcm => <[u8; 32]>::generate().to_vec(),
            Algorithm::Sm4Gcm => <[u8; 16]>::generate().to_vec(),
        };
        SecretKey { algorithm, bytes: Zeroizing::new(bytes) }
    }

    /// A key from its bytes, which must be the algorithm's key length.
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<SecretKey, PrivacyError> {
        if bytes.len() != algorithm.key_len() {
            return Err(PrivacyError::Config(format!(
                "a {} key is {} bytes, not {}",
                algorithm.name(),
                algorithm.key_len(),
                bytes.len()
            )));
        }
        Ok(SecretKey { algorithm, bytes: Zeroizing::new(bytes.to_vec()) })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The raw key, for wrapping it under a key-encryption key.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Seals `plaintext`, binding `aad` (authenticated, not stored).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        self.seal_with(<[u8; NONCE]>::generate(), plaintext, aad)
    }

    /// Seals under a given nonce (a nonce must never repeat under one key:
    /// only [`SecretKey::seal`]'s random ones and known-answer tests).
    fn seal_with(&self, nonce: [u8; NONCE], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let payload = Payload { msg: plaintext, aad };
        let sealed = match self.algorithm {
            Algorithm::Aes256Gcm => {
                Aes256Gcm::new_from_slice(&self.bytes).expect("key length checked").encrypt(&nonce.into(), payload)
            }
            Algorithm::Sm4Gcm => {
                Sm4Gcm::new_from_slice(&self.bytes).expect("key length checked").encrypt(&nonce.into(), payload)
            }
        }
        .expect("a value far below GCM's length limit");
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.extend_from_slice(&[FORMAT, self.algorithm.id()]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed under this key with the same `aad`. Fails for a
    /// value sealed under another key, algorithm or associated data, and for
    /// any change to its bytes.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, PrivacyError> {
        let (format, algorithm) = match sealed {
            [format, algorithm, ..] if sealed.len() >= HEADER + 16 => (*format, *algorithm),
            _ => return Err(PrivacyError::Malformed("shorter than a sealed value".into())),
        };
        if format != FORMAT {
            return Err(PrivacyError::Malformed(format!("sealed format {format} is not known")));
        }
        match Algorithm::from_id(algorithm) {
            Some(a) if a == self.algorithm => {}
            Some(a) => {
                return Err(PrivacyError::Malformed(format!(
                    "sealed with {}, the key is {}",
                    a.name(),
                    self.algorithm.name()
                )));
            }
            None => return Err(PrivacyError::Malformed(format!("cipher id {algorithm} is not known"))),
        }
        let nonce: [u8; NONCE] = sealed[2..HEADER].try_into().expect("length checked");
        let payload = Payload { msg: &sealed[HEADER..], aad };
        match self.algorithm {
            Algorithm::Aes256Gcm => {
                Aes256Gcm::new_from_slice(&self.bytes).expect("key length checked").decrypt(&nonce.into(), payload)
            }
            Algorithm::Sm4Gcm => {
                Sm4Gcm::new_from_slice(&self.bytes).expect("key length checked").decrypt(&nonce.into(), payload)
            }
        }
        .map_err(|_| PrivacyError::Unauthentic)
    }
}

/// The wire's view of a data key: `ApplicationSubmitted`'s personal part
/// is sealed and opened through it (`yiciban_proto::sealed`).
impl yiciban_proto::sealed::DataKey for SecretKey {
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        SecretKey::seal(self, plaintext, aad)
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        SecretKey::open(self, sealed, aad).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ciphers_open_what_they_sealed_and_nothing_else() {
        for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
            let key = SecretKey::generate(algorithm);
            let sealed = key.seal("王小明 150203199001011234".as_bytes(), b"applicant-1/name");
            assert_eq!(key.open(&sealed, b"applicant-1/name").unwrap(), "王小明 150203199001011234".as_bytes());
            assert!(!sealed.windows(9).any(|w| w == "王小明".as_bytes()), "no clear text in the sealed value");
            // Another applicant's or field's associated data, another key,
            // a flipped bit: refused.
            assert!(matches!(key.open(&sealed, b"applicant-2/name"), Err(PrivacyError::Unauthentic)));
            assert!(matches!(
                SecretKey::generate(algorithm).open(&sealed, b"applicant-1/name"),
                Err(PrivacyError::Unauthentic)
            ));
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 1;
                assert!(key.open(&bad, b"applicant-1/name").is_err(), "{algorithm:?}: bit flipped at {i} accepted");
            }
            assert!(key.open(&sealed[..HEADER + 15], b"applicant-1/name").is_err());
        }
    }

    /// RFC 8998, appendix A.1: SM4-GCM's known answer.
    #[test]
    fn sm4_gcm_gives_rfc_8998s_known_answer() {
        let hex = |s: &str| {
            (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<u8>>()
        };
        let key = SecretKey::from_bytes(Algorithm::Sm4Gcm, &hex("0123456789ABCDEFFEDCBA9876543210")).unwrap();
        let nonce: [u8; NONCE] = hex("00001234567800000000ABCD").try_into().unwrap();
        let aad = hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plaintext = hex(&[
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB",
            "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF",
            "EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        ]
        .concat());
        let sealed = key.seal_with(nonce, &plaintext, &aad);
        let expected = hex(&[
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC",
        ]
        .concat());
        assert_eq!(&sealed[HEADER..], expected.as_slice());
        assert_eq!(key.open(&sealed, &aad).unwrap(), plaintext);
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let key = SecretKey::generate(Algorithm::Aes256Gcm);
        assert_ne!(key.seal(b"x", b""), key.seal(b"x", b""));
    }

    #[test]
    fn a_value_sealed_with_one_algorithm_is_named_when_opened_with_the_other() {
        let aes = SecretKey::generate(Algorithm::Aes256Gcm);
        let sm4 = SecretKey::from_bytes(Algorithm::Sm4Gcm, &aes.expose()[..16]).unwrap();
        let err = sm4.open(&aes.seal(b"x", b""), b"").unwrap_err();
        assert_eq!(err.to_string(), "not a sealed value: sealed with aes-256-gcm, the key is sm4-gcm");
    }

    #[test]
    fn keys_have_their_algorithms_length_and_never_show() {
        assert!(SecretKey::from_bytes(Algorithm::Sm4Gcm, &[0; 32]).is_err());
        let key = SecretKey::generate(Algorithm::Sm4Gcm);
        assert_eq!(key.expose().len(), 16);
        assert_eq!(format!("{key:?}"), "SecretKey(sm4-gcm, ..)");
        assert_eq!(Algorithm::parse(" SM4-GCM ").unwrap(), Algorithm::Sm4Gcm);
        assert!(Algorithm::parse("des").is_err());
    }
}

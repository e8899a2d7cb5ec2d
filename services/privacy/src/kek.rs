//! Key-encryption keys: held outside the database (a Kubernetes Secret
//! mounted as a file, or a KMS behind [`KeyEncryption`]), they wrap the data
//! keys the database stores. Whoever reads the database without them reads
//! no personal data.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::PrivacyError;
use crate::seal::{Algorithm, SecretKey};

/// A data key as the database stores it: wrapped, and by which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The key-encryption key that wrapped it.
    pub kek_id: String,
    /// The sealed data key.
    pub bytes: Vec<u8>,
}

/// Wraps and unwraps data keys: the interface a KMS implements.
pub trait KeyEncryption: Send + Sync + std::fmt::Debug {
    /// Wraps `key` under the current key-encryption key, binding `aad`.
    fn wrap(&self, key: &SecretKey, aad: &[u8]) -> Result<Wrapped, PrivacyError>;
    /// Unwraps a data key of `algorithm` wrapped with the same `aad`, by
    /// whichever key-encryption key wrapped it (rotated ones included).
    fn unwrap(&self, wrapped: &Wrapped, algorithm: Algorithm, aad: &[u8]) -> Result<SecretKey, PrivacyError>;
}

/// Key-encryption keys read from a file: one per line, `<id> <key in
/// base64>`, the first line the current one (new data keys are wrapped
/// under it), the others kept so that data keys wrapped before a rotation
/// still unwrap. Blank lines and `#` comments are skipped. The keys are of
/// the configured algorithm (32 bytes for AES-256-GCM, 16 for SM4-GCM).
#[derive(Debug, Clone)]
pub struct FileKeys {
    keys: Vec<(String, SecretKey)>,
}

impl FileKeys {
    /// Reads the keys from `path` (mode and ownership are the Secret's).
    pub fn from_file(path: &std::path::Path, algorithm: Algorithm) -> Result<FileKeys, PrivacyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PrivacyError::Config(format!("reading the key-encryption keys from {}: {e}", path.display()))
        })?;
        FileKeys::parse(&text, algorithm).map_err(|e| {
            PrivacyError::Config(format!(
                "{} ({})",
                e.to_string().trim_start_matches("privacy configuration: "),
                path.display()
            ))
        })
    }

    /// Reads the keys from the file's text; every problem names its line,
    /// never the key.
    pub fn parse(text: &str, algorithm: Algorithm) -> Result<FileKeys, PrivacyError> {
        let mut keys: Vec<(String, SecretKey)> = Vec::new();
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((id, encoded)) = line.split_once(char::is_whitespace) else {
                return Err(PrivacyError::Config(format!("line {n}: expected `<id> <key in base64>`")));
            };
            if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(PrivacyError::Config(format!("line {n}: a key id is 1..64 of A-Z a-z 0-9 - _ .")));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(PrivacyError::Config(format!("line {n}: key id {id} given twice")));
            }
            let bytes = STANDARD
                .decode(encoded.trim())
                .map_err(|_| PrivacyError::Config(format!("line {n}: the key of {id} is not base64")))?;
            let key = SecretKey::from_bytes(algorithm, &bytes)
                .map_err(|e| PrivacyError::Config(format!("line {n}: key {id}: {e}")))?;
            keys.push((id.to_owned(), key));
        }
        if keys.is_empty() {
            return Err(PrivacyError::Config("no key-encryption key given".into()));
        }
        Ok(FileKeys { keys })
    }

    /// The id of the key new data keys are wrapped under.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }
}

impl KeyEncryption for FileKeys {
    fn wrap(&self, key: &SecretKey, aad: &[u8]) -> Result<Wrapped, PrivacyError> {
        let (id, kek) = &self.keys[0];
        Ok(Wrapped { kek_id: id.clone(), bytes: kek.seal(key.expose(), aad) })
    }

    fn unwrap(&self, wrapped: &Wrapped, algorithm: Algorithm, aad: &[u8]) -> Result<SecretKey, PrivacyError> {
        let (_, kek) = self.keys.iter().find(|(id, _)| *id == wrapped.kek_id).ok_or_else(|| {
            PrivacyError::Config(format!("the key-encryption key {} is no longer configured", wrapped.kek_id))
        })?;
        SecretKey::from_bytes(algorithm, &kek.open(&wrapped.bytes, aad)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, algorithm: Algorithm) -> String {
        format!("{id} {}\n", STANDARD.encode(SecretKey::generate(algorithm).expose()))
    }

    #[test]
    fn data_keys_wrapped_before_a_rotation_still_unwrap() {
        let old = FileKeys::parse(&line("2026-01", Algorithm::Aes256Gcm), Algorithm::Aes256Gcm).unwrap();
        let data = SecretKey::generate(Algorithm::Aes256Gcm);
        let wrapped = old.wrap(&data, b"subject-1").unwrap();
        assert_eq!(wrapped.kek_id, "2026-01");
        // Rotated: a new key first, the old one kept.
        let old_line = {
            let (id, key) = &old.keys[0];
            format!("{id} {}\n", STANDARD.encode(key.expose()))
        };
        let rotated = FileKeys::parse(
            &format!("# rotated\n{}{old_line}", line("2026-07", Algorithm::Aes256Gcm)),
            Algorithm::Aes256Gcm,
        )
        .unwrap();
        assert_eq!(rotated.current_id(), "2026-07");
        let back = rotated.unwrap(&wrapped, Algorithm::Aes256Gcm, b"subject-1").unwrap();
        assert_eq!(back.expose(), data.expose());
        assert_eq!(rotated.wrap(&data, b"subject-1").unwrap().kek_id, "2026-07");
        // Bound to its subject.
        assert!(rotated.unwrap(&wrapped, Algorithm::Aes256Gcm, b"subject-2").is_err());
        // A retired key: named.
        let gone = FileKeys::parse(&line("2026-07", Algorithm::Aes256Gcm), Algorithm::Aes256Gcm).unwrap();
        let err = gone.unwrap(&wrapped, Algorithm::Aes256Gcm, b"subject-1").unwrap_err();
        assert_eq!(err.to_string(), "privacy configuration: the key-encryption key 2026-01 is no longer configured");
    }

    #[test]
    fn sm4_keys_wrap_sm4_data_keys() {
        let keks = FileKeys::parse(&line("gm-1", Algorithm::Sm4Gcm), Algorithm::Sm4Gcm).unwrap();
        let data = SecretKey::generate(Algorithm::Sm4Gcm);
        let wrapped = keks.wrap(&data, b"s").unwrap();
        assert_eq!(keks.unwrap(&wrapped, Algorithm::Sm4Gcm, b"s").unwrap().expose(), data.expose());
    }

    #[test]
    fn a_bad_key_file_names_the_line_and_never_the_key() {
        let secret = STANDARD.encode([7u8; 31]);
        for (text, expected) in [
            ("", "no key-encryption key given"),
            ("only-an-id\n", "line 1: expected `<id> <key in base64>`"),
            ("k1 !!!\n", "line 1: the key of k1 is not base64"),
            (
                &format!("# c\nk1 {secret}\n") as &str,
                "line 2: key k1: privacy configuration: a aes-256-gcm key is 32 bytes, not 31",
            ),
            ("bad/id AAAA\n", "line 1: a key id is 1..64 of A-Z a-z 0-9 - _ ."),
        ] {
            let err = FileKeys::parse(text, Algorithm::Aes256Gcm).unwrap_err().to_string();
            assert!(err.ends_with(expected), "{err}");
            assert!(!err.contains(&secret));
        }
        let twice = format!("{}{}", line("a", Algorithm::Aes256Gcm), line("a", Algorithm::Aes256Gcm));
        assert!(
            FileKeys::parse(&twice, Algorithm::Aes256Gcm)
                .unwrap_err()
                .to_string()
                .ends_with("line 2: key id a given twice")
        );
    }
}

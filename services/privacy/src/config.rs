//! The privacy settings of a service that seals or opens data: where its
//! key-encryption keys are (`YICIBAN_KEK_FILE`, a file mounted from the
//! Kubernetes Secret `yiciban-kek` — `yiciban-webhooks-kek` for the webhook
//! service's secrets) and which cipher new data keys are
//! for (`YICIBAN_DATA_CIPHER`: `aes-256-gcm`, the default, or `sm4-gcm`).
//! Fails closed like the identity key (ADR 0012): outside
//! `YICIBAN_DEV_MODE` the file is required and the development key refused.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use yiciban_platform::config::{ConfigError, Source, dev_mode};

use crate::kek::{FileKeys, KeyEncryption};
use crate::seal::Algorithm;

/// The development key-encryption key (its first 16 bytes for SM4-GCM):
/// published here, so it protects nothing. Used only in development mode
/// when no key file is given (`make run`, the tests); refused outside it.
pub const DEV_KEK: &[u8; 32] = b"yiciban-development-kek-32-bytes";

/// The id of [`DEV_KEK`] in the wrapped keys it made.
const DEV_KEK_ID: &str = "dev";

/// What a service needs to seal and open personal data.
#[derive(Debug, Clone)]
pub struct PrivacyConfig {
    /// The key-encryption keys that wrap the data keys.
    pub keks: Arc<dyn KeyEncryption>,
    /// The cipher of new data keys (existing ones keep theirs).
    pub algorithm: Algorithm,
}

impl PrivacyConfig {
    /// Reads `YICIBAN_DATA_CIPHER` and `YICIBAN_KEK_FILE`.
    pub fn from_source(src: &dyn Source) -> Result<PrivacyConfig, ConfigError> {
        let cipher = src.get("YICIBAN_DATA_CIPHER").unwrap_or_else(|| Algorithm::Aes256Gcm.name().to_owned());
        let algorithm = Algorithm::parse(&cipher).map_err(|e| ConfigError {
            variable: "YICIBAN_DATA_CIPHER".into(),
            value: cipher.clone(),
            reason: e.to_string(),
        })?;
        let refuse = |value: &str, reason: String| ConfigError {
            variable: "YICIBAN_KEK_FILE".into(),
            value: value.to_owned(),
            reason,
        };
        let dev = dev_mode(src)?;
        let keks = match src.get("YICIBAN_KEK_FILE").filter(|v| !v.trim().is_empty()) {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| refuse(&path, format!("the key-encryption keys cannot be read: {e}")))?;
                if !dev && text.contains(&STANDARD.encode(&DEV_KEK[..algorithm.key_len()])) {
                    return Err(refuse(
                        &path,
                        "it holds the development key-encryption key, published in the source; refused outside \
                         YICIBAN_DEV_MODE"
                            .into(),
                    ));
                }
                FileKeys::parse(&text, algorithm).map_err(|e| refuse(&path, e.to_string()))?
            }
            None if dev => development_keys(algorithm),
            None => {
                return Err(refuse(
                    "",
                    "the key-encryption keys (a file from the service's Secret: yiciban-kek, or \
                     yiciban-webhooks-kek for the webhook service) are required outside YICIBAN_DEV_MODE"
                        .into(),
                ));
            }
        };
        Ok(PrivacyConfig { keks: Arc::new(keks), algorithm })
    }

    /// The development settings: [`DEV_KEK`] and `algorithm` (tests).
    pub fn development(algorithm: Algorithm) -> PrivacyConfig {
        PrivacyConfig { keks: Arc::new(development_keys(algorithm)), algorithm }
    }
}

fn development_keys(algorithm: Algorithm) -> FileKeys {
    let line = format!("{DEV_KEK_ID} {}\n", STANDARD.encode(&DEV_KEK[..algorithm.key_len()]));
    FileKeys::parse(&line, algorithm).expect("the development key is well formed")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn key_file(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("yiciban-kek-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn development_mode_falls_back_to_the_published_key_and_nothing_else_does() {
        let dev = PrivacyConfig::from_source(&env(&[("YICIBAN_DEV_MODE", "true")])).unwrap();
        assert_eq!(dev.algorithm, Algorithm::Aes256Gcm);
        let err = PrivacyConfig::from_source(&env(&[])).unwrap_err();
        assert_eq!(err.variable, "YICIBAN_KEK_FILE");
        assert!(err.reason.contains("required outside YICIBAN_DEV_MODE"), "{err}");

        let published = key_file("dev", &format!("k1 {}\n", STANDARD.encode(DEV_KEK)));
        let err = PrivacyConfig::from_source(&env(&[("YICIBAN_KEK_FILE", published.to_str().unwrap())])).unwrap_err();
        assert!(err.reason.contains("development key-encryption key"), "{err}");
        std::fs::remove_file(published).unwrap();
    }

    #[test]
    fn a_key_file_and_the_cipher_are_read_and_checked() {
        let sm4 = key_file("sm4", &format!("2026-12 {}\n", STANDARD.encode([9u8; 16])));
        let path = sm4.to_str().unwrap();
        let config =
            PrivacyConfig::from_source(&env(&[("YICIBAN_KEK_FILE", path), ("YICIBAN_DATA_CIPHER", "SM4-GCM")]))
                .unwrap();
        assert_eq!(config.algorithm, Algorithm::Sm4Gcm);
        // The same 16-byte key is too short for AES-256-GCM: named, not shown.
        let err = PrivacyConfig::from_source(&env(&[("YICIBAN_KEK_FILE", path)])).unwrap_err();
        assert!(err.reason.contains("line 1: key 2026-12"), "{err}");
        assert!(!err.to_string().contains(&STANDARD.encode([9u8; 16])));
        let err = PrivacyConfig::from_source(&env(&[("YICIBAN_KEK_FILE", path), ("YICIBAN_DATA_CIPHER", "des")]))
            .unwrap_err();
        assert_eq!(err.variable, "YICIBAN_DATA_CIPHER");
        let err = PrivacyConfig::from_source(&env(&[("YICIBAN_KEK_FILE", "/nonexistent/kek")])).unwrap_err();
        assert!(err.reason.contains("cannot be read"), "{err}");
        std::fs::remove_file(sm4).unwrap();
    }
}

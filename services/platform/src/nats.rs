//! How a client logs in to NATS and checks the server (ADR 0021): an nkey
//! seed read from a file, the CA that signed the server's certificate, an
//! optional client certificate, and the client's own inbox prefix. Services
//! read it from the environment ([`NatsAuth::from_source`]); `casectl watch`
//! and `casectl ops after-restore` from their options. A password in
//! `NATS_URL` logs in only in development mode.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use crate::config::{ConfigError, Source};

/// The NATS login and TLS settings of one client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsAuth {
    /// `NATS_NKEY_SEED_FILE`: the file holding the identity's nkey seed
    /// (`SU…`, written by `casectl nats-config --seeds-dir`, mounted from a
    /// Secret).
    pub seed_file: Option<PathBuf>,
    /// `NATS_CA_FILE`: PEM bundle of the CA the server's certificate is
    /// signed by; when set, the connection must be TLS.
    pub ca_file: Option<PathBuf>,
    /// `NATS_TLS_CERT_FILE` and `NATS_TLS_KEY_FILE`: a client certificate,
    /// for a server that verifies clients' certificates.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

fn path(src: &dyn Source, name: &str) -> Option<PathBuf> {
    src.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl NatsAuth {
    /// Reads the settings; a certificate without its key (or the reverse)
    /// is refused naming the variable.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let client_cert = match (path(src, "NATS_TLS_CERT_FILE"), path(src, "NATS_TLS_KEY_FILE")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => return Err(missing_pair("NATS_TLS_KEY_FILE", "NATS_TLS_CERT_FILE")),
            (None, Some(_)) => return Err(missing_pair("NATS_TLS_CERT_FILE", "NATS_TLS_KEY_FILE")),
        };
        Ok(NatsAuth { seed_file: path(src, "NATS_NKEY_SEED_FILE"), ca_file: path(src, "NATS_CA_FILE"), client_cert })
    }

    /// The connect options for `url` as client `name` with inbox prefix
    /// `inbox_prefix`, and the URL to connect to with any password taken out
    /// of it. A password in the URL is used only when `allow_password` (the
    /// caller checked development mode); it never appears in an error.
    pub fn options(
        &self,
        url: &str,
        name: &str,
        inbox_prefix: &str,
        allow_password: bool,
    ) -> anyhow::Result<(String, async_nats::ConnectOptions)> {
        let (bare, credentials) = split_credentials(url);
        let mut options = async_nats::ConnectOptions::new()
            .name(name)
            .custom_inbox_prefix(inbox_prefix)
            .connection_timeout(Duration::from_secs(5));
        if let Some((user, password)) = credentials {
            if !allow_password {
                anyhow::bail!("NATS_URL carries a user and password; log in with NATS_NKEY_SEED_FILE instead");
            }
            options = options.user_and_password(user, password);
        }
        if let Some(file) = &self.seed_file {
            options = options.nkey(read_seed(file)?);
        }
        if let Some(ca) = &self.ca_file {
            ensure_readable(ca, "NATS_CA_FILE")?;
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let Some((cert, key)) = &self.client_cert {
            ensure_readable(cert, "NATS_TLS_CERT_FILE")?;
            ensure_readable(key, "NATS_TLS_KEY_FILE")?;
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        Ok((bare, options))
    }
}

fn missing_pair(missing: &str, set: &str) -> ConfigError {
    ConfigError {
        variable: missing.into(),
        value: "(unset)".into(),
        reason: format!("{set} is set: a client certificate needs both its certificate and its key"),
    }
}

fn ensure_readable(file: &Path, variable: &str) -> anyhow::Result<()> {
    std::fs::metadata(file).map(|_| ()).with_context(|| format!("reading {variable}={}", file.display()))
}

/// The nkey seed in `file` (surrounding whitespace removed), checked to be
/// a user seed; the seed itself never appears in an error.
pub fn read_seed(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the nkey seed file NATS_NKEY_SEED_FILE={}", file.display()))?;
    let seed = text.trim().to_owned();
    match nkeys::KeyPair::from_seed(&seed) {
        Ok(pair) if pair.public_key().starts_with('U') => Ok(seed),
        _ => anyhow::bail!(
            "NATS_NKEY_SEED_FILE={} holds no user nkey seed (one line starting with SU, as casectl nats-config writes it)",
            file.display()
        ),
    }
}

/// Whether `url` carries a password (`nats://user:password@host`).
pub fn has_password(url: &str) -> bool {
    matches!(split_credentials(url).1, Some((_, p)) if !p.is_empty())
}

/// `nats://user:password@host:port` → (`nats://host:port`, user and
/// password); a URL without credentials is returned as it is.
pub fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("nats", url));
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (format!("{scheme}://{host}"), Some((user.to_owned(), password.to_owned())))
        }
        None => (url.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_nats_url_are_taken_out_of_it() {
        assert_eq!(split_credentials("nats://127.0.0.1:4222"), ("nats://127.0.0.1:4222".to_owned(), None));
        assert_eq!(
            split_credentials("nats://yiciban:s3cr@t@nats:4222"),
            ("nats://nats:4222".to_owned(), Some(("yiciban".to_owned(), "s3cr@t".to_owned())))
        );
        assert_eq!(split_credentials("tls://svc@nats:4222").1, Some(("svc".to_owned(), String::new())));
        assert!(has_password("nats://u:p@nats:4222"));
        assert!(!has_password("tls://nats:4222"));
    }

    #[test]
    fn a_password_is_refused_unless_allowed_and_never_shown() {
        let err = NatsAuth::default().options("nats://u:hunter2@nats:4222", "c", "_INBOX_c", false).unwrap_err();
        assert!(err.to_string().contains("NATS_NKEY_SEED_FILE"), "{err}");
        assert!(!format!("{err:#}").contains("hunter2"));
        let (url, _) = NatsAuth::default().options("nats://u:hunter2@nats:4222", "c", "_INBOX_c", true).unwrap();
        assert_eq!(url, "nats://nats:4222");
    }

    #[test]
    fn a_seed_file_must_hold_a_user_seed_which_no_error_shows() {
        let dir = std::env::temp_dir().join(format!("yiciban-seed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let user = nkeys::KeyPair::new_user();
        let good = dir.join("user.nk");
        std::fs::write(&good, format!("{}\n", user.seed().unwrap())).unwrap();
        assert_eq!(read_seed(&good).unwrap(), user.seed().unwrap());
        let account = nkeys::KeyPair::new_account().seed().unwrap();
        let bad = dir.join("account.nk");
        std::fs::write(&bad, &account).unwrap();
        let err = read_seed(&bad).unwrap_err();
        assert!(!format!("{err:#}").contains(&account), "{err:#}");
        assert!(read_seed(&dir.join("absent")).unwrap_err().to_string().contains("NATS_NKEY_SEED_FILE"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let src: std::collections::HashMap<String, String> =
            [("NATS_TLS_CERT_FILE".to_owned(), "/c.pem".to_owned())].into_iter().collect();
        assert_eq!(NatsAuth::from_source(&src).unwrap_err().variable, "NATS_TLS_KEY_FILE");
    }
}

//! Signed-in profiles on disk: `$XDG_CONFIG_HOME/yiciban/profiles/<name>.json`
//! (else `~/.config/yiciban/profiles/`), each holding one sign-in's refresh
//! token and the access tokens obtained with it, per audience. Files are
//! mode 0600 in directories of mode 0700, written whole (temporary file,
//! then rename); a lock file serialises the processes refreshing a profile,
//! since a rotating refresh token may be spent only once.

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

/// An access token and when it is to be replaced.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessToken {
    pub access_token: String,
    /// Unix seconds after which the issuer no longer honours it.
    pub expires_at: u64,
    /// Unix seconds from which casectl gets a fresh one instead.
    pub refresh_at: u64,
}

impl AccessToken {
    /// A token obtained now that lives `lifetime` seconds; it is replaced
    /// when a quarter of its life (at most a minute) is left.
    pub fn new(access_token: String, lifetime: u64) -> AccessToken {
        let now = now();
        let margin = (lifetime / 4).min(60);
        AccessToken { access_token, expires_at: now + lifetime, refresh_at: now + lifetime - margin }
    }

    /// Whether it can still be sent.
    pub fn fresh(&self) -> bool {
        now() < self.refresh_at.min(self.expires_at)
    }
}

/// One sign-in at an issuer.
#[derive(Clone, Serialize, Deserialize)]
pub struct Profile {
    /// The issuer identifier as its discovery document states it.
    pub issuer: String,
    /// The client casectl signed in as (`yiciban-casectl`).
    pub client_id: String,
    /// The login the sign-in's token names (unverified, for display).
    pub username: Option<String>,
    /// Spent and replaced on every refresh when the issuer rotates them.
    pub refresh_token: String,
    /// The access token of the sign-in itself (whatever audiences the issuer gave it).
    pub signed_in: AccessToken,
    /// Access tokens per audience (`urn:yiciban:<service>`).
    #[serde(default)]
    pub audiences: BTreeMap<String, AccessToken>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The directory of profiles.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// Held while a profile is read, refreshed and written; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Store {
    /// `$XDG_CONFIG_HOME/yiciban/profiles`, else `$HOME/.config/yiciban/profiles`.
    pub fn from_env() -> anyhow::Result<Store> {
        let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
        let config = match std::env::var_os("XDG_CONFIG_HOME").and_then(absolute) {
            Some(dir) => dir,
            None => std::env::var_os("HOME")
                .and_then(absolute)
                .map(|home| home.join(".config"))
                .context("neither XDG_CONFIG_HOME nor HOME names a directory for casectl's profiles")?,
        };
        Ok(Store { dir: config.join("yiciban").join("profiles") })
    }

    /// The file of profile `name`.
    pub fn path(&self, name: &str) -> anyhow::Result<PathBuf> {
        check_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Profile `name`, if signed in.
    pub fn load(&self, name: &str) -> anyhow::Result<Option<Profile>> {
        let path = self.path(name)?;
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mode = fs::metadata(&path)?.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!("casectl: {} 的权限过宽（{:o}），已改为 600 / tightened to 600", path.display(), mode & 0o777);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
        }
        let profile = serde_json::from_str(&text).with_context(|| {
            format!("{} is not a casectl profile; `casectl logout --profile {name}`", path.display())
        })?;
        Ok(Some(profile))
    }

    /// Writes profile `name` (mode 0600, atomically).
    pub fn save(&self, name: &str, profile: &Profile) -> anyhow::Result<()> {
        let path = self.path(name)?;
        self.make_dir()?;
        let temporary = self.dir.join(format!(".{name}.json.{}.tmp", std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temporary)?;
            // An existing temporary file keeps its mode; make sure.
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
            file.write_all(serde_json::to_string_pretty(profile)?.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temporary, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written.with_context(|| format!("writing {}", path.display()))
    }

    /// Deletes profile `name`; whether there was one.
    pub fn delete(&self, name: &str) -> anyhow::Result<bool> {
        let path = self.path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("deleting {}", path.display())),
        }
    }

    /// Waits for, then holds, profile `name`'s lock.
    pub fn lock(&self, name: &str) -> anyhow::Result<Lock> {
        check_name(name)?;
        self.make_dir()?;
        let path = self.dir.join(format!(".{name}.lock"));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.lock().with_context(|| format!("locking {}", path.display()))?;
        Ok(Lock { _file: file })
    }

    /// The directory of profiles (and its parent `yiciban`), mode 0700.
    fn make_dir(&self) -> anyhow::Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        for dir in [self.dir.as_path(), self.dir.parent().unwrap_or(Path::new("."))] {
            if fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                    .with_context(|| format!("making {} private (0700)", dir.display()))?;
            }
        }
        Ok(())
    }
}

/// Profile names are file names: letters, digits, `-`, `_`, `.`, not leading `.`.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("profile name {name:?}: use letters, digits, '-', '_' or '.' (at most 64, not starting with '.')");
    }
    Ok(())
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_cannot_leave_the_directory() {
        for bad in ["", "../x", "a/b", ".hidden", "a b", "档案"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for good in ["default", "clerk", "agent-samr_1", "prod.v2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_token_is_replaced_before_it_expires() {
        let long = AccessToken::new("t".into(), 600);
        assert_eq!(long.expires_at - long.refresh_at, 60);
        assert!(long.fresh());
        let short = AccessToken::new("t".into(), 8);
        assert_eq!(short.expires_at - short.refresh_at, 2);
        assert!(!AccessToken::new("t".into(), 0).fresh());
    }
}

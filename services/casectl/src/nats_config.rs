//! `casectl nats-config`: the nats-server `authorization` block of every
//! NATS identity (the services, the operator's, a department system per
//! department of the catalog, and its leaf node), and with `--seeds-dir` each
//! identity's new credential in a file of its own (mode 0600, for a Secret or
//! to hand over): an nkey seed, or a leaf node's password (ADR 0026); every
//! public key and password hash in `nkeys.conf`, which the block includes
//! (ADR 0021).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use yiciban_eventstore::Subjects;
use yiciban_eventstore::identities::{self, Identity, NKEYS_FILE};

#[derive(Debug, Args)]
pub struct NatsConfigArgs {
    /// The deployment's subject prefix.
    #[arg(long, default_value = "yiciban")]
    prefix: String,
    /// Write the block to this file (deploy/nats/identities.conf) instead of
    /// printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Generate credentials into this directory: `<identity>.nk` (the seed,
    /// mode 0600) for each nkey identity, `leaf-<code>.password` (mode 0600)
    /// for each department's leaf node, and `nkeys.conf` (the public keys and
    /// the passwords' bcrypt hashes). Never commit it: the seeds go into
    /// Secrets or to the departments (docs/DEPLOY.md).
    #[arg(long)]
    seeds_dir: Option<PathBuf>,
    /// With --seeds-dir: a new key for these identities only (`dept-fire`,
    /// `leaf-fire`, `svc-intake`, `ops`; repeatable), the other public keys
    /// of the directory's `nkeys.conf` kept — a rotation.
    #[arg(long, requires = "seeds_dir")]
    rotate: Vec<String>,
}

/// How `casectl watch` and `casectl ops after-restore` log in to NATS.
#[derive(Debug, Clone, Args)]
pub struct NatsLogin {
    /// File holding the identity's nkey seed (`casectl nats-config --seeds-dir`
    /// wrote it: dept-<code>.nk for a department, ops.nk for after-restore).
    #[arg(long = "nkey-seed-file", env = "NATS_NKEY_SEED_FILE")]
    pub seed_file: Option<PathBuf>,
    /// PEM bundle of the CA that signed the NATS server's certificate; the
    /// connection is then TLS only.
    #[arg(long = "nats-ca-file", env = "NATS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

impl NatsLogin {
    /// Connects to `url` as client `name` with `inbox_prefix`. A user and
    /// password in the URL still log in (a development server).
    pub async fn connect(&self, url: &str, name: &str, inbox_prefix: &str) -> anyhow::Result<async_nats::Client> {
        let auth = yiciban_platform::nats::NatsAuth {
            seed_file: self.seed_file.clone(),
            ca_file: self.ca_file.clone(),
            client_cert: None,
        };
        let (bare, options) = auth.options(url, name, inbox_prefix, true)?;
        options.connect(&bare).await.with_context(|| format!("connecting to NATS at {bare}"))
    }
}

/// The department codes of the catalog.
fn departments() -> anyhow::Result<Vec<String>> {
    let catalog = yiciban_domain::catalog::Catalog::seed()?;
    Ok(catalog.departments().iter().map(|d| d.code.as_str().to_owned()).collect())
}

/// The block for the catalog's departments under `prefix`.
pub fn generate(prefix: &str) -> anyhow::Result<(Vec<Identity>, String)> {
    let subjects = Subjects::new(prefix).map_err(anyhow::Error::msg)?;
    let codes = departments()?;
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let text = identities::authorization_config(&subjects, &codes).map_err(anyhow::Error::msg)?;
    Ok((Identity::all(&codes), text))
}

pub fn run(a: NatsConfigArgs) -> anyhow::Result<()> {
    let (all, text) = generate(&a.prefix)?;
    match &a.out {
        Some(path) => std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    if let Some(dir) = &a.seeds_dir {
        let written = write_seeds(dir, &all, &a.rotate)?;
        eprintln!(
            "wrote {} credential file(s) (seeds, leaf passwords) and {} to {}",
            written,
            NKEYS_FILE,
            dir.display()
        );
    }
    Ok(())
}

/// The bcrypt cost of a leaf node's password hash: the server checks it
/// once per leaf connection, so it can be slow for whoever guesses.
const LEAF_PASSWORD_COST: u32 = 12;

/// Writes a new seed or leaf password for each identity (all, or those
/// named in `rotate`) and `nkeys.conf` with every identity's public key or
/// password hash; returns how many credentials.
pub fn write_seeds(dir: &Path, all: &[Identity], rotate: &[String]) -> anyhow::Result<usize> {
    for name in rotate {
        if !all.iter().any(|i| &i.name() == name) {
            anyhow::bail!("--rotate {name}: no such identity (dept-<code>, leaf-<code>, svc-<service> or ops)");
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let keys_file = dir.join(NKEYS_FILE);
    let kept = if rotate.is_empty() { std::collections::HashMap::new() } else { read_public_keys(&keys_file)? };
    let mut publics = Vec::new();
    let mut written = 0;
    for identity in all {
        let fresh = rotate.is_empty() || rotate.contains(&identity.name());
        let public = if fresh && identity.uses_password() {
            let (password, hash) = identities::leaf_password(LEAF_PASSWORD_COST).map_err(anyhow::Error::msg)?;
            write_private(&dir.join(format!("{}.password", identity.name())), &format!("{password}\n"))?;
            written += 1;
            hash
        } else if fresh {
            let pair = nkeys::KeyPair::new_user();
            let seed = pair.seed().map_err(|e| anyhow::anyhow!("making a seed: {e}"))?;
            write_private(&dir.join(format!("{}.nk", identity.name())), &format!("{seed}\n"))?;
            written += 1;
            pair.public_key()
        } else {
            kept.get(&identity.key_variable()).cloned().with_context(|| {
                format!(
                    "{} has no {} to keep; generate every key (without --rotate)",
                    keys_file.display(),
                    identity.key_variable()
                )
            })?
        };
        publics.push((identity, public));
    }
    let text = identities::nkeys_config(publics.iter().map(|(i, p)| (*i, p.as_str())));
    std::fs::write(&keys_file, text).with_context(|| format!("writing {}", keys_file.display()))?;
    Ok(written)
}

/// `NKEY_…: "U…"` and `BCRYPT_…: "$2b$…"` lines of an `nkeys.conf`.
fn read_public_keys(file: &Path) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().starts_with("NKEY_") || k.trim().starts_with("BCRYPT_"))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect())
}

/// Creates `path` readable by its owner only, before anything is written.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block committed in deploy/nats/ is what this command generates
    /// for the catalog (`casectl nats-config --out deploy/nats/identities.conf`).
    #[test]
    fn the_committed_identities_are_what_nats_config_generates() {
        let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats/identities.conf");
        let (_, generated) = generate("yiciban").unwrap();
        let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            on_disk == generated,
            "deploy/nats/identities.conf is not what `casectl nats-config` generates: run\n  \
             cargo run -p casectl -- nats-config --out deploy/nats/identities.conf"
        );
    }

    #[test]
    fn seeds_are_private_and_a_rotation_keeps_the_other_public_keys() {
        let dir = std::env::temp_dir().join(format!("yiciban-seeds-{}", uuid::Uuid::new_v4().simple()));
        let all = Identity::all(&["fire", "samr"]);
        assert_eq!(write_seeds(&dir, &all, &[]).unwrap(), all.len());
        assert!(dir.join("leaf-fire.password").exists() && !dir.join("leaf-fire.nk").exists());
        let before = read_public_keys(&dir.join(NKEYS_FILE)).unwrap();
        assert_eq!(before.len(), all.len());
        let fire = dir.join("dept-fire.nk");
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&fire).unwrap().permissions()) & 0o777,
            0o600
        );
        let seed = std::fs::read_to_string(&fire).unwrap();
        let public = nkeys::KeyPair::from_seed(seed.trim()).unwrap().public_key();
        assert_eq!(before["NKEY_DEPT_FIRE"], public);

        let leaf = std::fs::read_to_string(dir.join("leaf-fire.password")).unwrap();
        assert!(bcrypt::verify(leaf.trim(), &before["BCRYPT_LEAF_FIRE"]).unwrap(), "the hash is the password's");

        assert_eq!(write_seeds(&dir, &all, &["dept-fire".into(), "leaf-fire".into()]).unwrap(), 2);
        let after = read_public_keys(&dir.join(NKEYS_FILE)).unwrap();
        assert_ne!(after["NKEY_DEPT_FIRE"], before["NKEY_DEPT_FIRE"]);
        assert_ne!(after["BCRYPT_LEAF_FIRE"], before["BCRYPT_LEAF_FIRE"]);
        assert_eq!(after["BCRYPT_LEAF_SAMR"], before["BCRYPT_LEAF_SAMR"]);
        assert_eq!(after["NKEY_DEPT_SAMR"], before["NKEY_DEPT_SAMR"]);
        assert_eq!(after["NKEY_SVC_INTAKE"], before["NKEY_SVC_INTAKE"]);
        assert!(write_seeds(&dir, &all, &["dept-nobody".into()]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

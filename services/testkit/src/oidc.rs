//! A real OpenID Connect provider for tests: the OpenID-Certified
//! `oidc-provider` npm package run by Node (`tests/oidc-provider/`,
//! installed by `deploy/local/oidc-provider.sh install`, i.e.
//! `make oidc-provider`). [`OidcProvider::start`] runs it on a loopback port
//! held for the whole test (a [`ReservedPort`]; the process serves the
//! listening socket it inherits), with the clients and users of a
//! [`ProviderConfig`]; tokens are obtained over HTTP as clients and browsers
//! would ([`flows`]). [`OidcProvider::rotate_keys`] restarts it on the same
//! port with a new signing key. The process (its whole process group) is
//! killed when the handle is dropped.
//!
//! The provider keeps its state in memory: a restart forgets sessions,
//! codes and refresh tokens (access tokens, being JWTs, stay valid as long
//! as their key is published).

mod browser;
pub mod config;
pub mod device;
pub mod flows;

pub use config::{
    CASECTL_CLIENT, ClientConfig, DEVICE_CODE_GRANT, ProviderConfig, RefreshTokens, SERVICES, SigningAlg, UserConfig,
    audience, service_client,
};
pub use flows::Tokens;

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::ReservedPort;

/// How long the provider has to print "ready" and answer discovery.
pub const PROVIDER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// The bound on one run of Node making a key (well under a second when it
/// works, a few seconds with the whole suite on two cores): a run past it
/// hangs, and is killed and asked again ([`KEY_ATTEMPTS`]).
const KEY_TIMEOUT: Duration = Duration::from_secs(30);

/// `tests/oidc-provider` of the workspace (`YICIBAN_OIDC_PROVIDER_DIR` overrides it).
pub fn provider_dir() -> PathBuf {
    std::env::var_os("YICIBAN_OIDC_PROVIDER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider"))
}

/// The Node binary (`NODE`, or `node` on the PATH).
fn node() -> String {
    std::env::var("NODE").unwrap_or_else(|_| "node".into())
}

/// The discovery document's endpoints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Discovery {
    /// `issuer`.
    pub issuer: String,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `device_authorization_endpoint` (RFC 8628).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// `introspection_endpoint` (RFC 7662).
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// `userinfo_endpoint` (OpenID Connect Core §5.3), where an applicant's
    /// ID number is released.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// A running `oidc-provider` (see the module documentation).
pub struct OidcProvider {
    config: ProviderConfig,
    port: ReservedPort,
    issuer: String,
    /// The published private keys, the signing one first.
    keys: Vec<serde_json::Value>,
    config_file: PathBuf,
    process: Option<ProviderProcess>,
    http: reqwest::Client,
    discovery: Discovery,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider").field("issuer", &self.issuer).field("kid", &self.signing_kid()).finish()
    }
}

impl OidcProvider {
    /// Starts the provider on a free loopback port with one new signing key
    /// of `config.signing_alg`; returns once discovery answers.
    pub async fn start(config: ProviderConfig) -> anyhow::Result<OidcProvider> {
        crate::init_logs();
        let dir = provider_dir();
        if !dir.join("node_modules/oidc-provider/package.json").is_file() {
            bail!(
                "the test OpenID Connect provider is not installed in {}: run `make oidc-provider` \
                 (deploy/local/oidc-provider.sh install)",
                dir.display()
            );
        }
        let port = ReservedPort::new();
        let issuer = port.url();
        let keys = vec![generate_key(config.signing_alg)?];
        let config_file = std::env::temp_dir().join(format!("yiciban-oidc-{}.json", uuid::Uuid::new_v4().simple()));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        let discovery = Discovery {
            issuer: issuer.clone(),
            jwks_uri: String::new(),
            token_endpoint: String::new(),
            authorization_endpoint: String::new(),
            device_authorization_endpoint: None,
            revocation_endpoint: None,
            introspection_endpoint: None,
            userinfo_endpoint: None,
        };
        let mut provider = OidcProvider { config, port, issuer, keys, config_file, process: None, http, discovery };
        provider.launch().await?;
        Ok(provider)
    }

    /// The issuer URL (`http://127.0.0.1:<port>`), also the discovery base.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The endpoints from discovery.
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// The configuration it runs with (clients' secrets: [`ProviderConfig::secret`]).
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The `kid` of the key that signs now.
    pub fn signing_kid(&self) -> &str {
        self.keys[0]["kid"].as_str().unwrap_or_default()
    }

    /// Signs `claims` with the provider's current signing key (an ES256
    /// provider: `ProviderConfig { signing_alg: SigningAlg::ES256, .. }`)
    /// under its `kid`, as the provider itself would sign: for tests that
    /// need a token the provider's published key verifies but with claims it
    /// would never issue (expired, not yet valid, another issuer).
    pub fn forge(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        use base64::Engine as _;
        use p256::pkcs8::EncodePrivateKey as _;
        let key = &self.keys[0];
        if key["kty"] != "EC" {
            bail!("forge signs with an ES256 provider's key; this provider signs {}", key["kty"]);
        }
        let d = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key["d"].as_str().context("the signing key has no private part")?)?;
        let secret = p256::SecretKey::from_slice(&d).context("the signing key is not a P-256 key")?;
        let der = secret.to_pkcs8_der().context("encoding the signing key")?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.signing_kid().to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()))?)
    }

    /// The `kid`s published in the JWKS, the signing one first.
    pub fn published_kids(&self) -> Vec<String> {
        self.keys.iter().filter_map(|k| k["kid"].as_str().map(str::to_owned)).collect()
    }

    /// The JWKS as served (fetched now).
    pub async fn jwks(&self) -> anyhow::Result<serde_json::Value> {
        let response = self.http.get(&self.discovery.jwks_uri).send().await?.error_for_status()?;
        Ok(response.json().await?)
    }

    /// Restarts the provider on the same port signing with a new key, the
    /// previous signing key still published: tokens signed before and after
    /// both verify. Forgets sessions and refresh tokens (in memory).
    pub async fn rotate_keys(&mut self) -> anyhow::Result<()> {
        let new = generate_key(self.config.signing_alg)?;
        self.keys.truncate(1);
        self.keys.insert(0, new);
        self.restart().await
    }

    /// Like [`rotate_keys`](Self::rotate_keys), but every previous key is
    /// gone from the JWKS: tokens signed before no longer verify.
    pub async fn rotate_keys_dropping_old(&mut self) -> anyhow::Result<()> {
        self.keys = vec![generate_key(self.config.signing_alg)?];
        self.restart().await
    }

    /// Kills the provider (its port then refuses connections) and starts it
    /// again on the same port with the same keys.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.process = None;
        self.launch().await
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let json = self.config.to_json(&self.issuer, &self.keys);
        std::fs::write(&self.config_file, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("writing {}", self.config_file.display()))?;
        let listener = self.port.listener().listener().context("a listener on the provider's port")?;
        let socket: OwnedFd = listener.into_std().context("the provider's listener")?.into();
        let (process, ready) = ProviderProcess::spawn(&self.config_file, socket)?;
        let process = self.process.insert(process);
        match tokio::time::timeout(PROVIDER_START_TIMEOUT, ready).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => bail!("the OpenID Connect provider exited before it was ready:\n{}", process.stderr()),
            Err(_) => bail!(
                "the OpenID Connect provider was not ready within {PROVIDER_START_TIMEOUT:?}:\n{}",
                process.stderr()
            ),
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let discovery: Discovery = self.http.get(&url).send().await?.error_for_status()?.json().await?;
        if discovery.issuer != self.issuer {
            bail!("discovery at {url} names the issuer {}, not {}", discovery.issuer, self.issuer);
        }
        self.discovery = discovery;
        Ok(())
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.process = None;
        let _ = std::fs::remove_file(&self.config_file);
    }
}

/// How many times a key is asked of Node before the test fails.
const KEY_ATTEMPTS: u32 = 3;

/// A new private JWK (with a `kid`) of `alg`, made by the provider's script.
/// About one run of Node in a hundred on this machine never gets as far as
/// printing the key (seen with the package's import and the key generation
/// each fine alone, 200 runs each); such a run is killed at the bound and
/// the key asked for again.
fn generate_key(alg: SigningAlg) -> anyhow::Result<serde_json::Value> {
    let mut attempt = 1;
    loop {
        match generate_key_once(alg) {
            Err(KeyError::TimedOut) if attempt < KEY_ATTEMPTS => {
                eprintln!("generating a key with Node took longer than {KEY_TIMEOUT:?}; asking again");
                attempt += 1;
            }
            Err(KeyError::TimedOut) => {
                bail!("generating a key with Node took longer than {KEY_TIMEOUT:?}, {KEY_ATTEMPTS} times")
            }
            Err(KeyError::Failed(e)) => return Err(e),
            Ok(key) => return Ok(key),
        }
    }
}

/// Why one run of Node gave no key.
enum KeyError {
    TimedOut,
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for KeyError {
    fn from(e: E) -> Self {
        KeyError::Failed(e.into())
    }
}

fn generate_key_once(alg: SigningAlg) -> Result<serde_json::Value, KeyError> {
    let mut child = Command::new(node())
        .arg("provider.mjs")
        .args(["--generate-key", alg.as_str()])
        .current_dir(provider_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running `{} provider.mjs --generate-key` (is Node installed?)", node()))?;
    // The pipes are drained while Node runs (a full pipe would stop it
    // before it exits).
    let mut stdout = child.stdout.take().context("piped stdout")?;
    let mut stderr = child.stderr.take().context("piped stderr")?;
    let out = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let err = std::thread::spawn(move || {
        let mut err = String::new();
        stderr.read_to_string(&mut err).map(|_| err)
    });
    // Bounded: a key is made in well under a second; a hung Node must fail
    // the test, not hold it until the runner kills it.
    let deadline = std::time::Instant::now() + KEY_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(KeyError::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let joined = |name: &str| KeyError::Failed(anyhow::anyhow!("reading Node's {name} failed"));
    let out = out.join().map_err(|_| joined("output"))??;
    let err = err.join().map_err(|_| joined("errors"))??;
    if !status.success() {
        return Err(KeyError::Failed(anyhow::anyhow!("generating a key failed: {err}")));
    }
    Ok(serde_json::from_slice(&out).context("the generated key is not JSON")?)
}

/// One life of the Node process, in a process group of its own, killed
/// (the whole group) when dropped.
struct ProviderProcess {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl ProviderProcess {
    /// Spawns `node provider.mjs <config>` serving `socket` (its stdin);
    /// the receiver resolves when it prints "ready".
    fn spawn(
        config_file: &Path,
        socket: OwnedFd,
    ) -> anyhow::Result<(ProviderProcess, tokio::sync::oneshot::Receiver<()>)> {
        let mut child = Command::new(node())
            .arg("provider.mjs")
            .arg(config_file)
            .current_dir(provider_dir())
            .stdin(Stdio::from(socket))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting `{} provider.mjs` (is Node installed?)", node()))?;
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("ready ")
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(());
                }
                tracing::debug!(target: "oidc-provider", "{line}");
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let collected = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]);
                tracing::debug!(target: "oidc-provider", "{text}");
                let mut all = collected.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if all.len() < 64 * 1024 {
                    all.push_str(&text);
                }
            }
        });
        Ok((ProviderProcess { child, stderr }, ready))
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        let group = rustix::process::Pid::from_child(&self.child);
        if rustix::process::kill_process_group(group, rustix::process::Signal::KILL).is_err() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

//! A nats-server of a test's own configured as a deployment is (ADR 0021):
//! the `authorization` block `casectl nats-config` generates, with a fresh
//! nkey per identity, and TLS on the client port with certificates from
//! `deploy/local/nats-tls.sh`. Killed and its directory (store, keys,
//! certificates) removed when dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use yiciban_eventstore::Subjects;
use yiciban_eventstore::identities::{self, Identity};

use crate::nats_server::nats_server_binary;

/// The running server, its identities' seed files and its CA.
#[derive(Debug)]
pub struct SecureNats {
    pub subjects: Subjects,
    pub port: u16,
    dir: PathBuf,
    seeds: HashMap<String, String>,
    child: Child,
}

/// deploy/local/nats-tls.sh of this checkout.
pub fn tls_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/nats-tls.sh")
}

impl SecureNats {
    /// Starts a server for a deployment with `departments`, under a prefix of
    /// the test's own.
    pub fn start(departments: &[&str]) -> SecureNats {
        crate::init_logs();
        let subjects = Subjects::new(&format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10])).unwrap();
        let dir = std::env::temp_dir().join(format!("yiciban-secure-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("bash")
            .arg(tls_script())
            .arg(dir.join("tls"))
            .stderr(Stdio::null())
            .status()
            .expect("deploy/local/nats-tls.sh runs (openssl)");
        assert!(status.success(), "deploy/local/nats-tls.sh failed");
        let all = Identity::all(departments);
        let mut seeds = HashMap::new();
        let mut publics = Vec::new();
        for identity in &all {
            let pair = nkeys::KeyPair::new_user();
            seeds.insert(identity.name(), pair.seed().unwrap());
            publics.push((identity, pair.public_key()));
        }
        std::fs::write(
            dir.join(identities::NKEYS_FILE),
            identities::nkeys_config(publics.iter().map(|(i, p)| (*i, p.as_str()))),
        )
        .unwrap();
        std::fs::write(dir.join("identities.conf"), identities::authorization_config(&subjects, departments).unwrap())
            .unwrap();
        for (name, seed) in &seeds {
            std::fs::write(dir.join(format!("{name}.nk")), format!("{seed}\n")).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let tls = dir.join("tls");
        let config = format!(
            "listen: 127.0.0.1:{port}\n\
             jetstream {{ store_dir: \"{store}\" }}\n\
             tls {{ cert_file: \"{t}/server.crt\", key_file: \"{t}/server.key\", ca_file: \"{t}/ca.crt\", timeout: 5 }}\n\
             include ./identities.conf\n",
            store = dir.join("js").display(),
            t = tls.display(),
        );
        std::fs::write(dir.join("nats.conf"), config).unwrap();
        let child = Command::new(nats_server_binary())
            .arg("-c")
            .arg(dir.join("nats.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts (deploy/local/infra.sh installs it)");
        SecureNats { subjects, port, dir, seeds, child }
    }

    /// `tls://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("tls/ca.crt")
    }

    /// The file holding `identity`'s seed.
    pub fn seed_file(&self, identity: &Identity) -> PathBuf {
        self.dir.join(format!("{}.nk", identity.name()))
    }

    /// Connect options of `identity`: its seed, its inbox prefix, the CA; the
    /// client's asynchronous events (permission violations) go to the
    /// returned receiver.
    pub fn options(
        &self,
        identity: &Identity,
    ) -> (async_nats::ConnectOptions, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let options = async_nats::ConnectOptions::with_nkey(self.seeds[&identity.name()].clone())
            .custom_inbox_prefix(identity.inbox_prefix())
            .add_root_certificates(self.ca_file())
            .require_tls(true)
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(event.to_string());
                }
            });
        (options, rx)
    }

    /// Connects as `identity` (waiting for the server to listen).
    pub async fn connect(
        &self,
        identity: &Identity,
    ) -> (async_nats::Client, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (options, events) = self.options(identity);
        (self.connect_with(options).await.unwrap_or_else(|e| panic!("connecting as {}: {e}", identity.name())), events)
    }

    /// Connects with `options`, trying again while the server starts; the
    /// last error once it listens.
    pub async fn connect_with(&self, options: async_nats::ConnectOptions) -> Result<async_nats::Client, String> {
        self.listening().await;
        options.connect(self.url()).await.map_err(|e| e.to_string())
    }

    /// Waits until the server accepts TCP connections.
    pub async fn listening(&self) {
        crate::eventually("the secure nats-server listening", Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.ok().map(|_| ())
        })
        .await;
    }
}

impl Drop for SecureNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

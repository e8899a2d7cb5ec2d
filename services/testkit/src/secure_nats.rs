//! A nats-server of a test's own configured as a deployment is (ADR 0021,
//! 0026): the `authorization` block `casectl nats-config` generates, with a
//! fresh nkey per identity and a fresh password per department's leaf node,
//! JetStream in yiciban's domain, and TLS on the client, leaf-node and
//! websocket ports with certificates from `deploy/local/nats-tls.sh`; and a
//! department's own nats-server connected to it as a leaf node
//! ([`LeafNode`]). Killed and their directories (store, keys, certificates)
//! removed when dropped.

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
    /// The leaf-node port (7422 in the cluster).
    pub leaf_port: u16,
    /// The websocket port (8443 in the cluster).
    pub websocket_port: u16,
    dir: PathBuf,
    /// Each identity's nkey seed, or a leaf node's password.
    seeds: HashMap<String, String>,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
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
            if identity.uses_password() {
                // the lowest bcrypt cost: a test logs in often
                let (password, hash) = identities::leaf_password(4).unwrap();
                seeds.insert(identity.name(), password);
                publics.push((identity, hash));
            } else {
                let pair = nkeys::KeyPair::new_user();
                seeds.insert(identity.name(), pair.seed().unwrap());
                publics.push((identity, pair.public_key()));
            }
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
        let (port, leaf_port, websocket_port) = (free_port(), free_port(), free_port());
        let tls = dir.join("tls");
        // as deploy/base/nats/nats.conf and jetstream.conf have it
        let config = format!(
            "listen: 127.0.0.1:{port}\n\
             jetstream {{ store_dir: \"{store}\", domain: {domain} }}\n\
             tls {{ cert_file: \"{t}/server.crt\", key_file: \"{t}/server.key\", ca_file: \"{t}/ca.crt\", timeout: 5 }}\n\
             leafnodes {{ listen: \"127.0.0.1:{leaf_port}\",\n  \
               tls {{ cert_file: \"{t}/server.crt\", key_file: \"{t}/server.key\", ca_file: \"{t}/ca.crt\", timeout: 5 }} }}\n\
             websocket {{ listen: \"127.0.0.1:{websocket_port}\", same_origin: false, compression: false,\n  \
               tls {{ cert_file: \"{t}/server.crt\", key_file: \"{t}/server.key\", timeout: 5 }} }}\n\
             include ./identities.conf\n",
            store = dir.join("js").display(),
            domain = identities::JETSTREAM_DOMAIN,
            t = tls.display(),
        );
        std::fs::write(dir.join("nats.conf"), config).unwrap();
        let log = std::fs::File::create(dir.join("nats.log")).unwrap();
        let child = Command::new(nats_server_binary())
            .arg("-c")
            .arg(dir.join("nats.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts (deploy/local/infra.sh installs it)");
        SecureNats { subjects, port, leaf_port, websocket_port, dir, seeds, child }
    }

    /// What the server logged (refused logins, permission violations).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
    }

    /// `wss://127.0.0.1:<websocket port>`.
    pub fn websocket_url(&self) -> String {
        format!("wss://127.0.0.1:{}", self.websocket_port)
    }

    /// The password of a department's leaf node (`leaf-<code>`).
    pub fn leaf_password(&self, department: &str) -> String {
        self.seeds[&Identity::Leaf(department.to_owned()).name()].clone()
    }

    /// `tls://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("tls/ca.crt")
    }

    /// The file holding `identity`'s seed (or a leaf node's password).
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

/// How a department's leaf node reaches ours: the `leafnodes.remotes` entry
/// of its nats-server.
#[derive(Debug, Clone)]
pub struct LeafRemote {
    /// `tls://leaf-<code>:<password>@host:port`, or a plain `nats-leaf://…`.
    pub url: String,
    /// The CA it trusts for our server's certificate (none: plain).
    pub ca_file: Option<PathBuf>,
}

impl LeafRemote {
    /// `department`'s leaf node as docs/DEPARTMENTS.md configures it: TLS
    /// trusting our CA, its user and password in the URL.
    pub fn of(nats: &SecureNats, department: &str) -> LeafRemote {
        LeafRemote {
            url: format!(
                "tls://{}:{}@127.0.0.1:{}",
                Identity::Leaf(department.to_owned()).name(),
                nats.leaf_password(department),
                nats.leaf_port
            ),
            ca_file: Some(nats.ca_file()),
        }
    }
}

/// A department's own nats-server (no JetStream, no users of its own),
/// connected to a [`SecureNats`] as a leaf node; its clients connect with
/// [`LeafNode::url`]. Killed and its directory removed when dropped.
#[derive(Debug)]
pub struct LeafNode {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl LeafNode {
    /// Starts a department's server whose `leafnodes.remotes` entry is
    /// `remote` (the way a department configures it, docs/DEPARTMENTS.md).
    pub fn start(remote: LeafRemote) -> LeafNode {
        let dir = std::env::temp_dir().join(format!("yiciban-leaf-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let tls = match &remote.ca_file {
            Some(ca) => format!(", tls: {{ ca_file: \"{}\", timeout: 5 }}", ca.display()),
            None => String::new(),
        };
        let config = format!(
            "listen: 127.0.0.1:{port}\n\
             leafnodes {{ reconnect: 1, remotes [ {{ url: \"{url}\"{tls} }} ] }}\n",
            url = remote.url
        );
        std::fs::write(dir.join("leaf.conf"), config).unwrap();
        let log = std::fs::File::create(dir.join("leaf.log")).unwrap();
        let child = Command::new(nats_server_binary())
            .arg("-c")
            .arg(dir.join("leaf.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        LeafNode { port, dir, child }
    }

    /// `nats://127.0.0.1:<port>`: the department's own server, plain.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// What the leaf node's server logged (its refused connections).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("leaf.log")).unwrap_or_default()
    }

    /// Connects a client of `department`'s system to the leaf node (its
    /// department's inbox prefix), waiting for the server to listen.
    pub async fn connect(&self, department: &str) -> async_nats::Client {
        let inbox = Identity::Leaf(department.to_owned()).inbox_prefix();
        crate::eventually("the leaf node listening", Duration::from_secs(10), || async {
            async_nats::ConnectOptions::new().custom_inbox_prefix(inbox.clone()).connect(self.url()).await.ok()
        })
        .await
    }
}

impl Drop for LeafNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

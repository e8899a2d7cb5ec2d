//! A nats-server with JetStream of a test's own, on a port the test chose
//! (a [`crate::ReservedPort`] released just before), for tests that take
//! NATS away and bring it back: [`NatsServer::kill`] stops it at once and
//! [`NatsServer::start_again`] starts it on the same port and store. Killed
//! and its store removed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The nats-server binary: Debian's in /usr/sbin, else one in PATH
/// (deploy/local/infra.sh installs it).
pub fn nats_server_binary() -> PathBuf {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

/// A running (or killed) nats-server of the test's own.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts nats-server with JetStream on `port` and a fresh store.
    pub fn start(port: u16) -> NatsServer {
        let store = std::env::temp_dir().join(format!("yiciban-test-nats-{}", uuid::Uuid::now_v7().simple()));
        let mut server = NatsServer { port, store, child: None };
        server.start_again();
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL); its store stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on the same port and store.
    pub fn start_again(&mut self) {
        self.kill();
        let child = Command::new(nats_server_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts (deploy/local/infra.sh installs it)");
        self.child = Some(child);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

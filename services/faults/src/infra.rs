//! The servers the fault tests own and break: a Postgres cluster in a
//! temporary directory (archiving its WAL into a directory beside it, so it
//! can be restored to a point in time from a base backup) and a nats-server
//! with its JetStream store in another, both on free local ports, never the
//! machine's own servers. Dropping them stops the servers and removes their
//! directories.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

/// A free local TCP port (taken from the kernel and released at once).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether we run as root (Postgres' programs then run as `pg_user`).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Uid:").map(|v| v.split_whitespace().next() == Some("0"))))
        .unwrap_or(false)
}

/// A directory of our own under the system's temporary directory.
fn scratch(what: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("yiciban-faults-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Waits until something accepts TCP connections on `port`, or `timeout`.
async fn wait_listening(port: u16, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A project-local Postgres cluster (initdb, trust authentication for the
/// superuser `postgres`, fsync on, every WAL segment archived into
/// `archive/`), started with `pg_ctl`.
pub struct OwnPostgres {
    bin: PathBuf,
    /// The system user the server runs as when we are root (initdb and
    /// postgres refuse root).
    user: Option<String>,
    dir: PathBuf,
    pub port: u16,
}

impl std::fmt::Debug for OwnPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnPostgres").field("dir", &self.dir).field("port", &self.port).finish()
    }
}

impl OwnPostgres {
    /// `initdb` and start a cluster with the programs in `bin`.
    pub async fn start(bin: &Path, user: Option<&str>) -> anyhow::Result<OwnPostgres> {
        let dir = scratch("pg")?;
        std::fs::create_dir_all(dir.join("archive")).context("creating the WAL archive")?;
        let user = user.filter(|u| !u.is_empty() && is_root()).map(str::to_owned);
        let pg = OwnPostgres { bin: bin.to_owned(), user, dir, port: free_port()? };
        if let Some(u) = &pg.user {
            let status = Command::new("chown").arg("-R").arg(format!("{u}:")).arg(&pg.dir).status().await?;
            if !status.success() {
                bail!("chown of {} to {u} failed", pg.dir.display());
            }
        }
        pg.run("initdb", &["-D", &pg.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]).await?;
        let conf = format!(
            "\n# yiciban-faults\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n\
             max_connections = 200\nfsync = on\nsynchronous_commit = on\n\
             wal_level = replica\narchive_mode = on\narchive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n",
            pg.port,
            archive = pg.archive()
        );
        let conf_path = Path::new(&pg.data()).join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).context("reading postgresql.conf")?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text).context("writing postgresql.conf")?;
        pg.ctl(&["start"]).await?;
        Ok(pg)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn archive(&self) -> String {
        self.dir.join("archive").display().to_string()
    }

    fn base(&self) -> String {
        self.dir.join("base").display().to_string()
    }

    fn log(&self) -> String {
        self.dir.join("postgres.log").display().to_string()
    }

    /// The URL of database `db` in this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    async fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let output =
            command.args(args).stdin(Stdio::null()).output().await.with_context(|| {
                format!("running {} (PG_BIN names the directory of initdb and pg_ctl)", path.display())
            })?;
        if !output.status.success() {
            bail!(
                "{program} {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    async fn ctl(&self, action: &[&str]) -> anyhow::Result<()> {
        let (data, log) = (self.data(), self.log());
        let mut args = vec!["-D", &data, "-l", &log, "-w", "-t", "60"];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args).await
    }

    /// Stops the server (`pg_ctl stop -m fast`: clients disconnected).
    pub async fn stop(&self) -> anyhow::Result<()> {
        self.ctl(&["-m", "fast", "stop"]).await
    }

    /// Starts the server again after [`OwnPostgres::stop`].
    pub async fn start_again(&self) -> anyhow::Result<()> {
        self.ctl(&["start"]).await?;
        if !wait_listening(self.port, Duration::from_secs(60)).await {
            bail!("Postgres does not listen on port {} after its start", self.port);
        }
        Ok(())
    }

    /// Takes a base backup (`pg_basebackup`, replacing an earlier one): the
    /// start of a point-in-time restore, with the archived WAL after it.
    pub async fn base_backup(&self) -> anyhow::Result<()> {
        let _ = std::fs::remove_dir_all(self.base());
        let (base, port) = (self.base(), self.port.to_string());
        self.run("pg_basebackup", &["-D", &base, "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-c", "fast"]).await
    }

    /// Restores the stopped cluster to `target` (runbook step 4): the data
    /// directory is set aside (`data.before-restore`), a new one is made from
    /// the base backup, and Postgres replays the archived WAL up to `target`
    /// and is promoted (`recovery.signal`, `restore_command`,
    /// `recovery_target_time`, `recovery_target_action = promote`), on the
    /// same port. Returns once it accepts connections (it may still be
    /// replaying: wait until `pg_is_in_recovery()` is false).
    pub async fn restore_to(&self, target: &str) -> anyhow::Result<()> {
        let data = self.dir.join("data");
        let aside = self.dir.join("data.before-restore");
        let _ = std::fs::remove_dir_all(&aside);
        std::fs::rename(&data, &aside).context("setting the damaged data directory aside")?;
        let status = Command::new("cp").arg("-a").arg(self.base()).arg(&data).status().await?;
        if !status.success() {
            bail!("copying the base backup failed ({status})");
        }
        let conf_path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).context("reading the restored postgresql.conf")?;
        text.push_str(&format!(
            "\n# yiciban-faults: point-in-time restore\nrestore_command = 'cp {archive}/%f %p'\n\
             recovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n",
            archive = self.archive()
        ));
        std::fs::write(&conf_path, text).context("writing the restored postgresql.conf")?;
        std::fs::write(data.join("recovery.signal"), "").context("writing recovery.signal")?;
        if let Some(u) = &self.user {
            let status = Command::new("chown").arg("-R").arg(format!("{u}:")).arg(&data).status().await?;
            if !status.success() {
                bail!("chown of {} to {u} failed", data.display());
            }
        }
        self.start_again().await
    }

    /// Restarts the server: `mode` is `fast` (clients disconnected, a clean
    /// shutdown) or `immediate` (a crash: recovery from the WAL at start).
    pub async fn restart(&self, mode: &str) -> anyhow::Result<()> {
        self.ctl(&["-m", mode, "restart"]).await?;
        if !wait_listening(self.port, Duration::from_secs(60)).await {
            bail!("Postgres does not listen on port {} after its restart", self.port);
        }
        Ok(())
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let (data, path) = (self.data(), self.bin.join("pg_ctl"));
        let mut command = match &self.user {
            Some(u) => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&path);
                c
            }
            None => std::process::Command::new(&path),
        };
        let _ = command.args(["-D", &data, "-m", "immediate", "-w", "stop"]).stdout(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A nats-server with JetStream of our own; its store survives restarts.
pub struct OwnNats {
    binary: PathBuf,
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl std::fmt::Debug for OwnNats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnNats").field("dir", &self.dir).field("port", &self.port).finish()
    }
}

impl OwnNats {
    /// Starts `binary` with JetStream on a free port.
    pub async fn start(binary: &Path) -> anyhow::Result<OwnNats> {
        let mut nats = OwnNats { binary: binary.to_owned(), dir: scratch("nats")?, port: free_port()?, child: None };
        nats.up().await?;
        Ok(nats)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and store.
    pub async fn up(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("nats.log"))?;
        let child = Command::new(&self.binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.join("store"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} (NATS_SERVER names it)", self.binary.display()))?;
        self.child = Some(child);
        if !wait_listening(self.port, Duration::from_secs(30)).await {
            bail!("nats-server does not listen on port {} (log in {})", self.port, self.dir.display());
        }
        Ok(())
    }

    /// Stops the server: `SIGKILL` when `kill`, else `SIGTERM` (a clean
    /// shutdown); waits until it is gone.
    pub async fn down(&mut self, kill: bool) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        if kill {
            child.start_kill()?;
        } else if let Some(pid) = child.id() {
            Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await?;
        }
        if tokio::time::timeout(Duration::from_secs(30), child.wait()).await.is_err() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! The system under test: every service as its own process (the release
//! binaries for the benchmark, any build for the fault tests), on free
//! ports, against a database and NATS prefix of the run's own, so that each
//! one's CPU and memory can be read from /proc and each one can be killed
//! (SIGKILL) and started again on the same port and data.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::procfs::{self, Usage};

/// The services, in start order (each finds the others through lazy channels).
pub const SERVICES: [&str; 5] = ["tracking", "issuance", "tasks", "routing", "intake"];

/// Where the services find their infrastructure.
#[derive(Debug, Clone)]
pub struct Wiring {
    pub bin_dir: PathBuf,
    pub database_url: String,
    pub nats_url: String,
    pub nats_prefix: String,
    /// The development issuer the services trust (development mode).
    pub issuer_url: String,
    pub log_dir: PathBuf,
    /// A service's own database URL instead of `database_url` (e.g. through
    /// a proxy that can stall its connections).
    pub database_url_of: Vec<(&'static str, String)>,
}

impl Wiring {
    fn database_url(&self, service: &str) -> &str {
        self.database_url_of.iter().find(|(n, _)| *n == service).map_or(&self.database_url, |(_, u)| u)
    }
}

struct Process {
    name: &'static str,
    child: Child,
    pid: u32,
}

/// The running services.
pub struct System {
    wiring: Wiring,
    ports: Vec<(&'static str, u16)>,
    processes: Vec<Process>,
    urls: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System").field("urls", &self.urls).finish()
    }
}

/// A port nothing listens on, handed out once per process, from below the
/// kernel's ephemeral range (32768–60999 by default). A port bound to 0
/// comes from that range, where the services' own outgoing connections
/// (to Postgres, NATS, each other) take their source ports, so one of them
/// could take it before the service binds it — as once happened to a
/// metrics port in the fault tests ("Address already in use").
fn free_port() -> anyhow::Result<u16> {
    use std::sync::atomic::{AtomicU16, Ordering};
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    // Processes started together begin at different places.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % u32::from(SPAN)) as u16;
    for _ in 0..SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN) % SPAN;
        let port = FIRST + offset;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port in {FIRST}..{}", FIRST + SPAN)
}

impl System {
    /// Starts every service and waits until each answers its health check.
    pub async fn start(wiring: &Wiring) -> anyhow::Result<System> {
        std::fs::create_dir_all(&wiring.log_dir)
            .with_context(|| format!("creating the log directory {}", wiring.log_dir.display()))?;
        let mut ports = Vec::new();
        for name in SERVICES {
            ports.push((name, free_port()?));
        }
        let urls = ports.iter().map(|(n, p)| (*n, format!("http://127.0.0.1:{p}"))).collect();
        for name in SERVICES {
            // Each run's logs begin empty; a restart appends.
            let _ = std::fs::remove_file(wiring.log_dir.join(format!("{name}.log")));
        }
        let mut system = System { wiring: wiring.clone(), ports, processes: Vec::new(), urls };
        for name in SERVICES {
            let process = system.spawn(name)?;
            system.processes.push(process);
        }
        for (name, url) in system.urls.clone() {
            system.wait_serving(name, &url).await?;
        }
        Ok(system)
    }

    /// Starts the process of `name` on its port (its log appended to).
    fn spawn(&self, name: &'static str) -> anyhow::Result<Process> {
        let wiring = &self.wiring;
        let port = self.ports.iter().find(|(n, _)| *n == name).map(|(_, p)| *p).context("no such service")?;
        let binary = wiring.bin_dir.join(format!("yiciban-{name}"));
        if !binary.exists() {
            bail!("{} is missing: build it with `cargo build --bins`", binary.display());
        }
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(wiring.log_dir.join(format!("{name}.log")))?;
        let mut command = Command::new(&binary);
        command
            .env("DATABASE_URL", wiring.database_url(name))
            .env("NATS_URL", &wiring.nats_url)
            .env("YICIBAN_NATS_PREFIX", &wiring.nats_prefix)
            .env("YICIBAN_DEV_MODE", "true")
            .env("YICIBAN_OIDC_ISSUER", &wiring.issuer_url)
            .env("YICIBAN_GRPC_ADDR", format!("127.0.0.1:{port}"))
            .env("YICIBAN_INTAKE_URL", self.url("intake"))
            .env("YICIBAN_ROUTING_URL", self.url("routing"))
            .env("YICIBAN_TASKS_URL", self.url("tasks"))
            .env("YICIBAN_ISSUANCE_URL", self.url("issuance"))
            .env("YICIBAN_METRICS_ADDR", format!("127.0.0.1:{}", free_port()?))
            .env("YICIBAN_LOG_FORMAT", "text")
            .env("RUST_LOG", std::env::var("YICIBAN_BENCH_LOG").unwrap_or_else(|_| "warn".into()))
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("the child has no pid")?;
        Ok(Process { name, child, pid })
    }

    /// Kills `name` with SIGKILL (no drain, no goodbye) and reaps it.
    pub async fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let p = self.processes.iter_mut().find(|p| p.name == name).context("no such service")?;
        p.child.start_kill().with_context(|| format!("killing {name}"))?;
        p.child.wait().await?;
        Ok(())
    }

    /// Stops `name` as an orchestrator scaling it to zero does: SIGTERM (it
    /// drains), SIGKILL after 10 s; reaps it.
    pub async fn terminate(&mut self, name: &str) -> anyhow::Result<()> {
        self.signal(name, "TERM").await?;
        let p = self.processes.iter_mut().find(|p| p.name == name).context("no such service")?;
        if tokio::time::timeout(Duration::from_secs(10), p.child.wait()).await.is_err() {
            p.child.start_kill().with_context(|| format!("killing {name}"))?;
            p.child.wait().await?;
        }
        Ok(())
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to the process of `name`: a
    /// stopped process keeps its sockets open and answers nothing, like one
    /// in a long pause.
    pub async fn signal(&self, name: &str, signal: &str) -> anyhow::Result<()> {
        let p = self.processes.iter().find(|p| p.name == name).context("no such service")?;
        let status = Command::new("kill").arg(format!("-{signal}")).arg(p.pid.to_string()).status().await?;
        if !status.success() {
            bail!("kill -{signal} {name} failed ({status})");
        }
        Ok(())
    }

    /// Starts `name` again (after [`System::kill`]) on the same port and
    /// data, and waits until it answers its health check.
    pub async fn restart(&mut self, name: &'static str) -> anyhow::Result<()> {
        let process = self.spawn(name)?;
        if let Some(p) = self.processes.iter_mut().find(|p| p.name == name) {
            *p = process;
        }
        let url = self.url(name);
        self.wait_serving(name, &url).await
    }

    async fn wait_serving(&mut self, name: &str, url: &str) -> anyhow::Result<()> {
        let log_dir = self.wiring.log_dir.clone();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(p) = self.processes.iter_mut().find(|p| p.name == name)
                && let Some(status) = p.child.try_wait()?
            {
                bail!("{name} exited ({status}) while starting; see {}/{name}.log", log_dir.display());
            }
            let serving = async {
                let channel = tonic::transport::Endpoint::from_shared(url.to_owned()).ok()?.connect().await.ok()?;
                let status = HealthClient::new(channel)
                    .check(HealthCheckRequest { service: String::new() })
                    .await
                    .ok()?
                    .into_inner()
                    .status;
                (status == ServingStatus::Serving as i32).then_some(())
            }
            .await;
            if serving.is_some() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{name} did not become ready within 60 s; see {}/{name}.log", log_dir.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The gRPC address of a service.
    pub fn url(&self, service: &str) -> String {
        self.urls.iter().find(|(n, _)| *n == service).map(|(_, u)| u.clone()).unwrap_or_default()
    }

    /// CPU and memory of every service now.
    pub fn usage(&self) -> Vec<(&'static str, Usage)> {
        self.processes.iter().map(|p| (p.name, procfs::usage(p.pid).unwrap_or_default())).collect()
    }

    /// Fails when a service has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        for p in &mut self.processes {
            if let Some(status) = p.child.try_wait()? {
                bail!("{} exited during the run ({status})", p.name);
            }
        }
        Ok(())
    }

    /// Stops every service (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop(mut self) {
        for p in &self.processes {
            let _ = Command::new("kill").arg("-TERM").arg(p.pid.to_string()).status().await;
        }
        for p in &mut self.processes {
            if tokio::time::timeout(Duration::from_secs(10), p.child.wait()).await.is_err() {
                let _ = p.child.start_kill();
                let _ = p.child.wait().await;
            }
        }
    }
}

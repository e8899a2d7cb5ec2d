//! The system under test: every service as its own process (the release
//! binaries for the benchmark, any build for the fault tests), on free
//! ports, against a database and NATS prefix of the run's own, so that each
//! one's CPU and memory can be read from /proc and each one can be killed
//! (SIGKILL) and started again on the same port and data. With
//! [`System::start_replicas`], N processes of every service share the same
//! database and NATS prefix, each on its own port: replica i of a service
//! calls replica i of the others.

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
    replica: usize,
    child: Child,
    pid: u32,
}

/// The running services.
pub struct System {
    wiring: Wiring,
    replicas: usize,
    /// The port of each service's replica, replica 0 first.
    ports: Vec<(&'static str, Vec<u16>)>,
    processes: Vec<Process>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System").field("replicas", &self.replicas).field("ports", &self.ports).finish()
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
    /// Starts every service (one process each) and waits until each answers
    /// its health check.
    pub async fn start(wiring: &Wiring) -> anyhow::Result<System> {
        System::start_replicas(wiring, 1).await
    }

    /// Starts `replicas` processes of every service on the same database and
    /// NATS prefix, each on a port of its own, and waits until each answers
    /// its health check. Replica i is told the addresses of replica i of the
    /// others, so the calls between services spread over the replicas too.
    pub async fn start_replicas(wiring: &Wiring, replicas: usize) -> anyhow::Result<System> {
        if replicas == 0 {
            bail!("at least one replica of each service");
        }
        std::fs::create_dir_all(&wiring.log_dir)
            .with_context(|| format!("creating the log directory {}", wiring.log_dir.display()))?;
        let mut ports = Vec::new();
        for name in SERVICES {
            ports.push((name, (0..replicas).map(|_| free_port()).collect::<anyhow::Result<Vec<u16>>>()?));
        }
        for name in SERVICES {
            for replica in 0..replicas {
                // Each run's logs begin empty; a restart appends.
                let _ = std::fs::remove_file(wiring.log_dir.join(log_name(name, replica)));
            }
        }
        let mut system = System { wiring: wiring.clone(), replicas, ports, processes: Vec::new() };
        for name in SERVICES {
            for replica in 0..replicas {
                let process = system.spawn(name, replica)?;
                system.processes.push(process);
            }
        }
        for name in SERVICES {
            for replica in 0..replicas {
                let url = system.url_of(name, replica);
                system.wait_serving(name, replica, &url).await?;
            }
        }
        Ok(system)
    }

    /// Processes per service.
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// Starts replica `replica` of `name` on its port (its log appended to).
    fn spawn(&self, name: &'static str, replica: usize) -> anyhow::Result<Process> {
        let wiring = &self.wiring;
        let port = self
            .ports
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, p)| p.get(replica).copied())
            .context("no such service")?;
        let binary = wiring.bin_dir.join(format!("yiciban-{name}"));
        if !binary.exists() {
            bail!("{} is missing: build it with `cargo build --bins`", binary.display());
        }
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(wiring.log_dir.join(log_name(name, replica)))?;
        let mut command = Command::new(&binary);
        command
            .env("DATABASE_URL", wiring.database_url(name))
            .env("NATS_URL", &wiring.nats_url)
            .env("YICIBAN_NATS_PREFIX", &wiring.nats_prefix)
            .env("YICIBAN_DEV_MODE", "true")
            .env("YICIBAN_OIDC_ISSUER", &wiring.issuer_url)
            .env("YICIBAN_GRPC_ADDR", format!("127.0.0.1:{port}"))
            .env("YICIBAN_INTAKE_URL", self.url_of("intake", replica))
            .env("YICIBAN_ROUTING_URL", self.url_of("routing", replica))
            .env("YICIBAN_TASKS_URL", self.url_of("tasks", replica))
            .env("YICIBAN_ISSUANCE_URL", self.url_of("issuance", replica))
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
        Ok(Process { name, replica, child, pid })
    }

    /// Kills every replica of `name` with SIGKILL (no drain, no goodbye)
    /// and reaps them.
    pub async fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let mut found = false;
        for p in self.processes.iter_mut().filter(|p| p.name == name) {
            found = true;
            p.child.start_kill().with_context(|| format!("killing {name}"))?;
            p.child.wait().await?;
        }
        if !found {
            bail!("no such service: {name}");
        }
        Ok(())
    }

    /// Stops every replica of `name` as an orchestrator scaling it to zero
    /// does: SIGTERM (it drains), SIGKILL after 10 s; reaps them.
    pub async fn terminate(&mut self, name: &str) -> anyhow::Result<()> {
        self.signal(name, "TERM").await?;
        for p in self.processes.iter_mut().filter(|p| p.name == name) {
            if tokio::time::timeout(Duration::from_secs(10), p.child.wait()).await.is_err() {
                p.child.start_kill().with_context(|| format!("killing {name}"))?;
                p.child.wait().await?;
            }
        }
        Ok(())
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to every replica of `name`: a
    /// stopped process keeps its sockets open and answers nothing, like one
    /// in a long pause.
    pub async fn signal(&self, name: &str, signal: &str) -> anyhow::Result<()> {
        let pids: Vec<u32> = self.processes.iter().filter(|p| p.name == name).map(|p| p.pid).collect();
        if pids.is_empty() {
            bail!("no such service: {name}");
        }
        for pid in pids {
            let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().await?;
            if !status.success() {
                bail!("kill -{signal} {name} (pid {pid}) failed ({status})");
            }
        }
        Ok(())
    }

    /// Starts every replica of `name` again (after [`System::kill`]) on the
    /// same ports and data, and waits until each answers its health check.
    pub async fn restart(&mut self, name: &'static str) -> anyhow::Result<()> {
        for replica in 0..self.replicas {
            let process = self.spawn(name, replica)?;
            if let Some(p) = self.processes.iter_mut().find(|p| p.name == name && p.replica == replica) {
                *p = process;
            }
        }
        for replica in 0..self.replicas {
            let url = self.url_of(name, replica);
            self.wait_serving(name, replica, &url).await?;
        }
        Ok(())
    }

    async fn wait_serving(&mut self, name: &str, replica: usize, url: &str) -> anyhow::Result<()> {
        let log = self.wiring.log_dir.join(log_name(name, replica));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(p) = self.processes.iter_mut().find(|p| p.name == name && p.replica == replica)
                && let Some(status) = p.child.try_wait()?
            {
                bail!("{name} exited ({status}) while starting; see {}", log.display());
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
                bail!("{name} did not become ready within 60 s; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The gRPC address of a service (its first replica).
    pub fn url(&self, service: &str) -> String {
        self.url_of(service, 0)
    }

    /// The gRPC address of replica `replica` of a service.
    pub fn url_of(&self, service: &str, replica: usize) -> String {
        self.ports
            .iter()
            .find(|(n, _)| *n == service)
            .and_then(|(_, p)| p.get(replica))
            .map(|p| format!("http://127.0.0.1:{p}"))
            .unwrap_or_default()
    }

    /// The gRPC addresses of every replica of a service, replica 0 first.
    pub fn urls(&self, service: &str) -> Vec<String> {
        (0..self.replicas).map(|r| self.url_of(service, r)).collect()
    }

    /// CPU and memory of every service now, summed over its replicas (with
    /// one replica, the process's own figures).
    pub fn usage(&self) -> Vec<(&'static str, Usage)> {
        sum_by_service(&self.usage_per_process())
    }

    /// CPU and memory of every process now: service, replica, usage.
    pub fn usage_per_process(&self) -> Vec<(&'static str, usize, Usage)> {
        self.processes.iter().map(|p| (p.name, p.replica, procfs::usage(p.pid).unwrap_or_default())).collect()
    }

    /// Fails when a service has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        for p in &mut self.processes {
            if let Some(status) = p.child.try_wait()? {
                bail!("{} (replica {}) exited during the run ({status})", p.name, p.replica);
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

/// The log file of a replica: `<service>.log` for the first (as with one
/// process per service), `<service>-<i>.log` for the others.
fn log_name(service: &str, replica: usize) -> String {
    if replica == 0 { format!("{service}.log") } else { format!("{service}-{replica}.log") }
}

/// Usage per service, summed over its processes, in the order each service
/// first appears. Peak RSS is the sum of each replica's own peak: an upper
/// bound of the replicas' peak together.
pub fn sum_by_service(per_process: &[(&'static str, usize, Usage)]) -> Vec<(&'static str, Usage)> {
    let mut sums: Vec<(&'static str, Usage)> = Vec::new();
    for (name, _, u) in per_process {
        let i = match sums.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                sums.push((name, Usage::default()));
                sums.len() - 1
            }
        };
        let s = &mut sums[i].1;
        s.cpu_seconds += u.cpu_seconds;
        s.cpu_seconds_with_children += u.cpu_seconds_with_children;
        s.rss_bytes += u.rss_bytes;
        s.peak_rss_bytes += u.peak_rss_bytes;
    }
    sums
}

/// The largest peak RSS of any single process.
pub fn largest_process_rss(per_process: &[(&'static str, usize, Usage)]) -> u64 {
    per_process.iter().map(|(_, _, u)| u.peak_rss_bytes).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(cpu: f64, peak_mib: u64) -> Usage {
        Usage { cpu_seconds: cpu, cpu_seconds_with_children: cpu, rss_bytes: 0, peak_rss_bytes: peak_mib << 20 }
    }

    #[test]
    fn replicas_are_summed_per_service_and_the_largest_process_kept() {
        let per = [
            ("tracking", 0, usage(1.0, 40)),
            ("intake", 0, usage(2.0, 30)),
            ("tracking", 1, usage(0.5, 50)),
            ("intake", 1, usage(1.5, 20)),
        ];
        let sums = sum_by_service(&per);
        assert_eq!(sums.iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["tracking", "intake"]);
        assert_eq!(sums[0].1.cpu_seconds, 1.5);
        assert_eq!(sums[0].1.peak_rss_bytes, 90 << 20);
        assert_eq!(sums[1].1.cpu_seconds, 3.5);
        assert_eq!(largest_process_rss(&per), 50 << 20);
        assert_eq!(largest_process_rss(&[]), 0);
    }

    #[test]
    fn the_first_replica_keeps_the_single_process_log_name() {
        assert_eq!(log_name("tasks", 0), "tasks.log");
        assert_eq!(log_name("tasks", 1), "tasks-1.log");
    }
}

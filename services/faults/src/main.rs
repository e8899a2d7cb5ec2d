#![forbid(unsafe_code)]
//! `yiciban-faults` (`make faults`): runs every service as its own process
//! against a Postgres cluster and a nats-server of its own, breaks one part
//! at a time under a load of clients that resend on the same idempotency
//! keys — kill -9 each service, kill -9 nats-server, NATS away for a
//! minute, Postgres crash-restarted, a service's database connections
//! stalled, the ledger restored to a point in time — and checks after each that no case was lost, no effect done
//! twice, the outboxes drained and the read models equal a rebuild. Writes
//! the table into docs/RELIABILITY.md; exits non-zero on any broken promise.

mod bed;
mod checks;
mod infra;
mod load;
mod pitr;
mod proxy;
mod report;
mod scenario;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;

use crate::bed::{Bed, Programs};
use crate::scenario::Fault;

#[derive(Debug, Parser)]
#[command(name = "yiciban-faults", about = "Fault tests of the whole system with real processes")]
struct Args {
    /// Clients driving cases at once in each scenario.
    #[arg(long, default_value_t = 40)]
    concurrency: usize,
    /// Seconds NATS stays away in the nats-away scenario.
    #[arg(long, default_value_t = 60)]
    nats_away_seconds: u64,
    /// Seconds the proxy stalls the task service's database connections.
    #[arg(long, default_value_t = 20)]
    stall_seconds: u64,
    /// Seconds routing stays paused: past the consumers' 20 s ack wait, so
    /// the messages it held are delivered again.
    #[arg(long, default_value_t = 25)]
    pause_seconds: u64,
    /// Seconds Postgres stays stopped in the postgres-away scenario.
    #[arg(long, default_value_t = 30)]
    postgres_away_seconds: u64,
    /// How many times to run the scenarios (on the same system).
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Seconds after a fault's end by which everything must have recovered.
    #[arg(long, default_value_t = 180)]
    recovery_timeout: u64,
    /// Run only these scenarios (by name, e.g. kill-tasks, nats-away).
    #[arg(long)]
    only: Vec<String>,
    /// Where the service binaries are.
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// The directory of Postgres' initdb and pg_ctl (default: PATH, then the
    /// newest /usr/lib/postgresql/*/bin).
    #[arg(long, env = "PG_BIN")]
    pg_bin: Option<PathBuf>,
    /// The system user Postgres runs as when this runs as root.
    #[arg(long, env = "PG_USER", default_value = "postgres")]
    pg_user: String,
    /// The nats-server binary (default: PATH, then /usr/sbin).
    #[arg(long, env = "NATS_SERVER")]
    nats_server: Option<PathBuf>,
    /// Write the table into this Markdown file, between its markers.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Where the services' logs go.
    #[arg(long, default_value = "target/faults")]
    log_dir: PathBuf,
}

/// `name` in PATH or in one of `more`.
fn find_program(name: &str, more: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain(more.iter().map(PathBuf::from)).map(|d| d.join(name)).find(|p| p.is_file())
}

fn pg_bin(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.pg_bin {
        return Ok(dir.clone());
    }
    if let Some(initdb) = find_program("initdb", &[]) {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return Ok(real.parent().unwrap_or(Path::new("/")).to_owned());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).context(
        "initdb not found (PATH, /usr/lib/postgresql/*/bin); `make faults` installs it through deploy/local/infra.sh tools",
    )
}

fn version_of(program: &Path, arg: &str) -> String {
    std::process::Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.lines().next().unwrap_or_default().trim().to_owned())
        .unwrap_or_default()
}

fn scenarios(args: &Args) -> Vec<Fault> {
    let mut all: Vec<Fault> = yiciban_bench::system::SERVICES.iter().map(|s| Fault::Kill(s)).collect();
    all.extend([
        Fault::NatsRestart,
        Fault::NatsAway(Duration::from_secs(args.nats_away_seconds)),
        Fault::PostgresRestart,
        Fault::PostgresAway(Duration::from_secs(args.postgres_away_seconds)),
        Fault::Stall("tasks", Duration::from_secs(args.stall_seconds)),
        Fault::Pause("routing", Duration::from_secs(args.pause_seconds)),
        Fault::PitrRestore,
    ]);
    all.retain(|f| args.only.is_empty() || args.only.contains(&f.name()));
    all
}

/// Runs [`run`]; a failure is printed as its chain of causes, last, with no
/// backtrace (CI shows the end of the output: the cause must be there).
#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("==> the fault tests FAILED: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let programs = Programs {
        bin_dir: args.bin_dir.clone(),
        pg_bin: pg_bin(&args)?,
        pg_user: Some(args.pg_user.clone()),
        nats_server: match &args.nats_server {
            Some(p) => p.clone(),
            None => find_program("nats-server", &["/usr/sbin", "/usr/local/sbin"])
                .context("nats-server not found; `make faults` installs it through deploy/local/infra.sh tools")?,
        },
        log_dir: args.log_dir.clone(),
    };
    let faults = scenarios(&args);
    if faults.is_empty() {
        bail!("no scenario is named {:?}", args.only);
    }
    eprintln!(
        "==> starting our own Postgres ({}) and nats-server ({}), and the services from {} (logs in {})",
        programs.pg_bin.display(),
        programs.nats_server.display(),
        programs.bin_dir.display(),
        programs.log_dir.display()
    );
    let patience = Duration::from_secs(args.recovery_timeout);
    let mut bed = Bed::start(&programs, patience).await?;
    // Ctrl-C or SIGTERM: the servers and services stop and their
    // directories are removed as the bed drops.
    let interrupted = yiciban_platform::runtime::shutdown_on_signal();
    let mut reports = Vec::new();
    let result = async {
        for round in 1..=args.rounds {
            for fault in faults.iter().copied() {
                let report = tokio::select! {
                    r = scenario::run(&mut bed, fault, round, args.concurrency, patience) => r?,
                    _ = interrupted.cancelled() => bail!("interrupted"),
                };
                reports.push(report);
            }
        }
        anyhow::Ok(())
    }
    .await;
    let setting = report::Setting {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: yiciban_bench::procfs::machine(),
        postgres: version_of(&programs.pg_bin.join("postgres"), "--version"),
        nats: version_of(&programs.nats_server, "--version"),
        seconds: started.elapsed().as_secs_f64(),
    };
    let Bed { system, .. } = bed;
    system.stop().await;
    let generated = report::render(&setting, &reports);
    // The table of what ran, then a failure (logs in log_dir) if one came.
    println!("{generated}");
    if let Err(e) = result {
        return Err(
            e.context(format!("a scenario could not finish (the services' logs are in {})", args.log_dir.display()))
        );
    }
    if let Some(path) = &args.markdown {
        let document = std::fs::read_to_string(path).unwrap_or_else(|_| "# Reliability\n".into());
        std::fs::write(path, yiciban_bench::markdown::splice(&document, report::BEGIN, report::END, &generated))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("==> table written to {}", path.display());
    }
    let broken: Vec<String> =
        reports.iter().flat_map(|r| r.problems.iter().map(move |p| format!("{}: {p}", r.fault.name()))).collect();
    if !broken.is_empty() {
        bail!("{} broken promise(s):\n  {}", broken.len(), broken.join("\n  "));
    }
    eprintln!("==> every scenario kept every promise ({:.0} s)", started.elapsed().as_secs_f64());
    Ok(())
}

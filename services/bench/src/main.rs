#![forbid(unsafe_code)]
//! `yiciban-bench` (`make bench`): starts every service as its own process
//! against a database and NATS prefix of its own, drives complete cases
//! through gRPC, and prints (and with `--markdown`, writes) the figures
//! beside raw Postgres and JetStream baselines measured in the same run.
//! It measures; it does not pass or fail on a figure. With `--replicas N`
//! (or a list, `--replicas 1,2`: the whole measurement once per N, each on
//! a fresh database and NATS prefix) it runs N processes of every service
//! and adds a "Scale-out" table; after every run a correctness check reads
//! the database (one task per step, each warning once, the read models equal
//! a replay, each effect once), and the benchmark exits non-zero when it
//! fails. With `--province` it runs no system: it simulates a province's
//! deployment with the costs measured here (`make scale-model`).

mod baseline;
mod report;
mod sealing;
mod workbench;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use yiciban_testkit::{TestDb, TestNats};

use yiciban_bench::driver::Driver;
use yiciban_bench::progress::Progress;
use yiciban_bench::system::{System, Wiring};
use yiciban_bench::{correctness, feed, observe, procfs, province};

use crate::report::{Figures, Phase, Setting};

#[derive(Debug, Parser)]
#[command(name = "yiciban-bench", about = "Benchmark of the whole system beside raw Postgres and JetStream baselines")]
struct Args {
    /// Complete cases in the peak phase.
    #[arg(long, default_value_t = 2000)]
    cases: u64,
    /// Cases driven at once in the peak phase (also the baselines' concurrency).
    #[arg(long, default_value_t = 48)]
    concurrency: usize,
    /// Seconds of load at half the peak case rate (for the lag figures).
    #[arg(long, default_value_t = 20.0)]
    half_load_seconds: f64,
    /// Seconds each baseline loop runs.
    #[arg(long, default_value_t = 5.0)]
    baseline_seconds: f64,
    /// Cases run before measuring (connections, caches).
    #[arg(long, default_value_t = 50)]
    warmup: u64,
    /// Processes of every service, all on the same database and NATS
    /// prefix; a list (`1,2`) runs the whole measurement once per number,
    /// each on a fresh database and NATS prefix, and compares them.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    replicas: Vec<usize>,
    /// Where the service binaries are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Write the figures into this Markdown file, between its bench markers.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Where the services' logs go.
    #[arg(long, default_value = "target/bench")]
    log_dir: PathBuf,
    /// Measure the workbench's pages instead (inbox, worklist, case page,
    /// overdue board) with `--workbench-cases` cases in the read models.
    #[arg(long)]
    workbench: bool,
    /// Cases loaded into the read models for `--workbench`.
    #[arg(long, default_value_t = 10_000)]
    workbench_cases: u64,
    /// Timed requests of each page at each concurrency, for `--workbench`.
    #[arg(long, default_value_t = 300)]
    workbench_requests: u64,
    /// The concurrencies the pages are requested at, for `--workbench`.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    workbench_concurrency: Vec<usize>,
    /// Write `EXPLAIN (ANALYZE, BUFFERS)` of the pages' read-model queries
    /// here, for `--workbench`.
    #[arg(long)]
    explain: Option<PathBuf>,
    /// Run the province model instead (`make scale-model`): a simulation
    /// of docs/SCALING.md's province and sizing, fed with the costs per
    /// event the benchmark measured; no database, no NATS. With
    /// `--markdown`, written between its own markers.
    #[arg(long)]
    province: bool,
    #[command(flatten)]
    model: ProvinceArgs,
}

/// `--province`'s overrides; the defaults are docs/SCALING.md's province
/// and sizing and the latest measured costs (`province::Costs::measured`).
#[derive(Debug, clap::Args)]
struct ProvinceArgs {
    /// Cases a day in the province.
    #[arg(long, default_value_t = 50_000.0)]
    province_cases_per_day: f64,
    /// Cities; the submissions spread evenly over them (city i takes
    /// counter row i mod `--province-counters`).
    #[arg(long, default_value_t = 12)]
    province_cities: usize,
    /// The morning peak's rate, times the day's mean.
    #[arg(long, default_value_t = 10.0)]
    province_peak: f64,
    /// Postgres's cores.
    #[arg(long, default_value_t = 8)]
    province_postgres_cores: usize,
    /// Processes of every service.
    #[arg(long, default_value_t = 2)]
    province_replicas: usize,
    /// Cores of each service process (0.5: limited to half a core).
    #[arg(long, default_value_t = 0.5)]
    province_cores_per_replica: f64,
    /// nats-server's cores.
    #[arg(long, default_value_t = 1)]
    province_nats_cores: usize,
    /// Case-number counter rows the submissions take (1: one a day, today).
    #[arg(long, default_value_t = 1)]
    province_counters: usize,
    /// Postgres CPU-ms per event (default: the latest measured, 1.201).
    #[arg(long)]
    province_postgres_ms: Option<f64>,
    /// How long a submission holds the counter row, ms (default: from the
    /// measured wait, 16.2).
    #[arg(long)]
    province_counter_hold_ms: Option<f64>,
    /// The simulation's seed.
    #[arg(long, default_value_t = 20)]
    province_seed: u64,
}

/// The province model (`--province`): printed, and with `--markdown`
/// written between its markers.
fn province_run(args: &Args) -> anyhow::Result<()> {
    let m = &args.model;
    let mut costs = province::Costs::measured();
    costs.postgres_ms = m.province_postgres_ms.unwrap_or(costs.postgres_ms);
    costs.counter_hold_ms = m.province_counter_hold_ms.unwrap_or(costs.counter_hold_ms);
    let options = province::Options {
        cities: m.province_cities,
        cases_per_day: m.province_cases_per_day,
        peak_factor: m.province_peak,
        postgres_cores: m.province_postgres_cores,
        replicas: m.province_replicas,
        cores_per_replica: m.province_cores_per_replica,
        nats_cores: m.province_nats_cores,
        counters: m.province_counters,
        costs,
        seed: m.province_seed,
        ..province::Options::default()
    };
    let started = Instant::now();
    let report = province::run(&options).map_err(|e| anyhow::anyhow!("the province model: {e}"))?;
    let generated = province::report::render(&report);
    println!("{generated}");
    eprintln!("==> the province model ran in {:.1} s", started.elapsed().as_secs_f64());
    if let Some(path) = &args.markdown {
        let document = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        std::fs::write(path, province::report::splice(&document, &generated))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("==> figures written to {}", path.display());
    }
    Ok(())
}

/// The workbench's pages (`--workbench`): the report, also written into
/// `--markdown` between its own markers.
async fn workbench_run(args: &Args) -> anyhow::Result<()> {
    let machine = procfs::machine();
    eprintln!("==> yiciban workbench benchmark on {} × {} ({:.0} GiB)", machine.cores, machine.cpu, machine.memory_gib);
    let options = workbench::Options {
        cases: args.workbench_cases,
        load_concurrency: args.concurrency,
        requests: args.workbench_requests,
        concurrencies: args.workbench_concurrency.clone(),
        explain: args.explain.clone(),
    };
    let generated = workbench::run(&options).await?;
    println!("{generated}");
    if let Some(path) = &args.markdown {
        let document = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
        std::fs::write(path, workbench::splice(&document, &generated))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("==> figures written to {}", path.display());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.province {
        return province_run(&args);
    }
    if args.workbench {
        return workbench_run(&args).await;
    }
    if args.replicas.is_empty() || args.replicas.contains(&0) {
        anyhow::bail!("--replicas takes numbers of processes per service, each at least 1");
    }
    let machine = procfs::machine();
    eprintln!("==> yiciban benchmark on {} × {} ({:.0} GiB)", machine.cores, machine.cpu, machine.memory_gib);
    // Ctrl-C or SIGTERM stops the run cleanly: the services (killed when
    // their handles drop), the database and the stream are removed.
    let interrupted = yiciban_platform::runtime::shutdown_on_signal();
    let mut runs = Vec::new();
    for &replicas in &args.replicas {
        // With several runs, each one's logs in a directory of its own.
        let log_dir = if args.replicas.len() > 1 {
            args.log_dir.join(format!("replicas-{replicas}"))
        } else {
            args.log_dir.clone()
        };
        runs.push(measure(&args, machine.clone(), replicas, log_dir, &interrupted).await?);
    }
    let generated = report::render_runs(&runs);
    println!("{generated}");
    if let Some(path) = &args.markdown {
        let document = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
        std::fs::write(path, report::splice(&document, &generated))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("==> figures written to {}", path.display());
    }
    let failed: Vec<String> =
        runs.iter().filter(|f| !f.correctness.passed()).map(|f| f.setting.replicas.to_string()).collect();
    if !failed.is_empty() {
        anyhow::bail!("the correctness check failed with {} replicas (see the table above)", failed.join(", "));
    }
    Ok(())
}

/// One whole measurement with `replicas` processes of every service, on a
/// database and NATS prefix of its own (both removed at the end).
async fn measure(
    args: &Args,
    machine: procfs::Machine,
    replicas: usize,
    log_dir: PathBuf,
    interrupted: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Figures> {
    let db = TestDb::new(8).await;
    let nats = TestNats::new().await;
    eprintln!(
        "==> {replicas} replica(s) of every service; database {} and NATS prefix {} (both removed at the end)",
        db.name,
        nats.subjects.prefix()
    );
    let result = tokio::select! {
        result = run(args, machine, replicas, &log_dir, &db, &nats) => result,
        _ = interrupted.cancelled() => Err(anyhow::anyhow!("interrupted; the services were stopped and the benchmark's database and stream removed")),
    };
    drop(nats);
    drop(db);
    let figures = result?;
    eprintln!(
        "==> correctness with {replicas} replica(s): {}",
        if figures.correctness.passed() { "passed" } else { "FAILED" }
    );
    for c in &figures.correctness.checks {
        eprintln!("    {} {}: {}", if c.passed { "ok  " } else { "FAIL" }, c.name, c.detail);
    }
    Ok(figures)
}

fn database_url(db: &TestDb) -> String {
    let base = yiciban_testkit::database_url();
    let (without_query, query) = base.split_once('?').map_or((base.as_str(), None), |(a, b)| (a, Some(b)));
    let root = without_query.rsplit_once('/').map_or(without_query, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{}?{q}", db.name),
        None => format!("{root}/{}", db.name),
    }
}

/// How often the statistics are gathered during the load ([`observe::Analyzer`]).
const ANALYZE_EVERY: Duration = Duration::from_secs(10);

async fn setting(
    args: &Args,
    machine: procfs::Machine,
    replicas: usize,
    db: &TestDb,
    nats: &TestNats,
) -> anyhow::Result<Setting> {
    let show = |name: &'static str| async move {
        sqlx::query_scalar::<_, String>("SELECT current_setting($1)")
            .bind(name)
            .fetch_one(&db.pool)
            .await
            .unwrap_or_default()
    };
    let info = nats.client.server_info();
    let nats_line = procfs::command_line("nats-server")
        .map(|c| format!("started as `{c}`"))
        .unwrap_or_else(|| "its command line is not visible here".into());
    Ok(Setting {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine,
        postgres: show("server_version").await,
        durability: vec![
            ("Postgres synchronous_commit".into(), show("synchronous_commit").await),
            (
                "Postgres fsync / wal_sync_method".into(),
                format!("{} / {}", show("fsync").await, show("wal_sync_method").await),
            ),
            (
                "Postgres autovacuum / statistics".into(),
                format!(
                    "autovacuum {}; the benchmark runs `ANALYZE` after the warm-up and every {} s until the load \
                     ends, as autovacuum would keep the statistics of a running system (without it the plans the \
                     services cached while the tables were nearly empty stay sequential scans)",
                    show("autovacuum").await,
                    ANALYZE_EVERY.as_secs()
                ),
            ),
            (
                "JetStream".into(),
                format!(
                    "file storage, 1 replica; {nats_line}: no `sync_interval` set, so the server's default applies \
                     (an ack means written to the OS, fsync at the latest every 2 minutes)"
                ),
            ),
        ],
        nats: format!("nats-server {}, JetStream {}", info.version, if info.jetstream { "on" } else { "off" }),
        package: "newborn-birth".into(),
        cases: args.cases,
        concurrency: args.concurrency,
        half_load_seconds: args.half_load_seconds,
        replicas,
    })
}

/// CPU seconds of every process that does the work, now.
fn cpu_now(system: &System) -> Vec<(String, f64)> {
    let mut cpu: Vec<(String, f64)> = system.usage().into_iter().map(|(n, u)| (n.to_owned(), u.cpu_seconds)).collect();
    if let Some(pg) = procfs::server_cpu_seconds("postgres") {
        cpu.push(("postgres (all backends)".into(), pg));
    }
    if let Some(n) = procfs::server_cpu_seconds("nats-server") {
        cpu.push(("nats-server".into(), n));
    }
    if let Ok(me) = procfs::usage(std::process::id()) {
        cpu.push(("load generator".into(), me.cpu_seconds));
    }
    cpu
}

fn cpu_delta(before: &[(String, f64)], after: &[(String, f64)]) -> Vec<(String, f64)> {
    after.iter().map(|(n, a)| (n.clone(), a - before.iter().find(|(m, _)| m == n).map_or(0.0, |(_, b)| *b))).collect()
}

async fn run(
    args: &Args,
    machine: procfs::Machine,
    replicas: usize,
    log_dir: &std::path::Path,
    db: &TestDb,
    nats: &TestNats,
) -> anyhow::Result<Figures> {
    let setting = setting(args, machine, replicas, db, nats).await?;
    // The services verify tokens through the development issuer, as under `make run`.
    let issuer = yiciban_testkit::TestIssuer::start().await;
    let wiring = Wiring {
        bin_dir: args.bin_dir.clone(),
        database_url: database_url(db),
        nats_url: yiciban_testkit::nats_url(),
        nats_prefix: nats.subjects.prefix().to_owned(),
        issuer_url: issuer.url(),
        log_dir: log_dir.to_owned(),
        database_url_of: Vec::new(),
    };
    eprintln!(
        "==> starting intake, routing, tasks, issuance and tracking, {replicas} process(es) each (logs in {})",
        log_dir.display()
    );
    let mut system = System::start_replicas(&wiring, replicas).await?;
    let feed = feed::Feed::start(&nats.client, &nats.subjects).await?;
    let run_id = nats.subjects.prefix().to_owned();
    let driver = Driver::connect_replicas(
        &system.urls("intake"),
        &system.urls("tasks"),
        &system.urls("issuance"),
        issuer.clone(),
        feed,
        &run_id,
    )
    .await?;

    eprintln!("==> warming up with {} cases", args.warmup);
    let next = Arc::new(AtomicU64::new(0));
    closed_loop(&driver, &next, args.warmup, args.concurrency.min(args.warmup.max(1) as usize), "warm-up cases").await;
    observe::wait_projected(&db.pool, Duration::from_secs(120)).await?;
    // Statistics kept current from here to the end of the load (see `Analyzer`).
    let analyzer = observe::Analyzer::start(db.pool.clone(), ANALYZE_EVERY).await?;
    driver.latencies.take();

    eprintln!("==> peak: {} cases, {} at a time", args.cases, args.concurrency);
    let cpu0 = cpu_now(&system);
    let events0 = observe::events_total(&db.pool).await?;
    let sampler = observe::BacklogSampler::start(db.pool.clone());
    let (t0, wall0) = (chrono::Utc::now(), Instant::now());
    let outcome = closed_loop(&driver, &next, args.cases, args.concurrency, "cases").await;
    let (t1, seconds) = (chrono::Utc::now(), wall0.elapsed().as_secs_f64());
    let cpu1 = cpu_now(&system);
    let events1 = observe::events_total(&db.pool).await?;
    let backlog = sampler.finish().await;
    system.check_alive()?;
    if replicas > 1 {
        // That every replica took its share: each process's CPU so far.
        let each: Vec<String> = system
            .usage_per_process()
            .iter()
            .map(|(name, replica, u)| format!("{name}#{replica} {:.1}", u.cpu_seconds))
            .collect();
        eprintln!("==> CPU seconds of each process so far: {}", each.join(", "));
    }
    observe::wait_projected(&db.pool, Duration::from_secs(300)).await?;
    let mut peak = Phase {
        cases: outcome.done,
        failed: outcome.failed,
        commands: outcome.commands,
        events: events1 - events0,
        seconds,
        latencies: driver.latencies.take(),
        case_ms: outcome.case_ms,
        lag_ms: observe::projection_lag(&db.pool, t0, t1).await?,
        cpu: cpu_delta(&cpu0, &cpu1),
    };
    if peak.cases == 0 {
        anyhow::bail!("no case completed; see the service logs in {}", log_dir.display());
    }

    let half_rate = peak.cases_per_second() / 2.0;
    eprintln!("==> half the peak rate: {half_rate:.1} cases/s for {:.0} s", args.half_load_seconds);
    let t2 = chrono::Utc::now();
    let wall2 = Instant::now();
    let events2 = observe::events_total(&db.pool).await?;
    let outcome = open_loop(&driver, &next, half_rate, Duration::from_secs_f64(args.half_load_seconds)).await;
    let t3 = chrono::Utc::now();
    observe::wait_projected(&db.pool, Duration::from_secs(300)).await?;
    let half = Phase {
        cases: outcome.done,
        failed: outcome.failed,
        commands: outcome.commands,
        events: observe::events_total(&db.pool).await? - events2,
        seconds: wall2.elapsed().as_secs_f64(),
        latencies: driver.latencies.take(),
        case_ms: outcome.case_ms,
        lag_ms: observe::projection_lag(&db.pool, t2, t3).await?,
        cpu: Vec::new(),
    };
    let analyzed = analyzer.finish().await;
    eprintln!("==> statistics gathered {analyzed} times during the load");

    // The read models as the live consumers left them, to compare with
    // their replay after the rebuild.
    correctness::wait_settled(&db.pool, Duration::from_secs(60)).await?;
    let live = correctness::snapshot(&db.pool).await?;
    eprintln!("==> rebuilding the tracking read models");
    let rebuild = observe::rebuild(&system.url("tracking"), &issuer, &run_id).await?;
    eprintln!("==> checking correctness");
    let correctness = correctness::check(&db.pool, &live).await?;
    let per_process = system.usage_per_process();
    let memory = yiciban_bench::system::sum_by_service(&per_process);
    let largest_rss = yiciban_bench::system::largest_process_rss(&per_process);
    system.check_alive()?;
    let payload: Option<f64> = sqlx::query_scalar(observe::EVENT_SIZE).fetch_one(&db.pool).await?;
    let payload_bytes = payload.unwrap_or(512.0).round() as usize;
    eprintln!("==> stopping the services");
    system.stop().await;
    peak.cpu.retain(|(_, c)| c.is_finite());

    let secs = Duration::from_secs_f64(args.baseline_seconds);
    let c = args.concurrency;
    eprintln!("==> baselines at concurrency {c}, {:.0} s each", args.baseline_seconds);
    baseline::prepare(&db.pool).await?;
    let raw_insert =
        baseline::raw_insert(&pool_of(db, c).await?, baseline::Table::EventsShaped, c, secs, payload_bytes).await?;
    let raw_bare = baseline::raw_insert(&pool_of(db, c).await?, baseline::Table::Bare, c, secs, payload_bytes).await?;
    let (append, store) = baseline::store_append(&pool_of(db, c).await?, c, secs, payload_bytes).await?;
    let relay = baseline::relay_drain(store, nats.js.clone(), &format!("{run_id}r")).await?;
    let raw_publish = baseline::raw_publish(&nats.js, &format!("{run_id}p"), c, secs, payload_bytes).await?;
    let sealing = sealing::measure(&pool_of(db, c).await?, c, secs, 20_000).await?;

    Ok(Figures {
        setting,
        peak,
        half,
        backlog,
        rebuild_events: rebuild.events,
        rebuild_seconds: rebuild.seconds,
        memory,
        largest_rss,
        payload_bytes,
        raw_insert,
        raw_bare,
        append,
        raw_publish,
        relay,
        sealing,
        correctness,
    })
}

/// A pool of `size` connections to the benchmark's database.
async fn pool_of(db: &TestDb, size: usize) -> anyhow::Result<sqlx::PgPool> {
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(size as u32)
        .min_connections(size as u32)
        .connect_with(db.connect_options())
        .await?)
}

/// What a phase of cases did.
#[derive(Debug, Default)]
struct Outcome {
    done: u64,
    failed: u64,
    commands: u64,
    case_ms: Vec<f64>,
}

/// What the cases of a phase did so far, and the phase's progress display.
struct Tally {
    outcome: std::sync::Mutex<Outcome>,
    progress: Progress,
}

impl Tally {
    fn new(progress: Progress) -> Tally {
        Tally { outcome: Default::default(), progress }
    }

    fn record(&self, result: anyhow::Result<u64>, started: Instant) {
        let mut o = self.outcome.lock().expect("tally lock");
        match result {
            Ok(commands) => {
                o.done += 1;
                o.commands += commands;
                o.case_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            Err(e) => {
                o.failed += 1;
                if o.failed <= 5 {
                    self.progress.note(&format!("case failed: {e:#}"));
                }
            }
        }
    }

    fn take(&self) -> Outcome {
        std::mem::take(&mut *self.outcome.lock().expect("tally lock"))
    }
}

/// `count` cases, `concurrency` at a time, each started when one finishes.
async fn closed_loop(driver: &Driver, next: &Arc<AtomicU64>, count: u64, concurrency: usize, what: &str) -> Outcome {
    let tally = Arc::new(Tally::new(Progress::start(what, Some(count))));
    let end = next.load(Ordering::SeqCst) + count;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (driver, next, tally) = (driver.clone(), next.clone(), tally.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= end {
                        break;
                    }
                    let t = Instant::now();
                    let result = driver.run_case(n).await;
                    tally.record(result, t);
                    tally.progress.inc();
                }
            })
        })
        .collect();
    futures::future::join_all(workers).await;
    tally.progress.finish();
    // Each worker took one number past the end.
    next.store(end, Ordering::SeqCst);
    tally.take()
}

/// Starts cases at `rate` per second for `duration`, whatever the system's
/// pace, then waits for them to finish.
async fn open_loop(driver: &Driver, next: &Arc<AtomicU64>, rate: f64, duration: Duration) -> Outcome {
    let total = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let tally = Arc::new(Tally::new(Progress::start("cases started", Some(total))));
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut cases = Vec::new();
    for _ in 0..total {
        ticker.tick().await;
        let (driver, case_tally) = (driver.clone(), tally.clone());
        let n = next.fetch_add(1, Ordering::SeqCst);
        cases.push(tokio::spawn(async move {
            let t = Instant::now();
            let result = driver.run_case(n).await;
            case_tally.record(result, t);
        }));
        tally.progress.inc();
    }
    tally.progress.finish();
    futures::future::join_all(cases).await;
    tally.take()
}

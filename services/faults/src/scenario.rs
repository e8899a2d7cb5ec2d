//! The scenarios, one at a time on the same running system: a load of
//! retrying clients runs, one part is broken and repaired, the load stops
//! starting cases, and the stores are checked once everything has settled.
//! The time to recover runs from the end of the fault until every client's
//! case is closed, every outbox is empty and tracking has projected every
//! event.

use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::bed::Bed;
use crate::checks::{self, Findings};
use crate::load::{Load, Outcome};

/// Load before the fault, so that cases are mid-flight when it strikes.
const LEAD: Duration = Duration::from_secs(6);
/// Load after the fault ends, before the clients stop starting cases.
const TAIL: Duration = Duration::from_secs(3);
/// How long a killed service stays down.
const DOWN: Duration = Duration::from_secs(3);
/// How long a submission may take while NATS is away.
const PROBE: Duration = Duration::from_secs(15);
/// After how long without NATS a relay's health must say NOT_SERVING
/// (the services' `down_alert_after`).
const RELAY_ALERT: Duration = Duration::from_secs(30);

/// One part broken in one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL a service, start it again after [`DOWN`].
    Kill(&'static str),
    /// SIGKILL nats-server, start it again on the same JetStream store.
    NatsRestart,
    /// Stop nats-server for this long; meanwhile a service is killed and
    /// started again without it, and a submission must be accepted.
    NatsAway(Duration),
    /// `pg_ctl restart -m immediate`: a crash, recovery from the WAL.
    PostgresRestart,
    /// `pg_ctl stop -m fast`, started again after this long.
    PostgresAway(Duration),
    /// SIGSTOP a service, SIGCONT it after this long (a long pause: its
    /// sockets stay open, JetStream's ack wait runs out meanwhile).
    Pause(&'static str, Duration),
    /// The proxy between a service and Postgres holds every byte this long.
    Stall(&'static str, Duration),
    /// The ledger restored to a point in time by the runbook of
    /// docs/DEPLOY.md ([`crate::pitr`]).
    PitrRestore,
}

impl Fault {
    /// A short name (`--only` selects scenarios by it).
    pub fn name(&self) -> String {
        match self {
            Fault::Kill(s) => format!("kill-{s}"),
            Fault::NatsRestart => "nats-restart".into(),
            Fault::NatsAway(_) => "nats-away".into(),
            Fault::PostgresRestart => "postgres-restart".into(),
            Fault::PostgresAway(_) => "postgres-away".into(),
            Fault::Pause(s, _) => format!("pause-{s}"),
            Fault::Stall(s, _) => format!("stall-{s}-postgres"),
            Fault::PitrRestore => "pitr-restore".into(),
        }
    }

    /// What is done, in words.
    pub fn describe(&self) -> String {
        match self {
            Fault::Kill(s) => format!("`kill -9` {s}, restarted {} s later", DOWN.as_secs()),
            Fault::NatsRestart => "`kill -9` nats-server, restarted on its JetStream store".into(),
            Fault::NatsAway(d) => format!(
                "nats-server stopped for {} s; meanwhile intake `kill -9` and restarted without NATS, \
                 and a submission must be accepted within {} s",
                d.as_secs(),
                PROBE.as_secs()
            ),
            Fault::PostgresRestart => "Postgres `pg_ctl restart -m immediate` (crash, WAL recovery)".into(),
            Fault::PostgresAway(d) => format!("Postgres stopped (`pg_ctl stop -m fast`) for {} s", d.as_secs()),
            Fault::Pause(s, d) => format!("{s} paused (SIGSTOP) for {} s, then SIGCONT", d.as_secs()),
            Fault::Stall(s, d) => format!("{s}↔Postgres TCP stalled {} s (proxy holds every byte)", d.as_secs()),
            Fault::PitrRestore => format!(
                "every service stopped; Postgres restored from a base backup plus archived WAL to a time T {} s \
                 before the stop, by the runbook of docs/DEPLOY.md (messages of lost events deleted, consumers \
                 rewound, reconciler run); the clients drive every case again on the same keys",
                crate::pitr::AFTER_T.as_secs()
            ),
        }
    }
}

/// What one scenario did and found.
#[derive(Debug, Clone)]
pub struct Report {
    pub fault: Fault,
    /// Which round of the scenarios (from 1).
    pub round: u32,
    pub concurrency: usize,
    pub outcome: Outcome,
    /// Calls the clients sent again during the scenario.
    pub resent: u64,
    pub fault_seconds: f64,
    /// From the end of the fault to quiet; `None` when it did not come.
    pub recovered: Option<Duration>,
    pub findings: Findings,
    /// What the fault's own checks saw (NATS away: the probes).
    pub notes: Vec<String>,
    /// What broke a promise.
    pub problems: Vec<String>,
}

/// What a fault's own checks saw.
#[derive(Debug, Default)]
struct Injected {
    notes: Vec<String>,
    problems: Vec<String>,
    /// Cases the fault's probes submitted, being driven to their end.
    probes: Vec<tokio::task::JoinHandle<anyhow::Result<u64>>>,
}

/// Breaks the system with `fault`; returns when the fault has ended.
async fn inject(bed: &mut Bed, fault: Fault) -> anyhow::Result<Injected> {
    let mut injected = Injected::default();
    match fault {
        Fault::Kill(service) => {
            bed.system.kill(service).await?;
            tokio::time::sleep(DOWN).await;
            bed.system.restart(service).await?;
        }
        Fault::NatsRestart => {
            bed.nats.down(true).await?;
            bed.nats.up().await?;
        }
        Fault::NatsAway(away) => nats_away(bed, away, &mut injected).await?,
        Fault::PostgresRestart => bed.postgres.restart("immediate").await?,
        Fault::PostgresAway(away) => {
            bed.postgres.stop().await?;
            tokio::time::sleep(away).await;
            bed.postgres.start_again().await?;
        }
        Fault::Pause(service, held) => {
            bed.system.signal(service, "STOP").await?;
            tokio::time::sleep(held).await;
            bed.system.signal(service, "CONT").await?;
        }
        Fault::Stall(service, held) => {
            let proxy = bed.proxy(service)?;
            proxy.pause();
            tokio::time::sleep(held).await;
            proxy.resume();
        }
        Fault::PitrRestore => anyhow::bail!("the restore is a scenario of its own (crate::pitr::run)"),
    }
    Ok(injected)
}

/// NATS away for `away`: meanwhile intake is killed and must start without
/// it, its relay must be reported down past the alert threshold, and a
/// submission (it needs only Postgres) must be accepted.
async fn nats_away(bed: &mut Bed, away: Duration, injected: &mut Injected) -> anyhow::Result<()> {
    let Injected { notes, problems, probes } = injected;
    let gone = Instant::now();
    bed.nats.down(false).await?;
    bed.system.kill("intake").await?;
    let t = Instant::now();
    bed.system.restart("intake").await.context("intake restarting while NATS is away")?;
    notes.push(format!("intake restarted without NATS, serving in {:.1} s", t.elapsed().as_secs_f64()));
    if away > RELAY_ALERT + Duration::from_secs(5) {
        tokio::time::sleep((RELAY_ALERT + Duration::from_secs(5)).saturating_sub(gone.elapsed())).await;
        match bed.relay_serving("intake").await {
            Ok(false) => notes.push("intake relay health NOT_SERVING while away".into()),
            Ok(true) => problems.push("intake's relay health stayed SERVING with NATS away past 30 s".into()),
            Err(e) => problems.push(format!("intake's health did not answer with NATS away: {e:#}")),
        }
    }
    let n = bed.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let t = Instant::now();
    match tokio::time::timeout(PROBE, bed.driver.submit(n)).await {
        Ok(Ok(case_id)) => {
            notes.push(format!("a submission while away accepted in {:.2} s", t.elapsed().as_secs_f64()));
            // The probe case is completed like the others.
            let driver = bed.driver.clone();
            probes.push(tokio::spawn(async move { driver.complete(n, &case_id).await }));
        }
        Ok(Err(e)) => problems.push(format!("a submission while NATS was away failed: {e:#}")),
        Err(_) => problems.push(format!("a submission while NATS was away took over {PROBE:?}")),
    }
    tokio::time::sleep(away.saturating_sub(gone.elapsed())).await;
    bed.nats.up().await
}

/// Runs one scenario (in its `round`) under a load of `concurrency` clients.
pub async fn run(
    bed: &mut Bed,
    fault: Fault,
    round: u32,
    concurrency: usize,
    recovery_timeout: Duration,
) -> anyhow::Result<Report> {
    if fault == Fault::PitrRestore {
        return crate::pitr::run(bed, round, concurrency, recovery_timeout).await;
    }
    eprintln!("==> {}: {}", fault.name(), fault.describe());
    let resent0 = bed.driver.resent();
    let load = Load::start(&bed.driver, &bed.next, concurrency);
    tokio::time::sleep(LEAD).await;
    eprintln!("    {} cases closed before the fault; breaking", load.done());
    let struck = Instant::now();
    let Injected { notes, mut problems, probes } = inject(bed, fault).await?;
    let ended = Instant::now();
    let fault_seconds = (ended - struck).as_secs_f64();
    tokio::time::sleep(TAIL).await;
    load.stop_starting();
    let deadline = ended + recovery_timeout;
    let outcome = match tokio::time::timeout_at(deadline.into(), load.finish()).await {
        Ok(outcome) => outcome,
        Err(_) => {
            problems.push(format!("the clients' cases were not all closed {recovery_timeout:?} after the fault"));
            Outcome::default()
        }
    };
    for probe in probes {
        match tokio::time::timeout_at(deadline.into(), probe).await {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err(e))) => problems.push(format!("the probe case failed: {e:#}")),
            Ok(Err(e)) => problems.push(format!("the probe case panicked: {e}")),
            Err(_) => problems.push("the probe case was not closed in time".into()),
        }
    }
    let quiet = checks::wait_quiet(&bed.pool, deadline.saturating_duration_since(Instant::now())).await;
    let recovered = quiet.then(|| ended.elapsed());
    if !quiet {
        problems.push(format!("outboxes not drained or events not projected {recovery_timeout:?} after the fault"));
    }
    for e in &outcome.errors {
        problems.push(format!("a client gave up: {e}"));
    }
    let mut findings = checks::check(&bed.pool, &bed.driver.accepted(), bed.published().await?).await?;
    let live = checks::active_read_model(&bed.pool).await?;
    yiciban_bench::observe::rebuild(
        &bed.system.url("tracking"),
        &bed.issuer,
        &format!("faults-{round}-{}", fault.name()),
    )
    .await
    .context("rebuilding the tracking read models")?;
    let rebuilt = checks::active_read_model(&bed.pool).await?;
    findings.read_model_diff = checks::read_model_diff(&bed.pool, &live, &rebuilt).await?;
    problems.extend(findings.problems());
    bed.system.check_alive()?;
    let report = Report {
        fault,
        round,
        concurrency,
        outcome,
        resent: bed.driver.resent() - resent0,
        fault_seconds,
        recovered,
        findings,
        notes,
        problems,
    };
    eprintln!(
        "    {} cases closed, {} lost, {} effects duplicated, recovered in {}{}",
        report.outcome.done,
        report.findings.lost,
        report.findings.duplicated,
        report.recovered.map_or("—".into(), |d| format!("{:.1} s", d.as_secs_f64())),
        if report.problems.is_empty() { String::new() } else { format!("; PROBLEMS: {}", report.problems.join("; ")) }
    );
    Ok(report)
}

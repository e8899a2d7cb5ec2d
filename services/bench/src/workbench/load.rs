//! Loads the read models with cases in a realistic mix of stages, through
//! the real command path (the clerk submits at the window, the departments'
//! agents claim and approve over gRPC, the window hands out): the oldest
//! open cases left for days on the manual clock until the task service's
//! sweep cards them red, then some left 3 days (red in their first
//! steps, yellow in the 3-working-day steps after them), then fresh open cases (half with their first tasks
//! claimed), cases decided and waiting for hand-out, and closed cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;
use yiciban_bench::driver::Driver;
use yiciban_bench::observe;
use yiciban_bench::progress::Progress;

use super::stack::Stack;

/// How far a case of the load is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Submitted and accepted: its first steps' tasks wait in their departments.
    Open,
    /// Like `Open`, with those tasks claimed by the departments' agents.
    Claimed,
    /// The first steps approved: the steps that waited on them are open.
    FirstApproved,
    /// Every department approved; the results wait at the window.
    Decided,
    /// Handed out, which closes the case (办结).
    Closed,
}

/// The shares of the load, in the order it is loaded: (stage, what, share
/// of the cases, hours that pass on the clock after the batch, each
/// followed by the task service's SLA sweep).
const MIX: [(Stage, &str, f64, i64); 7] = [
    (Stage::Open, "left open two weeks (red)", 0.05, 0),
    (Stage::Claimed, "claimed, left two weeks (red)", 0.05, 14 * 24),
    (Stage::Open, "left open 3 days (red: the first steps' limits are 0 and 1 working day)", 0.05, 0),
    (Stage::FirstApproved, "first steps approved, the next left 3 days (yellow: 3-working-day limits)", 0.05, 74),
    (Stage::Open, "open, fresh", 0.2, 0),
    (Stage::Claimed, "claimed, fresh", 0.2, 0),
    (Stage::Decided, "decided, results at the window", 0.2, 0),
];

/// What the load did.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    /// Cases by what was done to them.
    pub batches: Vec<(String, u64)>,
    pub failed: u64,
    pub commands: u64,
    pub events: i64,
    pub seconds: f64,
}

/// Loads `total` cases, `concurrency` at a time, and waits until tracking
/// projected every event.
pub async fn load(
    stack: &Stack,
    driver: &Driver,
    pool: &PgPool,
    total: u64,
    concurrency: usize,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut loaded = Loaded::default();
    let mut batches: Vec<(Stage, &str, u64, i64)> = MIX
        .iter()
        .map(|(stage, what, share, days)| (*stage, *what, (total as f64 * share).round() as u64, *days))
        .collect();
    // The rest are closed.
    let rest = total.saturating_sub(batches.iter().map(|b| b.2).sum());
    batches.push((Stage::Closed, "closed (handed out)", rest, 0));
    for (stage, what, count, hours) in batches {
        let (done, failed, commands) = batch(driver, &next, stage, count, concurrency, what).await;
        loaded.batches.push((what.to_owned(), done));
        loaded.failed += failed;
        loaded.commands += commands;
        observe::wait_projected(pool, Duration::from_secs(600)).await.context("waiting for tracking")?;
        if hours > 0 {
            eprintln!("==> {hours} hours pass; the task service sweeps its SLA timers");
            stack.time_passes(chrono::Duration::hours(hours)).await.context("the SLA sweep")?;
        }
    }
    // The warnings of the last sweep, projected.
    observe::wait_projected(pool, Duration::from_secs(600)).await.context("waiting for tracking")?;
    loaded.events = observe::events_total(pool).await?;
    loaded.seconds = started.elapsed().as_secs_f64();
    Ok(loaded)
}

/// `count` cases taken to `stage`, `concurrency` at a time: (done, failed, commands).
async fn batch(
    driver: &Driver,
    next: &Arc<AtomicU64>,
    stage: Stage,
    count: u64,
    concurrency: usize,
    what: &str,
) -> (u64, u64, u64) {
    let end = next.load(Ordering::SeqCst) + count;
    let progress = Progress::start(what, Some(count));
    let tallies: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (driver, next, progress) = (driver.clone(), next.clone(), progress.clone());
            tokio::spawn(async move {
                let (mut done, mut failed, mut commands) = (0, 0, 0);
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= end {
                        break;
                    }
                    match case(&driver, n, stage).await {
                        Ok(sent) => {
                            done += 1;
                            commands += sent;
                        }
                        Err(e) => {
                            failed += 1;
                            if failed <= 3 {
                                progress.note(&format!("case failed: {e:#}"));
                            }
                        }
                    }
                    progress.inc();
                }
                (done, failed, commands)
            })
        })
        .collect();
    let mut sum = (0, 0, 0);
    for tally in futures::future::join_all(tallies).await {
        let (d, f, c) = tally.unwrap_or_default();
        sum = (sum.0 + d, sum.1 + f, sum.2 + c);
    }
    progress.finish();
    next.store(end, Ordering::SeqCst);
    sum
}

/// Case number `n` taken to `stage`; the commands it took.
async fn case(driver: &Driver, n: u64, stage: Stage) -> anyhow::Result<u64> {
    if stage == Stage::Closed {
        return driver.run_case(n).await;
    }
    let case_id = driver.submit(n).await?;
    let more = match stage {
        Stage::Open | Stage::Closed => 0,
        Stage::Claimed => claim_when_dispatched(driver, n, &case_id).await?,
        Stage::FirstApproved => {
            claim_when_dispatched(driver, n, &case_id).await?;
            driver.approve_open(n, &case_id).await?
        }
        Stage::Decided => driver.decide(n, &case_id).await?,
    };
    Ok(1 + more)
}

/// Claims the case's first tasks once routing dispatched them.
async fn claim_when_dispatched(driver: &Driver, n: u64, case_id: &str) -> anyhow::Result<u64> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let claimed = driver.claim_open(n, case_id).await?;
        if claimed > 0 {
            return Ok(claimed);
        }
        if Instant::now() > deadline {
            anyhow::bail!("case {n} ({case_id}) had no task to claim within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

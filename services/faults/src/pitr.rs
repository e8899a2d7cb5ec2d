//! The point-in-time restore (docs/DEPLOY.md, "Point-in-time restore
//! (runbook)"), done to our own cluster under load: a base backup before the
//! load, a target time T in the middle of it, the load running on past T;
//! then the runbook — every service stopped, the WAL archived, Postgres
//! restored from the base backup plus the archived WAL up to T, no event
//! after T, the messages JetStream holds of events the ledger lost deleted
//! and the services' consumers rewound (`yiciban_eventstore::restore`, what
//! `casectl ops after-restore` runs), the services started again and the
//! reconciler asked through the OpsService. The clients then drive again
//! every case they had started, from its submission, on the same keys: what
//! the restore undid is done again — a case accepted after T is accepted
//! again (as a new case), a task approved after T is approved again.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use chrono::{DateTime, Utc};
use futures::{StreamExt as _, TryStreamExt as _};
use yiciban_bench::system::SERVICES;
use yiciban_eventstore::restore;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::ops::v1 as ops;
use yiciban_proto::ops::v1::ops_service_client::OpsServiceClient;

use crate::bed::Bed;
use crate::checks::{self, Findings, STORES};
use crate::load::Outcome;
use crate::scenario::{Fault, Report};

/// Load before the target time.
const BEFORE_T: Duration = Duration::from_secs(15);
/// Load after the target time, undone by the restore.
pub const AFTER_T: Duration = Duration::from_secs(8);
/// How far before T the runbook looks for messages the ledger lost (the
/// broker's and the database's clocks may differ a little).
const ORPHANS_FROM: chrono::Duration = chrono::Duration::seconds(60);
/// How far before T the services' consumers are rewound (the runbook's
/// default: longer than any consumer's lag at T).
const REWIND: chrono::Duration = chrono::Duration::hours(1);
/// The pause between two clients' starts.
const STAGGER: Duration = Duration::from_millis(100);

/// What the clients saw before the restore.
#[derive(Debug, Default)]
struct Seen {
    /// Case number → the case id its submission was accepted as, and when
    /// the answer came.
    accepted: BTreeMap<u64, (String, DateTime<Utc>)>,
    /// Case numbers the clients drove to hand-out.
    closed: BTreeSet<u64>,
}

/// Clients driving one case after another, recording what they saw.
fn start_clients(bed: &Bed, concurrency: usize, seen: &Arc<Mutex<Seen>>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..concurrency)
        .map(|i| {
            let (driver, next, seen) = (bed.driver.clone(), bed.next.clone(), seen.clone());
            tokio::spawn(async move {
                tokio::time::sleep(STAGGER * i as u32).await;
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Ok(case_id) = driver.submit(n).await else { continue };
                    seen.lock().expect("seen lock").accepted.insert(n, (case_id.clone(), Utc::now()));
                    if driver.complete(n, &case_id).await.is_ok() {
                        seen.lock().expect("seen lock").closed.insert(n);
                    }
                }
            })
        })
        .collect()
}

/// Postgres' clock now.
async fn db_now(bed: &Bed) -> anyhow::Result<DateTime<Utc>> {
    Ok(sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(&bed.pool).await?)
}

/// Switches to a new WAL segment and waits until the one holding everything
/// written so far is archived (CloudNativePG's `archive_timeout` does this
/// on its own; the runbook's target must be before the last archived WAL).
async fn archive_now(bed: &Bed) -> anyhow::Result<()> {
    let segment: String = sqlx::query_scalar("SELECT pg_walfile_name(pg_switch_wal())").fetch_one(&bed.pool).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let archived: Option<String> =
            sqlx::query_scalar("SELECT last_archived_wal FROM pg_stat_archiver").fetch_one(&bed.pool).await?;
        if archived.as_deref().is_some_and(|a| a.get(8..) >= segment.get(8..)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("WAL segment {segment} was not archived within 60 s (last: {archived:?})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the restored cluster has replayed up to the target and been
/// promoted.
async fn wait_promoted(bed: &Bed) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let in_recovery: Result<bool, _> = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&bed.pool).await;
        if let Ok(false) = in_recovery {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the restored cluster was not promoted within 180 s ({in_recovery:?})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Runbook step 5: the newest event of every store, none after `target`.
async fn newest_event(bed: &Bed) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut newest = None;
    for store in STORES {
        let max: Option<DateTime<Utc>> = sqlx::query_scalar(yiciban_eventstore::sql::schema_sql(
            store,
            "SELECT max(recorded_at) FROM {schema}.events",
        ))
        .fetch_one(&bed.pool)
        .await?;
        newest = newest.max(max);
    }
    Ok(newest)
}

/// The case ids among `ids` with an event of `event_type` in the store of
/// `schema` (intake's `ApplicationSubmitted`: held; issuance's
/// `CaseClosed`: closed).
async fn cases_with(bed: &Bed, ids: &[String], schema: &str, event_type: &str) -> anyhow::Result<HashSet<String>> {
    let sql = yiciban_eventstore::sql::schema_sql(
        schema,
        "SELECT DISTINCT case_id::text FROM {schema}.events WHERE case_id::text = ANY($1) AND event_type = $2",
    );
    Ok(sqlx::query_scalar(sql).bind(ids).bind(event_type).fetch_all(&bed.pool).await?.into_iter().collect())
}

/// Runbook step 8's on-demand reconciliation, as an operator asks it
/// (`casectl ops reconcile --hours 1`): events published again, and
/// messages of events no store has (none after step 7).
async fn reconcile(bed: &Bed) -> anyhow::Result<(u64, u32)> {
    let token = bed.issuer.token(Role::Admin, "ops-001", None, None);
    let (mut republished, mut unknown) = (0, 0);
    for service in STORES {
        let channel = tonic::transport::Endpoint::from_shared(bed.system.url(service))?.connect().await?;
        let mut client = OpsServiceClient::with_interceptor(channel, ClientAuth::new(Some(&token)));
        let r = client
            .reconcile(ops::ReconcileRequest { hours: 1 })
            .await
            .with_context(|| format!("Reconcile on {service}"))?
            .into_inner();
        if r.stream_missing {
            bail!("{service} found the case-event stream missing");
        }
        republished += r.republished;
        unknown += r.unknown_events;
    }
    Ok((republished, unknown))
}

/// Messages the durable consumers of the case-event stream have not yet
/// delivered or had acknowledged. A short-lived one (the reconciler's named
/// reader, no durable name) may be listed and gone before it is asked
/// about: it is no service's feed and is skipped (CI once failed here on
/// "consumer not found").
async fn consumer_lag(bed: &Bed) -> anyhow::Result<u64> {
    let stream = bed.js.get_stream(bed.subjects.stream_name()).await?;
    let names: Vec<String> = stream.consumer_names().try_collect().await?;
    let mut lag = 0;
    for name in names {
        let info = match stream.consumer_info(&name).await {
            Ok(info) => info,
            Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => continue,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("asking about consumer {name}"))),
        };
        if info.config.durable_name.is_some() {
            lag += info.num_pending + info.num_ack_pending as u64;
        }
    }
    Ok(lag)
}

/// What the scenario saw (notes) and what broke a promise (problems).
#[derive(Debug, Default)]
struct Said {
    notes: Vec<String>,
    problems: Vec<String>,
}

/// Runbook steps 1 to 8 after the clients were cut off: every service
/// stopped, the cluster restored to `target`, JetStream cleaned up and the
/// consumers rewound, the services started and the reconciler asked.
/// Returns how long after T the restored cluster was promoted.
async fn runbook(bed: &mut Bed, target: DateTime<Utc>, at_t: Instant, said: &mut Said) -> anyhow::Result<Duration> {
    for service in SERVICES {
        bed.system.terminate(service).await?;
    }
    // Steps 2 to 4: the WAL up to now archived, the cluster replaced by the
    // base backup plus the WAL up to T.
    archive_now(bed).await?;
    bed.postgres.stop().await?;
    bed.postgres.restore_to(&target.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()).await?;
    wait_promoted(bed).await?;
    let promoted = at_t.elapsed();
    // Step 5: nothing after T.
    match newest_event(bed).await? {
        Some(n) if n > target => said.problems.push(format!("the restored ledger holds an event of {n}, after T")),
        Some(n) => said.notes.push(format!("newest event restored {:.2} s before T", (target - n).as_seconds_f64())),
        None => said.problems.push("the restored ledger holds no event".into()),
    }
    // Step 7 (`casectl ops after-restore --apply`): the messages of events
    // the ledger lost deleted, the services' consumers rewound.
    let orphans = restore::orphans(&bed.pool, &bed.js, &bed.subjects, target - ORPHANS_FROM)
        .await
        .context("listing the messages whose event no store has")?;
    restore::delete_orphans(&bed.js, &bed.subjects, &orphans).await?;
    let rewound = restore::rewind_consumers(&bed.pool, &bed.js, &bed.subjects, target - REWIND)
        .await
        .context("rewinding the consumers")?;
    said.notes.push(format!(
        "{} messages of events the ledger lost deleted from JetStream; consumers rewound to T − 1 h: {}",
        orphans.len(),
        rewound.services.join(", ")
    ));
    // Step 8: the services back, the reconciler asked.
    for service in SERVICES {
        bed.system.restart(service).await?;
    }
    let (republished, unknown) = reconcile(bed).await?;
    said.notes.push(format!("reconciler (1 h): {republished} events published again, {unknown} unknown"));
    if unknown > 0 {
        said.problems.push(format!("the reconciler found {unknown} messages of events no store has"));
    }
    Ok(promoted)
}

/// What the restore undid of what the clients saw.
#[derive(Debug, Default)]
struct Undone {
    /// Case number → the case id a client saw accepted that the restored
    /// ledger does not hold.
    rolled_back: BTreeMap<u64, String>,
    /// Cases a client closed that came back open.
    reopened: usize,
}

async fn undone(bed: &Bed, seen: &Seen, target: DateTime<Utc>, said: &mut Said) -> anyhow::Result<Undone> {
    let ids: Vec<String> = seen.accepted.values().map(|(id, _)| id.clone()).collect();
    let stored = cases_with(bed, &ids, "intake", "ApplicationSubmitted").await?;
    let closed = cases_with(bed, &ids, "issuance", "CaseClosed").await?;
    let rolled_back =
        seen.accepted.iter().filter(|(_, (id, _))| !stored.contains(id)).map(|(n, (id, _))| (*n, id.clone())).collect();
    let lost_before_t =
        seen.accepted.values().filter(|(id, answered)| *answered < target && !stored.contains(id)).count();
    if lost_before_t > 0 {
        said.problems.push(format!(
            "{lost_before_t} cases whose acceptance was answered before T are not in the restored ledger"
        ));
    }
    let reopened = seen
        .closed
        .iter()
        .filter(|n| seen.accepted.get(n).is_some_and(|(id, _)| stored.contains(id) && !closed.contains(id)))
        .count();
    Ok(Undone { rolled_back, reopened })
}

/// Each case number with the case id its client drove to hand-out, or why not.
type Driven = Vec<(u64, anyhow::Result<String>)>;

/// The clients drive again every case number in `numbers`, from its
/// submission, on the same keys, `concurrency` at a time, until `deadline`;
/// returns how many they closed and how many rolled-back cases were
/// accepted again as new ones.
async fn drive_again(
    bed: &Bed,
    numbers: std::ops::Range<u64>,
    concurrency: usize,
    deadline: Instant,
    undone: &Undone,
    said: &mut Said,
) -> (Outcome, usize) {
    let driven: Arc<Mutex<Driven>> = Arc::default();
    let all = futures::stream::iter(numbers)
        .map(|n| {
            let (driver, driven) = (bed.driver.clone(), driven.clone());
            async move {
                let result = async {
                    let case_id = driver.submit(n).await?;
                    driver.complete(n, &case_id).await?;
                    anyhow::Ok(case_id)
                }
                .await;
                driven.lock().expect("driven lock").push((n, result));
            }
        })
        .buffer_unordered(concurrency)
        .collect::<()>();
    if tokio::time::timeout_at(deadline.into(), all).await.is_err() {
        said.problems.push("the clients' cases were not all closed in time after the restore".into());
    }
    let driven = std::mem::take(&mut *driven.lock().expect("driven lock"));
    let mut outcome = Outcome::default();
    let mut accepted_again = 0;
    for (n, result) in &driven {
        match result {
            Ok(case_id) => {
                outcome.done += 1;
                accepted_again += usize::from(undone.rolled_back.get(n).is_some_and(|old| old != case_id));
            }
            Err(e) => {
                outcome.failed += 1;
                if outcome.errors.len() < 5 {
                    outcome.errors.push(format!("case {n}: {e:#}"));
                }
            }
        }
    }
    if accepted_again != undone.rolled_back.len() {
        said.problems.push(format!(
            "{accepted_again} of {} cases rolled back were accepted again on their keys",
            undone.rolled_back.len()
        ));
    }
    for e in &outcome.errors {
        said.problems.push(format!("a client gave up: {e}"));
    }
    (outcome, accepted_again)
}

/// Waits until the outboxes are drained, tracking has projected every event
/// and the consumers have nothing pending; false when that did not come by
/// `deadline`.
async fn settled(bed: &Bed, deadline: Instant, said: &mut Said) -> anyhow::Result<bool> {
    let quiet = checks::wait_quiet(&bed.pool, deadline.saturating_duration_since(Instant::now())).await;
    let mut lag = consumer_lag(bed).await?;
    while quiet && lag > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        lag = consumer_lag(bed).await?;
    }
    if !quiet {
        said.problems.push("outboxes not drained or events not projected in time after the restore".into());
    }
    if lag > 0 {
        said.problems.push(format!("the consumers still had {lag} messages to handle after the restore"));
    }
    Ok(quiet && lag == 0)
}

/// The usual checks on the restored ledger (a rolled-back case is not lost:
/// its client got it accepted again), and that JetStream holds no message
/// of an event no store has and no consumer set a message aside.
async fn check(
    bed: &Bed,
    round: u32,
    target: DateTime<Utc>,
    undone: &Undone,
    poison0: i64,
    said: &mut Said,
) -> anyhow::Result<Findings> {
    let left = restore::orphans(&bed.pool, &bed.js, &bed.subjects, target - ORPHANS_FROM).await?;
    if !left.is_empty() {
        said.problems.push(format!("JetStream holds {} messages of events no store has", left.len()));
    }
    let rolled: HashSet<&String> = undone.rolled_back.values().collect();
    let accepted: Vec<String> = bed.driver.accepted().into_iter().filter(|id| !rolled.contains(id)).collect();
    let mut findings = checks::check(&bed.pool, &accepted, bed.published().await?).await?;
    if findings.poison > poison0 {
        said.problems.push(format!("{} new poison messages or dead letters", findings.poison - poison0));
    }
    let live = checks::active_read_model(&bed.pool).await?;
    let name = format!("faults-{round}-{}", Fault::PitrRestore.name());
    yiciban_bench::observe::rebuild(&bed.system.url("tracking"), &bed.issuer, &name)
        .await
        .context("rebuilding the tracking read models")?;
    let rebuilt = checks::active_read_model(&bed.pool).await?;
    findings.read_model_diff = checks::read_model_diff(&bed.pool, &live, &rebuilt).await?;
    said.problems.extend(findings.problems());
    Ok(findings)
}

/// Runs the scenario (in its `round`) under `concurrency` clients.
pub async fn run(bed: &mut Bed, round: u32, concurrency: usize, recovery_timeout: Duration) -> anyhow::Result<Report> {
    let fault = Fault::PitrRestore;
    eprintln!("==> {}: {}", fault.name(), fault.describe());
    let mut said = Said::default();
    let resent0 = bed.driver.resent();
    let poison0 = checks::poison(&bed.pool).await?;
    bed.postgres.base_backup().await.context("taking the base backup")?;
    let first = bed.next.load(Ordering::SeqCst);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients = start_clients(bed, concurrency, &seen);
    tokio::time::sleep(BEFORE_T).await;
    let target = db_now(bed).await?;
    let at_t = Instant::now();
    let closed_at_t = seen.lock().expect("seen lock").closed.len();
    tokio::time::sleep(AFTER_T).await;

    // Runbook step 1 begins: the clients are cut off.
    let struck = Instant::now();
    for client in &clients {
        client.abort();
    }
    futures::future::join_all(clients).await;
    let last = bed.next.load(Ordering::SeqCst);
    let promoted = runbook(bed, target, at_t, &mut said).await?;
    let ended = Instant::now();
    let seen = std::mem::take(&mut *seen.lock().expect("seen lock"));
    let undone = undone(bed, &seen, target, &mut said).await?;
    let deadline = ended + recovery_timeout;
    let (outcome, accepted_again) = drive_again(bed, first..last, concurrency, deadline, &undone, &mut said).await;
    said.notes.push(format!(
        "T after {} s of load, the ledger restored to T {:.0} s after it; the clients had seen {} cases accepted \
         and {} closed, {closed_at_t} of them by T; {} accepted after T were rolled back and, re-submitted on the \
         same keys, {accepted_again} accepted again as new cases; {} closed after T came back open and were handed \
         out again",
        BEFORE_T.as_secs(),
        promoted.as_secs_f64(),
        seen.accepted.len(),
        seen.closed.len(),
        undone.rolled_back.len(),
        undone.reopened,
    ));
    let recovered = settled(bed, deadline, &mut said).await?.then(|| ended.elapsed());
    let findings = check(bed, round, target, &undone, poison0, &mut said).await?;
    bed.system.check_alive()?;
    let report = Report {
        fault,
        round,
        concurrency,
        outcome,
        resent: bed.driver.resent() - resent0,
        fault_seconds: (ended - struck).as_secs_f64(),
        recovered,
        findings,
        notes: said.notes,
        problems: said.problems,
    };
    eprintln!(
        "    {} cases closed, {} lost, {} effects duplicated, recovered in {}; {}{}",
        report.outcome.done,
        report.findings.lost,
        report.findings.duplicated,
        report.recovered.map_or("—".into(), |d| format!("{:.1} s", d.as_secs_f64())),
        report.notes.join("; "),
        if report.problems.is_empty() { String::new() } else { format!("; PROBLEMS: {}", report.problems.join("; ")) }
    );
    Ok(report)
}

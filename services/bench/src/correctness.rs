//! The correctness check after a benchmark run (`--replicas N`: nothing
//! done twice, nothing lost, however many processes of each service ran),
//! read straight from the database:
//!
//! - (a) every case has exactly one task per step: no (case, step) twice in
//!   tasks' `task_index`, one `TaskCreated` per (case, step) in the tasks
//!   store, and each step routing dispatched (once) has its task;
//! - (b) every SLA warning is recorded at most once per task and level
//!   (`TaskWarned`);
//! - (c) the tracking read models equal a replay: each row's significant
//!   columns of `case_views`, `task_rows` and `timeline` (not when it was
//!   written) hashed before the rebuild and compared with the rebuilt
//!   schema's after it;
//! - (d) no event reached a consumer's effect twice: each once-per-case or
//!   once-per-task event recorded once (planned, decided, handed over,
//!   prepared, claimed, approved, closed…), every accepted case closed
//!   exactly once, and each closing recorded once as the case's ending in
//!   intake.
//!
//! Each check reads the rows and hands them to a pure function that decides
//! (tested below without a database).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use prost::Message as _;
use sqlx::PgPool;
use yiciban_eventstore::sql::{names_sql, schema_sql};
use yiciban_proto::events::v1 as events;

/// Differences named per check (the rest are counted).
const SHOWN: usize = 5;

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// What was counted, and what went wrong.
    pub detail: String,
}

/// Every check of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correctness {
    pub checks: Vec<Check>,
}

impl Correctness {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// The checks as a Markdown table.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| Check | Result | Detail |\n|---|---|---|\n");
        for c in &self.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                c.name,
                if c.passed { "passed" } else { "**FAILED**" },
                c.detail.replace('|', "\\|")
            );
        }
        out
    }
}

// ---------------------------------------------------------------- (a) tasks

/// (a) from the keys read: `indexed` the (case, step) of every
/// `task_index` row, `created` of every `TaskCreated`, `dispatched` of
/// every routing `StepDispatched`.
pub fn tasks_per_step(
    indexed: &[(String, String)],
    created: &[(String, String)],
    dispatched: &[(String, String)],
) -> Check {
    let count = |keys: &[(String, String)]| {
        let mut m: BTreeMap<(String, String), u64> = BTreeMap::new();
        for k in keys {
            *m.entry(k.clone()).or_default() += 1;
        }
        m
    };
    let (indexed_n, created_n, dispatched_n) = (count(indexed), count(created), count(dispatched));
    let mut problems = Vec::new();
    for (what, m) in [("task_index rows", &indexed_n), ("TaskCreated", &created_n), ("StepDispatched", &dispatched_n)] {
        let twice: Vec<String> =
            m.iter().filter(|(_, n)| **n > 1).map(|((c, s), n)| format!("case {c} step {s} × {n}")).collect();
        if !twice.is_empty() {
            problems.push(format!("{} (case, step) with more than one {what}: {}", twice.len(), shown(&twice)));
        }
    }
    // The (case, step) keys of `of` that `in_` lacks, as words.
    let missing = |of: &BTreeMap<(String, String), u64>, in_: &BTreeMap<(String, String), u64>| -> Vec<String> {
        of.keys().filter(|k| !in_.contains_key(*k)).map(|(c, s)| format!("case {c} step {s}")).collect()
    };
    let untasked = missing(&dispatched_n, &created_n);
    if !untasked.is_empty() {
        problems.push(format!("{} dispatched steps without a task: {}", untasked.len(), shown(&untasked)));
    }
    let unasked = missing(&created_n, &dispatched_n);
    if !unasked.is_empty() {
        problems.push(format!("{} tasks without a dispatched step: {}", unasked.len(), shown(&unasked)));
    }
    if indexed_n.len() != created_n.len() {
        problems.push(format!("{} steps indexed, {} created", indexed_n.len(), created_n.len()));
    }
    let cases: HashSet<&String> = created_n.keys().map(|(c, _)| c).collect();
    verdict(
        "(a) one task per step",
        format!("{} tasks of {} cases, {} steps dispatched", created.len(), cases.len(), dispatched.len()),
        problems,
    )
}

/// (a) read from the tasks and routing stores.
pub async fn check_tasks(pool: &PgPool) -> anyhow::Result<Check> {
    let indexed: Vec<(String, String)> =
        sqlx::query_as("SELECT case_id::text, step_id FROM tasks.task_index").fetch_all(pool).await?;
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_type, case_id::text, payload FROM tasks.events WHERE event_type = 'TaskCreated' \
         UNION ALL SELECT event_type, case_id::text, payload FROM routing.events WHERE event_type = 'StepDispatched'",
    )
    .fetch_all(pool)
    .await?;
    let (mut created, mut dispatched) = (Vec::new(), Vec::new());
    for (event_type, case_id, payload) in rows {
        if event_type == "TaskCreated" {
            let e = events::TaskCreated::decode(payload.as_slice()).context("decoding a TaskCreated")?;
            created.push((case_id, e.step_id));
        } else {
            let e = events::StepDispatched::decode(payload.as_slice()).context("decoding a StepDispatched")?;
            dispatched.push((case_id, e.step_id));
        }
    }
    Ok(tasks_per_step(&indexed, &created, &dispatched))
}

// ------------------------------------------------------------- (b) warnings

/// (b) from the (task, level) of every `TaskWarned`.
pub fn warnings_once(warned: &[(String, i32)]) -> Check {
    let mut n: BTreeMap<&(String, i32), u64> = BTreeMap::new();
    for w in warned {
        *n.entry(w).or_default() += 1;
    }
    let twice: Vec<String> =
        n.iter().filter(|(_, n)| **n > 1).map(|((t, l), n)| format!("task {t} level {l} × {n}")).collect();
    let problems = if twice.is_empty() {
        Vec::new()
    } else {
        vec![format!("{} warnings recorded more than once: {}", twice.len(), shown(&twice))]
    };
    verdict(
        "(b) each SLA warning once per task and level",
        format!("{} warnings (TaskWarned) on {} (task, level)", warned.len(), n.len()),
        problems,
    )
}

/// (b) read from the tasks store.
pub async fn check_warnings(pool: &PgPool) -> anyhow::Result<Check> {
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM tasks.events WHERE event_type = 'TaskWarned'").fetch_all(pool).await?;
    let mut warned = Vec::new();
    for p in payloads {
        let e = events::TaskWarned::decode(p.as_slice()).context("decoding a TaskWarned")?;
        warned.push((e.task_id, e.level));
    }
    Ok(warnings_once(&warned))
}

// ---------------------------------------------------------- (c) read models

/// The tracking tables compared, each with its key and the columns a fold
/// decides (not `updated_at`, `seq` or `projected_at`: when a row was
/// written), in `{s}` the schema.
const READ_MODELS: [(&str, &str); 3] = [
    (
        "case_views",
        "SELECT case_id::text, md5(row(doc, case_number, package_id, lead_department, officer_id, status, warning, \
         open, promised_by, last_event_at)::text) FROM {s}.case_views",
    ),
    (
        "task_rows",
        "SELECT task_id, md5(row(case_id, department, state, open, assignee, warning, escalated, clock_stopped, \
         due_by, created_at, doc)::text) FROM {s}.task_rows",
    ),
    ("timeline", "SELECT event_key, md5(row(case_id, occurred_at, entry)::text) FROM {s}.timeline"),
];

/// One read model's rows as (key, hash of its significant columns), by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub rows: Vec<(String, String)>,
}

impl Table {
    /// A digest of the whole table (its rows in key order), for the report.
    pub fn digest(&self) -> String {
        // FNV-1a over the ordered rows: stable across runs and processes.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (k, v) in &self.rows {
            for b in k.bytes().chain([b'=']).chain(v.bytes()).chain([b'\n']) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// The read models of one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub schema: String,
    pub tables: Vec<Table>,
}

/// The schema the tracking queries read now (after a rebuild, the rebuilt one).
pub async fn active_read_model(pool: &PgPool) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar("SELECT active FROM tracking.read_model").fetch_one(pool).await?)
}

/// Reads the read models of the active tracking schema.
pub async fn snapshot(pool: &PgPool) -> anyhow::Result<Snapshot> {
    let schema = active_read_model(pool).await?;
    let mut tables = Vec::new();
    for (name, sql) in READ_MODELS {
        let mut rows: Vec<(String, String)> = sqlx::query_as(names_sql(sql, &[("s", &schema)]))
            .fetch_all(pool)
            .await
            .with_context(|| format!("reading {schema}.{name}"))?;
        rows.sort();
        tables.push(Table { name, rows });
    }
    Ok(Snapshot { schema, tables })
}

/// How two versions of a table differ: rows only in `before`, only in
/// `after`, changed; the first few of each named.
pub fn table_differences(before: &Table, after: &Table) -> Vec<String> {
    let a: HashMap<&str, &str> = before.rows.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let b: HashMap<&str, &str> = after.rows.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = Vec::new();
    let missing: Vec<String> =
        before.rows.iter().filter(|(k, _)| !b.contains_key(k.as_str())).map(|(k, _)| k.clone()).collect();
    let extra: Vec<String> =
        after.rows.iter().filter(|(k, _)| !a.contains_key(k.as_str())).map(|(k, _)| k.clone()).collect();
    let changed: Vec<String> =
        before.rows.iter().filter(|(k, v)| b.get(k.as_str()).is_some_and(|w| w != v)).map(|(k, _)| k.clone()).collect();
    if !missing.is_empty() {
        out.push(format!("{}: {} rows not in the replay ({})", before.name, missing.len(), shown(&missing)));
    }
    if !extra.is_empty() {
        out.push(format!("{}: {} rows only in the replay ({})", before.name, extra.len(), shown(&extra)));
    }
    if !changed.is_empty() {
        out.push(format!("{}: {} rows differ ({})", before.name, changed.len(), shown(&changed)));
    }
    out
}

/// (c) the live read models (before the rebuild) against the rebuilt ones.
pub fn read_models_equal(live: &Snapshot, rebuilt: &Snapshot) -> Check {
    let mut problems = Vec::new();
    let mut counted = Vec::new();
    if live.schema == rebuilt.schema {
        problems.push(format!("the rebuild did not switch the read models over (still {})", live.schema));
    }
    for before in &live.tables {
        let empty = Table { name: before.name, rows: Vec::new() };
        let after = rebuilt.tables.iter().find(|t| t.name == before.name).unwrap_or(&empty);
        counted.push(format!(
            "{} {} rows {}",
            before.name,
            before.rows.len(),
            if before.digest() == after.digest() { format!("= {}", before.digest()) } else { "≠".into() }
        ));
        problems.extend(table_differences(before, after));
    }
    verdict(
        "(c) read models equal a replay",
        format!("{} against {}: {}", live.schema, rebuilt.schema, counted.join(", ")),
        problems,
    )
}

// -------------------------------------------------------------- (d) effects

/// Effects that happen once per case (`case_id`) or per task
/// (`stream_id`), by the store that records them: each is a command's or a
/// consumer's reaction to an event, so an event handled twice (by two
/// replicas, or redelivered) would show as a second one.
pub const ONCE: [(&str, &str, &str); 11] = [
    ("intake", "ApplicationSubmitted", "case_id"),
    ("intake", "ApplicationAccepted", "case_id"),
    ("routing", "CasePlanned", "case_id"),
    ("routing", "CaseDecided", "case_id"),
    ("routing", "CaseHandedToIssuance", "case_id"),
    ("issuance", "IssuancePrepared", "case_id"),
    ("issuance", "PickupNotified", "case_id"),
    ("issuance", "PickedUp", "case_id"),
    ("issuance", "CaseClosed", "case_id"),
    ("tasks", "TaskClaimed", "stream_id"),
    ("tasks", "TaskApproved", "stream_id"),
];

/// What (d) reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Per [`ONCE`] event type: how many keys have it, and how many events
    /// beyond one per key.
    pub per_type: Vec<(&'static str, i64, i64)>,
    /// Cases accepted by intake.
    pub accepted: i64,
    /// Accepted cases without a `CaseClosed`.
    pub unclosed: i64,
    /// Closed cases, and those intake recorded as ended by closing.
    pub closed: i64,
    pub ended: i64,
}

/// (d) from the counts read.
pub fn effects_once(e: &Effects) -> Check {
    let mut problems = Vec::new();
    let twice: Vec<String> =
        e.per_type.iter().filter(|(_, _, extra)| *extra > 0).map(|(t, _, extra)| format!("{extra} × {t}")).collect();
    if !twice.is_empty() {
        problems.push(format!("effects beyond one: {}", twice.join(", ")));
    }
    if e.unclosed > 0 {
        problems.push(format!("{} accepted cases not closed", e.unclosed));
    }
    if e.ended != e.closed {
        problems.push(format!("{} cases closed, {} recorded as ended by closing in intake", e.closed, e.ended));
    }
    verdict(
        "(d) each effect once",
        format!(
            "{} cases accepted, {} closed once, {} closings recorded in intake; {} once-only event types counted",
            e.accepted,
            e.closed,
            e.ended,
            e.per_type.len()
        ),
        problems,
    )
}

async fn scalar(pool: &PgPool, sql: impl sqlx::SqlSafeStr) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

async fn closings(pool: &PgPool) -> anyhow::Result<(i64, i64)> {
    let closed =
        scalar(pool, "SELECT count(DISTINCT case_id) FROM issuance.events WHERE event_type = 'CaseClosed'").await?;
    let ended = scalar(pool, "SELECT count(*) FROM intake.case_endings WHERE how = 'closed'").await?;
    Ok((closed, ended))
}

/// (d) read from the stores.
pub async fn check_effects(pool: &PgPool) -> anyhow::Result<Check> {
    let mut e = Effects::default();
    for (store, event_type, per) in ONCE {
        let (keys, extra): (i64, i64) = sqlx::query_as(names_sql(
            "SELECT count(*), coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM {schema}.events \
             WHERE event_type = $1 GROUP BY {per}) d",
            &[("schema", store), ("per", per)],
        ))
        .bind(event_type)
        .fetch_one(pool)
        .await?;
        e.per_type.push((event_type, keys, extra));
    }
    e.accepted =
        scalar(pool, "SELECT count(DISTINCT case_id) FROM intake.events WHERE event_type = 'ApplicationAccepted'")
            .await?;
    e.unclosed = scalar(
        pool,
        "SELECT count(DISTINCT a.case_id) FROM intake.events a WHERE a.event_type = 'ApplicationAccepted' \
         AND NOT EXISTS (SELECT 1 FROM issuance.events c WHERE c.event_type = 'CaseClosed' AND c.case_id = a.case_id)",
    )
    .await?;
    (e.closed, e.ended) = closings(pool).await?;
    Ok(effects_once(&e))
}

// ------------------------------------------------------------------ the run

/// Waits (up to `timeout`) until the outboxes are empty and intake recorded
/// every closing, so that the checks see the effects still on their way.
pub async fn wait_settled(pool: &PgPool, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut outbox = 0;
        for store in crate::observe::STORES {
            outbox += scalar(pool, schema_sql(store, "SELECT count(*) FROM {schema}.outbox")).await?;
        }
        let (closed, ended) = closings(pool).await?;
        if (outbox == 0 && closed == ended) || Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every check; `live` is the read models' snapshot taken before the
/// rebuild, read again now (after it) from the rebuilt schema.
pub async fn check(pool: &PgPool, live: &Snapshot) -> anyhow::Result<Correctness> {
    wait_settled(pool, Duration::from_secs(60)).await?;
    let rebuilt = snapshot(pool).await?;
    Ok(Correctness {
        checks: vec![
            check_tasks(pool).await?,
            check_warnings(pool).await?,
            read_models_equal(live, &rebuilt),
            check_effects(pool).await?,
        ],
    })
}

fn shown(items: &[String]) -> String {
    let mut s = items.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > SHOWN {
        let _ = write!(s, "; and {} more", items.len() - SHOWN);
    }
    s
}

fn verdict(name: &'static str, counted: String, problems: Vec<String>) -> Check {
    if problems.is_empty() {
        Check { name, passed: true, detail: counted }
    } else {
        Check { name, passed: false, detail: format!("{counted}. {}", problems.join(". ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn one_task_per_dispatched_step_passes_and_a_second_one_is_named() {
        let steps = keys(&[("c1", "s1"), ("c1", "s2"), ("c2", "s1")]);
        let ok = tasks_per_step(&steps, &steps, &steps);
        assert!(ok.passed, "{ok:?}");
        assert!(ok.detail.contains("3 tasks of 2 cases"), "{}", ok.detail);

        let mut created = steps.clone();
        created.push(("c1".into(), "s2".into()));
        let twice = tasks_per_step(&steps, &created, &steps);
        assert!(!twice.passed);
        assert!(
            twice.detail.contains("1 (case, step) with more than one TaskCreated: case c1 step s2 × 2"),
            "{}",
            twice.detail
        );

        let lost = tasks_per_step(&steps[..2], &steps[..2], &steps);
        assert!(!lost.passed);
        assert!(lost.detail.contains("1 dispatched steps without a task: case c2 step s1"), "{}", lost.detail);
    }

    #[test]
    fn a_warning_twice_for_the_same_level_fails() {
        let once = warnings_once(&[("t1".into(), 1), ("t1".into(), 2), ("t2".into(), 1)]);
        assert!(once.passed, "{once:?}");
        let twice = warnings_once(&[("t1".into(), 1), ("t1".into(), 1)]);
        assert!(!twice.passed);
        assert!(twice.detail.contains("task t1 level 1 × 2"), "{}", twice.detail);
        assert!(warnings_once(&[]).passed);
    }

    fn table(name: &'static str, rows: &[(&str, &str)]) -> Table {
        Table { name, rows: keys(rows) }
    }

    #[test]
    fn equal_read_models_pass_and_the_first_differences_are_named() {
        let live = Snapshot {
            schema: "tracking".into(),
            tables: vec![table("case_views", &[("a", "1"), ("b", "2")]), table("timeline", &[("e1", "x")])],
        };
        let rebuilt = Snapshot { schema: "tracking_rebuild_1".into(), ..live.clone() };
        let same = read_models_equal(&live, &rebuilt);
        assert!(same.passed, "{same:?}");
        assert!(same.detail.contains("case_views 2 rows = "), "{}", same.detail);

        let differing = Snapshot {
            schema: "tracking_rebuild_1".into(),
            tables: vec![table("case_views", &[("a", "1"), ("b", "3"), ("c", "4")]), table("timeline", &[])],
        };
        let c = read_models_equal(&live, &differing);
        assert!(!c.passed);
        for expected in [
            "case_views: 1 rows only in the replay (c)",
            "case_views: 1 rows differ (b)",
            "timeline: 1 rows not in the replay (e1)",
        ] {
            assert!(c.detail.contains(expected), "{expected:?} not in {}", c.detail);
        }
        assert!(!read_models_equal(&live, &live).passed, "a rebuild that did not switch over");
    }

    #[test]
    fn the_digest_follows_the_rows() {
        let a = table("t", &[("a", "1"), ("b", "2")]);
        assert_eq!(a.digest(), table("t", &[("a", "1"), ("b", "2")]).digest());
        assert_ne!(a.digest(), table("t", &[("a", "1"), ("b", "3")]).digest());
        assert_ne!(a.digest(), table("t", &[("a", "1")]).digest());
    }

    #[test]
    fn effects_once_and_every_case_closed_once() {
        let good = Effects {
            per_type: vec![("CaseClosed", 3, 0), ("TaskApproved", 18, 0)],
            accepted: 3,
            unclosed: 0,
            closed: 3,
            ended: 3,
        };
        assert!(effects_once(&good).passed, "{:?}", effects_once(&good));
        let bad =
            Effects { per_type: vec![("CaseClosed", 3, 1), ("TaskApproved", 18, 0)], unclosed: 1, ended: 2, ..good };
        let c = effects_once(&bad);
        assert!(!c.passed);
        for expected in
            ["effects beyond one: 1 × CaseClosed", "1 accepted cases not closed", "3 cases closed, 2 recorded"]
        {
            assert!(c.detail.contains(expected), "{expected:?} not in {}", c.detail);
        }
    }

    #[test]
    fn a_run_passes_only_when_every_check_does() {
        let pass = Check { name: "x", passed: true, detail: String::new() };
        let fail = Check { name: "y", passed: false, detail: "a | b".into() };
        assert!(Correctness { checks: vec![pass.clone()] }.passed());
        assert!(!Correctness { checks: vec![pass.clone(), fail.clone()] }.passed());
        assert!(!Correctness::default().passed());
        assert!(Correctness { checks: vec![fail] }.markdown().contains("| y | **FAILED** | a \\| b |"));
    }
}

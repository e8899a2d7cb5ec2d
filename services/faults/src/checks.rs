//! What must hold after every fault, read from the stores themselves (the
//! event tables are the ledger): every case stored is closed and every case
//! a client saw accepted is stored; no effect happened twice; the outboxes
//! are empty and JetStream holds each event once; tracking projected every
//! event once and its read models equal a rebuild from the stores; no case
//! lost a fact it was prepared with (issuance's lead department).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use prost::Message as _;
use sqlx::PgPool;
// The effects that happen once per case or per task: the benchmark's list,
// so that its check and these count the same things.
use yiciban_bench::correctness::ONCE;
use yiciban_eventstore::sql::{names_sql, schema_sql};
use yiciban_proto::events::v1 as events;

/// The schemas holding an event store.
pub const STORES: [&str; 4] = ["intake", "routing", "tasks", "issuance"];

/// What the checks found; all zero (and `projected == stored`) when the
/// system kept its promises.
#[derive(Debug, Default, Clone)]
pub struct Findings {
    /// Cases stored in intake.
    pub cases: i64,
    /// Cases stored but not closed, plus cases a client saw accepted that
    /// intake does not hold.
    pub lost: i64,
    /// Effect events beyond the one allowed, with what they were.
    pub duplicated: i64,
    pub duplicates: Vec<String>,
    /// SLA warnings recorded (each at most once per task and level).
    pub warnings: i64,
    pub outbox: i64,
    pub stored: i64,
    /// Events in the tracking timeline.
    pub projected: i64,
    /// Messages in the JetStream stream.
    pub published: i64,
    /// Rows that differ between the live read models and their rebuild.
    pub read_model_diff: i64,
    /// Messages set aside by a consumer.
    pub poison: i64,
    /// Issuance cases without their lead department (a dependency that was
    /// away taken for "no lead department").
    pub leadless: i64,
}

impl Findings {
    /// What broke a promise, in words; empty when nothing did.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.lost > 0 {
            p.push(format!("{} cases lost", self.lost));
        }
        if self.duplicated > 0 {
            p.push(format!("{} effects duplicated: {}", self.duplicated, self.duplicates.join("; ")));
        }
        if self.outbox > 0 {
            p.push(format!("{} events left in the outboxes", self.outbox));
        }
        if self.projected != self.stored {
            p.push(format!("tracking projected {} of {} events", self.projected, self.stored));
        }
        if self.published != self.stored {
            p.push(format!("JetStream holds {} messages for {} stored events", self.published, self.stored));
        }
        if self.leadless > 0 {
            p.push(format!("{} issuance cases lost their lead department", self.leadless));
        }
        if self.read_model_diff > 0 {
            p.push(format!("{} read-model rows differ from a rebuild", self.read_model_diff));
        }
        p
    }
}

async fn count(pool: &PgPool, sql: impl sqlx::SqlSafeStr) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// Events stored by every service.
pub async fn stored(pool: &PgPool) -> anyhow::Result<i64> {
    let mut total = 0;
    for store in STORES {
        total += count(pool, schema_sql(store, "SELECT count(*) FROM {schema}.events")).await?;
    }
    Ok(total)
}

/// Events waiting in every outbox.
pub async fn outbox(pool: &PgPool) -> anyhow::Result<i64> {
    let mut total = 0;
    for store in STORES {
        total += count(pool, schema_sql(store, "SELECT count(*) FROM {schema}.outbox")).await?;
    }
    Ok(total)
}

/// Events in the timeline of the read models the queries read now (after
/// a rebuild, the rebuilt schema).
pub async fn projected(pool: &PgPool) -> anyhow::Result<i64> {
    let active = active_read_model(pool).await?;
    count(pool, names_sql("SELECT count(*) FROM {active}.timeline", &[("active", &active)])).await
}

/// Waits until every outbox is empty and tracking projected every stored
/// event; false after `timeout`.
pub async fn wait_quiet(pool: &PgPool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let quiet = async {
            let (o, s, p) = (outbox(pool).await?, stored(pool).await?, projected(pool).await?);
            anyhow::Ok(o == 0 && p >= s)
        };
        if quiet.await.unwrap_or(false) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Counts the effects recorded more than once.
async fn duplicates(pool: &PgPool, f: &mut Findings) -> anyhow::Result<()> {
    for (store, event_type, per) in ONCE {
        let extra: i64 = sqlx::query_scalar(names_sql(
            "SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM {schema}.events \
             WHERE event_type = $1 GROUP BY {per}) d WHERE n > 1",
            &[("schema", store), ("per", per)],
        ))
        .bind(event_type)
        .fetch_one(pool)
        .await?;
        if extra > 0 {
            let one = if per == "case_id" { "case" } else { "task" };
            f.duplicated += extra;
            f.duplicates.push(format!("{extra} × {event_type} beyond one per {one}"));
        }
    }
    // One task per dispatched step, and each dispatched step has its task.
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_type, case_id::text, payload FROM tasks.events WHERE event_type IN ('TaskCreated', 'TaskWarned') \
         UNION ALL SELECT event_type, case_id::text, payload FROM routing.events WHERE event_type = 'StepDispatched'",
    )
    .fetch_all(pool)
    .await?;
    let mut created: HashMap<(String, String), i64> = HashMap::new();
    let mut dispatched: HashSet<(String, String)> = HashSet::new();
    let mut warned: HashMap<(String, i32), i64> = HashMap::new();
    for (event_type, case_id, payload) in rows {
        match event_type.as_str() {
            "TaskCreated" => {
                let e = events::TaskCreated::decode(payload.as_slice()).context("decoding a TaskCreated")?;
                *created.entry((case_id, e.step_id)).or_default() += 1;
            }
            "TaskWarned" => {
                let e = events::TaskWarned::decode(payload.as_slice()).context("decoding a TaskWarned")?;
                *warned.entry((e.task_id, e.level)).or_default() += 1;
            }
            _ => {
                let e = events::StepDispatched::decode(payload.as_slice()).context("decoding a StepDispatched")?;
                dispatched.insert((case_id, e.step_id));
            }
        }
    }
    let extra_tasks: i64 = created.values().map(|n| n - 1).sum();
    if extra_tasks > 0 {
        f.duplicated += extra_tasks;
        f.duplicates.push(format!("{extra_tasks} × TaskCreated beyond one per step"));
    }
    let untasked = dispatched.iter().filter(|k| !created.contains_key(*k)).count() as i64;
    let unasked = created.keys().filter(|k| !dispatched.contains(*k)).count() as i64;
    if untasked + unasked > 0 {
        f.duplicated += unasked;
        f.duplicates.push(format!("{untasked} dispatched steps without a task, {unasked} tasks without a dispatch"));
    }
    f.warnings = warned.values().sum();
    let extra_warnings: i64 = warned.values().map(|n| n - 1).sum();
    if extra_warnings > 0 {
        f.duplicated += extra_warnings;
        f.duplicates.push(format!("{extra_warnings} × TaskWarned beyond one per task and level"));
    }
    Ok(())
}

/// Cases stored but not closed, and accepted ones that are not stored.
async fn lost(pool: &PgPool, accepted: &[String], f: &mut Findings) -> anyhow::Result<()> {
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT case_id::text FROM intake.events WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_all(pool)
    .await?;
    let closed: HashSet<String> =
        sqlx::query_scalar("SELECT DISTINCT case_id::text FROM issuance.events WHERE event_type = 'CaseClosed'")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    f.cases = stored.len() as i64;
    let open = stored.iter().filter(|c| !closed.contains(*c)).count();
    let stored: HashSet<String> = stored.into_iter().collect();
    let vanished = accepted.iter().filter(|c| !stored.contains(*c)).count();
    f.lost = (open + vanished) as i64;
    Ok(())
}

/// Rows that differ between two tracking schemas' read models (the columns
/// a fold decides, not when a row was written).
pub async fn read_model_diff(pool: &PgPool, live: &str, rebuilt: &str) -> anyhow::Result<i64> {
    let names = [("a", live), ("b", rebuilt)];
    let statements = [
        "SELECT count(*) FROM ((SELECT case_id, doc, case_number, package_id, lead_department, officer_id, status, \
         warning, open, promised_by, last_event_at FROM {a}.case_views EXCEPT SELECT case_id, doc, case_number, \
         package_id, lead_department, officer_id, status, warning, open, promised_by, last_event_at FROM \
         {b}.case_views) UNION ALL (SELECT case_id, doc, case_number, package_id, lead_department, officer_id, \
         status, warning, open, promised_by, last_event_at FROM {b}.case_views EXCEPT SELECT case_id, doc, \
         case_number, package_id, lead_department, officer_id, status, warning, open, promised_by, last_event_at \
         FROM {a}.case_views)) d",
        "SELECT count(*) FROM ((SELECT task_id, case_id, department, state, open, assignee, warning, escalated, \
         clock_stopped, due_by, created_at, doc FROM {a}.task_rows EXCEPT SELECT task_id, case_id, department, \
         state, open, assignee, warning, escalated, clock_stopped, due_by, created_at, doc FROM {b}.task_rows) \
         UNION ALL (SELECT task_id, case_id, department, state, open, assignee, warning, escalated, clock_stopped, \
         due_by, created_at, doc FROM {b}.task_rows EXCEPT SELECT task_id, case_id, department, state, open, \
         assignee, warning, escalated, clock_stopped, due_by, created_at, doc FROM {a}.task_rows)) d",
        "SELECT count(*) FROM ((SELECT case_id, event_key, occurred_at, entry FROM {a}.timeline EXCEPT \
         SELECT case_id, event_key, occurred_at, entry FROM {b}.timeline) UNION ALL (SELECT case_id, event_key, \
         occurred_at, entry FROM {b}.timeline EXCEPT SELECT case_id, event_key, occurred_at, entry FROM {a}.timeline)) d",
    ];
    let mut diff = 0;
    for statement in statements {
        diff += count(pool, names_sql(statement, &names)).await?;
    }
    Ok(diff)
}

/// The schema the tracking queries read now.
pub async fn active_read_model(pool: &PgPool) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar("SELECT active FROM tracking.read_model").fetch_one(pool).await?)
}

/// Messages set aside by any consumer and not replayed.
pub async fn poison(pool: &PgPool) -> anyhow::Result<i64> {
    let mut total = 0;
    for store in STORES.iter().copied().chain(["tracking"]) {
        total +=
            count(pool, schema_sql(store, "SELECT count(*) FROM {schema}.poison_messages WHERE replayed_at IS NULL"))
                .await?;
    }
    Ok(total)
}

/// Every check but the read-model comparison (see [`read_model_diff`]);
/// `published` is the JetStream stream's message count.
pub async fn check(pool: &PgPool, accepted: &[String], published: i64) -> anyhow::Result<Findings> {
    let mut f = Findings { published, ..Findings::default() };
    lost(pool, accepted, &mut f).await?;
    duplicates(pool, &mut f).await?;
    f.outbox = outbox(pool).await?;
    f.stored = stored(pool).await?;
    f.projected = projected(pool).await?;
    f.poison = poison(pool).await?;
    f.leadless = count(pool, "SELECT count(*) FROM issuance.issuance_cases WHERE lead_department = ''").await?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_system_breaks_no_promise_and_each_broken_one_is_named() {
        let settled = Findings { cases: 3, stored: 60, projected: 60, published: 60, ..Findings::default() };
        assert!(settled.problems().is_empty(), "{:?}", settled.problems());

        let broken = Findings {
            lost: 1,
            duplicated: 2,
            duplicates: vec!["2 × CaseClosed beyond one per case".into()],
            outbox: 4,
            projected: 59,
            published: 61,
            read_model_diff: 5,
            leadless: 1,
            ..settled
        };
        let problems = broken.problems().join("\n");
        for expected in [
            "1 cases lost",
            "2 effects duplicated: 2 × CaseClosed beyond one per case",
            "4 events left in the outboxes",
            "tracking projected 59 of 60 events",
            "JetStream holds 61 messages for 60 stored events",
            "5 read-model rows differ from a rebuild",
            "1 issuance cases lost their lead department",
        ] {
            assert!(problems.contains(expected), "{expected:?} not in {problems}");
        }
    }
}

//! The tasks schema's own tables as functions: the inbox index row and the
//! SLA timers of a task (written in the transaction of each append), and the
//! inbox, case and timer queries.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgConnection;
use sqlx::{PgPool, QueryBuilder, Row as _};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

/// The index row of a task, as of one stream version.
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// The task.
    pub task_id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// The plan step.
    pub step_id: String,
    /// Its department.
    pub department: String,
    /// The case's lead department.
    pub lead_department: String,
    /// The package.
    pub package_id: String,
    /// The state name ([`yiciban_domain::tasks::TaskStatus::as_str`]).
    pub state: String,
    /// Pending, in progress or waiting.
    pub open: bool,
    /// Who holds it.
    pub assignee: Option<String>,
    /// 0 on time, 1 yellow, 2 red.
    pub warning: i16,
    /// Last day on time.
    pub due_by: NaiveDate,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Stream version.
    pub version: i64,
    /// The encoded `Task` message.
    pub task: Vec<u8>,
    /// The clock as JSON.
    pub clock: serde_json::Value,
}

/// Is the index's unique (case, step) constraint what a database error broke?
pub fn is_duplicate_step(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some("task_index_one_task_per_step"))
}

/// Inserts or replaces the index row of a task (in the command's transaction).
pub async fn upsert_index(conn: &mut PgConnection, schema: &str, r: &IndexRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.task_index
            (task_id, case_id, step_id, department, lead_department, package_id, state, open, assignee,
             warning, due_by, created_at, version, task, clock)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (task_id) DO UPDATE SET
            state = EXCLUDED.state, open = EXCLUDED.open, assignee = EXCLUDED.assignee,
            warning = EXCLUDED.warning, due_by = EXCLUDED.due_by, version = EXCLUDED.version,
            task = EXCLUDED.task, clock = EXCLUDED.clock",
    ))
    .bind(r.task_id)
    .bind(r.case_id)
    .bind(&r.step_id)
    .bind(&r.department)
    .bind(&r.lead_department)
    .bind(&r.package_id)
    .bind(&r.state)
    .bind(r.open)
    .bind(&r.assignee)
    .bind(r.warning)
    .bind(r.due_by)
    .bind(r.created_at)
    .bind(r.version)
    .bind(&r.task)
    .bind(&r.clock)
    .execute(conn)
    .await?;
    Ok(())
}

/// The task already created for a case's step, if any.
pub async fn task_of_step(pool: &PgPool, schema: &str, case_id: Uuid, step_id: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(schema_sql(
        schema,
        "SELECT task_id FROM {schema}.task_index WHERE case_id = $1 AND step_id = $2",
    ))
    .bind(case_id)
    .bind(step_id)
    .fetch_optional(pool)
    .await
}

/// Sets the SLA timers of a task (in the command's transaction).
pub async fn upsert_timers(
    conn: &mut PgConnection,
    schema: &str,
    task_id: Uuid,
    case_id: Uuid,
    yellow_at: Option<DateTime<Utc>>,
    red_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.sla_timers (task_id, case_id, yellow_at, red_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (task_id) DO UPDATE SET yellow_at = EXCLUDED.yellow_at, red_at = EXCLUDED.red_at",
    ))
    .bind(task_id)
    .bind(case_id)
    .bind(yellow_at)
    .bind(red_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A task with a warning due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// The task.
    pub task_id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// Yellow is due.
    pub yellow: bool,
    /// Red is due.
    pub red: bool,
}

/// Tasks with a yellow or red instant at or before `now`, earliest first,
/// but those in `skip` (the ones this sweep failed on already).
pub async fn due_timers(
    pool: &PgPool,
    schema: &str,
    now: DateTime<Utc>,
    limit: i64,
    skip: &[Uuid],
) -> sqlx::Result<Vec<DueTimer>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT task_id, case_id, yellow_at <= $1 AS yellow, red_at <= $1 AS red FROM {schema}.sla_timers
         WHERE (yellow_at <= $1 OR red_at <= $1) AND NOT (task_id = ANY($3))
         ORDER BY LEAST(yellow_at, red_at), task_id
         LIMIT $2",
    ))
    .bind(now)
    .bind(limit)
    .bind(skip)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DueTimer {
            task_id: r.get("task_id"),
            case_id: r.get("case_id"),
            yellow: r.get::<Option<bool>, _>("yellow").unwrap_or(false),
            red: r.get::<Option<bool>, _>("red").unwrap_or(false),
        })
        .collect())
}

/// The filters of an inbox query.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// The department.
    pub department: String,
    /// State names; never empty.
    pub states: Vec<String>,
    /// Due on or before.
    pub due_before: Option<NaiveDate>,
    /// Only this package.
    pub package_id: Option<String>,
    /// Only this assignee.
    pub assignee: Option<String>,
    /// At least this warning (0 = all).
    pub min_warning: i16,
}

/// A stored task read back: the encoded message and what recomputes it.
#[derive(Debug, Clone)]
pub struct StoredTask {
    /// The encoded `Task` message.
    pub task: Vec<u8>,
    /// The clock as JSON.
    pub clock: serde_json::Value,
    /// Open (its working days used grow).
    pub open: bool,
}

fn stored(r: &sqlx::postgres::PgRow) -> StoredTask {
    StoredTask { task: r.get("task"), clock: r.get("clock"), open: r.get("open") }
}

fn push_filter(q: &mut QueryBuilder<sqlx::Postgres>, f: &InboxFilter) {
    q.push(" WHERE department = ").push_bind(f.department.clone());
    q.push(" AND state = ANY(").push_bind(f.states.clone()).push(")");
    if let Some(d) = f.due_before {
        q.push(" AND due_by <= ").push_bind(d);
    }
    if let Some(p) = &f.package_id {
        q.push(" AND package_id = ").push_bind(p.clone());
    }
    if let Some(a) = &f.assignee {
        q.push(" AND assignee = ").push_bind(a.clone());
    }
    if f.min_warning > 0 {
        q.push(" AND warning >= ").push_bind(f.min_warning);
    }
}

/// One page of an inbox, most urgent first (warning, due date, creation),
/// and the number of tasks matching over all pages.
pub async fn inbox(
    pool: &PgPool,
    schema: &str,
    filter: &InboxFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(Vec<StoredTask>, i64)> {
    let mut count = QueryBuilder::new(schema_sql(schema, "SELECT count(*) FROM {schema}.task_index").as_str());
    push_filter(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    let mut q = QueryBuilder::new(schema_sql(schema, "SELECT task, clock, open FROM {schema}.task_index").as_str());
    push_filter(&mut q, filter);
    q.push(" ORDER BY warning DESC, due_by, created_at, task_id OFFSET ").push_bind(offset);
    q.push(" LIMIT ").push_bind(limit);
    let rows = q.build().fetch_all(pool).await?;
    Ok((rows.iter().map(stored).collect(), total))
}

/// Every task of a case, in creation order (who sees which is decided by
/// the caller, see `grpc::access`).
pub async fn case_tasks(pool: &PgPool, schema: &str, case_id: Uuid) -> sqlx::Result<Vec<StoredTask>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT task, clock, open FROM {schema}.task_index WHERE case_id = $1 ORDER BY created_at, task_id",
    ))
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(stored).collect())
}

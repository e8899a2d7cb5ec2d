//! The reads of the tracking tables: one case (by id or number), a page of
//! its timeline, an officer's worklist, a department's queue and the overdue
//! board. Documents come back as the projection's types; the callers turn
//! them into wire messages with the figures of "now".

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row as _};
use uuid::Uuid;

use crate::projection::{CaseView, TaskView, TimelineEntry};
use yiciban_eventstore::sql::schema_sql;

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("database error while {0}")]
    Db(&'static str, #[source] sqlx::Error),
    #[error("a stored {0} document is unreadable")]
    Document(&'static str, #[source] serde_json::Error),
}

fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> RepoError {
    move |e| RepoError::Db(context, e)
}

/// The columns a case is read from: its document and its tasks' (ADR
/// 0042: the document holds no tasks; each is its own row).
macro_rules! case_columns {
    () => {
        "c.doc, (SELECT coalesce(jsonb_agg(t.doc), '[]') FROM {schema}.task_rows t WHERE t.case_id = c.case_id) AS tasks"
    };
}

/// A case read with [`case_columns`].
fn case_doc(row: &sqlx::postgres::PgRow) -> Result<CaseView, RepoError> {
    let mut view: CaseView = serde_json::from_value(row.get("doc")).map_err(|e| RepoError::Document("case view", e))?;
    let tasks: Vec<TaskView> = serde_json::from_value(row.get("tasks")).map_err(|e| RepoError::Document("task", e))?;
    view.tasks.extend(tasks.into_iter().map(|t| (t.task_id.clone(), t)));
    Ok(view)
}

/// A task with the fields of its case a queue shows.
#[derive(Debug, Clone)]
pub struct TaskListing {
    pub case_id: Uuid,
    pub case_number: String,
    pub package_id: String,
    pub lead_department: String,
    pub officer_id: String,
    pub task: TaskView,
}

/// The read side of one tracking schema.
#[derive(Debug, Clone)]
pub struct Repo {
    pool: PgPool,
    schema: String,
}

impl Repo {
    pub fn new(pool: PgPool, schema: &str) -> Self {
        Repo { pool, schema: schema.to_owned() }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The configured schema (the control tables).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The schema whose read models the queries read now: the configured one
    /// until a rebuild switched over to its own.
    pub async fn active(&self) -> Result<String, RepoError> {
        let active: String = sqlx::query_scalar(schema_sql(&self.schema, "SELECT active FROM {schema}.read_model"))
            .fetch_one(&self.pool)
            .await
            .map_err(db("reading the active read model"))?;
        // Written by the rebuild's switch-over from a name `migrate` accepted;
        // checked again before the queries write it into SQL.
        yiciban_eventstore::migrate::validate_schema_name(&active)
            .map_err(|e| RepoError::Db("reading the active read model", sqlx::Error::Decode(Box::new(e))))?;
        Ok(active)
    }

    /// Every case with an event at or after `since` (for the statistics of
    /// a month starting then).
    pub async fn cases_since(&self, since: DateTime<Utc>) -> Result<Vec<CaseView>, RepoError> {
        let rows = sqlx::query(schema_sql(
            &self.active().await?,
            concat!(
                "SELECT ",
                case_columns!(),
                " FROM {schema}.case_views c
                 WHERE c.last_event_day >= ($1 AT TIME ZONE 'UTC')::date AND c.last_event_at >= $1 ORDER BY c.case_id"
            ),
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading the cases of a month"))?;
        rows.iter().map(case_doc).collect()
    }

    /// One case; `None` when no event of it was applied yet.
    pub async fn case(&self, case_id: Uuid) -> Result<Option<CaseView>, RepoError> {
        let row = sqlx::query(schema_sql(
            &self.active().await?,
            concat!("SELECT ", case_columns!(), " FROM {schema}.case_views c WHERE c.case_id = $1"),
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a case"))?;
        row.as_ref().map(case_doc).transpose()
    }

    /// The case with this number.
    pub async fn case_by_number(&self, case_number: &str) -> Result<Option<CaseView>, RepoError> {
        let row = sqlx::query(schema_sql(
            &self.active().await?,
            concat!(
                "SELECT ",
                case_columns!(),
                " FROM {schema}.case_views c WHERE c.case_number = $1 ORDER BY c.updated_at DESC LIMIT 1"
            ),
        ))
        .bind(case_number)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("finding a case by number"))?;
        row.as_ref().map(case_doc).transpose()
    }

    /// Up to `limit` timeline entries of a case from `offset` on (oldest
    /// first), the entry before them (for the time since it), and how many
    /// entries the case has.
    pub async fn timeline(
        &self,
        case_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<(Option<TimelineEntry>, Vec<TimelineEntry>, i64), RepoError> {
        let from = (offset - 1).max(0);
        let rows = sqlx::query(schema_sql(
            &self.active().await?,
            "SELECT entry, count(*) OVER () AS total FROM {schema}.timeline WHERE case_id = $1
             ORDER BY occurred_at, seq OFFSET $2 LIMIT $3",
        ))
        .bind(case_id)
        .bind(from)
        .bind(limit + (offset - from))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading a timeline"))?;
        let total = rows.first().map_or(0, |r| r.get::<i64, _>("total"));
        let mut entries = rows
            .into_iter()
            .map(|r| serde_json::from_value(r.get("entry")).map_err(|e| RepoError::Document("timeline entry", e)))
            .collect::<Result<Vec<TimelineEntry>, _>>()?;
        let previous = if offset > from && !entries.is_empty() { Some(entries.remove(0)) } else { None };
        Ok((previous, entries, total))
    }

    /// The cases an officer follows in `statuses` (empty = the open ones) at
    /// or above `min_warning`, most urgent first: red, yellow, then by
    /// promised date.
    pub async fn worklist(
        &self,
        officer_id: &str,
        statuses: &[&str],
        min_warning: i16,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<CaseView>, i64), RepoError> {
        let schema = self.active().await?;
        // Two statements, the page and the count, so that the page stops
        // after `limit` rows of the worklist index instead of reading every
        // matching case for a window count; the open cases (the default)
        // have a partial index of their own.
        let (page, count) = if statuses.is_empty() {
            (
                concat!(
                    "SELECT ",
                    case_columns!(),
                    " FROM {schema}.case_views c WHERE c.officer_id = $1 AND c.open AND c.warning >= $2
                     ORDER BY c.warning DESC, c.promised_by ASC NULLS LAST, c.case_number OFFSET $3 LIMIT $4"
                ),
                "SELECT count(*) FROM {schema}.case_views WHERE officer_id = $1 AND open AND warning >= $2",
            )
        } else {
            (
                concat!(
                    "SELECT ",
                    case_columns!(),
                    " FROM {schema}.case_views c WHERE c.officer_id = $1 AND c.warning >= $2 AND c.status = ANY($5)
                     ORDER BY c.warning DESC, c.promised_by ASC NULLS LAST, c.case_number OFFSET $3 LIMIT $4"
                ),
                "SELECT count(*) FROM {schema}.case_views
                 WHERE officer_id = $1 AND warning >= $2 AND status = ANY($3)",
            )
        };
        let mut page =
            sqlx::query(schema_sql(&schema, page)).bind(officer_id).bind(min_warning).bind(offset).bind(limit);
        let mut count = sqlx::query_scalar(schema_sql(&schema, count)).bind(officer_id).bind(min_warning);
        if !statuses.is_empty() {
            page = page.bind(statuses);
            count = count.bind(statuses);
        }
        let rows = page.fetch_all(&self.pool).await.map_err(db("reading a worklist"))?;
        let total: i64 = count.fetch_one(&self.pool).await.map_err(db("counting a worklist"))?;
        let cases = rows.iter().map(case_doc).collect::<Result<Vec<_>, _>>()?;
        Ok((cases, total))
    }

    /// A department's tasks in `states`, of `package_id` if given, of the
    /// cases assigned to `officer` if given, most urgent first: warning,
    /// due date, age.
    pub async fn department_queue(
        &self,
        department: &str,
        officer: Option<&str>,
        states: &[&str],
        package_id: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<TaskListing>, i64), RepoError> {
        let schema = self.active().await?;
        // The page and its count apart: the page stops after `limit` rows in
        // queue order; the count without filters on the case reads the
        // (department, state) index alone.
        let rows = sqlx::query(schema_sql(
            &schema,
            "SELECT t.doc, t.case_id, c.case_number, c.package_id, c.lead_department, c.officer_id
             FROM {schema}.task_rows t JOIN {schema}.case_views c ON c.case_id = t.case_id
             WHERE t.department = $1 AND t.state = ANY($2) AND ($3::text IS NULL OR c.package_id = $3)
               AND ($6::text IS NULL OR c.officer_id = $6)
             ORDER BY t.warning DESC, t.due_by ASC NULLS LAST, t.created_at, t.task_id
             OFFSET $4 LIMIT $5",
        ))
        .bind(department)
        .bind(states)
        .bind(package_id)
        .bind(offset)
        .bind(limit)
        .bind(officer)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading a department queue"))?;
        let count = if package_id.is_none() && officer.is_none() {
            sqlx::query_scalar(schema_sql(
                &schema,
                "SELECT count(*) FROM {schema}.task_rows WHERE department = $1 AND state = ANY($2)",
            ))
            .bind(department)
            .bind(states)
        } else {
            sqlx::query_scalar(schema_sql(
                &schema,
                "SELECT count(*) FROM {schema}.task_rows t JOIN {schema}.case_views c ON c.case_id = t.case_id
                 WHERE t.department = $1 AND t.state = ANY($2) AND ($3::text IS NULL OR c.package_id = $3)
                   AND ($4::text IS NULL OR c.officer_id = $4)",
            ))
            .bind(department)
            .bind(states)
            .bind(package_id)
            .bind(officer)
        };
        let total: i64 = count.fetch_one(&self.pool).await.map_err(db("counting a department queue"))?;
        Ok((listings(rows)?, total))
    }

    /// Open tasks at or above `min_level` (of one department if given, of
    /// the cases assigned to one officer if given), red first, then by due
    /// date; with the yellow and red counts over all pages.
    pub async fn overdue(
        &self,
        department: Option<&str>,
        officer: Option<&str>,
        min_level: i16,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<TaskListing>, i64, i64), RepoError> {
        let counts = sqlx::query(schema_sql(
            &self.active().await?,
            "SELECT count(*) FILTER (WHERE warning = 1) AS yellow, count(*) FILTER (WHERE warning = 2) AS red
             FROM {schema}.task_rows t
             WHERE t.open AND t.warning >= $1 AND ($2::text IS NULL OR t.department = $2)
               AND ($3::text IS NULL
                    OR EXISTS (SELECT 1 FROM {schema}.case_views c WHERE c.case_id = t.case_id AND c.officer_id = $3))",
        ))
        .bind(min_level)
        .bind(department)
        .bind(officer)
        .fetch_one(&self.pool)
        .await
        .map_err(db("counting warned tasks"))?;
        let rows = sqlx::query(schema_sql(
            &self.active().await?,
            "SELECT t.doc, t.case_id, c.case_number, c.package_id, c.lead_department, c.officer_id
             FROM {schema}.task_rows t JOIN {schema}.case_views c ON c.case_id = t.case_id
             WHERE t.open AND t.warning > 0 AND t.warning >= $1 AND ($2::text IS NULL OR t.department = $2)
               AND ($5::text IS NULL OR c.officer_id = $5)
             ORDER BY t.warning DESC, t.due_by ASC NULLS LAST, t.created_at, t.task_id
             OFFSET $3 LIMIT $4",
        ))
        .bind(min_level)
        .bind(department)
        .bind(offset)
        .bind(limit)
        .bind(officer)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading the overdue board"))?;
        // No window count here: the board's counts are the statement above,
        // and without one the page stops after `limit` rows of the warned
        // tasks' index instead of joining every warned task to its case.
        Ok((listings(rows)?, counts.get("yellow"), counts.get("red")))
    }
}

fn listings(rows: Vec<sqlx::postgres::PgRow>) -> Result<Vec<TaskListing>, RepoError> {
    rows.into_iter()
        .map(|r| {
            Ok(TaskListing {
                case_id: r.get("case_id"),
                case_number: r.get("case_number"),
                package_id: r.get("package_id"),
                lead_department: r.get("lead_department"),
                officer_id: r.get("officer_id"),
                task: serde_json::from_value(r.get("doc")).map_err(|e| RepoError::Document("task", e))?,
            })
        })
        .collect()
}

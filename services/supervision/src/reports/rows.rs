//! The `reports` table: one row per department and month with a report
//! stream, written in the command's transaction; read by the month's list,
//! its CSV and the supervisor's board.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

/// One report's row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportRow {
    pub report_id: Uuid,
    pub department: String,
    /// "YYYY-MM".
    pub period: String,
    /// The `yiciban.supervision.v1.ReportStatus` number.
    pub status: i32,
    pub submitted_on_time: bool,
    pub flagged_late_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// The `yiciban.supervision.v1.Report` message as of `version`.
    pub report: Vec<u8>,
}

/// Inserts or replaces a report's row.
pub async fn upsert(conn: &mut PgConnection, schema: &str, r: &ReportRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.reports (report_id, department, period, status, submitted_on_time, flagged_late_on,
                                       updated_at, version, report)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (report_id) DO UPDATE SET
             status = EXCLUDED.status, submitted_on_time = EXCLUDED.submitted_on_time,
             flagged_late_on = EXCLUDED.flagged_late_on, updated_at = EXCLUDED.updated_at,
             version = EXCLUDED.version, report = EXCLUDED.report",
    ))
    .bind(r.report_id)
    .bind(&r.department)
    .bind(&r.period)
    .bind(r.status)
    .bind(r.submitted_on_time)
    .bind(r.flagged_late_on)
    .bind(r.updated_at)
    .bind(r.version)
    .bind(&r.report)
    .execute(conn)
    .await
    .map(drop)
}

/// Every row of `period`, by department.
pub async fn of_month(pool: &PgPool, schema: &str, period: &str) -> sqlx::Result<Vec<ReportRow>> {
    sqlx::query_as(schema_sql(schema, "SELECT * FROM {schema}.reports WHERE period = $1 ORDER BY department"))
        .bind(period)
        .fetch_all(pool)
        .await
}

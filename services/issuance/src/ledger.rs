//! The rectification ledger (整改台账) and the ratings queue across cases:
//! one row per rectification written with the case row (in the command's
//! transaction), the queries of ListRectifications and ListRatings (each
//! entry read back from the case's stored Issuance message, so what is
//! listed is what GetIssuance shows), and the back-fill of the rows of
//! cases issued before the ledger existed.

use chrono::NaiveDate;
use prost::Message as _;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{PgPool, Row as _};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::issuance::v1 as pb;

/// Writes (or updates) the ledger row of every rectification of `issuance`.
pub async fn write(conn: &mut PgConnection, schema: &str, case_id: Uuid, issuance: &pb::Issuance) -> sqlx::Result<()> {
    for r in &issuance.rectifications {
        let (Ok(id), Some(due_by)) =
            (Uuid::parse_str(&r.rectification_id), r.due_by.and_then(|d| NaiveDate::try_from(d).ok()))
        else {
            continue;
        };
        sqlx::query(schema_sql(
            schema,
            "INSERT INTO {schema}.rectifications (rectification_id, case_id, department, state, closed, due_by)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (rectification_id) DO UPDATE SET
                state = EXCLUDED.state, closed = EXCLUDED.closed, due_by = EXCLUDED.due_by",
        ))
        .bind(id)
        .bind(case_id)
        .bind(&r.responsible_department)
        .bind(r.state)
        .bind(r.state == pb::RectificationState::Closed as i32)
        .bind(due_by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What ListRectifications asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectificationFilter {
    /// RectificationState numbers; never empty.
    pub states: Vec<i32>,
    pub department: Option<String>,
    pub overdue_only: bool,
    pub case_id: Option<Uuid>,
    /// Today in China: a rectification due before it and not closed is late.
    pub today: NaiveDate,
    pub limit: i64,
    pub offset: i64,
}

/// A listed rectification with its case.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub case_id: Uuid,
    pub case_number: String,
    pub version: u64,
    pub late: bool,
    pub entry: T,
}

fn issuance_of(row: &PgRow) -> Option<pb::Issuance> {
    pb::Issuance::decode(row.get::<Vec<u8>, _>("issuance").as_slice()).ok()
}

fn listed<T>(row: &PgRow, entry: T) -> Listed<T> {
    Listed {
        case_id: row.get("case_id"),
        case_number: row.get("case_number"),
        version: u64::try_from(row.get::<i64, _>("version")).unwrap_or(0),
        late: row.try_get("late").unwrap_or(false),
        entry,
    }
}

/// The rectifications `filter` names: late ones first, then by due date.
pub async fn rectifications(
    pool: &PgPool,
    schema: &str,
    filter: &RectificationFilter,
) -> sqlx::Result<Vec<Listed<pb::Rectification>>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT r.rectification_id, r.case_id, c.case_number, c.version, c.issuance,
                (NOT r.closed AND r.due_by < $4) AS late
           FROM {schema}.rectifications r JOIN {schema}.issuance_cases c ON c.case_id = r.case_id
          WHERE r.state = ANY($1)
            AND ($2::text IS NULL OR r.department = $2)
            AND (NOT $3 OR (NOT r.closed AND r.due_by < $4))
            AND ($5::uuid IS NULL OR r.case_id = $5)
          ORDER BY late DESC, r.due_by, r.rectification_id
          LIMIT $6 OFFSET $7",
    ))
    .bind(&filter.states)
    .bind(&filter.department)
    .bind(filter.overdue_only)
    .bind(filter.today)
    .bind(filter.case_id)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let id = row.get::<Uuid, _>("rectification_id").to_string();
            let found = issuance_of(row)?.rectifications.into_iter().find(|r| r.rectification_id == id)?;
            Some(listed(row, found))
        })
        .collect())
}

/// The ratings: valid bad ones first, newest first within each.
pub async fn ratings(
    pool: &PgPool,
    schema: &str,
    bad_only: bool,
    department: Option<&str>,
    (limit, offset): (i64, i64),
) -> sqlx::Result<Vec<Listed<pb::Rating>>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT r.rating_id, r.case_id, c.case_number, c.version, c.issuance
           FROM {schema}.ratings r JOIN {schema}.issuance_cases c ON c.case_id = r.case_id
          WHERE (NOT $1 OR (r.score <= 2 AND NOT r.invalid))
            AND ($2::text IS NULL OR r.department = $2)
          ORDER BY (r.score <= 2 AND NOT r.invalid) DESC, r.rated_on DESC, r.rating_id DESC
          LIMIT $3 OFFSET $4",
    ))
    .bind(bad_only)
    .bind(department)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let id = row.get::<Uuid, _>("rating_id").to_string();
            let found = issuance_of(row)?.ratings.into_iter().find(|r| r.rating_id == id)?;
            Some(listed(row, found))
        })
        .collect())
}

/// How many flagged cases one back-fill pass reads.
const PASS: i64 = 500;

/// Writes the ledger rows of up to a pass of the cases flagged by the
/// migration that added the ledger, from their stored Issuance, and clears
/// their flags; how many (0: none left). Harmless to run twice or beside a
/// command on the case: the rows are upserts of the same stored state.
pub async fn backfill_pass(pool: &PgPool, schema: &str) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT case_id, issuance FROM {schema}.issuance_cases WHERE ledger_backfill_due
          ORDER BY case_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    ))
    .bind(PASS)
    .fetch_all(&mut *tx)
    .await?;
    for row in &rows {
        let case_id: Uuid = row.get("case_id");
        if let Some(issuance) = issuance_of(row) {
            write(&mut tx, schema, case_id, &issuance).await?;
        }
        sqlx::query(schema_sql(
            schema,
            "UPDATE {schema}.issuance_cases SET ledger_backfill_due = false WHERE case_id = $1",
        ))
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Back-fills until no flagged case is left (at start-up).
pub async fn backfill(pool: &PgPool, schema: &str) -> sqlx::Result<()> {
    loop {
        let n = backfill_pass(pool, schema).await?;
        if n == 0 {
            return Ok(());
        }
        tracing::info!(cases = n, "rectification ledger rows written for older cases");
    }
}

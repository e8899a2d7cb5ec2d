//! The issuance schema's own tables as functions: the case row, ratings and
//! return visits written in the transaction of each append, and the queries
//! of the own-case check and of return-visit sampling.

use chrono::NaiveDate;
use sqlx::postgres::PgConnection;
use sqlx::{PgPool, Row as _};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

/// The row of a case, as of one stream version.
#[derive(Debug, Clone)]
pub struct CaseRow {
    /// The case.
    pub case_id: Uuid,
    /// Its number.
    pub case_number: String,
    /// Keyed hash of the applicant's identity; `None` = keep the stored one.
    pub applicant_hmac: Option<String>,
    /// Lead department; `None` = keep the stored one.
    pub lead_department: Option<String>,
    /// Issuing departments of its documents.
    pub departments: Vec<String>,
    /// Day of closing.
    pub closed_on: Option<NaiveDate>,
    /// Stream version.
    pub version: i64,
    /// The encoded Issuance message.
    pub issuance: Vec<u8>,
}

/// Inserts or updates the row of a case (in the command's transaction).
pub async fn upsert_case(conn: &mut PgConnection, schema: &str, r: &CaseRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.issuance_cases
            (case_id, case_number, applicant_hmac, lead_department, departments, closed_on, version, issuance)
         VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, ''), $5, $6, $7, $8)
         ON CONFLICT (case_id) DO UPDATE SET
            case_number = EXCLUDED.case_number,
            applicant_hmac = COALESCE($3, {schema}.issuance_cases.applicant_hmac),
            lead_department = COALESCE($4, {schema}.issuance_cases.lead_department),
            departments = (SELECT array_agg(DISTINCT d ORDER BY d)
                           FROM unnest({schema}.issuance_cases.departments || EXCLUDED.departments) AS d),
            closed_on = EXCLUDED.closed_on, version = EXCLUDED.version, issuance = EXCLUDED.issuance",
    ))
    .bind(r.case_id)
    .bind(&r.case_number)
    .bind(&r.applicant_hmac)
    .bind(&r.lead_department)
    .bind(&r.departments)
    .bind(r.closed_on)
    .bind(r.version)
    .bind(&r.issuance)
    .execute(conn)
    .await?;
    Ok(())
}

/// A rating as sampling reads it.
#[derive(Debug, Clone)]
pub struct RatingRow {
    /// The rating.
    pub rating_id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// 1..5.
    pub score: i32,
    /// Real-name rating.
    pub real_name: bool,
    /// Department concerned; empty = the whole case.
    pub department: String,
    /// Day rated (China time).
    pub rated_on: NaiveDate,
    /// Set aside.
    pub invalid: bool,
}

/// Inserts or updates a rating (in the command's transaction).
pub async fn upsert_rating(conn: &mut PgConnection, schema: &str, r: &RatingRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.ratings (rating_id, case_id, score, real_name, department, rated_on, invalid)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (rating_id) DO UPDATE SET invalid = EXCLUDED.invalid",
    ))
    .bind(r.rating_id)
    .bind(r.case_id)
    .bind(r.score)
    .bind(r.real_name)
    .bind(&r.department)
    .bind(r.rated_on)
    .bind(r.invalid)
    .execute(conn)
    .await?;
    Ok(())
}

/// A return visit as sampling reads it.
#[derive(Debug, Clone)]
pub struct VisitRow {
    /// The visit.
    pub visit_id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// "YYYY-MM".
    pub period: String,
    /// The run that picked it.
    pub sample_id: Uuid,
    /// RANDOM or BAD_RATING.
    pub reason: String,
    /// The result is recorded.
    pub recorded: bool,
}

/// Inserts or updates a return visit (in the command's transaction).
pub async fn upsert_visit(conn: &mut PgConnection, schema: &str, v: &VisitRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.return_visits (visit_id, case_id, period, sample_id, reason, recorded)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (visit_id) DO UPDATE SET recorded = EXCLUDED.recorded",
    ))
    .bind(v.visit_id)
    .bind(v.case_id)
    .bind(&v.period)
    .bind(v.sample_id)
    .bind(&v.reason)
    .bind(v.recorded)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored keyed hash of a case's applicant and its lead department;
/// `None` for a case without issuance.
pub async fn case_identity(pool: &PgPool, schema: &str, case_id: Uuid) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT applicant_hmac, lead_department FROM {schema}.issuance_cases WHERE case_id = $1",
    ))
    .bind(case_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.get("applicant_hmac"), r.get("lead_department"))))
}

/// A case a sample may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The case.
    pub case_id: Uuid,
    /// Its number.
    pub case_number: String,
}

fn candidates(rows: Vec<sqlx::postgres::PgRow>) -> Vec<Candidate> {
    rows.iter().map(|r| Candidate { case_id: r.get("case_id"), case_number: r.get("case_number") }).collect()
}

/// Cases closed between `first` and `last` (inclusive), of `department`
/// when given: the population of a month's sample.
pub async fn closed_cases(
    pool: &PgPool,
    schema: &str,
    first: NaiveDate,
    last: NaiveDate,
    department: Option<&str>,
) -> sqlx::Result<Vec<Candidate>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT case_id, case_number FROM {schema}.issuance_cases
         WHERE closed_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR $3 = ANY(departments))
         ORDER BY case_id",
    ))
    .bind(first)
    .bind(last)
    .bind(department)
    .fetch_all(pool)
    .await?;
    Ok(candidates(rows))
}

/// Cases with a valid real-name bad rating (score 1 or 2) given between
/// `first` and `last`, of `department` when given.
pub async fn bad_real_name_ratings(
    pool: &PgPool,
    schema: &str,
    first: NaiveDate,
    last: NaiveDate,
    department: Option<&str>,
) -> sqlx::Result<Vec<Candidate>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT DISTINCT c.case_id, c.case_number FROM {schema}.ratings r
         JOIN {schema}.issuance_cases c ON c.case_id = r.case_id
         WHERE r.rated_on BETWEEN $1 AND $2 AND r.real_name AND r.score <= 2 AND NOT r.invalid
           AND ($3::text IS NULL OR r.department = $3 OR $3 = ANY(c.departments))
         ORDER BY c.case_id",
    ))
    .bind(first)
    .bind(last)
    .bind(department)
    .fetch_all(pool)
    .await?;
    Ok(candidates(rows))
}

/// The cases sampled for `period` already, with their visit and run.
pub async fn sampled(pool: &PgPool, schema: &str, period: &str) -> sqlx::Result<Vec<VisitRow>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT visit_id, case_id, period, sample_id, reason, recorded FROM {schema}.return_visits WHERE period = $1",
    ))
    .bind(period)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| VisitRow {
            visit_id: r.get("visit_id"),
            case_id: r.get("case_id"),
            period: r.get("period"),
            sample_id: r.get("sample_id"),
            reason: r.get("reason"),
            recorded: r.get("recorded"),
        })
        .collect())
}

/// The stored run of an idempotency key: its request hash and response.
pub async fn sample_run(pool: &PgPool, schema: &str, key: &str) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT request_hash, response FROM {schema}.sample_runs WHERE idempotency_key = $1",
    ))
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.get("request_hash"), r.get("response"))))
}

/// Records a sampling run; a concurrent run of the same key wins silently.
pub async fn record_sample_run(
    pool: &PgPool,
    schema: &str,
    key: &str,
    hash: &str,
    response: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.sample_runs (idempotency_key, request_hash, response) VALUES ($1, $2, $3)
         ON CONFLICT (idempotency_key) DO NOTHING",
    ))
    .bind(key)
    .bind(hash)
    .bind(response)
    .execute(pool)
    .await?;
    Ok(())
}

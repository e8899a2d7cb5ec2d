//! The intake schema's own tables as functions: case numbers allocated in the
//! submission's transaction, the case index, the credit list and the
//! least-loaded officer.

use chrono::NaiveDate;
use sqlx::postgres::PgConnection;
use sqlx::{PgPool, Row as _};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

/// Allocates the next case sequence of `day` inside the caller's transaction.
/// The row stays locked until the transaction ends, and a rollback gives the
/// number back: numbers are unique and gapless per day. Every submission of
/// the day queues on that lock, so take the number as the transaction's last
/// read, after any slower query.
pub async fn next_case_sequence(conn: &mut PgConnection, schema: &str, day: NaiveDate) -> sqlx::Result<u32> {
    let n: i32 = sqlx::query_scalar(schema_sql(
        schema,
        "INSERT INTO {schema}.case_numbers (day, last) VALUES ($1, 1)
         ON CONFLICT (day) DO UPDATE SET last = {schema}.case_numbers.last + 1
         RETURNING last",
    ))
    .bind(day)
    .fetch_one(conn)
    .await?;
    Ok(n as u32)
}

/// A row of the case index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedCase {
    pub case_id: Uuid,
    pub case_number: String,
    pub package_id: String,
    /// The applicant's lookup value ([`yiciban_platform::IdentityKey`]).
    pub applicant_key: String,
    pub officer_id: Option<String>,
    pub status: String,
    pub open: bool,
    pub deficiency_deadline: Option<NaiveDate>,
    pub version: i64,
}

/// Inserts or replaces the index row of a case (in the command's transaction).
pub async fn upsert_case(conn: &mut PgConnection, schema: &str, c: &IndexedCase) -> sqlx::Result<()> {
    sqlx::query(schema_sql(schema,
        "INSERT INTO {schema}.case_index
            (case_id, case_number, package_id, applicant_key, officer_id, status, open, deficiency_deadline, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (case_id) DO UPDATE SET
            officer_id = EXCLUDED.officer_id, status = EXCLUDED.status, open = EXCLUDED.open,
            deficiency_deadline = EXCLUDED.deficiency_deadline, version = EXCLUDED.version, updated_at = now()"))
    .bind(c.case_id)
    .bind(&c.case_number)
    .bind(&c.package_id)
    .bind(&c.applicant_key)
    .bind(&c.officer_id)
    .bind(&c.status)
    .bind(c.open)
    .bind(c.deficiency_deadline)
    .bind(c.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// The index row of a case.
pub async fn find_case(pool: &PgPool, schema: &str, case_id: Uuid) -> sqlx::Result<Option<IndexedCase>> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT case_id, case_number, package_id, applicant_key, officer_id, status, open, deficiency_deadline, version
         FROM {schema}.case_index WHERE case_id = $1",
    ))
    .bind(case_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| IndexedCase {
        case_id: r.get("case_id"),
        case_number: r.get("case_number"),
        package_id: r.get("package_id"),
        applicant_key: r.get("applicant_key"),
        officer_id: r.get("officer_id"),
        status: r.get("status"),
        open: r.get("open"),
        deficiency_deadline: r.get("deficiency_deadline"),
        version: r.get("version"),
    }))
}

/// The id of the case numbered `case_number`, if intake knows it.
pub async fn case_id_by_number(pool: &PgPool, schema: &str, case_number: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(schema_sql(schema, "SELECT case_id FROM {schema}.case_index WHERE case_number = $1"))
        .bind(case_number)
        .fetch_optional(pool)
        .await
}

/// Open cases whose deficiency deadline is before `today` (they end).
pub async fn expired_deficiencies(pool: &PgPool, schema: &str, today: NaiveDate) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(schema_sql(
        schema,
        "SELECT case_id FROM {schema}.case_index WHERE open AND deficiency_deadline < $1 ORDER BY deficiency_deadline",
    ))
    .bind(today)
    .fetch_all(pool)
    .await
}

/// Makes sure the officers exist (from configuration).
pub async fn seed_officers(pool: &PgPool, schema: &str, officers: &[(String, String)]) -> sqlx::Result<()> {
    for (id, name) in officers {
        sqlx::query(schema_sql(schema,
            "INSERT INTO {schema}.officers (officer_id, name) VALUES ($1, $2) ON CONFLICT (officer_id) DO UPDATE SET name = $2"))
        .bind(id)
        .bind(name)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// The name of the case officer `officer_id` on the roster; `None` for a
/// login that is not a case officer.
pub async fn officer_name(pool: &PgPool, schema: &str, officer_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(schema_sql(schema, "SELECT name FROM {schema}.officers WHERE officer_id = $1"))
        .bind(officer_id)
        .fetch_optional(pool)
        .await
}

/// The least-loaded officer of the package's team (fewest open cases; ties by
/// id), inside the assigning transaction. It takes no lock: submissions
/// running at the same moment may pick the same officer, and the next ones
/// even the load out.
pub async fn least_loaded_officer(
    conn: &mut PgConnection,
    schema: &str,
    package_id: &str,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(schema_sql(
        schema,
        "SELECT o.officer_id, o.name FROM {schema}.officers o
         LEFT JOIN {schema}.case_index c ON c.officer_id = o.officer_id AND c.open
         WHERE cardinality(o.packages) = 0 OR $1 = ANY(o.packages)
         GROUP BY o.officer_id, o.name
         ORDER BY count(c.case_id), o.officer_id
         LIMIT 1",
    ))
    .bind(package_id)
    .fetch_optional(conn)
    .await
}

/// Stores a material's content once per hash.
pub async fn put_blob(
    pool: &PgPool,
    schema: &str,
    sha256: &str,
    content_type: &str,
    content: &[u8],
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.material_blobs (sha256, size_bytes, content_type, content, uploaded_by)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
    ))
    .bind(sha256)
    .bind(content.len() as i64)
    .bind(content_type)
    .bind(content)
    .bind(by)
    .execute(pool)
    .await?;
    Ok(())
}

/// Bytes of content `by` stored in the last 24 hours.
pub async fn uploaded_today(pool: &PgPool, schema: &str, by: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(schema_sql(
        schema,
        "SELECT COALESCE(sum(size_bytes), 0)::bigint FROM {schema}.material_blobs
          WHERE uploaded_by = $1 AND uploaded_at > now() - interval '24 hours'",
    ))
    .bind(by)
    .fetch_one(pool)
    .await
}

/// Whether content with this hash is stored already.
pub async fn blob_exists(pool: &PgPool, schema: &str, sha256: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(schema_sql(schema, "SELECT EXISTS (SELECT 1 FROM {schema}.material_blobs WHERE sha256 = $1)"))
        .bind(sha256)
        .fetch_one(pool)
        .await
}

/// Sizes of the stored blobs among `hashes` (hash → size).
pub async fn blob_sizes(
    pool: &PgPool,
    schema: &str,
    hashes: &[String],
) -> sqlx::Result<std::collections::HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT sha256, size_bytes FROM {schema}.material_blobs WHERE sha256 = ANY($1)",
    ))
    .bind(hashes)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The stored content with this hash, if it is (still) stored.
pub async fn blob(pool: &PgPool, schema: &str, sha256: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(schema_sql(schema, "SELECT content FROM {schema}.material_blobs WHERE sha256 = $1"))
        .bind(sha256)
        .fetch_optional(pool)
        .await
}

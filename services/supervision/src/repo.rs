//! The supervision rows: written by the command path ([`upsert_consultation`],
//! [`upsert_opinion`]) and read by the lists, the counts of a month and the
//! escalation sweep.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

/// A consultation's row.
#[derive(Debug, Clone)]
pub struct ConsultationRow {
    pub consultation_id: Uuid,
    pub channel: i32,
    pub package_id: String,
    pub department: String,
    pub recorder: String,
    pub recorded_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub became_application: bool,
    pub version: i64,
    /// The `Consultation` message.
    pub consultation: Vec<u8>,
}

/// When the consultation was first recorded, from its row; `None` before it
/// has one.
pub async fn consultation_recorded_at(
    conn: &mut PgConnection,
    schema: &str,
    id: Uuid,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(schema_sql(schema, "SELECT recorded_at FROM {schema}.consultations WHERE consultation_id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Writes a consultation's row (its first recording time stays).
pub async fn upsert_consultation(conn: &mut PgConnection, schema: &str, r: &ConsultationRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.consultations (consultation_id, channel, package_id, department, recorder,
            recorded_on, recorded_at, became_application, version, consultation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (consultation_id) DO UPDATE SET became_application = EXCLUDED.became_application,
            version = EXCLUDED.version,
            consultation = EXCLUDED.consultation",
    ))
    .bind(r.consultation_id)
    .bind(r.channel)
    .bind(&r.package_id)
    .bind(&r.department)
    .bind(&r.recorder)
    .bind(r.recorded_on)
    .bind(r.recorded_at)
    .bind(r.became_application)
    .bind(r.version)
    .bind(&r.consultation)
    .execute(conn)
    .await?;
    Ok(())
}

/// An opinion's row.
#[derive(Debug, Clone)]
pub struct OpinionRow {
    pub opinion_id: Uuid,
    pub kind: i32,
    pub channel: i32,
    pub state: i32,
    pub department: String,
    pub person: String,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub awaiting: bool,
    pub escalated: bool,
    pub recorder: String,
    pub recorded_at: DateTime<Utc>,
    pub version: i64,
    /// Drawn for a return visit, not visited yet.
    pub visit_due: bool,
    /// The `Opinion` message (without `overdue` and `recorder`).
    pub opinion: Vec<u8>,
}

/// Writes an opinion's row (who recorded it, and when, stay).
pub async fn upsert_opinion(conn: &mut PgConnection, schema: &str, r: &OpinionRow) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.opinions (opinion_id, kind, channel, state, department, person, received_on, due_on,
            awaiting, escalated, recorder, recorded_at, version, opinion, visit_due)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (opinion_id) DO UPDATE SET state = EXCLUDED.state, department = EXCLUDED.department,
            person = EXCLUDED.person, awaiting = EXCLUDED.awaiting, escalated = EXCLUDED.escalated,
            version = EXCLUDED.version, opinion = EXCLUDED.opinion, visit_due = EXCLUDED.visit_due",
    ))
    .bind(r.opinion_id)
    .bind(r.kind)
    .bind(r.channel)
    .bind(r.state)
    .bind(&r.department)
    .bind(&r.person)
    .bind(r.received_on)
    .bind(r.due_on)
    .bind(r.awaiting)
    .bind(r.escalated)
    .bind(&r.recorder)
    .bind(r.recorded_at)
    .bind(r.version)
    .bind(&r.opinion)
    .bind(r.visit_due)
    .execute(conn)
    .await?;
    Ok(())
}

/// Which consultations to list.
#[derive(Debug, Clone, Default)]
pub struct ConsultationFilter {
    pub channel: Option<i32>,
    pub department: Option<String>,
    pub recorder: Option<String>,
    pub package_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub offset: i64,
    pub limit: i64,
}

/// A page of consultations (their messages), newest first, and how many
/// match in all.
pub async fn list_consultations(
    pool: &PgPool,
    schema: &str,
    f: &ConsultationFilter,
) -> sqlx::Result<(Vec<Vec<u8>>, i64)> {
    let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT consultation, count(*) OVER () FROM {schema}.consultations
         WHERE ($1::int IS NULL OR channel = $1) AND ($2::text IS NULL OR department = $2)
           AND ($3::text IS NULL OR recorder = $3) AND ($4::text IS NULL OR package_id = $4)
           AND ($5::date IS NULL OR recorded_on >= $5) AND ($6::date IS NULL OR recorded_on <= $6)
         ORDER BY recorded_at DESC, consultation_id DESC OFFSET $7 LIMIT $8",
    ))
    .bind(f.channel)
    .bind(&f.department)
    .bind(&f.recorder)
    .bind(&f.package_id)
    .bind(f.from)
    .bind(f.to)
    .bind(f.offset)
    .bind(f.limit)
    .fetch_all(pool)
    .await?;
    let total = match rows.first() {
        Some((_, total)) => *total,
        None if f.offset > 0 => count_consultations(pool, schema, f).await?,
        None => 0,
    };
    Ok((rows.into_iter().map(|(m, _)| m).collect(), total))
}

async fn count_consultations(pool: &PgPool, schema: &str, f: &ConsultationFilter) -> sqlx::Result<i64> {
    sqlx::query_scalar(schema_sql(
        schema,
        "SELECT count(*) FROM {schema}.consultations
         WHERE ($1::int IS NULL OR channel = $1) AND ($2::text IS NULL OR department = $2)
           AND ($3::text IS NULL OR recorder = $3) AND ($4::text IS NULL OR package_id = $4)
           AND ($5::date IS NULL OR recorded_on >= $5) AND ($6::date IS NULL OR recorded_on <= $6)",
    ))
    .bind(f.channel)
    .bind(&f.department)
    .bind(&f.recorder)
    .bind(&f.package_id)
    .bind(f.from)
    .bind(f.to)
    .fetch_one(pool)
    .await
}

/// Which opinions to list.
#[derive(Debug, Clone, Default)]
pub struct OpinionFilter {
    pub kind: Option<i32>,
    pub channel: Option<i32>,
    pub state: Option<i32>,
    pub department: Option<String>,
    /// Only those unanswered past their day as of `today`.
    pub overdue_only: bool,
    /// Only those drawn for a return visit and not visited yet.
    pub visit_due_only: bool,
    pub today: Option<NaiveDate>,
    pub offset: i64,
    pub limit: i64,
}

/// One listed opinion: its message, who recorded it, and whether it is
/// overdue today.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedOpinion {
    pub opinion: Vec<u8>,
    pub recorder: String,
    pub overdue: bool,
}

/// A page of opinions — overdue unanswered ones first, then unanswered by
/// due day, then the rest newest first — and how many match in all.
pub async fn list_opinions(pool: &PgPool, schema: &str, f: &OpinionFilter) -> sqlx::Result<(Vec<ListedOpinion>, i64)> {
    let rows: Vec<(Vec<u8>, String, bool, i64)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT opinion, recorder, (awaiting AND due_on < $6) AS overdue, count(*) OVER ()
         FROM {schema}.opinions
         WHERE ($1::int IS NULL OR kind = $1) AND ($2::int IS NULL OR channel = $2)
           AND ($3::int IS NULL OR state = $3) AND ($4::text IS NULL OR department = $4)
           AND (NOT $5 OR (awaiting AND due_on < $6)) AND (NOT $9 OR visit_due)
         ORDER BY (awaiting AND due_on < $6) DESC, awaiting DESC,
            CASE WHEN awaiting THEN due_on END ASC, received_on DESC, opinion_id DESC
         OFFSET $7 LIMIT $8",
    ))
    .bind(f.kind)
    .bind(f.channel)
    .bind(f.state)
    .bind(&f.department)
    .bind(f.overdue_only)
    .bind(f.today)
    .bind(f.offset)
    .bind(f.limit)
    .bind(f.visit_due_only)
    .fetch_all(pool)
    .await?;
    let total = rows.first().map(|r| r.3).unwrap_or_default();
    Ok((
        rows.into_iter().map(|(opinion, recorder, overdue, _)| ListedOpinion { opinion, recorder, overdue }).collect(),
        total,
    ))
}

/// Who recorded an opinion (its row), `None` for an unknown one.
pub async fn recorder_of_opinion(pool: &PgPool, schema: &str, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(schema_sql(schema, "SELECT recorder FROM {schema}.opinions WHERE opinion_id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Up to `limit` unanswered, unescalated opinions whose due day is before
/// `today`, earliest first, but those in `skip`.
pub async fn due_escalations(
    pool: &PgPool,
    schema: &str,
    today: NaiveDate,
    limit: i64,
    skip: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(schema_sql(
        schema,
        "SELECT opinion_id FROM {schema}.opinions
         WHERE awaiting AND NOT escalated AND due_on < $1 AND opinion_id <> ALL($2)
         ORDER BY due_on, opinion_id LIMIT $3",
    ))
    .bind(today)
    .bind(skip)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One line of the month's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CountRow {
    pub key: String,
    pub consultations: i64,
    pub became_applications: i64,
    pub opinions: i64,
    pub complaints: i64,
    pub escalated: i64,
    pub closed: i64,
}

/// The counts of `[from, to]` grouped by `by`: `department`, `package` or
/// `person` (a consultation's recorder, an opinion's person).
pub async fn counts(
    pool: &PgPool,
    schema: &str,
    by: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<CountRow>> {
    let statement = match by {
        "department" => COUNT_BY_DEPARTMENT,
        "package" => COUNT_BY_PACKAGE,
        _ => COUNT_BY_PERSON,
    };
    sqlx::query_as(schema_sql(schema, statement)).bind(from).bind(to).fetch_all(pool).await
}

const COUNT_BY_DEPARTMENT: &str = "
WITH c AS (SELECT department AS key, count(*) AS consultations,
                  count(*) FILTER (WHERE became_application) AS became_applications
           FROM {schema}.consultations WHERE recorded_on BETWEEN $1 AND $2 GROUP BY 1),
     o AS (SELECT department AS key, count(*) AS opinions, count(*) FILTER (WHERE kind = 3) AS complaints,
                  count(*) FILTER (WHERE escalated) AS escalated, count(*) FILTER (WHERE state = 4) AS closed
           FROM {schema}.opinions WHERE received_on BETWEEN $1 AND $2 GROUP BY 1)
SELECT COALESCE(c.key, o.key) AS key, COALESCE(c.consultations, 0) AS consultations,
       COALESCE(c.became_applications, 0) AS became_applications, COALESCE(o.opinions, 0) AS opinions,
       COALESCE(o.complaints, 0) AS complaints, COALESCE(o.escalated, 0) AS escalated, COALESCE(o.closed, 0) AS closed
FROM c FULL JOIN o ON c.key = o.key ORDER BY 1";

const COUNT_BY_PACKAGE: &str = "
SELECT package_id AS key, count(*) AS consultations, count(*) FILTER (WHERE became_application) AS became_applications,
       0::bigint AS opinions, 0::bigint AS complaints, 0::bigint AS escalated, 0::bigint AS closed
FROM {schema}.consultations WHERE recorded_on BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1";

const COUNT_BY_PERSON: &str = "
WITH c AS (SELECT recorder AS key, count(*) AS consultations,
                  count(*) FILTER (WHERE became_application) AS became_applications
           FROM {schema}.consultations WHERE recorded_on BETWEEN $1 AND $2 GROUP BY 1),
     o AS (SELECT person AS key, count(*) AS opinions, count(*) FILTER (WHERE kind = 3) AS complaints,
                  count(*) FILTER (WHERE escalated) AS escalated, count(*) FILTER (WHERE state = 4) AS closed
           FROM {schema}.opinions WHERE received_on BETWEEN $1 AND $2 AND person <> '' GROUP BY 1)
SELECT COALESCE(c.key, o.key) AS key, COALESCE(c.consultations, 0) AS consultations,
       COALESCE(c.became_applications, 0) AS became_applications, COALESCE(o.opinions, 0) AS opinions,
       COALESCE(o.complaints, 0) AS complaints, COALESCE(o.escalated, 0) AS escalated, COALESCE(o.closed, 0) AS closed
FROM c FULL JOIN o ON c.key = o.key ORDER BY 1";

/// The answered opinions received between `first` and `last` (of
/// `department`, if given) not drawn and still awaiting a visit: the
/// population of a return-visit draw, as (id, is a complaint, the
/// `Opinion` message, which says whether it is answered or visited).
pub async fn answered_unvisited(
    pool: &PgPool,
    schema: &str,
    first: NaiveDate,
    last: NaiveDate,
    department: Option<&str>,
) -> sqlx::Result<Vec<(Uuid, bool, Vec<u8>)>> {
    // answered (3) or closed (4); the message says whether it has an answer,
    // a visit or a draw
    sqlx::query_as(schema_sql(
        schema,
        "SELECT opinion_id, kind = 3, opinion FROM {schema}.opinions
         WHERE received_on BETWEEN $1 AND $2 AND state IN (3, 4) AND ($3::text IS NULL OR department = $3)
           AND NOT visit_due
         ORDER BY opinion_id",
    ))
    .bind(first)
    .bind(last)
    .bind(department)
    .fetch_all(pool)
    .await
}

//! When each case ended (`case_endings`), the start of its applicant's
//! retention period: a case intake ends itself (withdrawn, terminated, not
//! accepted) is recorded in the command's own transaction
//! ([`crate::commands::CaseIndexRows`]); a case the issuance service closes
//! (办结) is recorded when its process manager calls
//! `IntakeService.RecordCaseClosed`. Each row carries the catalog version
//! the case keeps and, once looked up, the retention period of its package
//! in that version ([`Periods`]).

use std::sync::Arc;

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;
use yiciban_domain::catalog::Package;
use yiciban_domain::intake::Status as CaseStatus;
use yiciban_eventstore::sql::schema_sql;

use crate::catalogs::{ImportError, LiveCatalog};

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Closed by the issuance service (办结).
    Closed,
    /// Withdrawn by the applicant (撤回).
    Withdrawn,
    /// Terminated (终止).
    Terminated,
    /// Not accepted (不予受理).
    NotAccepted,
}

impl Ending {
    /// The ending intake's own `status` means, if it is one.
    pub fn of_status(status: CaseStatus) -> Option<Ending> {
        match status {
            CaseStatus::Withdrawn => Some(Ending::Withdrawn),
            CaseStatus::Terminated => Some(Ending::Terminated),
            CaseStatus::NotAccepted => Some(Ending::NotAccepted),
            _ => None,
        }
    }

    /// Its name in `case_endings.how`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Closed => "closed",
            Ending::Withdrawn => "withdrawn",
            Ending::Terminated => "terminated",
            Ending::NotAccepted => "not_accepted",
        }
    }
}

/// One ending to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEnding {
    pub case_id: Uuid,
    /// The day it ended (China time).
    pub on: NaiveDate,
    pub how: Ending,
    /// The catalog version the case keeps.
    pub catalog_version: String,
    /// The package's retention period in that version, when known already.
    pub retention_years: Option<u32>,
}

/// Records `ending` inside the caller's transaction; true when a row was
/// added or moved. An ending on record is kept, except that a later day for
/// the same case moves it later (the period then starts later, never
/// earlier).
pub async fn record(conn: &mut PgConnection, schema: &str, ending: &CaseEnding) -> sqlx::Result<bool> {
    let done = sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.case_endings (case_id, ended_on, how, catalog_version, retention_years)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (case_id) DO UPDATE SET ended_on = EXCLUDED.ended_on
          WHERE {schema}.case_endings.ended_on < EXCLUDED.ended_on",
    ))
    .bind(ending.case_id)
    .bind(ending.on)
    .bind(ending.how.as_str())
    .bind(&ending.catalog_version)
    .bind(ending.retention_years.map(|y| y as i32))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records the scans the window took at the hand-outs of case `case_id`
/// (SHA-256s) inside the caller's transaction; those on record already are
/// kept.
pub async fn record_window_materials(
    conn: &mut PgConnection,
    schema: &str,
    case_id: Uuid,
    shas: &[String],
) -> sqlx::Result<()> {
    if shas.is_empty() {
        return Ok(());
    }
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.window_materials (case_id, sha256)
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
    ))
    .bind(case_id)
    .bind(shas)
    .execute(conn)
    .await?;
    Ok(())
}

/// The retention periods of packages by catalog version (ADR 0017: a case
/// keeps the version it was accepted under), through the live catalog's
/// versions ([`LiveCatalog::pinned`]).
#[derive(Debug, Clone)]
pub struct Periods {
    live: Arc<LiveCatalog>,
}

impl Periods {
    /// Looks versions up through `live`.
    pub fn new(live: Arc<LiveCatalog>) -> Self {
        Periods { live }
    }

    /// The period of `package` in the version in force, if `version` is the
    /// one in force (no database read: the command path's fast case).
    pub fn in_force(live: &LiveCatalog, version: &str, package: &str) -> Option<u32> {
        let current = live.current();
        (current.version() == version).then(|| current.package(package).map(|p| p.retention_years)).flatten()
    }

    /// The period of `package` in catalog `version`. A version not on record,
    /// or one without the package (neither happens to a case intake
    /// recorded), gets the longest period a catalog may set: never erased
    /// early.
    pub async fn years(
        &self,
        pool: &sqlx::PgPool,
        schema: &str,
        version: &str,
        package: &str,
    ) -> Result<u32, ImportError> {
        let catalog = self.live.pinned(pool, schema, version).await?;
        let found = catalog.as_ref().and_then(|c| c.package(package)).map(|p| p.retention_years);
        Ok(found.unwrap_or_else(|| {
            tracing::warn!(
                version,
                package,
                "a case's package is not in its catalog version; its data is kept the longest period"
            );
            Package::MAX_RETENTION_YEARS
        }))
    }
}

/// Looks up the retention period of every recorded ending that has none
/// yet (an ending recorded under a catalog version not in force at the
/// time); returns how many it filled in.
pub async fn fill_periods(pool: &sqlx::PgPool, schema: &str, periods: &Periods) -> Result<usize, ImportError> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT e.case_id, e.catalog_version, c.package_id
           FROM {schema}.case_endings e JOIN {schema}.case_index c ON c.case_id = e.case_id
          WHERE e.retention_years IS NULL",
    ))
    .fetch_all(pool)
    .await?;
    for (case_id, version, package) in &rows {
        let years = periods.years(pool, schema, version, package).await?;
        sqlx::query(schema_sql(
            schema,
            "UPDATE {schema}.case_endings SET retention_years = $2 WHERE case_id = $1 AND retention_years IS NULL",
        ))
        .bind(case_id)
        .bind(years as i32)
        .execute(pool)
        .await?;
    }
    Ok(rows.len())
}

//! The published working-day calendar in intake's schema (ADR 0016): every
//! publication of one or more years is kept with who published it, when, and
//! from which announcement; the latest revision of a year is the one in force,
//! over the seed years shipped in the binary (revision 0).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Row as _};
use yiciban_calendar::{CalendarYear, WorkingCalendar};
use yiciban_eventstore::sql::schema_sql;

/// Who is named as the publisher of the seed years.
pub const SEED_PUBLISHER: &str = "seed";
/// Where the seed years come from.
pub const SEED_SOURCE: &str =
    "国务院办公厅关于2025年/2026年部分节假日安排的通知 (shipped with yiciban: services/calendar/data/calendar-cn.json)";

/// One year as it is in force, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedYear {
    pub year: CalendarYear,
    /// 0 for a seed year.
    pub revision: u64,
    pub source: String,
    pub published_by: String,
    /// `None` for a seed year.
    pub published_at: Option<DateTime<Utc>>,
}

/// The calendar in force: its revision and every year, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub revision: u64,
    pub years: Vec<PublishedYear>,
}

impl Published {
    /// The calendar to count on.
    pub fn calendar(&self) -> WorkingCalendar {
        WorkingCalendar::from_years(self.years.iter().map(|y| y.year.clone()))
    }

    fn year(&self, year: i32) -> Option<&PublishedYear> {
        self.years.iter().find(|y| y.year.year() == year)
    }
}

/// Why a publication was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A year is already in force and the publisher did not name the current
    /// revision.
    #[error(
        "{year} is already published (calendar revision {current}); to correct it, check the calendar in force \
         and publish again naming revision {current} (casectl calendar import --replaces-revision {current})"
    )]
    Stale { year: i32, current: u64 },
    #[error("the calendar could not be stored")]
    Database(#[from] sqlx::Error),
}

/// What a publication did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub revision: u64,
    pub changed: bool,
}

/// The years of `published` that `years` would change, or the reason they may
/// not: a year already in force may be replaced only on the current revision.
fn changes(published: &Published, years: &[CalendarYear], replaces: u64) -> Result<Vec<CalendarYear>, PublishError> {
    let changed: Vec<CalendarYear> =
        years.iter().filter(|y| published.year(y.year()).is_none_or(|p| p.year != **y)).cloned().collect();
    if let Some(existing) = changed.iter().find(|y| published.year(y.year()).is_some())
        && replaces != published.revision
    {
        return Err(PublishError::Stale { year: existing.year(), current: published.revision });
    }
    Ok(changed)
}

/// The calendar in force.
pub async fn load(pool: &PgPool, schema: &str) -> sqlx::Result<Published> {
    let mut conn = pool.acquire().await?;
    load_on(&mut conn, schema).await
}

async fn load_on(conn: &mut sqlx::PgConnection, schema: &str) -> sqlx::Result<Published> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT DISTINCT ON (y.year) y.year, y.revision, y.holidays, y.workdays, p.source, p.published_by, p.published_at
           FROM {schema}.calendar_years y JOIN {schema}.calendar_publications p USING (revision)
          ORDER BY y.year, y.revision DESC",
    ))
    .fetch_all(&mut *conn)
    .await?;
    let revision: i64 =
        sqlx::query_scalar(schema_sql(schema, "SELECT COALESCE(max(revision), 0) FROM {schema}.calendar_publications"))
            .fetch_one(&mut *conn)
            .await?;
    let mut years: BTreeMap<i32, PublishedYear> = WorkingCalendar::china()
        .years()
        .into_iter()
        .map(|year| {
            let seed = PublishedYear {
                year,
                revision: 0,
                source: SEED_SOURCE.to_owned(),
                published_by: SEED_PUBLISHER.to_owned(),
                published_at: None,
            };
            (seed.year.year(), seed)
        })
        .collect();
    for row in rows {
        let (year, holidays, workdays): (i32, Vec<NaiveDate>, Vec<NaiveDate>) =
            (row.try_get("year")?, row.try_get("holidays")?, row.try_get("workdays")?);
        // Stored only after the same check: a failure here is a damaged row.
        let checked = CalendarYear::new(year, &holidays, &workdays).map_err(|problems| {
            sqlx::Error::Decode(format!("calendar year {year} in the database: {}", problems[0]).into())
        })?;
        years.insert(
            year,
            PublishedYear {
                year: checked,
                revision: u64::try_from(row.try_get::<i64, _>("revision")?).unwrap_or_default(),
                source: row.try_get("source")?,
                published_by: row.try_get("published_by")?,
                published_at: Some(row.try_get("published_at")?),
            },
        );
    }
    Ok(Published { revision: u64::try_from(revision).unwrap_or_default(), years: years.into_values().collect() })
}

/// Publishes `years` as one revision (all or nothing); years already in force
/// exactly so are left out, and nothing is stored when none is left.
pub async fn publish(
    pool: &PgPool,
    schema: &str,
    years: &[CalendarYear],
    source: &str,
    published_by: &str,
    replaces: u64,
) -> Result<Outcome, PublishError> {
    let mut tx = pool.begin().await?;
    // Publishers queue here; readers are not blocked.
    sqlx::query(schema_sql(schema, "LOCK TABLE {schema}.calendar_publications IN EXCLUSIVE MODE"))
        .execute(&mut *tx)
        .await?;
    let published = load_on(&mut tx, schema).await?;
    let changed = changes(&published, years, replaces)?;
    if changed.is_empty() {
        return Ok(Outcome { revision: published.revision, changed: false });
    }
    let revision = published.revision + 1;
    let stored = i64::try_from(revision).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.calendar_publications (revision, source, published_by) VALUES ($1, $2, $3)",
    ))
    .bind(stored)
    .bind(source)
    .bind(published_by)
    .execute(&mut *tx)
    .await?;
    for year in &changed {
        sqlx::query(schema_sql(
            schema,
            "INSERT INTO {schema}.calendar_years (year, revision, holidays, workdays) VALUES ($1, $2, $3, $4)",
        ))
        .bind(year.year())
        .bind(stored)
        .bind(year.holidays().collect::<Vec<_>>())
        .bind(year.workdays().collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Outcome { revision, changed: true })
}

/// Intake's own source of the calendar: its schema, read again on every
/// refresh so that every intake replica follows a publication made at another.
#[derive(Debug, Clone)]
pub struct FromDatabase {
    pub pool: PgPool,
    pub schema: String,
}

impl yiciban_platform::calendar::CalendarSource for FromDatabase {
    async fn fetch(&self, known: u64) -> anyhow::Result<Option<(u64, WorkingCalendar)>> {
        let published = load(&self.pool, &self.schema).await?;
        Ok((published.revision != known).then(|| (published.revision, published.calendar())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn seed_only() -> Published {
        Published {
            revision: 0,
            years: WorkingCalendar::china()
                .years()
                .into_iter()
                .map(|year| PublishedYear {
                    year,
                    revision: 0,
                    source: SEED_SOURCE.into(),
                    published_by: SEED_PUBLISHER.into(),
                    published_at: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_new_year_is_a_change_on_any_revision() {
        let y2027 = CalendarYear::new(2027, &[d("2027-01-01")], &[]).unwrap();
        assert_eq!(changes(&seed_only(), std::slice::from_ref(&y2027), 7).unwrap(), [y2027]);
    }

    #[test]
    fn a_year_published_exactly_so_is_no_change() {
        let y2026 = WorkingCalendar::china().year(2026).unwrap();
        assert!(changes(&seed_only(), &[y2026], 5).unwrap().is_empty());
    }

    #[test]
    fn replacing_a_published_year_needs_the_current_revision() {
        let corrected = CalendarYear::new(2026, &[d("2026-01-01")], &[]).unwrap();
        let stale = changes(&seed_only(), std::slice::from_ref(&corrected), 3).unwrap_err();
        assert_eq!(
            stale.to_string(),
            "2026 is already published (calendar revision 0); to correct it, check the calendar in force and publish \
             again naming revision 0 (casectl calendar import --replaces-revision 0)"
        );
        assert_eq!(changes(&seed_only(), std::slice::from_ref(&corrected), 0).unwrap(), [corrected]);
    }
}

//! The retention job: erases the personal data of every applicant whose
//! cases have all ended and whose retention period has run out
//! ([`yiciban_domain::intake::retention`]: the latest ending plus the
//! longest period among their cases' packages), through the one erasure
//! procedure ([`crate::erasure::erase`], basis `Retention`) as the service
//! actor [`ACTOR`], with a reason naming the rule.
//!
//! One replica at a time runs a round (a Postgres advisory lock per schema,
//! the others skip that round, as the reconciler does); every step of an
//! erasure is idempotent, so a round cut short is finished by the next and
//! a person is erased once. A person counts as done when every case of
//! theirs has `PersonalDataErased`: one whose key was deleted by a round
//! that stopped before marking the cases is taken up again. A person that
//! fails is logged by case ids (never the subject), counted
//! (`yiciban_sweep_failures_total{sweep="intake-retention"}`) and passed
//! over until the next round.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use sqlx::Row as _;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use uuid::Uuid;
use yiciban_domain::intake::ErasureBasis;
use yiciban_domain::intake::retention::{CaseEnd, erasure_due, is_due};
use yiciban_eventstore::sql::schema_sql;

use crate::Intake;
use crate::endings::{Periods, fill_periods};

/// Who the job's erasures are recorded as (`erased_by`, the events' actor).
pub const ACTOR: &str = "system:retention";

/// The most people one round erases; the next round goes on.
const ROUND_LIMIT: i64 = 1000;

/// A person whose personal data falls due. Its `Debug` shows a prefix of
/// the subject only (the subject is a stable pseudonym: never logged whole).
#[derive(Clone, PartialEq, Eq)]
pub struct Due {
    /// The person's subject (the keyed hash of the identity): personal data
    /// itself, never logged.
    pub subject: String,
    /// Every case of the person, all ended.
    pub case_ids: Vec<Uuid>,
    /// The latest day one of them ended.
    pub last_ended_on: NaiveDate,
    /// The longest retention period among their packages, in years.
    pub retention_years: u32,
    /// The day the data falls due.
    pub due_on: NaiveDate,
}

impl std::fmt::Debug for Due {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Due")
            .field("subject", &format_args!("{}…", self.subject.get(..SHOWN).unwrap_or("")))
            .field("case_ids", &self.case_ids)
            .field("last_ended_on", &self.last_ended_on)
            .field("retention_years", &self.retention_years)
            .field("due_on", &self.due_on)
            .finish()
    }
}

/// How many characters of a subject are ever shown (listings, `Debug`).
pub const SHOWN: usize = 12;

impl Due {
    /// The reason recorded with the erasure: the rule and its figures.
    pub fn reason(&self) -> String {
        format!(
            "retention period passed: every case of the person ended, the latest on {}; the longest retention \
             period of their packages is {} years, due on {} (docs/PRIVACY.md, catalog retention_years)",
            self.last_ended_on, self.retention_years, self.due_on
        )
    }
}

/// The people not yet erased whose data falls due on or before `until`,
/// earliest first, at most `limit`. The query selects by the same rule as
/// the domain's [`erasure_due`], which decides each person.
pub async fn due_by(intake: &Intake, until: NaiveDate, limit: i64) -> Result<Vec<Due>, sqlx::Error> {
    let rows = sqlx::query(schema_sql(
        intake.schema(),
        "SELECT c.applicant_key AS subject,
                array_agg(c.case_id ORDER BY c.case_id) AS cases,
                array_agg(e.ended_on ORDER BY c.case_id) AS ended,
                array_agg(e.retention_years ORDER BY c.case_id) AS years
           FROM {schema}.case_index c
           LEFT JOIN {schema}.case_endings e ON e.case_id = c.case_id
          GROUP BY c.applicant_key
         HAVING bool_and(e.retention_years IS NOT NULL)
            AND (max(e.ended_on) + make_interval(years => max(e.retention_years)))::date <= $1
            AND NOT bool_and(EXISTS (SELECT 1 FROM {schema}.events v
                                      WHERE v.stream_id = 'case-' || c.case_id::text
                                        AND v.event_type = 'PersonalDataErased'))
          ORDER BY (max(e.ended_on) + make_interval(years => max(e.retention_years)))::date, c.applicant_key
          LIMIT $2",
    ))
    .bind(until)
    .bind(limit)
    .fetch_all(intake.pool())
    .await?;
    let mut due = Vec::with_capacity(rows.len());
    for row in &rows {
        let ended: Vec<Option<NaiveDate>> = row.try_get("ended")?;
        let years: Vec<Option<i32>> = row.try_get("years")?;
        let ends: Vec<CaseEnd> = ended
            .iter()
            .zip(&years)
            .map(|(on, years)| match (on, years) {
                (Some(on), Some(years)) => CaseEnd::Ended { on: *on, retention_years: *years as u32 },
                _ => CaseEnd::Open,
            })
            .collect();
        let Some(due_on) = erasure_due(&ends).filter(|d| is_due(*d, until)) else { continue };
        due.push(Due {
            subject: row.try_get("subject")?,
            case_ids: row.try_get("cases")?,
            last_ended_on: ended.iter().flatten().max().copied().unwrap_or(due_on),
            retention_years: years.iter().flatten().max().map_or(0, |y| *y as u32),
            due_on,
        });
    }
    Ok(due)
}

/// The job's health entry: SERVING while its rounds succeed (or are left to
/// the replica holding the lock), NOT_SERVING after a round that failed.
pub const HEALTH_ENTRY: &str = "yiciban.intake.retention";

/// Runs a round every `every` until `shutdown`, the first after `every`
/// (a period counts in years: nothing is lost by waiting, and a restart loop
/// does not hammer the database), reporting each on [`HEALTH_ENTRY`].
pub async fn run(intake: Arc<Intake>, every: Duration, health: HealthReporter, shutdown: CancellationToken) {
    health.set_service_status(HEALTH_ENTRY, ServingStatus::Serving).await;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let status = match round(&intake).await {
            Ok(Some(n)) => {
                tracing::info!(erased = n, "retention round done");
                ServingStatus::Serving
            }
            Ok(None) => {
                tracing::debug!("retention round left to the replica holding the lock");
                ServingStatus::Serving
            }
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "retention round failed; trying again next round");
                ServingStatus::NotServing
            }
        };
        health.set_service_status(HEALTH_ENTRY, status).await;
    }
}

/// One round under the schema's retention lock: how many people it erased,
/// or `None` when another replica holds the lock.
pub async fn round(intake: &Intake) -> anyhow::Result<Option<usize>> {
    // A connection of its own, closed after the round (or when the round is
    // cancelled), so the session lock can never outlive it in the pool.
    let mut conn = intake.pool().acquire().await?.detach();
    let key = format!("yiciban-retention-{}", intake.schema());
    let got: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))").bind(&key).fetch_one(&mut conn).await?;
    if !got {
        return Ok(None);
    }
    let result = erase_due(intake).await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext($1))").bind(&key).execute(&mut conn).await?;
    result.map(Some)
}

/// Erases everyone due today (the injected clock, China time); returns how
/// many people's keys it deleted now. Callers hold the retention lock.
async fn erase_due(intake: &Intake) -> anyhow::Result<usize> {
    let periods = Periods::new(intake.catalog.clone());
    fill_periods(intake.pool(), intake.schema(), &periods).await?;
    let today = yiciban_calendar::date_in_china(intake.clock.now());
    let mut erased = 0;
    for person in due_by(intake, today, ROUND_LIMIT).await? {
        let invocation = crate::erasure::by_system(ACTOR);
        match crate::erasure::erase(intake, &person.subject, &invocation, &person.reason(), ErasureBasis::Retention)
            .await
        {
            Ok(done) => erased += usize::from(done.erased_now),
            Err(status) => {
                yiciban_metrics::Sweep::IntakeRetention.failed();
                tracing::error!(
                    cases = ?person.case_ids,
                    code = ?status.code(),
                    error = status.message(),
                    "a person due for erasure could not be erased; going on with the others"
                );
            }
        }
    }
    Ok(erased)
}

/// The longest a listing looks ahead, in days (ten years).
pub const MAX_LOOKAHEAD_DAYS: u32 = 3660;

/// The people falling due within `within_days` of today, for operators
/// (after looking up the periods still missing).
pub async fn coming_due(intake: &Intake, within_days: u32, limit: i64) -> anyhow::Result<(NaiveDate, Vec<Due>)> {
    let periods = Periods::new(intake.catalog.clone());
    fill_periods(intake.pool(), intake.schema(), &periods).await?;
    let today = yiciban_calendar::date_in_china(intake.clock.now());
    let until = today
        .checked_add_days(chrono::Days::new(u64::from(within_days.min(MAX_LOOKAHEAD_DAYS))))
        .unwrap_or(NaiveDate::MAX);
    Ok((today, due_by(intake, until, limit).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due() -> Due {
        Due {
            subject: "0123456789abcdef".repeat(4),
            case_ids: vec![Uuid::nil()],
            last_ended_on: "2026-03-20".parse().unwrap(),
            retention_years: 10,
            due_on: "2036-03-20".parse().unwrap(),
        }
    }

    #[test]
    fn a_due_person_shows_only_a_prefix_of_the_subject_when_debugged() {
        let shown = format!("{:?}", due());
        assert!(shown.contains("0123456789ab…") && !shown.contains("0123456789abc"), "{shown}");
    }

    #[test]
    fn the_recorded_reason_names_the_rule_and_its_dates() {
        let reason = due().reason();
        assert!(reason.contains("every case of the person ended, the latest on 2026-03-20"), "{reason}");
        assert!(reason.contains("10 years, due on 2036-03-20"), "{reason}");
        assert!(!reason.contains("0123456789"), "no subject in the reason: {reason}");
    }
}

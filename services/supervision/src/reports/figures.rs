//! A department's figures of a month (ADR 0039): the case figures from
//! tracking's monthly statistics (the department's row, asked over gRPC as
//! this service: [`GrpcStatistics`]) and the office's own from this
//! schema's rows and events (consultations recorded, opinions received and
//! closed in the month). Every figure is a count of what happened in the
//! month (China time), so once the month is over they change only when
//! events of the month arrive late; they are frozen at each submission.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::PgPool;
use tonic::Status;
use yiciban_domain::reporting::{ReportFigures, ReportPeriod};
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::service::ServiceChannel;
use yiciban_platform::status::internal;
use yiciban_proto::tracking::v1 as pb;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;

/// Tracking's monthly statistics as the reports see them.
#[async_trait]
pub trait Statistics: Send + Sync + std::fmt::Debug + 'static {
    /// `department`'s row of `period`'s statistics; all zero when the
    /// department had no case activity. `UNAVAILABLE` while tracking cannot
    /// answer.
    async fn department_month(&self, department: &str, period: ReportPeriod) -> Result<pb::StatisticsRow, Status>;
}

/// Tracking's `MonthlyStatistics`, asked as this service.
#[derive(Debug, Clone)]
pub struct GrpcStatistics {
    client: TrackingServiceClient<ServiceChannel>,
}

impl GrpcStatistics {
    /// Asks tracking through `channel`.
    pub fn new(channel: ServiceChannel) -> Self {
        GrpcStatistics { client: TrackingServiceClient::new(channel) }
    }
}

#[async_trait]
impl Statistics for GrpcStatistics {
    async fn department_month(&self, department: &str, period: ReportPeriod) -> Result<pb::StatisticsRow, Status> {
        let request = pb::MonthlyStatisticsRequest {
            period: period.to_string(),
            department: department.to_owned(),
            package_id: String::new(),
        };
        let report = self
            .client
            .clone()
            .monthly_statistics(request)
            .await
            .map_err(|s| {
                Status::unavailable(format!("tracking cannot give the month's case figures now: {}", s.message()))
            })?
            .into_inner()
            .report
            .unwrap_or_default();
        Ok(report.by_department.into_iter().find(|row| row.key == department).unwrap_or_default())
    }
}

/// Statistics held in memory (tests): rows by department and month, or
/// unavailable.
#[derive(Debug, Clone, Default)]
pub struct InMemoryStatistics {
    rows: Arc<Mutex<HashMap<(String, ReportPeriod), pb::StatisticsRow>>>,
    down: Arc<Mutex<bool>>,
}

impl InMemoryStatistics {
    /// No activity anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `department`'s row of `period`.
    pub fn set(&self, department: &str, period: ReportPeriod, row: pb::StatisticsRow) {
        self.rows.lock().expect("not poisoned").insert((department.to_owned(), period), row);
    }

    /// Makes every question fail `UNAVAILABLE` (true) or be answered again.
    pub fn set_down(&self, down: bool) {
        *self.down.lock().expect("not poisoned") = down;
    }
}

#[async_trait]
impl Statistics for InMemoryStatistics {
    async fn department_month(&self, department: &str, period: ReportPeriod) -> Result<pb::StatisticsRow, Status> {
        if *self.down.lock().expect("not poisoned") {
            return Err(Status::unavailable("tracking cannot give the month's case figures now"));
        }
        Ok(self.rows.lock().expect("not poisoned").get(&(department.to_owned(), period)).cloned().unwrap_or_default())
    }
}

/// The office's own counts of a department's month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct OwnCounts {
    /// Consultations counted for the department, recorded in the month.
    pub consultations: i64,
    /// Opinions of the department received in the month.
    pub opinions_received: i64,
    /// Opinions of the department closed in the month.
    pub opinions_closed: i64,
    /// Of those, closed on or before their due day.
    pub opinions_closed_on_time: i64,
}

/// The office's counts of a department's month. A closure's day is the
/// closing event's in China (UTC+8, no daylight saving) from its metadata's
/// `occurred_at` (the injected clock's time, not the row's insert time).
const OWN_COUNTS: &str = "
WITH closed AS (
    SELECT o.due_on,
           ((e.metadata->>'occurred_at')::timestamptz AT TIME ZONE 'UTC' + interval '8 hours')::date AS closed_on
    FROM {schema}.opinions o
    JOIN {schema}.events e ON e.stream_id = 'opinion-' || o.opinion_id::text
                          AND e.event_type = 'OpinionClosed'
    WHERE o.department = $1)
SELECT (SELECT count(*) FROM {schema}.consultations
         WHERE department = $1 AND recorded_on BETWEEN $2 AND $3) AS consultations,
       (SELECT count(*) FROM {schema}.opinions
         WHERE department = $1 AND received_on BETWEEN $2 AND $3) AS opinions_received,
       (SELECT count(*) FROM closed WHERE closed_on BETWEEN $2 AND $3) AS opinions_closed,
       (SELECT count(*) FROM closed WHERE closed_on BETWEEN $2 AND $3 AND closed_on <= due_on)
           AS opinions_closed_on_time";

/// The office's counts of `department` in `[from, to]`: consultations by
/// the day recorded, opinions by the day received (the department they are
/// assigned to, or concern until assigned), closures by the day of the
/// closing event, on time when on or before the opinion's due day.
pub async fn own_counts(
    pool: &PgPool,
    schema: &str,
    department: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<OwnCounts> {
    sqlx::query_as(schema_sql(schema, OWN_COUNTS)).bind(department).bind(from).bind(to).fetch_one(pool).await
}

fn n(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The report's figures from tracking's row and the office's counts.
pub fn combine(row: &pb::StatisticsRow, own: OwnCounts) -> ReportFigures {
    ReportFigures {
        consultations: n(own.consultations),
        applications: row.submitted,
        accepted: row.accepted,
        accepted_with_deficiency: row.accepted_with_deficiency,
        commitments: row.commitments,
        not_accepted: row.not_accepted,
        tasks_finished: row.tasks_finished,
        tasks_on_time: row.tasks_on_time,
        overdue: row.red_warnings,
        ratings: row.ratings,
        bad_ratings: row.bad_ratings,
        opinions_received: n(own.opinions_received),
        opinions_closed: n(own.opinions_closed),
        opinions_closed_on_time: n(own.opinions_closed_on_time),
    }
}

/// `department`'s figures of `period` now: tracking's row (UNAVAILABLE
/// when it cannot answer) and the office's own counts.
pub async fn compute(
    statistics: &dyn Statistics,
    pool: &PgPool,
    schema: &str,
    department: &str,
    period: ReportPeriod,
) -> Result<ReportFigures, Status> {
    let row = statistics.department_month(department, period).await?;
    let last = period.next().first_day().pred_opt().expect("a month has a last day");
    let own = own_counts(pool, schema, department, period.first_day(), last)
        .await
        .map_err(|e| internal("counting the department's consultations and opinions", &e))?;
    Ok(combine(&row, own))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_red_warnings_are_the_reports_overdue_and_the_office_counts_are_its_own() {
        let row = pb::StatisticsRow {
            submitted: 9,
            accepted: 6,
            accepted_with_deficiency: 2,
            commitments: 1,
            not_accepted: 1,
            tasks_finished: 5,
            tasks_on_time: 4,
            yellow_warnings: 7,
            red_warnings: 3,
            ratings: 8,
            bad_ratings: 2,
            ..Default::default()
        };
        let own = OwnCounts { consultations: 11, opinions_received: 4, opinions_closed: 3, opinions_closed_on_time: 2 };
        let f = combine(&row, own);
        assert_eq!((f.applications, f.accepted, f.accepted_with_deficiency, f.commitments), (9, 6, 2, 1));
        assert_eq!((f.not_accepted, f.tasks_finished, f.tasks_on_time, f.overdue), (1, 5, 4, 3));
        assert_eq!((f.ratings, f.bad_ratings), (8, 2));
        assert_eq!((f.consultations, f.opinions_received, f.opinions_closed, f.opinions_closed_on_time), (11, 4, 3, 2));
    }
}

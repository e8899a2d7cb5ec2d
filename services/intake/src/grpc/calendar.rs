//! CalendarService: the published working-day calendar, read by every
//! service and any signed-in caller, published by an administrator (the
//! access rules admit only `admin` to PublishCalendar).

use std::collections::BTreeSet;
use std::sync::Arc;

use tonic::{Request, Response, Status};
use yiciban_platform::Caller;
use yiciban_platform::calendar::{LiveCalendar, year_from_wire, year_to_wire};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::calendar_service_server::CalendarService;
use yiciban_proto::convert::wire::timestamp;

use crate::calendar::{self, PublishError, Published};

/// The longest `source` accepted, in characters.
const MAX_SOURCE_CHARS: usize = 500;

/// The gRPC face of the published calendar.
#[derive(Debug, Clone)]
pub struct CalendarApi {
    pool: sqlx::PgPool,
    schema: String,
    live: Arc<LiveCalendar>,
}

impl CalendarApi {
    /// Serves the calendar stored in `schema`, and installs each publication
    /// in `live` (intake's own calendar) at once.
    pub fn new(pool: sqlx::PgPool, schema: String, live: Arc<LiveCalendar>) -> Self {
        CalendarApi { pool, schema, live }
    }

    async fn published(&self) -> Result<Published, Status> {
        calendar::load(&self.pool, &self.schema).await.map_err(|e| internal("reading the published calendar", &e))
    }
}

fn to_wire(published: Published) -> pb::GetCalendarResponse {
    pb::GetCalendarResponse {
        revision: published.revision,
        unchanged: false,
        years: published
            .years
            .into_iter()
            .map(|y| pb::PublishedYear {
                year: Some(year_to_wire(&y.year)),
                revision: y.revision,
                source: y.source,
                published_by: y.published_by,
                published_at: y.published_at.map(timestamp),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl CalendarService for CalendarApi {
    async fn get_calendar(
        &self,
        request: Request<pb::GetCalendarRequest>,
    ) -> Result<Response<pb::GetCalendarResponse>, Status> {
        let known = request.into_inner().known_revision;
        let published = self.published().await?;
        if known != 0 && published.revision == known {
            return Ok(Response::new(pb::GetCalendarResponse { revision: known, unchanged: true, years: Vec::new() }));
        }
        Ok(Response::new(to_wire(published)))
    }

    async fn publish_calendar(
        &self,
        request: Request<pb::PublishCalendarRequest>,
    ) -> Result<Response<pb::PublishCalendarResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let mut violations = Vec::new();
        let source = r.source.trim();
        if source.is_empty() {
            violations.push(FieldViolation {
                field: "source".into(),
                description:
                    "name the announcement the dates come from, e.g. 国务院办公厅关于2027年部分节假日安排的通知".into(),
            });
        } else if source.chars().count() > MAX_SOURCE_CHARS {
            violations.push(FieldViolation {
                field: "source".into(),
                description: format!("at most {MAX_SOURCE_CHARS} characters"),
            });
        }
        if r.years.is_empty() {
            violations.push(FieldViolation { field: "years".into(), description: "give at least one year".into() });
        }
        let mut seen = BTreeSet::new();
        let mut years = Vec::with_capacity(r.years.len());
        for (i, year) in r.years.iter().enumerate() {
            let path = format!("years[{i}]");
            if !seen.insert(year.year) {
                violations.push(FieldViolation {
                    field: path.clone(),
                    description: format!("{} is given more than once; give each year once", year.year),
                });
            }
            match year_from_wire(year, &path) {
                Ok(checked) => years.push(checked),
                Err(found) => violations.extend(found),
            }
        }
        if !violations.is_empty() {
            return Err(invalid_argument("the calendar was not published; correct every listed date", &violations));
        }
        let outcome = calendar::publish(&self.pool, &self.schema, &years, source, &caller.subject, r.replaces_revision)
            .await
            .map_err(|e| match e {
                PublishError::Stale { .. } => Status::failed_precondition(e.to_string()),
                PublishError::Database(db) => internal("publishing the calendar", &db),
            })?;
        if outcome.changed {
            tracing::info!(revision = outcome.revision, by = %caller.subject, years = ?seen, "working-day calendar published");
            let published = self.published().await?;
            self.live.install(published.revision, published.calendar());
        }
        Ok(Response::new(pb::PublishCalendarResponse { revision: outcome.revision, changed: outcome.changed }))
    }
}

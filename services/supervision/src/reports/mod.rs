//! The monthly reports (月度报送, ADR 0039): one stream `report-<id>` per
//! department and month (the id a UUID v5 of both,
//! [`yiciban_domain::reporting::report_id`]) bound to the shared
//! [`CommandRunner`] by [`ReportCodec`], with a row per report
//! ([`ReportRows`], table `reports` of the `supervision-reports`
//! migrations) written in the same transaction. The figures frozen at
//! submission come from [`figures`]; the deadline sweep is [`deadline`];
//! the month's CSV is [`csv`]. Events go out through the outbox,
//! case-level like the other supervision events.

pub mod csv;
pub mod deadline;
pub mod figures;
pub mod rows;

use async_trait::async_trait;
use prost::Message;
use sqlx::PgConnection;
use tonic::Status;
use yiciban_commands::{Change, CommandRunner, EventCodec, Rows};
use yiciban_domain::reporting::{Event, MonthlyReport, report_id};
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::status::internal;
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::reports as convert;

/// How reports are stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportCodec;

impl EventCodec for ReportCodec {
    type Aggregate = MonthlyReport;

    const NOUN: &'static str = "report";

    fn encode(&self, after: &MonthlyReport, event: &Event) -> NewEvent {
        // Every event starts or continues a report whose department and
        // month the state holds once it is folded in.
        let id = match (after.department(), after.period()) {
            (Some(department), Some(period)) => report_id(department, period),
            _ => uuid::Uuid::nil(),
        };
        let (kind, payload) = convert::encode_report_event(id, event);
        NewEvent::new(kind, payload)
    }

    fn decode(&self, stored: &StoredEvent) -> Result<Event, ConvertError> {
        convert::decode_report_event(&stored.event_type, &stored.payload)
    }
}

/// The report rows.
#[derive(Debug, Clone)]
pub struct ReportRows {
    /// The service's schema.
    pub schema: String,
}

#[async_trait]
impl Rows<MonthlyReport> for ReportRows {
    type Facts = ();

    async fn write(&self, tx: &mut PgConnection, change: &Change<'_, MonthlyReport>, _: &()) -> Result<(), Status> {
        let (Some(department), Some(period)) = (change.after.department(), change.after.period()) else {
            return Ok(());
        };
        let message = convert::report_to_pb(change.after, department, period, "", Some(change.at));
        rows::upsert(
            tx,
            &self.schema,
            &rows::ReportRow {
                report_id: change.id,
                department: department.to_string(),
                period: period.to_string(),
                status: message.status,
                submitted_on_time: change.after.submitted_on_time(),
                flagged_late_on: change.after.flagged_late_on(),
                updated_at: change.at,
                version: i64::try_from(message.version).unwrap_or(i64::MAX),
                report: message.encode_to_vec(),
            },
        )
        .await
        .map_err(|e| internal("writing the report row", &e))
    }
}

/// The command runner over the report streams.
pub type ReportRunner = CommandRunner<ReportCodec, ReportRows>;

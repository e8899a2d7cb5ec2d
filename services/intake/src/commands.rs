//! Intake's command path: the application streams (`case-<id>`) bound to
//! the shared [`CommandRunner`] by [`IntakeCodec`], and [`CaseIndexRows`],
//! the case index row written in the same transaction as the events. Used
//! by the RPCs and by the deficiency sweep alike.

use async_trait::async_trait;
use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{Change, CommandRunner, EventCodec, Rows};
use yiciban_domain::intake::{CaseApplication, Event, Identity, Status as CaseStatus};
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::IdentityKey;
use yiciban_platform::status::internal;
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::intake as convert;

use crate::repo::{self, IndexedCase};

/// How intake stores its applications: every event on the case's subject.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntakeCodec;

impl EventCodec for IntakeCodec {
    type Aggregate = CaseApplication;

    const NOUN: &'static str = "case";

    /// Case-level events, the ones the lead department follows also on
    /// its subject (`yiciban_proto::placement`).
    fn encode(&self, after: &CaseApplication, event: &Event) -> NewEvent {
        let (kind, payload) = convert::encode_event(event);
        NewEvent::new(kind, payload).for_lead_of_case(after.lead_department.as_ref().map(|d| d.as_str()))
    }

    fn decode(&self, stored: &StoredEvent) -> Result<Event, ConvertError> {
        convert::decode_event(&stored.event_type, &stored.payload)
    }
}

/// The case index (officer load, deficiency deadlines, authorisation),
/// kept beside the streams in intake's schema.
#[derive(Debug, Clone)]
pub struct CaseIndexRows {
    /// The service's schema.
    pub schema: String,
    /// The key of the applicants' lookup values.
    pub identity_key: IdentityKey,
}

#[async_trait]
impl Rows<CaseApplication> for CaseIndexRows {
    type Facts = ();

    async fn write(
        &self,
        tx: &mut sqlx::PgConnection,
        change: &Change<'_, CaseApplication>,
        _: &(),
    ) -> Result<(), Status> {
        match index_row(change.id, change.after, &self.identity_key) {
            Some(row) => repo::upsert_case(tx, &self.schema, &row).await.map_err(|e| internal("indexing the case", &e)),
            None => Ok(()),
        }
    }
}

/// The command runner over the applications.
pub type Applications = CommandRunner<IntakeCodec, CaseIndexRows>;

/// The index row that mirrors `state`.
pub fn index_row(case_id: Uuid, state: &CaseApplication, identity_key: &IdentityKey) -> Option<IndexedCase> {
    let applicant = state.applicant.as_ref()?;
    let identity = match &applicant.identity {
        Identity::Person(id) => id.as_str().to_owned(),
        Identity::Company(code) => code.as_str().to_owned(),
    };
    Some(IndexedCase {
        case_id,
        case_number: state.case_number.as_ref()?.to_string(),
        package_id: state.package_id.as_ref()?.as_str().to_owned(),
        applicant_key: identity_key.lookup(&identity),
        officer_id: state.officer.as_ref().map(|o| o.id.clone()),
        status: status_name(state.status).to_owned(),
        open: !state.status.is_terminal(),
        deficiency_deadline: state.open_deficiencies().map(|d| d.deficiency.due_by).min(),
        version: state.version as i64,
    })
}

pub fn status_name(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::New => "new",
        CaseStatus::Submitted => "submitted",
        CaseStatus::Accepted => "accepted",
        CaseStatus::AcceptedWithDeficiency => "accepted_with_deficiency",
        CaseStatus::NotAccepted => "not_accepted",
        CaseStatus::Withdrawn => "withdrawn",
        CaseStatus::Terminated => "terminated",
    }
}

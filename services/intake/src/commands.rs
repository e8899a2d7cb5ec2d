//! Intake's command path: the application streams (`case-<id>`) bound to
//! the shared [`CommandRunner`] by [`IntakeCodec`], and [`CaseIndexRows`],
//! the case index row written in the same transaction as the events. Used
//! by the RPCs and by the deficiency sweep alike.
//!
//! The codec is where personal data is sealed and opened (ADR 0024): the
//! applicant's data key is looked up before an `ApplicationSubmitted` is
//! encoded, and again before one is read back; the domain never sees a key.

use std::sync::Arc;

use async_trait::async_trait;
use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{Change, CommandRunner, EventCodec, Rows};
use yiciban_domain::intake::{CaseApplication, Event, Identity, Status as CaseStatus};
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::IdentityKey;
use yiciban_platform::status::internal;
use yiciban_privacy::{DataKeys, PrivacyError, SubjectKey};
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::intake as convert;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{Opening, Subject, subject_of};

use crate::catalogs::LiveCatalog;
use crate::endings::{self, CaseEnding, Ending, Periods};
use crate::repo::{self, IndexedCase};

/// How intake stores its applications: every event on the case's subject,
/// the applicant's personal data sealed under the applicant's data key.
#[derive(Debug, Clone)]
pub struct IntakeCodec {
    /// The applicants' data keys, in intake's schema.
    pub data_keys: DataKeys,
    /// The key of the identity lookups: the subject of an event written in
    /// clear before sealing is computed with it.
    pub identity_key: IdentityKey,
}

/// The data key an event is read with, as the data keys' table has it.
enum KeyOf {
    /// No personal part, or a clear one whose applicant was not erased.
    NoKey,
    /// The applicant's key.
    Key(SubjectKey),
    /// Erased (or, for a sealed part, no key at all: nothing opens it).
    Erased,
}

impl KeyOf {
    fn opening(&self) -> Opening<'_> {
        match self {
            KeyOf::NoKey => Opening::NoKey,
            KeyOf::Key(key) => Opening::Key(key),
            KeyOf::Erased => Opening::Erased,
        }
    }
}

fn keys_failed(e: PrivacyError) -> Status {
    internal("reading the applicant's data key", &e)
}

impl IntakeCodec {
    /// The key `stored` (an `ApplicationSubmitted`) is read with.
    async fn key_of(&self, stored: &StoredEvent) -> Result<KeyOf, Status> {
        if stored.event_type != "ApplicationSubmitted" {
            return Ok(KeyOf::NoKey);
        }
        let message = <ev::ApplicationSubmitted as prost::Message>::decode(stored.payload.as_slice())
            .map_err(|e| internal("reading the stored events", &e))?;
        Ok(match subject_of(&message) {
            None => KeyOf::NoKey,
            Some(Subject::Sealed { subject, generation }) => {
                match self.data_keys.find_generation(&subject, generation).await.map_err(keys_failed)? {
                    Some(key) => KeyOf::Key(key),
                    None => KeyOf::Erased,
                }
            }
            // Written in clear before sealing: hidden once its applicant is
            // erased (the bytes stay: ADR 0024).
            Some(Subject::Clear(identity)) => {
                if self.data_keys.is_erased(&self.identity_key.lookup(&identity)).await.map_err(keys_failed)? {
                    KeyOf::Erased
                } else {
                    KeyOf::NoKey
                }
            }
        })
    }
}

#[async_trait]
impl EventCodec for IntakeCodec {
    type Aggregate = CaseApplication;

    const NOUN: &'static str = "case";

    /// Without keys: an `ApplicationSubmitted` is encoded WITHOUT its
    /// personal part (never in clear). The command path seals it
    /// ([`EventCodec::encode_all`]).
    fn encode(&self, after: &CaseApplication, event: &Event) -> NewEvent {
        let event = match event {
            Event::ApplicationSubmitted(e) => {
                Event::ApplicationSubmitted(yiciban_domain::intake::ApplicationSubmitted {
                    personal: yiciban_domain::intake::Personal::Erased,
                    ..e.clone()
                })
            }
            other => other.clone(),
        };
        let (kind, payload) = convert::encode_event(&event, None).expect("nothing to seal");
        for_lead(after, kind, payload)
    }

    /// Without keys: the personal part of an `ApplicationSubmitted` reads as
    /// erased. The command path opens it ([`EventCodec::decode_all`]).
    fn decode(&self, stored: &StoredEvent) -> Result<Event, ConvertError> {
        convert::decode_event(&stored.event_type, &stored.payload, Opening::Erased)
    }

    /// Seals the personal part of an `ApplicationSubmitted` under the data
    /// key of its subject (made on first use, in the submission's
    /// transaction). An applicant whose data was erased and who applies
    /// again gets a new key (the next generation), which the erasure before
    /// never touched.
    async fn encode_all(
        &self,
        tx: &mut sqlx::PgConnection,
        after: &CaseApplication,
        events: &[Event],
    ) -> Result<Vec<NewEvent>, Status> {
        let mut encoded = Vec::with_capacity(events.len());
        for event in events {
            let key = match event {
                Event::ApplicationSubmitted(e) if e.personal.clear().is_some() => {
                    Some(self.data_keys.key_for_in(&mut *tx, &e.data_subject).await.map_err(keys_failed)?)
                }
                _ => None,
            };
            let (kind, payload) = convert::encode_event(event, key.as_ref().map(|k| k as _))
                .map_err(|e| internal("sealing the application", &e))?;
            encoded.push(for_lead(after, kind, payload));
        }
        Ok(encoded)
    }

    /// Opens the personal part of an `ApplicationSubmitted` with its
    /// subject's data key; an erased subject's reads as erased.
    async fn decode_all(&self, stored: &[StoredEvent]) -> Result<Vec<Event>, Status> {
        let mut events = Vec::with_capacity(stored.len());
        for e in stored {
            let key = self.key_of(e).await?;
            events.push(
                convert::decode_event(&e.event_type, &e.payload, key.opening())
                    .map_err(|err| internal("reading the stored events", &err))?,
            );
        }
        Ok(events)
    }
}

/// Case-level events, the ones the lead department follows also on its
/// subject (`yiciban_proto::placement`).
fn for_lead(after: &CaseApplication, kind: &'static str, payload: Vec<u8>) -> NewEvent {
    NewEvent::new(kind, payload).for_lead_of_case(after.lead_department.as_ref().map(|d| d.as_str()))
}

/// The case index (officer load, deficiency deadlines, authorisation),
/// kept beside the streams in intake's schema, and the day a case ended in
/// intake (withdrawn, terminated, not accepted: [`crate::endings`]).
#[derive(Debug, Clone)]
pub struct CaseIndexRows {
    /// The service's schema.
    pub schema: String,
    /// The key of the applicants' lookup values.
    pub identity_key: IdentityKey,
    /// The catalog version in force: the retention period of an ending is
    /// taken from it when the case keeps that version.
    pub catalog: Arc<LiveCatalog>,
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
        let Some(row) = index_row(change.id, change.after, &self.identity_key) else {
            return Ok(());
        };
        repo::upsert_case(&mut *tx, &self.schema, &row).await.map_err(|e| internal("indexing the case", &e))?;
        if let Some(ending) = ending(change, &self.catalog) {
            endings::record(tx, &self.schema, &ending)
                .await
                .map_err(|e| internal("recording the case's ending", &e))?;
        }
        Ok(())
    }
}

/// The ending a command brought about in intake, if it ended the case.
fn ending(change: &Change<'_, CaseApplication>, catalog: &LiveCatalog) -> Option<CaseEnding> {
    if change.before.status.is_terminal() {
        return None;
    }
    let how = Ending::of_status(change.after.status)?;
    let catalog_version = change.after.catalog_version.clone()?;
    let package = change.after.package_id.as_ref()?;
    Some(CaseEnding {
        case_id: change.id,
        on: yiciban_calendar::date_in_china(change.at),
        how,
        retention_years: Periods::in_force(catalog, &catalog_version, package.as_str()),
        catalog_version,
    })
}

/// The command runner over the applications.
pub type Applications = CommandRunner<IntakeCodec, CaseIndexRows>;

/// The index row that mirrors `state`.
pub fn index_row(case_id: Uuid, state: &CaseApplication, identity_key: &IdentityKey) -> Option<IndexedCase> {
    // The data key's subject is the lookup value; a case submitted before
    // sealing has none and its applicant in clear.
    let applicant_key = if state.data_subject.is_empty() {
        let identity = match &state.applicant.as_ref()?.identity {
            Identity::Person(id) => id.as_str().to_owned(),
            Identity::Company(code) => code.as_str().to_owned(),
        };
        identity_key.lookup(&identity)
    } else {
        state.data_subject.clone()
    };
    Some(IndexedCase {
        case_id,
        case_number: state.case_number.as_ref()?.to_string(),
        package_id: state.package_id.as_ref()?.as_str().to_owned(),
        applicant_key,
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

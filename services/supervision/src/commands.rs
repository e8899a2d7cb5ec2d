//! Supervision's command path: the consultation streams
//! (`consultation-<id>`) and opinion streams (`opinion-<id>`) bound to the
//! shared [`CommandRunner`] by [`ConsultationCodec`] and [`OpinionCodec`],
//! and their read rows ([`ConsultationRows`], [`OpinionRows`]) written in
//! the same transaction as the events, with the sealed contact of a new
//! record. The events are case-level (`_`): no department system's feed
//! receives them (ADR 0037).

use async_trait::async_trait;
use prost::Message;
use sqlx::PgConnection;
use tonic::Status;
use yiciban_commands::{Change, CommandRunner, EventCodec, Rows};
use yiciban_domain::supervision::{Consultation, ConsultationEvent, Opinion, OpinionEvent};
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::status::internal;
use yiciban_privacy::DataKeys;
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::supervision as convert;

use crate::contacts::{self, ToSeal};
use crate::repo;

/// How consultations are stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsultationCodec;

impl EventCodec for ConsultationCodec {
    type Aggregate = Consultation;

    const NOUN: &'static str = "consultation";

    fn encode(&self, _after: &Consultation, event: &ConsultationEvent) -> NewEvent {
        let (kind, payload) = convert::encode_consultation_event(event);
        NewEvent::new(kind, payload)
    }

    fn decode(&self, stored: &StoredEvent) -> Result<ConsultationEvent, ConvertError> {
        convert::decode_consultation_event(&stored.event_type, &stored.payload)
    }
}

/// How opinions are stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpinionCodec;

impl EventCodec for OpinionCodec {
    type Aggregate = Opinion;

    const NOUN: &'static str = "opinion";

    fn encode(&self, _after: &Opinion, event: &OpinionEvent) -> NewEvent {
        let (kind, payload) = convert::encode_opinion_event(event);
        NewEvent::new(kind, payload)
    }

    fn decode(&self, stored: &StoredEvent) -> Result<OpinionEvent, ConvertError> {
        convert::decode_opinion_event(&stored.event_type, &stored.payload)
    }
}

/// Facts of a new record that only its first command knows.
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    /// The contact to seal with it.
    pub contact: Option<ToSeal>,
    /// Who records it (the opinion row keeps it; later commands leave it).
    pub recorder: String,
}

async fn seal_new(
    tx: &mut PgConnection,
    schema: &str,
    keys: &DataKeys,
    id: uuid::Uuid,
    first: bool,
    facts: &NewRecord,
) -> Result<(), Status> {
    match (&facts.contact, first) {
        (Some(to_seal), true) => contacts::seal_in(tx, schema, keys, id, to_seal)
            .await
            .map_err(|e| internal("sealing the contact data", &*e)),
        _ => Ok(()),
    }
}

/// The consultation rows.
#[derive(Debug, Clone)]
pub struct ConsultationRows {
    /// The service's schema.
    pub schema: String,
    /// The data keys sealing contact data.
    pub keys: DataKeys,
}

#[async_trait]
impl Rows<Consultation> for ConsultationRows {
    type Facts = NewRecord;

    async fn write(
        &self,
        tx: &mut PgConnection,
        change: &Change<'_, Consultation>,
        facts: &NewRecord,
    ) -> Result<(), Status> {
        let first = change.before.version == 0;
        seal_new(tx, &self.schema, &self.keys, change.id, first, facts).await?;
        let Some(r) = change.after.recorded.as_ref() else { return Ok(()) };
        // The message keeps the time it was first recorded: a later change
        // (a link to its case) rewrites the row, not that time.
        let recorded_at = if first {
            change.at
        } else {
            repo::consultation_recorded_at(tx, &self.schema, change.id)
                .await
                .map_err(|e| internal("reading the consultation row", &e))?
                .unwrap_or(change.at)
        };
        let message = convert::consultation_to_pb(change.after, recorded_at).unwrap_or_default();
        repo::upsert_consultation(
            tx,
            &self.schema,
            &repo::ConsultationRow {
                consultation_id: change.id,
                channel: message.channel,
                package_id: r.package_id.clone().unwrap_or_default(),
                department: r.department.clone(),
                recorder: r.recorder.clone(),
                recorded_on: r.recorded_on,
                recorded_at,
                became_application: change.after.became_application(),
                version: change.after.version as i64,
                consultation: message.encode_to_vec(),
            },
        )
        .await
        .map_err(|e| internal("writing the consultation row", &e))
    }
}

/// The opinion rows.
#[derive(Debug, Clone)]
pub struct OpinionRows {
    /// The service's schema.
    pub schema: String,
    /// The data keys sealing contact data.
    pub keys: DataKeys,
}

#[async_trait]
impl Rows<Opinion> for OpinionRows {
    type Facts = NewRecord;

    async fn write(
        &self,
        tx: &mut PgConnection,
        change: &Change<'_, Opinion>,
        facts: &NewRecord,
    ) -> Result<(), Status> {
        let first = change.before.version == 0;
        seal_new(tx, &self.schema, &self.keys, change.id, first, facts).await?;
        let Some(r) = change.after.received.as_ref() else { return Ok(()) };
        // `overdue` depends on the day it is read: computed by the reader.
        let message = convert::opinion_to_pb(change.after, r.received_on, "").unwrap_or_default();
        repo::upsert_opinion(
            tx,
            &self.schema,
            &repo::OpinionRow {
                opinion_id: change.id,
                kind: message.kind,
                channel: message.channel,
                state: message.state,
                department: message.department.clone(),
                person: message.person.clone(),
                received_on: r.received_on,
                due_on: r.due_on,
                awaiting: change.after.state.awaits_answer(),
                escalated: change.after.escalated,
                recorder: facts.recorder.clone(),
                recorded_at: change.at,
                version: change.after.version as i64,
                visit_due: change.after.return_visit_due(),
                opinion: message.encode_to_vec(),
            },
        )
        .await
        .map_err(|e| internal("writing the opinion row", &e))
    }
}

/// The command runner over the consultation streams.
pub type ConsultationRunner = CommandRunner<ConsultationCodec, ConsultationRows>;

/// The command runner over the opinion streams.
pub type OpinionRunner = CommandRunner<OpinionCodec, OpinionRows>;

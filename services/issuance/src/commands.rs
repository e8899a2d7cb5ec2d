//! Issuance's command path: the issuance streams (`issuance-<case id>`)
//! bound to the shared [`CommandRunner`] by [`IssuanceCodec`] (events that
//! concern a department go out on its subject), and [`IssuanceRows`], the
//! read rows (case, ratings, return visits) written in the same transaction
//! as the events (the rectification ledger's among them).

use async_trait::async_trait;
use prost::Message;
use sqlx::PgConnection;
use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{Change, CommandRunner, EventCodec, Rows};
use yiciban_domain::issuance::{CaseIssuance as State, Event};
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::status::internal;
use yiciban_privacy::DataKeys;
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::issuance::{self as convert, IdentitySealing};

use crate::repo::{self, CaseRow, RatingRow, VisitRow};

/// How issuance stores its streams: events that concern a department on
/// its subject, and who collected at the window sealed under the
/// applicant's data key (ADR 0031).
#[derive(Debug, Clone)]
pub struct IssuanceCodec {
    /// The applicants' data keys, in intake's schema, read only: issuance
    /// seals with the key intake made and never makes one.
    pub data_keys: DataKeys,
}

impl IssuanceCodec {
    fn placed(after: &State, event: &Event, (kind, payload): (&'static str, Vec<u8>)) -> NewEvent {
        let new = NewEvent::new(kind, payload);
        match department_of(after, event) {
            Some(d) => new.for_department(d),
            None => new.for_lead_of_case(after.lead_department.as_ref().map(|d| d.as_str())),
        }
    }
}

#[async_trait]
impl EventCodec for IssuanceCodec {
    type Aggregate = State;

    const NOUN: &'static str = "issuance of case";

    /// Without keys: a collector's masked identity is not kept (never in
    /// clear). The command path seals it ([`EventCodec::encode_all`]).
    fn encode(&self, after: &State, event: &Event) -> NewEvent {
        Self::placed(after, event, convert::encode_event(event, IdentitySealing::Drop))
    }

    fn decode(&self, stored: &StoredEvent) -> Result<Event, ConvertError> {
        convert::decode_event(&stored.event_type, &stored.payload, stored.metadata.occurred_at)
    }

    /// Seals a collector's masked identity under the applicant's current
    /// data key, read in the command's transaction; an applicant without
    /// one (erased before the hand-out) gets the identity dropped.
    async fn encode_all(
        &self,
        tx: &mut PgConnection,
        after: &State,
        events: &[Event],
    ) -> Result<Vec<NewEvent>, Status> {
        let case_number = after.case_number.map(|n| n.to_string()).unwrap_or_default();
        let mut encoded = Vec::with_capacity(events.len());
        for event in events {
            let key = match event {
                Event::PickedUp(e) if !e.collector.data_subject.is_empty() => self
                    .data_keys
                    .find_in(&mut *tx, &e.collector.data_subject)
                    .await
                    .map_err(|e| internal("reading the applicant's data key", &e))?,
                _ => None,
            };
            let sealing = match &key {
                Some(key) => IdentitySealing::Key { key, case_number: &case_number },
                None => IdentitySealing::Drop,
            };
            encoded.push(Self::placed(after, event, convert::encode_event(event, sealing)));
        }
        Ok(encoded)
    }
}

/// Facts for the case's read row that only some commands know.
#[derive(Debug, Clone, Default)]
pub struct RowFacts {
    /// Keyed hash of the applicant's identity.
    pub applicant_hmac: Option<String>,
    /// The case's lead department.
    pub lead_department: Option<String>,
}

/// The read rows issuance keeps beside its streams, in its schema.
#[derive(Debug, Clone)]
pub struct IssuanceRows {
    /// The service's schema.
    pub schema: String,
}

#[async_trait]
impl Rows<State> for IssuanceRows {
    type Facts = RowFacts;

    async fn write(
        &self,
        tx: &mut sqlx::PgConnection,
        change: &Change<'_, State>,
        facts: &RowFacts,
    ) -> Result<(), Status> {
        write_rows(&self.schema, tx, change.case_id, change.after, facts)
            .await
            .map_err(|e| internal("writing the read rows", &e))
    }
}

/// The command runner over the issuance streams.
pub type IssuanceRunner = CommandRunner<IssuanceCodec, IssuanceRows>;

/// The department an event concerns, if one: a rectification's responsible
/// department, a rating's department.
pub fn department_of(state: &State, event: &Event) -> Option<String> {
    let of_rectification = |id: Uuid| state.rectification(id).map(|r| r.responsible_department.as_str().to_owned());
    let of_rating = |id: Uuid| {
        state
            .ratings
            .iter()
            .find(|r| r.received.rating_id == id)
            .and_then(|r| r.received.department.as_ref().map(|d| d.as_str().to_owned()))
    };
    match event {
        Event::RectificationOpened(e) => Some(e.responsible_department.as_str().to_owned()),
        Event::RectificationVerified(e) => of_rectification(e.rectification_id),
        Event::RectificationRectified(e) => of_rectification(e.rectification_id),
        Event::RectificationExplained(e) => of_rectification(e.rectification_id),
        Event::RectificationClosed(e) => of_rectification(e.rectification_id),
        Event::RatingReceived(e) => e.department.as_ref().map(|d| d.as_str().to_owned()),
        Event::RatingMarkedInvalid(e) => of_rating(e.rating_id),
        _ => None,
    }
}

async fn write_rows(
    schema: &str,
    tx: &mut sqlx::PgConnection,
    case_id: Uuid,
    state: &State,
    facts: &RowFacts,
) -> sqlx::Result<()> {
    let mut departments: Vec<String> = state
        .batches
        .iter()
        .flat_map(|b| b.documents.iter().map(|d| d.issuing_department.as_str().to_owned()))
        .chain(facts.lead_department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    let issuance = convert::issuance_to_pb(case_id, state);
    repo::upsert_case(
        tx,
        schema,
        &CaseRow {
            case_id,
            case_number: state.case_number.map(|n| n.to_string()).unwrap_or_default(),
            applicant_hmac: facts.applicant_hmac.clone(),
            lead_department: facts.lead_department.clone(),
            departments,
            closed_on: state.closed_on,
            version: state.version as i64,
            issuance: issuance.encode_to_vec(),
        },
    )
    .await?;
    crate::ledger::write(tx, schema, case_id, &issuance).await?;
    for r in &state.ratings {
        let e = &r.received;
        repo::upsert_rating(
            tx,
            schema,
            &RatingRow {
                rating_id: e.rating_id,
                case_id,
                score: e.score as i32,
                real_name: e.real_name,
                department: e.department.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
                rated_on: yiciban_calendar::date_in_china(e.at),
                invalid: r.invalid.is_some(),
            },
        )
        .await?;
    }
    for v in &state.return_visits {
        repo::upsert_visit(
            tx,
            schema,
            &VisitRow {
                visit_id: v.id,
                case_id,
                period: v.period.clone(),
                sample_id: v.sample_id,
                reason: yiciban_proto::common::v1::ReturnVisitSampleReason::from(v.reason).as_str_name().to_owned(),
                recorded: v.result.is_some(),
            },
        )
        .await?;
    }
    Ok(())
}

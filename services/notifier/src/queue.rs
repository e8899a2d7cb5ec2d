//! The `notifier` consumer's handler: every case event passes through it,
//! and the ones that call for a text message ([`Notice::of`]) queue it — a
//! pending row keyed by the event's id, inserted if absent, in the
//! consumer's transaction together with its checkpoint — so each message is
//! queued exactly once however often JetStream delivers the event and
//! whenever the service restarts. Nothing is sent here; the sender does.
//! An applicant's erasure (`PersonalDataErased`) empties the texts of the
//! case's messages and stops those not sent yet (docs/PRIVACY.md).

use std::sync::Arc;

use async_trait::async_trait;
use prost::Name as _;
use sqlx::PgConnection;
use uuid::Uuid;
use yiciban_eventstore::{Handler, HandlerError};
use yiciban_platform::Clock;
use yiciban_proto::events::v1::{EventEnvelope, PersonalDataErased};

use crate::notice::Notice;
use crate::repo;

/// The durable consumer's name (and its checkpoints' key).
pub const CONSUMER: &str = "notifier";

/// Queues the messages the case events call for.
#[derive(Debug)]
pub struct Queue {
    schema: String,
    clock: Arc<dyn Clock>,
}

impl Queue {
    pub fn new(schema: &str, clock: Arc<dyn Clock>) -> Self {
        Queue { schema: schema.to_owned(), clock }
    }
}

#[async_trait]
impl Handler for Queue {
    async fn apply(&self, conn: &mut PgConnection, event: &EventEnvelope) -> Result<(), HandlerError> {
        if event.event_type == PersonalDataErased::NAME {
            let erased = repo::erase_case(conn, &self.schema, case_of(event)?, self.clock.now()).await?;
            tracing::info!(case_id = %event.case_id, messages = erased, "the applicant was erased: the messages' texts emptied");
            return Ok(());
        }
        let Some(notice) = Notice::of(&event.event_type, &event.payload).map_err(HandlerError::poison)? else {
            return Ok(());
        };
        let case_id = case_of(event)?;
        if event.event_id.trim().is_empty() {
            return Err(HandlerError::poison("the event has no id"));
        }
        let queued = repo::enqueue(conn, &self.schema, &event.event_id, case_id, &notice, self.clock.now()).await?;
        if queued {
            tracing::debug!(event_id = %event.event_id, %case_id, kind = notice.kind.name(), "text message queued");
        }
        Ok(())
    }
}

fn case_of(event: &EventEnvelope) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&event.case_id)
        .map_err(|e| HandlerError::poison(format!("the event's case id {:?} is no UUID: {e}", event.case_id)))
}

//! The issuance process manager (ADR 0004): a durable JetStream consumer of
//! issuance's own events that tells intake what it must know.
//!
//! - `CaseClosed` → `IntakeService.RecordCaseClosed` (the day the
//!   applicant's retention period starts: intake's retention job erases the
//!   person's data once every case of theirs ended and the period passed).
//!
//! The call is harmless to repeat (intake keeps the closing on record), so
//! a redelivery after a crash at any point changes nothing twice; it
//! carries the event as its cause.

use std::sync::Arc;

use async_trait::async_trait;
use prost::Message as _;
use uuid::Uuid;
use yiciban_eventstore::{HandlerError, ProcessManager};
use yiciban_platform::Cause;
use yiciban_platform::status::handler_error;
use yiciban_proto::events::v1::{CaseClosed, EventEnvelope};

use crate::CaseDirectory;

/// Tells intake about closed cases.
#[derive(Debug, Clone)]
pub struct IssuanceHandoff {
    directory: Arc<dyn CaseDirectory>,
}

impl IssuanceHandoff {
    /// Tells intake through `directory`.
    pub fn new(directory: Arc<dyn CaseDirectory>) -> Self {
        IssuanceHandoff { directory }
    }
}

#[async_trait]
impl ProcessManager for IssuanceHandoff {
    const NAME: &'static str = yiciban_eventstore::identities::ISSUANCE_HANDOFF;

    async fn react(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        if envelope.event_type != "CaseClosed" {
            return Ok(());
        }
        let closed = CaseClosed::decode(envelope.payload.as_slice()).map_err(HandlerError::poison)?;
        let closed_on = closed.closed_on.ok_or_else(|| HandlerError::poison("CaseClosed without closed_on"))?;
        let case_id: Uuid = envelope.case_id.parse().map_err(HandlerError::poison)?;
        self.directory
            .record_case_closed(case_id, closed_on, &Cause::event(envelope))
            .await
            .map_err(|s| handler_error(&format!("telling intake case {case_id} closed"), &s))
    }
}

//! The issuance process manager (ADR 0004): a durable JetStream consumer of
//! issuance's own events that tells intake what it must know.
//!
//! - `CaseClosed` → `IntakeService.RecordCaseClosed` (the day the
//!   applicant's retention period starts: intake's retention job erases the
//!   person's data once every case of theirs ended and the period passed),
//!   with the scans the window took at hand-out ([`window_materials`]: the
//!   signed receipts and powers of attorney of the case's `PickedUp`
//!   events), which the erasure deletes with the applicant's materials.
//!
//! The call is harmless to repeat (intake keeps the closing on record), so
//! a redelivery after a crash at any point changes nothing twice; it
//! carries the event as its cause.

use std::sync::Arc;

use async_trait::async_trait;
use prost::Message as _;
use uuid::Uuid;
use yiciban_domain::Aggregate as _;
use yiciban_domain::issuance::CaseIssuance;
use yiciban_eventstore::{EventStore, HandlerError, ProcessManager, StoreError};
use yiciban_platform::Cause;
use yiciban_platform::status::handler_error;
use yiciban_proto::events::v1::{CaseClosed, EventEnvelope, PickedUp};

use crate::CaseDirectory;

/// Tells intake about closed cases.
#[derive(Clone)]
pub struct IssuanceHandoff {
    directory: Arc<dyn CaseDirectory>,
    store: EventStore,
}

impl std::fmt::Debug for IssuanceHandoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuanceHandoff").finish_non_exhaustive()
    }
}

impl IssuanceHandoff {
    /// Tells intake through `directory`, reading the case's hand-outs from
    /// issuance's `store`.
    pub fn new(directory: Arc<dyn CaseDirectory>, store: EventStore) -> Self {
        IssuanceHandoff { directory, store }
    }
}

/// The SHA-256s of the scans the window took at the hand-outs of case
/// `case_id` (each `PickedUp`'s signed receipt and power of attorney), in
/// order, once each.
pub async fn window_materials(store: &EventStore, case_id: Uuid) -> Result<Vec<String>, StoreError> {
    let stored = store.read_stream(&CaseIssuance::stream_id(case_id), 1).await?;
    let mut shas: Vec<String> = Vec::new();
    for e in stored.iter().filter(|e| e.event_type == "PickedUp") {
        let Ok(picked) = PickedUp::decode(e.payload.as_slice()) else { continue };
        let poa = picked.collector.and_then(|c| c.power_of_attorney);
        for sha in [picked.receipt, poa].into_iter().flatten().map(|m| m.sha256_hex) {
            if !sha.is_empty() && !shas.contains(&sha) {
                shas.push(sha);
            }
        }
    }
    Ok(shas)
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
        let scans = window_materials(&self.store, case_id)
            .await
            .map_err(|e| HandlerError::retry(format!("reading the hand-outs of case {case_id}: {e}")))?;
        self.directory
            .record_case_closed(case_id, closed_on, &scans, &Cause::event(envelope))
            .await
            .map_err(|s| handler_error(&format!("telling intake case {case_id} closed"), &s))
    }
}

//! The task service's process manager (ADR 0004): a durable JetStream
//! consumer of the task service's own events that reports every outcome
//! routing plans by (approved, denied, returned for supplement, resumed,
//! revoked) with `RoutingService.RecordTaskOutcome`. The idempotency key is
//! derived from the event id and the event travels as the command's cause,
//! so a redelivery after a crash at any point records nothing twice; routing
//! also ignores an outcome it already holds.

use async_trait::async_trait;
use tonic::Code;
use yiciban_eventstore::{HandlerError, ProcessManager};
use yiciban_platform::Cause;
use yiciban_platform::service::ServiceChannel;
use yiciban_platform::status::handler_error;
use yiciban_proto::events::EventPayload;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::routing::v1::{self as routing, routing_service_client::RoutingServiceClient};

/// The routing client as the task service uses it.
pub type RoutingClient = RoutingServiceClient<ServiceChannel>;

/// Reports task outcomes to routing.
#[derive(Debug, Clone)]
pub struct TasksHandoff {
    routing: RoutingClient,
}

impl TasksHandoff {
    /// Reports to routing over this client.
    pub fn new(routing: RoutingClient) -> Self {
        TasksHandoff { routing }
    }
}

/// The routing request reporting `envelope`, or `None` for events routing
/// does not plan by (claims, transfers, warnings, cancellations it caused…).
pub fn outcome_request(envelope: &EventEnvelope) -> Result<Option<routing::RecordTaskOutcomeRequest>, HandlerError> {
    use routing::TaskOutcome as O;
    const REPORTED: [&str; 5] =
        ["TaskApproved", "TaskDenied", "TaskReturnedForSupplement", "TaskResumed", "ApprovalRevoked"];
    if !REPORTED.contains(&envelope.event_type.as_str()) {
        return Ok(None);
    }
    let payload = EventPayload::decode(&envelope.event_type, &envelope.payload)
        .map_err(|e| HandlerError::poison(format!("{} is not a valid payload: {e}", envelope.event_type)))?;
    let mut request = routing::RecordTaskOutcomeRequest {
        idempotency_key: format!("outcome-{}", envelope.event_id),
        case_id: envelope.case_id.clone(),
        source_event_id: envelope.event_id.clone(),
        ..Default::default()
    };
    match payload {
        EventPayload::TaskApproved(e) => {
            request.task_id = e.task_id;
            request.set_outcome(O::Approved);
            request.result = e.result;
        }
        EventPayload::TaskDenied(e) => {
            request.task_id = e.task_id;
            request.set_outcome(O::Denied);
            request.reason = e.reason;
            request.legal_basis = e.legal_basis;
        }
        EventPayload::TaskReturnedForSupplement(e) => {
            request.task_id = e.task_id;
            request.set_outcome(O::ReturnedForSupplement);
            request.supplement_request_id = e.supplement_request_id;
            request.missing = e
                .items
                .into_iter()
                .map(|i| if i.material_id.is_empty() { i.field_path } else { i.material_id })
                .filter(|m| !m.is_empty())
                .collect();
            if request.missing.is_empty() {
                // A return itemised by requirement text only: name the request.
                request.missing.push(format!("supplement:{}", request.supplement_request_id));
            }
        }
        EventPayload::TaskResumed(e) => {
            request.task_id = e.task_id;
            request.set_outcome(O::Resumed);
            request.supplement_request_id = e.supplement_request_id;
        }
        EventPayload::ApprovalRevoked(e) => {
            request.task_id = e.task_id;
            request.set_outcome(O::Revoked);
            request.reason = e.reason;
            request.legal_basis = e.legal_basis;
        }
        _ => return Ok(None),
    }
    Ok(Some(request))
}

#[async_trait]
impl ProcessManager for TasksHandoff {
    const NAME: &'static str = yiciban_eventstore::identities::TASKS_TO_ROUTING;

    async fn react(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let Some(request) = outcome_request(envelope)? else { return Ok(()) };
        let task_id = request.task_id.clone();
        match self.routing.clone().record_task_outcome(Cause::event(envelope).on(request)).await {
            Ok(_) => Ok(()),
            // The case was decided or ended meanwhile (a task approved while
            // a denial was confirmed): the plan no longer takes outcomes.
            Err(s) if s.code() == Code::FailedPrecondition => {
                tracing::warn!(%task_id, reason = s.message(), "outcome not taken by routing");
                Ok(())
            }
            Err(s) => Err(handler_error(&format!("reporting task {task_id}"), &s)),
        }
    }
}

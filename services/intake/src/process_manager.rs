//! The intake process manager (ADR 0004): a durable JetStream consumer of
//! intake's own events that hands a case on.
//!
//! - `ApplicationAccepted` → `RoutingService.PlanCase` (the case is planned
//!   and its first steps dispatched);
//! - `ApplicationWithdrawn`, `CaseTerminated` → `RoutingService.EndPlan`
//!   (open tasks are cancelled);
//! - `MaterialsSupplemented` answering a task's supplement request →
//!   `TaskService.ResumeTask` (the task's clock runs again; the task service
//!   tells routing, which resumes the case clock).
//!
//! Every call's idempotency key is derived from the event id and carries the
//! event as its cause, so a redelivery after a crash at any point changes
//! nothing twice and the audit trail names what led to each command.

use async_trait::async_trait;
use tonic::Code;
use yiciban_domain::intake::Event;
use yiciban_eventstore::{HandlerError, ProcessManager};
use yiciban_platform::Cause;
use yiciban_platform::service::ServiceChannel;
use yiciban_platform::status::handler_error;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::intake as convert;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::routing::v1::{self as routing, routing_service_client::RoutingServiceClient};
use yiciban_proto::sealed::Opening;
use yiciban_proto::tasks::v1::{self as tasks, task_service_client::TaskServiceClient};

/// The routing client as intake uses it.
pub type RoutingClient = RoutingServiceClient<ServiceChannel>;
/// The task service client as intake uses it.
pub type TasksClient = TaskServiceClient<ServiceChannel>;

/// Hands accepted, ended and supplemented cases on.
#[derive(Debug, Clone)]
pub struct IntakeHandoff {
    routing: RoutingClient,
    tasks: TasksClient,
}

impl IntakeHandoff {
    /// Calls routing and the task service over these clients.
    pub fn new(routing: RoutingClient, tasks: TasksClient) -> Self {
        IntakeHandoff { routing, tasks }
    }
}

#[async_trait]
impl ProcessManager for IntakeHandoff {
    const NAME: &'static str = yiciban_eventstore::identities::INTAKE_HANDOFF;

    async fn react(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        if !matches!(
            envelope.event_type.as_str(),
            "ApplicationAccepted" | "ApplicationWithdrawn" | "CaseTerminated" | "MaterialsSupplemented"
        ) {
            return Ok(());
        }
        // None of these events holds personal data: no key is needed.
        let event = convert::decode_event(&envelope.event_type, &envelope.payload, Opening::Erased)
            .map_err(HandlerError::poison)?;
        let case_id = envelope.case_id.clone();
        let key = |what: &str| format!("{what}-{}", envelope.event_id);
        let cause = Cause::event(envelope);
        match event {
            Event::ApplicationAccepted(a) => {
                let request = routing::PlanCaseRequest {
                    idempotency_key: key("plan"),
                    case_id: case_id.clone(),
                    expected_version: 0,
                    case_number: a.case_number.to_string(),
                    package_id: a.package_id.as_str().to_owned(),
                    item_codes: a.item_codes.iter().map(|c| c.as_str().to_owned()).collect(),
                    accepted_on: Some(a.accepted_on.into()),
                    commitments: a.commitments.iter().map(Into::into).collect(),
                    promised_working_days: a.promised_working_days,
                    catalog_version: a.catalog_version.clone(),
                };
                match self.routing.clone().plan_case(cause.on(request)).await {
                    Ok(_) => Ok(()),
                    // Planned before (an earlier delivery under another key).
                    Err(s) if s.code() == Code::AlreadyExists => Ok(()),
                    Err(s) => Err(handler_error(&format!("planning case {case_id}"), &s)),
                }
            }
            Event::ApplicationWithdrawn(_) | Event::CaseTerminated(_) => {
                let reason = if envelope.event_type == "ApplicationWithdrawn" {
                    common::TaskCancelReason::CaseWithdrawn
                } else {
                    common::TaskCancelReason::CaseTerminated
                };
                let request = routing::EndPlanRequest {
                    idempotency_key: key("end-plan"),
                    case_id: case_id.clone(),
                    reason: reason as i32,
                };
                match self.routing.clone().end_plan(cause.on(request)).await {
                    Ok(_) => Ok(()),
                    // Never accepted, so never planned: nothing to end.
                    Err(s) if s.code() == Code::NotFound => Ok(()),
                    Err(s) => Err(handler_error(&format!("ending the plan of case {case_id}"), &s)),
                }
            }
            Event::MaterialsSupplemented(m) => {
                let (Some(task_id), Some(request_id)) = (m.task_id, m.supplement_request_id) else {
                    return Ok(()); // deficiencies only: no task waits
                };
                let request = tasks::ResumeTaskRequest {
                    idempotency_key: key("resume"),
                    task_id,
                    expected_version: 0,
                    supplement_request_id: request_id,
                };
                match self.tasks.clone().resume_task(cause.on(request)).await {
                    Ok(_) => Ok(()),
                    // Resumed already, or the task was closed meanwhile.
                    Err(s) if s.code() == Code::FailedPrecondition => {
                        tracing::info!(%case_id, reason = s.message(), "task not resumed");
                        Ok(())
                    }
                    Err(s) => Err(handler_error(&format!("resuming a task of case {case_id}"), &s)),
                }
            }
            _ => Ok(()),
        }
    }
}

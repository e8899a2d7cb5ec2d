//! The intake → routing and intake → tasks process manager: a durable
//! JetStream consumer of intake's own events.
//!
//! - `ApplicationAccepted` → `RoutingService.PlanCase` (the case is planned
//!   and its first steps dispatched);
//! - `ApplicationWithdrawn`, `CaseTerminated` → `RoutingService.EndPlan`
//!   (open tasks are cancelled);
//! - `MaterialsSupplemented` answering a task's supplement request →
//!   `TaskService.ResumeTask` (the task's clock runs again; the task service
//!   tells routing, which resumes the case clock).
//!
//! Every call's idempotency key is derived from the event id, so a
//! redelivery after a crash at any point changes nothing twice.

use async_trait::async_trait;
use sqlx::PgConnection;
use tonic::Code;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_domain::intake::Event;
use yiciban_eventstore::{Handler, HandlerError};
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::intake as convert;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::routing::v1::{self as routing, routing_service_client::RoutingServiceClient};
use yiciban_proto::tasks::v1::{self as tasks, task_service_client::TaskServiceClient};

/// The routing client as intake uses it.
pub type RoutingClient = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;
/// The task service client as intake uses it.
pub type TasksClient = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Durable consumer name of this process manager.
pub const CONSUMER: &str = "intake-handoff";

/// Hands accepted, ended and supplemented cases on.
#[derive(Debug, Clone)]
pub struct Handoff {
    routing: RoutingClient,
    tasks: TasksClient,
}

impl Handoff {
    pub fn new(routing: RoutingClient, tasks: TasksClient) -> Self {
        Handoff { routing, tasks }
    }
}

/// A refusal that will never change is poison; anything else is retried.
fn classify(what: &str, case_id: &str, status: tonic::Status) -> HandlerError {
    let message = format!("{what} for case {case_id}: {:?} {}", status.code(), status.message());
    match status.code() {
        Code::InvalidArgument | Code::PermissionDenied | Code::Unauthenticated => HandlerError::poison(message),
        _ => HandlerError::retry(message),
    }
}

#[async_trait]
impl Handler for Handoff {
    async fn apply(&self, _conn: &mut PgConnection, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        self.react(envelope).await
    }

    /// Its effect is a command to another service, keyed by the event.
    fn reacts_outside_transactions(&self) -> bool {
        true
    }

    async fn react(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        if !matches!(
            envelope.event_type.as_str(),
            "ApplicationAccepted" | "ApplicationWithdrawn" | "CaseTerminated" | "MaterialsSupplemented"
        ) {
            return Ok(());
        }
        let event = convert::decode_event(&envelope.event_type, &envelope.payload).map_err(HandlerError::poison)?;
        let case_id = envelope.case_id.clone();
        let key = |what: &str| format!("{what}-{}", envelope.event_id);
        match event {
            Event::ApplicationAccepted(a) => {
                let request = routing::PlanCaseRequest {
                    idempotency_key: key("plan"),
                    case_id: case_id.clone(),
                    expected_version: 0,
                    case_number: a.case_number.to_string(),
                    package_id: a.package_id.as_str().to_owned(),
                    item_codes: a.item_codes.iter().map(|c| c.as_str().to_owned()).collect(),
                    accepted_on: Some(convert::date_to_pb(a.accepted_on)),
                    commitments: a.commitments.iter().map(convert::commitment_to_pb).collect(),
                    promised_working_days: a.promised_working_days,
                };
                match self.routing.clone().plan_case(request).await {
                    Ok(_) => Ok(()),
                    // Planned before (an earlier delivery under another key).
                    Err(s) if s.code() == Code::AlreadyExists => Ok(()),
                    Err(s) => Err(classify("planning", &case_id, s)),
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
                match self.routing.clone().end_plan(request).await {
                    Ok(_) => Ok(()),
                    // Never accepted, so never planned: nothing to end.
                    Err(s) if s.code() == Code::NotFound => Ok(()),
                    Err(s) => Err(classify("ending the plan", &case_id, s)),
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
                match self.tasks.clone().resume_task(request).await {
                    Ok(_) => Ok(()),
                    // Resumed already, or the task was closed meanwhile.
                    Err(s) if s.code() == Code::FailedPrecondition => {
                        tracing::info!(%case_id, reason = s.message(), "task not resumed");
                        Ok(())
                    }
                    Err(s) => Err(classify("resuming the task", &case_id, s)),
                }
            }
            _ => Ok(()),
        }
    }
}

/// The open supplement request `request_id` of a case, looked up in the task
/// service: `FAILED_PRECONDITION` when no task of the case waits on it.
pub async fn open_supplement_request(
    tasks: &TasksClient,
    case_id: &str,
    request_id: &str,
) -> Result<yiciban_domain::intake::OpenSupplementRequest, tonic::Status> {
    let listed = tasks
        .clone()
        .list_case_tasks(tasks::ListCaseTasksRequest { case_id: case_id.to_owned() })
        .await
        .map_err(|s| {
            tonic::Status::unavailable(format!(
                "the department-task service could not be asked about supplement request {request_id}: {}; try again",
                s.message()
            ))
        })?
        .into_inner();
    let task = listed
        .tasks
        .into_iter()
        .find(|t| {
            t.supplement_request_id == request_id && t.state == common::TaskState::WaitingForSupplement as i32
        })
        .ok_or_else(|| {
            tonic::Status::failed_precondition(format!(
                "no task of case {case_id} waits on supplement request {request_id}; check the request id on the notice (补正通知书)"
            ))
        })?;
    let material_ids = task
        .supplement_items
        .iter()
        .filter(|i| !i.material_id.is_empty())
        .filter_map(|i| yiciban_domain::values::MaterialId::parse(&i.material_id).ok())
        .collect();
    Ok(yiciban_domain::intake::OpenSupplementRequest {
        request_id: request_id.to_owned(),
        task_id: task.task_id,
        material_ids,
    })
}

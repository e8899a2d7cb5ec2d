//! The routing → tasks process manager: a durable JetStream consumer of the
//! plan events that turns every `StepDispatched` into `TaskService.CreateTask`
//! and every `StepCancelled` into `TaskService.CancelTask`. The idempotency
//! key comes from the task id, so a redelivery after a crash (before or
//! after the call, before or after the ack) creates or cancels nothing twice.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::PgConnection;
use tonic::Code;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_calendar::date_in_china;
use yiciban_domain::routing::{Event, StepCancelled, StepDispatched};
use yiciban_eventstore::{Handler, HandlerError};
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::convert::intake::{commitment_to_pb, date_to_pb};
use yiciban_proto::convert::routing::{cancel_reason_to_pb, decode_event};
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::tasks::v1::{self as tasks, task_service_client::TaskServiceClient};

use crate::Routing;
use crate::commands::load;

/// The task service client as the process manager uses it.
pub type TasksClient = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Durable consumer name of this process manager.
pub const CONSUMER: &str = "routing-to-tasks";

/// Creates and cancels the tasks the plans ask for.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    routing: Arc<Routing>,
    tasks: TasksClient,
}

impl Dispatcher {
    pub fn new(routing: Arc<Routing>, tasks: TasksClient) -> Self {
        Dispatcher { routing, tasks }
    }

    async fn create(&self, case_id: Uuid, envelope: &EventEnvelope, d: &StepDispatched) -> Result<(), HandlerError> {
        let loaded = load(&self.routing, case_id).await.map_err(|s| HandlerError::retry(s.message().to_owned()))?;
        let plan = &loaded.plan;
        let step = plan
            .step(&d.step_id)
            .ok_or_else(|| HandlerError::poison(format!("the plan of case {case_id} has no step {}", d.step_id)))?;
        let package = plan.package_id.as_ref().and_then(|p| self.routing.catalog.package(p.as_str()));
        let material_ids = package
            .and_then(|p| p.item(&step.step.item_code))
            .map(|item| item.materials.iter().map(|m| m.id.as_str().to_owned()).collect())
            .unwrap_or_default();
        let occurred = envelope
            .occurred_at
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .unwrap_or_else(|| self.routing.clock.now());
        let request = tasks::CreateTaskRequest {
            idempotency_key: format!("create-task-{}", d.task_id),
            case_id: case_id.to_string(),
            case_number: plan.case_number.map(|n| n.to_string()).unwrap_or_default(),
            package_id: plan.package_id.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            step_id: d.step_id.clone(),
            item_code: d.item_code.as_str().to_owned(),
            item_name: step.step.item_name.clone(),
            department: d.department.as_str().to_owned(),
            promised_working_days: step.step.promised_working_days,
            start_on: Some(date_to_pb(date_in_china(occurred))),
            material_ids,
            commitments: step.step.commitments.iter().map(commitment_to_pb).collect(),
            task_id: d.task_id.to_string(),
            lead_department: plan.lead_department.as_ref().map(|l| l.as_str().to_owned()).unwrap_or_default(),
        };
        match self.tasks.clone().create_task(request).await {
            Ok(_) => Ok(()),
            // Created before (by an earlier delivery under another key).
            Err(s) if s.code() == Code::AlreadyExists => {
                tracing::info!(task_id = %d.task_id, "task existed already");
                Ok(())
            }
            Err(s) => Err(classify("creating", d.task_id, s)),
        }
    }

    async fn cancel(&self, c: &StepCancelled) -> Result<(), HandlerError> {
        let request = tasks::CancelTaskRequest {
            idempotency_key: format!("cancel-task-{}", c.task_id),
            task_id: c.task_id.to_string(),
            expected_version: 0,
            reason: cancel_reason_to_pb(c.reason) as i32,
            detail: String::new(),
        };
        match self.tasks.clone().cancel_task(request).await {
            Ok(_) => Ok(()),
            // Already closed (approved or denied meanwhile): nothing to cancel.
            Err(s) if s.code() == Code::FailedPrecondition => {
                tracing::info!(task_id = %c.task_id, reason = s.message(), "task not cancelled");
                Ok(())
            }
            Err(s) => Err(classify("cancelling", c.task_id, s)),
        }
    }
}

/// A refusal that will never change is poison; anything else is retried.
fn classify(what: &str, task_id: Uuid, status: tonic::Status) -> HandlerError {
    let message = format!("{what} task {task_id}: {:?} {}", status.code(), status.message());
    match status.code() {
        Code::InvalidArgument | Code::PermissionDenied | Code::Unauthenticated => HandlerError::poison(message),
        _ => HandlerError::retry(message),
    }
}

#[async_trait]
impl Handler for Dispatcher {
    async fn apply(&self, _conn: &mut PgConnection, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        if !matches!(envelope.event_type.as_str(), "StepDispatched" | "StepCancelled") {
            return Ok(());
        }
        let case_id = Uuid::parse_str(&envelope.case_id).map_err(|e| HandlerError::poison(e.to_string()))?;
        let event = decode_event(&envelope.event_type, &envelope.payload).map_err(HandlerError::poison)?;
        match &event {
            Event::StepDispatched(d) => self.create(case_id, envelope, d).await,
            Event::StepCancelled(c) => self.cancel(c).await,
            _ => Ok(()),
        }
    }
}

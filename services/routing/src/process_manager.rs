//! The routing process manager (ADR 0004): a durable JetStream consumer of
//! the plan events that turns every `StepDispatched` into `TaskService.CreateTask`, every
//! `StepCancelled` into `TaskService.CancelTask`, and every
//! `CaseHandedToIssuance` into `IssuanceService.PrepareIssuance`. The
//! idempotency keys come from the task id or the event id, so a redelivery
//! after a crash (before or after the call, before or after the ack) creates,
//! cancels or hands over nothing twice; each call carries the event as its
//! cause.

use std::sync::Arc;

use async_trait::async_trait;
use tonic::Code;
use uuid::Uuid;
use yiciban_calendar::date_in_china;
use yiciban_domain::routing::{CaseHandedToIssuance, Event, StepCancelled, StepDispatched};
use yiciban_eventstore::{HandlerError, ProcessManager};
use yiciban_platform::Cause;
use yiciban_platform::service::ServiceChannel;
use yiciban_platform::status::handler_error;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::routing::decode_event;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::issuance::v1::{self as issuance, issuance_service_client::IssuanceServiceClient};
use yiciban_proto::tasks::v1::{self as tasks, task_service_client::TaskServiceClient};

use crate::Routing;
use crate::commands::load_planned;

/// The task service client as the process manager uses it.
pub type TasksClient = TaskServiceClient<ServiceChannel>;

/// The issuance client as the process manager uses it.
pub type IssuanceClient = IssuanceServiceClient<ServiceChannel>;

/// Creates and cancels the tasks the plans ask for and hands decided cases
/// to issuance.
#[derive(Debug, Clone)]
pub struct RoutingHandoff {
    routing: Arc<Routing>,
    tasks: TasksClient,
    issuance: IssuanceClient,
}

impl RoutingHandoff {
    /// Reads plans from `routing` and calls the task service and issuance.
    pub fn new(routing: Arc<Routing>, tasks: TasksClient, issuance: IssuanceClient) -> Self {
        RoutingHandoff { routing, tasks, issuance }
    }

    async fn hand_over(
        &self,
        case_id: Uuid,
        envelope: &EventEnvelope,
        h: &CaseHandedToIssuance,
    ) -> Result<(), HandlerError> {
        let plan =
            load_planned(&self.routing.plans, case_id).await.map_err(|s| handler_error("reading the plan", &s))?;
        let (working_days_used, decided_on_time) =
            plan.decision.map_or((0, false), |d| (d.working_days_used, d.on_time));
        let request = issuance::PrepareIssuanceRequest {
            idempotency_key: format!("prepare-{}", envelope.event_id),
            case_id: case_id.to_string(),
            expected_version: 0,
            case_number: h.case_number.to_string(),
            outcome: common::CaseOutcome::from(h.outcome) as i32,
            documents: h.documents.iter().map(Into::into).collect(),
            issue_by: Some(h.issue_by.into()),
            working_days_used,
            decided_on_time,
        };
        match self.issuance.clone().prepare_issuance(Cause::event(envelope).on(request)).await {
            Ok(_) => Ok(()),
            Err(s) if s.code() == Code::AlreadyExists => Ok(()),
            Err(s) => Err(handler_error(&format!("handing case {case_id} over to issuance"), &s)),
        }
    }

    async fn create(&self, case_id: Uuid, envelope: &EventEnvelope, d: &StepDispatched) -> Result<(), HandlerError> {
        let plan =
            load_planned(&self.routing.plans, case_id).await.map_err(|s| handler_error("reading the plan", &s))?;
        let step = plan
            .step(&d.step_id)
            .ok_or_else(|| HandlerError::poison(format!("the plan of case {case_id} has no step {}", d.step_id)))?;
        let catalog = self
            .routing
            .catalogs
            .get(plan.catalog_version.as_deref().unwrap_or_default())
            .await
            .map_err(|e| handler_error("reading the plan's catalog version", &e.into_status()))?;
        let package = plan.package_id.as_ref().and_then(|p| catalog.package(p.as_str()));
        let material_ids = package
            .and_then(|p| p.item(&step.step.item_code))
            .map(|item| item.materials.iter().map(|m| m.id.as_str().to_owned()).collect())
            .unwrap_or_default();
        let occurred = self.occurred_at(envelope);
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
            start_on: Some(date_in_china(occurred).into()),
            material_ids,
            commitments: step.step.commitments.iter().map(Into::into).collect(),
            task_id: d.task_id.to_string(),
            lead_department: plan.lead_department.as_ref().map(|l| l.as_str().to_owned()).unwrap_or_default(),
        };
        match self.tasks.clone().create_task(Cause::event(envelope).on(request)).await {
            Ok(_) => Ok(()),
            // Created before (by an earlier delivery under another key).
            Err(s) if s.code() == Code::AlreadyExists => {
                tracing::info!(task_id = %d.task_id, "task existed already");
                Ok(())
            }
            Err(s) => Err(handler_error(&format!("creating task {}", d.task_id), &s)),
        }
    }

    /// When the event happened (now, for an envelope without the time).
    fn occurred_at(&self, envelope: &EventEnvelope) -> chrono::DateTime<chrono::Utc> {
        envelope
            .occurred_at
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .unwrap_or_else(|| self.routing.clock.now())
    }

    async fn cancel(&self, envelope: &EventEnvelope, c: &StepCancelled) -> Result<(), HandlerError> {
        let request = tasks::CancelTaskRequest {
            idempotency_key: format!("cancel-task-{}", c.task_id),
            task_id: c.task_id.to_string(),
            expected_version: 0,
            reason: common::TaskCancelReason::from(c.reason) as i32,
            detail: String::new(),
        };
        match self.tasks.clone().cancel_task(Cause::event(envelope).on(request)).await {
            Ok(_) => Ok(()),
            // Already closed (approved or denied meanwhile): nothing to cancel.
            Err(s) if s.code() == Code::FailedPrecondition => {
                tracing::info!(task_id = %c.task_id, reason = s.message(), "task not cancelled");
                Ok(())
            }
            Err(s) => Err(handler_error(&format!("cancelling task {}", c.task_id), &s)),
        }
    }
}

#[async_trait]
impl ProcessManager for RoutingHandoff {
    const NAME: &'static str = yiciban_eventstore::identities::ROUTING_HANDOFF;

    async fn react(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        if !matches!(envelope.event_type.as_str(), "StepDispatched" | "StepCancelled" | "CaseHandedToIssuance") {
            return Ok(());
        }
        let case_id = Uuid::parse_str(&envelope.case_id).map_err(|e| HandlerError::poison(e.to_string()))?;
        let event = decode_event(&envelope.event_type, &envelope.payload, self.occurred_at(envelope))
            .map_err(HandlerError::poison)?;
        match &event {
            Event::StepDispatched(d) => self.create(case_id, envelope, d).await,
            Event::StepCancelled(c) => self.cancel(envelope, c).await,
            Event::CaseHandedToIssuance(h) => self.hand_over(case_id, envelope, h).await,
            _ => Ok(()),
        }
    }
}

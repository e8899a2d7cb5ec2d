//! The gRPC face of the task service: TaskService. Each RPC parses its
//! request (every malformed field at once), authorises the caller, and runs
//! its command through the shared command runner ([`crate::commands::TaskRunner`]); the handlers live by
//! concern in `create`, `work` (with the officer's urging) and `queries`.

mod access;
mod create;
mod queries;
mod work;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_domain::tasks::{Command, Event, Task};
use yiciban_platform::Caller;
use yiciban_proto::tasks::v1 as pb;
use yiciban_proto::tasks::v1::task_service_server::TaskService;

use crate::Tasks;
use yiciban_commands::{Invocation, Loaded, Target, refuse};

/// The TaskService RPCs.
#[derive(Debug, Clone)]
pub struct TasksApi {
    tasks: Arc<Tasks>,
}

impl TasksApi {
    /// The RPCs over the service state.
    pub fn new(tasks: Arc<Tasks>) -> Self {
        TasksApi { tasks }
    }

    /// Runs a command on an existing task for `caller`, idempotently; a
    /// person first has to see the task (see [`access::visible_task`]).
    async fn run<M: prost::Message, R: prost::Message + Default>(
        &self,
        caller: &Caller,
        task_id: Uuid,
        expected: u64,
        (key, request): (&str, &M),
        command: impl Fn(&Loaded<Task>) -> Result<Command, Status> + Send + Sync,
        respond: impl Fn(&Task, &[Event]) -> R + Send + Sync,
    ) -> Result<Response<R>, Status> {
        let invocation = Invocation::request(caller, key, request, expected)?;
        if caller.service().is_none() {
            // A person acts only on a task they may see: one they may not
            // is answered like a task that does not exist.
            access::visible_task(&self.tasks, caller, task_id).await?;
        }
        let done = self
            .tasks
            .runner
            .run(Target::Existing(task_id), &invocation, command, |after, events| respond(&after.state, events))
            .await?;
        Ok(Response::new(done.into_inner()))
    }
}

/// A UUID field, or `INVALID_ARGUMENT` naming it.
fn uuid_field(field: &str, raw: &str) -> Result<Uuid, Status> {
    yiciban_proto::convert::tasks::parse_uuid(field, raw).map_err(|v| refuse([v]))
}

#[tonic::async_trait]
impl TaskService for TasksApi {
    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id, case_id = %request.get_ref().case_id))]
    async fn create_task(
        &self,
        request: Request<pb::CreateTaskRequest>,
    ) -> Result<Response<pb::CreateTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        create::create_task(&self.tasks, &caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_inbox(
        &self,
        request: Request<pb::ListInboxRequest>,
    ) -> Result<Response<pb::ListInboxResponse>, Status> {
        let caller = Caller::of(&request)?;
        queries::list_inbox(&self.tasks, &caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_task(&self, request: Request<pb::GetTaskRequest>) -> Result<Response<pb::GetTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        queries::get_task(&self.tasks, &caller, request.into_inner()).await.map(Response::new)
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn claim_task(
        &self,
        request: Request<pb::ClaimTaskRequest>,
    ) -> Result<Response<pb::ClaimTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::claim(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn approve_task(
        &self,
        request: Request<pb::ApproveTaskRequest>,
    ) -> Result<Response<pb::ApproveTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::approve(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn deny_task(&self, request: Request<pb::DenyTaskRequest>) -> Result<Response<pb::DenyTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::deny(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn return_for_supplement(
        &self,
        request: Request<pb::ReturnForSupplementRequest>,
    ) -> Result<Response<pb::ReturnForSupplementResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::return_for_supplement(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn resume_task(
        &self,
        request: Request<pb::ResumeTaskRequest>,
    ) -> Result<Response<pb::ResumeTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::resume(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn transfer_task(
        &self,
        request: Request<pb::TransferTaskRequest>,
    ) -> Result<Response<pb::TransferTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::transfer(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn cancel_task(
        &self,
        request: Request<pb::CancelTaskRequest>,
    ) -> Result<Response<pb::CancelTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::cancel(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn record_post_check(
        &self,
        request: Request<pb::RecordPostCheckRequest>,
    ) -> Result<Response<pb::RecordPostCheckResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::record_post_check(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(task_id = %request.get_ref().task_id))]
    async fn urge_task(&self, request: Request<pb::UrgeTaskRequest>) -> Result<Response<pb::UrgeTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        work::urge(self, &caller, request.into_inner()).await
    }

    async fn list_case_tasks(
        &self,
        request: Request<pb::ListCaseTasksRequest>,
    ) -> Result<Response<pb::ListCaseTasksResponse>, Status> {
        let caller = Caller::of(&request)?;
        queries::list_case_tasks(&self.tasks, &caller, request.into_inner()).await
    }
}

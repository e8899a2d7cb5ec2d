//! Officers see the tasks of the cases assigned to them, as a real intake
//! service says (GetCase, asked with the task service's own token) — and
//! after a reassignment, the new officer's, not the old one's. Another
//! officer's case is NOT_FOUND worded exactly like a random task.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::Code;
use uuid::Uuid;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::intake::v1 as intake_pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::tasks::v1 as pb;
use yiciban_testkit::{ReservedPort, RunningService};

use crate::helpers::*;

/// The task service and, on `port`, a real intake service on the same
/// database, NATS prefix and issuer (hand-offs to routing wait: port 9).
pub(crate) struct WithIntake {
    /// First, so that intake stops before the database goes.
    intake: RunningService<yiciban_intake::Intake>,
    pub(crate) app: TestApp,
}

pub(crate) async fn spawn_with_intake() -> WithIntake {
    let port = ReservedPort::new();
    let app = spawn_app_asking(Some(port.url())).await;
    let mut env: HashMap<String, String> = app.issuer.env().into_iter().collect();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), app.nats.subjects.prefix().to_owned());
    env.insert("YICIBAN_EXPIRY_SCAN".to_owned(), "1h".to_owned());
    env.insert("YICIBAN_ROUTING_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_TASKS_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    let mut config = yiciban_intake::IntakeConfig::from_source(&env).expect("intake config");
    config.common.grpc_listener = Some(port.listener());
    let clock: ManualClock = app.clock.clone();
    let intake = yiciban_testkit::spawn_service(yiciban_intake::build_with(
        config,
        Arc::new(clock),
        app.db.pool.clone(),
        app.nats.js.clone(),
    ))
    .await;
    WithIntake { intake, app }
}

impl WithIntake {
    pub(crate) fn intake_as(
        &self,
        role: Role,
        sub: &str,
    ) -> IntakeServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, ClientAuth>> {
        let token = self.app.issuer.token(role, sub, None, None);
        IntakeServiceClient::with_interceptor(self.intake.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// A newborn case accepted at intake, with its officer; and a task of it.
    pub(crate) async fn case_with_a_task(&self) -> (String, String, String) {
        let accepted = self
            .intake_as(Role::Clerk, "clerk-001")
            .submit_application(yiciban_testkit::applications::newborn("newborn-1"))
            .await
            .expect("SubmitApplication")
            .into_inner();
        assert_eq!(accepted.decision(), intake_pb::AcceptanceDecision::Accepted, "{accepted:?}");
        let case = self
            .intake_as(Role::Clerk, "clerk-001")
            .get_case(intake_pb::GetCaseRequest { case_id: accepted.case_id.clone(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .case
            .unwrap();
        assert!(!case.officer_id.is_empty(), "intake assigns an officer at acceptance");
        let mut task = new_task("samr", 5);
        task.case_id = accepted.case_id.clone();
        let created = self.app.create(task).await;
        (accepted.case_id, case.officer_id, created.task_id)
    }
}

fn get(task_id: &str) -> pb::GetTaskRequest {
    pb::GetTaskRequest { task_id: task_id.into() }
}

#[tokio::test]
async fn an_officer_reads_the_tasks_of_their_own_cases_only_and_follows_a_reassignment() {
    let w = spawn_with_intake().await;
    let (case_id, officer, task_id) = w.case_with_a_task().await;
    let other = if officer == "officer-001" { "officer-002" } else { "officer-001" };
    let as_officer = |sub: &str| w.app.client(Role::Officer, sub, None);

    let task = as_officer(&officer).get_task(get(&task_id)).await.expect("the case's officer reads its task");
    assert_eq!(task.into_inner().task.unwrap().case_id, case_id);
    let list = |sub: &str| {
        let mut c = as_officer(sub);
        let case_id = case_id.clone();
        async move { c.list_case_tasks(pb::ListCaseTasksRequest { case_id }).await.unwrap().into_inner().tasks }
    };
    assert_eq!(list(&officer).await.len(), 1);

    // Another officer: NOT_FOUND in the words of a random task, an empty list.
    let random = Uuid::now_v7().to_string();
    let hidden = as_officer(other).get_task(get(&task_id)).await.unwrap_err();
    let missing = as_officer(other).get_task(get(&random)).await.unwrap_err();
    assert_eq!((hidden.code(), missing.code()), (Code::NotFound, Code::NotFound), "{hidden:?}");
    assert_eq!(hidden.message().replace(&task_id, &random), missing.message());
    assert!(list(other).await.is_empty());

    // Reassigned: the new officer sees it, the former one no longer.
    w.intake_as(Role::Supervisor, "sup-001")
        .assign_officer(intake_pb::AssignOfficerRequest {
            idempotency_key: "reassign-1".into(),
            case_id: case_id.clone(),
            expected_version: 0,
            officer_id: other.into(),
            officer_name: "李娜".into(),
        })
        .await
        .expect("AssignOfficer");
    as_officer(other).get_task(get(&task_id)).await.expect("the new officer reads the task");
    assert_eq!(list(other).await.len(), 1);
    let err = as_officer(&officer).get_task(get(&task_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "the former officer no longer sees it");
    assert!(list(&officer).await.is_empty());
}

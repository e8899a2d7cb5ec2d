//! Officers read the plans of the cases assigned to them, as a real intake
//! service says (GetCase, asked with routing's own token) — and after a
//! reassignment, the new officer's, not the old one's. Another officer's
//! case is NOT_FOUND worded exactly like a case without a plan.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::Code;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::intake::v1 as intake_pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::routing::v1 as pb;
use yiciban_testkit::{ReservedPort, RunningService};

use crate::helpers::{TestApp, plan_restaurant, spawn_app_asking};

/// Routing and, on a reserved port, a real intake service on the same
/// database, NATS prefix and issuer (its hand-offs wait: port 9).
struct WithIntake {
    /// First, so that intake stops before the database goes.
    intake: RunningService<yiciban_intake::Intake>,
    app: TestApp,
}

async fn spawn_with_intake() -> WithIntake {
    let port = ReservedPort::new();
    let app = spawn_app_asking(Some(port.url())).await;
    let mut env: HashMap<String, String> = app.issuer.env().into_iter().collect();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), app._nats.subjects.prefix().to_owned());
    env.insert("YICIBAN_EXPIRY_SCAN".to_owned(), "1h".to_owned());
    env.insert("YICIBAN_ROUTING_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_TASKS_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    let mut config = yiciban_intake::IntakeConfig::from_source(&env).expect("intake config");
    config.common.grpc_listener = Some(port.listener());
    let intake = yiciban_testkit::spawn_service(yiciban_intake::build_with(
        config,
        Arc::new(app.clock.clone()),
        app.db.pool.clone(),
        app._nats.js.clone(),
    ))
    .await;
    WithIntake { intake, app }
}

impl WithIntake {
    fn intake_as(&self, role: Role, sub: &str) -> IntakeServiceClient<InterceptedService<Channel, ClientAuth>> {
        let token = self.app.issuer.token(role, sub, None, None);
        IntakeServiceClient::with_interceptor(self.intake.channel.clone(), ClientAuth::new(Some(&token)))
    }
}

#[tokio::test]
async fn an_officer_reads_the_plans_of_their_own_cases_only_and_follows_a_reassignment() {
    let w = spawn_with_intake().await;
    let accepted = w
        .intake_as(Role::Clerk, "clerk-001")
        .submit_application(yiciban_testkit::applications::newborn("newborn-1"))
        .await
        .expect("SubmitApplication")
        .into_inner();
    let case_id = accepted.case_id.clone();
    let officer = w
        .intake_as(Role::Clerk, "clerk-001")
        .get_case(intake_pb::GetCaseRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap()
        .officer_id;
    assert!(!officer.is_empty(), "intake assigns an officer at acceptance");
    let other = if officer == "officer-001" { "officer-002" } else { "officer-001" };
    w.app.service().plan_case(plan_restaurant(&case_id, "plan-1")).await.expect("PlanCase");
    let read = |sub: &str, case_id: &str| {
        let mut c = w.app.as_(Role::Officer, sub, None);
        let case_id = case_id.to_owned();
        async move { c.get_plan(pb::GetPlanRequest { case_id }).await }
    };

    let plan = read(&officer, &case_id).await.expect("the case's officer reads its plan");
    assert_eq!(plan.into_inner().plan.unwrap().case_id, case_id);
    let random = Uuid::now_v7().to_string();
    let hidden = read(other, &case_id).await.unwrap_err();
    let mut clerk = w.app.as_(Role::Clerk, "clerk-001", None);
    let missing = clerk.get_plan(pb::GetPlanRequest { case_id: random.clone() }).await.unwrap_err();
    assert_eq!((hidden.code(), missing.code()), (Code::NotFound, Code::NotFound), "{hidden:?}");
    assert_eq!(hidden.message().replace(&case_id, &random), missing.message());
    let unknown_to_them = read(other, &random).await.unwrap_err();
    assert_eq!((unknown_to_them.code(), unknown_to_them.message()), (Code::NotFound, missing.message()));

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
    read(other, &case_id).await.expect("the new officer reads the plan");
    assert_eq!(read(&officer, &case_id).await.unwrap_err().code(), Code::NotFound, "the former officer no longer");
}

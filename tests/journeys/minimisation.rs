//! Data minimisation for departments (issue 18, item 4): an agent reads the
//! application of a case through GetStepApplication and gets exactly the
//! personal data the catalog lists for the steps its department holds a
//! task of — in clear, recorded in the read log — and nothing of the
//! fields only other departments need; a department with no task in the
//! case is answered as for a case that does not exist.

use std::time::Duration;

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::read_log::purpose;
use yiciban_proto::audit::v1 as audit;
use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;
use yiciban_proto::intake::v1 as intake;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_testkit::applications::{MOTHER_ID, newborn};
use yiciban_testkit::eventually;

use crate::joint_processing::case_tasks;
use crate::stack::{Intake, Service, Stack};

const WAIT: Duration = Duration::from_secs(30);

fn agent_of(stack: &Stack, department: &str) -> Intake {
    let token = stack.token(Role::Agent, &format!("agent-{department}-1"), Some(department));
    IntakeServiceClient::with_interceptor(stack.channel(Service::Intake), ClientAuth::new(Some(&token)))
}

fn ask(case_id: &str) -> tonic::Request<intake::GetStepApplicationRequest> {
    purpose(intake::GetStepApplicationRequest { case_id: case_id.into() }, "出生医学证明签发审核")
}

#[tokio::test]
async fn each_department_reads_only_what_its_steps_list() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id =
        stack.intake(Role::Clerk, "clerk-001").submit_application(newborn("min-1")).await.unwrap().into_inner().case_id;
    eventually("the first tasks", WAIT, || async {
        let t = case_tasks(&stack, &case_id).await;
        (t.len() >= 2).then_some(())
    })
    .await;

    // s1, the birth certificate (health-maternity): the applicant and the
    // birth's facts, not the bank account nor the hukou address.
    let s1 = agent_of(&stack, "health-maternity").get_step_application(ask(&case_id)).await.unwrap().into_inner();
    assert_eq!(s1.step_ids, ["s1"]);
    let applicant = s1.applicant.unwrap();
    assert_eq!(applicant.id_number, MOTHER_ID, "listed: in clear");
    let form = s1.form_data.unwrap();
    assert!(form.fields.contains_key("newborn_name") && form.fields.contains_key("birth_hospital"));
    for other in ["bank_account", "hukou_address", "insured_address", "mobile_father"] {
        assert!(!form.fields.contains_key(other), "{other} is not health-maternity's");
    }
    assert!(s1.mail_address.is_none());
    assert!(s1.data_fields.contains(&"form.newborn_name".to_owned()));
    assert!(s1.case_number.starts_with("YCB-"));
    assert!(!s1.materials.is_empty());

    // s2, vaccination (cdc): no ID number.
    let s2 = agent_of(&stack, "cdc").get_step_application(ask(&case_id)).await.unwrap().into_inner();
    let applicant = s2.applicant.unwrap();
    assert_eq!(applicant.id_number, "", "cdc's step does not list the ID number");
    assert!(!applicant.name.is_empty());

    // The police hold no task yet (s3 waits for s1): not found, as a case
    // that does not exist; so is a case that does not exist.
    let police = agent_of(&stack, "police-hukou").get_step_application(ask(&case_id)).await.unwrap_err();
    assert_eq!((police.code(), police.message().to_owned()), (Code::NotFound, format!("case {case_id} not found")));
    let random = uuid::Uuid::now_v7().to_string();
    let missing = agent_of(&stack, "cdc").get_step_application(ask(&random)).await.unwrap_err();
    assert_eq!((missing.code(), missing.message().to_owned()), (Code::NotFound, format!("case {random} not found")));
    // Only agents ask it.
    let clerk = stack.intake(Role::Clerk, "clerk-001").get_step_application(ask(&case_id)).await.unwrap_err();
    assert_eq!(clerk.code(), Code::PermissionDenied);

    // Both reads are in the read log, with what was shown and why.
    let token = stack.token(Role::Supervisor, "sup-001", None);
    let mut log = AuditServiceClient::with_interceptor(stack.channel(Service::Intake), ClientAuth::new(Some(&token)));
    let reads = log
        .list_personal_data_reads(audit::ListPersonalDataReadsRequest {
            case_id: case_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reads;
    let by: Vec<(&str, &str)> = reads.iter().map(|r| (r.caller.as_str(), r.department.as_str())).collect();
    assert_eq!(by, [("agent-cdc-1", "cdc"), ("agent-health-maternity-1", "health-maternity")]);
    assert!(reads.iter().all(|r| r.purpose == "出生医学证明签发审核" && r.purpose_stated));
    assert!(reads[1].fields.contains(&"applicant.id_number".to_owned()));
    assert!(!reads[0].fields.contains(&"applicant.id_number".to_owned()));
}

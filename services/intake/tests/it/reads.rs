//! The personal-data read log over gRPC: every GetCase answered in clear is
//! recorded (who, which case, which fields, why) before it is sent, and
//! supervisors read the log through the AuditService; masked answers and
//! answers asked without personal data are not reads; a read that cannot be
//! recorded is not answered.

use tonic::Code;
use tonic::metadata::MetadataValue;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::read_log::{PURPOSE_HEADER, purpose};
use yiciban_proto::audit::v1 as audit;
use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::{MOTHER_ID, newborn};
use crate::helpers::{TestApp, spawn_app};

fn get(case_id: &str) -> pb::GetCaseRequest {
    pb::GetCaseRequest { case_id: case_id.into(), ..Default::default() }
}

async fn reads(
    app: &TestApp,
    role: Role,
    request: audit::ListPersonalDataReadsRequest,
) -> Result<audit::ListPersonalDataReadsResponse, tonic::Status> {
    let identity = (role == Role::Applicant).then_some(MOTHER_ID);
    let token = app.token(role, &format!("{}-007", role.as_str()), None, identity);
    let mut client = AuditServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    client.list_personal_data_reads(request).await.map(|r| r.into_inner())
}

async fn all_reads(app: &TestApp) -> Vec<audit::PersonalDataRead> {
    reads(app, Role::Supervisor, Default::default()).await.unwrap().reads
}

async fn submitted(app: &TestApp) -> String {
    app.clerk().submit_application(newborn("reads-1")).await.unwrap().into_inner().case_id
}

#[tokio::test]
async fn a_read_in_clear_is_recorded_with_who_what_and_why_before_it_is_answered() {
    let app = spawn_app().await;
    let case_id = submitted(&app).await;
    assert!(all_reads(&app).await.is_empty(), "submitting is not a read");

    let case = app.clerk().get_case(purpose(get(&case_id), "核对申请人身份")).await.unwrap().into_inner();
    assert_eq!(case.case.unwrap().applicant.unwrap().id_number, MOTHER_ID);
    let mother = app.intake_as(&app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID)));
    mother.clone().get_case(get(&case_id)).await.unwrap();

    let log = all_reads(&app).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (own, clerk) = (&log[0], &log[1]);
    assert_eq!(
        (clerk.service.as_str(), clerk.method.as_str(), clerk.caller.as_str(), clerk.role.as_str()),
        ("intake", "/yiciban.intake.v1.IntakeService/GetCase", "clerk-001", "clerk")
    );
    assert_eq!(clerk.case_id, case_id);
    assert!(
        clerk.fields.contains(&"applicant".to_owned()) && clerk.fields.contains(&"form_data".to_owned()),
        "{clerk:?}"
    );
    assert_eq!((clerk.purpose.as_str(), clerk.purpose_stated), ("核对申请人身份", true));
    assert_eq!((own.caller.as_str(), own.role.as_str(), own.purpose_stated), ("citizen-1", "applicant", false));
    assert_eq!(own.purpose, "办件查看 (GetCase)");
    // Nothing of the person in the log itself.
    assert!(!format!("{log:?}").contains(MOTHER_ID));
}

#[tokio::test]
async fn masked_answers_and_answers_without_personal_data_are_not_reads() {
    let app = spawn_app().await;
    let case_id = submitted(&app).await;
    let supervisor = app.intake_as(&app.token(Role::Supervisor, "supervisor-1", None, None));
    let masked = supervisor.clone().get_case(get(&case_id)).await.unwrap().into_inner().case.unwrap();
    assert_ne!(masked.applicant.unwrap().id_number, MOTHER_ID);
    let request = pb::GetCaseRequest { case_id: case_id.clone(), without_personal_data: true };
    let facts = app.clerk().get_case(request).await.unwrap().into_inner().case.unwrap();
    assert_ne!(facts.applicant.unwrap().id_number, MOTHER_ID, "asked without personal data: masked");
    assert!(facts.form_data.is_none());
    assert!(all_reads(&app).await.is_empty());
}

#[tokio::test]
async fn a_bad_purpose_is_refused_and_nothing_is_shown_or_recorded() {
    let app = spawn_app().await;
    let case_id = submitted(&app).await;
    for bad in [&b"   "[..], &[0xc3, 0x28][..], "为".repeat(201).as_bytes(), &b"a\tb"[..]] {
        let mut request = tonic::Request::new(get(&case_id));
        request.metadata_mut().insert_bin(PURPOSE_HEADER, MetadataValue::from_bytes(bad));
        let status = app.clerk().get_case(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().starts_with(PURPOSE_HEADER), "{}", status.message());
    }
    assert!(all_reads(&app).await.is_empty());
}

#[tokio::test]
async fn a_read_that_cannot_be_recorded_is_not_answered() {
    let app = spawn_app().await;
    let case_id = submitted(&app).await;
    sqlx::query("ALTER TABLE intake.personal_data_reads RENAME TO personal_data_reads_away")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let status = app.clerk().get_case(get(&case_id)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("could not be recorded"), "{}", status.message());
    assert!(!status.message().contains(MOTHER_ID));
    // A masked answer is no read and is still given.
    let supervisor = app.intake_as(&app.token(Role::Supervisor, "supervisor-1", None, None));
    supervisor.clone().get_case(get(&case_id)).await.unwrap();
}

#[tokio::test]
async fn only_supervisors_and_admins_read_the_log_filtered_and_in_pages() {
    let app = spawn_app().await;
    let first = submitted(&app).await;
    let second = app.clerk().submit_application(newborn("reads-2")).await.unwrap().into_inner().case_id;
    for case in [&first, &second, &first] {
        app.clerk().get_case(get(case)).await.unwrap();
    }
    let mother = app.intake_as(&app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID)));
    mother.clone().get_case(get(&second)).await.unwrap();

    for role in [Role::Clerk, Role::Officer, Role::Applicant] {
        let status = reads(&app, role, Default::default()).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role:?}");
    }
    let admin = reads(&app, Role::Admin, Default::default()).await.unwrap();
    assert_eq!(admin.reads.len(), 4);

    let of_first = audit::ListPersonalDataReadsRequest { case_id: first.clone(), ..Default::default() };
    assert_eq!(reads(&app, Role::Supervisor, of_first).await.unwrap().reads.len(), 2);
    let by_mother = audit::ListPersonalDataReadsRequest { caller: "citizen-1".into(), ..Default::default() };
    let by_mother = reads(&app, Role::Supervisor, by_mother).await.unwrap().reads;
    assert_eq!((by_mother.len(), by_mother[0].case_id.as_str()), (1, second.as_str()));

    // Pages of three then one, newest first, none twice.
    let page = audit::ListPersonalDataReadsRequest { page_size: 3, ..Default::default() };
    let one = reads(&app, Role::Supervisor, page.clone()).await.unwrap();
    assert_eq!(one.reads.len(), 3);
    assert!(!one.next_page_token.is_empty());
    let next = audit::ListPersonalDataReadsRequest { page_token: one.next_page_token, ..page };
    let two = reads(&app, Role::Supervisor, next).await.unwrap();
    assert_eq!((two.reads.len(), two.next_page_token.as_str()), (1, ""));
    assert_eq!(two.reads[0].caller, "clerk-001");
    assert_eq!(two.reads[0].case_id, first, "the oldest read comes last");

    for bad in [
        audit::ListPersonalDataReadsRequest { page_size: 501, ..Default::default() },
        audit::ListPersonalDataReadsRequest { page_token: "x".into(), ..Default::default() },
    ] {
        assert_eq!(reads(&app, Role::Supervisor, bad).await.unwrap_err().code(), Code::InvalidArgument);
    }
}

//! 办件备注 (ADR 0034): clerks, the case's officer and supervisors add short
//! notes, read back oldest first with author and time; an agent is refused,
//! another officer's case reads as missing, bad text is refused with its
//! field and nothing kept; a retry returns the same note; every read of the
//! texts is recorded; the notes are sealed under the applicant's key, so an
//! erasure leaves them unreadable (and no new note is taken).

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::status::violations_of;
use yiciban_proto::audit::v1 as audit;
use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::newborn;
use crate::helpers::{TestApp, spawn_app};
use crate::privacy::privacy_as;

fn note(key: &str, case_id: &str, text: &str) -> pb::AddCaseNoteRequest {
    pb::AddCaseNoteRequest { idempotency_key: key.into(), case_id: case_id.into(), text: text.into() }
}

async fn notes_of(app: &TestApp, case_id: &str) -> Vec<pb::CaseNote> {
    let token = app.token(Role::Supervisor, "sup-001", None, None);
    let request = pb::ListCaseNotesRequest { case_id: case_id.into() };
    app.intake_as(&token).list_case_notes(request).await.unwrap().into_inner().notes
}

async fn note_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM intake.case_notes").fetch_one(&app.db.pool).await.unwrap()
}

#[tokio::test]
async fn staff_add_notes_read_back_in_order_and_an_agent_or_another_officer_may_not() {
    let app = spawn_app().await;
    let case_id = app.clerk().submit_application(newborn("notes-1")).await.unwrap().into_inner().case_id;

    let clerk = app.clerk();
    let first = clerk.clone().add_case_note(note("n1", &case_id, "申请人来电：下周一补交\n原件")).await.unwrap();
    let first = first.into_inner().note.unwrap();
    let again = clerk.clone().add_case_note(note("n1", &case_id, "申请人来电：下周一补交\n原件")).await.unwrap();
    assert_eq!(again.into_inner().note.unwrap().note_id, first.note_id, "a retry returns the note");
    let err = clerk.clone().add_case_note(note("n1", &case_id, "另一条")).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    let officer = app.intake_as(&app.token(Role::Officer, "officer-001", None, None));
    officer.clone().add_case_note(note("n2", &case_id, "已与卫健委沟通")).await.unwrap();

    let listed = notes_of(&app, &case_id).await;
    let seen: Vec<_> =
        listed.iter().map(|n| (n.author.as_ref().unwrap().subject.as_str(), n.text.as_str(), n.erased)).collect();
    assert_eq!(seen, [("clerk-001", "申请人来电：下周一补交\n原件", false), ("officer-001", "已与卫健委沟通", false)]);
    assert!(listed.iter().all(|n| n.written_at.is_some()));

    // The read of the texts is recorded.
    let token = app.token(Role::Supervisor, "sup-001", None, None);
    let mut audit = AuditServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    let reads = audit.list_personal_data_reads(audit::ListPersonalDataReadsRequest::default()).await.unwrap();
    let reads = reads.into_inner().reads;
    assert!(
        reads.iter().any(|r| r.method.ends_with("/ListCaseNotes") && r.case_id == case_id && r.fields == ["notes"]),
        "{reads:?}"
    );

    // Refused: an agent (role), another officer (the case reads as missing).
    let before = note_count(&app).await;
    let agent = app.intake_as(&app.token(Role::Agent, "agent-cdc-1", Some("cdc"), None));
    let err = agent.clone().add_case_note(note("n3", &case_id, "部门备注")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = agent.clone().list_case_notes(pb::ListCaseNotesRequest { case_id: case_id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let other = app.intake_as(&app.token(Role::Officer, "officer-002", None, None));
    let err = other.clone().add_case_note(note("n4", &case_id, "别人的办件")).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {case_id} not found").as_str()));
    let unknown = uuid::Uuid::now_v7().to_string();
    let err = clerk.clone().add_case_note(note("n5", &unknown, "没有的办件")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(note_count(&app).await, before, "nothing kept");
}

#[tokio::test]
async fn a_blank_long_or_control_character_note_is_refused_with_its_field_and_nothing_kept() {
    let app = spawn_app().await;
    let case_id = app.clerk().submit_application(newborn("notes-2")).await.unwrap().into_inner().case_id;
    for (i, bad) in ["   ".to_owned(), "字".repeat(1001), "响铃\u{7}".to_owned()].into_iter().enumerate() {
        let err = app.clerk().add_case_note(note(&format!("bad-{i}"), &case_id, &bad)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert_eq!(violations_of(&err).into_iter().map(|v| v.field).collect::<Vec<_>>(), ["text"]);
    }
    assert_eq!(note_count(&app).await, 0);
    let err = app.clerk().add_case_note(note("bad-id", "nope", "备注")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_erasure_leaves_the_notes_unreadable_and_takes_no_new_one() {
    let app = spawn_app().await;
    let case_id = app.clerk().submit_application(newborn("notes-3")).await.unwrap().into_inner().case_id;
    app.clerk().add_case_note(note("e1", &case_id, "申请人手机 13800000000 可联系")).await.unwrap();
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT sealed_text FROM intake.case_notes").fetch_one(&app.db.pool).await.unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("13800000000"), "sealed, never in clear");

    privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: case_id.clone(),
            id_number: String::new(),
            reason: "个人信息删除申请".into(),
        })
        .await
        .unwrap();
    let listed = notes_of(&app, &case_id).await;
    assert_eq!(listed.len(), 1, "who and when stay");
    assert!(listed[0].erased && listed[0].text.is_empty(), "{listed:?}");
    let err = app.clerk().add_case_note(note("e2", &case_id, "再记一条")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

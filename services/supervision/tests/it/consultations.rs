//! Consultations: recorded in one call, counted for the package's lead
//! department (else the recorder's), linked later to their case, listed
//! (clerks see their own), refused with every bad field and nothing
//! recorded, the asker's contact sealed (never in clear in the database).

use tonic::Code;
use uuid::Uuid;
use yiciban_platform::Role;
use yiciban_proto::supervision::v1 as pb;

use crate::helpers::*;

fn consultation(package: &str) -> pb::RecordConsultationRequest {
    pb::RecordConsultationRequest {
        idempotency_key: key(),
        channel: pb::ConsultationChannel::Hotline12345 as i32,
        package_id: package.into(),
        question: "新生儿落户需要带什么材料？".into(),
        answer: "出生医学证明、父母户口簿和身份证。".into(),
        contact: Some(pb::Contact { name: "王小明".into(), phone: "13912345678".into() }),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_consultation_is_recorded_for_the_packages_lead_department_and_linked_later() {
    let app = spawn_app().await;
    let request = consultation("newborn");
    let first = app.clerk().record_consultation(request.clone()).await.unwrap().into_inner().consultation.unwrap();
    assert_eq!((first.department.as_str(), first.recorder.as_str()), ("health", "clerk-001"));
    assert!(first.contact_kept && !first.became_application);
    // The same key again: the first answer, nothing new.
    let again = app.clerk().record_consultation(request).await.unwrap().into_inner().consultation.unwrap();
    assert_eq!(again.consultation_id, first.consultation_id);
    assert_eq!(app.count("consultations").await, 1);

    // Without a package: the recorder's department.
    let mut plain = consultation("");
    plain.contact = None;
    let c = app.officer().record_consultation(plain).await.unwrap().into_inner().consultation.unwrap();
    assert_eq!((c.department.as_str(), c.contact_kept), ("zwfw", false));

    let case = Uuid::now_v7().to_string();
    let link = pb::LinkConsultationToCaseRequest {
        idempotency_key: key(),
        consultation_id: first.consultation_id.clone(),
        case_id: case.clone(),
    };
    app.clock.advance(chrono::Duration::hours(2));
    let linked = app.clerk().link_consultation_to_case(link).await.unwrap().into_inner().consultation.unwrap();
    assert!(linked.became_application && linked.case_id == case);
    // Linked two hours later, it still reads as recorded when it was, in the
    // list as in the answer.
    assert_eq!(linked.recorded_at, first.recorded_at);
    let listed = app.supervisor().list_consultations(pb::ListConsultationsRequest::default()).await.unwrap();
    let listed = listed.into_inner().consultations;
    let listed = listed.iter().find(|c| c.consultation_id == first.consultation_id).unwrap();
    assert_eq!((listed.recorded_at, listed.became_application), (first.recorded_at, true));
    let elsewhere = pb::LinkConsultationToCaseRequest {
        idempotency_key: key(),
        consultation_id: first.consultation_id.clone(),
        case_id: Uuid::now_v7().to_string(),
    };
    let err = app.clerk().link_consultation_to_case(elsewhere).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_malformed_consultation_names_every_field_and_records_nothing() {
    let app = spawn_app().await;
    let bad = pb::RecordConsultationRequest {
        idempotency_key: key(),
        channel: 0,
        package_id: "no-such-package".into(),
        question: " ".into(),
        answer: "答".repeat(1001),
        contact: Some(pb::Contact { name: String::new(), phone: "call me".into() }),
        became_application: false,
        case_id: "not-a-uuid".into(),
    };
    let err = app.clerk().record_consultation(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), ["case_id", "contact.phone", "package_id", "channel", "question", "answer"]);
    assert!(!err.message().contains("call me"));
    assert_eq!((app.count("consultations").await, app.count("contacts").await, app.count("events").await), (0, 0, 0));
}

#[tokio::test]
async fn only_clerks_and_officers_record_consultations_and_they_list_their_own() {
    let app = spawn_app().await;
    for client in [app.supervisor(), app.agent("samr"), app.applicant()] {
        let err = client.clone().record_consultation(consultation("newborn")).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    assert_eq!(app.count("consultations").await, 0);
    app.clerk().record_consultation(consultation("newborn")).await.unwrap();
    app.client(Role::Clerk, "clerk-002", Some("zwfw"))
        .record_consultation(consultation("open-restaurant"))
        .await
        .unwrap();

    let mine = app.clerk().list_consultations(pb::ListConsultationsRequest::default()).await.unwrap().into_inner();
    assert_eq!((mine.total, mine.consultations[0].recorder.as_str()), (1, "clerk-001"));
    let all = app.supervisor().list_consultations(pb::ListConsultationsRequest::default()).await.unwrap().into_inner();
    assert_eq!(all.total, 2);
    let samr = pb::ListConsultationsRequest { department: "samr".into(), ..Default::default() };
    let samr = app.supervisor().list_consultations(samr).await.unwrap().into_inner();
    assert_eq!((samr.total, samr.consultations[0].package_id.as_str()), (1, "open-restaurant"));
    let paged = pb::ListConsultationsRequest { page_size: 1, ..Default::default() };
    let page = app.supervisor().list_consultations(paged).await.unwrap().into_inner();
    assert_eq!((page.consultations.len(), page.next_page_token.as_str()), (1, "1"));
    let bad = pb::ListConsultationsRequest { page_size: 500, page_token: "x".into(), ..Default::default() };
    let err = app.supervisor().list_consultations(bad).await.unwrap_err();
    assert_eq!(fields(&err), ["page_size", "page_token"]);
    let today = pb::ListConsultationsRequest { today: true, ..Default::default() };
    assert_eq!(app.supervisor().list_consultations(today.clone()).await.unwrap().into_inner().total, 2);
    app.clock.set(cst("2026-10-16T09:00"));
    assert_eq!(app.supervisor().list_consultations(today).await.unwrap().into_inner().total, 0);
    let err = app.agent("samr").list_consultations(pb::ListConsultationsRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_askers_contact_is_sealed_and_never_in_clear_in_the_database() {
    let app = spawn_app().await;
    app.clerk().record_consultation(consultation("newborn")).await.unwrap();
    assert_eq!(app.count("contacts").await, 1);
    // The check can fail: the question is found in clear where it is kept.
    assert!(app.holds_in_clear("新生儿落户").await);
    for personal in ["王小明", "13912345678"] {
        assert!(!app.holds_in_clear(personal).await, "{personal} in clear");
    }
    let listed = app.supervisor().list_consultations(pb::ListConsultationsRequest::default()).await.unwrap();
    assert!(!format!("{:?}", listed.into_inner()).contains("13912345678"));
}

#[tokio::test]
async fn counts_of_a_month_go_by_department_package_and_person() {
    let app = spawn_app().await;
    app.clerk().record_consultation(consultation("newborn")).await.unwrap();
    let mut applied = consultation("newborn");
    applied.became_application = true;
    app.clerk().record_consultation(applied).await.unwrap();
    app.officer().record_consultation(consultation("open-restaurant")).await.unwrap();
    app.opinion(pb::OpinionKind::Complaint, "samr").await;
    app.opinion(pb::OpinionKind::Suggestion, "samr").await;

    let month = pb::CountSupervisionRequest { month: "2026-10".into() };
    let counts = app.supervisor().count_supervision(month).await.unwrap().into_inner();
    let line = |lines: &[pb::SupervisionCount], key: &str| lines.iter().find(|l| l.key == key).cloned().unwrap();
    let health = line(&counts.by_department, "health");
    assert_eq!((health.consultations, health.became_applications, health.opinions), (2, 1, 0));
    let samr = line(&counts.by_department, "samr");
    assert_eq!((samr.consultations, samr.opinions, samr.complaints), (1, 2, 1));
    assert_eq!(line(&counts.by_package, "newborn").consultations, 2);
    assert_eq!(line(&counts.by_person, "clerk-001").consultations, 2);
    assert_eq!(line(&counts.by_person, "officer-001").consultations, 1);

    let other = app.supervisor().count_supervision(pb::CountSupervisionRequest { month: "2026-11".into() }).await;
    assert!(other.unwrap().into_inner().by_department.is_empty());
    let err = app.supervisor().count_supervision(pb::CountSupervisionRequest { month: "2026-13".into() }).await;
    assert_eq!(fields(&err.unwrap_err()), ["month"]);
    let err = app.clerk().count_supervision(pb::CountSupervisionRequest { month: "2026-10".into() }).await;
    assert_eq!(err.unwrap_err().code(), Code::PermissionDenied);
}

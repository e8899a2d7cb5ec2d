//! Personal data sealed in the ledger and erasable (ADR 0024): the marked
//! values of an application are in no stored event and no message on NATS,
//! a clerk still reads them through GetCase, an erasure leaves nothing of the
//! person readable anywhere while the case's facts stay, events written in
//! clear before sealing still read, and a wrong key-encryption key opens
//! nothing.

use std::time::Duration;

use prost::Message as _;
use tonic::Code;
use yiciban_commands::EventCodec as _;
use yiciban_intake::commands::IntakeCodec;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::status::violations_of;
use yiciban_privacy::{Algorithm, DataKeys, FileKeys, PrivacyError};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;
use yiciban_proto::sealed::{Opening, open_submitted};
use yiciban_testkit::eventually;

use crate::fixtures::{COMPANY_USCC, FATHER_ID, MOTHER_ID, newborn, restaurant};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::retention::closed_with_scans;

/// The marked personal values of the mother's application by mail.
pub(crate) const MARKED: [&str; 7] =
    [MOTHER_ID, FATHER_ID, "王丽", "13800000000", "张小宝", "某街道1号", "钢铁大街88号3单元"];

pub(crate) type Privacy =
    PrivacyServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, ClientAuth>>;

pub(crate) fn privacy_as(app: &TestApp, role: Role) -> Privacy {
    let token = app.token(role, &format!("{}-001", role.as_str()), None, None);
    PrivacyServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)))
}

/// The mother's application, results by mail.
pub(crate) fn by_mail(key: &str) -> pb::SubmitApplicationRequest {
    let mut req = newborn(key);
    req.delivery = Some(common::DeliveryPreference {
        method: common::DeliveryMethod::Mail as i32,
        mail_address: Some(common::PostalAddress {
            recipient_name: "王丽".into(),
            recipient_phone: "13800000000".into(),
            province: "内蒙古自治区".into(),
            city: "包头市".into(),
            district: "昆都仑区".into(),
            address_line: "钢铁大街88号3单元".into(),
            postal_code: "014010".into(),
        }),
        pickup_hall: String::new(),
    });
    req
}

/// Every stored event's payload.
pub(crate) async fn stored_payloads(app: &TestApp) -> Vec<Vec<u8>> {
    sqlx::query_scalar("SELECT payload FROM intake.events ORDER BY position").fetch_all(&app.db.pool).await.unwrap()
}

/// Every message of the case-event stream, as JetStream holds it, once
/// `count` are there.
pub(crate) async fn stream_messages(app: &TestApp, count: u64) -> Vec<Vec<u8>> {
    let name = app.nats.subjects.stream_name();
    eventually("the events on JetStream", Duration::from_secs(20), || async {
        let mut stream = app.nats.js.get_stream(&name).await.ok()?;
        (stream.info().await.ok()?.state.messages >= count).then_some(())
    })
    .await;
    let stream = app.nats.js.get_stream(&name).await.unwrap();
    let mut messages = Vec::new();
    for seq in 1..=count {
        messages.push(stream.get_raw_message(seq).await.unwrap().payload.to_vec());
    }
    messages
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The marked values found in `bytes`.
pub(crate) fn marked_in(bytes: &[Vec<u8>]) -> Vec<&'static str> {
    MARKED.into_iter().filter(|v| bytes.iter().any(|b| contains(b, v))).collect()
}

pub(crate) async fn case(app: &TestApp, case_id: &str) -> pb::Case {
    app.clerk()
        .get_case(pb::GetCaseRequest { case_id: case_id.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap()
}

#[tokio::test]
async fn personal_data_is_in_no_stored_event_and_no_message_yet_a_clerk_reads_it_in_clear() {
    let app = spawn_app().await;
    let submitted = app.clerk().submit_application(by_mail("k1")).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), pb::AcceptanceDecision::Accepted, "{submitted:?}");

    let stored = stored_payloads(&app).await;
    assert_eq!(stored.len(), 3, "submitted, accepted, officer assigned");
    assert_eq!(marked_in(&stored), Vec::<&str>::new(), "no marked value in the events table");
    assert_eq!(marked_in(&stream_messages(&app, 3).await), Vec::<&str>::new(), "no marked value on NATS");

    // The event holds the sealed part, its subject and the applicant's kind.
    let first = ev::ApplicationSubmitted::decode(stored[0].as_slice()).unwrap();
    assert!(first.applicant.is_none() && first.form_data.is_none());
    assert!(first.delivery.as_ref().unwrap().mail_address.is_none());
    assert_eq!(first.delivery.as_ref().unwrap().method, common::DeliveryMethod::Mail as i32);
    assert_eq!(first.applicant_kind, common::ApplicantKind::Person as i32);
    assert_eq!(first.data_subject, app.intake.identity_key.lookup(MOTHER_ID));
    assert!(first.sealed_personal_data.len() > 200);
    // The data key is stored wrapped, one per applicant.
    let (keys, algorithm): (i64, String) =
        sqlx::query_as("SELECT count(*), min(algorithm) FROM intake.data_keys WHERE wrapped IS NOT NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((keys, algorithm.as_str()), (1, "aes-256-gcm"));

    let case = case(&app, &submitted.case_id).await;
    let applicant = case.applicant.unwrap();
    assert_eq!((applicant.name.as_str(), applicant.id_number.as_str()), ("王丽", MOTHER_ID));
    assert_eq!(
        case.form_data.unwrap().fields["newborn_name"].kind,
        Some(prost_types::value::Kind::StringValue("张小宝".into()))
    );
    assert_eq!(case.delivery.unwrap().mail_address.unwrap().address_line, "钢铁大街88号3单元");
    assert!(!case.personal_data_erased);
}

#[tokio::test]
async fn sm4_gcm_seals_where_configured() {
    let app = spawn_app_with(&[("YICIBAN_DATA_CIPHER", "sm4-gcm")]).await;
    let submitted = app.clerk().submit_application(newborn("k1")).await.unwrap().into_inner();
    let algorithm: String =
        sqlx::query_scalar("SELECT algorithm FROM intake.data_keys").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(algorithm, "sm4-gcm");
    let first = ev::ApplicationSubmitted::decode(stored_payloads(&app).await[0].as_slice()).unwrap();
    assert_eq!(first.sealed_personal_data[1], 2, "the sealed value names SM4-GCM");
    assert_eq!(case(&app, &submitted.case_id).await.applicant.unwrap().name, "王丽");
}

/// Uploads `content` as the clerk; the reference to it.
async fn upload(app: &TestApp, content: &[u8]) -> common::MaterialRef {
    let request = pb::UploadMaterialRequest {
        file_name: "form.pdf".into(),
        content_type: "application/pdf".into(),
        content: content.to_vec(),
        sha256_hex: String::new(),
    };
    app.clerk().upload_material(request).await.unwrap().into_inner().material.unwrap()
}

#[tokio::test]
async fn an_erasure_leaves_nothing_of_the_person_readable_and_keeps_every_fact_of_the_cases() {
    let app = spawn_app().await;
    let own = upload(&app, b"%PDF-1.4 the mother's birth certificate form").await;
    let shared = upload(&app, b"%PDF-1.4 a blank form many hand in").await;
    let mut first = by_mail("k1");
    first.materials = vec![common::MaterialRef { material_id: "m_birth_cert_form".into(), ..own.clone() }];
    let first = app.clerk().submit_application(first).await.unwrap().into_inner();
    let mut second = newborn("k2");
    second.materials = vec![common::MaterialRef { material_id: "m_birth_cert_form".into(), ..shared.clone() }];
    let second = app.clerk().submit_application(second).await.unwrap().into_inner();
    // Another applicant's case refers to the shared content.
    let mut company = restaurant("k3", &["m_site_layout"]);
    company.materials.push(common::MaterialRef { material_id: "m_site_layout".into(), ..shared.clone() });
    let company = app.clerk().submit_application(company).await.unwrap().into_inner();
    assert_eq!(company.decision(), pb::AcceptanceDecision::Accepted, "{company:?}");
    let before = case(&app, &first.case_id).await;
    let events_before = app.event_count().await;

    let done = privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: first.case_id.clone(),
            id_number: String::new(),
            reason: "个人信息删除申请 2026-118".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(done.erased_now);
    let mut both = vec![first.case_id.clone(), second.case_id.clone()];
    both.sort();
    assert_eq!(done.case_ids, both, "every case of the person");
    assert_eq!(done.cases_marked.len(), 2);
    assert_eq!(done.materials_deleted, 1, "the person's own content; the shared one is kept");
    assert_eq!(app.blob_count().await, 1);
    assert_eq!(app.event_count().await, events_before + 2, "one PersonalDataErased per case");

    // GetCase: no personal data, says so, and every fact stays.
    let after = case(&app, &first.case_id).await;
    assert!(after.personal_data_erased);
    assert!(after.applicant.is_none() && after.form_data.is_none() && after.delivery.is_none());
    assert_eq!(
        (after.case_number.as_str(), after.status, after.decision),
        (before.case_number.as_str(), before.status, before.decision)
    );
    assert_eq!(
        (after.accepted_on, after.promised_by, after.promised_working_days),
        (before.accepted_on, before.promised_by, before.promised_working_days)
    );
    assert_eq!((after.item_codes, after.officer_id), (before.item_codes, before.officer_id));
    assert!(case(&app, &second.case_id).await.personal_data_erased);
    assert_eq!(case(&app, &company.case_id).await.applicant.unwrap().id_number, COMPANY_USCC, "others untouched");

    // The ledger and NATS (re-read) hold the sealed part, which no longer
    // opens: its key is gone.
    let stored = stored_payloads(&app).await;
    assert_eq!(marked_in(&stored), Vec::<&str>::new());
    let messages = stream_messages(&app, events_before as u64 + 2).await;
    assert_eq!(marked_in(&messages), Vec::<&str>::new());
    let sealed = ev::ApplicationSubmitted::decode(stored[0].as_slice()).unwrap();
    let keys = &app.intake.applications.codec().data_keys;
    assert!(keys.find(&sealed.data_subject).await.unwrap().is_none());
    assert!(open_submitted(&sealed, Opening::NoKey).is_err());
    let erased_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.events WHERE event_type = 'PersonalDataErased'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(erased_events, 2);

    // Again: nothing new, recorded once.
    let again = privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: String::new(),
            id_number: MOTHER_ID.into(),
            reason: "again".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.erased_now && again.cases_marked.is_empty() && again.materials_deleted == 0);
    assert_eq!(app.event_count().await, events_before + 2);
    let list = privacy_as(&app, Role::Admin).list_erasures(pb::ListErasuresRequest { limit: 0 }).await.unwrap();
    let list = list.into_inner().erasures;
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].erased_by.as_str(), list[0].reason.as_str()), ("admin-001", "个人信息删除申请 2026-118"));
    assert_eq!(list[0].case_ids, both);

    // The same person applying again: sealed under a new key generation,
    // readable, while the erased cases stay erased.
    let again = app.clerk().submit_application(newborn("k4")).await.unwrap().into_inner();
    assert_eq!(again.decision(), pb::AcceptanceDecision::Accepted, "{again:?}");
    let fresh = case(&app, &again.case_id).await;
    assert!(!fresh.personal_data_erased);
    assert_eq!(fresh.applicant.unwrap().id_number, MOTHER_ID);
    assert!(case(&app, &first.case_id).await.applicant.is_none(), "the erased case stays erased");
    let stored = stored_payloads(&app).await;
    let generations: Vec<u32> = stored
        .iter()
        .filter_map(|p| ev::ApplicationSubmitted::decode(p.as_slice()).ok())
        .filter(|e| e.data_subject == sealed.data_subject)
        .map(|e| e.data_key_generation)
        .collect();
    assert_eq!(generations, vec![0, 0, 1], "two cases under the first key, the new one under the second");
    assert_eq!(marked_in(&stored), Vec::<&str>::new());

    // A second erasure erases the new generation too.
    let second_erasure = privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: again.case_id.clone(),
            id_number: String::new(),
            reason: "个人信息删除申请 2026-240".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(second_erasure.erased_now);
    assert_eq!(second_erasure.cases_marked, vec![again.case_id.clone()], "only the case not erased before");
    let read = case(&app, &again.case_id).await;
    assert!(read.personal_data_erased && read.applicant.is_none());
}

#[tokio::test]
async fn the_windows_scans_go_with_the_applicant_and_at_once_when_told_after_the_erasure() {
    let app = spawn_app().await;
    let receipt = upload(&app, b"%PDF-1.4 signed receipt of the mother's batch").await.sha256_hex;
    let attorney = upload(&app, b"%PDF-1.4 the mother's power of attorney").await.sha256_hex;
    let shared = upload(&app, b"%PDF-1.4 a scan another case refers to as well").await.sha256_hex;
    let late = upload(&app, b"%PDF-1.4 a receipt told after the erasure").await.sha256_hex;
    let closed = app.clerk().submit_application(newborn("w1")).await.unwrap().into_inner().case_id;
    let open = app.clerk().submit_application(newborn("w2")).await.unwrap().into_inner().case_id;
    let company = app.clerk().submit_application(restaurant("w3", &[])).await.unwrap().into_inner();
    assert_eq!(company.decision(), pb::AcceptanceDecision::Accepted, "{company:?}");
    let on = common::Date { year: 2026, month: 3, day: 20 };
    closed_with_scans(&app, &closed, on, &[&receipt, &attorney, &shared]).await.unwrap();
    closed_with_scans(&app, &company.case_id, on, &[&shared]).await.unwrap();
    assert_eq!(app.blob_count().await, 4);

    let done = privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: closed.clone(),
            id_number: String::new(),
            reason: "个人信息删除申请 2026-302".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.materials_deleted, 2, "the receipt and the power of attorney; the shared scan is kept");
    let left: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM intake.material_blobs ORDER BY sha256")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    let mut expected = vec![shared.clone(), late.clone()];
    expected.sort();
    assert_eq!(left, expected);

    // The open case of the erased person closes later: its scan goes at once.
    closed_with_scans(&app, &open, on, &[&late]).await.unwrap();
    let left: Vec<String> =
        sqlx::query_scalar("SELECT sha256 FROM intake.material_blobs").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(left, vec![shared]);
}

#[tokio::test]
async fn bad_erasure_requests_are_refused_with_a_clear_status_and_change_nothing() {
    let app = spawn_app().await;
    let submitted = app.clerk().submit_application(newborn("k1")).await.unwrap().into_inner();
    let events = app.event_count().await;
    let request = |case_id: &str, id_number: &str, reason: &str| pb::ErasePersonalDataRequest {
        case_id: case_id.into(),
        id_number: id_number.into(),
        reason: reason.into(),
    };
    for role in [Role::Clerk, Role::Supervisor, Role::Officer] {
        let err = privacy_as(&app, role).erase_personal_data(request(&submitted.case_id, "", "r")).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role:?}");
        let err = privacy_as(&app, role).list_erasures(pb::ListErasuresRequest::default()).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role:?}");
    }
    let bad_id = format!("{}0", &MOTHER_ID[..17]);
    for (req, field) in [
        (request("", "", "r"), "case_id"),
        (request(&submitted.case_id, MOTHER_ID, "r"), "id_number"),
        (request("not-a-uuid", "", "r"), "case_id"),
        (request("", &bad_id, "r"), "id_number"),
        (request(&submitted.case_id, "", "  "), "reason"),
        (request(&submitted.case_id, "", &"长".repeat(501)), "reason"),
    ] {
        let err = privacy_as(&app, Role::Admin).erase_personal_data(req).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(violations_of(&err).iter().any(|v| v.field == field), "{field}: {err:?}");
        assert!(!err.message().contains(MOTHER_ID) && !err.message().contains(&bad_id));
    }
    let unknown = privacy_as(&app, Role::Admin)
        .erase_personal_data(request(&uuid::Uuid::now_v7().to_string(), "", "r"))
        .await
        .unwrap_err();
    let nobody = privacy_as(&app, Role::Admin).erase_personal_data(request("", FATHER_ID, "r")).await.unwrap_err();
    assert_eq!((unknown.code(), nobody.code()), (Code::NotFound, Code::NotFound));
    assert_eq!(unknown.message(), nobody.message(), "worded alike");
    let err = privacy_as(&app, Role::Admin).list_erasures(pb::ListErasuresRequest { limit: 501 }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    assert_eq!(app.event_count().await, events);
    let erased: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.data_keys WHERE erased_at IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(erased, 0);
    assert_eq!(case(&app, &submitted.case_id).await.applicant.unwrap().name, "王丽");
}

#[tokio::test]
async fn an_application_stored_in_clear_before_sealing_still_reads_and_is_hidden_once_erased() {
    let app = spawn_app().await;
    let submitted = app.clerk().submit_application(by_mail("k1")).await.unwrap().into_inner();
    // The stored event as one written before sealing, and no data key.
    crate::legacy::written_in_clear(&app, &submitted.case_id).await;
    sqlx::query("DELETE FROM intake.data_keys").execute(&app.db.pool).await.unwrap();
    assert_eq!(marked_in(&stored_payloads(&app).await), MARKED.to_vec(), "in clear, as before sealing");

    let read = case(&app, &submitted.case_id).await;
    assert_eq!(read.applicant.unwrap().id_number, MOTHER_ID);
    assert_eq!(read.delivery.unwrap().mail_address.unwrap().address_line, "钢铁大街88号3单元");

    let done = privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: String::new(),
            id_number: MOTHER_ID.into(),
            reason: "request 2026-9".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(done.erased_now, "the erasure is recorded although there was no key");
    let read = case(&app, &submitted.case_id).await;
    assert!(read.personal_data_erased && read.applicant.is_none() && read.form_data.is_none());
    // The bytes stay until intake's next start seals them (legacy.rs).
    assert_eq!(marked_in(&stored_payloads(&app).await), MARKED.to_vec());
}

#[tokio::test]
async fn a_wrong_key_encryption_key_opens_nothing() {
    let app = spawn_app().await;
    let case_id = app.clerk().submit_application(newborn("k1")).await.unwrap().into_inner().case_id;
    // The development key's id, another key.
    let wrong = FileKeys::parse(&format!("dev {}=\n", "A".repeat(43)), Algorithm::Aes256Gcm).unwrap();
    let keys = DataKeys::new(app.db.pool.clone(), "intake", std::sync::Arc::new(wrong), Algorithm::Aes256Gcm);
    let subject = app.intake.identity_key.lookup(MOTHER_ID);
    let err = keys.find(&subject).await.unwrap_err();
    assert!(matches!(err, PrivacyError::Unauthentic), "{err:?}");

    // A reader with those keys cannot rehydrate the case: an error, never
    // an empty or erased applicant.
    let codec = IntakeCodec { data_keys: keys, identity_key: app.intake.identity_key.clone() };
    let stored = app.intake.applications.store().read_stream(&format!("case-{case_id}"), 1).await.unwrap();
    let err = codec.decode_all(&stored).await.unwrap_err();
    assert_eq!(err.code(), Code::Internal);
}

//! Round trips of every intake event through its wire message, the request
//! conversion fed to the real domain decision with the seed catalog, and the
//! GetCase read model in clear and masked.

use std::sync::OnceLock;

use chrono::TimeZone as _;
use serde_json::json;
use yiciban_domain::Aggregate;
use yiciban_domain::catalog::Catalog;
use yiciban_domain::intake::{
    CaseApplication, Command, CreditStatus, DEFAULT_MAX_MATERIAL_BYTES, DomainError, Status, Submit,
    SupplementMaterials,
};
use yiciban_domain::values::id_number_check_char;

use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use prost_types::value::Kind;
use serde_json::Value;
use yiciban_domain::intake::{
    ApplicantKind, ApplicationDraft, ApplicationNotAccepted, ApplicationWithdrawn, CaseTerminated, Channel,
    DeficiencyCleared, DeliveryMethod, DeliveryPreference, ErasureBasis, Event, MaterialInput, MaterialRef,
    MaterialsSupplemented, OfficerAssigned, Personal, PersonalDataErased, Reason, ReasonCode, TerminationReason,
};
use yiciban_domain::values::{CaseNumber, MaterialId, PackageId};

use super::*;
use crate::common::v1 as pb;
use crate::convert::wire::{ConvertError, timestamp};
use crate::events::v1 as ev;
use crate::intake::v1 as api;
use crate::sealed::{DataKey, Opening, associated_data};

const MOTHER_ID: &str = "11010519491231002X";
const COMPANY_USCC: &str = "91350100M000100Y43";
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// A valid resident ID number from its first 17 digits.
fn father_id() -> String {
    let first17 = "15020319880101123";
    format!("{first17}{}", id_number_check_char(first17).unwrap())
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::seed().expect("the seed catalog loads"))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Thursday 2026-01-15, 10:00 in China.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 2, 0, 0).unwrap()
}

fn pb_date(year: i32, month: i32, day: i32) -> pb::Date {
    pb::Date { year, month, day }
}

fn pb_material(id: &str) -> pb::MaterialRef {
    pb::MaterialRef {
        material_id: id.into(),
        file_name: format!("{id}.pdf"),
        content_type: "application/pdf".into(),
        sha256_hex: SHA.into(),
        size_bytes: 120_000,
        storage_key: format!("uploads/2026/01/{id}"),
    }
}

fn material(id: &str) -> MaterialRef {
    MaterialRef {
        material_id: MaterialId::parse(id).unwrap(),
        file_name: format!("{id}.pdf"),
        content_type: "application/pdf".into(),
        sha256_hex: SHA.into(),
        size_bytes: 120_000,
        storage_key: format!("uploads/2026/01/{id}"),
    }
}

fn structure(v: Value) -> prost_types::Struct {
    form_data_to_pb(v.as_object().unwrap())
}

/// A restaurant application by a company, mailed results, two materials
/// owed (容缺) and one proof replaced by a commitment (告知承诺).
fn restaurant_request() -> api::SubmitApplicationRequest {
    let handed_in = ["m_food_license_app", "m_food_safety_rules", "m_sign_app", "m_fire_app"];
    api::SubmitApplicationRequest {
        idempotency_key: "6f1c2b1e-0b7a-4c59-9a55-3f1f0f8f1a01".into(),
        package_id: "open-restaurant".into(),
        applicant: Some(pb::Applicant {
            kind: pb::ApplicantKind::Company as i32,
            name: "包头市好味道餐饮有限公司".into(),
            id_number: COMPANY_USCC.into(),
            phone: "0472-1234567".into(),
            contact_name: "赵经办".into(),
            contact_id_number: String::new(),
        }),
        form_data: Some(structure(json!({
            "uscc": COMPANY_USCC,
            "entity_name": "包头市好味道餐饮有限公司",
            "legal_rep_name": "赵一",
            "legal_rep_id_no": MOTHER_ID,
            "site_address": "包头市昆都仑区钢铁大街1号",
            "site_area_m2": 120.5,
            "seat_count": 40,
            "food_categories": ["热食类食品制售", "自制饮品制售"],
            "food_safety_manager": "钱二",
            "staff_count": 6,
            "fire_commitment_mode": "告知承诺",
            "sell_tobacco": false,
            "contact_phone": "13912345678"
        }))),
        materials: handed_in.iter().map(|id| pb_material(id)).collect(),
        commitments: vec![api::RequestedCommitment {
            material_id: "m_fire_plan".into(),
            commitment_text: "本单位承诺已制定消防安全制度和应急疏散预案，如有不实愿承担相应责任。".into(),
            signed_form: None,
        }],
        deficiencies: vec![
            api::RequestedDeficiency { material_id: "m_site_layout".into(), promised_by: Some(pb_date(2026, 1, 20)) },
            api::RequestedDeficiency { material_id: "m_sign_design".into(), promised_by: None },
        ],
        optional_item_codes: vec![],
        delivery: Some(pb::DeliveryPreference {
            method: pb::DeliveryMethod::Mail as i32,
            mail_address: Some(pb::PostalAddress {
                recipient_name: "赵经办".into(),
                recipient_phone: "13912345678".into(),
                province: "内蒙古自治区".into(),
                city: "包头市".into(),
                district: "昆都仑区".into(),
                address_line: "钢铁大街1号好味道餐厅".into(),
                postal_code: "014010".into(),
            }),
            pickup_hall: String::new(),
        }),
        channel: pb::Channel::Online as i32,
        site_code: String::new(),
    }
}

/// A newborn application by the mother at the window.
fn newborn_request() -> api::SubmitApplicationRequest {
    api::SubmitApplicationRequest {
        idempotency_key: "newborn-1".into(),
        package_id: "newborn-birth".into(),
        applicant: Some(pb::Applicant {
            kind: pb::ApplicantKind::Person as i32,
            name: "王丽".into(),
            id_number: MOTHER_ID.into(),
            phone: "13800000000".into(),
            contact_name: String::new(),
            contact_id_number: String::new(),
        }),
        form_data: Some(structure(json!({
            "newborn_name": "张小宝",
            "newborn_gender": "男",
            "birth_datetime": "2026-01-10T08:30:00+08:00",
            "birth_hospital": "包头市妇幼保健院",
            "mother_id_no": MOTHER_ID,
            "father_id_no": father_id(),
            "hukou_follow": "随母",
            "householder_name": "王丽",
            "hukou_address": "内蒙古包头市昆都仑区某街道1号",
            "insured_address": "内蒙古包头市昆都仑区某街道1号",
            "mobile_mother": "13800000000",
            "delivery_method": "窗口领取"
        }))),
        materials: vec![pb_material("m_birth_cert_form")],
        delivery: Some(pb::DeliveryPreference {
            method: pb::DeliveryMethod::WindowPickup as i32,
            mail_address: None,
            pickup_hall: "bt-kdl-hall".into(),
        }),
        channel: pb::Channel::Window as i32,
        ..Default::default()
    }
}

fn submit(req: &api::SubmitApplicationRequest, credit: CreditStatus) -> Result<Vec<Event>, DomainError> {
    let draft = ApplicationDraft::from(req);
    let guide = catalog().guide(&draft.package_id);
    CaseApplication::default().decide(Command::Submit(Submit {
        draft,
        guide,
        credit,
        case_number: CaseNumber::parse("YCB-20260115-000123").unwrap(),
        data_subject: "5f0c1e2d".repeat(8),
        now: now(),
        promised_by: day(2026, 2, 3),
        deficiency_due_by: day(2026, 1, 22),
        max_material_bytes: DEFAULT_MAX_MATERIAL_BYTES,
        unstored_materials: Vec::new(),
        officer: None,
    }))
}

/// A real authenticated cipher (AES-256-GCM) as the data key of the tests;
/// services use `yiciban_privacy::SecretKey`.
struct TestKey(aes_gcm::Aes256Gcm, std::sync::atomic::AtomicU64);

impl TestKey {
    fn new(seed: u8) -> TestKey {
        use aes_gcm::KeyInit as _;
        TestKey(aes_gcm::Aes256Gcm::new_from_slice(&[seed; 32]).unwrap(), Default::default())
    }
}

impl DataKey for TestKey {
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{Aead as _, Payload};
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_le_bytes());
        let mut out = nonce.to_vec();
        out.extend(self.0.encrypt(&nonce.into(), Payload { msg: plaintext, aad }).unwrap());
        out
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        use aes_gcm::aead::{Aead as _, Payload};
        let nonce: [u8; 12] = sealed.get(..12)?.try_into().ok()?;
        self.0.decrypt(&nonce.into(), Payload { msg: &sealed[12..], aad }).ok()
    }
}

fn round_trip(event: &Event) {
    let key = TestKey::new(7);
    let (event_type, payload) = encode_event(event, Some(&key)).unwrap();
    assert_eq!(event_type, event.event_type());
    let back = decode_event(event_type, &payload, Opening::Key(&key)).unwrap_or_else(|e| panic!("{event_type}: {e}"));
    assert_eq!(&back, event);
    // The domain's own serialisation agrees too (nothing hides behind PartialEq).
    assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(event).unwrap());
}

/// One realistic event of every variant (and both sides of every option).
fn every_event() -> Vec<Event> {
    let mut events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    events.extend(submit(&newborn_request(), CreditStatus::Normal).unwrap());
    events.extend(submit(&restaurant_request(), CreditStatus::Dishonest).unwrap());
    let variants = events.iter().map(Event::event_type).collect::<Vec<_>>();
    assert_eq!(
        variants,
        [
            "ApplicationSubmitted",
            "ApplicationAccepted",
            "ApplicationSubmitted",
            "ApplicationAccepted",
            "ApplicationSubmitted",
            "ApplicationNotAccepted"
        ]
    );
    events.extend([
        Event::ApplicationNotAccepted(ApplicationNotAccepted {
            case_number: CaseNumber::parse("YCB-20260115-000124").unwrap(),
            package_id: PackageId::parse("newborn-birth").unwrap(),
            notice_number: "YCB-20260115-000124-BSL".into(),
            reasons: [
                ReasonCode::MaterialMissing,
                ReasonCode::CommitmentNotAllowed,
                ReasonCode::DeficiencyNotAllowed,
                ReasonCode::CreditRestricted,
                ReasonCode::NotEligible,
            ]
            .into_iter()
            .map(|code| Reason { path: "materials.m_marriage_cert".into(), code, message: "缺少结婚证".into() })
            .collect(),
        }),
        Event::OfficerAssigned(OfficerAssigned {
            officer_id: "liming".into(),
            officer_name: "李明".into(),
            previous_officer_id: None,
        }),
        Event::OfficerAssigned(OfficerAssigned {
            officer_id: "zhaomin".into(),
            officer_name: "赵敏".into(),
            previous_officer_id: Some("liming".into()),
        }),
        Event::MaterialsSupplemented(MaterialsSupplemented {
            materials: vec![material("m_site_layout")],
            supplement_request_id: None,
            task_id: None,
            item_code: None,
            department: None,
        }),
        Event::MaterialsSupplemented(MaterialsSupplemented {
            materials: vec![material("m_sign_design"), material("m_site_use_proof")],
            supplement_request_id: Some("0194a3c5-7e1a-7c2b-9f00-1a2b3c4d5e6f".into()),
            task_id: Some("0194a3c5-7e1a-7c2b-9f00-aaaabbbbcccc".into()),
            item_code: Some("DEMO-CY-02".into()),
            department: Some("samr".into()),
        }),
        Event::DeficiencyCleared(DeficiencyCleared {
            material_id: MaterialId::parse("m_site_layout").unwrap(),
            due_by: day(2026, 1, 20),
            cleared_on: day(2026, 1, 19),
            remaining_deficiencies: 1,
        }),
        Event::CaseTerminated(CaseTerminated {
            reason: TerminationReason::DeficiencyOverdue,
            detail: "容缺受理的材料未在承诺期限内补齐，依规终止办理".into(),
            legal_basis: String::new(),
            overdue_material_ids: vec![MaterialId::parse("m_sign_design").unwrap()],
        }),
        Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: "店面转租，暂不开业".into() }),
        Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: String::new() }),
        Event::PersonalDataErased(PersonalDataErased { basis: ErasureBasis::Request, materials_deleted: 3 }),
        Event::PersonalDataErased(PersonalDataErased { basis: ErasureBasis::Retention, materials_deleted: 0 }),
    ]);
    for reason in [
        TerminationReason::SupplementOverdue,
        TerminationReason::CommitmentUntrue,
        TerminationReason::ApplicantCeased,
        TerminationReason::Other,
    ] {
        events.push(Event::CaseTerminated(CaseTerminated {
            reason,
            detail: "经核查，申请人承诺内容与实际不符".into(),
            legal_basis: "《行政许可法》第三十二条".into(),
            overdue_material_ids: vec![],
        }));
    }
    events
}

#[test]
fn every_event_survives_the_wire() {
    let events = every_event();
    for variant in [
        "ApplicationSubmitted",
        "ApplicationAccepted",
        "ApplicationNotAccepted",
        "OfficerAssigned",
        "MaterialsSupplemented",
        "DeficiencyCleared",
        "CaseTerminated",
        "ApplicationWithdrawn",
        "PersonalDataErased",
    ] {
        assert!(events.iter().any(|e| e.event_type() == variant), "{variant} is covered");
    }
    for event in &events {
        round_trip(event);
    }
}

#[test]
fn the_restaurant_events_carry_everything_the_request_gave() {
    let events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    let Event::ApplicationSubmitted(submitted) = &events[0] else { panic!("{events:?}") };
    let personal = submitted.personal.clear().unwrap();
    assert_eq!(personal.applicant.id_number(), COMPANY_USCC);
    assert_eq!(personal.form_data["seat_count"], json!(40));
    assert_eq!(personal.form_data["site_area_m2"], json!(120.5));
    assert!(matches!(&personal.delivery, DeliveryPreference::Mail { address } if address.postal_code == "014010"));
    let Event::ApplicationAccepted(accepted) = &events[1] else { panic!("{events:?}") };
    let owed: Vec<_> = accepted.deficiencies.iter().map(|d| (d.material_id.as_str(), d.due_by)).collect();
    assert_eq!(owed, [("m_site_layout", day(2026, 1, 20)), ("m_sign_design", day(2026, 1, 22))]);
    assert_eq!(accepted.commitments[0].material_id.as_str(), "m_fire_plan");
    assert_eq!(accepted.commitments[0].post_check_department.as_str(), "fire");
}

/// Every personal value of the restaurant application, as text.
fn personal_values(e: &yiciban_domain::intake::ApplicationSubmitted) -> Vec<String> {
    let p = e.personal.clear().unwrap();
    let mut values =
        vec![p.applicant.name.clone(), p.applicant.id_number().to_owned(), p.applicant.phone.as_str().into()];
    values.push(p.applicant.contact_name.clone());
    if let DeliveryPreference::Mail { address } = &p.delivery {
        values.extend([address.recipient_name.clone(), address.address_line.clone()]);
    }
    values.extend(p.form_data.values().filter_map(|v| v.as_str().map(str::to_owned)).filter(|v| v.chars().count() > 2));
    values.retain(|v| !v.is_empty());
    values
}

#[test]
fn the_personal_part_is_stored_sealed_and_opens_only_with_its_key_subject_and_case() {
    let key = TestKey::new(1);
    let Event::ApplicationSubmitted(e) = &submit(&restaurant_request(), CreditStatus::Good).unwrap()[0] else {
        unreachable!()
    };
    let values = personal_values(e);
    assert!(values.len() >= 6, "{values:?}");
    let (kind, bytes) = encode_event(&Event::ApplicationSubmitted(e.clone()), Some(&key)).unwrap();
    for value in &values {
        let needle = value.as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{value:?} is in the stored bytes");
    }
    let stored = ev::ApplicationSubmitted::decode(bytes.as_slice()).unwrap();
    assert!(stored.applicant.is_none() && stored.form_data.is_none());
    let delivery = stored.delivery.as_ref().unwrap();
    assert_eq!((delivery.method, delivery.mail_address.is_none()), (pb::DeliveryMethod::Mail as i32, true));
    assert_eq!(stored.applicant_kind, pb::ApplicantKind::Company as i32);
    assert_eq!(stored.data_subject, e.data_subject);

    // With its key: everything back.
    assert_eq!(decode_event(kind, &bytes, Opening::Key(&key)).unwrap(), Event::ApplicationSubmitted(e.clone()));
    // Erased: the facts stay, the person is gone.
    let Event::ApplicationSubmitted(erased) = decode_event(kind, &bytes, Opening::Erased).unwrap() else {
        unreachable!()
    };
    assert_eq!(erased.personal, Personal::Erased);
    assert_eq!(
        (erased.case_number, &erased.package_id, erased.applicant_kind),
        (e.case_number, &e.package_id, e.applicant_kind)
    );
    assert_eq!(erased.materials, e.materials);
    // Another key, no key, or the sealed value moved to another case: refused.
    for opening in [Opening::Key(&TestKey::new(2)), Opening::NoKey] {
        let err = decode_event(kind, &bytes, opening).unwrap_err();
        assert!(
            matches!(&err, ConvertError::Invalid { field, .. } if field == "ApplicationSubmitted.sealed_personal_data"),
            "{err:?}"
        );
    }
    let mut moved = stored.clone();
    moved.case_number = "YCB-20260115-000999".into();
    assert!(decode_event(kind, &moved.encode_to_vec(), Opening::Key(&key)).is_err());
    assert_ne!(associated_data(&e.data_subject, "a"), associated_data(&e.data_subject, "b"));
    // Nothing personal is ever encoded without a key to seal it.
    let err = encode_event(&Event::ApplicationSubmitted(e.clone()), None).unwrap_err();
    assert!(err.to_string().contains("no data key"), "{err}");
    // An erased event encodes without any personal part.
    let (_, bytes) = encode_event(&Event::ApplicationSubmitted(erased.clone()), None).unwrap();
    assert_eq!(decode_event(kind, &bytes, Opening::NoKey).unwrap(), Event::ApplicationSubmitted(erased));
}

#[test]
fn an_event_written_in_clear_before_sealing_still_reads_and_hides_once_its_applicant_is_erased() {
    let Event::ApplicationSubmitted(e) = &submit(&newborn_request(), CreditStatus::Good).unwrap()[0] else {
        unreachable!()
    };
    // The shape of a December 2026 event: no subject, no kind, no sealed part.
    let mut legacy = ev::ApplicationSubmitted::from(e);
    legacy.data_subject.clear();
    legacy.applicant_kind = 0;
    let bytes = legacy.encode_to_vec();
    let Event::ApplicationSubmitted(read) = decode_event("ApplicationSubmitted", &bytes, Opening::NoKey).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(read.personal, e.personal);
    assert_eq!((read.applicant_kind, read.data_subject.as_str()), (ApplicantKind::Person, ""));
    assert_eq!(
        crate::sealed::subject_of(&legacy),
        Some(crate::sealed::Subject::Clear(MOTHER_ID.to_owned())),
        "its reader computes the subject from the identity"
    );
    let Event::ApplicationSubmitted(hidden) = decode_event("ApplicationSubmitted", &bytes, Opening::Erased).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(hidden.personal, Personal::Erased);
    assert_eq!(hidden.applicant_kind, ApplicantKind::Person);
}

#[test]
fn decoding_names_what_is_wrong() {
    assert!(matches!(
        decode_event("CaseDecided", &[], Opening::NoKey),
        Err(ConvertError::UnknownEventType(t)) if t == "CaseDecided"
    ));
    let err = decode_event("ApplicationSubmitted", &[0xff, 0xff], Opening::NoKey).unwrap_err();
    assert!(matches!(err, ConvertError::Decode { event_type: "ApplicationSubmitted", .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());

    // An event written in clear before sealing is validated as it always was.
    let Event::ApplicationSubmitted(e) = &every_event()[0] else { unreachable!() };
    let mut submitted = ev::ApplicationSubmitted::from(e);
    submitted.applicant.as_mut().unwrap().id_number = "91350100M000100Y44".into();
    let err = decode_event("ApplicationSubmitted", &submitted.encode_to_vec(), Opening::NoKey).unwrap_err();
    let ConvertError::Invalid { field, .. } = &err else { panic!("{err:?}") };
    assert_eq!(field, "ApplicationSubmitted.applicant.id_number");
    assert!(!err.to_string().contains("91350100M000100Y44"), "the value is personal data: {err}");

    let cleared = ev::DeficiencyCleared {
        material_id: "m_site_layout".into(),
        due_by: Some(pb_date(2026, 2, 30)),
        cleared_on: Some(pb_date(2026, 1, 19)),
        remaining_deficiencies: 0,
    };
    let err = decode_event("DeficiencyCleared", &cleared.encode_to_vec(), Opening::NoKey).unwrap_err();
    assert!(matches!(&err, ConvertError::Invalid { field, .. } if field == "DeficiencyCleared.due_by"), "{err:?}");

    let terminated = ev::CaseTerminated { reason: 0, ..Default::default() };
    let err = decode_event("CaseTerminated", &terminated.encode_to_vec(), Opening::NoKey).unwrap_err();
    assert!(matches!(&err, ConvertError::Invalid { field, .. } if field == "CaseTerminated.reason"), "{err:?}");

    let refused = ev::ApplicationNotAccepted {
        case_number: "YCB-20260115-000123".into(),
        package_id: "open-restaurant".into(),
        notice_number: "YCB-20260115-000123-BSL".into(),
        reasons: vec![pb::Reason { path: String::new(), code: "NO_SUCH_CODE".into(), message: String::new() }],
    };
    let err = decode_event("ApplicationNotAccepted", &refused.encode_to_vec(), Opening::NoKey).unwrap_err();
    assert!(
        matches!(&err, ConvertError::Invalid { field, .. } if field == "ApplicationNotAccepted.reasons[0].code"),
        "{err:?}"
    );
}

#[test]
fn the_draft_keeps_the_request_as_given() {
    let draft = ApplicationDraft::from(&restaurant_request());
    assert_eq!(draft.package_id, "open-restaurant");
    assert_eq!(draft.applicant.kind, Some(ApplicantKind::Company));
    assert_eq!(draft.applicant.contact_name, "赵经办");
    assert_eq!(draft.channel, Some(Channel::Online));
    assert_eq!(draft.delivery.method, Some(DeliveryMethod::Mail));
    assert_eq!(draft.delivery.mail_address.as_ref().unwrap().address_line, "钢铁大街1号好味道餐厅");
    assert_eq!(draft.materials[0], MaterialInput::from(&pb_material("m_food_license_app")));
    assert_eq!(draft.materials[0].size_bytes, 120_000);
    assert_eq!(draft.commitments[0].material_id, "m_fire_plan");
    assert_eq!(draft.deficiencies[0].promised_by, Some(day(2026, 1, 20)));
    assert_eq!(draft.deficiencies[1].promised_by, None);
    assert_eq!(draft.form_data["food_categories"], json!(["热食类食品制售", "自制饮品制售"]));

    // Nothing is validated here: bad values and unspecified enums pass through.
    let empty = ApplicationDraft::from(&api::SubmitApplicationRequest {
        applicant: Some(pb::Applicant { kind: 0, id_number: "not an id".into(), ..Default::default() }),
        delivery: Some(pb::DeliveryPreference { method: 99, ..Default::default() }),
        channel: 99,
        ..Default::default()
    });
    assert_eq!(empty.applicant.kind, None);
    assert_eq!(empty.applicant.id_number, "not an id");
    assert_eq!(empty.delivery.method, None);
    assert_eq!(empty.channel, None);
    assert_eq!(ApplicationDraft::from(&api::SubmitApplicationRequest::default()), ApplicationDraft::default());
}

#[test]
fn an_impossible_promised_date_is_refused_by_the_domain_not_read_as_unset() {
    let mut req = restaurant_request();
    req.deficiencies[0].promised_by = Some(pb_date(2026, 13, 1));
    assert_eq!(ApplicationDraft::from(&req).deficiencies[0].promised_by, Some(NaiveDate::MIN));
    let Err(DomainError::Rejected(rejection)) = submit(&req, CreditStatus::Good) else { panic!("accepted") };
    assert_eq!(rejection.fields(), ["deficiencies[0].promised_by"]);
}

#[test]
fn the_form_survives_struct_with_integers_kept_integral() {
    let form = json!({
        "null": null,
        "flag": true,
        "count": 40,
        "negative": -3,
        "area": 120.5,
        "name": "张小宝",
        "list": [1, "二", false, null, {"nested": [2.25]}],
        "object": {"inner": {"deep": "x"}}
    });
    let back = form_data_from_pb(&structure(form.clone()));
    assert_eq!(Value::Object(back), form);

    let odd = prost_types::Struct {
        fields: [
            ("nan".to_owned(), prost_types::Value { kind: Some(Kind::NumberValue(f64::NAN)) }),
            ("none".to_owned(), prost_types::Value { kind: None }),
            ("big".to_owned(), prost_types::Value { kind: Some(Kind::NumberValue(1e20)) }),
            ("whole".to_owned(), prost_types::Value { kind: Some(Kind::NumberValue(7.0)) }),
        ]
        .into(),
    };
    assert_eq!(Value::Object(form_data_from_pb(&odd)), json!({"nan": null, "none": null, "big": 1e20, "whole": 7}));
}

#[test]
fn small_values_convert_both_ways() {
    assert_eq!(pb::Date::from(day(2026, 1, 15)), pb_date(2026, 1, 15));
    assert_eq!(NaiveDate::try_from(pb_date(2024, 2, 29)).unwrap(), day(2024, 2, 29));
    for bad in [pb_date(2026, 2, 29), pb_date(0, 0, 0), pb_date(2026, -1, 1), pb_date(2026, 1, 32)] {
        assert!(NaiveDate::try_from(bad).is_err(), "{bad:?}");
    }
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 2, 0, 0).unwrap() + chrono::Duration::nanoseconds(5);
    assert_eq!(timestamp(at), prost_types::Timestamp { seconds: 1_768_442_400, nanos: 5 });
    for channel in [Channel::Window, Channel::Online, Channel::Hotline, Channel::System] {
        assert_eq!(Channel::try_from(pb::Channel::from(channel)).unwrap(), channel);
    }
    let request = |channel| api::SubmitApplicationRequest { channel, ..Default::default() };
    assert_eq!(ApplicationDraft::from(&request(0)).channel, None);
    assert_eq!(ApplicationDraft::from(&request(42)).channel, None);
    let reason = Reason { path: "credit".into(), code: ReasonCode::CreditRestricted, message: "失信".into() };
    assert_eq!(pb::Reason::from(&reason).code, "CREDIT_RESTRICTED");
    assert_eq!(Reason::try_from(&pb::Reason::from(&reason)).unwrap(), reason);
    for status in [Status::Submitted, Status::Accepted, Status::NotAccepted, Status::Withdrawn, Status::Terminated] {
        assert_eq!(Status::try_from(pb::CaseStatus::from(status)).unwrap(), status);
    }
    assert_eq!(pb::CaseStatus::from(Status::New), pb::CaseStatus::Unspecified);
}

fn restaurant_case() -> CaseApplication {
    let mut events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    events.push(Event::OfficerAssigned(OfficerAssigned {
        officer_id: "liming".into(),
        officer_name: "李明".into(),
        previous_officer_id: None,
    }));
    let state = CaseApplication::replay(&events);
    let supplement = Command::SupplementMaterials(SupplementMaterials {
        materials: vec![MaterialInput::from(&pb_material("m_site_layout"))],
        supplement_request: None,
        now: now() + chrono::Duration::days(2),
        max_material_bytes: DEFAULT_MAX_MATERIAL_BYTES,
    });
    events.extend(state.decide(supplement).unwrap());
    CaseApplication::replay(&events)
}

#[test]
fn the_case_shows_the_state_in_clear() {
    let state = restaurant_case();
    let case = case_to_pb(&state, false);
    assert_eq!(case.case_id, "");
    assert_eq!(case.case_number, "YCB-20260115-000123");
    assert_eq!(case.package_id, "open-restaurant");
    assert_eq!(case.status, pb::CaseStatus::AcceptedWithDeficiency as i32);
    assert_eq!(case.decision, api::AcceptanceDecision::AcceptedWithDeficiency as i32);
    assert_eq!(case.applicant.as_ref().unwrap().id_number, COMPANY_USCC);
    assert_eq!(case.applicant.as_ref().unwrap().phone, "0472-1234567");
    assert_eq!(case.applicant.as_ref().unwrap().kind, pb::ApplicantKind::Company as i32);
    assert_eq!(case.materials.len(), 5);
    let progress: Vec<_> =
        case.deficiencies.iter().map(|d| (d.deficiency.as_ref().unwrap().material_id.as_str(), d.cleared)).collect();
    assert_eq!(progress, [("m_site_layout", true), ("m_sign_design", false)]);
    assert_eq!(case.deficiencies[0].cleared_on, Some(pb_date(2026, 1, 17)));
    assert_eq!(case.deficiencies[1].cleared_on, None);
    assert_eq!(case.commitments[0].post_check_department, "fire");
    assert!(case.item_codes.iter().any(|c| c == "DEMO-CY-02"));
    assert_eq!(case.officer_id, "liming");
    assert_eq!(case.accepted_on, Some(pb_date(2026, 1, 15)));
    assert_eq!(case.promised_by, Some(pb_date(2026, 2, 3)));
    assert_eq!(case.promised_working_days, state.promised_working_days);
    assert_eq!(case.version, state.version);
    assert!(case.reasons.is_empty());
}

#[test]
fn the_case_masks_personal_data_on_request() {
    let events = submit(&newborn_request(), CreditStatus::Normal).unwrap();
    let case = case_to_pb(&CaseApplication::replay(&events), true);
    let applicant = case.applicant.unwrap();
    assert_eq!(applicant.name, "王*");
    assert_eq!(applicant.id_number, "110105********002X");
    assert_eq!(applicant.phone, "138****0000");
    assert_eq!(applicant.kind, pb::ApplicantKind::Person as i32);
    assert_eq!(case.decision, api::AcceptanceDecision::Accepted as i32);

    let Event::ApplicationSubmitted(submitted) = &submit(&restaurant_request(), CreditStatus::Good).unwrap()[0] else {
        panic!()
    };
    let masked = delivery_to_pb(&submitted.personal.clear().unwrap().delivery, true).mail_address.unwrap();
    assert_eq!(
        (masked.recipient_name.as_str(), masked.recipient_phone.as_str(), masked.address_line.as_str()),
        ("赵**", "139****5678", "****")
    );
    assert_eq!((masked.province.as_str(), masked.city.as_str()), ("内蒙古自治区", "包头市"));
    let clear = delivery_to_pb(&submitted.personal.clear().unwrap().delivery, false).mail_address.unwrap();
    assert_eq!(clear.address_line, "钢铁大街1号好味道餐厅");
}

#[test]
fn a_refused_case_lists_its_reasons() {
    let events = submit(&restaurant_request(), CreditStatus::Dishonest).unwrap();
    let case = case_to_pb(&CaseApplication::replay(&events), true);
    assert_eq!(case.status, pb::CaseStatus::NotAccepted as i32);
    assert_eq!(case.decision, api::AcceptanceDecision::NotAccepted as i32);
    assert!(case.reasons.iter().any(|r| r.code == "CREDIT_RESTRICTED"), "{:?}", case.reasons);
    assert_eq!(case.accepted_on, None);
    // A company's registered name is public and stays.
    assert_eq!(case.applicant.unwrap().name, "包头市好味道餐饮有限公司");
}

#[test]
fn a_department_gets_only_the_fields_its_steps_list() {
    use std::collections::BTreeSet;
    use yiciban_domain::catalog::DataField;

    let events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    let state = CaseApplication::replay(&events);
    let fields: BTreeSet<DataField> =
        [DataField::ApplicantName, DataField::Form("site_address".into())].into_iter().collect();
    let (applicant, form, mail) = minimised_to_pb(&state, &fields);
    let applicant = applicant.unwrap();
    assert_eq!(applicant.name, "包头市好味道餐饮有限公司");
    assert_eq!(applicant.kind, pb::ApplicantKind::Company as i32);
    assert_eq!((applicant.id_number.as_str(), applicant.phone.as_str(), applicant.contact_name.as_str()), ("", "", ""));
    assert_eq!(form.fields.keys().collect::<Vec<_>>(), ["site_address"]);
    assert!(mail.is_none(), "the mail address was not listed");

    let everything: BTreeSet<DataField> = DataField::FIXED.into_iter().map(|(_, f)| f).collect();
    let (applicant, form, mail) = minimised_to_pb(&state, &everything);
    assert_eq!(applicant.unwrap().id_number, COMPANY_USCC);
    assert!(form.fields.is_empty(), "no form field was listed");
    assert_eq!(mail.unwrap().address_line, "钢铁大街1号好味道餐厅", "in clear when listed");
    let (applicant, form, mail) = minimised_to_pb(&state, &BTreeSet::new());
    assert_eq!(applicant.unwrap(), pb::Applicant { kind: pb::ApplicantKind::Company as i32, ..Default::default() });
    assert!(form.fields.is_empty() && mail.is_none());
}

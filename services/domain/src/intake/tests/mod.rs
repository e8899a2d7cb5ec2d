//! Given / when / then tests of the intake aggregate with the seed packages,
//! and the fixtures they share: real, valid ID numbers and credit codes, a
//! complete application per package, and fixed facts (a Thursday in January
//! 2026).

mod erasure;
mod lifecycle;
mod properties;
mod submit;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use serde_json::{Map, Value, json};

use super::*;
use crate::catalog::Catalog;
use crate::refusal::FieldViolation;
use crate::testing::{self, Given};
use crate::values::{CaseNumber, credit_code_check_char, id_number_check_char};

/// The framework's [`testing::given`] for this aggregate.
pub(super) fn given(events: Vec<Event>) -> Given<CaseApplication> {
    testing::given(events)
}

pub(super) fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::seed().expect("the seed catalog loads"))
}

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Thursday 2026-01-15, 10:00 in China.
pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 2, 0, 0).unwrap()
}

/// Noon in China on `day`.
pub(super) fn noon(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(4, 0, 0).unwrap().and_utc()
}

pub(super) fn today() -> NaiveDate {
    date(2026, 1, 15)
}

pub(super) fn case_number() -> CaseNumber {
    CaseNumber::parse("YCB-20260115-000123").unwrap()
}

/// A valid resident ID number from its first 17 digits.
pub(super) fn person_id(first17: &str) -> String {
    format!("{first17}{}", id_number_check_char(first17).unwrap())
}

/// A valid credit code from its first 17 characters.
pub(super) fn credit_code(first17: &str) -> String {
    format!("{first17}{}", credit_code_check_char(first17).unwrap())
}

pub(super) const MOTHER_ID: &str = "11010519491231002X";
pub(super) const COMPANY_USCC: &str = "91350100M000100Y43";

pub(super) fn father_id() -> String {
    person_id("15020319880101123")
}

pub(super) fn material(id: &str) -> MaterialInput {
    MaterialInput {
        material_id: id.into(),
        file_name: format!("{id}.pdf"),
        content_type: "application/pdf".into(),
        sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        size_bytes: 120_000,
        storage_key: format!("uploads/2026/01/{id}"),
    }
}

fn object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

pub(super) fn window() -> DeliveryInput {
    DeliveryInput { method: Some(DeliveryMethod::WindowPickup), mail_address: None, pickup_hall: String::new() }
}

pub(super) fn person(id: &str) -> ApplicantInput {
    ApplicantInput {
        kind: Some(ApplicantKind::Person),
        name: "王丽".into(),
        id_number: id.into(),
        phone: "13800000000".into(),
        contact_name: String::new(),
        contact_id_number: String::new(),
    }
}

pub(super) fn company(code: &str) -> ApplicantInput {
    ApplicantInput {
        kind: Some(ApplicantKind::Company),
        name: "包头市好味道餐饮有限公司".into(),
        id_number: code.into(),
        phone: "0472-1234567".into(),
        contact_name: "赵经办".into(),
        contact_id_number: String::new(),
    }
}

/// A complete newborn application: the mother applies; everything but the
/// registration form is fetched from shared sources.
pub(super) fn newborn() -> ApplicationDraft {
    ApplicationDraft {
        package_id: "newborn-birth".into(),
        applicant: person(MOTHER_ID),
        form_data: object(json!({
            "newborn_name": "张小宝",
            "newborn_gender": "男",
            "birth_datetime": "2026-01-10T08:30:00+08:00",
            "birth_hospital": "包头市妇幼保健院",
            "mother_id_no": MOTHER_ID,
            "father_id_no": father_id(),
            "hukou_follow": "随父",
            "householder_name": "张三",
            "hukou_address": "内蒙古包头市昆都仑区某街道1号",
            "insured_address": "内蒙古包头市昆都仑区某街道1号",
            "mobile_mother": "13800000000",
            "delivery_method": "窗口领取"
        })),
        materials: vec![material("m_birth_cert_form")],
        delivery: window(),
        channel: Some(Channel::Window),
        ..ApplicationDraft::default()
    }
}

/// Required materials of the restaurant package the applicant hands in.
pub(super) const RESTAURANT_MATERIALS: [&str; 7] = [
    "m_food_license_app",
    "m_site_layout",
    "m_food_safety_rules",
    "m_sign_app",
    "m_sign_design",
    "m_fire_app",
    "m_fire_plan",
];

/// A complete restaurant application by a company, all materials present.
pub(super) fn restaurant() -> ApplicationDraft {
    ApplicationDraft {
        package_id: "open-restaurant".into(),
        applicant: company(COMPANY_USCC),
        form_data: object(json!({
            "uscc": COMPANY_USCC,
            "entity_name": "包头市好味道餐饮有限公司",
            "legal_rep_name": "赵一",
            "legal_rep_id_no": father_id(),
            "site_address": "包头市昆都仑区钢铁大街1号",
            "site_area_m2": 120.5,
            "seat_count": 40,
            "food_categories": ["热食类食品制售", "自制饮品制售"],
            "food_safety_manager": "钱二",
            "staff_count": 6,
            "fire_commitment_mode": "告知承诺",
            "sell_tobacco": false,
            "contact_phone": "13912345678"
        })),
        materials: RESTAURANT_MATERIALS.iter().map(|id| material(id)).collect(),
        delivery: window(),
        channel: Some(Channel::Online),
        ..ApplicationDraft::default()
    }
}

/// The restaurant application without the materials named in `without`.
pub(super) fn restaurant_without(without: &[&str]) -> ApplicationDraft {
    let mut draft = restaurant();
    draft.materials.retain(|m| !without.contains(&m.material_id.as_str()));
    draft
}

pub(super) fn commitment(id: &str) -> CommitmentRequest {
    CommitmentRequest {
        material_id: id.into(),
        commitment_text: "本人承诺所述情况真实，如有不实愿承担相应责任。".into(),
    }
}

pub(super) fn deficiency(id: &str) -> DeficiencyRequest {
    DeficiencyRequest { material_id: id.into(), promised_by: None }
}

/// The submit command with the standard facts: promised by 2026-01-22 (5
/// working days) and deficiencies due by 2026-01-22.
pub(super) fn submit(draft: ApplicationDraft, credit: CreditStatus) -> Command {
    let guide = catalog().guide(&draft.package_id);
    Command::Submit(Submit {
        draft,
        guide,
        credit,
        case_number: case_number(),
        data_subject: "subject-of-the-applicant".into(),
        now: now(),
        promised_by: date(2026, 1, 22),
        deficiency_due_by: date(2026, 1, 22),
        max_material_bytes: DEFAULT_MAX_MATERIAL_BYTES,
        unstored_materials: Vec::new(),
        officer: None,
    })
}

/// The events of a successful submission of `draft`.
pub(super) fn submitted(draft: ApplicationDraft, credit: CreditStatus) -> Vec<Event> {
    given(vec![]).when(submit(draft, credit)).then_ok().0
}

/// The events of a restaurant case accepted with deficiencies for `owed`.
pub(super) fn restaurant_owing(owed: &[&str]) -> Vec<Event> {
    let mut draft = restaurant_without(owed);
    draft.deficiencies = owed.iter().map(|id| deficiency(id)).collect();
    submitted(draft, CreditStatus::Normal)
}

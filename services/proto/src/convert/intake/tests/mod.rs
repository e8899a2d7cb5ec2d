//! The intake conversions tested against the real domain and the seed
//! catalog: the fixtures here; the events' round trips and sealing
//! ([`events`]), the request conversion ([`requests`]) and the GetCase read
//! model in clear and masked ([`case`]).

mod case;
mod events;
mod requests;

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
use crate::convert::test_key::TestKey;
use crate::convert::wire::{ConvertError, timestamp};
use crate::events::v1 as ev;
use crate::intake::v1 as api;
use crate::sealed::{Opening, associated_data};

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

//! Requests for the seed packages, shared by the service tests, the
//! journeys and the load drivers: a complete newborn application and a
//! complete restaurant application, to be spoiled by each test, and the
//! result document a department approves a task with.

use prost_types::{ListValue, Struct, Value, value::Kind};
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as pb;

pub const MOTHER_ID: &str = "11010519491231002X";
pub const FATHER_ID: &str = "150203198801011236";
pub const COMPANY_USCC: &str = "91350100M000100Y43";

fn s(v: &str) -> Value {
    Value { kind: Some(Kind::StringValue(v.into())) }
}
fn n(v: f64) -> Value {
    Value { kind: Some(Kind::NumberValue(v)) }
}
fn b(v: bool) -> Value {
    Value { kind: Some(Kind::BoolValue(v)) }
}
fn list(v: &[&str]) -> Value {
    Value { kind: Some(Kind::ListValue(ListValue { values: v.iter().map(|x| s(x)).collect() })) }
}
fn form(fields: Vec<(&str, Value)>) -> Struct {
    Struct { fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }
}

pub fn material(id: &str) -> common::MaterialRef {
    common::MaterialRef {
        material_id: id.into(),
        file_name: format!("{id}.pdf"),
        content_type: "application/pdf".into(),
        sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        size_bytes: 120_000,
        storage_key: format!("uploads/{id}"),
    }
}

fn window() -> Option<common::DeliveryPreference> {
    Some(common::DeliveryPreference {
        method: common::DeliveryMethod::WindowPickup as i32,
        mail_address: None,
        pickup_hall: String::new(),
    })
}

/// A complete newborn-birth application made by the mother at the window.
pub fn newborn(key: &str) -> pb::SubmitApplicationRequest {
    pb::SubmitApplicationRequest {
        idempotency_key: key.into(),
        package_id: "newborn-birth".into(),
        applicant: Some(common::Applicant {
            kind: common::ApplicantKind::Person as i32,
            name: "王丽".into(),
            id_number: MOTHER_ID.into(),
            phone: "13800000000".into(),
            contact_name: String::new(),
            contact_id_number: String::new(),
        }),
        form_data: Some(form(vec![
            ("newborn_name", s("张小宝")),
            ("newborn_gender", s("男")),
            ("birth_datetime", s("2026-03-10T08:30:00+08:00")),
            ("birth_hospital", s("包头市妇幼保健院")),
            ("mother_id_no", s(MOTHER_ID)),
            ("father_id_no", s(FATHER_ID)),
            ("hukou_follow", s("随父")),
            ("householder_name", s("张三")),
            ("hukou_address", s("内蒙古包头市昆都仑区某街道1号")),
            ("insured_address", s("内蒙古包头市昆都仑区某街道1号")),
            ("mobile_mother", s("13800000000")),
            ("delivery_method", s("窗口领取")),
        ])),
        materials: vec![material("m_birth_cert_form")],
        delivery: window(),
        channel: common::Channel::Window as i32,
        ..Default::default()
    }
}

pub const RESTAURANT_MATERIALS: [&str; 7] = [
    "m_food_license_app",
    "m_site_layout",
    "m_food_safety_rules",
    "m_sign_app",
    "m_sign_design",
    "m_fire_app",
    "m_fire_plan",
];

/// A complete restaurant application by a company at the window, without
/// the materials named in `without`.
pub fn restaurant(key: &str, without: &[&str]) -> pb::SubmitApplicationRequest {
    pb::SubmitApplicationRequest {
        idempotency_key: key.into(),
        package_id: "open-restaurant".into(),
        applicant: Some(common::Applicant {
            kind: common::ApplicantKind::Company as i32,
            name: "包头市好味道餐饮有限公司".into(),
            id_number: COMPANY_USCC.into(),
            phone: "0472-1234567".into(),
            contact_name: "赵经办".into(),
            contact_id_number: String::new(),
        }),
        form_data: Some(form(vec![
            ("uscc", s(COMPANY_USCC)),
            ("entity_name", s("包头市好味道餐饮有限公司")),
            ("legal_rep_name", s("赵一")),
            ("legal_rep_id_no", s(FATHER_ID)),
            ("site_address", s("包头市昆都仑区钢铁大街1号")),
            ("site_area_m2", n(120.5)),
            ("seat_count", n(40.0)),
            ("food_categories", list(&["热食类食品制售", "自制饮品制售"])),
            ("food_safety_manager", s("钱二")),
            ("staff_count", n(6.0)),
            ("fire_commitment_mode", s("告知承诺")),
            ("sell_tobacco", b(false)),
            ("contact_phone", s("13912345678")),
        ])),
        materials: RESTAURANT_MATERIALS.iter().filter(|m| !without.contains(m)).map(|m| material(m)).collect(),
        delivery: window(),
        channel: common::Channel::Window as i32,
        ..Default::default()
    }
}

pub fn deficiency(id: &str) -> pb::RequestedDeficiency {
    pb::RequestedDeficiency { material_id: id.into(), promised_by: None }
}

pub fn commitment(id: &str) -> pb::RequestedCommitment {
    pb::RequestedCommitment {
        material_id: id.into(),
        commitment_text: "本单位承诺所述情况真实，如有不实愿承担相应责任。".into(),
        signed_form: None,
    }
}

/// The certificate a department approves `task` with (numbered after the
/// item and the task).
pub fn result_document(task: &yiciban_proto::tasks::v1::Task) -> common::ResultDocument {
    common::ResultDocument {
        kind: common::ResultDocumentKind::Certificate as i32,
        name: format!("{}结果", task.item_name),
        number: format!("NO-{}-{}", task.item_code, task.task_id.get(..8).unwrap_or(&task.task_id)),
        issuing_department: task.department.clone(),
        item_code: task.item_code.clone(),
        physical: false,
        ..Default::default()
    }
}

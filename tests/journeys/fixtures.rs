//! Applications the journeys submit.

use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as pb;

fn s(v: &str) -> prost_types::Value {
    prost_types::Value { kind: Some(prost_types::value::Kind::StringValue(v.into())) }
}

/// A complete newborn-birth application (出生一件事) taken at the window.
pub fn newborn(key: &str) -> pb::SubmitApplicationRequest {
    let form = [
        ("newborn_name", "张小宝"),
        ("newborn_gender", "女"),
        ("birth_datetime", "2026-09-27T08:30:00+08:00"),
        ("birth_hospital", "包头市妇幼保健院"),
        ("mother_id_no", "11010519491231002X"),
        ("father_id_no", "150203198801011236"),
        ("hukou_follow", "随母"),
        ("householder_name", "王丽"),
        ("hukou_address", "内蒙古包头市昆都仑区某街道1号"),
        ("insured_address", "内蒙古包头市昆都仑区某街道1号"),
        ("mobile_mother", "13800000000"),
        ("delivery_method", "窗口领取"),
    ];
    pb::SubmitApplicationRequest {
        idempotency_key: key.into(),
        package_id: "newborn-birth".into(),
        applicant: Some(common::Applicant {
            kind: common::ApplicantKind::Person as i32,
            name: "王丽".into(),
            id_number: "11010519491231002X".into(),
            phone: "13800000000".into(),
            contact_name: String::new(),
        }),
        form_data: Some(prost_types::Struct { fields: form.iter().map(|(k, v)| (k.to_string(), s(v))).collect() }),
        materials: vec![common::MaterialRef {
            material_id: "m_birth_cert_form".into(),
            file_name: "form.pdf".into(),
            content_type: "application/pdf".into(),
            sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            size_bytes: 1000,
            storage_key: "uploads/form.pdf".into(),
        }],
        delivery: Some(common::DeliveryPreference {
            method: common::DeliveryMethod::WindowPickup as i32,
            ..Default::default()
        }),
        channel: common::Channel::Window as i32,
        ..Default::default()
    }
}

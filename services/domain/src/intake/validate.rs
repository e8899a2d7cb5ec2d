//! Well-formedness of the parts of a request that do not depend on the
//! package: the applicant (ID number or credit code with check digit, phone),
//! the channel, the delivery preference and document references. Each
//! function records every violation and returns the validated value only
//! when its part is clean.

use super::input::{ApplicantInput, DeliveryInput, DeliveryMethod, MaterialInput, PostalAddressInput};
use super::model::{Applicant, ApplicantKind, DeliveryPreference, MaterialRef, PostalAddress};
use crate::case::Channel;
use crate::refusal::Violations;
use crate::values::{CreditCode, IdNumber, MaterialId, Phone};

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Checks a text of `min..=max` characters (trimmed for the emptiness test).
fn text(v: &mut Violations, path: &str, label: &str, s: &str, min: usize, max: usize) -> bool {
    if min > 0 && s.trim().is_empty() {
        v.add(path, format!("{label}不能为空"));
        false
    } else if chars(s) > max {
        v.add(path, format!("{label}不能超过{max}个字符"));
        false
    } else {
        true
    }
}

/// The applicant, validated against its kind.
pub(super) fn applicant(input: &ApplicantInput, v: &mut Violations) -> Option<Applicant> {
    let before = v.len();
    text(v, "applicant.name", "申请人名称", &input.name, 1, 100);
    text(v, "applicant.contact_name", "经办人姓名", &input.contact_name, 0, 50);
    let phone = Phone::parse(&input.phone).map_err(|e| v.add("applicant.phone", e.to_string())).ok();
    let identity = match input.kind {
        None => {
            v.add("applicant.kind", "申请人类型必须为个人或企业");
            None
        }
        Some(ApplicantKind::Person) => IdNumber::parse(&input.id_number)
            .map(super::model::Identity::Person)
            .map_err(|e| v.add("applicant.id_number", e.to_string()))
            .ok(),
        Some(ApplicantKind::Company) => CreditCode::parse(&input.id_number)
            .map(super::model::Identity::Company)
            .map_err(|e| v.add("applicant.id_number", e.to_string()))
            .ok(),
    };
    let contact_id = input.contact_id_number.trim().to_ascii_uppercase();
    let contact_id_number = match (input.kind, contact_id.is_empty()) {
        (_, true) => None,
        (Some(ApplicantKind::Company), false) => {
            IdNumber::parse(&contact_id).map_err(|e| v.add("applicant.contact_id_number", e.to_string())).ok()
        }
        (_, false) => {
            v.add("applicant.contact_id_number", "仅企业申请人填写经办人身份证号码");
            None
        }
    };
    if v.len() > before {
        return None;
    }
    Some(Applicant {
        identity: identity?,
        name: input.name.trim().to_owned(),
        phone: phone?,
        contact_name: input.contact_name.trim().to_owned(),
        contact_id_number,
    })
}

/// The window, the online portal and the 12345 hotline take submissions.
pub(super) fn submission_channel(channel: Option<Channel>, v: &mut Violations) {
    match channel {
        Some(Channel::Window | Channel::Online | Channel::Hotline) => {}
        Some(Channel::System) => v.add("channel", "申请只能通过综合窗口、网上办理或12345热线提交"),
        None => v.add("channel", "申请渠道不能为空"),
    }
}

/// The delivery preference: an address exactly when mailing.
pub(super) fn delivery(input: &DeliveryInput, v: &mut Violations) -> Option<DeliveryPreference> {
    match (input.method, &input.mail_address) {
        (None, _) => {
            v.add("delivery.method", "请选择窗口领取或邮寄送达");
            None
        }
        (Some(DeliveryMethod::WindowPickup), Some(_)) => {
            v.add("delivery.mail_address", "窗口领取时不应填写邮寄地址");
            None
        }
        (Some(DeliveryMethod::WindowPickup), None) => {
            text(v, "delivery.pickup_hall", "领取大厅代码", &input.pickup_hall, 0, 64)
                .then(|| DeliveryPreference::WindowPickup { pickup_hall: input.pickup_hall.trim().to_owned() })
        }
        (Some(DeliveryMethod::Mail), None) => {
            v.add("delivery.mail_address", "邮寄送达须填写邮寄地址");
            None
        }
        (Some(DeliveryMethod::Mail), Some(a)) => address(a, v).map(|address| DeliveryPreference::Mail { address }),
    }
}

fn address(a: &PostalAddressInput, v: &mut Violations) -> Option<PostalAddress> {
    let before = v.len();
    let p = "delivery.mail_address";
    text(v, &format!("{p}.recipient_name"), "收件人", &a.recipient_name, 1, 50);
    let phone = Phone::parse(&a.recipient_phone).map_err(|e| v.add(format!("{p}.recipient_phone"), e.to_string())).ok();
    text(v, &format!("{p}.province"), "省份", &a.province, 1, 50);
    text(v, &format!("{p}.city"), "城市", &a.city, 1, 50);
    text(v, &format!("{p}.district"), "区县", &a.district, 1, 50);
    text(v, &format!("{p}.address_line"), "详细地址", &a.address_line, 1, 200);
    if !a.postal_code.is_empty() && (a.postal_code.len() != 6 || !a.postal_code.bytes().all(|b| b.is_ascii_digit())) {
        v.add(format!("{p}.postal_code"), "邮政编码应为6位数字");
    }
    if v.len() > before {
        return None;
    }
    Some(PostalAddress {
        recipient_name: a.recipient_name.trim().to_owned(),
        recipient_phone: phone?,
        province: a.province.trim().to_owned(),
        city: a.city.trim().to_owned(),
        district: a.district.trim().to_owned(),
        address_line: a.address_line.trim().to_owned(),
        postal_code: a.postal_code.clone(),
    })
}

/// One document reference at `path` (e.g. `materials[2]`): material id form,
/// file name, MIME type, SHA-256 hex and a size of 1..=`max_bytes`. Whether
/// the package knows the material is the caller's check.
pub(super) fn material_ref(m: &MaterialInput, path: &str, max_bytes: u64, v: &mut Violations) -> Option<MaterialRef> {
    let before = v.len();
    let id = MaterialId::parse(&m.material_id).map_err(|e| v.add(format!("{path}.material_id"), e.to_string())).ok();
    if text(v, &format!("{path}.file_name"), "文件名", &m.file_name, 1, 255)
        && m.file_name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
    {
        v.add(format!("{path}.file_name"), "文件名不能包含路径分隔符或控制字符");
    }
    let mime = m.content_type.split_once('/').is_some_and(|(t, s)| {
        let token =
            |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
        token(t) && token(s.split(';').next().unwrap_or("").trim())
    });
    if !mime || m.content_type.len() > 127 {
        v.add(format!("{path}.content_type"), "文件类型应为MIME类型，如application/pdf");
    }
    if m.sha256_hex.len() != 64 || !m.sha256_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        v.add(format!("{path}.sha256_hex"), "文件摘要应为64位小写十六进制SHA-256");
    }
    if m.size_bytes == 0 {
        v.add(format!("{path}.size_bytes"), "文件不能为空");
    } else if m.size_bytes > max_bytes {
        v.add(format!("{path}.size_bytes"), format!("文件超过大小上限{}", human_size(max_bytes)));
    }
    text(v, &format!("{path}.storage_key"), "存储键", &m.storage_key, 0, 512);
    if v.len() > before {
        return None;
    }
    Some(MaterialRef {
        material_id: id?,
        file_name: m.file_name.clone(),
        content_type: m.content_type.clone(),
        sha256_hex: m.sha256_hex.clone(),
        size_bytes: m.size_bytes,
        storage_key: m.storage_key.clone(),
    })
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes.is_multiple_of(MIB) { format!("{}MiB", bytes / MIB) } else { format!("{bytes}字节") }
}

//! The one form as intake takes it: the fields the clerk typed turned into
//! a SubmitApplicationRequest (form values typed by the schema's kinds, the
//! applicant, the delivery, the uploaded materials, 容缺 and 告知承诺), and
//! intake's field violations mapped back to the inputs they are about.

use std::collections::BTreeMap;

use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};
use yiciban_proto::common::v1::{
    Applicant, ApplicantKind, Channel, DeliveryMethod, DeliveryPreference, MaterialRef, PostalAddress,
};
use yiciban_proto::intake::v1::{RequestedCommitment, RequestedDeficiency, SubmitApplicationRequest};

use super::guard::Form;
use crate::pages::apply::{FieldView, MaterialInput, Widget};

/// The fields of the form that are not what was typed.
pub const FORM_META: [&str; 2] = ["csrf", "key"];

/// The hidden inputs carrying a file stored with an earlier try of the
/// same form: `uploaded.<material id>`.
pub const KEPT_PREFIX: &str = "uploaded.";

/// A material's file intake stored with an earlier, refused try of the
/// form: its reference (never its content), so that the clerk need not
/// choose it again. Intake checks on submission that the content is
/// stored; a forged reference is refused next to the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    pub file_name: String,
    content_type: String,
    sha256_hex: String,
    size_bytes: u64,
    storage_key: String,
}

impl Kept {
    pub fn of(stored: &MaterialRef) -> Kept {
        Kept {
            file_name: stored.file_name.clone(),
            content_type: stored.content_type.clone(),
            sha256_hex: stored.sha256_hex.clone(),
            size_bytes: stored.size_bytes,
            storage_key: stored.storage_key.clone(),
        }
    }

    /// The hidden input's value.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A hidden input's value; `None` when empty or not one.
    pub fn decode(value: &str) -> Option<Kept> {
        serde_json::from_str(value).ok()
    }

    pub fn reference(&self) -> MaterialRef {
        MaterialRef {
            material_id: String::new(),
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            sha256_hex: self.sha256_hex.clone(),
            size_bytes: self.size_bytes,
            storage_key: self.storage_key.clone(),
        }
    }
}

/// The applicant's inputs, named as intake's violations name them.
const APPLICANT_INPUTS: [&str; 6] = [
    "applicant.kind",
    "applicant.name",
    "applicant.id_number",
    "applicant.phone",
    "applicant.contact_name",
    "applicant.contact_id_number",
];

/// The mail address's parts (inputs `delivery.mail_address.<part>`).
const ADDRESS_PARTS: [&str; 7] =
    ["recipient_name", "recipient_phone", "province", "city", "district", "address_line", "postal_code"];

/// A request and the inputs its repeated parts came from (where their
/// violations go).
#[derive(Debug)]
pub struct Built {
    pub request: SubmitApplicationRequest,
    /// `materials[i]` came from the file of this material.
    materials: Vec<String>,
    /// `commitments[i]`, `deficiencies[i]`: of these materials.
    commitments: Vec<String>,
    deficiencies: Vec<String>,
    fields: Vec<String>,
}

/// The request for `package_id` from `form`, with the files `uploaded`
/// (by material id) as stored in intake.
pub fn build(
    package_id: &str,
    form: &Form,
    fields: &[FieldView],
    materials: &[MaterialInput],
    uploaded: &BTreeMap<String, MaterialRef>,
) -> Built {
    let form_data = Struct { fields: fields.iter().filter_map(|f| Some((f.key.clone(), value(f, form)?))).collect() };
    let mut built = Built {
        request: SubmitApplicationRequest {
            idempotency_key: form.get("key").to_owned(),
            package_id: package_id.to_owned(),
            applicant: Some(applicant(form)),
            form_data: Some(form_data),
            delivery: Some(delivery(form)),
            channel: Channel::Window as i32,
            ..Default::default()
        },
        materials: Vec::new(),
        commitments: Vec::new(),
        deficiencies: Vec::new(),
        fields: fields.iter().map(|f| f.key.clone()).collect(),
    };
    for m in materials {
        if let Some(stored) = uploaded.get(&m.id) {
            built.request.materials.push(MaterialRef { material_id: m.id.clone(), ..stored.clone() });
            built.materials.push(m.id.clone());
        }
        match form.get(&m.relief_input) {
            "commitment" => {
                built.request.commitments.push(RequestedCommitment {
                    material_id: m.id.clone(),
                    commitment_text: form.get(&m.commitment_input).to_owned(),
                    signed_form: None,
                });
                built.commitments.push(m.id.clone());
            }
            "deficiency" => {
                built.request.deficiencies.push(RequestedDeficiency { material_id: m.id.clone(), promised_by: None });
                built.deficiencies.push(m.id.clone());
            }
            _ => {}
        }
    }
    built
}

impl Built {
    /// The input a violation of `field` is about; `None`: the whole form.
    pub fn input_of(&self, field: &str) -> Option<String> {
        if APPLICANT_INPUTS.contains(&field) || field == "delivery.method" {
            return Some(field.to_owned());
        }
        if let Some(part) = field.strip_prefix("delivery.mail_address") {
            return Some(match part.strip_prefix('.') {
                Some(part) if ADDRESS_PARTS.contains(&part) => field.to_owned(),
                _ => "delivery.method".to_owned(),
            });
        }
        if let Some(key) = field.strip_prefix("form_data.") {
            let key = key.split('[').next().unwrap_or_default();
            return self.fields.iter().any(|f| f == key).then(|| format!("form.{key}"));
        }
        if let Some(id) = field.strip_prefix("materials.") {
            return Some(format!("file.{id}"));
        }
        let indexed = |prefix: &str, of: &[String]| -> Option<(String, String)> {
            let rest = field.strip_prefix(prefix)?.strip_prefix('[')?;
            let (index, tail) = rest.split_once(']')?;
            Some((of.get(index.parse::<usize>().ok()?)?.clone(), tail.to_owned()))
        };
        if let Some((id, _)) = indexed("materials", &self.materials) {
            return Some(format!("file.{id}"));
        }
        if let Some((id, tail)) = indexed("commitments", &self.commitments) {
            return Some(if tail == ".commitment_text" { format!("commitment.{id}") } else { format!("relief.{id}") });
        }
        if let Some((id, _)) = indexed("deficiencies", &self.deficiencies) {
            return Some(format!("relief.{id}"));
        }
        None
    }
}

fn string(text: &str) -> Value {
    Value { kind: Some(Kind::StringValue(text.to_owned())) }
}

fn list(values: Vec<Value>) -> Value {
    Value { kind: Some(Kind::ListValue(ListValue { values })) }
}

/// The value of `field` as the schema wants it; `None` when left empty
/// (intake then names a required field). A number that is not one is sent
/// as typed, for intake to say so next to it.
fn value(field: &FieldView, form: &Form) -> Option<Value> {
    let text = form.get(&field.input);
    let number = |text: &str| match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Value { kind: Some(Kind::NumberValue(n)) },
        _ => string(text),
    };
    match field.widget {
        Widget::Checkboxes => {
            let chosen: Vec<Value> = form.all(&field.input).filter(|v| !v.is_empty()).map(string).collect();
            (!chosen.is_empty()).then(|| list(chosen))
        }
        Widget::IdList => {
            let ids: Vec<Value> = text
                .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
                .filter(|s| !s.is_empty())
                .map(|s| string(&s.to_ascii_uppercase()))
                .collect();
            (!ids.is_empty()).then(|| list(ids))
        }
        _ if text.is_empty() => None,
        Widget::YesNo => match text {
            "yes" => Some(Value { kind: Some(Kind::BoolValue(true)) }),
            "no" => Some(Value { kind: Some(Kind::BoolValue(false)) }),
            other => Some(string(other)),
        },
        Widget::Number | Widget::Integer => Some(number(text)),
        Widget::DateTime => Some(string(&beijing_datetime(text))),
        _ => Some(string(text)),
    }
}

/// A browser's `datetime-local` (`2026-03-10T08:30`, Beijing time at the
/// window) as RFC 3339; anything else as typed.
fn beijing_datetime(text: &str) -> String {
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"));
    match local {
        Ok(at) => format!("{}+08:00", at.format("%Y-%m-%dT%H:%M:%S")),
        Err(_) => text.to_owned(),
    }
}

fn applicant(form: &Form) -> Applicant {
    let kind = match form.get("applicant.kind") {
        "person" => ApplicantKind::Person,
        "company" => ApplicantKind::Company,
        _ => ApplicantKind::Unspecified,
    };
    let company = kind == ApplicantKind::Company;
    let contact = |input: &str| if company { form.get(input).to_owned() } else { String::new() };
    Applicant {
        kind: kind as i32,
        name: form.get("applicant.name").to_owned(),
        id_number: form.get("applicant.id_number").to_ascii_uppercase(),
        phone: form.get("applicant.phone").to_owned(),
        contact_name: contact("applicant.contact_name"),
        contact_id_number: contact("applicant.contact_id_number").to_ascii_uppercase(),
    }
}

fn delivery(form: &Form) -> DeliveryPreference {
    let part = |name: &str| form.get(&format!("delivery.mail_address.{name}")).to_owned();
    match form.get("delivery.method") {
        "window" => DeliveryPreference { method: DeliveryMethod::WindowPickup as i32, ..Default::default() },
        "mail" => DeliveryPreference {
            method: DeliveryMethod::Mail as i32,
            mail_address: Some(PostalAddress {
                recipient_name: part("recipient_name"),
                recipient_phone: part("recipient_phone"),
                province: part("province"),
                city: part("city"),
                district: part("district"),
                address_line: part("address_line"),
                postal_code: part("postal_code"),
            }),
            pickup_hall: String::new(),
        },
        _ => DeliveryPreference::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::apply::fields_of;

    fn material(id: &str) -> MaterialInput {
        MaterialInput {
            id: id.to_owned(),
            name: id.to_owned(),
            required: true,
            deficiency_allowed: true,
            commitment_allowed: true,
            note: String::new(),
            file_input: format!("file.{id}"),
            relief_input: format!("relief.{id}"),
            commitment_input: format!("commitment.{id}"),
        }
    }

    #[test]
    fn the_form_becomes_the_request_and_each_violation_finds_its_input() {
        let schema = r#"{"x-field-order":["n","d","c","b"],"properties":{
            "n":{"x-kind":"integer"},"d":{"x-kind":"datetime"},"c":{"x-kind":"multi_enum"},"b":{"x-kind":"boolean"}}}"#;
        let fields = fields_of(schema).unwrap();
        let pairs = [
            ("key", "k"),
            ("form.n", "12"),
            ("form.d", "2026-03-10T08:30"),
            ("form.c", "甲"),
            ("form.c", "乙"),
            ("form.b", ""),
            ("applicant.kind", "person"),
            ("applicant.contact_name", "不应发送"),
            ("delivery.method", "window"),
            ("relief.m_b", "commitment"),
            ("commitment.m_b", "本人承诺"),
            ("relief.m_c", "deficiency"),
        ];
        let form = Form::from_pairs(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        let stored = MaterialRef { sha256_hex: "ab".repeat(32), ..Default::default() };
        let uploaded = BTreeMap::from([("m_a".to_owned(), stored)]);
        let built = build("p", &form, &fields, &[material("m_a"), material("m_b"), material("m_c")], &uploaded);
        let r = &built.request;
        let data = &r.form_data.as_ref().unwrap().fields;
        assert_eq!(data["n"].kind, Some(Kind::NumberValue(12.0)));
        assert_eq!(data["d"].kind, Some(Kind::StringValue("2026-03-10T08:30:00+08:00".into())));
        assert!(matches!(&data["c"].kind, Some(Kind::ListValue(l)) if l.values.len() == 2));
        assert!(!data.contains_key("b"), "left empty: not sent");
        assert_eq!(r.applicant.as_ref().unwrap().contact_name, "", "a person has no contact");
        assert_eq!((r.materials[0].material_id.as_str(), r.channel), ("m_a", Channel::Window as i32));
        assert_eq!(r.commitments[0].commitment_text, "本人承诺");
        assert_eq!(r.deficiencies[0].material_id, "m_c");

        for (field, input) in [
            ("applicant.id_number", Some("applicant.id_number")),
            ("form_data.n", Some("form.n")),
            ("form_data.c[1]", Some("form.c")),
            ("form_data.unknown", None),
            ("materials.m_b", Some("file.m_b")),
            ("materials[0].size_bytes", Some("file.m_a")),
            ("commitments[0].commitment_text", Some("commitment.m_b")),
            ("commitments[0].material_id", Some("relief.m_b")),
            ("deficiencies[0].material_id", Some("relief.m_c")),
            ("delivery.mail_address.city", Some("delivery.mail_address.city")),
            ("delivery.mail_address", Some("delivery.method")),
            ("package_id", None),
        ] {
            assert_eq!(built.input_of(field).as_deref(), input, "{field}");
        }
    }
}

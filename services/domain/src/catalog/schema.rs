//! The merged form (一套表单) as a JSON Schema (draft 2020-12): Chinese titles,
//! enums, formats for dates, date-times, phones, ID numbers and credit codes,
//! and `x-prefill-source` annotations. Validation on submission
//! ([`crate::intake::form`]) applies the same rules plus the check digits a
//! schema cannot express.

use serde_json::{Map, Value, json};

use super::guide::Guide;
use super::model::{FieldKind, FormField};

/// The dialect every generated schema declares.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// Pattern of a mobile number in form fields of kind `phone`.
pub const MOBILE_PATTERN: &str = "^1[3-9][0-9]{9}$";
/// Pattern of a resident ID number (the check digit is verified on submission).
pub const ID_NUMBER_PATTERN: &str = "^[0-9]{17}[0-9X]$";
/// Pattern of a unified social credit code (the check character is verified on submission).
pub const CREDIT_CODE_PATTERN: &str = "^[0-9A-HJ-NPQRTUWXY]{18}$";

impl Guide {
    /// The JSON Schema of the package's merged form: an object with one
    /// property per field, `required` listing the required keys, and no
    /// other properties allowed.
    pub fn form_schema(&self) -> Value {
        let p = &self.package;
        let mut properties = Map::new();
        for field in &p.form_fields {
            properties.insert(field.key.clone(), field_schema(field));
        }
        let required: Vec<&str> = p.form_fields.iter().filter(|f| f.required).map(|f| f.key.as_str()).collect();
        let order: Vec<&str> = p.form_fields.iter().map(|f| f.key.as_str()).collect();
        json!({
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": self.schema_id(),
            "title": format!("{}申请表", p.name),
            "description": format!("“{}”一套表单（目录版本 {}），一次填写，各部门共享。", p.name, self.catalog_version),
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
            "x-field-order": order,
        })
    }
}

fn field_schema(f: &FormField) -> Value {
    let mut s = match f.kind {
        FieldKind::String => {
            let mut s = json!({ "type": "string", "maxLength": FieldKind::MAX_STRING });
            if f.required {
                s["minLength"] = json!(1);
            }
            s
        }
        FieldKind::Text => {
            let mut s = json!({ "type": "string", "maxLength": FieldKind::MAX_TEXT });
            if f.required {
                s["minLength"] = json!(1);
            }
            s
        }
        FieldKind::Number => json!({ "type": "number", "minimum": 0 }),
        FieldKind::Integer => json!({ "type": "integer", "minimum": 0 }),
        FieldKind::Boolean => json!({ "type": "boolean" }),
        FieldKind::Date => json!({ "type": "string", "format": "date" }),
        FieldKind::DateTime => json!({ "type": "string", "format": "date-time" }),
        FieldKind::Enum => json!({ "type": "string", "enum": f.options }),
        FieldKind::MultiEnum => json!({
            "type": "array",
            "items": { "type": "string", "enum": f.options },
            "uniqueItems": true,
            "minItems": 1,
        }),
        FieldKind::Phone => json!({ "type": "string", "format": "phone", "pattern": MOBILE_PATTERN }),
        FieldKind::IdCard => id_card(),
        FieldKind::IdCardList => json!({ "type": "array", "items": id_card(), "uniqueItems": true, "minItems": 1 }),
        FieldKind::Uscc => json!({
            "type": "string",
            "format": "uscc",
            "pattern": CREDIT_CODE_PATTERN,
            "description": "18位统一社会信用代码（GB 32100），校验码在提交时核验",
        }),
    };
    s["title"] = json!(f.label);
    s["x-kind"] = json!(f.kind.as_str());
    if let Some(source) = &f.prefill_source {
        s["x-prefill-source"] = json!(source);
    }
    s
}

fn id_card() -> Value {
    json!({
        "type": "string",
        "format": "id_card",
        "pattern": ID_NUMBER_PATTERN,
        "description": "18位公民身份号码（GB 11643），校验码和出生日期在提交时核验",
    })
}

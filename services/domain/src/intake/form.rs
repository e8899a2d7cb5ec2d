//! Validation of the merged form's data against the package's fields: the
//! same rules as the published JSON Schema (required, types, options,
//! patterns, formats, no unknown keys) plus what a schema cannot say (ID
//! number and credit code check digits, real calendar dates). Every
//! violation is reported, with the path `form.<key>` (`form.<key>[i]` inside
//! lists).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value};

use crate::catalog::{FieldKind, FormField};
use crate::refusal::FieldViolation;
use crate::values::{CreditCode, IdNumber, Phone};

/// Every violation of `data` against `fields`; empty when the form is valid.
/// An absent key and `null` both mean "not filled in".
pub fn validate_form(fields: &[FormField], data: &Map<String, Value>) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    for key in data.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            out.push(FieldViolation::new(format!("form_data.{key}"), "表单中没有该字段"));
        }
    }
    for field in fields {
        let path = format!("form_data.{}", field.key);
        match data.get(&field.key) {
            None | Some(Value::Null) => {
                if field.required {
                    out.push(FieldViolation::new(path, format!("{}为必填项", field.label)));
                }
            }
            Some(value) => {
                if let Some(problem) = check(field, value, &path, &mut out) {
                    out.push(FieldViolation::new(path, format!("{}：{problem}", field.label)));
                }
            }
        }
    }
    out
}

/// The problem with one value, if any; list kinds push per-element
/// violations themselves.
fn check(field: &FormField, value: &Value, path: &str, out: &mut Vec<FieldViolation>) -> Option<String> {
    let text = |max: usize| -> Option<String> {
        let Some(s) = value.as_str() else { return Some("应为文本".into()) };
        if field.required && s.trim().is_empty() {
            return Some("为必填项，不能为空".into());
        }
        (s.chars().count() > max).then(|| format!("不能超过{max}个字符"))
    };
    let string = || value.as_str().ok_or_else(|| "应为文本".to_owned());
    match field.kind {
        FieldKind::String => text(FieldKind::MAX_STRING),
        FieldKind::Text => text(FieldKind::MAX_TEXT),
        FieldKind::Number => match value.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => None,
            Some(_) => Some("不能为负数".into()),
            None => Some("应为数字".into()),
        },
        FieldKind::Integer => {
            let whole = value.as_u64().is_some()
                || value.as_i64().is_some()
                || value.as_f64().is_some_and(|n| n.is_finite() && n.fract() == 0.0);
            if !whole {
                Some("应为整数".into())
            } else if value.as_f64().is_some_and(|n| n < 0.0) {
                Some("不能为负数".into())
            } else {
                None
            }
        }
        FieldKind::Boolean => (!value.is_boolean()).then(|| "应为是（true）或否（false）".into()),
        FieldKind::Date => match string() {
            Err(e) => Some(e),
            Ok(s) => (s.len() != 10 || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err())
                .then(|| "应为有效日期，格式YYYY-MM-DD".into()),
        },
        FieldKind::DateTime => match string() {
            Err(e) => Some(e),
            Ok(s) => DateTime::parse_from_rfc3339(s)
                .is_err()
                .then(|| "应为有效日期时间，RFC 3339格式（如2026-01-15T08:30:00+08:00）".into()),
        },
        FieldKind::Enum => match string() {
            Err(e) => Some(e),
            Ok(s) => {
                (!field.options.iter().any(|o| o == s)).then(|| format!("应为以下之一：{}", field.options.join("、")))
            }
        },
        FieldKind::MultiEnum => {
            let Some(values) = value.as_array() else { return Some("应为选项列表".into()) };
            if values.is_empty() {
                return Some("至少选择一项".into());
            }
            let mut seen = HashSet::new();
            for (i, v) in values.iter().enumerate() {
                let problem = match v.as_str() {
                    None => Some("应为文本".to_owned()),
                    Some(s) if !field.options.iter().any(|o| o == s) => {
                        Some(format!("应为以下之一：{}", field.options.join("、")))
                    }
                    Some(s) if !seen.insert(s) => Some("选项重复".to_owned()),
                    Some(_) => None,
                };
                if let Some(p) = problem {
                    out.push(FieldViolation::new(format!("{path}[{i}]"), format!("{}：{p}", field.label)));
                }
            }
            None
        }
        FieldKind::Phone => match string() {
            Err(e) => Some(e),
            Ok(s) => Phone::parse_mobile(s).err().map(|e| e.to_string()),
        },
        FieldKind::IdCard => match string() {
            Err(e) => Some(e),
            Ok(s) => IdNumber::parse(s).err().map(|e| e.to_string()),
        },
        FieldKind::Uscc => match string() {
            Err(e) => Some(e),
            Ok(s) => CreditCode::parse(s).err().map(|e| e.to_string()),
        },
        FieldKind::IdCardList => {
            let Some(values) = value.as_array() else { return Some("应为公民身份号码列表".into()) };
            if values.is_empty() {
                return Some("至少填写一个公民身份号码".into());
            }
            let mut seen = HashSet::new();
            for (i, v) in values.iter().enumerate() {
                let problem = match v.as_str() {
                    None => Some("应为文本".to_owned()),
                    Some(s) => match IdNumber::parse(s) {
                        Err(e) => Some(e.to_string()),
                        Ok(_) if !seen.insert(s) => Some("号码重复".to_owned()),
                        Ok(_) => None,
                    },
                };
                if let Some(p) = problem {
                    out.push(FieldViolation::new(format!("{path}[{i}]"), format!("{}：{p}", field.label)));
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::Catalog;

    fn fields(package: &str) -> Vec<FormField> {
        Catalog::seed().unwrap().package(package).unwrap().form_fields.clone()
    }

    fn paths(v: &[FieldViolation]) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn every_kind_of_field_violation_is_reported_at_once() {
        let data = json!({
            "newborn_name": "",
            "newborn_gender": "未知",
            "birth_datetime": "2026-01-15 08:30",
            "mother_id_no": "110105194912310021",
            "father_id_no": 110105,
            "hukou_follow": "随父",
            "householder_name": "张三",
            "hukou_address": "包头市昆都仑区",
            "insured_address": "包头市昆都仑区",
            "mobile_mother": "12800000000",
            "delivery_method": "窗口领取",
            "favourite_colour": "蓝"
        });
        let v = validate_form(&fields("newborn-birth"), data.as_object().unwrap());
        assert_eq!(
            paths(&v),
            [
                "form_data.favourite_colour",
                "form_data.newborn_name",
                "form_data.newborn_gender",
                "form_data.birth_datetime",
                "form_data.birth_hospital",
                "form_data.mother_id_no",
                "form_data.father_id_no",
                "form_data.mobile_mother",
            ]
        );
        assert!(v.iter().all(|x| !x.description.contains("110105194912310021")), "no personal data echoed");
    }

    #[test]
    fn lists_numbers_dates_and_credit_codes_are_checked_element_by_element() {
        let data = json!({
            "property_cert_no": "蒙(2025)包头市不动产权第0000001号",
            "property_address": "包头市昆都仑区某路1号",
            "seller_id_nos": ["11010519491231002X", "11010519491231002X"],
            "buyer_id_nos": [],
            "share_mode": "单独所有",
            "price_yuan": -1,
            "contract_no": "WQ-1",
            "utility_transfer": ["水", "煤"],
            "buyer_phone": "13800000000"
        });
        let v = validate_form(&fields("resale-housing-transfer"), data.as_object().unwrap());
        assert_eq!(
            paths(&v),
            [
                "form_data.seller_id_nos[1]",
                "form_data.buyer_id_nos",
                "form_data.price_yuan",
                "form_data.utility_transfer[1]"
            ]
        );
        let data = json!({
            "employer_uscc": "91350100M000100Y44", "employee_name": "李四", "employee_id_no": "11010519491231002X",
            "hire_date": "2026-02-30", "contract_term": "固定期限", "monthly_wage": 5000, "job_title": "厨师",
            "need_sscard": "是", "has_personnel_file": false, "employee_phone": "13912345678", "hpf_base": null
        });
        let v = validate_form(&fields("employee-hiring"), data.as_object().unwrap());
        assert_eq!(paths(&v), ["form_data.employer_uscc", "form_data.hire_date", "form_data.need_sscard"]);
    }
}

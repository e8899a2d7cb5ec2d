//! The texts of the messages: one template per [`Kind`], in Chinese, with
//! `{placeholder}`s filled from the case (number, package) and the event's
//! facts. Defaults are here; a deployment may replace any of them with a
//! JSON file (`YICIBAN_SMS_TEMPLATES_FILE`: `{"accepted": "…", …}`), checked
//! at start: an unknown kind, an unknown placeholder or an unclosed brace is
//! refused then, never found when a message is sent. No placeholder names
//! anything personal: the applicant is addressed without a name, the case by
//! its number.

use std::collections::{BTreeMap, HashMap};

use crate::notice::Kind;

/// The template of each kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    by_kind: BTreeMap<Kind, String>,
}

/// A template the file gives that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the templates file is not a JSON object of strings: {0}")]
    NotAnObject(String),
    #[error(
        "{0:?} is no message kind (expected one of accepted, supplement_requested, decided, ready_for_pickup, mailed)"
    )]
    UnknownKind(String),
    #[error("the {kind} template uses {{{placeholder}}}, which it cannot (it may use {allowed})")]
    UnknownPlaceholder { kind: &'static str, placeholder: String, allowed: String },
    #[error("the {0} template has a brace that is not closed or not opened")]
    Unbalanced(&'static str),
    #[error("the {0} template is empty")]
    Empty(&'static str),
}

/// The built-in text of `kind`.
pub fn default_template(kind: Kind) -> &'static str {
    match kind {
        Kind::Accepted => {
            "【一次办】您的办件{case_number}（{package}）已受理，承诺办结日期为{promised_by}。可凭办件编号查询办理进度。"
        }
        Kind::SupplementRequested => {
            "【一次办】您的办件{case_number}（{package}）需补正材料，请于{due_by}前补正，所需材料以一次性告知书为准。"
        }
        Kind::Decided => "【一次办】您的办件{case_number}（{package}）已办结，办理结果：{outcome}。",
        Kind::ReadyForPickup => {
            "【一次办】您的办件{case_number}（{package}）的结果已可领取，请于{pickup_by}前到{pickup_place}领取，领取时请携带有效身份证件。"
        }
        Kind::Mailed => {
            "【一次办】您的办件{case_number}（{package}）的结果已由{courier}寄出，运单号{tracking_number}。"
        }
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates { by_kind: Kind::ALL.into_iter().map(|k| (k, default_template(k).to_owned())).collect() }
    }
}

impl Templates {
    /// The defaults with the kinds `json` names replaced, each checked.
    pub fn with_overrides(json: &str) -> Result<Templates, TemplateError> {
        let given: HashMap<String, String> =
            serde_json::from_str(json).map_err(|e| TemplateError::NotAnObject(e.to_string()))?;
        let mut templates = Templates::default();
        for (name, text) in given {
            let kind = Kind::parse(name.trim()).ok_or(TemplateError::UnknownKind(name))?;
            check(kind, &text)?;
            templates.by_kind.insert(kind, text);
        }
        Ok(templates)
    }

    /// The text of `kind` with its placeholders filled from `values`; a
    /// placeholder without a value (or an empty one) reads `—`.
    pub fn render(&self, kind: Kind, values: &BTreeMap<String, String>) -> String {
        let template = self.by_kind.get(&kind).map_or(default_template(kind), String::as_str);
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            let value = values.get(&after[..close]).map(|v| v.trim()).filter(|v| !v.is_empty());
            out.push_str(value.unwrap_or("—"));
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Whether `text` is a usable template of `kind`.
fn check(kind: Kind, text: &str) -> Result<(), TemplateError> {
    if text.trim().is_empty() {
        return Err(TemplateError::Empty(kind.name()));
    }
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(TemplateError::Unbalanced(kind.name()));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::Unbalanced(kind.name()))?;
        let placeholder = &after[..close];
        if placeholder.contains('{') {
            return Err(TemplateError::Unbalanced(kind.name()));
        }
        if !kind.placeholders().contains(&placeholder) {
            return Err(TemplateError::UnknownPlaceholder {
                kind: kind.name(),
                placeholder: placeholder.to_owned(),
                allowed: kind.placeholders().iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", "),
            });
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn every_default_template_passes_its_own_check() {
        for kind in Kind::ALL {
            check(kind, default_template(kind)).unwrap();
        }
    }

    #[test]
    fn a_pickup_message_names_the_case_the_place_and_the_day() {
        let text = Templates::default().render(
            Kind::ReadyForPickup,
            &values(&[
                ("case_number", "YCB-20260316-000001"),
                ("package", "开餐馆"),
                ("pickup_place", "政务服务中心一楼8号窗口"),
                ("pickup_by", "2026年5月1日"),
            ]),
        );
        assert_eq!(
            text,
            "【一次办】您的办件YCB-20260316-000001（开餐馆）的结果已可领取，请于2026年5月1日前到政务服务中心一楼8号窗口领取，领取时请携带有效身份证件。"
        );
    }

    #[test]
    fn a_missing_fact_reads_as_a_dash_not_as_its_placeholder() {
        let text = Templates::default().render(
            Kind::Mailed,
            &values(&[("case_number", "YCB-1"), ("package", "新生儿"), ("courier", "EMS"), ("tracking_number", " ")]),
        );
        assert!(text.ends_with("已由EMS寄出，运单号—。"), "{text}");
        assert!(!text.contains('{'));
    }

    #[test]
    fn a_deployment_replaces_one_template_and_keeps_the_others() {
        let t = Templates::with_overrides(r#"{"decided": "办件{case_number}已办结：{outcome}"}"#).unwrap();
        let text = t.render(Kind::Decided, &values(&[("case_number", "YCB-2"), ("outcome", "准予办理")]));
        assert_eq!(text, "办件YCB-2已办结：准予办理");
        assert_eq!(t.by_kind[&Kind::Accepted], default_template(Kind::Accepted));
    }

    #[test]
    fn templates_that_cannot_be_used_are_refused_at_start() {
        let refused = |json: &str| Templates::with_overrides(json).unwrap_err();
        assert_eq!(refused(r#"{"birthday": "x"}"#), TemplateError::UnknownKind("birthday".into()));
        assert!(matches!(
            refused(r#"{"accepted": "您好{applicant_name}"}"#),
            TemplateError::UnknownPlaceholder { kind: "accepted", .. }
        ));
        assert!(matches!(
            refused(r#"{"decided": "办件{pickup_place}"}"#),
            TemplateError::UnknownPlaceholder { kind: "decided", .. }
        ));
        assert_eq!(refused(r#"{"mailed": "运单{tracking_number"}"#), TemplateError::Unbalanced("mailed"));
        assert_eq!(refused(r#"{"mailed": "运单}"}"#), TemplateError::Unbalanced("mailed"));
        assert_eq!(refused(r#"{"mailed": " "}"#), TemplateError::Empty("mailed"));
        assert!(matches!(refused("[1]"), TemplateError::NotAnObject(_)));
    }
}

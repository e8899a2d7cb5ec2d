//! `/packages/{id}/apply`: the one form (一套表单) of a package as the
//! window fills it — the fields of CatalogService.GetApplicationFormSchema
//! (each with its type, label, whether required and its options), the
//! applicant (person or company), the delivery (window pick-up or mail),
//! each material with its file input and, only where the catalog allows,
//! 容缺 (hand in later) or 告知承诺 (a signed commitment instead). A refused
//! form comes back with what was typed (never a file's content, but the
//! files intake stored already, by reference) and every problem next to
//! its input.

use std::collections::BTreeMap;

use askama::Template;
use serde_json::Value;
use yiciban_proto::catalog::v1::Guide;

use super::Layout;
use super::decide::Sent;
use super::packages::GuideView;

/// How a form field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Widget {
    Text,
    TextArea,
    Number,
    Integer,
    YesNo,
    Date,
    DateTime,
    Select,
    Checkboxes,
    Phone,
    /// Several ID numbers, one a line.
    IdList,
}

/// One field of the merged form.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub key: String,
    /// The input's name: `form.<key>`.
    pub input: String,
    /// The input's id (its label's `for`): `f-<key>`.
    pub id: String,
    pub label: String,
    pub required: bool,
    pub widget: Widget,
    pub options: Vec<String>,
    /// Where the value usually comes from (e.g. 电子户口簿); may be empty.
    pub hint: String,
}

/// The fields of a form schema (JSON Schema text of
/// GetApplicationFormSchema), in the schema's `x-field-order`; `None` when
/// the text is not such a schema.
pub fn fields_of(json_schema: &str) -> Option<Vec<FieldView>> {
    let schema: Value = serde_json::from_str(json_schema).ok()?;
    let properties = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let order: Vec<String> = match schema.get("x-field-order").and_then(Value::as_array) {
        Some(order) => order.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        None => properties.keys().cloned().collect(),
    };
    let fields = order
        .into_iter()
        .filter_map(|key| {
            let s = properties.get(&key)?;
            let text = |name: &str| s.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            let kind = text("x-kind");
            let options = s
                .get("enum")
                .or_else(|| s.get("items").and_then(|i| i.get("enum")))
                .and_then(Value::as_array)
                .map(|o| o.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let widget = match kind.as_str() {
                "text" => Widget::TextArea,
                "number" => Widget::Number,
                "integer" => Widget::Integer,
                "boolean" => Widget::YesNo,
                "date" => Widget::Date,
                "datetime" => Widget::DateTime,
                "enum" => Widget::Select,
                "multi_enum" => Widget::Checkboxes,
                "phone" => Widget::Phone,
                "id_card_list" => Widget::IdList,
                _ => Widget::Text,
            };
            let label = Some(text("title")).filter(|t| !t.is_empty()).unwrap_or_else(|| key.clone());
            Some(FieldView {
                input: format!("form.{key}"),
                id: format!("f-{key}"),
                required: required.contains(&key.as_str()),
                label,
                widget,
                options,
                hint: text("x-prefill-source"),
                key,
            })
        })
        .collect();
    Some(fields)
}

/// One material of the form.
#[derive(Debug, Clone)]
pub struct MaterialInput {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub deficiency_allowed: bool,
    pub commitment_allowed: bool,
    pub note: String,
    /// The file input: `file.<id>`.
    pub file_input: String,
    /// The choice 容缺 / 告知承诺: `relief.<id>` (`deficiency`, `commitment`).
    pub relief_input: String,
    /// The commitment's text: `commitment.<id>`.
    pub commitment_input: String,
}

/// The materials the applicant hands in (those fetched from a shared
/// source are not asked for), and the names of those fetched.
pub fn materials_of(guide: &Guide) -> (Vec<MaterialInput>, Vec<String>) {
    let mut handed = Vec::new();
    let mut shared = Vec::new();
    for m in &guide.materials {
        if !m.applicant_must_submit {
            shared.push(m.name.clone());
            continue;
        }
        handed.push(MaterialInput {
            file_input: format!("file.{}", m.id),
            relief_input: format!("relief.{}", m.id),
            commitment_input: format!("commitment.{}", m.id),
            id: m.id.clone(),
            name: m.name.clone(),
            required: m.required,
            deficiency_allowed: m.deficiency_allowed,
            commitment_allowed: m.commitment_allowed,
            note: m.note.clone(),
        });
    }
    (handed, shared)
}

/// The form of a package.
#[derive(Debug, Template)]
#[template(path = "apply.html")]
pub struct ApplyPage {
    pub layout: Layout,
    pub guide: GuideView,
    pub action: String,
    /// This form's idempotency key: a double submit files one application.
    pub key: String,
    pub fields: Vec<FieldView>,
    pub materials: Vec<MaterialInput>,
    /// Materials fetched from shared sources (免提交), by name.
    pub shared: Vec<String>,
    /// The largest file taken, worded.
    pub max_file: String,
    /// What was sent and what was wrong with it (empty on a fresh form).
    pub sent: Sent,
    /// Files intake stored with an earlier try of this form, by material
    /// id: the file's name and the hidden input's value (its reference).
    pub kept: BTreeMap<String, (String, String)>,
}

impl ApplyPage {
    /// The file intake already stored for `material`: its name and the
    /// hidden input's value.
    pub fn kept_of(&self, material: &str) -> Option<&(String, String)> {
        self.kept.get(material)
    }

    /// Whether the field `input` was sent with `value` (or, on a fresh form,
    /// whether `value` is the default: a person, window pick-up).
    pub fn chosen(&self, input: &str, value: &str) -> bool {
        if self.sent.value(input).is_empty() {
            return matches!((input, value), ("applicant.kind", "person") | ("delivery.method", "window"));
        }
        self.sent.checked(input, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_of_a_schema_follow_its_order_with_their_kinds_labels_and_options() {
        let schema = r#"{"type":"object","required":["b"],"x-field-order":["b","a","c"],"properties":{
            "a":{"type":"string","title":"甲","x-kind":"enum","enum":["x","y"]},
            "b":{"type":"string","title":"乙","x-kind":"date","x-prefill-source":"电子证照"},
            "c":{"type":"array","title":"丙","x-kind":"multi_enum","items":{"type":"string","enum":["p","q"]}}}}"#;
        let fields = fields_of(schema).unwrap();
        let keys: Vec<_> = fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert!(fields[0].required && !fields[1].required);
        assert_eq!(
            (fields[0].widget, fields[0].hint.as_str(), fields[0].input.as_str()),
            (Widget::Date, "电子证照", "form.b")
        );
        assert_eq!(
            (fields[1].widget, fields[1].options.clone()),
            (Widget::Select, vec!["x".to_owned(), "y".to_owned()])
        );
        assert_eq!((fields[2].widget, fields[2].options.len()), (Widget::Checkboxes, 2));
        assert!(fields_of("not json").is_none());
    }
}

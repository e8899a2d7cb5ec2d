//! Properties of the submission's decide-and-validate path, for any text in
//! any field: every kind of character (control characters, bidirectional
//! overrides, zero-width and combining marks, emoji, invalid-looking IDs,
//! very long values) is either accepted or refused with violations that name
//! their field — never a panic, never an unbounded answer.

use proptest::prelude::*;

use super::*;
use crate::aggregate::Aggregate as _;

/// Text of every kind a client can send in a string field.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "\\PC{0,40}",
        "[\\x00-\\x1f\\x7f\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{feff}]{0,8}",
        "[\\u{0300}-\\u{036f}\\u{1f600}-\\u{1f64f}\\u{4e00}-\\u{4e20}]{0,12}",
        ".{300,600}",
        Just(String::new()),
        Just("   ".to_owned()),
        "[0-9Xx]{17,19}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_in_any_field_is_accepted_or_refused_by_field_never_a_panic(
        package in prop_oneof![Just("newborn-birth".to_owned()), Just("open-restaurant".to_owned()), any_text()],
        name in any_text(),
        id in any_text(),
        phone in any_text(),
        key in any_text(),
        value in any_text(),
        material in any_text(),
        commitment in any_text(),
        optional in any_text(),
    ) {
        let mut draft = newborn();
        draft.package_id = package;
        draft.applicant.name = name;
        draft.applicant.id_number = id;
        draft.applicant.phone = phone;
        draft.form_data.insert(key, serde_json::Value::String(value.clone()));
        draft.form_data.insert("newborn_name".into(), serde_json::Value::String(value));
        draft.materials[0].material_id = material;
        draft.commitments.push(CommitmentRequest { material_id: commitment.clone(), commitment_text: commitment });
        draft.optional_item_codes.push(optional);
        match CaseApplication::default().decide(submit(draft, CreditStatus::Normal)) {
            Ok(events) => prop_assert!(!events.is_empty(), "a decision records something"),
            Err(DomainError::Rejected(rejection)) => {
                prop_assert!(!rejection.violations.is_empty(), "a refusal names what is wrong");
                for v in &rejection.violations {
                    prop_assert!(!v.field.is_empty() && !v.description.is_empty(), "{v:?}");
                }
            }
            Err(other) => prop_assert!(!other.to_string().is_empty(), "{other:?}"),
        }
    }
}

//! Which personal data an answer shows in clear: what the read log records
//! (`yiciban_platform::read_log`) before the answer is sent.

use yiciban_proto::intake::v1 as pb;

/// GetCase's path, as the read log names it.
pub const GET_CASE: &str = "/yiciban.intake.v1.IntakeService/GetCase";

/// The personal fields `case` shows in clear: none when it was masked,
/// else the applicant, the form and the mail address where present.
pub fn personal_fields_shown(case: &pb::Case, masked: bool) -> Vec<&'static str> {
    if masked {
        return Vec::new();
    }
    let mut shown = Vec::new();
    if case.applicant.is_some() {
        shown.push("applicant");
    }
    if case.form_data.as_ref().is_some_and(|f| !f.fields.is_empty()) {
        shown.push("form_data");
    }
    if case.delivery.as_ref().is_some_and(|d| d.mail_address.is_some()) {
        shown.push("delivery.mail_address");
    }
    shown
}

#[cfg(test)]
mod tests {
    use yiciban_proto::common::v1 as common;

    use super::*;

    #[test]
    fn a_clear_answer_names_what_it_shows_and_a_masked_one_nothing() {
        let mut case = pb::Case { applicant: Some(common::Applicant::default()), ..Default::default() };
        assert_eq!(personal_fields_shown(&case, false), ["applicant"]);
        assert!(personal_fields_shown(&case, true).is_empty());
        case.form_data = Some(prost_types::Struct {
            fields: [("name".to_owned(), prost_types::Value::default())].into_iter().collect(),
        });
        case.delivery = Some(common::DeliveryPreference {
            mail_address: Some(common::PostalAddress::default()),
            ..Default::default()
        });
        assert_eq!(personal_fields_shown(&case, false), ["applicant", "form_data", "delivery.mail_address"]);
        assert!(personal_fields_shown(&pb::Case::default(), false).is_empty());
    }
}

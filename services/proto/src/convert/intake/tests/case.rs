//! The GetCase read model: in clear, masked on request, a refused case's
//! reasons, and what a department's steps let it read.

use super::*;

fn restaurant_case() -> CaseApplication {
    let mut events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    events.push(Event::OfficerAssigned(OfficerAssigned {
        officer_id: "liming".into(),
        officer_name: "李明".into(),
        previous_officer_id: None,
    }));
    let state = CaseApplication::replay(&events);
    let supplement = Command::SupplementMaterials(SupplementMaterials {
        materials: vec![MaterialInput::from(&pb_material("m_site_layout"))],
        supplement_request: None,
        now: now() + chrono::Duration::days(2),
        max_material_bytes: DEFAULT_MAX_MATERIAL_BYTES,
    });
    events.extend(state.decide(supplement).unwrap());
    CaseApplication::replay(&events)
}

#[test]
fn the_case_shows_the_state_in_clear() {
    let state = restaurant_case();
    let case = case_to_pb(&state, false);
    assert_eq!(case.case_id, "");
    assert_eq!(case.case_number, "YCB-20260115-000123");
    assert_eq!(case.package_id, "open-restaurant");
    assert_eq!(case.status, pb::CaseStatus::AcceptedWithDeficiency as i32);
    assert_eq!(case.decision, api::AcceptanceDecision::AcceptedWithDeficiency as i32);
    assert_eq!(case.applicant.as_ref().unwrap().id_number, COMPANY_USCC);
    assert_eq!(case.applicant.as_ref().unwrap().phone, "0472-1234567");
    assert_eq!(case.applicant.as_ref().unwrap().kind, pb::ApplicantKind::Company as i32);
    assert_eq!(case.materials.len(), 5);
    let progress: Vec<_> =
        case.deficiencies.iter().map(|d| (d.deficiency.as_ref().unwrap().material_id.as_str(), d.cleared)).collect();
    assert_eq!(progress, [("m_site_layout", true), ("m_sign_design", false)]);
    assert_eq!(case.deficiencies[0].cleared_on, Some(pb_date(2026, 1, 17)));
    assert_eq!(case.deficiencies[1].cleared_on, None);
    assert_eq!(case.commitments[0].post_check_department, "fire");
    assert!(case.item_codes.iter().any(|c| c == "DEMO-CY-02"));
    assert_eq!(case.officer_id, "liming");
    assert_eq!(case.accepted_on, Some(pb_date(2026, 1, 15)));
    assert_eq!(case.promised_by, Some(pb_date(2026, 2, 3)));
    assert_eq!(case.promised_working_days, state.promised_working_days);
    assert_eq!(case.version, state.version);
    assert!(case.reasons.is_empty());
}

#[test]
fn the_case_masks_personal_data_on_request() {
    let events = submit(&newborn_request(), CreditStatus::Normal).unwrap();
    let case = case_to_pb(&CaseApplication::replay(&events), true);
    let applicant = case.applicant.unwrap();
    assert_eq!(applicant.name, "王*");
    assert_eq!(applicant.id_number, "110105********002X");
    assert_eq!(applicant.phone, "138****0000");
    assert_eq!(applicant.kind, pb::ApplicantKind::Person as i32);
    assert_eq!(case.decision, api::AcceptanceDecision::Accepted as i32);

    let Event::ApplicationSubmitted(submitted) = &submit(&restaurant_request(), CreditStatus::Good).unwrap()[0] else {
        panic!()
    };
    let masked = delivery_to_pb(&submitted.personal.clear().unwrap().delivery, true).mail_address.unwrap();
    assert_eq!(
        (masked.recipient_name.as_str(), masked.recipient_phone.as_str(), masked.address_line.as_str()),
        ("赵**", "139****5678", "****")
    );
    assert_eq!((masked.province.as_str(), masked.city.as_str()), ("内蒙古自治区", "包头市"));
    let clear = delivery_to_pb(&submitted.personal.clear().unwrap().delivery, false).mail_address.unwrap();
    assert_eq!(clear.address_line, "钢铁大街1号好味道餐厅");
}

#[test]
fn a_refused_case_lists_its_reasons() {
    let events = submit(&restaurant_request(), CreditStatus::Dishonest).unwrap();
    let case = case_to_pb(&CaseApplication::replay(&events), true);
    assert_eq!(case.status, pb::CaseStatus::NotAccepted as i32);
    assert_eq!(case.decision, api::AcceptanceDecision::NotAccepted as i32);
    assert!(case.reasons.iter().any(|r| r.code == "CREDIT_RESTRICTED"), "{:?}", case.reasons);
    assert_eq!(case.accepted_on, None);
    // A company's registered name is public and stays.
    assert_eq!(case.applicant.unwrap().name, "包头市好味道餐饮有限公司");
}

#[test]
fn a_department_gets_only_the_fields_its_steps_list() {
    use std::collections::BTreeSet;
    use yiciban_domain::catalog::DataField;

    let events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    let state = CaseApplication::replay(&events);
    let fields: BTreeSet<DataField> =
        [DataField::ApplicantName, DataField::Form("site_address".into())].into_iter().collect();
    let (applicant, form, mail) = minimised_to_pb(&state, &fields);
    let applicant = applicant.unwrap();
    assert_eq!(applicant.name, "包头市好味道餐饮有限公司");
    assert_eq!(applicant.kind, pb::ApplicantKind::Company as i32);
    assert_eq!((applicant.id_number.as_str(), applicant.phone.as_str(), applicant.contact_name.as_str()), ("", "", ""));
    assert_eq!(form.fields.keys().collect::<Vec<_>>(), ["site_address"]);
    assert!(mail.is_none(), "the mail address was not listed");

    let everything: BTreeSet<DataField> = DataField::FIXED.into_iter().map(|(_, f)| f).collect();
    let (applicant, form, mail) = minimised_to_pb(&state, &everything);
    assert_eq!(applicant.unwrap().id_number, COMPANY_USCC);
    assert!(form.fields.is_empty(), "no form field was listed");
    assert_eq!(mail.unwrap().address_line, "钢铁大街1号好味道餐厅", "in clear when listed");
    let (applicant, form, mail) = minimised_to_pb(&state, &BTreeSet::new());
    assert_eq!(applicant.unwrap(), pb::Applicant { kind: pb::ApplicantKind::Company as i32, ..Default::default() });
    assert!(form.fields.is_empty() && mail.is_none());
}

//! Submission: every decision path and every kind of rejection.

use super::*;
use crate::values::{DepartmentCode, IdNumber, ItemCode, MaterialId, PackageId, Phone};

fn codes(list: &[&str]) -> Vec<ItemCode> {
    list.iter().map(|c| ItemCode::parse(c).unwrap()).collect()
}

fn reasons_of(events: &[Event]) -> Vec<(String, ReasonCode)> {
    match &events[1] {
        Event::ApplicationNotAccepted(e) => e.reasons.iter().map(|r| (r.path.clone(), r.code)).collect(),
        other => panic!("expected not accepted, got {other:?}"),
    }
}

fn accepted_of(events: &[Event]) -> &ApplicationAccepted {
    match &events[1] {
        Event::ApplicationAccepted(e) => e,
        other => panic!("expected accepted, got {other:?}"),
    }
}

#[test]
fn a_complete_newborn_application_is_accepted_with_shared_materials_fetched() {
    let draft = newborn();
    let state = given(vec![]).when(submit(draft.clone(), CreditStatus::Good)).then(vec![
        Event::ApplicationSubmitted(ApplicationSubmitted {
            case_number: case_number(),
            package_id: PackageId::parse("newborn-birth").unwrap(),
            catalog_version: "2026.1".into(),
            applicant_kind: ApplicantKind::Person,
            data_subject: "subject-of-the-applicant".into(),
            personal: Personal::Clear(PersonalData {
                applicant: Applicant {
                    identity: Identity::Person(IdNumber::parse(MOTHER_ID).unwrap()),
                    name: "王丽".into(),
                    phone: Phone::parse("13800000000").unwrap(),
                    contact_name: String::new(),
                    contact_id_number: None,
                },
                form_data: draft.form_data.clone(),
                delivery: DeliveryPreference::WindowPickup { pickup_hall: String::new() },
            }),
            materials: vec![MaterialRef {
                material_id: MaterialId::parse("m_birth_cert_form").unwrap(),
                file_name: "m_birth_cert_form.pdf".into(),
                content_type: "application/pdf".into(),
                sha256_hex: draft.materials[0].sha256_hex.clone(),
                size_bytes: 120_000,
                storage_key: "uploads/2026/01/m_birth_cert_form".into(),
            }],
            optional_item_codes: vec![],
            site_code: String::new(),
        }),
        Event::ApplicationAccepted(ApplicationAccepted {
            case_number: case_number(),
            package_id: PackageId::parse("newborn-birth").unwrap(),
            notice_number: "YCB-20260115-000123-SL".into(),
            accepted_on: today(),
            item_codes: codes(&["DEMO-NB-01", "DEMO-NB-02", "DEMO-NB-03", "DEMO-NB-04", "DEMO-NB-05", "DEMO-NB-06"]),
            lead_department: DepartmentCode::parse("health").unwrap(),
            promised_working_days: 5,
            promised_by: date(2026, 1, 22),
            deficiencies: vec![],
            commitments: vec![],
            catalog_version: "2026.1".into(),
        }),
    ]);
    assert_eq!(state.status, Status::Accepted);
    assert_eq!(state.catalog_version.as_deref(), Some("2026.1"));
    assert_eq!(state.version, 2);
}

#[test]
fn a_restaurant_accepted_with_deficiency_owes_the_material_until_the_capped_due_date() {
    let mut draft = restaurant_without(&["m_site_layout", "m_sign_design"]);
    draft.deficiencies = vec![
        deficiency("m_site_layout"),
        DeficiencyRequest { material_id: "m_sign_design".into(), promised_by: Some(date(2026, 1, 19)) },
    ];
    let (events, state) = given(vec![]).when(submit(draft, CreditStatus::Normal)).then_ok();
    let accepted = accepted_of(&events);
    let owed: Vec<(&str, NaiveDate, Vec<&str>)> = accepted
        .deficiencies
        .iter()
        .map(|d| (d.material_id.as_str(), d.due_by, d.item_codes.iter().map(ItemCode::as_str).collect()))
        .collect();
    assert_eq!(
        owed,
        [
            ("m_site_layout", date(2026, 1, 22), vec!["DEMO-CY-02", "DEMO-CY-04"]),
            ("m_sign_design", date(2026, 1, 19), vec!["DEMO-CY-03"]),
        ]
    );
    assert_eq!(state.status, Status::AcceptedWithDeficiency);
    assert_eq!(state.open_deficiencies().count(), 2);
}

#[test]
fn a_deficiency_is_never_due_after_the_promised_date_of_the_case() {
    let mut draft = restaurant_without(&["m_site_layout"]);
    draft.deficiencies =
        vec![DeficiencyRequest { material_id: "m_site_layout".into(), promised_by: Some(date(2026, 3, 1)) }];
    let Command::Submit(mut cmd) = submit(draft, CreditStatus::Good) else { unreachable!() };
    cmd.promised_by = date(2026, 1, 20);
    cmd.deficiency_due_by = date(2026, 1, 29);
    let (events, _) = given(vec![]).when(Command::Submit(cmd)).then_ok();
    assert_eq!(accepted_of(&events).deficiencies[0].due_by, date(2026, 1, 20));
}

#[test]
fn a_commitment_replaces_a_proof_and_is_flagged_for_post_check_by_its_department() {
    let mut draft = restaurant_without(&["m_fire_plan"]);
    draft.commitments = vec![commitment("m_fire_plan")];
    let (events, state) = given(vec![]).when(submit(draft, CreditStatus::Good)).then_ok();
    let accepted = accepted_of(&events);
    assert!(accepted.deficiencies.is_empty());
    assert_eq!(
        accepted.commitments,
        [Commitment {
            material_id: MaterialId::parse("m_fire_plan").unwrap(),
            material_name: "消防安全制度、灭火和应急疏散预案".into(),
            commitment_text: "本人承诺所述情况真实，如有不实愿承担相应责任。".into(),
            post_check_department: DepartmentCode::parse("fire").unwrap(),
            post_check_by: None,
        }]
    );
    assert_eq!(state.status, Status::Accepted);
    assert_eq!(state.commitments.len(), 1);
}

#[test]
fn every_business_reason_is_listed_at_once_when_not_accepted() {
    // a person applying for a company package, a deficiency on a key
    // material and a commitment on a material that does not allow one
    let mut draft = restaurant_without(&["m_food_license_app", "m_sign_app"]);
    draft.applicant = person(MOTHER_ID);
    draft.deficiencies = vec![deficiency("m_food_license_app")];
    draft.commitments = vec![commitment("m_sign_app")];
    let (events, state) = given(vec![]).when(submit(draft, CreditStatus::Normal)).then_ok();
    assert_eq!(
        reasons_of(&events),
        [
            ("applicant.kind".into(), ReasonCode::NotEligible),
            ("commitments.m_sign_app".into(), ReasonCode::CommitmentNotAllowed),
            ("deficiencies.m_food_license_app".into(), ReasonCode::DeficiencyNotAllowed),
            ("materials.m_sign_app".into(), ReasonCode::MaterialMissing),
            ("materials.m_food_license_app".into(), ReasonCode::MaterialMissing),
        ]
    );
    let Event::ApplicationNotAccepted(e) = &events[1] else { unreachable!() };
    assert_eq!(e.notice_number, "YCB-20260115-000123-BSL");
    assert_eq!(state.status, Status::NotAccepted);
    assert_eq!(state.reasons.len(), 5);
}

#[test]
fn a_dishonest_applicant_is_refused_both_deficiency_and_commitment() {
    let mut draft = restaurant_without(&["m_site_layout", "m_fire_plan"]);
    draft.deficiencies = vec![deficiency("m_site_layout")];
    draft.commitments = vec![commitment("m_fire_plan")];
    let events = submitted(draft, CreditStatus::Dishonest);
    assert_eq!(
        reasons_of(&events),
        [
            ("commitments.m_fire_plan".into(), ReasonCode::CreditRestricted),
            ("deficiencies.m_site_layout".into(), ReasonCode::CreditRestricted),
            ("materials.m_fire_plan".into(), ReasonCode::MaterialMissing),
            ("materials.m_site_layout".into(), ReasonCode::MaterialMissing),
        ]
    );
}

#[test]
fn a_dishonest_applicant_with_every_material_is_accepted() {
    let events = submitted(restaurant(), CreditStatus::Dishonest);
    assert!(matches!(events[1], Event::ApplicationAccepted(_)));
}

#[test]
fn a_company_may_file_a_retirement_for_its_employee() {
    let employer = credit_code("91150203MA0N12345");
    let draft = ApplicationDraft {
        package_id: "retirement".into(),
        applicant: company(&employer),
        form_data: serde_json::from_value(json!({
            "applicant_id_no": MOTHER_ID, "applicant_name": "王丽", "retire_type": "正常退休",
            "employer_uscc": employer, "hukou_verified": true, "hpf_center": "包头市住房公积金管理中心",
            "bank_name": "中国工商银行", "bank_account": "6222000000000000000", "contact_phone": "13800000000"
        }))
        .unwrap(),
        materials: vec![material("m_bank_card_i")],
        delivery: window(),
        channel: Some(Channel::Window),
        ..ApplicationDraft::default()
    };
    let events = submitted(draft, CreditStatus::Good);
    assert_eq!(accepted_of(&events).promised_working_days, 15);
}

#[test]
fn choosing_an_optional_item_makes_its_materials_required() {
    let mut draft = newborn();
    draft.optional_item_codes = vec!["DEMO-NB-07".into()];
    given(vec![]).when(submit(draft.clone(), CreditStatus::Good)).then_rejected(&["materials.m_bank_card"]);
    draft.materials.push(material("m_bank_card"));
    let events = submitted(draft, CreditStatus::Good);
    assert!(accepted_of(&events).item_codes.contains(&ItemCode::parse("DEMO-NB-07").unwrap()));
}

#[test]
fn submission_with_a_missing_key_material_is_rejected_with_the_full_list() {
    let draft = restaurant_without(&["m_food_license_app", "m_fire_app"]);
    let rejection = given(vec![])
        .when(submit(draft, CreditStatus::Good))
        .then_rejected(&["materials.m_food_license_app", "materials.m_fire_app"]);
    assert_eq!(rejection.violations[0].description, "缺少必要材料：食品经营许可申请书（一表申请内生成）");
}

#[test]
fn a_wrong_id_number_check_digit_is_rejected() {
    let mut draft = newborn();
    draft.applicant.id_number = "110105194912310021".into();
    let rejection = given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&["applicant.id_number"]);
    assert_eq!(rejection.violations[0].description, "公民身份号码校验码错误");
}

#[test]
fn a_wrong_credit_code_check_digit_is_rejected() {
    let mut draft = restaurant();
    draft.applicant.id_number = "91350100M000100Y44".into();
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&["applicant.id_number"]);
}

#[test]
fn an_unknown_package_is_rejected_together_with_the_applicant_violations() {
    let mut draft = newborn();
    draft.package_id = "open-casino".into();
    draft.applicant.phone = "123".into();
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&["applicant.phone", "package_id"]);
}

#[test]
fn form_field_violations_are_rejected_all_at_once() {
    let mut draft = newborn();
    draft.form_data.remove("newborn_name");
    draft.form_data.insert("newborn_gender".into(), json!("不详"));
    draft.form_data.insert("mobile_mother".into(), json!("10000000000"));
    draft.form_data.insert("nickname".into(), json!("宝宝"));
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&[
        "form_data.nickname",
        "form_data.newborn_name",
        "form_data.newborn_gender",
        "form_data.mobile_mother",
    ]);
}

#[test]
fn extra_duplicate_and_oversize_materials_are_rejected() {
    let mut draft = newborn();
    draft.materials.push(material("m_birth_cert_form"));
    draft.materials.push(material("m_lease"));
    draft.materials.push(material("m_bank_card")); // belongs to an optional item not chosen
    draft.materials.push(MaterialInput { size_bytes: DEFAULT_MAX_MATERIAL_BYTES + 1, ..material("m_newborn_photo") });
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&[
        "materials[1].material_id",
        "materials[2].material_id",
        "materials[3].material_id",
        "materials[4].size_bytes",
    ]);
}

#[test]
fn the_maximum_material_size_is_configurable() {
    let mut draft = newborn();
    draft.materials[0].size_bytes = 2 * 1024 * 1024;
    let Command::Submit(mut cmd) = submit(draft, CreditStatus::Good) else { unreachable!() };
    cmd.max_material_bytes = 1024 * 1024;
    let rejection = given(vec![]).when(Command::Submit(cmd)).then_rejected(&["materials[0].size_bytes"]);
    assert_eq!(rejection.violations, [FieldViolation::new("materials[0].size_bytes", "文件超过大小上限1MiB")]);
}

#[test]
fn malformed_material_references_are_rejected_field_by_field() {
    let mut draft = newborn();
    draft.materials[0] = MaterialInput {
        file_name: "../etc/passwd".into(),
        content_type: "pdf".into(),
        sha256_hex: "ABC".into(),
        size_bytes: 0,
        ..material("m_birth_cert_form")
    };
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&[
        "materials[0].file_name",
        "materials[0].content_type",
        "materials[0].sha256_hex",
        "materials[0].size_bytes",
    ]);
}

#[test]
fn mail_without_an_address_and_pickup_with_one_are_rejected() {
    let mut draft = newborn();
    draft.delivery =
        DeliveryInput { method: Some(DeliveryMethod::Mail), mail_address: None, pickup_hall: String::new() };
    given(vec![]).when(submit(draft.clone(), CreditStatus::Good)).then_rejected(&["delivery.mail_address"]);

    let address = PostalAddressInput {
        recipient_name: "王丽".into(),
        recipient_phone: "13800000000".into(),
        province: "内蒙古自治区".into(),
        city: "包头市".into(),
        district: "昆都仑区".into(),
        address_line: "某街道1号".into(),
        postal_code: "014010".into(),
    };
    draft.delivery.mail_address = Some(address.clone());
    let events = submitted(draft.clone(), CreditStatus::Good);
    let Event::ApplicationSubmitted(s) = &events[0] else { unreachable!() };
    assert!(matches!(s.personal.clear().unwrap().delivery, DeliveryPreference::Mail { .. }));

    draft.delivery =
        DeliveryInput { method: Some(DeliveryMethod::WindowPickup), mail_address: Some(address), ..window() };
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&["delivery.mail_address"]);
}

#[test]
fn only_the_window_and_online_take_submissions() {
    for channel in [None, Some(Channel::System)] {
        let mut draft = newborn();
        draft.channel = channel;
        given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&["channel"]);
    }
}

#[test]
fn relief_requests_must_name_materials_of_the_application_once() {
    let mut draft = restaurant_without(&["m_site_layout"]);
    draft.deficiencies =
        vec![deficiency("m_site_layout"), deficiency("m_site_layout"), deficiency("m_food_license_app")];
    draft.commitments = vec![
        commitment("m_tobacco_app"),
        CommitmentRequest { commitment_text: " ".into(), ..commitment("m_fire_plan") },
    ];
    draft.optional_item_codes = vec!["DEMO-CY-01".into(), "DEMO-XX-99".into()];
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&[
        "optional_item_codes[0]",
        "optional_item_codes[1]",
        "commitments[0].material_id",
        "commitments[1].commitment_text",
        "commitments[1].material_id",
        "deficiencies[1].material_id",
        "deficiencies[2].material_id",
    ]);
}

#[test]
fn every_malformation_is_listed_in_one_rejection() {
    let mut draft = restaurant_without(&["m_fire_app"]);
    draft.applicant.id_number = "91350100M000100Y44".into();
    draft.form_data.insert("seat_count".into(), json!(4.5));
    draft.materials.push(MaterialInput { size_bytes: u64::MAX, ..material("m_fire_commitment") });
    draft.delivery.method = Some(DeliveryMethod::Mail);
    draft.channel = None;
    given(vec![]).when(submit(draft, CreditStatus::Good)).then_rejected(&[
        "applicant.id_number",
        "channel",
        "delivery.mail_address",
        "form_data.seat_count",
        "materials[6].size_bytes",
        "materials.m_fire_app",
    ]);
}

#[test]
fn a_case_is_submitted_only_once() {
    let events = submitted(newborn(), CreditStatus::Good);
    given(events).when(submit(newborn(), CreditStatus::Good)).then_error(DomainError::AlreadySubmitted);
}

#[test]
fn events_survive_a_json_round_trip_and_keep_personal_data_masked_in_debug() {
    let events = restaurant_owing(&["m_site_layout"]);
    let text = serde_json::to_string(&events).unwrap();
    assert!(text.contains("\"type\":\"ApplicationAccepted\""));
    let back: Vec<Event> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, events);
    let Event::ApplicationSubmitted(s) = &events[0] else { unreachable!() };
    let applicant = &s.personal.clear().unwrap().applicant;
    assert_eq!(s.applicant_kind, ApplicantKind::Company);
    assert!(!format!("{applicant:?}").contains(COMPANY_USCC));
    assert_eq!(applicant.masked().id_number, "913501********0Y43");
    let person = submitted(newborn(), CreditStatus::Good);
    let Event::ApplicationSubmitted(s) = &person[0] else { unreachable!() };
    let applicant = &s.personal.clear().unwrap().applicant;
    assert_eq!(applicant.masked().name, "王*");
    assert_eq!(applicant.masked().phone, "138****0000");
}

fn with_facts(command: Command, officer: Option<&str>, unstored: &[&str]) -> Command {
    let Command::Submit(mut submit) = command else { unreachable!("a submission") };
    submit.officer = officer.map(|id| AssignOfficer { officer_id: id.into(), officer_name: "李专人".into() });
    submit.unstored_materials =
        unstored.iter().map(|f| FieldViolation::new(*f, "the content of this upload is not stored")).collect();
    Command::Submit(submit)
}

#[test]
fn an_accepted_application_gets_the_chosen_officer_in_the_same_decision() {
    let command = with_facts(submit(newborn(), CreditStatus::Good), Some("officer-007"), &[]);
    let (events, state) = given(vec![]).when(command).then_ok();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[2],
        Event::OfficerAssigned(OfficerAssigned {
            officer_id: "officer-007".into(),
            officer_name: "李专人".into(),
            previous_officer_id: None,
        })
    );
    assert_eq!(state.officer.as_ref().map(|o| o.id.as_str()), Some("officer-007"));
}

#[test]
fn a_case_not_accepted_gets_no_officer() {
    let mut draft = restaurant_without(&["m_site_layout"]);
    draft.deficiencies = vec![deficiency("m_site_layout")];
    let command = with_facts(submit(draft, CreditStatus::Dishonest), Some("officer-007"), &[]);
    let (events, state) = given(vec![]).when(command).then_ok();
    assert!(matches!(events.as_slice(), [Event::ApplicationSubmitted(_), Event::ApplicationNotAccepted(_)]));
    assert!(state.officer.is_none());
}

#[test]
fn unstored_materials_are_listed_with_every_other_problem() {
    let command = with_facts(submit(newborn(), CreditStatus::Good), Some("officer-007"), &["materials[0].storage_key"]);
    given(vec![]).when(command).then_rejected(&["materials[0].storage_key"]);
    let mut draft = newborn();
    draft.package_id = "no-such-package".into();
    let command = with_facts(submit(draft, CreditStatus::Good), None, &["materials[0].storage_key"]);
    given(vec![]).when(command).then_rejected(&["materials[0].storage_key", "package_id"]);
}

#[test]
fn a_company_contact_id_number_is_checked_and_recorded_only_for_companies() {
    let code = credit_code("91150203MA0N12345");
    let mut input = company(&code);
    input.contact_id_number = father_id().to_lowercase();
    let mut v = crate::refusal::Violations::default();
    let applicant = super::super::validate::applicant(&input, &mut v).expect("valid");
    assert_eq!(applicant.contact_id_number.as_ref().map(|id| id.as_str().to_owned()), Some(father_id()));
    assert!(applicant.masked().contact_id_number.contains('*'), "masked for read models");

    input.contact_id_number = "150203198801011230".into();
    let mut v = crate::refusal::Violations::default();
    assert!(super::super::validate::applicant(&input, &mut v).is_none(), "a wrong check digit");
    assert_eq!(v.into_vec()[0].field, "applicant.contact_id_number");

    let mut person = person(&father_id());
    person.contact_id_number = father_id();
    let mut v = crate::refusal::Violations::default();
    assert!(super::super::validate::applicant(&person, &mut v).is_none(), "persons have no contact");
}

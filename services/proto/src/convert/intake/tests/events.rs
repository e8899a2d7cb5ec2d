//! Every intake event through its wire message and back, the personal part
//! sealed and opened, events written before sealing, and decoding errors.

use super::*;

fn round_trip(event: &Event) {
    let key = TestKey::new(7);
    let (event_type, payload) = encode_event(event, Some(&key)).unwrap();
    assert_eq!(event_type, event.event_type());
    let back = decode_event(event_type, &payload, Opening::Key(&key)).unwrap_or_else(|e| panic!("{event_type}: {e}"));
    assert_eq!(&back, event);
    // The domain's own serialisation agrees too (nothing hides behind PartialEq).
    assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(event).unwrap());
}

/// One realistic event of every variant (and both sides of every option).
fn every_event() -> Vec<Event> {
    let mut events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    events.extend(submit(&newborn_request(), CreditStatus::Normal).unwrap());
    events.extend(submit(&restaurant_request(), CreditStatus::Dishonest).unwrap());
    let variants = events.iter().map(Event::event_type).collect::<Vec<_>>();
    assert_eq!(
        variants,
        [
            "ApplicationSubmitted",
            "ApplicationAccepted",
            "ApplicationSubmitted",
            "ApplicationAccepted",
            "ApplicationSubmitted",
            "ApplicationNotAccepted"
        ]
    );
    events.extend([
        Event::ApplicationNotAccepted(ApplicationNotAccepted {
            case_number: CaseNumber::parse("YCB-20260115-000124").unwrap(),
            package_id: PackageId::parse("newborn-birth").unwrap(),
            notice_number: "YCB-20260115-000124-BSL".into(),
            reasons: [
                ReasonCode::MaterialMissing,
                ReasonCode::CommitmentNotAllowed,
                ReasonCode::DeficiencyNotAllowed,
                ReasonCode::CreditRestricted,
                ReasonCode::NotEligible,
            ]
            .into_iter()
            .map(|code| Reason { path: "materials.m_marriage_cert".into(), code, message: "缺少结婚证".into() })
            .collect(),
        }),
        Event::OfficerAssigned(OfficerAssigned {
            officer_id: "liming".into(),
            officer_name: "李明".into(),
            previous_officer_id: None,
        }),
        Event::OfficerAssigned(OfficerAssigned {
            officer_id: "zhaomin".into(),
            officer_name: "赵敏".into(),
            previous_officer_id: Some("liming".into()),
        }),
        Event::MaterialsSupplemented(MaterialsSupplemented {
            materials: vec![material("m_site_layout")],
            supplement_request_id: None,
            task_id: None,
            item_code: None,
            department: None,
        }),
        Event::MaterialsSupplemented(MaterialsSupplemented {
            materials: vec![material("m_sign_design"), material("m_site_use_proof")],
            supplement_request_id: Some("0194a3c5-7e1a-7c2b-9f00-1a2b3c4d5e6f".into()),
            task_id: Some("0194a3c5-7e1a-7c2b-9f00-aaaabbbbcccc".into()),
            item_code: Some("DEMO-CY-02".into()),
            department: Some("samr".into()),
        }),
        Event::DeficiencyCleared(DeficiencyCleared {
            material_id: MaterialId::parse("m_site_layout").unwrap(),
            due_by: day(2026, 1, 20),
            cleared_on: day(2026, 1, 19),
            remaining_deficiencies: 1,
        }),
        Event::CaseTerminated(CaseTerminated {
            reason: TerminationReason::DeficiencyOverdue,
            detail: "容缺受理的材料未在承诺期限内补齐，依规终止办理".into(),
            legal_basis: String::new(),
            overdue_material_ids: vec![MaterialId::parse("m_sign_design").unwrap()],
        }),
        Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: "店面转租，暂不开业".into() }),
        Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: String::new() }),
        Event::PersonalDataErased(PersonalDataErased { basis: ErasureBasis::Request, materials_deleted: 3 }),
        Event::PersonalDataErased(PersonalDataErased { basis: ErasureBasis::Retention, materials_deleted: 0 }),
    ]);
    for reason in [
        TerminationReason::SupplementOverdue,
        TerminationReason::CommitmentUntrue,
        TerminationReason::ApplicantCeased,
        TerminationReason::Other,
    ] {
        events.push(Event::CaseTerminated(CaseTerminated {
            reason,
            detail: "经核查，申请人承诺内容与实际不符".into(),
            legal_basis: "《行政许可法》第三十二条".into(),
            overdue_material_ids: vec![],
        }));
    }
    events
}

#[test]
fn every_event_survives_the_wire() {
    let events = every_event();
    for variant in [
        "ApplicationSubmitted",
        "ApplicationAccepted",
        "ApplicationNotAccepted",
        "OfficerAssigned",
        "MaterialsSupplemented",
        "DeficiencyCleared",
        "CaseTerminated",
        "ApplicationWithdrawn",
        "PersonalDataErased",
    ] {
        assert!(events.iter().any(|e| e.event_type() == variant), "{variant} is covered");
    }
    for event in &events {
        round_trip(event);
    }
}

#[test]
fn the_restaurant_events_carry_everything_the_request_gave() {
    let events = submit(&restaurant_request(), CreditStatus::Good).unwrap();
    let Event::ApplicationSubmitted(submitted) = &events[0] else { panic!("{events:?}") };
    let personal = submitted.personal.clear().unwrap();
    assert_eq!(personal.applicant.id_number(), COMPANY_USCC);
    assert_eq!(personal.form_data["seat_count"], json!(40));
    assert_eq!(personal.form_data["site_area_m2"], json!(120.5));
    assert!(matches!(&personal.delivery, DeliveryPreference::Mail { address } if address.postal_code == "014010"));
    let Event::ApplicationAccepted(accepted) = &events[1] else { panic!("{events:?}") };
    let owed: Vec<_> = accepted.deficiencies.iter().map(|d| (d.material_id.as_str(), d.due_by)).collect();
    assert_eq!(owed, [("m_site_layout", day(2026, 1, 20)), ("m_sign_design", day(2026, 1, 22))]);
    assert_eq!(accepted.commitments[0].material_id.as_str(), "m_fire_plan");
    assert_eq!(accepted.commitments[0].post_check_department.as_str(), "fire");
}

/// Every personal value of the restaurant application, as text.
fn personal_values(e: &yiciban_domain::intake::ApplicationSubmitted) -> Vec<String> {
    let p = e.personal.clear().unwrap();
    let mut values =
        vec![p.applicant.name.clone(), p.applicant.id_number().to_owned(), p.applicant.phone.as_str().into()];
    values.push(p.applicant.contact_name.clone());
    if let DeliveryPreference::Mail { address } = &p.delivery {
        values.extend([address.recipient_name.clone(), address.address_line.clone()]);
    }
    values.extend(p.form_data.values().filter_map(|v| v.as_str().map(str::to_owned)).filter(|v| v.chars().count() > 2));
    values.retain(|v| !v.is_empty());
    values
}

#[test]
fn the_personal_part_is_stored_sealed_and_opens_only_with_its_key_subject_and_case() {
    let key = TestKey::new(1);
    let Event::ApplicationSubmitted(e) = &submit(&restaurant_request(), CreditStatus::Good).unwrap()[0] else {
        unreachable!()
    };
    let values = personal_values(e);
    assert!(values.len() >= 6, "{values:?}");
    let (kind, bytes) = encode_event(&Event::ApplicationSubmitted(e.clone()), Some(&key)).unwrap();
    for value in &values {
        let needle = value.as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{value:?} is in the stored bytes");
    }
    let stored = ev::ApplicationSubmitted::decode(bytes.as_slice()).unwrap();
    assert!(stored.applicant.is_none() && stored.form_data.is_none());
    let delivery = stored.delivery.as_ref().unwrap();
    assert_eq!((delivery.method, delivery.mail_address.is_none()), (pb::DeliveryMethod::Mail as i32, true));
    assert_eq!(stored.applicant_kind, pb::ApplicantKind::Company as i32);
    assert_eq!(stored.data_subject, e.data_subject);

    // With its key: everything back.
    assert_eq!(decode_event(kind, &bytes, Opening::Key(&key)).unwrap(), Event::ApplicationSubmitted(e.clone()));
    // Erased: the facts stay, the person is gone.
    let Event::ApplicationSubmitted(erased) = decode_event(kind, &bytes, Opening::Erased).unwrap() else {
        unreachable!()
    };
    assert_eq!(erased.personal, Personal::Erased);
    assert_eq!(
        (erased.case_number, &erased.package_id, erased.applicant_kind),
        (e.case_number, &e.package_id, e.applicant_kind)
    );
    assert_eq!(erased.materials, e.materials);
    // Another key, no key, or the sealed value moved to another case: refused.
    for opening in [Opening::Key(&TestKey::new(2)), Opening::NoKey] {
        let err = decode_event(kind, &bytes, opening).unwrap_err();
        assert!(
            matches!(&err, ConvertError::Invalid { field, .. } if field == "ApplicationSubmitted.sealed_personal_data"),
            "{err:?}"
        );
    }
    let mut moved = stored.clone();
    moved.case_number = "YCB-20260115-000999".into();
    assert!(decode_event(kind, &moved.encode_to_vec(), Opening::Key(&key)).is_err());
    assert_ne!(associated_data(&e.data_subject, "a"), associated_data(&e.data_subject, "b"));
    // Nothing personal is ever encoded without a key to seal it.
    let err = encode_event(&Event::ApplicationSubmitted(e.clone()), None).unwrap_err();
    assert!(err.to_string().contains("no data key"), "{err}");
    // An erased event encodes without any personal part.
    let (_, bytes) = encode_event(&Event::ApplicationSubmitted(erased.clone()), None).unwrap();
    assert_eq!(decode_event(kind, &bytes, Opening::NoKey).unwrap(), Event::ApplicationSubmitted(erased));
}

#[test]
fn an_event_written_in_clear_before_sealing_still_reads_and_hides_once_its_applicant_is_erased() {
    let Event::ApplicationSubmitted(e) = &submit(&newborn_request(), CreditStatus::Good).unwrap()[0] else {
        unreachable!()
    };
    // The shape of a December 2026 event: no subject, no kind, no sealed part.
    let mut legacy = ev::ApplicationSubmitted::from(e);
    legacy.data_subject.clear();
    legacy.applicant_kind = 0;
    let bytes = legacy.encode_to_vec();
    let Event::ApplicationSubmitted(read) = decode_event("ApplicationSubmitted", &bytes, Opening::NoKey).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(read.personal, e.personal);
    assert_eq!((read.applicant_kind, read.data_subject.as_str()), (ApplicantKind::Person, ""));
    assert_eq!(
        crate::sealed::subject_of(&legacy),
        Some(crate::sealed::Subject::Clear(MOTHER_ID.to_owned())),
        "its reader computes the subject from the identity"
    );
    let Event::ApplicationSubmitted(hidden) = decode_event("ApplicationSubmitted", &bytes, Opening::Erased).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(hidden.personal, Personal::Erased);
    assert_eq!(hidden.applicant_kind, ApplicantKind::Person);
}

#[test]
fn decoding_names_what_is_wrong() {
    assert!(matches!(
        decode_event("CaseDecided", &[], Opening::NoKey),
        Err(ConvertError::UnknownEventType(t)) if t == "CaseDecided"
    ));
    let err = decode_event("ApplicationSubmitted", &[0xff, 0xff], Opening::NoKey).unwrap_err();
    assert!(matches!(err, ConvertError::Decode { event_type: "ApplicationSubmitted", .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());

    // An event written in clear before sealing is validated as it always was.
    let Event::ApplicationSubmitted(e) = &every_event()[0] else { unreachable!() };
    let mut submitted = ev::ApplicationSubmitted::from(e);
    submitted.applicant.as_mut().unwrap().id_number = "91350100M000100Y44".into();
    let err = decode_event("ApplicationSubmitted", &submitted.encode_to_vec(), Opening::NoKey).unwrap_err();
    let ConvertError::Invalid { field, .. } = &err else { panic!("{err:?}") };
    assert_eq!(field, "ApplicationSubmitted.applicant.id_number");
    assert!(!err.to_string().contains("91350100M000100Y44"), "the value is personal data: {err}");

    let cleared = ev::DeficiencyCleared {
        material_id: "m_site_layout".into(),
        due_by: Some(pb_date(2026, 2, 30)),
        cleared_on: Some(pb_date(2026, 1, 19)),
        remaining_deficiencies: 0,
    };
    let err = decode_event("DeficiencyCleared", &cleared.encode_to_vec(), Opening::NoKey).unwrap_err();
    assert!(matches!(&err, ConvertError::Invalid { field, .. } if field == "DeficiencyCleared.due_by"), "{err:?}");

    let terminated = ev::CaseTerminated { reason: 0, ..Default::default() };
    let err = decode_event("CaseTerminated", &terminated.encode_to_vec(), Opening::NoKey).unwrap_err();
    assert!(matches!(&err, ConvertError::Invalid { field, .. } if field == "CaseTerminated.reason"), "{err:?}");

    let refused = ev::ApplicationNotAccepted {
        case_number: "YCB-20260115-000123".into(),
        package_id: "open-restaurant".into(),
        notice_number: "YCB-20260115-000123-BSL".into(),
        reasons: vec![pb::Reason { path: String::new(), code: "NO_SUCH_CODE".into(), message: String::new() }],
    };
    let err = decode_event("ApplicationNotAccepted", &refused.encode_to_vec(), Opening::NoKey).unwrap_err();
    assert!(
        matches!(&err, ConvertError::Invalid { field, .. } if field == "ApplicationNotAccepted.reasons[0].code"),
        "{err:?}"
    );
}

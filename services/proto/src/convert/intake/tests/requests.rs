//! The request conversion: the draft as given, dates, the form and the
//! small values both ways.

use super::*;

#[test]
fn the_draft_keeps_the_request_as_given() {
    let draft = ApplicationDraft::from(&restaurant_request());
    assert_eq!(draft.package_id, "open-restaurant");
    assert_eq!(draft.applicant.kind, Some(ApplicantKind::Company));
    assert_eq!(draft.applicant.contact_name, "赵经办");
    assert_eq!(draft.channel, Some(Channel::Online));
    assert_eq!(draft.delivery.method, Some(DeliveryMethod::Mail));
    assert_eq!(draft.delivery.mail_address.as_ref().unwrap().address_line, "钢铁大街1号好味道餐厅");
    assert_eq!(draft.materials[0], MaterialInput::from(&pb_material("m_food_license_app")));
    assert_eq!(draft.materials[0].size_bytes, 120_000);
    assert_eq!(draft.commitments[0].material_id, "m_fire_plan");
    assert_eq!(draft.deficiencies[0].promised_by, Some(day(2026, 1, 20)));
    assert_eq!(draft.deficiencies[1].promised_by, None);
    assert_eq!(draft.form_data["food_categories"], json!(["热食类食品制售", "自制饮品制售"]));

    // Nothing is validated here: bad values and unspecified enums pass through.
    let empty = ApplicationDraft::from(&api::SubmitApplicationRequest {
        applicant: Some(pb::Applicant { kind: 0, id_number: "not an id".into(), ..Default::default() }),
        delivery: Some(pb::DeliveryPreference { method: 99, ..Default::default() }),
        channel: 99,
        ..Default::default()
    });
    assert_eq!(empty.applicant.kind, None);
    assert_eq!(empty.applicant.id_number, "not an id");
    assert_eq!(empty.delivery.method, None);
    assert_eq!(empty.channel, None);
    assert_eq!(ApplicationDraft::from(&api::SubmitApplicationRequest::default()), ApplicationDraft::default());
}

#[test]
fn an_impossible_promised_date_is_refused_by_the_domain_not_read_as_unset() {
    let mut req = restaurant_request();
    req.deficiencies[0].promised_by = Some(pb_date(2026, 13, 1));
    assert_eq!(ApplicationDraft::from(&req).deficiencies[0].promised_by, Some(NaiveDate::MIN));
    let Err(DomainError::Rejected(rejection)) = submit(&req, CreditStatus::Good) else { panic!("accepted") };
    assert_eq!(rejection.fields(), ["deficiencies[0].promised_by"]);
}

#[test]
fn the_form_survives_struct_with_integers_kept_integral() {
    let form = json!({
        "null": null,
        "flag": true,
        "count": 40,
        "negative": -3,
        "area": 120.5,
        "name": "张小宝",
        "list": [1, "二", false, null, {"nested": [2.25]}],
        "object": {"inner": {"deep": "x"}}
    });
    let back = form_data_from_pb(&structure(form.clone()));
    assert_eq!(Value::Object(back), form);

    let odd = prost_types::Struct {
        fields: [
            ("nan".to_owned(), prost_types::Value { kind: Some(Kind::NumberValue(f64::NAN)) }),
            ("none".to_owned(), prost_types::Value { kind: None }),
            ("big".to_owned(), prost_types::Value { kind: Some(Kind::NumberValue(1e20)) }),
            ("whole".to_owned(), prost_types::Value { kind: Some(Kind::NumberValue(7.0)) }),
        ]
        .into(),
    };
    assert_eq!(Value::Object(form_data_from_pb(&odd)), json!({"nan": null, "none": null, "big": 1e20, "whole": 7}));
}

#[test]
fn small_values_convert_both_ways() {
    assert_eq!(pb::Date::from(day(2026, 1, 15)), pb_date(2026, 1, 15));
    assert_eq!(NaiveDate::try_from(pb_date(2024, 2, 29)).unwrap(), day(2024, 2, 29));
    for bad in [pb_date(2026, 2, 29), pb_date(0, 0, 0), pb_date(2026, -1, 1), pb_date(2026, 1, 32)] {
        assert!(NaiveDate::try_from(bad).is_err(), "{bad:?}");
    }
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 2, 0, 0).unwrap() + chrono::Duration::nanoseconds(5);
    assert_eq!(timestamp(at), prost_types::Timestamp { seconds: 1_768_442_400, nanos: 5 });
    for channel in [Channel::Window, Channel::Online, Channel::Hotline, Channel::System] {
        assert_eq!(Channel::try_from(pb::Channel::from(channel)).unwrap(), channel);
    }
    let request = |channel| api::SubmitApplicationRequest { channel, ..Default::default() };
    assert_eq!(ApplicationDraft::from(&request(0)).channel, None);
    assert_eq!(ApplicationDraft::from(&request(42)).channel, None);
    let reason = Reason { path: "credit".into(), code: ReasonCode::CreditRestricted, message: "失信".into() };
    assert_eq!(pb::Reason::from(&reason).code, "CREDIT_RESTRICTED");
    assert_eq!(Reason::try_from(&pb::Reason::from(&reason)).unwrap(), reason);
    for status in [Status::Submitted, Status::Accepted, Status::NotAccepted, Status::Withdrawn, Status::Terminated] {
        assert_eq!(Status::try_from(pb::CaseStatus::from(status)).unwrap(), status);
    }
    assert_eq!(pb::CaseStatus::from(Status::New), pb::CaseStatus::Unspecified);
}

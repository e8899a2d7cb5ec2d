//! Round trips of every issuance event through its wire message, the
//! Issuance read model, and the enum conversions.

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use prost::Message as _;
use uuid::Uuid;
use yiciban_domain::Aggregate;
use yiciban_domain::issuance::*;
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode};

use super::*;
use crate::common::v1 as pb;
use crate::convert::test_key::TestKey;
use crate::convert::wire::ConvertError;
use crate::sealed::{Opening, collector_in_clear, open_collector};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 16, 2, 0, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn samr() -> DepartmentCode {
    DepartmentCode::parse("samr").unwrap()
}

fn file(name: &str) -> FileRef {
    FileRef {
        material_id: String::new(),
        file_name: name.into(),
        content_type: "application/pdf".into(),
        sha256_hex: "b".repeat(64),
        size_bytes: 2048,
        storage_key: format!("uploads/{name}"),
    }
}

fn document() -> ResultDocument {
    ResultDocument {
        kind: ResultDocumentKind::Licence,
        name: "食品经营许可证".into(),
        number: "JY1".into(),
        issuing_department: samr(),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        valid_from: Some(day(2026, 10, 15)),
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

fn case_number() -> CaseNumber {
    CaseNumber::new(day(2026, 10, 8), 7).unwrap()
}

fn every_event() -> Vec<Event> {
    vec![
        Event::IssuancePrepared(IssuancePrepared {
            case_number: case_number(),
            batch_number: 1,
            outcome: None,
            documents: vec![document()],
            method: DeliveryMethod::WindowPickup,
            issue_by: None,
            early: true,
            early_reason: "急需".into(),
            final_batch: false,
            promised_working_days: 0,
            working_days_used: 0,
            decided_on_time: false,
            lead_department: None,
        }),
        Event::IssuancePrepared(IssuancePrepared {
            case_number: case_number(),
            batch_number: 2,
            outcome: Some(CaseOutcome::Approved),
            documents: vec![],
            method: DeliveryMethod::Mail,
            issue_by: Some(day(2026, 10, 22)),
            early: false,
            early_reason: String::new(),
            final_batch: true,
            promised_working_days: 10,
            working_days_used: 6,
            decided_on_time: true,
            lead_department: Some(DepartmentCode::parse("samr").unwrap()),
        }),
        Event::PickupNotified(PickupNotified {
            batch_number: 1,
            channel: NotificationChannel::PhoneCall,
            pickup_location: "8号窗口".into(),
            pickup_by: Some(day(2026, 11, 1)),
        }),
        Event::PickedUp(PickedUp {
            batch_number: 1,
            collector: Collector {
                kind: CollectorKind::Agent,
                name_masked: "李*".into(),
                id_number_masked: "1502**********123X".into(),
                id_number_hmac: "c".repeat(64),
                data_subject: "d".repeat(64),
                power_of_attorney: Some(file("授权委托书.pdf")),
            },
            document_numbers: vec!["JY1".into()],
            receipt: Some(file("签收单.pdf")),
        }),
        Event::Mailed(Mailed {
            batch_number: 2,
            courier: "EMS".into(),
            tracking_number: "EMS1".into(),
            document_numbers: vec![],
        }),
        Event::DeliveryFailed(DeliveryFailed {
            batch_number: 2,
            tracking_number: "EMS1".into(),
            reason: DeliveryFailureReason::Refused,
            detail: "拒收".into(),
            attempt: 1,
        }),
        Event::Delivered(Delivered {
            batch_number: 2,
            method: DeliveryMethod::Mail,
            tracking_number: "EMS2".into(),
            delivered_at: at(),
            receipt: None,
        }),
        Event::CaseClosed(CaseClosed {
            case_number: case_number(),
            outcome: CaseOutcome::Denied,
            closed_on: day(2026, 10, 16),
            working_days_used: 6,
            promised_working_days: 10,
            on_time: true,
        }),
        Event::RatingReceived(RatingReceived {
            rating_id: id(1),
            score: 2,
            comment: "跑了两次".into(),
            indicators: vec![IndicatorScore { name: "办事效率".into(), score: 2 }],
            real_name: true,
            department: Some(samr()),
            channel: Channel::Window,
            at: at(),
        }),
        Event::RectificationOpened(RectificationOpened {
            rectification_id: id(2),
            source: RectificationSource::BadRating,
            rating_id: Some(id(1)),
            complaint: String::new(),
            responsible_department: samr(),
            due_by: day(2026, 10, 23),
        }),
        Event::RectificationOpened(RectificationOpened {
            rectification_id: id(3),
            source: RectificationSource::Complaint,
            rating_id: None,
            complaint: "12345 投诉".into(),
            responsible_department: samr(),
            due_by: day(2026, 10, 23),
        }),
        Event::RectificationVerified(RectificationVerified {
            rectification_id: id(2),
            finding: RectificationFinding::JustifiedComplex,
            note: "属实".into(),
            due_by: day(2026, 11, 30),
        }),
        Event::RectificationRectified(RectificationRectified {
            rectification_id: id(2),
            measures: "培训".into(),
            evidence: vec![file("培训.pdf")],
        }),
        Event::RectificationExplained(RectificationExplained {
            rectification_id: id(3),
            explanation: "法定要件".into(),
            legal_basis: "第十二条".into(),
        }),
        Event::RectificationClosed(RectificationClosed {
            rectification_id: id(2),
            applicant_satisfied: true,
            note: String::new(),
            on_time: false,
        }),
        Event::RatingMarkedInvalid(RatingMarkedInvalid {
            rating_id: id(1),
            reason: InvalidRatingReason::Mistaken,
            note: "误评".into(),
        }),
        Event::ReturnVisitSampled(ReturnVisitSampled {
            visit_id: id(4),
            sample_id: id(5),
            period: "2026-10".into(),
            reason: ReturnVisitSampleReason::BadRating,
        }),
        Event::ReturnVisitRecorded(ReturnVisitRecorded {
            visit_id: id(4),
            method: ReturnVisitMethod::Onsite,
            reached: true,
            score: 4,
            note: "满意".into(),
            visited_at: at(),
        }),
    ]
}

/// `event` as the fold reads it back: a collector's masked identity stays
/// sealed (ADR 0031).
fn as_read_back(event: Event) -> Event {
    match event {
        Event::PickedUp(mut e) => {
            e.collector.name_masked.clear();
            e.collector.id_number_masked.clear();
            e.collector.id_number_hmac.clear();
            Event::PickedUp(e)
        }
        other => other,
    }
}

#[test]
fn every_event_survives_the_wire() {
    let key = TestKey::new(3);
    for event in every_event() {
        let (kind, payload) = encode_event(&event, IdentitySealing::Key { key: &key, case_number: "CN-1" });
        assert_eq!(kind, event.event_type());
        let back = decode_event(kind, &payload, at()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(back, as_read_back(event), "{kind}");
    }
}

fn picked_up() -> PickedUp {
    every_event()
        .into_iter()
        .find_map(|e| match e {
            Event::PickedUp(e) => Some(e),
            _ => None,
        })
        .unwrap()
}

fn collector_on_the_wire(payload: &[u8]) -> ev::Collector {
    ev::PickedUp::decode(payload).unwrap().collector.unwrap()
}

#[test]
fn a_collectors_identity_is_sealed_under_the_applicants_key_and_opens_only_with_it() {
    let (key, other) = (TestKey::new(4), TestKey::new(5));
    let event = Event::PickedUp(picked_up());
    let (_, payload) = encode_event(&event, IdentitySealing::Key { key: &key, case_number: "CN-1" });
    let text = String::from_utf8_lossy(&payload);
    assert!(!text.contains("李*") && !text.contains("1502**") && !text.contains(&"c".repeat(64)), "{text}");
    let c = collector_on_the_wire(&payload);
    assert_eq!((c.data_subject.as_str(), c.kind()), ("d".repeat(64).as_str(), pb::CollectorKind::Agent));
    assert!(c.power_of_attorney.is_some(), "the reference stays in clear");
    let opened = open_collector(&c, "CN-1", 1, Opening::Key(&key)).unwrap().unwrap();
    assert_eq!(
        (opened.name_masked.as_str(), opened.id_number_masked.as_str(), opened.id_number_hmac),
        ("李*", "1502**********123X", "c".repeat(64))
    );
    // Another key, case or batch does not open it; erased reads as nothing.
    assert!(open_collector(&c, "CN-1", 1, Opening::Key(&other)).is_err());
    assert!(open_collector(&c, "CN-2", 1, Opening::Key(&key)).is_err());
    assert!(open_collector(&c, "CN-1", 2, Opening::Key(&key)).is_err());
    assert!(open_collector(&c, "CN-1", 1, Opening::NoKey).is_err());
    assert_eq!(open_collector(&c, "CN-1", 1, Opening::Erased).unwrap(), None);
}

#[test]
fn without_a_key_the_identity_is_not_kept_at_all() {
    let event = Event::PickedUp(picked_up());
    let mut no_subject = picked_up();
    no_subject.collector.data_subject.clear();
    let key = TestKey::new(6);
    for (event, sealing) in [
        (event, IdentitySealing::Drop),
        (Event::PickedUp(no_subject), IdentitySealing::Key { key: &key, case_number: "CN-1" }),
    ] {
        let (_, payload) = encode_event(&event, sealing);
        let c = collector_on_the_wire(&payload);
        assert!(c.sealed_identity.is_empty() && !collector_in_clear(&c), "{c:?}");
        assert_eq!(open_collector(&c, "CN-1", 1, Opening::NoKey).unwrap(), None);
        assert_eq!(decode_event("PickedUp", &payload, at()).unwrap(), as_read_back(event_without_subject(&event)));
    }
}

fn event_without_subject(event: &Event) -> Event {
    match event.clone() {
        Event::PickedUp(mut e) => {
            e.collector.data_subject.clear();
            Event::PickedUp(e)
        }
        other => other,
    }
}

#[test]
fn a_collector_written_in_clear_before_sealing_reads_as_it_was() {
    let legacy = ev::Collector {
        kind: pb::CollectorKind::Applicant as i32,
        name_masked: "王*".into(),
        id_number_masked: "1502**********123X".into(),
        id_number_hmac: "e".repeat(64),
        ..Default::default()
    };
    assert!(collector_in_clear(&legacy));
    let opened = open_collector(&legacy, "CN-1", 1, Opening::NoKey).unwrap().unwrap();
    assert_eq!(opened.name_masked, "王*");
    assert_eq!(open_collector(&legacy, "CN-1", 1, Opening::Erased).unwrap(), None);
    let back = Collector::try_from(&legacy).unwrap();
    assert_eq!(back.name_masked, "王*");
}

#[test]
fn decoding_names_what_is_wrong() {
    let err = decode_event("Nope", &[], at()).unwrap_err();
    assert!(matches!(err, ConvertError::UnknownEventType(_)));
    let payload = ev::RatingReceived { rating_id: "x".into(), ..Default::default() }.encode_to_vec();
    let err = decode_event("RatingReceived", &payload, at()).unwrap_err();
    assert!(err.to_string().contains("RatingReceived.rating_id"), "{err}");
    let payload = ev::Delivered { batch_number: 1, method: 0, ..Default::default() }.encode_to_vec();
    let err = decode_event("Delivered", &payload, at()).unwrap_err();
    assert!(err.to_string().contains("Delivered.method"), "{err}");
}

#[test]
fn unspecified_and_unknown_enum_values_are_refused_and_known_ones_go_both_ways() {
    let method = |method| pb::DeliveryPreference { method, ..Default::default() }.method();
    assert!(DeliveryMethod::try_from(method(0)).is_err());
    assert!(DeliveryMethod::try_from(method(99)).is_err());
    for m in [DeliveryMethod::WindowPickup, DeliveryMethod::Mail] {
        assert_eq!(DeliveryMethod::try_from(method(pb::DeliveryMethod::from(m) as i32)).unwrap(), m);
    }
    for f in [
        RectificationFinding::JustifiedSimple,
        RectificationFinding::JustifiedComplex,
        RectificationFinding::NoLegalBasis,
    ] {
        assert_eq!(RectificationFinding::try_from(pb::RectificationFinding::from(f)).unwrap(), f);
    }
    assert!(CollectorKind::try_from(pb::CollectorKind::Unspecified).is_err());
    assert_eq!(CaseOutcome::try_from(pb::CaseOutcome::Denied).unwrap(), CaseOutcome::Denied);
    assert_eq!(pb::CaseOutcome::from(None::<CaseOutcome>), pb::CaseOutcome::Unspecified);
}

#[test]
fn the_read_model_shows_batches_ratings_rectifications_and_visits() {
    let state = CaseIssuance::replay(&every_event());
    let pb = issuance_to_pb(id(9), &state);
    assert_eq!(pb.case_id, id(9).to_string());
    assert_eq!(pb.case_number, "YCB-20261008-000007");
    assert_eq!(pb.version, every_event().len() as u64);
    assert!(pb.closed);
    assert_eq!(pb.closed_on, Some(pb::Date::from(day(2026, 10, 16))));
    assert_eq!(pb.batches.len(), 2);
    assert_eq!(pb.batches[0].collector_kind, pb::CollectorKind::Agent as i32);
    assert_eq!(pb.batches[1].state, api::BatchState::Delivered as i32);
    assert_eq!(pb.batches[1].failed_attempts, 1);
    assert_eq!(pb.batches[1].tracking_number, "EMS1");
    let rating = &pb.ratings[0];
    assert!(rating.invalid);
    assert_eq!(rating.invalid_reason, pb::InvalidRatingReason::Mistaken as i32);
    assert_eq!(rating.channel, pb::Channel::Window as i32);
    assert_eq!(rating.rated_at, Some(timestamp(at())));
    assert_eq!(pb.rectifications[0].state, api::RectificationState::Closed as i32);
    assert_eq!(pb.rectifications[0].due_by, Some(pb::Date::from(day(2026, 11, 30))));
    assert_eq!(pb.rectifications[1].state, api::RectificationState::Explained as i32);
    assert_eq!(pb.return_visits[0].score, 4);
    assert!(pb.return_visits[0].recorded);
}

#[test]
fn a_file_reference_names_every_defect() {
    let bad =
        pb::MaterialRef { file_name: String::new(), sha256_hex: "XYZ".into(), size_bytes: 0, ..Default::default() };
    let fields: Vec<_> = file_ref_violations("receipt", &bad).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["receipt.file_name", "receipt.sha256_hex", "receipt.size_bytes"]);
    assert!(file_ref_violations("receipt", &pb::MaterialRef::from(&file("a.pdf"))).is_empty());
}

//! Round trips of every plan event through its wire message, and a bad
//! stored value named by its field.

use chrono::NaiveDate;
use prost::Message as _;
use yiciban_domain::routing::ResultDocumentKind;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The envelope's `occurred_at` of every event here.
fn at() -> DateTime<Utc> {
    "2026-03-20T02:00:00Z".parse().unwrap()
}

fn doc(kind: ResultDocumentKind) -> ResultDocument {
    ResultDocument {
        kind,
        name: "食品经营许可证".into(),
        number: "JY11502030000123".into(),
        issuing_department: DepartmentCode::parse("samr").unwrap(),
        item_code: ItemCode::parse("DEMO-CY-02").unwrap(),
        valid_from: Some(date(2026, 3, 20)),
        valid_until: Some(date(2031, 3, 19)),
        physical: true,
        electronic_copy: None,
    }
}

#[test]
fn every_plan_event_round_trips() {
    let task = Uuid::from_u128(7);
    let samr = DepartmentCode::parse("samr").unwrap();
    let events = vec![
        Event::CasePlanned(CasePlanned {
            case_number: CaseNumber::new(date(2026, 3, 16), 1).unwrap(),
            package_id: PackageId::parse("open-restaurant").unwrap(),
            lead_department: samr.clone(),
            steps: vec![PlannedStep {
                step_id: "s1".into(),
                item_code: ItemCode::parse("DEMO-CY-01").unwrap(),
                item_name: "营业执照".into(),
                department: samr.clone(),
                depends_on: vec![],
                promised_working_days: 3,
                commitments: vec![],
            }],
            promised_working_days: 15,
            promised_by: date(2026, 4, 7),
            accepted_on: date(2026, 3, 16),
            catalog_version: "2026.2".into(),
        }),
        Event::StepDispatched(StepDispatched {
            step_id: "s1".into(),
            task_id: task,
            item_code: ItemCode::parse("DEMO-CY-01").unwrap(),
            department: samr.clone(),
        }),
        Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s1".into(),
            task_id: task,
            outcome: StepOutcome::Approved { results: vec![doc(ResultDocumentKind::Licence)] },
        }),
        Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s1".into(),
            task_id: task,
            outcome: StepOutcome::ReturnedForSupplement {
                supplement_request_id: "sr".into(),
                missing: vec!["m_a".into(), "form.b".into()],
            },
        }),
        Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s1".into(),
            task_id: task,
            outcome: StepOutcome::Denied { reason: "r".into(), legal_basis: "l".into() },
        }),
        Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s1".into(),
            task_id: task,
            outcome: StepOutcome::Resumed,
        }),
        Event::CaseClockStopped(CaseClockStopped {
            reason: ClockStopReason::Supplement,
            task_id: task,
            supplement_request_id: "sr".into(),
            at: at(),
        }),
        Event::CaseClockResumed(CaseClockResumed {
            task_id: task,
            stopped_working_days: 2,
            promised_by: date(2026, 4, 9),
            at: at(),
        }),
        Event::CaseDecided(CaseDecided {
            case_number: CaseNumber::new(date(2026, 3, 16), 1).unwrap(),
            outcome: CaseOutcome::Denied,
            results: vec![],
            denials: vec![StepDenial {
                step_id: "s1".into(),
                task_id: task,
                item_code: ItemCode::parse("DEMO-CY-01").unwrap(),
                department: samr.clone(),
                reason: "r".into(),
                legal_basis: "l".into(),
            }],
            explanation: "e".into(),
            working_days_used: 4,
            on_time: true,
            at: at(),
        }),
        Event::StepCancelled(StepCancelled {
            step_id: "s2".into(),
            task_id: task,
            department: samr,
            reason: CancelReason::CaseDenied,
        }),
        Event::CaseHandedToIssuance(CaseHandedToIssuance {
            case_number: CaseNumber::new(date(2026, 3, 16), 1).unwrap(),
            outcome: CaseOutcome::Denied,
            documents: vec![doc(ResultDocumentKind::Decision)],
            issue_by: date(2026, 4, 1),
        }),
        Event::PlanEnded(PlanEnded { reason: CancelReason::CaseWithdrawn, at: at() }),
    ];
    for event in events {
        let (kind, bytes) = encode_event(&event);
        assert_eq!(kind, event.event_type());
        assert_eq!(decode_event(kind, &bytes, at()).unwrap(), event);
    }
}

#[test]
fn a_bad_stored_value_is_named_by_its_field() {
    let bytes = ev::StepDispatched {
        step_id: "s1".into(),
        task_id: "not-a-uuid".into(),
        item_code: "DEMO-CY-01".into(),
        department: "samr".into(),
    }
    .encode_to_vec();
    let err = decode_event("StepDispatched", &bytes, at()).unwrap_err();
    assert!(err.to_string().contains("StepDispatched.task_id"), "{err}");
    assert!(matches!(decode_event("Nope", &[], at()), Err(ConvertError::UnknownEventType(_))));
}

#[test]
fn a_plan_recorded_before_catalog_versions_reads_as_planned_on_the_seed() {
    let old = ev::CasePlanned {
        case_number: "YCB-20260316-000001".into(),
        package_id: "open-restaurant".into(),
        lead_department: "samr".into(),
        steps: vec![],
        promised_working_days: 15,
        promised_by: Some(date(2026, 4, 7).into()),
        accepted_on: Some(date(2026, 3, 16).into()),
        catalog_version: String::new(),
    };
    assert_eq!(CasePlanned::try_from(&old).unwrap().catalog_version, yiciban_domain::catalog::SEED_VERSION);
}

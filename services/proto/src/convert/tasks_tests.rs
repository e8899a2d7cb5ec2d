//! Round trips of every task event through its wire message, the Task read
//! model, and the request helpers' violations.

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use prost::Message as _;
use uuid::Uuid;
use yiciban_domain::Aggregate;
use yiciban_domain::tasks::*;
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

use super::*;
use crate::common::v1 as pb;
use crate::convert::wire::ConvertError;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 28, 2, 0, 0).unwrap()
}

fn id() -> Uuid {
    Uuid::from_u128(0x7a5c)
}

fn samr() -> DepartmentCode {
    DepartmentCode::parse("samr").unwrap()
}

fn document() -> ResultDocument {
    ResultDocument {
        kind: ResultDocumentKind::Licence,
        name: "食品经营许可证".into(),
        number: "JY1".into(),
        issuing_department: samr(),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        valid_from: Some(day(2026, 10, 8)),
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

fn created() -> TaskCreated {
    TaskCreated {
        task_id: id(),
        case_number: CaseNumber::new(day(2026, 9, 28), 3).unwrap(),
        package_id: PackageId::parse("open-restaurant").unwrap(),
        step_id: "s2".into(),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        item_name: "食品经营许可".into(),
        department: samr(),
        promised_working_days: 5,
        due_by: day(2026, 10, 10),
        warn_on: day(2026, 10, 10),
        material_ids: vec![MaterialId::parse("m_site_layout").unwrap()],
        commitments: vec![Commitment {
            material_id: MaterialId::parse("m_health_cert").unwrap(),
            material_name: "健康证明".into(),
            commitment_text: "承诺属实".into(),
            post_check_department: samr(),
            post_check_by: None,
        }],
        lead_department: DepartmentCode::parse("fire").unwrap(),
        at: at(),
    }
}

fn every_event() -> Vec<Event> {
    let m = || vec![MaterialId::parse("m_health_cert").unwrap()];
    vec![
        Event::TaskCreated(created()),
        Event::TaskClaimed(TaskClaimed { task_id: id(), assignee: "agent-li".into(), at: at() }),
        Event::TaskTransferred(TaskTransferred {
            task_id: id(),
            from_assignee: String::new(),
            to_assignee: "agent-zhao".into(),
            reason: "休假".into(),
            at: at(),
        }),
        Event::TaskApproved(TaskApproved {
            task_id: id(),
            result: document(),
            comment: "准予".into(),
            working_days_used: 3,
            on_time: true,
            post_check_pending: true,
            at: at(),
        }),
        Event::TaskDenied(TaskDenied {
            task_id: id(),
            reason: "不符合".into(),
            legal_basis: "第三十五条".into(),
            remedy_notice: STANDARD_REMEDY_NOTICE.into(),
            working_days_used: 2,
            at: at(),
        }),
        Event::TaskReturnedForSupplement(TaskReturnedForSupplement {
            task_id: id(),
            supplement_request_id: Uuid::from_u128(5),
            items: vec![SupplementItem {
                material_id: "m_site_layout".into(),
                field_path: String::new(),
                requirement: "标明面积".into(),
            }],
            due_by: day(2026, 10, 16),
            at: at(),
        }),
        Event::TaskResumed(TaskResumed {
            task_id: id(),
            supplement_request_id: Uuid::from_u128(5),
            stopped_working_days: 1,
            due_by: day(2026, 10, 14),
            warn_on: day(2026, 10, 13),
            at: at(),
        }),
        Event::TaskWarned(TaskWarned {
            task_id: id(),
            level: WarningLevel::Red,
            due_by: day(2026, 10, 10),
            working_days_used: 5,
            promised_working_days: 5,
        }),
        Event::TaskEscalated(TaskEscalated {
            task_id: id(),
            lead_department: samr(),
            officer_id: "officer-001".into(),
            overdue_working_days: 1,
            reason: "红牌".into(),
        }),
        Event::TaskCancelled(TaskCancelled {
            task_id: id(),
            reason: CancelReason::CreatedInError,
            detail: "重复".into(),
            at: at(),
        }),
        Event::PostCheckPassed(PostCheckPassed {
            task_id: id(),
            material_ids: m(),
            note: String::new(),
            checked_on: day(2026, 11, 2),
        }),
        Event::PostCheckFailed(PostCheckFailed {
            task_id: id(),
            material_ids: m(),
            finding: "不实".into(),
            checked_on: day(2026, 11, 2),
        }),
        Event::ApprovalRevoked(ApprovalRevoked {
            task_id: id(),
            document_number: "JY1".into(),
            reason: "承诺不实".into(),
            legal_basis: "第六十九条".into(),
        }),
        Event::TaskUrged(TaskUrged {
            task_id: id(),
            urged_by: "officer-wang".into(),
            note: "请今日办结".into(),
            urge_count: 2,
            at: at(),
        }),
    ]
}

#[test]
fn every_task_event_survives_the_round_trip_through_its_wire_message() {
    for event in every_event() {
        let (kind, payload) = encode_event(&event);
        assert_eq!(kind, event.event_type());
        assert_eq!(decode_event(kind, &payload, at()).unwrap(), event, "{kind}");
    }
}

#[test]
fn an_unknown_type_or_a_bad_value_is_refused_when_read_back() {
    assert!(matches!(decode_event("TaskExploded", &[], at()), Err(ConvertError::UnknownEventType(_))));
    let bad = ev::TaskClaimed { task_id: "not-a-uuid".into(), assignee: "a".into() }.encode_to_vec();
    let err = decode_event("TaskClaimed", &bad, at()).unwrap_err();
    assert!(err.to_string().contains("TaskClaimed.task_id"), "{err}");
    let warned = ev::TaskWarned { task_id: id().to_string(), level: 0, ..Default::default() }.encode_to_vec();
    assert!(decode_event("TaskWarned", &warned, at()).is_err());
}

#[test]
fn the_task_read_model_carries_state_dates_and_the_open_supplement() {
    let events = every_event();
    let task = Task::replay(&events[..2]);
    let returned = events[5].clone();
    let task = task.evolve(&returned);
    let pb = task_to_pb(Uuid::nil(), &task, 2);
    assert_eq!(pb.task_id, id().to_string());
    assert_eq!(pb.state, pb::TaskState::WaitingForSupplement as i32);
    assert_eq!(pb.assignee, "agent-li");
    assert_eq!(pb.working_days_used, 2);
    assert_eq!(pb.lead_department, "fire");
    assert_eq!(pb.warn_on, Some(pb::Date { year: 2026, month: 10, day: 10 }));
    assert_eq!(pb.supplement_request_id, Uuid::from_u128(5).to_string());
    assert_eq!(pb.supplement_items.len(), 1);
    assert_eq!(pb.version, 3);
    assert_eq!(TaskStatus::try_from(pb.state()).unwrap(), TaskStatus::WaitingForSupplement);
}

#[test]
fn a_result_document_request_names_every_malformed_field() {
    let bad = pb::ResultDocument {
        kind: 0,
        issuing_department: "SAMR".into(),
        item_code: String::new(),
        valid_from: Some(pb::Date { year: 2026, month: 13, day: 1 }),
        ..Default::default()
    };
    let fields: Vec<String> =
        result_document_input("result", Some(&bad)).unwrap_err().into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["result.kind", "result.issuing_department", "result.item_code", "result.valid_from"]);
    assert_eq!(result_document_input("result", None).unwrap_err()[0].field, "result");
    let good = pb::ResultDocument::from(&document());
    assert_eq!(result_document_input("result", Some(&good)).unwrap(), document());
}

#[test]
fn request_helpers_name_the_field() {
    assert_eq!(parse_uuid("task_id", "x").unwrap_err().field, "task_id");
    assert!(parse_department("department", "samr").is_ok());
    let v = material_ids_input("material_ids", &["ok_id".into(), "Bad".into()]).unwrap_err();
    assert_eq!(v[0].field, "material_ids[1]");
}

#[test]
fn the_task_enums_go_both_ways() {
    for reason in [
        CancelReason::CaseWithdrawn,
        CancelReason::CaseTerminated,
        CancelReason::CaseDenied,
        CancelReason::CreatedInError,
    ] {
        assert_eq!(CancelReason::try_from(pb::TaskCancelReason::from(reason)).unwrap(), reason);
    }
    assert_eq!(
        WarningLevel::try_from(pb::WarningLevel::from(Some(WarningLevel::Yellow))).unwrap(),
        WarningLevel::Yellow
    );
    assert_eq!(pb::WarningLevel::from(None::<WarningLevel>), pb::WarningLevel::Unspecified);
    assert!(WarningLevel::try_from(pb::WarningLevel::Unspecified).is_err());
    assert_eq!(api::PostCheckState::from(PostCheck::NotNeeded), api::PostCheckState::Unspecified);
    assert_eq!(pb::TaskState::from(TaskStatus::New), pb::TaskState::Unspecified);
}

//! Given / when / then tests of the task aggregate: a food-business licence
//! task (DEMO-RS-02, department samr, lead department samr, 5 working days)
//! created Monday 2026-09-28 10:00 +08:00, with one commitment unless said.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::refusal::ErrorKind;
use crate::testing::{self, Given};
use crate::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

mod clock;
mod decisions;
mod handover;
mod lifecycle;
mod supplement;

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An instant given in China time, e.g. "2026-09-28T10:00".
pub(super) fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

pub(super) fn dept(code: &str) -> DepartmentCode {
    DepartmentCode::parse(code).unwrap()
}

pub(super) fn task_id() -> Uuid {
    Uuid::from_u128(0x7a5c_0001)
}

pub(super) fn request_id() -> Uuid {
    Uuid::from_u128(0x5e_0001)
}

pub(super) fn commitment() -> Commitment {
    Commitment {
        material_id: MaterialId::parse("m_health_cert").unwrap(),
        material_name: "从业人员健康证明".into(),
        commitment_text: "本人承诺从业人员均持有有效健康证明。".into(),
        post_check_department: dept("samr"),
        post_check_by: Some(date(2026, 12, 31)),
    }
}

pub(super) fn create_with(commitments: Vec<Commitment>) -> Command {
    Command::Create(Create {
        task_id: task_id(),
        case_number: CaseNumber::new(date(2026, 9, 28), 7).unwrap(),
        package_id: PackageId::parse("open-restaurant").unwrap(),
        step_id: "s2".into(),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        item_name: "食品经营许可".into(),
        department: dept("samr"),
        lead_department: dept("samr"),
        promised_working_days: 5,
        material_ids: vec![MaterialId::parse("m_site_layout").unwrap()],
        commitments,
        now: cst("2026-09-28T10:00"),
        due_by: date(2026, 10, 10),
        warn_on: date(2026, 10, 10),
    })
}

pub(super) fn create() -> Command {
    create_with(vec![commitment()])
}

pub(super) fn claim_by(agent: &str, department: &str) -> Command {
    Command::Claim(Claim { agent: agent.into(), agent_department: dept(department), now: cst("2026-09-29T09:00") })
}

pub(super) fn claim() -> Command {
    claim_by("agent-li", "samr")
}

pub(super) fn document() -> ResultDocument {
    ResultDocument {
        kind: ResultDocumentKind::Licence,
        name: "食品经营许可证".into(),
        number: "JY11502030000123".into(),
        issuing_department: dept("samr"),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        valid_from: Some(date(2026, 10, 8)),
        valid_until: Some(date(2031, 10, 7)),
        physical: true,
        electronic_copy: None,
    }
}

pub(super) fn approve_by(by: &str) -> Command {
    Command::Approve(Approve {
        by: by.into(),
        result: document(),
        comment: "材料齐全，准予许可".into(),
        now: cst("2026-10-08T15:00"),
        working_days_used: 2,
    })
}

pub(super) fn approve() -> Command {
    approve_by("agent-li")
}

pub(super) fn deny() -> Command {
    Command::Deny(Deny {
        by: "agent-li".into(),
        reason: "经营场所布局不符合要求".into(),
        legal_basis: "《食品安全法》第三十五条".into(),
        remedy_notice: String::new(),
        now: cst("2026-10-08T15:00"),
        working_days_used: 2,
    })
}

pub(super) fn item(material: &str, field: &str, requirement: &str) -> SupplementItem {
    SupplementItem { material_id: material.into(), field_path: field.into(), requirement: requirement.into() }
}

pub(super) fn return_with(items: Vec<SupplementItem>) -> Command {
    Command::ReturnForSupplement(ReturnForSupplement {
        by: "agent-li".into(),
        supplement_request_id: request_id(),
        items,
        due_by: date(2026, 10, 16),
        now: cst("2026-09-30T12:00"),
    })
}

pub(super) fn return_for_supplement() -> Command {
    return_with(vec![
        item("m_site_layout", "", "平面图须标明操作间面积"),
        item("", "form.business_area", "经营面积与平面图不一致"),
    ])
}

pub(super) fn resume(id: Uuid) -> Command {
    Command::Resume(Resume {
        supplement_request_id: id,
        now: cst("2026-10-09T09:00"),
        stopped_working_days: 1,
        due_by: date(2026, 10, 14),
        warn_on: date(2026, 10, 13),
    })
}

pub(super) fn transfer(by: Transferrer, to: &str) -> Command {
    Command::Transfer(Transfer {
        by,
        to_assignee: to.into(),
        reason: "承办人休假".into(),
        now: cst("2026-09-30T09:00"),
    })
}

pub(super) fn cancel() -> Command {
    Command::Cancel(Cancel { reason: CancelReason::CaseWithdrawn, detail: String::new(), now: cst("2026-09-30T09:00") })
}

pub(super) fn warn(level: WarningLevel) -> Command {
    Command::Warn(Warn {
        level,
        working_days_used: if level == WarningLevel::Red { 5 } else { 4 },
        overdue_working_days: 0,
        officer_id: "officer-001".into(),
    })
}

pub(super) fn post_check(outcome: PostCheckOutcome, ids: &[&str]) -> Command {
    Command::RecordPostCheck(RecordPostCheck {
        by: "agent-li".into(),
        material_ids: ids.iter().map(|i| MaterialId::parse(i).unwrap()).collect(),
        outcome,
        checked_on: date(2026, 11, 2),
    })
}

pub(super) fn failed(revoke: Option<&str>) -> PostCheckOutcome {
    PostCheckOutcome::Failed {
        finding: "两名从业人员无健康证明".into(),
        revoke_with_legal_basis: revoke.map(str::to_owned),
    }
}

/// The framework's [`testing::given_commands`] for this aggregate.
pub(super) fn given(commands: Vec<Command>) -> Given<Task> {
    testing::given_commands(commands)
}

pub(super) fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

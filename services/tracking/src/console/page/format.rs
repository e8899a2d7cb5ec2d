//! How the pages word and format what the RPCs answer: Chinese labels for
//! statuses, task states and roles, the yellow and red cards, the marks of
//! timeline entries, and times and dates in China time. Plain text only:
//! the templates escape it and own the markup.

use chrono::{DateTime, FixedOffset, Utc};
use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;

use crate::projection::{CaseStatus, TaskState};

/// What a missing time or date shows.
const NONE: &str = "—";

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// A wire timestamp as "YYYY-MM-DD HH:MM" in China time, or "—".
pub fn at(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map_or_else(|| NONE.to_owned(), at_utc)
}

/// A time as "YYYY-MM-DD HH:MM" in China time.
pub fn at_utc(t: DateTime<Utc>) -> String {
    t.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string()
}

/// A wire date as "YYYY-MM-DD", or "—".
pub fn date(d: Option<&common::Date>) -> String {
    d.map_or_else(|| NONE.to_owned(), |d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

/// A rate in 0..=1 as a percentage with one decimal.
pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// A case status: its Chinese label and its snake-case name (which the
/// stylesheet colours as `status-{en}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Status {
    /// The status of a wire `CaseStatus` value.
    pub fn of(status: i32) -> Status {
        let s = CaseStatus::from_pb(status).unwrap_or_default();
        let zh = match s {
            CaseStatus::Unknown => "未知",
            CaseStatus::Submitted => "已提交",
            CaseStatus::Accepted => "已受理",
            CaseStatus::AcceptedWithDeficiency => "容缺受理",
            CaseStatus::NotAccepted => "不予受理",
            CaseStatus::InJointProcessing => "联办中",
            CaseStatus::WaitingForSupplement => "待补正",
            CaseStatus::Approved => "准予许可",
            CaseStatus::Denied => "不予许可",
            CaseStatus::Issued => "已出证",
            CaseStatus::Closed => "已办结",
            CaseStatus::Withdrawn => "已撤回",
            CaseStatus::Terminated => "已终止",
        };
        Status { zh, en: s.as_str() }
    }
}

/// The Chinese label of a wire `TaskState` value.
pub fn task_state(state: i32) -> &'static str {
    match TaskState::from_pb(state) {
        Some(TaskState::Pending) => "待认领",
        Some(TaskState::InProgress) => "办理中",
        Some(TaskState::WaitingForSupplement) => "待补正",
        Some(TaskState::Approved) => "已准予",
        Some(TaskState::Denied) => "不予许可",
        Some(TaskState::Cancelled) => "已取消",
        Some(TaskState::Revoked) => "已撤销",
        None => NONE,
    }
}

/// The Chinese label of a wire `Role` value; "系统" for none or unknown.
pub fn role(role: i32) -> &'static str {
    match common::Role::try_from(role) {
        Ok(common::Role::Clerk) => "综窗",
        Ok(common::Role::Agent) => "部门",
        Ok(common::Role::Officer) => "专人",
        Ok(common::Role::Supervisor) => "督查",
        Ok(common::Role::Admin) => "管理员",
        Ok(common::Role::Applicant) => "申请人",
        _ => "系统",
    }
}

/// A warning card (黄牌 / 红牌) shown beside a case, task or lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    Yellow,
    Red,
}

impl Card {
    /// The card of a wire `WarningLevel` value; `None` for no warning.
    pub fn of(level: i32) -> Option<Card> {
        match common::WarningLevel::try_from(level) {
            Ok(common::WarningLevel::Red) => Some(Card::Red),
            Ok(common::WarningLevel::Yellow) => Some(Card::Yellow),
            _ => None,
        }
    }

    /// The stylesheet class (`card red`, `card yellow`).
    pub fn class(self) -> &'static str {
        match self {
            Card::Yellow => "yellow",
            Card::Red => "red",
        }
    }

    /// The card's name on the page.
    pub fn label(self) -> &'static str {
        match self {
            Card::Yellow => "黄牌",
            Card::Red => "红牌",
        }
    }

    /// The tooltip.
    pub fn title(self) -> &'static str {
        match self {
            Card::Yellow => "yellow warning",
            Card::Red => "red warning",
        }
    }
}

/// The mark (stylesheet class) an entry gets on its lane: red and yellow
/// for warnings and failures, stop/resume for the clock, done/denied for
/// outcomes; empty for the rest.
pub fn mark(entry: &pb::TimelineEntry) -> &'static str {
    match entry.event_type.as_str() {
        "TaskWarned" if entry.summary.contains("红牌") => "red",
        "TaskWarned" => "yellow",
        "TaskEscalated" | "PostCheckFailed" | "ApprovalRevoked" => "red",
        "CaseClockStopped" | "TaskReturnedForSupplement" => "stop",
        "CaseClockResumed" | "TaskResumed" | "MaterialsSupplemented" => "resume",
        "TaskApproved" | "ApplicationAccepted" | "CaseDecided" | "PickedUp" | "Delivered" | "CaseClosed" => "done",
        "TaskDenied" | "ApplicationNotAccepted" | "CaseTerminated" => "denied",
        _ => "",
    }
}

//! Values worded for the pages: dates and times in Beijing time, case
//! statuses and task states, the clock of a task, warnings, who acted.

use chrono::{DateTime, FixedOffset, Utc};
use yiciban_proto::common::v1::{Actor, CaseStatus, Date, Role, TaskState, WarningLevel};
use yiciban_proto::tasks::v1::Task;

/// Beijing time (UTC+8, no daylight saving).
fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// `2026-09-28 10:00`, Beijing time.
pub fn time(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing()).format("%Y-%m-%d %H:%M").to_string()
}

/// A protobuf timestamp, Beijing time; empty when unset.
pub fn timestamp(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(time)
        .unwrap_or_default()
}

/// `2026-10-09`; empty when unset.
pub fn date(d: Option<&Date>) -> String {
    d.filter(|d| d.year != 0).map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
}

/// The state's name (办件 vocabulary).
pub fn state(state: i32) -> &'static str {
    match TaskState::try_from(state).unwrap_or(TaskState::Unspecified) {
        TaskState::Pending => "待认领",
        TaskState::InProgress => "办理中",
        TaskState::WaitingForSupplement => "补正中",
        TaskState::Approved => "准予",
        TaskState::Denied => "不予许可",
        TaskState::Cancelled => "已取消",
        TaskState::Revoked => "已撤销",
        TaskState::Unspecified => "未知",
    }
}

/// The case status's name (办件 vocabulary).
pub fn case_status(status: i32) -> &'static str {
    match CaseStatus::try_from(status).unwrap_or(CaseStatus::Unspecified) {
        CaseStatus::Submitted => "已申报",
        CaseStatus::Accepted => "已受理",
        CaseStatus::AcceptedWithDeficiency => "容缺受理",
        CaseStatus::NotAccepted => "不予受理",
        CaseStatus::InJointProcessing => "联办中",
        CaseStatus::WaitingForSupplement => "补正中",
        CaseStatus::Approved => "准予许可",
        CaseStatus::Denied => "不予许可",
        CaseStatus::Issued => "已出件",
        CaseStatus::Closed => "已办结",
        CaseStatus::Withdrawn => "已撤回",
        CaseStatus::Terminated => "已终止",
        CaseStatus::Unspecified => "未知",
    }
}

/// Who did something, as a timeline shows it: `部门经办 agent-samr-1`,
/// `系统 routing`.
pub fn actor(actor: Option<&Actor>) -> String {
    let Some(actor) = actor else { return "系统".to_owned() };
    let role = match Role::try_from(actor.role).unwrap_or(Role::Unspecified) {
        Role::Clerk => "综窗",
        Role::Agent => "部门经办",
        Role::Officer => "专人",
        Role::Supervisor => "督办",
        Role::Admin => "管理员",
        Role::Applicant => "申请人",
        _ => "系统",
    };
    if actor.subject.is_empty() { role.to_owned() } else { format!("{role} {}", actor.subject) }
}

/// A fraction 0.0..=1.0 as a percentage with one decimal.
pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The task's clock: running, stopped for a supplement, or stopped for good.
pub fn clock(task: &Task) -> String {
    let used = format!("已用 {}/{} 个工作日", task.working_days_used, task.promised_working_days);
    match TaskState::try_from(task.state).unwrap_or(TaskState::Unspecified) {
        TaskState::Pending | TaskState::InProgress => format!("计时中 · {used}"),
        TaskState::WaitingForSupplement => format!("暂停计时（等待补正） · {used}"),
        _ => format!("已结束 · {used}"),
    }
}

/// `yellow`/`red` (the badge's class) and its words, or `None`.
pub fn warning(level: i32) -> Option<(&'static str, &'static str)> {
    match WarningLevel::try_from(level).unwrap_or(WarningLevel::Unspecified) {
        WarningLevel::Yellow => Some(("yellow", "黄牌")),
        WarningLevel::Red => Some(("red", "红牌")),
        WarningLevel::Unspecified => None,
    }
}

/// The post-check state's words; empty when no check is needed.
pub fn post_check(state: i32) -> &'static str {
    use yiciban_proto::tasks::v1::PostCheckState;
    match PostCheckState::try_from(state).unwrap_or(PostCheckState::Unspecified) {
        PostCheckState::Pending => "待事后核查",
        PostCheckState::Passed => "核查通过",
        PostCheckState::Failed => "核查未通过",
        PostCheckState::Unspecified => "",
    }
}

/// A file size in words.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_beijing_time() {
        let at = DateTime::parse_from_rfc3339("2026-09-28T02:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(time(at), "2026-09-28 10:00");
        assert_eq!(date(Some(&Date { year: 2026, month: 10, day: 9 })), "2026-10-09");
        assert_eq!(date(None), "");
    }

    #[test]
    fn the_clock_stops_while_a_supplement_is_awaited() {
        let mut task = Task {
            state: TaskState::InProgress as i32,
            working_days_used: 2,
            promised_working_days: 5,
            ..Default::default()
        };
        assert_eq!(clock(&task), "计时中 · 已用 2/5 个工作日");
        task.state = TaskState::WaitingForSupplement as i32;
        assert!(clock(&task).starts_with("暂停计时"));
        assert_eq!(warning(WarningLevel::Red as i32), Some(("red", "红牌")));
        assert_eq!(warning(0), None);
        assert_eq!(size(2048), "2.0 KiB");
    }

    #[test]
    fn statuses_actors_and_rates_are_worded() {
        assert_eq!(case_status(CaseStatus::InJointProcessing as i32), "联办中");
        assert_eq!(case_status(99), "未知");
        let agent = Actor { subject: "agent-samr-1".into(), role: Role::Agent as i32, department: "samr".into() };
        assert_eq!(actor(Some(&agent)), "部门经办 agent-samr-1");
        assert_eq!(actor(None), "系统");
        assert_eq!(percent(0.875), "87.5%");
    }
}

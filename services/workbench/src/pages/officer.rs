//! The case page's actions (`case.html`): 督办 — the case's officer or a
//! supervisor urges the department holding an open step (TaskService.UrgeTask,
//! with a short note the department reads on its task) — and 改派专办员 — a
//! supervisor or administrator gives the case to another officer
//! (IntakeService.AssignOfficer). Which forms are offered follows the role
//! and the step's state (the services decide again); each form carries the
//! version shown and a fresh idempotency key; a refused form comes back with
//! what was typed and the service's words next to the field.

use yiciban_platform::Role;
use yiciban_platform::auth::pkce::random_token;
use yiciban_proto::tracking::v1::TimelineEntry;

use super::decide::{ActionForm, Sent};

/// The longest urging note the form takes (the service's limit).
pub const URGE_NOTE_MAX_CHARS: usize = 200;

/// One action of the case page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    /// 督办 a step's department.
    Urge,
    /// 改派专办员.
    Reassign,
    /// 办件备注 (IntakeService.AddCaseNote).
    Note,
}

impl CaseAction {
    /// The `done` value of the case page after the action went through.
    pub fn segment(self) -> &'static str {
        match self {
            CaseAction::Urge => "urge",
            CaseAction::Reassign => "officer",
            CaseAction::Note => "note",
        }
    }

    /// The action whose segment is `segment`.
    pub fn of_segment(segment: &str) -> Option<CaseAction> {
        [CaseAction::Urge, CaseAction::Reassign, CaseAction::Note].into_iter().find(|a| a.segment() == segment)
    }

    /// The confirmation shown on the case page.
    pub fn confirmation(self) -> &'static str {
        match self {
            CaseAction::Urge => "已督办，办理部门将在待办箱和任务页看到督办说明。",
            CaseAction::Reassign => "已改派专办员，办件已转入新专办员的办件列表。",
            CaseAction::Note => "已添加备注，见时间线。",
        }
    }

    /// The form input a service's field violation is about (`None`: the
    /// whole form).
    pub fn input_of(self, field: &str) -> Option<String> {
        let input = match (self, field) {
            (CaseAction::Urge, "note") => "note",
            (CaseAction::Reassign, f @ ("officer_id" | "officer_name")) => f,
            (CaseAction::Note, "text") => "text",
            _ => return None,
        };
        Some(input.to_owned())
    }
}

/// A refused form of the case page: which, on which task (an urging), and
/// what was sent.
#[derive(Debug, Clone)]
pub struct CaseAttempt {
    pub action: CaseAction,
    /// The urged task; empty for a reassignment.
    pub task_id: String,
    pub sent: Sent,
}

/// Whether `role` may urge a department (the officer's own cases are the
/// only ones an officer sees).
pub fn may_urge(role: Role) -> bool {
    matches!(role, Role::Officer | Role::Supervisor)
}

/// Whether `role` may give a case to another officer.
pub fn may_reassign(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Admin)
}

/// Whether `role` may add a note to a case (ADR 0034; an officer only on
/// the cases they see, which are their own).
pub fn may_note(role: Role) -> bool {
    matches!(role, Role::Clerk | Role::Officer | Role::Supervisor)
}

/// Whether `role` may read a case's notes.
pub fn may_read_notes(role: Role) -> bool {
    may_note(role) || role == Role::Admin
}

/// A fresh form (or the refused one again) posting to `action`.
pub fn form(
    action: String,
    version: u64,
    attempt: Option<&CaseAttempt>,
    matches: impl Fn(&CaseAttempt) -> bool,
) -> ActionForm {
    let sent = attempt.filter(|a| matches(a)).map(|a| a.sent.clone()).unwrap_or_default();
    ActionForm { action, version, key: random_token(), sent }
}

/// The version of the case's intake stream (`case-<id>`) as the timeline
/// shows it: the reassignment's `expected_version`, so that a case changed
/// since the page was shown is refused (ABORTED), not overwritten. 0 (do
/// not check) when the timeline shows none.
pub fn intake_version(case_id: &str, entries: &[TimelineEntry]) -> u64 {
    let stream = format!("case-{case_id}");
    entries.iter().filter(|e| e.stream_id == stream).map(|e| e.stream_version).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reassignment_expects_the_case_streams_last_version_shown() {
        let entry = |stream: &str, version: u64| TimelineEntry {
            stream_id: stream.into(),
            stream_version: version,
            ..Default::default()
        };
        let entries = [entry("case-c1", 1), entry("task-t1", 7), entry("case-c1", 3), entry("plan-c1", 9)];
        assert_eq!(intake_version("c1", &entries), 3);
        assert_eq!(intake_version("c2", &entries), 0);
    }

    #[test]
    fn each_field_violation_goes_next_to_its_input() {
        assert_eq!(CaseAction::Urge.input_of("note").as_deref(), Some("note"));
        assert_eq!(CaseAction::Reassign.input_of("officer_id").as_deref(), Some("officer_id"));
        assert_eq!(CaseAction::Urge.input_of("task_id"), None);
        assert_eq!(CaseAction::of_segment("officer"), Some(CaseAction::Reassign));
        assert!(may_urge(Role::Officer) && may_urge(Role::Supervisor) && !may_urge(Role::Agent));
        assert!(may_reassign(Role::Admin) && !may_reassign(Role::Officer));
        assert_eq!(CaseAction::Note.input_of("text").as_deref(), Some("text"));
        assert!(may_note(Role::Clerk) && may_note(Role::Officer) && !may_note(Role::Agent) && !may_note(Role::Admin));
        assert!(may_read_notes(Role::Admin) && !may_read_notes(Role::Agent));
    }
}

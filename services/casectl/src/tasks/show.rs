//! How tasks read for people: state names, warning marks, the task table
//! and one task in detail.

use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as pb;

use crate::text::{self, date, or_dash, timestamp};

/// The short state name, as `--state` takes it.
pub fn state_name(state: common::TaskState) -> &'static str {
    match state {
        common::TaskState::Unspecified => "-",
        common::TaskState::Pending => "pending",
        common::TaskState::InProgress => "in-progress",
        common::TaskState::WaitingForSupplement => "waiting",
        common::TaskState::Approved => "approved",
        common::TaskState::Denied => "denied",
        common::TaskState::Cancelled => "cancelled",
        common::TaskState::Revoked => "revoked",
    }
}

pub(super) fn state_chinese(state: common::TaskState) -> &'static str {
    match state {
        common::TaskState::Unspecified => "",
        common::TaskState::Pending => "待认领",
        common::TaskState::InProgress => "办理中",
        common::TaskState::WaitingForSupplement => "补正中",
        common::TaskState::Approved => "准予",
        common::TaskState::Denied => "不予许可",
        common::TaskState::Cancelled => "已取消",
        common::TaskState::Revoked => "已撤销",
    }
}

/// The warning mark: `🟡 yellow`, `🔴 red` (`, escalated` once escalated), or
/// empty when on time.
pub fn warning_mark(level: common::WarningLevel, escalated: bool) -> String {
    let mark = match level {
        common::WarningLevel::Unspecified => "",
        common::WarningLevel::Yellow => "🟡 yellow",
        common::WarningLevel::Red => "🔴 red",
    };
    if escalated { format!("{mark}, escalated").trim_start_matches(", ").to_owned() } else { mark.to_owned() }
}

/// Tasks as a table, with the department column when `with_department`.
pub(super) fn task_table(tasks: &[pb::Task], with_department: bool) -> String {
    let mut headers = vec!["TASK ID", "CASE NUMBER"];
    if with_department {
        headers.push("DEPT");
    }
    headers.extend(["STATE", "ASSIGNEE", "DUE", "WARNING", "ITEM"]);
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            let mut row = vec![t.task_id.clone(), t.case_number.clone()];
            if with_department {
                row.push(t.department.clone());
            }
            row.extend([
                state_name(t.state()).to_owned(),
                or_dash(&t.assignee).to_owned(),
                date(t.due_by.as_ref()),
                warning_mark(t.warning(), t.escalated),
                format!("{} {}", t.item_code, t.item_name),
            ]);
            row
        })
        .collect();
    text::table(&headers, &rows)
}

pub(super) fn result_kind(kind: common::ResultDocumentKind) -> &'static str {
    match kind {
        common::ResultDocumentKind::Unspecified => "-",
        common::ResultDocumentKind::Licence => "licence",
        common::ResultDocumentKind::Certificate => "certificate",
        common::ResultDocumentKind::Registration => "registration",
        common::ResultDocumentKind::Decision => "decision",
        common::ResultDocumentKind::Card => "card",
        common::ResultDocumentKind::Notice => "notice",
        common::ResultDocumentKind::Other => "other",
    }
}

/// One result document on one line.
pub fn result_line(r: &common::ResultDocument) -> String {
    let validity = match (&r.valid_from, &r.valid_until) {
        (None, None) => "no expiry".to_owned(),
        (from, until) => format!("valid {} to {}", date(from.as_ref()), date(until.as_ref())),
    };
    let copy = if r.physical { "paper" } else { "electronic" };
    format!("{} {} no. {} ({}, {validity}, {copy})", result_kind(r.kind()), r.name, r.number, r.issuing_department)
}

/// A task in detail, one field per line.
pub(super) fn detail(t: &pb::Task) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<14}{value}\n"));
    line("task id", &t.task_id);
    line("case", &format!("{} ({})", t.case_number, t.case_id));
    line("package", &format!("{}, step {}", t.package_id, t.step_id));
    line("item", &format!("{} {}", t.item_code, t.item_name));
    line("department", &format!("{} (lead {})", t.department, or_dash(&t.lead_department)));
    line("state", &format!("{} {}", state_name(t.state()), state_chinese(t.state())));
    line("assignee", or_dash(&t.assignee));
    line(
        "limit",
        &format!(
            "{} working days, {} used, due {}",
            t.promised_working_days,
            t.working_days_used,
            date(t.due_by.as_ref())
        ),
    );
    let warning = warning_mark(t.warning(), t.escalated);
    line(
        "warning",
        &format!("{}; yellow on {}", if warning.is_empty() { "on time" } else { &warning }, date(t.warn_on.as_ref())),
    );
    if !t.material_ids.is_empty() {
        line("materials", &t.material_ids.join(", "));
    }
    if !t.supplement_request_id.is_empty() {
        line("supplement", &format!("request {}, due {}", t.supplement_request_id, date(t.supplement_due_by.as_ref())));
        for i in &t.supplement_items {
            let what = [i.material_id.as_str(), i.field_path.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            line("  item", &format!("{what}: {}", i.requirement));
        }
    }
    if let Some(r) = &t.result {
        line("result", &result_line(r));
    }
    if !t.reason.is_empty() {
        line("reason", &t.reason);
    }
    if !t.legal_basis.is_empty() {
        line("legal basis", &t.legal_basis);
    }
    for c in &t.commitments {
        line(
            "commitment",
            &format!(
                "{} {} — post-check by {} ({}): {}",
                c.material_id,
                c.material_name,
                date(c.post_check_by.as_ref()),
                c.post_check_department,
                c.commitment_text
            ),
        );
    }
    let post_check = match t.post_check() {
        pb::PostCheckState::Unspecified => None,
        pb::PostCheckState::Pending => Some("pending"),
        pb::PostCheckState::Passed => Some("passed"),
        pb::PostCheckState::Failed => Some("failed"),
    };
    if let Some(p) = post_check {
        line("post-check", p);
    }
    line("created", &timestamp(t.created_at.as_ref()));
    line("claimed", &timestamp(t.claimed_at.as_ref()));
    line("finished", &timestamp(t.finished_at.as_ref()));
    line("version", &t.version.to_string());
    out
}

//! The decisions of the task aggregate: what each command records, or why
//! it is refused. Malformed input is refused with every field violation at
//! once before the state is looked at.

use super::command::{
    Approve, Cancel, Claim, Command, Create, Deny, PostCheckOutcome, RecordPostCheck, Resume, ReturnForSupplement,
    Transfer, Transferrer, Urge, Warn,
};
use super::error::TaskError;
use super::event::{
    ApprovalRevoked, CancelReason, Event, PostCheckFailed, PostCheckPassed, TaskApproved, TaskCancelled, TaskClaimed,
    TaskCreated, TaskDenied, TaskEscalated, TaskResumed, TaskReturnedForSupplement, TaskTransferred, TaskUrged,
    TaskWarned, WarningLevel,
};
use super::state::{PostCheck, Task, TaskStatus};
use crate::refusal::Violations;

/// The remedy notice of a denial when the agent gives none.
pub const STANDARD_REMEDY_NOTICE: &str =
    "如不服本决定，可自收到本决定之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起行政诉讼。";

/// Decides a command against the task: the events to append, or why not.
/// Pure and synchronous.
pub(super) fn decide(task: &Task, command: Command) -> Result<Vec<Event>, TaskError> {
    match command {
        Command::Create(c) => create(task, c),
        Command::Claim(c) => claim(task, c),
        Command::Approve(c) => approve(task, c),
        Command::Deny(c) => deny(task, c),
        Command::ReturnForSupplement(c) => return_for_supplement(task, c),
        Command::Resume(c) => resume(task, c),
        Command::Transfer(c) => transfer(task, c),
        Command::Cancel(c) => cancel(task, c),
        Command::Warn(c) => warn(task, c),
        Command::RecordPostCheck(c) => post_check(task, c),
        Command::Urge(c) => urge(task, c),
    }
}

fn created(task: &Task) -> Result<&TaskCreated, TaskError> {
    task.created.as_ref().ok_or(TaskError::NoSuchTask)
}

fn require_state(
    task: &Task,
    allowed: &[TaskStatus],
    action: &'static str,
    needed: &'static str,
) -> Result<(), TaskError> {
    if task.status == TaskStatus::New {
        return Err(TaskError::NoSuchTask);
    }
    if allowed.contains(&task.status) {
        Ok(())
    } else {
        Err(TaskError::WrongState { status: task.status, action, needed })
    }
}

/// In progress and held by `by`.
fn require_assignee(task: &Task, by: &str, action: &'static str) -> Result<(), TaskError> {
    require_state(task, &[TaskStatus::InProgress], action, "in progress (claimed)")?;
    match task.assignee.as_deref() {
        Some(a) if a == by => Ok(()),
        a => Err(TaskError::NotAssignee { assignee: a.unwrap_or_default().to_owned(), action }),
    }
}

const OPEN: &[TaskStatus] = &[TaskStatus::Pending, TaskStatus::InProgress, TaskStatus::WaitingForSupplement];

fn create(task: &Task, c: Create) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("step_id", &c.step_id, true, 64, "步骤编号");
    v.text("item_name", &c.item_name, true, 200, "事项名称");
    if c.warn_on > c.due_by {
        v.add("warn_on", "预警日期不能晚于办结期限");
    }
    for (i, commitment) in c.commitments.iter().enumerate() {
        v.text(&format!("commitments[{i}].commitment_text"), &commitment.commitment_text, true, 2000, "承诺内容");
    }
    v.finish()?;
    if task.status != TaskStatus::New {
        return Err(TaskError::AlreadyCreated);
    }
    Ok(vec![Event::TaskCreated(TaskCreated {
        task_id: c.task_id,
        case_number: c.case_number,
        package_id: c.package_id,
        step_id: c.step_id.trim().to_owned(),
        item_code: c.item_code,
        item_name: c.item_name.trim().to_owned(),
        department: c.department,
        promised_working_days: c.promised_working_days,
        due_by: c.due_by,
        warn_on: c.warn_on,
        material_ids: c.material_ids,
        commitments: c.commitments,
        lead_department: c.lead_department,
        at: c.now,
    })])
}

fn claim(task: &Task, c: Claim) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("agent", &c.agent, true, 128, "认领人");
    v.finish()?;
    let details = created(task)?;
    if details.department != c.agent_department {
        return Err(TaskError::WrongDepartment {
            department: details.department.to_string(),
            agent_department: c.agent_department.to_string(),
            action: "claim",
        });
    }
    require_state(task, &[TaskStatus::Pending], "claim", "pending (unclaimed)")?;
    Ok(vec![Event::TaskClaimed(TaskClaimed {
        task_id: details.task_id,
        assignee: c.agent.trim().to_owned(),
        at: c.now,
    })])
}

fn approve(task: &Task, c: Approve) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("result.name", &c.result.name, true, 100, "证照名称");
    v.text("result.number", &c.result.number, true, 100, "证照编号");
    v.text("comment", &c.comment, false, 1000, "办理意见");
    if let (Some(from), Some(until)) = (c.result.valid_from, c.result.valid_until)
        && until < from
    {
        v.add("result.valid_until", "有效期截止日不能早于起始日");
    }
    if let Some(details) = &task.created {
        if c.result.issuing_department != details.department {
            v.add("result.issuing_department", format!("发证部门应为本环节部门 {}", details.department));
        }
        if c.result.item_code != details.item_code {
            v.add("result.item_code", format!("事项编码应为本环节事项 {}", details.item_code));
        }
    }
    v.finish()?;
    let details = created(task)?;
    require_assignee(task, &c.by, "approve")?;
    let today = yiciban_calendar::date_in_china(c.now);
    let mut result = c.result;
    result.name = result.name.trim().to_owned();
    result.number = result.number.trim().to_owned();
    Ok(vec![Event::TaskApproved(TaskApproved {
        task_id: details.task_id,
        result,
        comment: c.comment.trim().to_owned(),
        working_days_used: c.working_days_used,
        on_time: task.due_by.is_some_and(|due| today <= due),
        post_check_pending: !details.commitments.is_empty(),
        at: c.now,
    })])
}

fn deny(task: &Task, c: Deny) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("reason", &c.reason, true, 2000, "不予许可理由");
    v.text("legal_basis", &c.legal_basis, true, 500, "法律依据");
    v.text("remedy_notice", &c.remedy_notice, false, 2000, "救济途径告知");
    v.finish()?;
    let details = created(task)?;
    require_assignee(task, &c.by, "deny")?;
    let remedy = c.remedy_notice.trim();
    Ok(vec![Event::TaskDenied(TaskDenied {
        task_id: details.task_id,
        reason: c.reason.trim().to_owned(),
        legal_basis: c.legal_basis.trim().to_owned(),
        remedy_notice: if remedy.is_empty() { STANDARD_REMEDY_NOTICE.to_owned() } else { remedy.to_owned() },
        working_days_used: c.working_days_used,
        at: c.now,
    })])
}

fn return_for_supplement(task: &Task, c: ReturnForSupplement) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    if c.items.is_empty() {
        v.add("items", "补正须一次性逐项列明所需材料或需更正的内容，至少一项");
    }
    for (i, item) in c.items.iter().enumerate() {
        let (material, field) = (item.material_id.trim(), item.field_path.trim());
        if material.is_empty() && field.is_empty() {
            v.add(format!("items[{i}]"), "每一项须指明材料编码或表单字段");
        }
        if !material.is_empty() && crate::values::MaterialId::parse(material).is_err() {
            v.add(format!("items[{i}].material_id"), "材料编码格式不正确");
        }
        let form_field = field.strip_prefix("form.").is_some_and(|key| !key.is_empty());
        if !field.is_empty() && !form_field {
            v.add(format!("items[{i}].field_path"), "表单字段应写作 form.<字段名>");
        }
        v.text(&format!("items[{i}].requirement"), &item.requirement, true, 1000, "补正要求");
    }
    if c.due_by < yiciban_calendar::date_in_china(c.now) {
        v.add("due_by", "补正期限不能早于今天");
    }
    v.finish()?;
    let details = created(task)?;
    if task.status == TaskStatus::WaitingForSupplement {
        return Err(TaskError::WrongState {
            status: task.status,
            action: "return for supplement",
            needed: "in progress without an open supplement request",
        });
    }
    require_assignee(task, &c.by, "return")?;
    let items = c
        .items
        .into_iter()
        .map(|i| super::event::SupplementItem {
            material_id: i.material_id.trim().to_owned(),
            field_path: i.field_path.trim().to_owned(),
            requirement: i.requirement.trim().to_owned(),
        })
        .collect();
    Ok(vec![Event::TaskReturnedForSupplement(TaskReturnedForSupplement {
        task_id: details.task_id,
        supplement_request_id: c.supplement_request_id,
        items,
        due_by: c.due_by,
        at: c.now,
    })])
}

fn resume(task: &Task, c: Resume) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    if c.warn_on > c.due_by {
        v.add("warn_on", "预警日期不能晚于办结期限");
    }
    v.finish()?;
    let details = created(task)?;
    require_state(task, &[TaskStatus::WaitingForSupplement], "resume", "waiting for a supplement")?;
    match &task.supplement {
        Some(open) if open.request_id == c.supplement_request_id => {}
        _ => return Err(TaskError::NotTheOpenRequest { given: c.supplement_request_id.to_string() }),
    }
    Ok(vec![Event::TaskResumed(TaskResumed {
        task_id: details.task_id,
        supplement_request_id: c.supplement_request_id,
        stopped_working_days: c.stopped_working_days,
        due_by: c.due_by,
        warn_on: c.warn_on,
        at: c.now,
    })])
}

fn transfer(task: &Task, c: Transfer) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("to_assignee", &c.to_assignee, true, 128, "接办人");
    v.text("reason", &c.reason, true, 500, "转办理由");
    if task.assignee.as_deref() == Some(c.to_assignee.trim()) {
        v.add("to_assignee", "接办人已是本环节的承办人");
    }
    v.finish()?;
    let details = created(task)?;
    require_state(task, OPEN, "transfer", "open")?;
    if let Transferrer::Agent(by) = &c.by
        && task.assignee.as_deref() != Some(by.as_str())
    {
        return Err(TaskError::NotAssignee { assignee: task.assignee.clone().unwrap_or_default(), action: "transfer" });
    }
    Ok(vec![Event::TaskTransferred(TaskTransferred {
        task_id: details.task_id,
        from_assignee: task.assignee.clone().unwrap_or_default(),
        to_assignee: c.to_assignee.trim().to_owned(),
        reason: c.reason.trim().to_owned(),
        at: c.now,
    })])
}

/// The longest note of an urging (督办), in characters.
pub const URGE_NOTE_MAX_CHARS: usize = 200;

fn urge(task: &Task, c: Urge) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("by", &c.by, true, 128, "督办人");
    v.text("note", &c.note, true, URGE_NOTE_MAX_CHARS, "督办说明");
    v.finish()?;
    let details = created(task)?;
    require_state(task, OPEN, "urge", "open")?;
    Ok(vec![Event::TaskUrged(TaskUrged {
        task_id: details.task_id,
        urged_by: c.by.trim().to_owned(),
        note: c.note.trim().to_owned(),
        urge_count: task.urged.count.saturating_add(1),
        at: c.now,
    })])
}

fn cancel(task: &Task, c: Cancel) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    v.text("detail", &c.detail, c.reason == CancelReason::CreatedInError, 1000, "取消说明");
    v.finish()?;
    let details = created(task)?;
    require_state(task, OPEN, "cancel", "open")?;
    Ok(vec![Event::TaskCancelled(TaskCancelled {
        task_id: details.task_id,
        reason: c.reason,
        detail: c.detail.trim().to_owned(),
        at: c.now,
    })])
}

fn warn(task: &Task, c: Warn) -> Result<Vec<Event>, TaskError> {
    let details = created(task)?;
    if task.warned(c.level) {
        // Raised already (or a higher level was): exactly once.
        return Ok(Vec::new());
    }
    require_state(task, &[TaskStatus::Pending, TaskStatus::InProgress], "warn", "open with its clock running")
        .map_err(|e| if task.status == TaskStatus::WaitingForSupplement { TaskError::ClockStopped } else { e })?;
    let due_by = task.due_by.unwrap_or(details.due_by);
    let mut events = vec![Event::TaskWarned(TaskWarned {
        task_id: details.task_id,
        level: c.level,
        due_by,
        working_days_used: c.working_days_used,
        promised_working_days: details.promised_working_days,
    })];
    if c.level == WarningLevel::Red && !task.escalated {
        events.push(Event::TaskEscalated(TaskEscalated {
            task_id: details.task_id,
            lead_department: details.lead_department.clone(),
            officer_id: c.officer_id.trim().to_owned(),
            overdue_working_days: c.overdue_working_days,
            reason: format!(
                "红牌：{}（{}）超过办理时限{}个工作日（应于{}前办结），已超期{}个工作日",
                details.item_name, details.department, details.promised_working_days, due_by, c.overdue_working_days
            ),
        }));
    }
    Ok(events)
}

fn post_check(task: &Task, c: RecordPostCheck) -> Result<Vec<Event>, TaskError> {
    let mut v = Violations::default();
    if let Some(details) = &task.created {
        for (i, id) in c.material_ids.iter().enumerate() {
            if !details.commitments.iter().any(|k| &k.material_id == id) {
                v.add(format!("material_ids[{i}]"), "不是本环节的告知承诺材料");
            }
        }
    }
    match &c.outcome {
        PostCheckOutcome::Passed { note } => v.text("finding", note, false, 2000, "核查意见"),
        PostCheckOutcome::Failed { finding, revoke_with_legal_basis } => {
            v.text("finding", finding, true, 2000, "核查发现");
            if let Some(basis) = revoke_with_legal_basis {
                v.text("legal_basis", basis, true, 500, "撤销许可的法律依据");
            }
        }
    }
    v.finish()?;
    let details = created(task)?;
    require_state(task, &[TaskStatus::Approved], "record a post-check", "approved")?;
    match task.post_check {
        PostCheck::NotNeeded => return Err(TaskError::NothingToPostCheck),
        PostCheck::Passed | PostCheck::Failed => return Err(TaskError::AlreadyPostChecked),
        PostCheck::Pending => {}
    }
    let material_ids = if c.material_ids.is_empty() {
        details.commitments.iter().map(|k| k.material_id.clone()).collect()
    } else {
        c.material_ids
    };
    Ok(match c.outcome {
        PostCheckOutcome::Passed { note } => vec![Event::PostCheckPassed(PostCheckPassed {
            task_id: details.task_id,
            material_ids,
            note: note.trim().to_owned(),
            checked_on: c.checked_on,
        })],
        PostCheckOutcome::Failed { finding, revoke_with_legal_basis } => {
            let finding = finding.trim().to_owned();
            let mut events = vec![Event::PostCheckFailed(PostCheckFailed {
                task_id: details.task_id,
                material_ids,
                finding: finding.clone(),
                checked_on: c.checked_on,
            })];
            if let Some(basis) = revoke_with_legal_basis {
                events.push(Event::ApprovalRevoked(ApprovalRevoked {
                    task_id: details.task_id,
                    document_number: task.result.as_ref().map(|r| r.number.clone()).unwrap_or_default(),
                    reason: format!("告知承诺不实：{finding}"),
                    legal_basis: basis.trim().to_owned(),
                }));
            }
            events
        }
    })
}

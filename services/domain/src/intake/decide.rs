//! The decisions after submission: assigning the officer, supplements
//! (容缺补齐 and answers to a task's supplement request), withdrawal and
//! termination. Submission itself is in `submit`.

use super::command::{AssignOfficer, Command, RecordErasure, SupplementMaterials, Terminate, Withdraw, china_date};
use super::error::DomainError;
use super::event::{
    ApplicationWithdrawn, CaseTerminated, DeficiencyCleared, Event, MaterialsSupplemented, OfficerAssigned,
    PersonalDataErased,
};
use super::model::{MaterialRef, TerminationReason};
use super::state::{CaseApplication, Status};
use super::{submit, validate};
use crate::refusal::{FieldViolation, Rejection, Violations};

/// Decides a command against the case's state: the events to append, or why
/// not. Pure and synchronous.
pub(super) fn decide(state: &CaseApplication, command: Command) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::Submit(cmd) => submit::submit(state, cmd),
        Command::AssignOfficer(cmd) => assign_officer(state, cmd),
        Command::SupplementMaterials(cmd) => supplement(state, cmd),
        Command::Withdraw(cmd) => withdraw(state, cmd),
        Command::Terminate(cmd) => terminate(state, cmd),
        Command::RecordErasure(cmd) => record_erasure(state, cmd),
    }
}

/// Any case can have its applicant erased, whatever its status; once only.
fn record_erasure(state: &CaseApplication, cmd: RecordErasure) -> Result<Vec<Event>, DomainError> {
    if state.status == Status::New {
        return Err(DomainError::NoSuchCase);
    }
    if state.erasure_recorded {
        return Ok(Vec::new());
    }
    Ok(vec![Event::PersonalDataErased(PersonalDataErased {
        basis: cmd.basis,
        materials_deleted: cmd.materials_deleted,
    })])
}

/// Refuses a command on a case that is not accepted and running.
fn require_running(state: &CaseApplication, action: &'static str) -> Result<(), DomainError> {
    match state.status {
        Status::New => Err(DomainError::NoSuchCase),
        s if s.is_accepted() => Ok(()),
        status => Err(DomainError::NotAllowed { action, status }),
    }
}

pub(super) fn assign_officer(state: &CaseApplication, cmd: AssignOfficer) -> Result<Vec<Event>, DomainError> {
    let mut v = Violations::default();
    if cmd.officer_id.trim().is_empty() || cmd.officer_id.chars().count() > 128 {
        v.add("officer_id", "专人账号不能为空且不超过128个字符");
    }
    if cmd.officer_name.chars().count() > 50 {
        v.add("officer_name", "专人姓名不能超过50个字符");
    }
    v.finish()?;
    require_running(state, "assign an officer to")?;
    let previous = state.officer.as_ref().map(|o| o.id.clone());
    if previous.as_deref() == Some(cmd.officer_id.as_str()) {
        return Ok(Vec::new()); // already the case's officer: nothing changes
    }
    Ok(vec![Event::OfficerAssigned(OfficerAssigned {
        officer_id: cmd.officer_id,
        officer_name: cmd.officer_name,
        previous_officer_id: previous,
    })])
}

fn supplement(state: &CaseApplication, cmd: SupplementMaterials) -> Result<Vec<Event>, DomainError> {
    let mut v = Violations::default();
    if cmd.materials.is_empty() {
        v.add("materials", "至少提交一份材料");
    }
    let mut materials: Vec<MaterialRef> = Vec::new();
    for (i, m) in cmd.materials.iter().enumerate() {
        let path = format!("materials[{i}]");
        if let Some(r) = validate::material_ref(m, &path, cmd.max_material_bytes, &mut v) {
            if materials.iter().any(|x| x.material_id == r.material_id) {
                v.add(format!("{path}.material_id"), "材料重复提交");
            } else {
                materials.push(r);
            }
        }
    }
    v.finish()?;
    require_running(state, "supplement")?;
    let request = cmd.supplement_request.as_ref();
    if request.is_none() && state.open_deficiencies().next().is_none() {
        return Err(DomainError::NothingOwed);
    }
    let today = china_date(cmd.now);
    let mut cleared = Vec::new();
    let mut answers_request = false;
    for m in &materials {
        let asked = request.is_some_and(|r| r.material_ids.contains(&m.material_id));
        answers_request |= asked;
        match state.deficiencies.iter().find(|d| d.deficiency.material_id == m.material_id) {
            Some(d) if d.cleared_on.is_none() => {
                if d.deficiency.due_by < today {
                    return Err(DomainError::DeficiencyOverdue {
                        material_id: m.material_id.clone(),
                        due_by: d.deficiency.due_by,
                    });
                }
                cleared.push(d);
            }
            Some(_) if !asked => {
                return Err(DomainError::DeficiencyAlreadyCleared { material_id: m.material_id.clone() });
            }
            None if !asked => return Err(DomainError::MaterialNotOwed { material_id: m.material_id.clone() }),
            _ => {}
        }
    }
    if let Some(r) = request
        && !answers_request
    {
        return Err(DomainError::SupplementRequestNotAnswered { request_id: r.request_id.clone() });
    }
    let mut remaining = state.open_deficiencies().count() as u32;
    let mut events = vec![Event::MaterialsSupplemented(MaterialsSupplemented {
        materials,
        supplement_request_id: request.map(|r| r.request_id.clone()),
        task_id: request.map(|r| r.task_id.clone()),
        item_code: request.map(|r| r.item_code.clone()).filter(|c| !c.is_empty()),
        department: request.map(|r| r.department.clone()).filter(|d| !d.is_empty()),
    })];
    for d in cleared {
        remaining -= 1;
        events.push(Event::DeficiencyCleared(DeficiencyCleared {
            material_id: d.deficiency.material_id.clone(),
            due_by: d.deficiency.due_by,
            cleared_on: today,
            remaining_deficiencies: remaining,
        }));
    }
    Ok(events)
}

fn withdraw(state: &CaseApplication, cmd: Withdraw) -> Result<Vec<Event>, DomainError> {
    if cmd.reason.chars().count() > 500 {
        return Err(Rejection {
            violations: vec![FieldViolation::new("reason", "撤回理由不能超过500个字符")]
        }
        .into());
    }
    require_running(state, "withdraw")?;
    if cmd.decided {
        return Err(DomainError::AlreadyDecided);
    }
    Ok(vec![Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: cmd.reason.trim().to_owned() })])
}

fn terminate(state: &CaseApplication, cmd: Terminate) -> Result<Vec<Event>, DomainError> {
    let mut v = Violations::default();
    let detail = cmd.detail.trim();
    if detail.is_empty() || detail.chars().count() > 1000 {
        v.add("detail", "终止说明不能为空且不超过1000个字符");
    }
    if cmd.legal_basis.chars().count() > 500 {
        v.add("legal_basis", "法律依据不能超过500个字符");
    }
    v.finish()?;
    require_running(state, "terminate")?;
    if cmd.closed {
        return Err(DomainError::CaseClosed);
    }
    let overdue_material_ids = if cmd.reason == TerminationReason::DeficiencyOverdue {
        let overdue: Vec<_> =
            state.overdue_deficiencies(china_date(cmd.now)).map(|d| d.deficiency.material_id.clone()).collect();
        if overdue.is_empty() {
            return Err(DomainError::NoOverdueDeficiency);
        }
        overdue
    } else {
        Vec::new()
    };
    Ok(vec![Event::CaseTerminated(CaseTerminated {
        reason: cmd.reason,
        detail: detail.to_owned(),
        legal_basis: cmd.legal_basis.trim().to_owned(),
        overdue_material_ids,
    })])
}

//! `/cases/{case}/supplement`: what the applicant owes on a case, as the
//! window takes it (补正收件) — the open 容缺 deficiencies (intake's
//! GetCase) and each department's open supplement request (the task
//! service's ListCaseTasks) — one form per request with a file input per
//! owed material, and every document already received (the receipt the
//! window prints).

use askama::Template;
use yiciban_proto::common::v1::TaskState;
use yiciban_proto::intake::v1::Case;
use yiciban_proto::tasks::v1::Task;

use super::decide::Sent;
use super::{Layout, format};
use crate::Names;

/// One material owed.
#[derive(Debug, Clone)]
pub struct OwedMaterial {
    pub material_id: String,
    pub name: String,
    /// What the department asked for, in its words; empty for a deficiency.
    pub requirement: String,
    pub due_by: String,
    /// The file input: `file.<material_id>`.
    pub input: String,
    /// The input's element id (unique on the page).
    pub dom_id: String,
}

/// One form: the deficiencies (no request) or one department's request.
#[derive(Debug, Clone)]
pub struct OwedGroup {
    pub title: String,
    /// The supplement request answered; empty for the deficiencies.
    pub request_id: String,
    pub materials: Vec<OwedMaterial>,
    /// Form fields the department asked to be corrected (not taken here).
    pub fields: Vec<String>,
    pub key: String,
    /// What was sent and refused, for the group's form.
    pub sent: Sent,
}

/// A document received on the case.
#[derive(Debug, Clone)]
pub struct ReceivedRow {
    pub name: String,
    pub file_name: String,
    pub size: String,
}

/// The supplement page.
#[derive(Debug, Template)]
#[template(path = "supplement.html")]
pub struct SupplementPage {
    pub layout: Layout,
    pub case_id: String,
    pub case_number: String,
    /// The case stream version shown (`expected_version`).
    pub version: u64,
    pub groups: Vec<OwedGroup>,
    pub received: Vec<ReceivedRow>,
    pub max_file: String,
    /// Just taken: the confirmation.
    pub done: bool,
    /// The task service's refusal to list the requests, if any.
    pub tasks_error: Option<String>,
}

impl SupplementPage {
    /// The page of `case` and its `tasks`; `attempt` is the refused form
    /// (its request id and what was sent); each form gets a fresh key.
    pub fn new(
        layout: Layout,
        case: &Case,
        tasks: Result<&[Task], String>,
        names: &Names,
        max_file: u64,
        done: bool,
        attempt: Option<(String, Sent)>,
    ) -> SupplementPage {
        let key = yiciban_platform::auth::pkce::random_token;
        let mut groups = Vec::new();
        let open: Vec<OwedMaterial> = case
            .deficiencies
            .iter()
            .filter(|d| !d.cleared)
            .filter_map(|d| d.deficiency.as_ref())
            .map(|d| OwedMaterial {
                material_id: d.material_id.clone(),
                name: if d.material_name.is_empty() { names.material(&d.material_id) } else { d.material_name.clone() },
                requirement: String::new(),
                due_by: format::date(d.due_by.as_ref()),
                input: format!("file.{}", d.material_id),
                dom_id: String::new(),
            })
            .collect();
        if !open.is_empty() {
            groups.push(OwedGroup {
                title: "容缺补齐".to_owned(),
                request_id: String::new(),
                materials: open,
                fields: Vec::new(),
                key: key(),
                sent: Sent::default(),
            });
        }
        let tasks_error = tasks.as_ref().err().cloned();
        for task in tasks.unwrap_or_default() {
            if task.state != TaskState::WaitingForSupplement as i32 || task.supplement_request_id.is_empty() {
                continue;
            }
            let due_by = format::date(task.supplement_due_by.as_ref());
            let materials = task
                .supplement_items
                .iter()
                .filter(|i| !i.material_id.is_empty())
                .map(|i| OwedMaterial {
                    material_id: i.material_id.clone(),
                    name: names.material(&i.material_id),
                    requirement: i.requirement.clone(),
                    due_by: due_by.clone(),
                    input: format!("file.{}", i.material_id),
                    dom_id: String::new(),
                })
                .collect();
            let fields = task
                .supplement_items
                .iter()
                .filter(|i| i.material_id.is_empty())
                .map(|i| format!("{}：{}", i.field_path, i.requirement))
                .collect();
            groups.push(OwedGroup {
                title: format!("{}退回补正（{}）", names.department(&task.department), task.item_name),
                request_id: task.supplement_request_id.clone(),
                materials,
                fields,
                key: key(),
                sent: Sent::default(),
            });
        }
        for (g, group) in groups.iter_mut().enumerate() {
            for m in &mut group.materials {
                m.dom_id = format!("g{}-{}", g + 1, m.material_id);
            }
        }
        if let Some((request_id, sent)) = attempt
            && let Some(group) = groups.iter_mut().find(|g| g.request_id == request_id)
        {
            group.sent = sent;
        }
        SupplementPage {
            layout,
            case_id: case.case_id.clone(),
            case_number: case.case_number.clone(),
            version: case.version,
            groups,
            received: case
                .materials
                .iter()
                .map(|m| ReceivedRow {
                    name: if m.material_id.is_empty() { "—".to_owned() } else { names.material(&m.material_id) },
                    file_name: m.file_name.clone(),
                    size: format::size(m.size_bytes),
                })
                .collect(),
            max_file: format::size(max_file),
            done,
            tasks_error,
        }
    }
}

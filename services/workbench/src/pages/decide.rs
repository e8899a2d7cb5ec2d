//! The task page's decisions: what the agent holding a task may do with it
//! (准予 with the result document, 不予许可, 退回补正, 转办, 恢复办理) and what
//! the post-check department records (事后核查). Which forms a task offers
//! follows its state and who holds it (the service decides again); each
//! form carries the task's version and a fresh idempotency key; a refused
//! form comes back with what was typed and the service's words next to the
//! field they are about.

use std::collections::BTreeMap;

use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1::{ResultDocumentKind, TaskState};
use yiciban_proto::tasks::v1::{PostCheckState, Task};

use super::inbox::Choice;
use crate::Names;
use crate::calls::Refusal;
use crate::sessions::Person;

/// One action of the task page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Deny,
    Supplement,
    Transfer,
    Resume,
    PostCheck,
}

impl Action {
    /// The last segment of the action's path, `POST /tasks/{id}/<segment>`,
    /// and the `done` value of the page it leads back to.
    pub fn segment(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Deny => "deny",
            Action::Supplement => "supplement",
            Action::Transfer => "transfer",
            Action::Resume => "resume",
            Action::PostCheck => "post-check",
        }
    }

    /// The action whose segment is `segment`.
    pub fn of_segment(segment: &str) -> Option<Action> {
        [Action::Approve, Action::Deny, Action::Supplement, Action::Transfer, Action::Resume, Action::PostCheck]
            .into_iter()
            .find(|a| a.segment() == segment)
    }

    /// The confirmation shown on the task page after the action went through.
    pub fn confirmation(self) -> &'static str {
        match self {
            Action::Approve => "已准予，审批结果已记录。",
            Action::Deny => "已作出不予许可决定，理由已记录。",
            Action::Supplement => "已退回补正，计时暂停；申请人将收到一次性补正告知。",
            Action::Transfer => "已转办，任务已交由接办人办理。",
            Action::Resume => "已恢复办理，计时继续。",
            Action::PostCheck => "事后核查结果已记录。",
        }
    }

    /// The form input a service's field violation is about (`None`: the
    /// whole form). A supplement's items are mapped by the handler, which
    /// knows which input each item came from.
    pub fn input_of(self, field: &str) -> Option<String> {
        let input = match (self, field) {
            (Action::Approve, f) if f.starts_with("result.electronic_copy") => "file",
            (Action::Approve, "result.kind") => "kind",
            (Action::Approve, "result.name") => "name",
            (Action::Approve, "result.number") => "number",
            (Action::Approve, "result.valid_from") => "valid_from",
            (Action::Approve, "result.valid_until") => "valid_until",
            (Action::Approve, "comment") => "comment",
            (Action::Deny, f @ ("reason" | "legal_basis" | "remedy_notice")) => f,
            (Action::Supplement, "due_by") => "due_by",
            (Action::Transfer, f @ ("to_assignee" | "reason")) => f,
            (Action::PostCheck, f @ ("finding" | "legal_basis" | "revoke_approval")) => f,
            (Action::PostCheck, f) if f.starts_with("material_ids") => "commitments",
            _ => return None,
        };
        Some(input.to_owned())
    }
}

/// What was sent in a form and what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    values: Vec<(String, String)>,
    /// The service's words by form input.
    errors: BTreeMap<String, String>,
    /// The service's words about the whole form.
    pub message: Option<String>,
}

impl Sent {
    /// The form `values` refused by `status`: each field violation next to
    /// its input (`input_of`), the rest, or the message of a refusal
    /// without violations, above the form.
    pub fn refused(
        values: Vec<(String, String)>,
        status: &tonic::Status,
        input_of: impl Fn(&str) -> Option<String>,
    ) -> Sent {
        let mut sent = Sent { values, ..Sent::default() };
        let violations = violations_of(status);
        let mut whole = Vec::new();
        for v in &violations {
            match input_of(&v.field) {
                Some(input) => {
                    let text = sent.errors.entry(input).or_default();
                    if !text.is_empty() {
                        text.push('；');
                    }
                    text.push_str(&v.description);
                }
                None if v.field.is_empty() => whole.push(v.description.clone()),
                None => whole.push(format!("{}: {}", v.field, v.description)),
            }
        }
        if violations.is_empty() {
            whole.push(Refusal::from(status).message);
        }
        sent.message = (!whole.is_empty()).then(|| whole.join("；"));
        sent
    }

    /// The form `values` with the workbench's own words next to `input`
    /// (the service was not asked).
    pub fn invalid(values: Vec<(String, String)>, input: &str, message: &str) -> Sent {
        Sent { values, errors: BTreeMap::from([(input.to_owned(), message.to_owned())]), message: None }
    }

    /// The form `values` as typed, nothing wrong with it (yet).
    pub fn typed(values: Vec<(String, String)>) -> Sent {
        Sent { values, ..Sent::default() }
    }

    /// Adds the workbench's own words next to `input` (after any there).
    pub fn also(&mut self, input: &str, message: &str) {
        let text = self.errors.entry(input.to_owned()).or_default();
        if !text.is_empty() {
            text.push('；');
        }
        text.push_str(message);
    }

    /// Whether anything is wrong with the form.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.message.is_some()
    }

    /// What was typed into `name` (empty on a fresh form).
    pub fn value(&self, name: &str) -> &str {
        self.values.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Whether the checkbox or radio `name` was sent with `value`.
    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == name && v == value)
    }

    /// The words next to `name`, if any.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }
}

/// One action's form.
#[derive(Debug, Clone)]
pub struct ActionForm {
    pub action: String,
    /// The task stream version shown (`expected_version`): a change in
    /// between is refused by the service (ABORTED), not overwritten.
    pub version: u64,
    /// This form's idempotency key: a double submit acts once.
    pub key: String,
    pub sent: Sent,
}

/// A material the supplement form may ask for.
#[derive(Debug, Clone)]
pub struct MaterialChoice {
    pub id: String,
    pub name: String,
    /// The input saying what is needed of it: `requirement.<id>`.
    pub input: String,
    /// The element id prefix of its error next to that input.
    pub error_id: String,
}

/// A commitment awaiting the post-check.
#[derive(Debug, Clone)]
pub struct CommitmentView {
    pub material_id: String,
    pub material_name: String,
    pub text: String,
    pub check_by: String,
}

/// A refused form, to be shown again.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub action: Action,
    pub sent: Sent,
}

/// The task page's decision forms.
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    pub approve: Option<ActionForm>,
    pub deny: Option<ActionForm>,
    pub supplement: Option<ActionForm>,
    pub transfer: Option<ActionForm>,
    pub resume: Option<ActionForm>,
    pub post_check: Option<ActionForm>,
    /// Document kinds (approve).
    pub kinds: Vec<Choice>,
    /// The item's materials (supplement).
    pub materials: Vec<MaterialChoice>,
    /// The commitments to check (post-check).
    pub commitments: Vec<CommitmentView>,
    /// The largest result file, worded.
    pub max_file: String,
    /// The open supplement request (resume).
    pub supplement_request_id: String,
}

/// The document kinds an approval may record.
const KINDS: [(ResultDocumentKind, &str); 7] = [
    (ResultDocumentKind::Licence, "许可证、执照"),
    (ResultDocumentKind::Certificate, "证书、证明"),
    (ResultDocumentKind::Registration, "登记/备案凭证"),
    (ResultDocumentKind::Decision, "决定书"),
    (ResultDocumentKind::Card, "卡"),
    (ResultDocumentKind::Notice, "告知书、回执"),
    (ResultDocumentKind::Other, "其他"),
];

impl Decisions {
    /// The forms `task`'s state offers `person`: the holder of an
    /// in-progress task decides, returns or transfers it; the holder of a
    /// task waiting for a supplement resumes or transfers it; an agent of a
    /// post-check department checks an approval's commitments. `attempt`
    /// is a refused form, shown again with what was sent.
    pub fn new(task: &Task, person: &Person, names: &Names, max_file: u64, attempt: Option<Attempt>) -> Decisions {
        let agent = person.role == Role::Agent;
        let department = person.department.as_deref().unwrap_or_default();
        let holds = agent && department == task.department && task.assignee == person.subject;
        let state = TaskState::try_from(task.state).unwrap_or(TaskState::Unspecified);
        let checks = agent
            && state == TaskState::Approved
            && task.post_check == PostCheckState::Pending as i32
            && task.commitments.iter().any(|c| c.post_check_department == department);
        let (mut attempt, task_id) = (attempt, task.task_id.clone());
        let mut form = |action: Action, offered: bool| {
            offered.then(|| ActionForm {
                action: format!("/tasks/{}/{}", super::task::segment(&task_id), action.segment()),
                version: task.version,
                key: yiciban_platform::auth::pkce::random_token(),
                sent: attempt.take_if(|a| a.action == action).map(|a| a.sent).unwrap_or_default(),
            })
        };
        let in_progress = holds && state == TaskState::InProgress;
        let waiting = holds && state == TaskState::WaitingForSupplement;
        let approve = form(Action::Approve, in_progress);
        let chosen_kind = approve.as_ref().map(|f| f.sent.value("kind").to_owned()).unwrap_or_default();
        Decisions {
            approve,
            deny: form(Action::Deny, in_progress),
            supplement: form(Action::Supplement, in_progress),
            transfer: form(Action::Transfer, in_progress || waiting),
            resume: form(Action::Resume, waiting),
            post_check: form(Action::PostCheck, checks),
            kinds: KINDS
                .iter()
                .map(|(kind, label)| {
                    let value = kind.as_str_name().to_owned();
                    Choice { selected: value == chosen_kind, value, label: (*label).to_owned() }
                })
                .collect(),
            materials: task
                .material_ids
                .iter()
                .map(|id| MaterialChoice {
                    id: id.clone(),
                    name: names.material(id),
                    input: format!("requirement.{id}"),
                    error_id: format!("supplement-requirement.{id}"),
                })
                .collect(),
            commitments: task
                .commitments
                .iter()
                .filter(|c| c.post_check_department == department)
                .map(|c| CommitmentView {
                    material_id: c.material_id.clone(),
                    material_name: c.material_name.clone(),
                    text: c.commitment_text.clone(),
                    check_by: super::format::date(c.post_check_by.as_ref()),
                })
                .collect(),
            max_file: super::format::size(max_file),
            supplement_request_id: task.supplement_request_id.clone(),
        }
    }

    /// Whether any form is offered.
    pub fn any(&self) -> bool {
        [&self.approve, &self.deny, &self.supplement, &self.transfer, &self.resume, &self.post_check]
            .iter()
            .any(|f| f.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Status;
    use yiciban_platform::FieldViolation;
    use yiciban_platform::status::invalid_argument;

    fn person(subject: &str, department: &str) -> Person {
        Person {
            subject: subject.to_owned(),
            role: Role::Agent,
            department: Some(department.to_owned()),
            display_name: subject.to_owned(),
        }
    }

    fn task(state: TaskState, assignee: &str) -> Task {
        Task {
            task_id: "t-1".into(),
            department: "cdc".into(),
            state: state as i32,
            assignee: assignee.into(),
            version: 3,
            ..Task::default()
        }
    }

    fn offered(d: &Decisions) -> Vec<&'static str> {
        let forms = [
            (&d.approve, "approve"),
            (&d.deny, "deny"),
            (&d.supplement, "supplement"),
            (&d.transfer, "transfer"),
            (&d.resume, "resume"),
            (&d.post_check, "post-check"),
        ];
        forms.into_iter().filter(|(f, _)| f.is_some()).map(|(_, n)| n).collect()
    }

    #[test]
    fn only_the_holder_of_a_task_is_offered_its_decisions_and_only_those_its_state_allows() {
        let names = Names::default();
        let me = person("a1", "cdc");
        let d = Decisions::new(&task(TaskState::InProgress, "a1"), &me, &names, 10, None);
        assert_eq!(offered(&d), ["approve", "deny", "supplement", "transfer"]);
        assert_eq!(d.approve.as_ref().unwrap().version, 3);
        assert_ne!(d.approve.as_ref().unwrap().key, d.deny.as_ref().unwrap().key, "a fresh key per form");
        let d = Decisions::new(&task(TaskState::WaitingForSupplement, "a1"), &me, &names, 10, None);
        assert_eq!(offered(&d), ["transfer", "resume"]);
        for (t, who) in [
            (task(TaskState::InProgress, "a2"), person("a1", "cdc")),
            (task(TaskState::InProgress, "a1"), person("a1", "samr")),
            (task(TaskState::Pending, ""), person("a1", "cdc")),
            (task(TaskState::Approved, "a1"), person("a1", "cdc")),
        ] {
            assert!(!Decisions::new(&t, &who, &names, 10, None).any(), "{t:?} {who:?}");
        }
    }

    #[test]
    fn a_post_check_is_offered_to_the_checking_department_while_it_is_pending() {
        let mut t = task(TaskState::Approved, "a1");
        t.post_check = PostCheckState::Pending as i32;
        t.commitments = vec![yiciban_proto::common::v1::Commitment {
            material_id: "m_lease".into(),
            post_check_department: "samr".into(),
            ..Default::default()
        }];
        let names = Names::default();
        let d = Decisions::new(&t, &person("s1", "samr"), &names, 10, None);
        assert_eq!(offered(&d), ["post-check"]);
        assert_eq!(d.commitments.len(), 1);
        assert!(!Decisions::new(&t, &person("a1", "cdc"), &names, 10, None).any());
        t.post_check = PostCheckState::Passed as i32;
        assert!(!Decisions::new(&t, &person("s1", "samr"), &names, 10, None).any());
    }

    #[test]
    fn a_refusal_puts_each_violation_next_to_its_input_and_the_rest_above_the_form() {
        let status = invalid_argument(
            "the request is invalid",
            &[
                FieldViolation { field: "reason".into(), description: "不予许可理由不能为空".into() },
                FieldViolation { field: "task_id".into(), description: "须为 UUID".into() },
            ],
        );
        let values = vec![("reason".to_owned(), " ".to_owned()), ("legal_basis".to_owned(), "第十条".to_owned())];
        let sent = Sent::refused(values, &status, |f| Action::Deny.input_of(f));
        assert_eq!(sent.error("reason"), Some("不予许可理由不能为空"));
        assert_eq!(sent.error("legal_basis"), None);
        assert_eq!(sent.value("legal_basis"), "第十条");
        assert_eq!(sent.message.as_deref(), Some("task_id: 须为 UUID"));
        let conflict = Sent::refused(Vec::new(), &Status::aborted("version 4, expected 3"), |_| None);
        assert_eq!(conflict.message.as_deref(), Some("version 4, expected 3"));
        let d = Decisions::new(
            &task(TaskState::InProgress, "a1"),
            &person("a1", "cdc"),
            &Names::default(),
            10,
            Some(Attempt { action: Action::Deny, sent }),
        );
        assert_eq!(d.deny.unwrap().sent.value("legal_basis"), "第十条");
        assert_eq!(d.approve.unwrap().sent.value("legal_basis"), "", "only the refused form keeps its values");
    }
}

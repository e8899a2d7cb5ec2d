//! `/tasks/{id}`: one task, and what its department may see of the
//! application (IntakeService.GetStepApplication: only the data fields the
//! catalog gives the department's steps; the read is recorded by intake).

use askama::Template;
use yiciban_proto::intake::v1::GetStepApplicationResponse;
use yiciban_proto::tasks::v1::Task;

use super::decide::Decisions;
use super::inbox::{ClaimForm, InboxRow};
use super::{Layout, format};
use crate::Names;

/// The task, worded.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub row: InboxRow,
    pub step_id: String,
    pub created_at: String,
    pub claimed_at: String,
    pub lead_department: String,
    /// The result document (准予).
    pub result: Option<ResultView>,
    /// The reason and legal basis of a denial or revocation.
    pub reason: String,
    pub legal_basis: String,
    /// The open supplement request's items, worded, and its due date.
    pub supplement: Vec<String>,
    pub supplement_due: String,
    /// The post-check of the approval's commitments, worded (empty when none is needed).
    pub post_check: &'static str,
    /// The case's page (timeline, steps, clock).
    pub case_href: String,
    /// The last urging (督办): "最近 <time> 由 <login>" and its note; `None`
    /// when never urged (the count is `row.urged`).
    pub last_urge: Option<(String, String)>,
}

/// One field of the application.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// One document handed in, with the workbench's paths to its file.
#[derive(Debug, Clone)]
pub struct Document {
    pub material_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: String,
    /// 查看 (shown in the browser): PDF and images only.
    pub view_href: Option<String>,
    /// 下载 (saved as a file).
    pub download_href: String,
}

impl Document {
    fn of(case_id: &str, m: &yiciban_proto::common::v1::MaterialRef) -> Document {
        let base = format!("/cases/{}/materials/{}", segment(case_id), segment(&m.sha256_hex));
        Document {
            material_id: m.material_id.clone(),
            file_name: m.file_name.clone(),
            content_type: m.content_type.clone(),
            size: format::size(m.size_bytes),
            view_href: crate::files::viewable(&m.content_type).then(|| format!("{base}/view")),
            download_href: format!("{base}/download"),
        }
    }
}

/// A path segment, percent-encoded.
pub(super) fn segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// What the department may see of the application.
#[derive(Debug, Clone, Default)]
pub struct ApplicationView {
    pub data_fields: Vec<String>,
    pub fields: Vec<Field>,
    pub documents: Vec<Document>,
    /// The form's fields the department sees, as `form.<key>` (a
    /// supplement may ask for one to be corrected).
    pub form_keys: Vec<String>,
    /// The applicant's personal data was erased: the page says so instead
    /// of showing empty fields.
    pub erased: bool,
}

impl From<&GetStepApplicationResponse> for ApplicationView {
    fn from(a: &GetStepApplicationResponse) -> ApplicationView {
        let mut fields = Vec::new();
        let mut push = |name: &str, value: &str| {
            if !value.is_empty() {
                fields.push(Field { name: name.to_owned(), value: value.to_owned() });
            }
        };
        if let Some(applicant) = &a.applicant {
            push("申请人姓名/名称 applicant.name", &applicant.name);
            push("证件号码 applicant.id_number", &applicant.id_number);
            push("联系电话 applicant.phone", &applicant.phone);
            push("经办人 applicant.contact_name", &applicant.contact_name);
        }
        if let Some(address) = &a.mail_address {
            let line = [&address.province, &address.city, &address.district, &address.address_line]
                .iter()
                .map(|s| s.as_str())
                .collect::<String>();
            push("邮寄地址 delivery.mail_address", &line);
            push("收件人 delivery.mail_address", &address.recipient_name);
        }
        if let Some(form) = &a.form_data {
            for (key, value) in &form.fields {
                push(&format!("form.{key}"), &struct_value(value));
            }
        }
        ApplicationView {
            form_keys: a.form_data.iter().flat_map(|f| f.fields.keys().map(|k| format!("form.{k}"))).collect(),
            data_fields: a.data_fields.clone(),
            fields,
            documents: a.materials.iter().map(|m| Document::of(&a.case_id, m)).collect(),
            erased: a.personal_data_erased,
        }
    }
}

/// A form value as text.
fn struct_value(value: &prost_types::Value) -> String {
    use prost_types::value::Kind;
    match &value.kind {
        Some(Kind::StringValue(s)) => s.clone(),
        Some(Kind::NumberValue(n)) => n.to_string(),
        Some(Kind::BoolValue(b)) => if *b { "是" } else { "否" }.to_owned(),
        Some(Kind::ListValue(list)) => list.values.iter().map(struct_value).collect::<Vec<_>>().join("、"),
        Some(Kind::StructValue(s)) => {
            s.fields.iter().map(|(k, v)| format!("{k}: {}", struct_value(v))).collect::<Vec<_>>().join("；")
        }
        Some(Kind::NullValue(_)) | None => String::new(),
    }
}

/// The task page.
#[derive(Debug, Template)]
#[template(path = "task.html")]
pub struct TaskPage {
    pub layout: Layout,
    pub task: TaskView,
    /// What the department may see, or why it cannot.
    pub application: Result<ApplicationView, String>,
    /// The confirmation of the action just done (认领, 准予, …).
    pub flash: Option<&'static str>,
    /// What the person may decide on the task (`task_actions.html`).
    pub decisions: Decisions,
}

impl TaskPage {
    pub fn new(
        layout: Layout,
        task: &Task,
        row: InboxRow,
        application: Result<ApplicationView, String>,
        flash: Option<&'static str>,
        decisions: Decisions,
        names: &Names,
    ) -> TaskPage {
        TaskPage {
            layout,
            task: TaskView {
                row,
                step_id: task.step_id.clone(),
                created_at: format::timestamp(task.created_at.as_ref()),
                claimed_at: format::timestamp(task.claimed_at.as_ref()),
                lead_department: names.department(&task.lead_department),
                result: task.result.as_ref().map(ResultView::from),
                reason: task.reason.clone(),
                legal_basis: task.legal_basis.clone(),
                supplement: task
                    .supplement_items
                    .iter()
                    .map(|i| {
                        let what = if i.material_id.is_empty() {
                            i.field_path.clone()
                        } else {
                            names.material(&i.material_id)
                        };
                        format!("{what}：{}", i.requirement)
                    })
                    .collect(),
                supplement_due: format::date(task.supplement_due_by.as_ref()),
                post_check: format::post_check(task.post_check),
                case_href: format!("/cases/{}", task.case_id),
                last_urge: (task.urge_count > 0).then(|| {
                    let when = format::timestamp(task.last_urged_at.as_ref());
                    (format!("最近 {when} 由 {}", task.last_urged_by), task.last_urge_note.clone())
                }),
            },
            application,
            flash,
            decisions,
        }
    }

    /// The claim form, when the person may claim the task.
    pub fn claim(&self) -> Option<&ClaimForm> {
        self.task.row.claim.as_ref()
    }

    /// The form keys of the application, when it could be read.
    pub fn form_keys(&self) -> &[String] {
        self.application.as_ref().map_or(&[], |a| a.form_keys.as_slice())
    }
}

/// The result document of an approval, worded.
#[derive(Debug, Clone)]
pub struct ResultView {
    pub name: String,
    pub number: String,
    pub validity: String,
    /// The electronic copy's file name and SHA-256, when one was recorded.
    pub copy: Option<(String, String)>,
}

impl From<&yiciban_proto::common::v1::ResultDocument> for ResultView {
    fn from(r: &yiciban_proto::common::v1::ResultDocument) -> ResultView {
        let (from, until) = (format::date(r.valid_from.as_ref()), format::date(r.valid_until.as_ref()));
        let validity = match (from.is_empty(), until.is_empty()) {
            (true, true) => "长期有效".to_owned(),
            (false, true) => format!("{from} 起长期有效"),
            (true, false) => format!("至 {until}"),
            (false, false) => format!("{from} 至 {until}"),
        };
        ResultView {
            name: r.name.clone(),
            number: r.number.clone(),
            validity,
            copy: r.electronic_copy.as_ref().map(|c| (c.file_name.clone(), c.sha256_hex.clone())),
        }
    }
}

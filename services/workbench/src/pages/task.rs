//! `/tasks/{id}`: one task, and what its department may see of the
//! application (IntakeService.GetStepApplication: only the data fields the
//! catalog gives the department's steps; the read is recorded by intake).

use askama::Template;
use yiciban_proto::intake::v1::GetStepApplicationResponse;
use yiciban_proto::tasks::v1::Task;

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
    /// The case's page (timeline, steps, clock).
    pub case_href: String,
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
fn segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// What the department may see of the application.
#[derive(Debug, Clone, Default)]
pub struct ApplicationView {
    pub data_fields: Vec<String>,
    pub fields: Vec<Field>,
    pub documents: Vec<Document>,
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
            data_fields: a.data_fields.clone(),
            fields,
            documents: a.materials.iter().map(|m| Document::of(&a.case_id, m)).collect(),
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
    /// Just claimed.
    pub claimed: bool,
}

impl TaskPage {
    pub fn new(
        layout: Layout,
        task: &Task,
        row: InboxRow,
        application: Result<ApplicationView, String>,
        claimed: bool,
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
                case_href: format!("/cases/{}", task.case_id),
            },
            application,
            claimed,
        }
    }

    /// The claim form, when the person may claim the task.
    pub fn claim(&self) -> Option<&ClaimForm> {
        self.task.row.claim.as_ref()
    }
}

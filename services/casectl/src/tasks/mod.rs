//! `casectl inbox | task | tasks | claim | approve | deny | return | resume |
//! transfer | post-check`: a department's work on its tasks, over the
//! department-task service (`--tasks-addr`).

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as pb;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

use crate::connect::{AuthChannel, CommandOptions, Connection, explain, explain_command};
use crate::text::{date, parse_date};

/// The largest page the task service returns.
mod show;

pub use show::*;

const MAX_PAGE: u32 = 500;

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// A department's inbox (待办箱), most urgent first.
    Inbox(InboxArgs),
    /// One task in detail.
    Task {
        /// Id of the task (UUID).
        task_id: String,
    },
    /// Every task of a case.
    Tasks {
        /// Id of the case (UUID).
        case_id: String,
    },
    /// Claim a pending task (认领).
    Claim(ClaimArgs),
    /// Approve a task you hold and record its result document (准予).
    Approve(ApproveArgs),
    /// Deny a task you hold with reason and legal basis (不予许可).
    Deny(DenyArgs),
    /// Return a task you hold for a supplement, itemised (补正); its clock stops.
    Return(ReturnArgs),
    /// Resume a task whose supplement arrived; its clock runs again.
    Resume(ResumeArgs),
    /// Hand a task to a colleague of the same department (转办).
    Transfer(TransferArgs),
    /// Record the post-check of an approval's commitments (告知承诺核查).
    PostCheck(PostCheckArgs),
}

/// A task state as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    Pending,
    InProgress,
    Waiting,
    Approved,
    Denied,
    Cancelled,
    Revoked,
}

impl From<StateArg> for common::TaskState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Pending => common::TaskState::Pending,
            StateArg::InProgress => common::TaskState::InProgress,
            StateArg::Waiting => common::TaskState::WaitingForSupplement,
            StateArg::Approved => common::TaskState::Approved,
            StateArg::Denied => common::TaskState::Denied,
            StateArg::Cancelled => common::TaskState::Cancelled,
            StateArg::Revoked => common::TaskState::Revoked,
        }
    }
}

/// A warning level as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WarningArg {
    Yellow,
    Red,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Department code; default the agent's own (required for other roles).
    #[arg(long)]
    department: Option<String>,
    /// Only tasks in this state; repeatable or comma-separated. Default: the open states.
    #[arg(long = "state", value_enum, value_delimiter = ',')]
    states: Vec<StateArg>,
    /// Only tasks due on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    due_before: Option<common::Date>,
    /// Only tasks of this package.
    #[arg(long, value_name = "PACKAGE")]
    package: Option<String>,
    /// Only tasks held by me (the login of --as or --token).
    #[arg(long, conflicts_with = "assignee")]
    mine: bool,
    /// Only tasks held by this staff login.
    #[arg(long, value_name = "LOGIN")]
    assignee: Option<String>,
    /// Only tasks at or above this warning level.
    #[arg(long, value_enum)]
    warning: Option<WarningArg>,
    /// Show at most this many tasks (pages are fetched as needed).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// Id of the task (UUID).
    task_id: String,
    #[command(flatten)]
    options: CommandOptions,
}

/// The kind of a result document as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Licence,
    Certificate,
    Registration,
    Decision,
    Card,
    Notice,
    Other,
}

impl From<KindArg> for common::ResultDocumentKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Licence => common::ResultDocumentKind::Licence,
            KindArg::Certificate => common::ResultDocumentKind::Certificate,
            KindArg::Registration => common::ResultDocumentKind::Registration,
            KindArg::Decision => common::ResultDocumentKind::Decision,
            KindArg::Card => common::ResultDocumentKind::Card,
            KindArg::Notice => common::ResultDocumentKind::Notice,
            KindArg::Other => common::ResultDocumentKind::Other,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Id of the task (UUID).
    task_id: String,
    /// What the result document is.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Name of the document, e.g. 食品经营许可证.
    #[arg(long)]
    name: String,
    /// The document number as printed (证照编号/文号).
    #[arg(long, value_name = "NUMBER")]
    number: String,
    /// First day of validity; default from issuance.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    valid_from: Option<common::Date>,
    /// Last day of validity; default no expiry (长期有效).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    valid_until: Option<common::Date>,
    /// There is a paper document or card to hand over.
    #[arg(long)]
    physical: bool,
    /// Remarks.
    #[arg(long, default_value = "")]
    comment: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct DenyArgs {
    /// Id of the task (UUID).
    task_id: String,
    /// The reason, in plain Chinese.
    #[arg(long)]
    reason: String,
    /// The legal provision relied on.
    #[arg(long)]
    legal_basis: String,
    /// Notice of remedies (复议、诉讼); default the department's standard text.
    #[arg(long, default_value = "")]
    remedy: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct ReturnArgs {
    /// Id of the task (UUID).
    task_id: String,
    /// One thing needed: 'material_id=ID;requirement=TEXT' or
    /// 'field=form.KEY;requirement=TEXT' (both ids may be given). Repeatable.
    #[arg(long = "item", value_name = "SPEC", required = true, value_parser = parse_supplement_item)]
    items: Vec<common::SupplementItem>,
    /// Last day for the applicant; default the department's period.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    due_by: Option<common::Date>,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Id of the task (UUID).
    task_id: String,
    /// The supplement request answered (printed by `return`, shown by `task`).
    #[arg(long, value_name = "ID")]
    request: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Id of the task (UUID).
    task_id: String,
    /// Staff login of the colleague taking it over.
    #[arg(long, value_name = "LOGIN")]
    to: String,
    /// Why.
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("verdict").args(["passed", "failed"]).required(true)))]
pub struct PostCheckArgs {
    /// Id of the task (UUID).
    task_id: String,
    /// Every commitment checked proved true.
    #[arg(long)]
    passed: bool,
    /// A commitment proved untrue.
    #[arg(long)]
    failed: bool,
    /// What was found (required with --failed), or remarks.
    #[arg(long, required_if_eq("failed", "true"))]
    finding: Option<String>,
    /// With --failed: also revoke the approval (needs --legal-basis).
    #[arg(long, conflicts_with = "passed", requires_all = ["failed", "legal_basis"])]
    revoke: bool,
    /// The legal provision relied on for revoking.
    #[arg(long, requires = "revoke")]
    legal_basis: Option<String>,
    /// Material id of a commitment checked; repeatable; default all of the task's.
    #[arg(long = "material", value_name = "ID")]
    materials: Vec<String>,
    /// Day of the check; default today.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    checked_on: Option<common::Date>,
    #[command(flatten)]
    options: CommandOptions,
}

/// Parses one `--item` of a return for supplement: `key=value` pairs
/// separated by `;`, keys `material_id` (or `material`), `field` (or
/// `field_path`; `form.` is added when missing) and `requirement`. A `;` not
/// followed by a key belongs to the value before it, so a requirement may
/// contain one.
pub fn parse_supplement_item(spec: &str) -> Result<common::SupplementItem, String> {
    const KEYS: [&str; 5] = ["material_id", "material", "field", "field_path", "requirement"];
    let starts_pair = |segment: &str| segment.split_once('=').is_some_and(|(k, _)| KEYS.contains(&k.trim()));
    let mut pairs: Vec<String> = Vec::new();
    for segment in spec.split(';') {
        match pairs.last_mut() {
            Some(last) if !starts_pair(segment) => {
                last.push(';');
                last.push_str(segment);
            }
            _ => pairs.push(segment.to_owned()),
        }
    }
    let mut item = common::SupplementItem::default();
    for pair in &pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!(
                "{pair:?} is not key=value; write 'material_id=ID;requirement=TEXT' or 'field=form.KEY;requirement=TEXT'"
            ));
        };
        let value = value.trim();
        let slot = match key.trim() {
            "material_id" | "material" => &mut item.material_id,
            "field" | "field_path" => &mut item.field_path,
            "requirement" => &mut item.requirement,
            other => {
                return Err(format!("unknown key {other:?}; the keys are material_id, field and requirement"));
            }
        };
        if !slot.is_empty() {
            return Err(format!("{} is given twice", key.trim()));
        }
        if value.is_empty() {
            return Err(format!("{} is empty", key.trim()));
        }
        *slot = value.to_owned();
    }
    if !item.field_path.is_empty() && !item.field_path.starts_with("form.") {
        item.field_path = format!("form.{}", item.field_path);
    }
    if item.field_path == "form." {
        return Err("field needs a form key, e.g. field=form.newborn_name".into());
    }
    if item.requirement.is_empty() {
        return Err("requirement=TEXT is missing: say what exactly is wrong or needed".into());
    }
    if item.material_id.is_empty() && item.field_path.is_empty() {
        return Err("name what the item concerns: material_id=ID and/or field=form.KEY".into());
    }
    Ok(item)
}

type Client = TaskServiceClient<AuthChannel>;

pub async fn run(conn: &Connection, command: TaskCommand) -> anyhow::Result<()> {
    let mut client = TaskServiceClient::new(conn.tasks_channel().await?);
    match command {
        TaskCommand::Inbox(a) => inbox(conn, &client, a).await,
        TaskCommand::Task { task_id } => {
            print!("{}", detail(&get(&mut client, &task_id).await?));
            Ok(())
        }
        TaskCommand::Tasks { case_id } => {
            let tasks = client
                .list_case_tasks(pb::ListCaseTasksRequest { case_id: case_id.clone() })
                .await
                .map_err(explain)?
                .into_inner()
                .tasks;
            print!("{}", task_table(&tasks, true));
            println!("{} task(s) of case {case_id}", tasks.len());
            Ok(())
        }
        TaskCommand::Claim(a) => {
            let key = a.options.key();
            let r = client
                .claim_task(pb::ClaimTaskRequest {
                    idempotency_key: key.clone(),
                    task_id: a.task_id.clone(),
                    expected_version: a.options.expected_version,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("claimed task {} (version {})", a.task_id, r.version);
            Ok(())
        }
        TaskCommand::Approve(a) => approve(&mut client, a).await,
        TaskCommand::Deny(a) => {
            let key = a.options.key();
            let r = client
                .deny_task(pb::DenyTaskRequest {
                    idempotency_key: key.clone(),
                    task_id: a.task_id.clone(),
                    expected_version: a.options.expected_version,
                    reason: a.reason,
                    legal_basis: a.legal_basis,
                    remedy_notice: a.remedy,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("denied task {} (version {})", a.task_id, r.version);
            Ok(())
        }
        TaskCommand::Return(a) => {
            let key = a.options.key();
            let count = a.items.len();
            let r = client
                .return_for_supplement(pb::ReturnForSupplementRequest {
                    idempotency_key: key.clone(),
                    task_id: a.task_id.clone(),
                    expected_version: a.options.expected_version,
                    items: a.items,
                    due_by: a.due_by,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!(
                "returned task {} for supplement: {count} item(s), request {}, due {} (version {})",
                a.task_id,
                r.supplement_request_id,
                date(r.due_by.as_ref()),
                r.version
            );
            Ok(())
        }
        TaskCommand::Resume(a) => {
            let key = a.options.key();
            let r = client
                .resume_task(pb::ResumeTaskRequest {
                    idempotency_key: key.clone(),
                    task_id: a.task_id.clone(),
                    expected_version: a.options.expected_version,
                    supplement_request_id: a.request,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("resumed task {}, now due {} (version {})", a.task_id, date(r.due_by.as_ref()), r.version);
            Ok(())
        }
        TaskCommand::Transfer(a) => {
            let key = a.options.key();
            let r = client
                .transfer_task(pb::TransferTaskRequest {
                    idempotency_key: key.clone(),
                    task_id: a.task_id.clone(),
                    expected_version: a.options.expected_version,
                    to_assignee: a.to.clone(),
                    reason: a.reason,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("transferred task {} to {} (version {})", a.task_id, a.to, r.version);
            Ok(())
        }
        TaskCommand::PostCheck(a) => {
            let key = a.options.key();
            let r = client
                .record_post_check(pb::RecordPostCheckRequest {
                    idempotency_key: key.clone(),
                    task_id: a.task_id.clone(),
                    expected_version: a.options.expected_version,
                    passed: a.passed,
                    material_ids: a.materials,
                    finding: a.finding.unwrap_or_default(),
                    checked_on: a.checked_on,
                    revoke_approval: a.revoke,
                    legal_basis: a.legal_basis.unwrap_or_default(),
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            let verdict = match (a.passed, r.revoked) {
                (true, _) => "passed",
                (false, true) => "failed, approval revoked",
                (false, false) => "failed",
            };
            println!("post-check of task {} recorded: {verdict} (version {})", a.task_id, r.version);
            Ok(())
        }
    }
}

async fn get(client: &mut Client, task_id: &str) -> anyhow::Result<pb::Task> {
    client
        .get_task(pb::GetTaskRequest { task_id: task_id.into() })
        .await
        .map_err(explain)?
        .into_inner()
        .task
        .context("the task service sent no task")
}

async fn inbox(conn: &Connection, client: &Client, a: InboxArgs) -> anyhow::Result<()> {
    let assignee = if a.mine { Some(conn.login()?) } else { a.assignee };
    let request = pb::ListInboxRequest {
        department: a.department.unwrap_or_default(),
        states: a.states.iter().map(|s| common::TaskState::from(*s) as i32).collect(),
        due_before: a.due_before,
        package_id: a.package.unwrap_or_default(),
        assignee: assignee.unwrap_or_default(),
        min_warning: match a.warning {
            None => common::WarningLevel::Unspecified,
            Some(WarningArg::Yellow) => common::WarningLevel::Yellow,
            Some(WarningArg::Red) => common::WarningLevel::Red,
        } as i32,
        ..Default::default()
    };
    let (mut tasks, total) = collect_pages(a.limit, |page_size, page_token| {
        let request = pb::ListInboxRequest { page_size, page_token, ..request.clone() };
        let mut client = client.clone();
        async move { Ok(client.list_inbox(request).await.map_err(explain)?.into_inner()) }
    })
    .await?;
    by_urgency(&mut tasks);
    print!("{}", task_table(&tasks, false));
    println!("{}", footer(tasks.len(), total));
    Ok(())
}

/// Fetches inbox pages (`fetch(page_size, page_token)`) until `limit` tasks
/// are in hand or the pages run out; returns at most `limit` tasks and the
/// total the server counted.
async fn collect_pages<F, Fut>(limit: u32, mut fetch: F) -> anyhow::Result<(Vec<pb::Task>, u32)>
where
    F: FnMut(u32, String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<pb::ListInboxResponse>>,
{
    let mut tasks = Vec::new();
    let mut token = String::new();
    loop {
        let wanted = limit.saturating_sub(u32::try_from(tasks.len()).unwrap_or(u32::MAX));
        let page = fetch(wanted.min(MAX_PAGE), std::mem::take(&mut token)).await?;
        tasks.extend(page.tasks);
        if page.next_page_token.is_empty() || tasks.len() >= limit as usize {
            tasks.truncate(limit as usize);
            return Ok((tasks, page.total_count));
        }
        token = page.next_page_token;
    }
}

/// Most urgent first: earliest due date, a task without one last; ties keep
/// the server's order (creation).
fn by_urgency(tasks: &mut [pb::Task]) {
    tasks.sort_by_key(|t| t.due_by.map(|d| (d.year, d.month, d.day)).unwrap_or((i32::MAX, 0, 0)));
}

/// The inbox footer.
fn footer(shown: usize, total: u32) -> String {
    format!("{shown} of {total} task{}", if total == 1 { "" } else { "s" })
}

async fn approve(client: &mut Client, a: ApproveArgs) -> anyhow::Result<()> {
    // The document's issuing department and item code must match the task's.
    let task = get(client, &a.task_id).await?;
    let key = a.options.key();
    let r = client
        .approve_task(pb::ApproveTaskRequest {
            idempotency_key: key.clone(),
            task_id: a.task_id.clone(),
            expected_version: a.options.expected_version,
            result: Some(common::ResultDocument {
                kind: common::ResultDocumentKind::from(a.kind) as i32,
                name: a.name,
                number: a.number,
                issuing_department: task.department,
                item_code: task.item_code,
                valid_from: a.valid_from,
                valid_until: a.valid_until,
                physical: a.physical,
                electronic_copy: None,
            }),
            comment: a.comment,
        })
        .await
        .map_err(|s| explain_command(s, &key))?
        .into_inner();
    let post_check = if r.post_check_pending { ", commitments await the post-check" } else { "" };
    println!("approved task {} (version {}){post_check}", a.task_id, r.version);
    Ok(())
}

#[cfg(test)]
mod tests;

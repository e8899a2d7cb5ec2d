//! `casectl inbox | task | tasks | claim | approve | deny | return | resume |
//! transfer | post-check`: a department's work on its tasks, over the
//! department-task service (`--tasks-addr`).

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as pb;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

use crate::connect::{AuthChannel, CommandOptions, Connection, explain, explain_command};
use crate::text::{self, date, or_dash, parse_date, timestamp};

/// The largest page the task service returns.
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

fn state_chinese(state: common::TaskState) -> &'static str {
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
fn task_table(tasks: &[pb::Task], with_department: bool) -> String {
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

fn result_kind(kind: common::ResultDocumentKind) -> &'static str {
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
fn detail(t: &pb::Task) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<TaskCommand, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("casectl").chain(args.iter().copied()))?;
        match cli.command {
            crate::Command::Tasks(c) => Ok(c),
            other => panic!("not a task command: {other:?}"),
        }
    }

    fn kind_of(args: &[&str]) -> clap::error::ErrorKind {
        parse(args).unwrap_err().kind()
    }

    #[test]
    fn the_inbox_takes_every_filter() {
        let TaskCommand::Inbox(a) = parse(&[
            "inbox",
            "--department",
            "samr",
            "--state",
            "pending",
            "--state",
            "in-progress,waiting",
            "--due-before",
            "2026-10-09",
            "--package",
            "open-restaurant",
            "--assignee",
            "agent-samr-2",
            "--warning",
            "red",
            "--limit",
            "700",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.department.as_deref(), Some("samr"));
        assert_eq!(a.states, [StateArg::Pending, StateArg::InProgress, StateArg::Waiting]);
        assert_eq!(a.due_before, Some(common::Date { year: 2026, month: 10, day: 9 }));
        assert_eq!(a.package.as_deref(), Some("open-restaurant"));
        assert_eq!(a.assignee.as_deref(), Some("agent-samr-2"));
        assert_eq!(a.warning, Some(WarningArg::Red));
        assert_eq!(a.limit, 700);
        assert!(!a.mine);
    }

    #[test]
    fn the_inbox_defaults_to_fifty_open_tasks_of_anyone() {
        let TaskCommand::Inbox(a) = parse(&["inbox"]).unwrap() else { panic!() };
        assert!(a.states.is_empty() && a.assignee.is_none() && !a.mine && a.warning.is_none());
        assert_eq!(a.limit, 50);
    }

    #[test]
    fn mine_and_assignee_exclude_each_other() {
        assert_eq!(kind_of(&["inbox", "--mine", "--assignee", "x"]), clap::error::ErrorKind::ArgumentConflict);
        let TaskCommand::Inbox(a) = parse(&["inbox", "--mine"]).unwrap() else { panic!() };
        assert!(a.mine);
    }

    #[test]
    fn the_inbox_refuses_an_unknown_state_a_bad_date_and_a_zero_limit() {
        assert_eq!(kind_of(&["inbox", "--state", "open"]), clap::error::ErrorKind::InvalidValue);
        let e = parse(&["inbox", "--due-before", "9.10.2026"]).unwrap_err().to_string();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        assert_eq!(kind_of(&["inbox", "--limit", "0"]), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn task_and_tasks_take_an_id() {
        assert!(matches!(parse(&["task", "t-1"]).unwrap(), TaskCommand::Task { task_id } if task_id == "t-1"));
        assert!(matches!(parse(&["tasks", "c-1"]).unwrap(), TaskCommand::Tasks { case_id } if case_id == "c-1"));
        assert_eq!(kind_of(&["task"]), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn a_command_has_a_fresh_key_and_no_version_check_unless_given() {
        let TaskCommand::Claim(a) = parse(&["claim", "t-1"]).unwrap() else { panic!() };
        assert_eq!((a.options.idempotency_key.as_deref(), a.options.expected_version), (None, 0));
        assert_ne!(a.options.key(), a.options.key());
        assert!(uuid::Uuid::parse_str(&a.options.key()).is_ok());
        let TaskCommand::Claim(a) =
            parse(&["claim", "t-1", "--idempotency-key", "k-7", "--expected-version", "3"]).unwrap()
        else {
            panic!()
        };
        assert_eq!((a.options.key().as_str(), a.options.expected_version), ("k-7", 3));
    }

    #[test]
    fn approve_takes_the_result_document() {
        let TaskCommand::Approve(a) = parse(&[
            "approve",
            "t-1",
            "--kind",
            "licence",
            "--name",
            "食品经营许可证",
            "--number",
            "JY11502030000123",
            "--valid-from",
            "2026-10-09",
            "--valid-until",
            "2031-10-08",
            "--physical",
            "--comment",
            "ok",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.kind, KindArg::Licence);
        assert_eq!(
            (a.name.as_str(), a.number.as_str(), a.comment.as_str()),
            ("食品经营许可证", "JY11502030000123", "ok")
        );
        assert_eq!(a.valid_until, Some(common::Date { year: 2031, month: 10, day: 8 }));
        assert!(a.physical);
        let TaskCommand::Approve(a) =
            parse(&["approve", "t-1", "--kind", "certificate", "--name", "n", "--number", "1"]).unwrap()
        else {
            panic!()
        };
        assert!(a.valid_from.is_none() && a.valid_until.is_none() && !a.physical);
    }

    #[test]
    fn approve_needs_kind_name_and_number() {
        assert_eq!(
            kind_of(&["approve", "t-1", "--name", "n", "--number", "1"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            kind_of(&["approve", "t-1", "--kind", "permit", "--name", "n", "--number", "1"]),
            clap::error::ErrorKind::InvalidValue
        );
    }

    #[test]
    fn deny_needs_reason_and_legal_basis() {
        let TaskCommand::Deny(a) =
            parse(&["deny", "t-1", "--reason", "场所不符", "--legal-basis", "《食品经营许可管理办法》第十条"]).unwrap()
        else {
            panic!()
        };
        assert_eq!((a.reason.as_str(), a.remedy.as_str()), ("场所不符", ""));
        assert_eq!(kind_of(&["deny", "t-1", "--reason", "r"]), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn return_takes_repeated_items_and_a_due_date() {
        let TaskCommand::Return(a) = parse(&[
            "return",
            "t-1",
            "--item",
            "material_id=m_site_layout;requirement=平面图缺少尺寸",
            "--item",
            "field=form.shop_area;requirement=面积与平面图不符",
            "--due-by",
            "2026-10-20",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.items.len(), 2);
        assert_eq!(a.items[1].field_path, "form.shop_area");
        assert_eq!(a.due_by, Some(common::Date { year: 2026, month: 10, day: 20 }));
        assert_eq!(kind_of(&["return", "t-1"]), clap::error::ErrorKind::MissingRequiredArgument);
        let e = parse(&["return", "t-1", "--item", "material_id=m"]).unwrap_err().to_string();
        assert!(e.contains("requirement"), "{e}");
    }

    #[test]
    fn resume_and_transfer_take_their_arguments() {
        let TaskCommand::Resume(a) = parse(&["resume", "t-1", "--request", "r-1"]).unwrap() else { panic!() };
        assert_eq!(a.request, "r-1");
        let TaskCommand::Transfer(a) = parse(&["transfer", "t-1", "--to", "agent-samr-2", "--reason", "休假"]).unwrap()
        else {
            panic!()
        };
        assert_eq!((a.to.as_str(), a.reason.as_str()), ("agent-samr-2", "休假"));
        assert_eq!(kind_of(&["transfer", "t-1", "--to", "x"]), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn a_post_check_passes_or_fails_and_revokes_only_a_failure_with_a_legal_basis() {
        let TaskCommand::PostCheck(a) = parse(&["post-check", "t-1", "--passed"]).unwrap() else { panic!() };
        assert!(a.passed && !a.failed && !a.revoke && a.finding.is_none());
        let TaskCommand::PostCheck(a) = parse(&[
            "post-check",
            "t-1",
            "--failed",
            "--finding",
            "场所面积不实",
            "--revoke",
            "--legal-basis",
            "《行政许可法》第六十九条",
            "--material",
            "m_site",
        ])
        .unwrap() else {
            panic!()
        };
        assert!(a.failed && a.revoke);
        assert_eq!(a.materials, ["m_site"]);
        use clap::error::ErrorKind as K;
        assert_eq!(kind_of(&["post-check", "t-1"]), K::MissingRequiredArgument);
        assert_eq!(kind_of(&["post-check", "t-1", "--passed", "--failed", "--finding", "f"]), K::ArgumentConflict);
        assert_eq!(kind_of(&["post-check", "t-1", "--failed"]), K::MissingRequiredArgument);
        assert_eq!(
            kind_of(&["post-check", "t-1", "--failed", "--finding", "f", "--revoke"]),
            K::MissingRequiredArgument
        );
        assert_eq!(kind_of(&["post-check", "t-1", "--passed", "--revoke", "--legal-basis", "l"]), K::ArgumentConflict);
    }

    #[test]
    fn a_supplement_item_names_a_material_or_a_field_and_the_requirement() {
        let i = parse_supplement_item("material_id=m_birth_cert;requirement=出生医学证明复印件不清晰").unwrap();
        assert_eq!((i.material_id.as_str(), i.field_path.as_str()), ("m_birth_cert", ""));
        assert_eq!(i.requirement, "出生医学证明复印件不清晰");
        let i = parse_supplement_item("requirement=姓名与户口簿不一致; field=newborn_name").unwrap();
        assert_eq!(i.field_path, "form.newborn_name");
        let i = parse_supplement_item("material=m_a;field_path=form.x;requirement=r").unwrap();
        assert_eq!((i.material_id.as_str(), i.field_path.as_str()), ("m_a", "form.x"));
    }

    #[test]
    fn a_semicolon_inside_the_requirement_stays_in_it() {
        let i = parse_supplement_item("material_id=m;requirement=a; b;c=d").unwrap();
        assert_eq!(i.requirement, "a; b;c=d");
    }

    #[test]
    fn a_malformed_supplement_item_is_refused_with_what_is_wrong() {
        let cases = [
            ("material_id=m", "requirement=TEXT is missing"),
            ("requirement=r", "material_id=ID and/or field"),
            ("material_id=m;material_id=n;requirement=r", "given twice"),
            ("material_id=;requirement=r", "material_id is empty"),
            ("colour=red;requirement=r", "unknown key \"colour\""),
            ("just text", "not key=value"),
            ("field=form.;requirement=r", "field needs a form key"),
        ];
        for (spec, expected) in cases {
            let e = parse_supplement_item(spec).unwrap_err();
            assert!(e.contains(expected), "{spec}: {e}");
        }
    }

    fn task(id: &str, due: Option<(i32, i32, i32)>, warning: common::WarningLevel) -> pb::Task {
        pb::Task {
            task_id: id.into(),
            case_number: "YCB-20261009-0001".into(),
            department: "samr".into(),
            item_code: "DEMO-RS-02".into(),
            item_name: "食品经营许可".into(),
            state: common::TaskState::InProgress as i32,
            assignee: "agent-samr-1".into(),
            due_by: due.map(|(year, month, day)| common::Date { year, month, day }),
            warning: warning as i32,
            ..Default::default()
        }
    }

    /// A fake inbox of `total` tasks served in pages of at most `max_page`;
    /// records the page sizes asked for.
    fn fake_inbox(
        total: u32,
        max_page: u32,
        asked: &std::cell::RefCell<Vec<u32>>,
    ) -> impl FnMut(u32, String) -> std::future::Ready<anyhow::Result<pb::ListInboxResponse>> + '_ {
        move |page_size, token| {
            asked.borrow_mut().push(page_size);
            let start: u32 = if token.is_empty() { 0 } else { token.parse().unwrap() };
            let end = (start + page_size.min(max_page)).min(total);
            std::future::ready(Ok(pb::ListInboxResponse {
                tasks: (start..end).map(|i| pb::Task { task_id: i.to_string(), ..Default::default() }).collect(),
                next_page_token: if end < total { end.to_string() } else { String::new() },
                total_count: total,
            }))
        }
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn a_limit_beyond_one_page_fetches_the_following_pages() {
        let asked = std::cell::RefCell::new(Vec::new());
        let (tasks, total) = block_on(collect_pages(1200, fake_inbox(1300, 500, &asked))).unwrap();
        assert_eq!((tasks.len(), total), (1200, 1300));
        assert_eq!(tasks[1199].task_id, "1199");
        assert_eq!(*asked.borrow(), [500, 500, 200]);
    }

    #[test]
    fn pages_stop_when_the_inbox_runs_out_or_the_limit_is_reached() {
        let asked = std::cell::RefCell::new(Vec::new());
        let (tasks, total) = block_on(collect_pages(700, fake_inbox(620, 500, &asked))).unwrap();
        assert_eq!((tasks.len(), total), (620, 620));
        assert_eq!(*asked.borrow(), [500, 200]);
        asked.borrow_mut().clear();
        // A server returning smaller pages than asked is followed too.
        let (tasks, _) = block_on(collect_pages(50, fake_inbox(73, 20, &asked))).unwrap();
        assert_eq!(tasks.len(), 50);
        assert_eq!(*asked.borrow(), [50, 30, 10]);
    }

    #[test]
    fn the_inbox_is_sorted_by_due_date_keeping_the_server_order_for_ties() {
        let mut tasks = vec![
            task("c", None, common::WarningLevel::Unspecified),
            task("b", Some((2026, 10, 9)), common::WarningLevel::Yellow),
            task("a", Some((2026, 9, 30)), common::WarningLevel::Red),
            task("d", Some((2026, 10, 9)), common::WarningLevel::Yellow),
        ];
        by_urgency(&mut tasks);
        let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d", "c"]);
    }

    #[test]
    fn the_task_table_prints_full_ids_and_warning_marks() {
        let id = "0192f0c4-1b2a-7cde-8f00-1234567890ab";
        let mut red = task(id, Some((2026, 9, 30)), common::WarningLevel::Red);
        red.escalated = true;
        let mut pending = task("t-2", None, common::WarningLevel::Unspecified);
        pending.state = common::TaskState::Pending as i32;
        pending.assignee.clear();
        let text = task_table(&[red, pending], false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("TASK ID") && lines[0].ends_with("ITEM"), "{}", lines[0]);
        assert!(lines[1].starts_with(id), "{}", lines[1]);
        assert!(lines[1].contains("in-progress") && lines[1].contains("2026-09-30"), "{}", lines[1]);
        assert!(lines[1].contains("🔴 red, escalated") && lines[1].ends_with("DEMO-RS-02 食品经营许可"));
        assert!(lines[2].contains("pending") && lines[2].contains("  -  "), "{}", lines[2]);
        // The ITEM column starts at the same display column on every line.
        let col = |l: &str| text::display_width(&l[..l.find("DEMO").or_else(|| l.find("ITEM")).unwrap()]);
        assert_eq!(col(lines[0]), col(lines[1]));
        assert_eq!(col(lines[1]), col(lines[2]));
        assert!(task_table(&[], true).starts_with("TASK ID  CASE NUMBER  DEPT  STATE"));
    }

    #[test]
    fn warning_marks_are_coloured_dots_with_words() {
        assert_eq!(warning_mark(common::WarningLevel::Yellow, false), "🟡 yellow");
        assert_eq!(warning_mark(common::WarningLevel::Red, true), "🔴 red, escalated");
        assert_eq!(warning_mark(common::WarningLevel::Unspecified, false), "");
    }

    #[test]
    fn the_footer_counts_shown_of_total() {
        assert_eq!(footer(50, 73), "50 of 73 tasks");
        assert_eq!(footer(1, 1), "1 of 1 task");
        assert_eq!(footer(0, 0), "0 of 0 tasks");
    }

    #[test]
    fn a_task_in_detail_shows_its_supplement_result_and_commitments() {
        let mut t = task("t-1", Some((2026, 10, 9)), common::WarningLevel::Yellow);
        t.state = common::TaskState::Approved as i32;
        t.supplement_request_id = "r-1".into();
        t.supplement_items = vec![common::SupplementItem {
            material_id: "m_a".into(),
            field_path: String::new(),
            requirement: "不清晰".into(),
        }];
        t.result = Some(common::ResultDocument {
            kind: common::ResultDocumentKind::Licence as i32,
            name: "食品经营许可证".into(),
            number: "JY1".into(),
            issuing_department: "samr".into(),
            physical: true,
            ..Default::default()
        });
        t.commitments = vec![common::Commitment {
            material_id: "m_site".into(),
            material_name: "场所证明".into(),
            commitment_text: "属实".into(),
            post_check_department: "samr".into(),
            post_check_by: Some(common::Date { year: 2026, month: 11, day: 30 }),
        }];
        t.post_check = pb::PostCheckState::Pending as i32;
        let text = detail(&t);
        for expected in [
            "state         approved 准予",
            "warning       🟡 yellow; yellow on -",
            "supplement    request r-1, due -",
            "  item        m_a: 不清晰",
            "result        licence 食品经营许可证 no. JY1 (samr, no expiry, paper)",
            "commitment    m_site 场所证明 — post-check by 2026-11-30 (samr): 属实",
            "post-check    pending",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }
}

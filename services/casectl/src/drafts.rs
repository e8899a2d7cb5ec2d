//! `casectl catalog draft …`: drafting a package change or retirement (an
//! agent of a department taking part), reviewing it (an agent of the lead
//! department), and publishing approved drafts as a catalog version (admin).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;

use crate::connect::{AuthChannel, Connection, explain};
use crate::text::{table, timestamp};

type Client = CatalogPublishingServiceClient<AuthChannel>;

#[derive(Debug, Subcommand)]
pub enum DraftCommand {
    /// Print one package of the version in force as JSON, to start a draft from.
    Package { package_id: String },
    /// Save a draft of a package (new or changed) from a file holding one package object.
    Save {
        file: PathBuf,
        /// Continue this draft instead of starting one.
        #[arg(long)]
        draft: Option<String>,
    },
    /// Draft a package's retirement (退出目录).
    Retire { package_id: String },
    /// The open drafts (or those of one status) your department may see.
    List {
        #[arg(long)]
        status: Option<String>,
    },
    /// One draft: its package, status, history and problems.
    Show { draft_id: String },
    /// Hand a draft to the lead department for review.
    Submit { draft_id: String },
    /// Approve a submitted draft (lead department).
    Approve {
        draft_id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Send a submitted draft back, saying why (lead department).
    Reject {
        draft_id: String,
        #[arg(long)]
        note: String,
    },
    /// Give a draft up.
    Withdraw { draft_id: String },
    /// Publish approved drafts as a new catalog version (admin).
    Publish {
        /// The new version, e.g. 2026.3.
        #[arg(long)]
        version: String,
        /// Only these drafts (default: every approved one).
        #[arg(long = "draft")]
        drafts: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

async fn current(client: &mut Client, draft_id: &str) -> anyhow::Result<pb::CatalogDraft> {
    let got = client.get_catalog_draft(pb::GetCatalogDraftRequest { draft_id: draft_id.to_owned() }).await;
    got.map_err(explain)?.into_inner().draft.context("the service answered no draft")
}

fn action(draft: &pb::CatalogDraft) -> pb::CatalogDraftActionRequest {
    pb::CatalogDraftActionRequest { draft_id: draft.draft_id.clone(), expected_version: draft.version }
}

pub async fn run(conn: &Connection, command: DraftCommand) -> anyhow::Result<()> {
    let mut client = CatalogPublishingServiceClient::new(conn.channel().await?).max_decoding_message_size(8 << 20);
    let answer = match command {
        DraftCommand::Package { package_id } => {
            let file = client.get_catalog_version(pb::GetCatalogVersionRequest::default()).await.map_err(explain)?;
            let file: serde_json::Value = serde_json::from_str(&file.into_inner().file_json)?;
            let package = file["packages"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["id"] == package_id.as_str()))
                .with_context(|| format!("no package {package_id:?} in the version in force"))?;
            println!("{}", serde_json::to_string_pretty(package)?);
            return Ok(());
        }
        DraftCommand::Save { file, draft } => {
            let package_json = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let expected_version = match &draft {
                Some(id) => current(&mut client, id).await?.version,
                None => 0,
            };
            let request = pb::SaveCatalogDraftRequest {
                draft_id: draft.unwrap_or_default(),
                package_json,
                retire_package_id: String::new(),
                expected_version,
            };
            client.save_catalog_draft(request).await
        }
        DraftCommand::Retire { package_id } => {
            let request = pb::SaveCatalogDraftRequest { retire_package_id: package_id, ..Default::default() };
            client.save_catalog_draft(request).await
        }
        DraftCommand::List { status } => {
            let request = pb::ListCatalogDraftsRequest { status: status.unwrap_or_default() };
            let drafts = client.list_catalog_drafts(request).await.map_err(explain)?.into_inner().drafts;
            print!("{}", list(&drafts));
            return Ok(());
        }
        DraftCommand::Show { draft_id } => client.get_catalog_draft(pb::GetCatalogDraftRequest { draft_id }).await,
        DraftCommand::Submit { draft_id } => {
            let draft = current(&mut client, &draft_id).await?;
            client.submit_catalog_draft(action(&draft)).await
        }
        DraftCommand::Approve { draft_id, note } => review(&mut client, &draft_id, true, note).await,
        DraftCommand::Reject { draft_id, note } => review(&mut client, &draft_id, false, note).await,
        DraftCommand::Withdraw { draft_id } => {
            let draft = current(&mut client, &draft_id).await?;
            client.withdraw_catalog_draft(action(&draft)).await
        }
        DraftCommand::Publish { version, drafts, note } => {
            let request = pb::PublishCatalogDraftsRequest { version, draft_ids: drafts, note };
            let published = client.publish_catalog_drafts(request).await.map_err(explain)?.into_inner();
            let version = published.published.map(|p| p.version).unwrap_or_default();
            println!("published catalog version {version} with {} draft(s)", published.draft_ids.len());
            return Ok(());
        }
    };
    print!("{}", show(&answer.map_err(explain)?.into_inner()));
    Ok(())
}

async fn review(
    client: &mut Client,
    draft_id: &str,
    approve: bool,
    note: String,
) -> Result<tonic::Response<pb::CatalogDraftResponse>, tonic::Status> {
    let draft = current(client, draft_id).await.map_err(|e| tonic::Status::unavailable(format!("{e:#}")))?;
    let request =
        pb::ReviewCatalogDraftRequest { draft_id: draft.draft_id, expected_version: draft.version, approve, note };
    client.review_catalog_draft(request).await
}

/// The text of one draft with its problems.
pub fn show(answer: &pb::CatalogDraftResponse) -> String {
    let Some(d) = &answer.draft else { return String::new() };
    let what = if d.retire { "retire".to_owned() } else { "add or change".to_owned() };
    let mut out = format!(
        "draft         {}\npackage       {} ({what})\nstatus        {} (version {})\nlead          {}\ndrafted by    {} ({})\n",
        d.draft_id,
        d.package_id,
        d.status,
        d.version,
        d.lead_department,
        d.drafted_by,
        if d.drafting_department.is_empty() { "admin" } else { &d.drafting_department },
    );
    if !d.published_in.is_empty() {
        out.push_str(&format!("published in  {}\n", d.published_in));
    }
    for h in &d.history {
        let note = if h.note.is_empty() { String::new() } else { format!(": {}", h.note) };
        out.push_str(&format!("  {}  {:<8}  {}{note}\n", timestamp(h.at.as_ref()), h.action, h.actor));
    }
    if !answer.problems.is_empty() {
        out.push_str(&format!("{} problem(s):\n", answer.problems.len()));
        for p in &answer.problems {
            out.push_str(&format!("  - {p}\n"));
        }
    } else if matches!(d.status.as_str(), "draft" | "rejected") {
        out.push_str("no problems: it can be submitted\n");
    }
    out
}

/// The table of `casectl catalog draft list`.
pub fn list(drafts: &[pb::CatalogDraft]) -> String {
    let rows: Vec<Vec<String>> = drafts
        .iter()
        .map(|d| {
            vec![
                d.draft_id.clone(),
                if d.retire { format!("{} (retire)", d.package_id) } else { d.package_id.clone() },
                d.status.clone(),
                d.lead_department.clone(),
                timestamp(d.updated_at.as_ref()),
                d.drafted_by.clone(),
            ]
        })
        .collect();
    let mut out = table(&["DRAFT", "PACKAGE", "STATUS", "LEAD", "UPDATED", "DRAFTED BY"], &rows);
    out.push_str(&format!("{} draft(s)\n", drafts.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_shows_its_history_and_every_problem() {
        let answer = pb::CatalogDraftResponse {
            draft: Some(pb::CatalogDraft {
                draft_id: "d1".into(),
                package_id: "newborn-birth".into(),
                status: "rejected".into(),
                lead_department: "health".into(),
                drafted_by: "agent-cdc-1".into(),
                drafting_department: "cdc".into(),
                history: vec![pb::CatalogDraftEvent {
                    action: "reject".into(),
                    actor: "agent-health-1".into(),
                    note: "名称须与国家目录一致".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            problems: vec!["packages[newborn-birth]: unknown department \"x\"".into()],
        };
        let text = show(&answer);
        assert!(text.contains("reject    agent-health-1: 名称须与国家目录一致"), "{text}");
        assert!(text.contains("1 problem(s):\n  - packages[newborn-birth]"), "{text}");
    }
}

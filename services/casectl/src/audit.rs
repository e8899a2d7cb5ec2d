//! `casectl refusals`: the refused calls of every service (supervisors and
//! admins), newest first — who was refused which RPC on which case, and why
//! (`yiciban.audit.v1.AuditService/ListRefusals`, asked of all five
//! services and merged).

use clap::Args;
use yiciban_proto::audit::v1 as pb;
use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;

use crate::connect::{AuthChannel, Connection, explain};
use crate::text::timestamp;

#[derive(Debug, Args)]
pub struct RefusalArgs {
    /// Only refusals of this caller (their login, or a service's name).
    #[arg(long)]
    caller: Option<String>,
    /// Only refusals concerning this case id.
    #[arg(long = "case")]
    case_id: Option<String>,
    /// At most this many per service (≤ 500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn refusals(conn: &Connection, args: RefusalArgs) -> anyhow::Result<()> {
    let channels: [(&str, AuthChannel); 5] = [
        ("intake", conn.channel().await?),
        ("routing", conn.routing_channel().await?),
        ("tasks", conn.tasks_channel().await?),
        ("issuance", conn.issuance_channel().await?),
        ("tracking", conn.tracking_channel().await?),
    ];
    let mut all = Vec::new();
    let mut refused = Vec::new();
    for (service, channel) in channels {
        let request = pb::ListRefusalsRequest {
            caller: args.caller.clone().unwrap_or_default(),
            case_id: args.case_id.clone().unwrap_or_default(),
            page_size: args.limit,
            ..Default::default()
        };
        match AuditServiceClient::new(channel).list_refusals(request).await {
            Ok(r) => all.extend(r.into_inner().refusals),
            Err(status) => refused.push(format!("{service}: {:#}", explain(status))),
        }
    }
    if refused.len() == 5 {
        anyhow::bail!("no service answered:\n  {}", refused.join("\n  "));
    }
    for line in &refused {
        eprintln!("{line}");
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.at.map(|t| (t.seconds, t.nanos))));
    println!(
        "{:<20}  {:<9}  {:<22}  {:<11}  {:<17}  {:<36}  REASON",
        "AT", "SERVICE", "RPC", "ROLE", "CALLER", "CASE OR TASK"
    );
    for r in &all {
        let rpc = r.method.rsplit('/').next().unwrap_or(&r.method);
        let case = if r.case_id.is_empty() { "-" } else { r.case_id.as_str() };
        let kind = if r.kind == "hidden" { "(answered not found) " } else { "" };
        println!(
            "{:<20}  {:<9}  {:<22}  {:<11}  {:<17}  {:<36}  {kind}{}",
            timestamp(r.at.as_ref()),
            r.service,
            rpc,
            r.role,
            r.caller,
            case,
            r.reason
        );
    }
    println!("{} refusal(s)", all.len());
    Ok(())
}

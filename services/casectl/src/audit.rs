//! `casectl refusals`: the refused calls of every service (supervisors and
//! admins), newest first — who was refused which RPC on which case, and why
//! (`yiciban.audit.v1.AuditService/ListRefusals`, asked of all five
//! services and merged); `casectl reads`: the reads of personal data in
//! clear, likewise (`ListPersonalDataReads`).

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

/// Every service's audit channel, by name.
async fn services(conn: &Connection) -> anyhow::Result<[(&'static str, AuthChannel); 5]> {
    Ok([
        ("intake", conn.channel().await?),
        ("routing", conn.routing_channel().await?),
        ("tasks", conn.tasks_channel().await?),
        ("issuance", conn.issuance_channel().await?),
        ("tracking", conn.tracking_channel().await?),
    ])
}

/// What `ask` returned from each service, merged; the services that did not
/// answer are printed to stderr (an error when none answered).
async fn ask_all<T, F, Fut>(conn: &Connection, ask: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(AuditServiceClient<AuthChannel>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, tonic::Status>>,
{
    let mut all = Vec::new();
    let mut refused = Vec::new();
    let services = services(conn).await?;
    let count = services.len();
    for (service, channel) in services {
        match ask(AuditServiceClient::new(channel)).await {
            Ok(found) => all.extend(found),
            Err(status) => refused.push(format!("{service}: {:#}", explain(status))),
        }
    }
    if refused.len() == count {
        anyhow::bail!("no service answered:\n  {}", refused.join("\n  "));
    }
    for line in &refused {
        eprintln!("{line}");
    }
    Ok(all)
}

pub async fn refusals(conn: &Connection, args: RefusalArgs) -> anyhow::Result<()> {
    let request = pb::ListRefusalsRequest {
        caller: args.caller.clone().unwrap_or_default(),
        case_id: args.case_id.clone().unwrap_or_default(),
        page_size: args.limit,
        ..Default::default()
    };
    let mut all = ask_all(conn, |mut client| {
        let request = request.clone();
        async move { Ok(client.list_refusals(request).await?.into_inner().refusals) }
    })
    .await?;
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

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Only reads by this caller (their login, or a service's name).
    #[arg(long)]
    caller: Option<String>,
    /// Only reads of this case's data.
    #[arg(long = "case")]
    case_id: Option<String>,
    /// At most this many per service (≤ 500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn reads(conn: &Connection, args: ReadArgs) -> anyhow::Result<()> {
    let request = pb::ListPersonalDataReadsRequest {
        caller: args.caller.clone().unwrap_or_default(),
        case_id: args.case_id.clone().unwrap_or_default(),
        page_size: args.limit,
        ..Default::default()
    };
    let mut all = ask_all(conn, |mut client| {
        let request = request.clone();
        async move { Ok(client.list_personal_data_reads(request).await?.into_inner().reads) }
    })
    .await?;
    all.sort_by_key(|r| std::cmp::Reverse(r.at.map(|t| (t.seconds, t.nanos))));
    println!(
        "{:<20}  {:<9}  {:<10}  {:<11}  {:<17}  {:<36}  {:<40}  PURPOSE",
        "AT", "SERVICE", "RPC", "ROLE", "CALLER", "CASE", "FIELDS"
    );
    for r in &all {
        let rpc = r.method.rsplit('/').next().unwrap_or(&r.method);
        let purpose = if r.purpose_stated { r.purpose.clone() } else { format!("{} (not stated)", r.purpose) };
        println!(
            "{:<20}  {:<9}  {:<10}  {:<11}  {:<17}  {:<36}  {:<40}  {purpose}",
            timestamp(r.at.as_ref()),
            r.service,
            rpc,
            r.role,
            r.caller,
            r.case_id,
            r.fields.join(","),
        );
    }
    println!("{} read(s)", all.len());
    Ok(())
}

//! `casectl ops`: what the services' consumers set aside (poison messages and
//! dead letters), asked of all five services — listed, replayed once the
//! cause is fixed, or discarded with a reason (admin).

use clap::{Subcommand, ValueEnum};
use yiciban_proto::ops::v1 as pb;
use yiciban_proto::ops::v1::ops_service_client::OpsServiceClient;

use crate::connect::{AuthChannel, Connection, explain};
use crate::text::timestamp;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ServiceArg {
    Intake,
    Routing,
    Tasks,
    Issuance,
    Tracking,
}

#[derive(Debug, Subcommand)]
pub enum OpsCommand {
    /// The open dead letters of every service.
    DeadLetters,
    /// Apply one again, after the cause was fixed.
    Replay {
        #[arg(long, value_enum)]
        service: ServiceArg,
        #[arg(long)]
        consumer: String,
        id: i64,
    },
    /// Compare every service's published events with JetStream and publish
    /// again what it lost.
    Reconcile {
        /// How far back, in hours (1 to 720).
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
    /// Close one without applying it, saying why.
    Discard {
        #[arg(long, value_enum)]
        service: ServiceArg,
        #[arg(long)]
        consumer: String,
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

async fn channel(conn: &Connection, service: ServiceArg) -> anyhow::Result<AuthChannel> {
    match service {
        ServiceArg::Intake => conn.channel().await,
        ServiceArg::Routing => conn.routing_channel().await,
        ServiceArg::Tasks => conn.tasks_channel().await,
        ServiceArg::Issuance => conn.issuance_channel().await,
        ServiceArg::Tracking => conn.tracking_channel().await,
    }
}

pub async fn run(conn: &Connection, command: OpsCommand) -> anyhow::Result<()> {
    match command {
        OpsCommand::DeadLetters => {
            let services = [
                ServiceArg::Intake,
                ServiceArg::Routing,
                ServiceArg::Tasks,
                ServiceArg::Issuance,
                ServiceArg::Tracking,
            ];
            let mut all = Vec::new();
            let mut failed = Vec::new();
            for service in services {
                let mut client = OpsServiceClient::new(channel(conn, service).await?);
                match client.list_dead_letters(pb::ListDeadLettersRequest::default()).await {
                    Ok(r) => all.push(r.into_inner()),
                    Err(status) => failed.push(format!("{service:?}: {:#}", explain(status))),
                }
            }
            if failed.len() == services.len() {
                anyhow::bail!("no service answered:\n  {}", failed.join("\n  "));
            }
            for line in &failed {
                eprintln!("{line}");
            }
            print!("{}", table(&all));
        }
        OpsCommand::Reconcile { hours } => {
            for service in [ServiceArg::Intake, ServiceArg::Routing, ServiceArg::Tasks, ServiceArg::Issuance] {
                let mut client = OpsServiceClient::new(channel(conn, service).await?);
                match client.reconcile(pb::ReconcileRequest { hours }).await {
                    Ok(r) => {
                        let r = r.into_inner();
                        let missing = if r.stream_missing { "; the stream is MISSING" } else { "" };
                        println!(
                            "{:<9} {} case(s) compared, {} short, {} event(s) published again{missing}",
                            r.service, r.cases, r.short_cases, r.republished
                        );
                    }
                    Err(status) => eprintln!("{service:?}: {:#}", explain(status)),
                }
            }
        }
        OpsCommand::Replay { service, consumer, id } => {
            let mut client = OpsServiceClient::new(channel(conn, service).await?);
            client.replay_dead_letter(pb::ReplayDeadLetterRequest { consumer, id }).await.map_err(explain)?;
            println!("replayed {id}");
        }
        OpsCommand::Discard { service, consumer, id, reason } => {
            let mut client = OpsServiceClient::new(channel(conn, service).await?);
            let request = pb::DiscardDeadLetterRequest { consumer, id, reason };
            client.discard_dead_letter(request).await.map_err(explain)?;
            println!("discarded {id}");
        }
    }
    Ok(())
}

/// The table of `casectl ops dead-letters`.
pub fn table(answers: &[pb::ListDeadLettersResponse]) -> String {
    let rows: Vec<Vec<String>> = answers
        .iter()
        .flat_map(|answer| answer.dead_letters.iter().map(move |d| (answer.service.as_str(), d)))
        .map(|(service, d)| {
            let at = if d.stream_id.is_empty() {
                "(no event)".to_owned()
            } else {
                format!("{}@{}", d.stream_id, d.stream_version)
            };
            vec![
                service.to_owned(),
                d.consumer.clone(),
                d.id.to_string(),
                timestamp(d.recorded_at.as_ref()),
                at,
                d.error.clone(),
            ]
        })
        .collect();
    let mut out = crate::text::table(&["SERVICE", "CONSUMER", "ID", "AT", "STREAM@VERSION", "WHY"], &rows);
    out.push_str(&format!("{} set aside\n", rows.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_the_service_consumer_and_why() {
        let text = table(&[pb::ListDeadLettersResponse {
            service: "tracking".into(),
            dead_letters: vec![pb::DeadLetter {
                id: 7,
                consumer: "tracking-projection".into(),
                stream_id: "task-1".into(),
                stream_version: 3,
                error: "gave up after 25 deliveries: timeout".into(),
                ..Default::default()
            }],
        }]);
        assert!(text.contains("tracking  tracking-projection  7"), "{text}");
        assert!(text.contains("task-1@3") && text.ends_with("1 set aside\n"), "{text}");
    }
}

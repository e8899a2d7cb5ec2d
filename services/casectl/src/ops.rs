//! `casectl ops`: what the services' consumers set aside (poison messages and
//! dead letters), asked of all five services — listed, replayed once the
//! cause is fixed, or discarded with a reason (admin); the reconciliation of
//! the stores with JetStream; and, while the services are stopped after a
//! point-in-time restore, the clean-up of JetStream (`after-restore`, which
//! talks to Postgres and NATS itself).

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
    /// After a point-in-time restore, with every service stopped (runbook
    /// step 7 of docs/DEPLOY.md): lists the messages JetStream holds of events
    /// no store has, and the durable consumers; with --apply deletes those
    /// messages and rewinds the services' consumers to before the target time.
    /// Talks to Postgres and NATS itself (the services are down).
    AfterRestore(AfterRestoreArgs),
    /// After intake sealed the applications written in clear before sealing
    /// (its log says so at start, docs/PRIVACY.md): lists the messages
    /// JetStream still holds of events the ledger has rewritten (their bytes
    /// are not the ledger's); with --apply deletes them, the server
    /// overwriting their bytes. Then `casectl ops reconcile --hours 720`
    /// publishes the ledger's version again.
    StaleCopies(StaleCopiesArgs),
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

#[derive(Debug, clap::Args)]
pub struct AfterRestoreArgs {
    /// The restore's target time (RFC 3339 with its offset).
    #[arg(long)]
    target_time: chrono::DateTime<chrono::FixedOffset>,
    /// Messages are looked at from this many seconds before the target time
    /// (the broker's and the database's clocks may differ).
    #[arg(long, default_value_t = 60)]
    margin_seconds: i64,
    /// The services' consumers are rewound to this many minutes before the
    /// target time (longer than any consumer's lag at that time).
    #[arg(long, default_value_t = 60)]
    rewind_minutes: i64,
    /// Delete the messages and rewind the consumers (without it: only list).
    #[arg(long)]
    apply: bool,
    /// Intake's schema, where the erasures to make again are recorded.
    #[arg(long, env = "YICIBAN_INTAKE_SCHEMA", default_value = "intake")]
    intake_schema: String,
    #[command(flatten)]
    direct: DirectArgs,
}

/// How `after-restore` and `stale-copies` reach Postgres and NATS themselves.
#[derive(Debug, clap::Args)]
pub struct DirectArgs {
    /// The database (the services' DATABASE_URL).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// NATS server, logged in to as the `ops` identity (--nkey-seed-file
    /// ops.nk: it may delete messages and manage the case stream's consumers).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    #[command(flatten)]
    login: crate::nats_config::NatsLogin,
    /// The deployment's subject prefix.
    #[arg(long, env = "YICIBAN_NATS_PREFIX", default_value = "yiciban")]
    prefix: String,
}

impl DirectArgs {
    /// The subjects, the database and JetStream, as `client` (its name on NATS).
    async fn connect(
        &self,
        client: &str,
    ) -> anyhow::Result<(yiciban_eventstore::Subjects, sqlx::PgPool, async_nats::jetstream::Context)> {
        use anyhow::Context as _;
        let subjects = yiciban_eventstore::Subjects::new(&self.prefix).map_err(anyhow::Error::msg)?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.database_url)
            .await
            .context("connecting to the database")?;
        let inbox = yiciban_eventstore::identities::Identity::Ops.inbox_prefix();
        let js = async_nats::jetstream::new(self.login.connect(&self.nats_url, client, &inbox).await?);
        Ok((subjects, pool, js))
    }
}

#[derive(Debug, clap::Args)]
pub struct StaleCopiesArgs {
    /// How far back to look, in days (the case stream keeps 30).
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: u32,
    /// Delete the messages (without it: only list).
    #[arg(long)]
    apply: bool,
    #[command(flatten)]
    direct: DirectArgs,
}

async fn after_restore(a: AfterRestoreArgs) -> anyhow::Result<()> {
    use yiciban_eventstore::restore;
    let (subjects, pool, js) = a.direct.connect("casectl-after-restore").await?;
    let target = a.target_time.with_timezone(&chrono::Utc);
    let orphans = restore::orphans(&pool, &js, &subjects, target - chrono::Duration::seconds(a.margin_seconds)).await?;
    print!("{}", orphans_table(&orphans, "of events no store has"));
    // Erasures after the restore point: the restored database holds those
    // people's keys again; intake erases them again at its next start.
    let lost = yiciban_intake::restore::find(&js, &subjects, &orphans).await?;
    let cases: Vec<String> = lost.iter().map(|l| l.case_id.to_string()).collect();
    let rewind_to = target - chrono::Duration::minutes(a.rewind_minutes);
    if !a.apply {
        let found = restore::consumers(&pool, &js, &subjects).await?;
        println!("would delete {} message(s) and rewind to {rewind_to}: {}", orphans.len(), found.services.join(", "));
        println!("left alone (not the services'): {}", none_or(&found.others));
        println!("erasures undone by the restore, to be made again by intake: {}", none_or(&cases));
        println!("nothing changed: run again with --apply");
        return Ok(());
    }
    // Recorded before the messages naming them are deleted: a run cut short
    // here is simply run again.
    yiciban_eventstore::migrate::validate_schema_name(&a.intake_schema)?;
    let recorded = yiciban_intake::restore::record(&pool, &a.intake_schema, &lost).await?;
    println!(
        "erasures undone by the restore: {} ({} newly recorded; intake erases them again when it starts, before it serves)",
        none_or(&cases),
        recorded
    );
    let deleted = restore::delete_orphans(&js, &subjects, &orphans).await?;
    let found = restore::rewind_consumers(&pool, &js, &subjects, rewind_to).await?;
    println!("deleted {deleted} message(s); rewound to {rewind_to}: {}", none_or(&found.services));
    println!("left alone (not the services'; tell their owners what was deleted): {}", none_or(&found.others));
    Ok(())
}

async fn stale_copies(a: StaleCopiesArgs) -> anyhow::Result<()> {
    use yiciban_eventstore::stale;
    let (subjects, pool, js) = a.direct.connect("casectl-stale-copies").await?;
    let since = chrono::Utc::now() - chrono::Duration::days(i64::from(a.days));
    let found = stale::stale_copies(&pool, &js, &subjects, since).await?;
    print!("{}", orphans_table(&found, "of events the ledger holds with other bytes (rewritten in place)"));
    if !a.apply {
        println!("nothing changed: run again with --apply");
        return Ok(());
    }
    let deleted = stale::delete_stale(&js, &subjects, &found).await?;
    println!("deleted {deleted} message(s); publish the ledger's version again: casectl ops reconcile --hours 720");
    Ok(())
}

fn none_or(names: &[String]) -> String {
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

/// The table of `casectl ops after-restore`.
pub fn orphans_table(orphans: &[yiciban_eventstore::restore::Orphan], what: &str) -> String {
    let rows: Vec<Vec<String>> = orphans
        .iter()
        .map(|o| {
            vec![
                o.sequence.to_string(),
                o.stored_at.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
                o.subject.clone(),
                o.event_id.clone(),
            ]
        })
        .collect();
    let mut out = crate::text::table(&["SEQ", "STORED", "SUBJECT", "EVENT ID"], &rows);
    out.push_str(&format!("{} message(s) {what}\n", rows.len()));
    out
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
                        let unknown = if r.unknown_events > 0 {
                            format!(
                                "; {} message(s) of events the store does NOT have (a restore? casectl ops after-restore)",
                                r.unknown_events
                            )
                        } else {
                            String::new()
                        };
                        println!(
                            "{:<9} {} case(s) compared, {} short, {} event(s) published again{missing}{unknown}",
                            r.service, r.cases, r.short_cases, r.republished
                        );
                    }
                    Err(status) => eprintln!("{service:?}: {:#}", explain(status)),
                }
            }
        }
        OpsCommand::AfterRestore(args) => after_restore(args).await?,
        OpsCommand::StaleCopies(args) => stale_copies(args).await?,
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

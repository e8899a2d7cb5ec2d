//! `casectl webhooks`: department webhook subscriptions (the webhook
//! service, docs/DEPARTMENTS.md) — listed and inspected by administrators
//! and the department's agents; created, paused, resumed, deleted, their
//! secrets rotated, their dead letters redelivered or discarded, and
//! replays started by administrators.

use clap::Subcommand;
use yiciban_proto::webhooks::v1 as pb;
use yiciban_proto::webhooks::v1::webhook_service_client::WebhookServiceClient;

use crate::connect::{Connection, explain};
use crate::text::{table, timestamp};

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Subscriptions (an agent sees its own department's).
    List {
        #[arg(long)]
        department: Option<String>,
    },
    /// A new subscription; prints its signing secret once.
    Create {
        #[arg(long)]
        department: String,
        /// The https:// endpoint events are POSTed to.
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Stop delivering (events wait, and arrive after `resume`).
    Pause { subscription_id: String },
    /// Deliver again, from where delivery stopped.
    Resume { subscription_id: String },
    /// Delete a subscription, its position and its dead letters.
    Delete { subscription_id: String },
    /// A new signing secret, printed once (the old one signs for 24 hours more).
    RotateSecret { subscription_id: String },
    /// The dead letters of a subscription.
    DeadLetters { subscription_id: String },
    /// POST a dead letter once more, now.
    Redeliver { dead_letter_id: i64 },
    /// Close a dead letter without delivering it.
    Discard { dead_letter_id: i64 },
    /// Send again every event of the department stored since a time.
    Replay {
        subscription_id: String,
        /// RFC 3339 with its offset, e.g. 2026-12-01T08:00:00+08:00.
        #[arg(long)]
        from: chrono::DateTime<chrono::FixedOffset>,
    },
}

pub async fn run(conn: &Connection, command: WebhooksCommand) -> anyhow::Result<()> {
    let mut client = WebhookServiceClient::new(conn.webhooks_channel().await?);
    match command {
        WebhooksCommand::List { department } => {
            let request = pb::ListSubscriptionsRequest { department: department.unwrap_or_default() };
            let list = client.list_subscriptions(request).await.map_err(explain)?.into_inner();
            print!("{}", subscriptions_table(&list.subscriptions));
        }
        WebhooksCommand::Create { department, url, description } => {
            let request = pb::CreateSubscriptionRequest { department, url, description, secret: String::new() };
            let created = client.create_subscription(request).await.map_err(explain)?.into_inner();
            print!("{}", subscriptions_table(created.subscription.as_slice()));
            println!("signing secret (shown once; give it to the department): {}", created.secret);
        }
        WebhooksCommand::Pause { subscription_id } => {
            let done = client.pause_subscription(pb::PauseSubscriptionRequest { subscription_id }).await;
            print!("{}", subscriptions_table(done.map_err(explain)?.into_inner().subscription.as_slice()));
        }
        WebhooksCommand::Resume { subscription_id } => {
            let done = client.resume_subscription(pb::ResumeSubscriptionRequest { subscription_id }).await;
            print!("{}", subscriptions_table(done.map_err(explain)?.into_inner().subscription.as_slice()));
        }
        WebhooksCommand::Delete { subscription_id } => {
            let request = pb::DeleteSubscriptionRequest { subscription_id: subscription_id.clone() };
            client.delete_subscription(request).await.map_err(explain)?;
            println!("deleted {subscription_id}");
        }
        WebhooksCommand::RotateSecret { subscription_id } => {
            let request = pb::RotateSecretRequest { subscription_id, secret: String::new() };
            let rotated = client.rotate_secret(request).await.map_err(explain)?.into_inner();
            println!("new signing secret (shown once; the old one signs for 24 hours more): {}", rotated.secret);
        }
        WebhooksCommand::DeadLetters { subscription_id } => {
            let request = pb::ListDeadLettersRequest { subscription_id };
            let list = client.list_dead_letters(request).await.map_err(explain)?.into_inner();
            print!("{}", dead_letters_table(&list.dead_letters));
        }
        WebhooksCommand::Redeliver { dead_letter_id } => {
            let request = pb::RedeliverDeadLetterRequest { dead_letter_id };
            let r = client.redeliver_dead_letter(request).await.map_err(explain)?.into_inner();
            match r.delivered {
                true => println!("delivered ({}); dead letter {dead_letter_id} closed", r.status),
                false => println!("not delivered ({}): {}; dead letter {dead_letter_id} stays", r.status, r.error),
            }
        }
        WebhooksCommand::Discard { dead_letter_id } => {
            client.discard_dead_letter(pb::DiscardDeadLetterRequest { dead_letter_id }).await.map_err(explain)?;
            println!("dead letter {dead_letter_id} discarded");
        }
        WebhooksCommand::Replay { subscription_id, from } => {
            let from_time = Some(yiciban_proto::convert::wire::timestamp(from.with_timezone(&chrono::Utc)));
            let request = pb::StartReplayRequest { subscription_id, from_time };
            let started = client.start_replay(request).await.map_err(explain)?.into_inner();
            println!("replay {} started: {} event(s) to send again", started.replay_id, started.events);
        }
    }
    Ok(())
}

/// The subscriptions as a table.
pub fn subscriptions_table(subscriptions: &[pb::Subscription]) -> String {
    let rows: Vec<Vec<String>> = subscriptions
        .iter()
        .map(|s| {
            vec![
                s.subscription_id.clone(),
                s.department.clone(),
                match s.slot {
                    0 => "-".to_owned(),
                    n => n.to_string(),
                },
                match s.state() {
                    pb::SubscriptionState::Paused => "paused".to_owned(),
                    _ => "active".to_owned(),
                },
                s.url.clone(),
                timestamp(s.last_delivered_at.as_ref()),
                s.dead_letters.to_string(),
                match &s.replay {
                    Some(r) => {
                        format!("{} from {} ({} events)", r.replay_id, timestamp(r.from_time.as_ref()), r.events)
                    }
                    None => "-".to_owned(),
                },
            ]
        })
        .collect();
    table(&["SUBSCRIPTION", "DEPARTMENT", "SLOT", "STATE", "URL", "LAST DELIVERED", "DEAD LETTERS", "REPLAY"], &rows)
}

/// The dead letters as a table.
pub fn dead_letters_table(dead: &[pb::DeadLetter]) -> String {
    let rows: Vec<Vec<String>> = dead
        .iter()
        .map(|d| {
            vec![
                d.dead_letter_id.to_string(),
                d.event_type.clone(),
                d.case_id.clone(),
                d.event_id.clone(),
                d.attempts.to_string(),
                d.last_status.to_string(),
                timestamp(d.last_attempt_at.as_ref()),
                d.last_error.clone(),
            ]
        })
        .collect();
    table(&["ID", "EVENT", "CASE", "EVENT ID", "ATTEMPTS", "STATUS", "LAST ATTEMPT", "ERROR"], &rows)
}

//! `casectl watch`: a department's live feed, as a department system sees it
//! — one NATS subscription to `<prefix>.evt.<department>.>`, each message an
//! `EventEnvelope` decoded from the published contract alone.

use anyhow::Context as _;
use clap::Args;
use futures::StreamExt as _;
use prost::Message as _;
use yiciban_proto::events::v1::EventEnvelope;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Department code whose events to follow, e.g. samr.
    #[arg(long)]
    department: String,
    /// NATS server (tls://nats.example:4222), logged in to as the department's
    /// identity with --nkey-seed-file.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    #[command(flatten)]
    login: crate::nats_config::NatsLogin,
    /// The deployment's subject prefix.
    #[arg(long, env = "YICIBAN_NATS_PREFIX", default_value = "yiciban")]
    prefix: String,
    /// Stop after this many events (default: follow until Ctrl-C).
    #[arg(long)]
    count: Option<usize>,
}

/// One line per event: when, type, case, stream position, who.
pub fn describe(envelope: &EventEnvelope) -> String {
    let at = envelope
        .occurred_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".into());
    let actor = envelope.actor.as_ref().map(|a| a.subject.as_str()).unwrap_or("-");
    format!(
        "{at}  {:<26} case {}  {}#{}  by {actor}",
        envelope.event_type, envelope.case_id, envelope.stream_id, envelope.stream_version
    )
}

pub async fn run(a: WatchArgs) -> anyhow::Result<()> {
    let subjects = yiciban_eventstore::Subjects::new(&a.prefix).map_err(anyhow::Error::msg)?;
    // a department identity may only use its own inbox prefix
    let inbox = yiciban_eventstore::identities::Identity::Department(a.department.clone()).inbox_prefix();
    let client = a.login.connect(&a.nats_url, &format!("casectl-watch-{}", a.department), &inbox).await?;
    let subject = subjects.department_events(&a.department);
    let mut feed = client.subscribe(subject.clone()).await.with_context(|| format!("subscribing to {subject}"))?;
    eprintln!("following {subject} (Ctrl-C stops)");
    let mut seen = 0;
    while let Some(message) = feed.next().await {
        match EventEnvelope::decode(message.payload.clone()) {
            Ok(envelope) => println!("{}", describe(&envelope)),
            Err(e) => println!("{}: not an EventEnvelope ({e})", message.subject),
        }
        seen += 1;
        if a.count.is_some_and(|n| seen >= n) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_as_one_line() {
        let envelope = EventEnvelope {
            event_type: "TaskClaimed".into(),
            case_id: "c-1".into(),
            stream_id: "task-t".into(),
            stream_version: 2,
            occurred_at: Some(prost_types::Timestamp { seconds: 1_790_000_000, nanos: 0 }),
            actor: Some(yiciban_proto::common::v1::Actor { subject: "agent-samr-1".into(), ..Default::default() }),
            ..Default::default()
        };
        let line = describe(&envelope);
        assert!(line.contains("TaskClaimed") && line.contains("case c-1") && line.contains("task-t#2"));
        assert!(line.ends_with("by agent-samr-1"));
    }
}

//! What every feed shares — the tables, the HTTP client, the limit on POSTs
//! in flight, the clock, JetStream — and the two kinds of feed: a
//! subscription's live delivery from its durable consumer, resumed where it
//! stopped after any restart, and a replay from a time on a consumer of its
//! own.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::Subjects;
use yiciban_platform::Clock;

use crate::config::DeliverySettings;
use crate::lanes::{Lanes, Target, Until};
use crate::repo::{Repo, SubscriptionRow};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a replay's consumer outlives a service that died mid-replay.
const REPLAY_INACTIVE: Duration = Duration::from_secs(300);

/// The durable consumer of a subscription.
pub fn consumer_name(subscription: Uuid) -> String {
    format!("webhook-{subscription}")
}

/// The parts every feed shares.
pub struct Deliverer {
    pub repo: Repo,
    pub http: reqwest::Client,
    pub settings: DeliverySettings,
    /// POSTs in flight, over every feed of the process.
    pub limiter: Semaphore,
    pub clock: Arc<dyn Clock>,
    pub js: jetstream::Context,
    pub subjects: Subjects,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// A replay started: its id, its events, and the consumer to run it on.
pub struct Replay {
    pub id: Uuid,
    pub events: u64,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    until: Until,
}

impl Deliverer {
    fn start_time(at: DateTime<Utc>) -> Result<jetstream::consumer::DeliverPolicy, BoxError> {
        let start_time = async_nats::datetime::parse_rfc3339(&at.to_rfc3339())?;
        Ok(jetstream::consumer::DeliverPolicy::ByStartTime { start_time })
    }

    /// The subscription's durable consumer, created on first use to deliver
    /// from the subscription's creation on; afterwards it keeps its position
    /// (only options nats-server 2.9 knows).
    pub async fn durable(
        &self,
        subscription: &SubscriptionRow,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, BoxError> {
        let stream = self.js.get_stream(self.subjects.stream_name()).await?;
        let name = consumer_name(subscription.subscription_id);
        let config = pull::Config {
            durable_name: Some(name.clone()),
            filter_subject: self.subjects.department_events(&subscription.department),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            max_ack_pending: self.settings.max_in_flight,
            deliver_policy: Self::start_time(subscription.created_at)?,
            ..Default::default()
        };
        Ok(stream.get_or_create_consumer(&name, config).await?)
    }

    /// Deletes the subscription's durable consumer (gone already: fine).
    pub async fn delete_durable(&self, subscription: Uuid) -> Result<(), BoxError> {
        let stream = self.js.get_stream(self.subjects.stream_name()).await?;
        match stream.delete_consumer(&consumer_name(subscription)).await {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("not found") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Delivers the subscription's events until `stop`, pulling again after
    /// any failure of NATS; the lanes go on meanwhile.
    pub async fn run_live(self: Arc<Self>, subscription: SubscriptionRow, stop: CancellationToken) {
        let target =
            Target { subscription_id: subscription.subscription_id, url: subscription.url.clone(), replay: None };
        let mut lanes = Lanes::new(self.clone(), target, stop.clone());
        while !stop.is_cancelled() {
            let pulled = async {
                // Deleted or paused meanwhile (perhaps through another
                // replica): stop, rather than create its consumer again.
                match self.repo.get(subscription.subscription_id).await? {
                    Some(now) if !now.paused && now.revision == subscription.revision => {}
                    _ => {
                        stop.cancel();
                        return Ok(());
                    }
                }
                let consumer = self.durable(&subscription).await?;
                let messages = consumer.messages().await?;
                lanes.feed(messages, None).await
            };
            if let Err(e) = pulled.await {
                tracing::warn!(subscription = %subscription.subscription_id, error = %e, "webhook feed interrupted; pulling again");
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
        lanes.close().await;
    }

    /// Prepares a replay of the subscription's department from `from`: a
    /// consumer of its own (ephemeral: JetStream removes it if the service
    /// dies mid-replay), and how many events it will redeliver.
    pub async fn prepare_replay(
        &self,
        subscription: &SubscriptionRow,
        from: DateTime<Utc>,
    ) -> Result<Replay, BoxError> {
        let mut stream = self.js.get_stream(self.subjects.stream_name()).await?;
        let last_sequence = stream.info().await?.state.last_sequence;
        let mut consumer = stream
            .create_consumer(pull::Config {
                filter_subject: self.subjects.department_events(&subscription.department),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: self.settings.ack_wait,
                max_ack_pending: self.settings.max_in_flight,
                deliver_policy: Self::start_time(from)?,
                inactive_threshold: REPLAY_INACTIVE,
                ..Default::default()
            })
            .await?;
        let events = consumer.info().await?.num_pending;
        Ok(Replay { id: Uuid::now_v7(), events, consumer, until: Until { last_sequence } })
    }

    /// Runs a prepared replay to its end (or `stop`), then removes its
    /// consumer.
    pub async fn run_replay(self: Arc<Self>, subscription: SubscriptionRow, replay: Replay, stop: CancellationToken) {
        let target = Target {
            subscription_id: subscription.subscription_id,
            url: subscription.url.clone(),
            replay: Some(replay.id),
        };
        let mut lanes = Lanes::new(self.clone(), target, stop.clone());
        if replay.events > 0 {
            let fed = async {
                let messages = replay.consumer.messages().await?;
                lanes.feed(messages, Some(replay.until)).await
            };
            match fed.await {
                Ok(()) => {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = lanes.drain() => {}
                    }
                }
                Err(e) => tracing::warn!(replay = %replay.id, error = %e, "replay interrupted; start it again"),
            }
        }
        lanes.close().await;
        let name = replay.consumer.cached_info().name.clone();
        if let Ok(stream) = self.js.get_stream(self.subjects.stream_name()).await {
            let _ = stream.delete_consumer(&name).await;
        }
        tracing::info!(replay = %replay.id, subscription = %subscription.subscription_id, "replay finished");
    }
}

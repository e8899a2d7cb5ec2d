//! What every feed shares — the tables, the HTTP client, the limit on POSTs
//! in flight, the clock, JetStream, the health entries — and the two kinds
//! of feed: a subscription's live delivery from its durable consumer,
//! resumed where it stopped after any restart, and a replay from a time on
//! a consumer of its own, recorded in the table and resumed as well.
//!
//! Consumers are named by the subscription's department and slot
//! (`webhook-<department>-<slot>`, `…-replay`: ADR 0022), the names the
//! service's NATS permission lists; each carries the subscription's (or
//! replay's) id as its description, so a consumer a deleted subscription
//! left in a slot is never taken over by the next one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::Subjects;
use yiciban_eventstore::identities::{webhook_consumer, webhook_replay_consumer};
use yiciban_metrics::ConsumerMetrics;
use yiciban_platform::Clock;

use crate::config::DeliverySettings;
use crate::health::FeedHealth;
use crate::lanes::{Lanes, Target, Until};
use crate::repo::{ReplayRow, Repo, SubscriptionRow};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a replay's consumer outlives a service that stopped
/// mid-replay: a restart within it resumes where the replay stopped; after
/// it, the replay starts again from its time (the receiver deduplicates).
pub const REPLAY_INACTIVE: Duration = Duration::from_secs(24 * 3600);

/// How often a feed reads its consumer's backlog for the metrics.
const OBSERVE_EVERY: Duration = Duration::from_secs(10);

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
    pub health: FeedHealth,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The live consumer's name of a subscription; `None` without a slot.
pub fn live_name(subscription: &SubscriptionRow) -> Option<String> {
    Some(webhook_consumer(&subscription.department, u8::try_from(subscription.slot?).ok()?))
}

/// The replay consumer's name of a subscription; `None` without a slot.
pub fn replay_name(subscription: &SubscriptionRow) -> Option<String> {
    Some(webhook_replay_consumer(&subscription.department, u8::try_from(subscription.slot?).ok()?))
}

fn is_not_found(e: &(dyn std::error::Error + 'static)) -> bool {
    e.to_string().to_ascii_lowercase().contains("not found")
}

impl Deliverer {
    fn start_time(at: DateTime<Utc>) -> Result<jetstream::consumer::DeliverPolicy, BoxError> {
        let start_time = async_nats::datetime::parse_rfc3339(&at.to_rfc3339())?;
        Ok(jetstream::consumer::DeliverPolicy::ByStartTime { start_time })
    }

    /// The consumer `name` as `config` describes it: the existing one if
    /// its description is `config`'s (it keeps its position), else made
    /// anew (one a deleted subscription or an ended replay left is deleted
    /// first).
    async fn own_consumer(
        &self,
        name: &str,
        config: pull::Config,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, BoxError> {
        let stream = self.js.get_stream_no_info(self.subjects.stream_name()).await?;
        match stream.consumer_info(name).await {
            Ok(info) if info.config.description == config.description => {
                return stream.get_consumer(name).await;
            }
            Ok(_) => {
                stream.delete_consumer(name).await?;
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(stream.create_consumer(config).await?)
    }

    /// The subscription's durable consumer, created on first use to deliver
    /// from the subscription's creation on; afterwards it keeps its position
    /// (only options nats-server 2.9 knows).
    pub async fn durable(
        &self,
        subscription: &SubscriptionRow,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, BoxError> {
        let name = live_name(subscription).ok_or("the subscription has no slot")?;
        let config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some(subscription.subscription_id.to_string()),
            filter_subject: self.subjects.department_events(&subscription.department),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            max_ack_pending: self.settings.max_in_flight,
            deliver_policy: Self::start_time(subscription.created_at)?,
            ..Default::default()
        };
        self.own_consumer(&name, config).await
    }

    /// Deletes the consumers of a deleted subscription (gone already: fine).
    pub async fn delete_consumers(&self, subscription: &SubscriptionRow) -> Result<(), BoxError> {
        let stream = self.js.get_stream_no_info(self.subjects.stream_name()).await?;
        for name in [live_name(subscription), replay_name(subscription)].into_iter().flatten() {
            match stream.delete_consumer(&name).await {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Delivers the subscription's events until `stop`, pulling again after
    /// any failure of NATS; the lanes go on meanwhile. Its health entry
    /// turns NOT_SERVING once it has been without its pull past the alert
    /// threshold; its backlog is observed for the metrics.
    pub async fn run_live(self: Arc<Self>, subscription: SubscriptionRow, stop: CancellationToken) {
        let Some(name) = live_name(&subscription) else { return };
        let target = Target {
            subscription_id: subscription.subscription_id,
            department: subscription.department.clone(),
            url: subscription.url.clone(),
            replay: None,
        };
        let connected = Arc::new(AtomicBool::new(false));
        let _watch = self.health.watch(&name, connected.clone(), stop.clone());
        let _observe = self.clone().observe(name.clone(), stop.clone());
        let metrics = ConsumerMetrics::new(&name);
        let mut lanes = Lanes::observed(self.clone(), target, Some(metrics.clone()), stop.clone());
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
                let info = consumer.cached_info();
                metrics.pending(info.num_pending + u64::try_from(info.num_ack_pending).unwrap_or(0));
                connected.store(true, Ordering::SeqCst);
                lanes.feed(&consumer, None).await
            };
            if let Err(e) = pulled.await {
                connected.store(false, Ordering::SeqCst);
                tracing::warn!(subscription = %subscription.subscription_id, consumer = %name, error = %e, "webhook feed interrupted; pulling again");
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
        lanes.close().await;
    }

    /// Every [`OBSERVE_EVERY`] until `stop`: the consumer's events not yet
    /// acknowledged — waiting at JetStream and held by the lanes —
    /// as `yiciban_consumer_pending{consumer}`.
    fn observe(self: Arc<Self>, name: String, stop: CancellationToken) -> tokio_util::sync::DropGuard {
        let metrics = ConsumerMetrics::new(&name);
        let until = stop.child_token();
        let guard = until.clone().drop_guard();
        tokio::spawn(async move {
            loop {
                if let Ok(stream) = self.js.get_stream_no_info(self.subjects.stream_name()).await
                    && let Ok(info) = stream.consumer_info(&name).await
                {
                    metrics.pending(info.num_pending + u64::try_from(info.num_ack_pending).unwrap_or(0));
                }
                tokio::select! {
                    () = until.cancelled() => return,
                    () = tokio::time::sleep(OBSERVE_EVERY) => {}
                }
            }
        });
        guard
    }

    /// Starts a replay of the subscription's department from `from`: records
    /// it (replacing one under way), makes its consumer, and counts the
    /// events it will redeliver. The leader's feeds pick it up.
    pub async fn start_replay(
        &self,
        subscription: &SubscriptionRow,
        from: DateTime<Utc>,
    ) -> Result<ReplayRow, BoxError> {
        let mut stream = self.js.get_stream(self.subjects.stream_name()).await?;
        let last_sequence = stream.info().await?.state.last_sequence;
        let mut replay = ReplayRow {
            subscription_id: subscription.subscription_id,
            replay_id: Uuid::now_v7(),
            from_time: from,
            until_sequence: i64::try_from(last_sequence).unwrap_or(i64::MAX),
            events: 0,
            started_at: self.clock.now(),
        };
        self.repo.put_replay(&replay).await?;
        let counted = async {
            let mut consumer = self.replay_consumer(subscription, &replay).await?;
            Ok::<_, BoxError>(consumer.info().await?.num_pending)
        };
        match counted.await {
            Ok(events) => {
                replay.events = i64::try_from(events).unwrap_or(i64::MAX);
                self.repo.put_replay(&replay).await?;
                Ok(replay)
            }
            Err(e) => {
                let _ = self.repo.end_replay(replay.replay_id).await;
                Err(e)
            }
        }
    }

    /// The replay's consumer: its position kept while it lives (a restart
    /// resumes there), made from the replay's time otherwise.
    async fn replay_consumer(
        &self,
        subscription: &SubscriptionRow,
        replay: &ReplayRow,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, BoxError> {
        let name = replay_name(subscription).ok_or("the subscription has no slot")?;
        let config = pull::Config {
            name: Some(name.clone()),
            description: Some(replay.replay_id.to_string()),
            filter_subject: self.subjects.department_events(&subscription.department),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            max_ack_pending: self.settings.max_in_flight,
            deliver_policy: Self::start_time(replay.from_time)?,
            inactive_threshold: REPLAY_INACTIVE,
            ..Default::default()
        };
        self.own_consumer(&name, config).await
    }

    /// Runs a recorded replay until every event up to its end has been
    /// delivered or set aside (then ends it: row and consumer removed) or
    /// `stop` (the row stays: the next run resumes it). A replay another
    /// replaced or whose subscription went stops without touching the
    /// consumer.
    pub async fn run_replay(
        self: Arc<Self>,
        subscription: SubscriptionRow,
        replay: ReplayRow,
        stop: CancellationToken,
    ) {
        let Some(name) = replay_name(&subscription) else { return };
        let target = Target {
            subscription_id: subscription.subscription_id,
            department: subscription.department.clone(),
            url: subscription.url.clone(),
            replay: Some(replay.replay_id),
        };
        let mut lanes = Lanes::new(self.clone(), target, stop.clone());
        let until = Until { last_sequence: u64::try_from(replay.until_sequence).unwrap_or(0) };
        let mut finished = false;
        while !stop.is_cancelled() && !finished {
            let fed = async {
                match self.repo.replay(subscription.subscription_id).await? {
                    Some(now) if now.replay_id == replay.replay_id => {}
                    _ => {
                        stop.cancel();
                        return Ok(false);
                    }
                }
                let mut consumer = self.replay_consumer(&subscription, &replay).await?;
                let info: &jetstream::consumer::Info = consumer.info().await?;
                if replay_done(info, until) {
                    return Ok::<bool, BoxError>(true);
                }
                tokio::select! {
                    fed = lanes.feed(&consumer, Some(until)) => fed.map(|()| false),
                    () = self.replay_finished(&name, until) => Ok(true),
                }
            };
            match fed.await {
                Ok(done) => finished = done,
                Err(e) => {
                    tracing::warn!(replay = %replay.replay_id, error = %e, "replay interrupted; pulling again");
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        lanes.close().await;
        if !finished {
            return;
        }
        if let Err(e) = self.repo.end_replay(replay.replay_id).await {
            tracing::warn!(replay = %replay.replay_id, error = %e, "ending a finished replay; it will be run to its end again");
            return;
        }
        if let Ok(stream) = self.js.get_stream_no_info(self.subjects.stream_name()).await {
            let _ = stream.delete_consumer(&name).await;
        }
        tracing::info!(replay = %replay.replay_id, subscription = %subscription.subscription_id, "replay finished");
    }

    /// Returns once the replay consumer `name` says the replay is done
    /// (asked every second).
    async fn replay_finished(&self, name: &str, until: Until) {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(stream) = self.js.get_stream_no_info(self.subjects.stream_name()).await
                && let Ok(info) = stream.consumer_info(name).await
                && replay_done(&info, until)
            {
                return;
            }
        }
    }
}

/// Whether a replay's consumer has had everything up to the replay's end
/// acknowledged: nothing awaits an acknowledgement (or a redelivery), and
/// nothing is left or what was handed out reaches the end.
fn replay_done(info: &jetstream::consumer::Info, until: Until) -> bool {
    info.num_ack_pending == 0 && (info.num_pending == 0 || info.delivered.stream_sequence >= until.last_sequence)
}

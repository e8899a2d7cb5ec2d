//! The delivery of one feed (a subscription's live consumer, or a replay):
//! one lane per case. Messages arrive in stream order and queue behind
//! their case's lane, so each case's events are POSTed in order; lanes run
//! concurrently (POSTs bounded by the process-wide limiter), so one case's
//! failing event holds back that case only — until it is delivered or set
//! aside as a dead letter after the attempts or age allowed, when the case
//! moves on. Every message held (queued or being sent) is reported in
//! progress to JetStream; when the feed stops, those not finished are
//! `Nak`ed, in stream order, to come back at once to the next run.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use futures::StreamExt as _;
use prost::Message as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_metrics::{ConsumerMetrics, Outcome, WebhookMetrics};
use yiciban_proto::events::v1::EventEnvelope;

use crate::deliverer::Deliverer;
use crate::http::{Answer, Delivery};
use crate::repo::NewDeadLetter;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long one pull request waits for messages: also how long a stopping
/// feed takes at most to hand back what it was given.
pub const PULL_EXPIRES: Duration = Duration::from_secs(2);
/// Messages asked for by one pull request.
const PULL_BATCH: usize = 100;

/// Where a feed's events go.
#[derive(Debug, Clone)]
pub struct Target {
    pub subscription_id: Uuid,
    /// Its department (the metrics' label).
    pub department: String,
    pub url: String,
    /// Set for a replay: its requests say so.
    pub replay: Option<Uuid>,
}

/// When a replay's feed has handed over everything it was started for.
#[derive(Debug, Clone, Copy)]
pub struct Until {
    /// The stream's last sequence when the replay started.
    pub last_sequence: u64,
}

struct Shared {
    deliverer: Arc<Deliverer>,
    target: Target,
    metrics: WebhookMetrics,
    /// The live feed's consumer (its lag and outcomes); none for a replay.
    consumer: Option<ConsumerMetrics>,
    stop: CancellationToken,
    queues: Mutex<HashMap<String, VecDeque<jetstream::Message>>>,
    /// Every message not yet acknowledged, by stream sequence.
    held: Mutex<BTreeMap<u64, jetstream::Message>>,
}

/// The lanes of one feed.
pub struct Lanes {
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
    _progress: tokio_util::sync::DropGuard,
}

impl Lanes {
    /// Lanes delivering to `target` until `stop`.
    pub fn new(deliverer: Arc<Deliverer>, target: Target, stop: CancellationToken) -> Self {
        Self::observed(deliverer, target, None, stop)
    }

    /// Lanes of a live feed whose consumer's lag and outcomes `consumer`
    /// records.
    pub fn observed(
        deliverer: Arc<Deliverer>,
        target: Target,
        consumer: Option<ConsumerMetrics>,
        stop: CancellationToken,
    ) -> Self {
        let every = (deliverer.settings.ack_wait / 3).max(Duration::from_millis(100));
        let shared = Arc::new(Shared {
            deliverer,
            metrics: WebhookMetrics::new(&target.department),
            consumer,
            target,
            stop,
            queues: Mutex::new(HashMap::new()),
            held: Mutex::new(BTreeMap::new()),
        });
        let progress = CancellationToken::new();
        let (until, held) = (progress.clone(), shared.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = until.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                let messages: Vec<_> = lock(&held.held).values().cloned().collect();
                for message in messages {
                    let _ = message.ack_with(AckKind::Progress).await;
                }
            }
        });
        Lanes { shared, tasks: JoinSet::new(), _progress: progress.drop_guard() }
    }

    /// Pulls `consumer` in batches (each one pull request that ends by
    /// itself: [`PULL_EXPIRES`]) and takes the messages into their lanes
    /// until the feed stops (Ok) or the pull fails (Err: the caller pulls
    /// again; the lanes go on). When the feed stops mid-batch, the rest of
    /// the batch is held too, so that [`Lanes::close`] hands every message
    /// back in stream order and no pull request is left at the server to
    /// take them again. With `until` (a replay), a message stored after its
    /// last sequence is acknowledged without being sent: it is not the
    /// replay's, and the live feed delivers it.
    pub async fn feed(
        &mut self,
        consumer: &jetstream::consumer::PullConsumer,
        until: Option<Until>,
    ) -> Result<(), BoxError> {
        loop {
            if self.shared.stop.is_cancelled() {
                return Ok(());
            }
            let mut batch = consumer.fetch().max_messages(PULL_BATCH).expires(PULL_EXPIRES).messages().await?;
            let mut got = 0usize;
            while let Some(next) = batch.next().await {
                got += 1;
                let message = next?;
                let sequence = message.info().map(|i| i.stream_sequence).map_err(|e| e.to_string())?;
                if self.shared.stop.is_cancelled() {
                    lock(&self.shared.held).insert(sequence, message);
                    continue;
                }
                if until.is_some_and(|u| sequence > u.last_sequence) {
                    let _ = message.ack().await;
                    continue;
                }
                tracing::debug!(subscription = %self.shared.target.subscription_id, replay = ?self.shared.target.replay, sequence, "taken into a lane");
                self.dispatch(message, sequence);
                while self.tasks.try_join_next().is_some() {}
            }
            if got == 0 {
                // An empty batch may also mean the consumer is gone (its
                // stream deleted, an operator's clean-up): ask, and let
                // the caller make it again.
                consumer.get_info().await?;
            }
        }
    }

    fn dispatch(&mut self, message: jetstream::Message, sequence: u64) {
        // `<prefix>.evt.<department>.<source>.<case_id>.<EventType>.<partition>`
        // (no partition before ADR 0043): the case is the fifth token.
        let case = message.subject.split('.').nth(4).unwrap_or(message.subject.as_str()).to_owned();
        lock(&self.shared.held).insert(sequence, message.clone());
        let start = {
            let mut queues = lock(&self.shared.queues);
            let queue = queues.entry(case.clone()).or_default();
            queue.push_back(message);
            queue.len() == 1
        };
        if start {
            self.tasks.spawn(lane(self.shared.clone(), case));
        }
    }

    /// Waits until every lane has finished what it was handed (a replay's
    /// end), or the feed is stopped.
    pub async fn drain(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }

    /// Stops the lanes and `Nak`s what they still held, in stream order.
    pub async fn close(mut self) {
        self.shared.stop.cancel();
        self.drain().await;
        let held: Vec<_> = std::mem::take(&mut *lock(&self.shared.held)).into_values().collect();
        for message in held {
            let _ = message.ack_with(AckKind::Nak(None)).await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Delivers the queue of `case` in order until it is empty (or the feed stops).
async fn lane(shared: Arc<Shared>, case: String) {
    loop {
        let front = lock(&shared.queues).get(&case).and_then(|q| q.front().cloned());
        let Some(message) = front else { return };
        if !deliver(&shared, &message).await {
            return;
        }
        if let Ok(info) = message.info() {
            lock(&shared.held).remove(&info.stream_sequence);
        }
        let mut queues = lock(&shared.queues);
        if let Some(queue) = queues.get_mut(&case) {
            queue.pop_front();
            if queue.is_empty() {
                queues.remove(&case);
                return;
            }
        }
    }
}

/// Delivers one message, retrying with back-off, and acknowledges it once
/// delivered or recorded as a dead letter: true. False when the feed stopped
/// or the subscription is gone (the message is left unacknowledged).
async fn deliver(shared: &Shared, message: &jetstream::Message) -> bool {
    let d = &shared.deliverer;
    let target = &shared.target;
    let envelope = EventEnvelope::decode(message.payload.clone()).ok();
    let event_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
        .map(|v| v.as_str().to_owned())
        .or_else(|| envelope.as_ref().map(|e| e.event_id.clone()))
        .unwrap_or_default();
    let first_at = d.clock.now();
    let mut failed = 0u32;
    loop {
        // A replay replaced meanwhile (its consumer now the new replay's)
        // sends nothing more: what it holds goes back to the new one.
        if let Some(replay) = target.replay
            && !matches!(d.repo.replay(target.subscription_id).await, Ok(Some(now)) if now.replay_id == replay)
        {
            return false;
        }
        let secrets = match d.repo.secrets(target.subscription_id).await {
            Ok(Some(secrets)) => secrets,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "reading a subscription's secret; trying again");
                if !pause(&shared.stop, Duration::from_secs(1)).await {
                    return false;
                }
                continue;
            }
        };
        let delivery = Delivery {
            subscription_id: target.subscription_id,
            body: &message.payload,
            envelope: envelope.as_ref(),
            event_id: &event_id,
            attempt: failed + 1,
            replay: target.replay,
        };
        let answer = tokio::select! {
            () = shared.stop.cancelled() => return false,
            answer = async {
                let _permit = d.limiter.acquire().await;
                let now = d.clock.now();
                let started = std::time::Instant::now();
                let answer = crate::http::post(&d.http, &target.url, &secrets.at(now), &delivery, now).await;
                shared.metrics.attempted(matches!(answer, Answer::Delivered(_)), started.elapsed());
                answer
            } => answer,
        };
        let (status, error) = match answer {
            Answer::Delivered(_) => {
                let _ = message.ack().await;
                if let Some(consumer) = &shared.consumer {
                    consumer.handled(if failed == 0 { Outcome::Applied } else { Outcome::Retried });
                    if let Ok(info) = message.info() {
                        let now = d.clock.now().timestamp_nanos_opt().unwrap_or(0) as i128;
                        let lag = (now - info.published.unix_timestamp_nanos()).max(0);
                        consumer.lag(Duration::from_nanos(u64::try_from(lag).unwrap_or(u64::MAX)));
                    }
                }
                if let Err(e) = d.repo.delivered(target.subscription_id, d.clock.now()).await {
                    tracing::debug!(error = %e, "noting the delivery time");
                }
                return true;
            }
            Answer::Failed { status, error } => (status, error),
        };
        failed += 1;
        let age = (d.clock.now() - first_at).to_std().unwrap_or_default();
        if d.settings.backoff.exhausted(failed, age) {
            let dead = NewDeadLetter {
                subscription_id: target.subscription_id,
                event_id: event_id.clone(),
                case_id: envelope.as_ref().map(|e| e.case_id.clone()).unwrap_or_default(),
                event_type: envelope.as_ref().map(|e| e.event_type.clone()).unwrap_or_default(),
                replay: target.replay.is_some(),
                body: message.payload.to_vec(),
                last_status: status,
                last_error: error.chars().take(500).collect(),
                attempts: failed,
                first_attempt_at: first_at,
                last_attempt_at: d.clock.now(),
            };
            return set_aside(shared, message, &dead).await;
        }
        tracing::debug!(subscription = %target.subscription_id, event_id = %event_id, status, error = %error, attempt = failed, "not delivered; will retry");
        let delay = d.settings.backoff.delay(failed, rand::random::<f64>());
        if !pause(&shared.stop, delay).await {
            return false;
        }
    }
}

/// Records a dead letter (trying again while the database is away) and
/// acknowledges the message.
async fn set_aside(shared: &Shared, message: &jetstream::Message, dead: &NewDeadLetter) -> bool {
    loop {
        match shared.deliverer.repo.insert_dead_letter(dead).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, "recording a dead letter; trying again");
                if !pause(&shared.stop, Duration::from_secs(1)).await {
                    return false;
                }
            }
        }
    }
    tracing::warn!(
        subscription = %dead.subscription_id,
        event_id = %dead.event_id,
        case_id = %dead.case_id,
        attempts = dead.attempts,
        status = dead.last_status,
        error = %dead.last_error,
        "webhook not accepted; set aside as a dead letter"
    );
    shared.metrics.dead_lettered();
    if let Some(consumer) = &shared.consumer {
        consumer.handled(Outcome::Poisoned);
    }
    let _ = message.ack().await;
    true
}

/// Sleeps `for_how_long`; false if the feed stopped meanwhile.
async fn pause(stop: &CancellationToken, for_how_long: Duration) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(for_how_long) => true,
    }
}

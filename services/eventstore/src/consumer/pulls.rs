//! The pulls that feed a consumer: one task per durable JetStream consumer
//! it holds, all sending their messages to one channel, from which
//! [`Consumer::run_feed`] takes chunks. A partitioned feed's pulls follow the
//! replica's share of the partitions ([`super::members`]), re-read at every
//! heartbeat (ADR 0043).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, context::ConsumerInfoErrorKind};
use futures::StreamExt as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::members::{self, HEARTBEAT, Members};
use super::{Consumer, Feed, Handler};
use crate::error::ConsumerError;
use crate::subjects::Slot;

/// Messages taken from the channel at once: a projection's chunk.
const CHUNK: usize = 512;

/// Heartbeats between two looks for a consumer of the unpartitioned
/// subjects to adopt (about a minute).
const ADOPT_EVERY: u32 = 30;

/// One pull's state.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PullState {
    /// Its pull is set up.
    up: bool,
    /// Messages its durable consumer last said were pending.
    pending: u64,
}

/// A durable JetStream consumer one of the pulls reads.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Durable {
    name: String,
    filter: String,
    /// Created when absent (the unpartitioned slot's is only ever adopted).
    create: bool,
}

/// The running pulls, by durable consumer.
type Running = HashMap<String, (CancellationToken, tokio::task::JoinHandle<()>)>;

impl<H: Handler> Consumer<H> {
    /// Pulls and applies messages until `shutdown`.
    pub(super) async fn run_feed(self: Arc<Self>, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        let (tx, mut rx) = mpsc::channel(CHUNK * 2);
        let stop = shutdown.child_token();
        let _stop = stop.clone().drop_guard();
        let share = tokio::spawn(self.clone().share(tx, stop.clone()));
        loop {
            let mut chunk = Vec::with_capacity(CHUNK);
            let got = tokio::select! {
                () = shutdown.cancelled() => break,
                got = rx.recv_many(&mut chunk, CHUNK) => got,
            };
            if got == 0 {
                break;
            }
            self.handle_chunk(chunk).await;
        }
        stop.cancel();
        let _ = share.await;
        Ok(())
    }

    /// Keeps the pulls this replica should run going until `stop`: the one
    /// durable consumer of a [`Feed::Subject`], or the replica's share of a
    /// [`Feed::Partitioned`] one's, re-read at every heartbeat; on `stop`
    /// leaves the members, so that the others take its share at once.
    async fn share(self: Arc<Self>, tx: mpsc::Sender<jetstream::Message>, stop: CancellationToken) {
        let mut running = Running::new();
        match self.settings.feed.clone() {
            Feed::Subject(filter) => {
                let durable = Durable { name: self.settings.name.clone(), filter, create: true };
                self.set_pulls(&mut running, vec![durable], &tx);
                stop.cancelled().await;
            }
            Feed::Partitioned { subjects, source } => {
                let members = Members::new(self.pool.clone(), &self.schema, &self.settings.name);
                let (mut unpartitioned, mut adopted_at) = (false, None::<u32>);
                let mut tick = tokio::time::interval(HEARTBEAT);
                for beat in 0u32.. {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        _ = tick.tick() => {}
                    }
                    if adopted_at.is_none_or(|at| beat - at >= ADOPT_EVERY) {
                        match self.adopt_unpartitioned(&subjects, source.as_deref()).await {
                            Ok(found) => (unpartitioned, adopted_at) = (found, Some(beat)),
                            Err(e) => tracing::warn!(consumer = %self.settings.name, error = %e,
                                "could not look for the consumer of the unpartitioned subjects; will retry"),
                        }
                    }
                    let live = match members.beat().await {
                        Ok(live) => live,
                        Err(e) => {
                            // Keeps pulling what it pulls: the others see it
                            // alive or not, and a partition pulled twice is harmless.
                            tracing::warn!(consumer = %self.settings.name, error = %e,
                                "could not tell the other replicas this one is alive; will retry");
                            continue;
                        }
                    };
                    let durables = members::assignment(&live, members.me(), unpartitioned)
                        .into_iter()
                        .map(|slot| Durable {
                            name: slot.durable_name(&self.settings.name),
                            filter: subjects.slot_events(source.as_deref(), slot),
                            create: slot != Slot::Unpartitioned,
                        })
                        .collect();
                    self.set_pulls(&mut running, durables, &tx);
                }
                members.leave().await;
            }
        }
        self.set_pulls(&mut running, Vec::new(), &tx);
    }

    /// Stops the pulls not in `wanted` and starts those not running.
    fn set_pulls(self: &Arc<Self>, running: &mut Running, wanted: Vec<Durable>, tx: &mpsc::Sender<jetstream::Message>) {
        let names: Vec<&str> = wanted.iter().map(|d| d.name.as_str()).collect();
        let stopped: Vec<String> = running.keys().filter(|n| !names.contains(&n.as_str())).cloned().collect();
        for name in stopped {
            if let Some((stop, _)) = running.remove(&name) {
                stop.cancel();
            }
            self.pulls_state().remove(&name);
            tracing::info!(consumer = %self.settings.name, durable = %name, "no longer pulled by this replica");
        }
        for durable in wanted {
            if running.contains_key(&durable.name) {
                continue;
            }
            self.pulls_state().insert(durable.name.clone(), PullState::default());
            let stop = CancellationToken::new();
            let task = tokio::spawn(self.clone().pull(durable.clone(), tx.clone(), stop.clone()));
            tracing::info!(consumer = %self.settings.name, durable = %durable.name, "pulled by this replica");
            running.insert(durable.name, (stop, task));
        }
        self.update_connected();
    }

    /// Sends the messages of `durable` to `tx` until `stop`, setting the
    /// pull up again a second after it fails.
    async fn pull(self: Arc<Self>, durable: Durable, tx: mpsc::Sender<jetstream::Message>, stop: CancellationToken) {
        loop {
            match self.open(&durable).await {
                Ok(mut messages) => {
                    self.set_up(&durable.name, true);
                    let error = loop {
                        let next = tokio::select! {
                            () = stop.cancelled() => return,
                            next = messages.next() => next,
                        };
                        let message = match next {
                            Some(Ok(message)) => message,
                            Some(Err(e)) => break self.js_err("receiving a message")(e.into()),
                            None => break self.js_err("message stream ended")("the server closed the pull".into()),
                        };
                        tokio::select! {
                            () = stop.cancelled() => return,
                            sent = tx.send(message) => {
                                if sent.is_err() {
                                    return;
                                }
                            }
                        }
                    };
                    tracing::warn!(consumer = %durable.name, error = %error, "consumer interrupted; reconnecting");
                }
                Err(e) => tracing::warn!(consumer = %durable.name, error = %e, "consumer interrupted; reconnecting"),
            }
            self.set_up(&durable.name, false);
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// The configuration of the durable consumer `name` on `filter`.
    fn pull_config(&self, name: &str, filter: &str) -> pull::Config {
        pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: filter.to_owned(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            max_ack_pending: 20_000,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        }
    }

    /// Sets up the pull of `durable` (created first when absent and allowed).
    async fn open(&self, durable: &Durable) -> Result<pull::Stream, ConsumerError> {
        let stream = self
            .js
            .get_stream(&self.settings.stream)
            .await
            .map_err(|e| self.js_err("looking up the stream")(e.into()))?;
        let consumer: jetstream::consumer::PullConsumer = match durable.create {
            true => stream
                .get_or_create_consumer(&durable.name, self.pull_config(&durable.name, &durable.filter))
                .await
                .map_err(|e| self.js_err("creating the durable consumer")(e.into()))?,
            false => stream
                .get_consumer(&durable.name)
                .await
                .map_err(|e| self.js_err("looking up the durable consumer")(e))?,
        };
        consumer.messages().await.map_err(|e| self.js_err("pulling messages")(e.into()))
    }

    /// A deployment upgraded from unpartitioned subjects has this consumer's
    /// durable JetStream consumer of them, named as the consumer itself: it
    /// is replaced by `<name>-unpartitioned`, on the old subjects only
    /// (which no new event is published on), from the first message the old
    /// one had not acknowledged; messages it acknowledged out of order come
    /// again and are skipped as duplicates. Returns whether the
    /// unpartitioned consumer exists (it is drained then, by one replica).
    async fn adopt_unpartitioned(
        &self,
        subjects: &crate::Subjects,
        source: Option<&str>,
    ) -> Result<bool, ConsumerError> {
        let stream = self
            .js
            .get_stream(&self.settings.stream)
            .await
            .map_err(|e| self.js_err("looking up the stream")(e.into()))?;
        let name = Slot::Unpartitioned.durable_name(&self.settings.name);
        match stream.consumer_info(&self.settings.name).await {
            Ok(old) => {
                let start_sequence = old.ack_floor.stream_sequence + 1;
                let config = pull::Config {
                    deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence },
                    ..self.pull_config(&name, &subjects.slot_events(source, Slot::Unpartitioned))
                };
                stream
                    .get_or_create_consumer(&name, config)
                    .await
                    .map_err(|e| self.js_err("creating the consumer of the unpartitioned subjects")(e.into()))?;
                match stream.delete_consumer(&self.settings.name).await {
                    Ok(_) => tracing::warn!(consumer = %self.settings.name, durable = %name, start_sequence,
                        "the consumer of the unpartitioned subjects replaced by one of the old subjects only"),
                    // Another replica deleted it first.
                    Err(e) => tracing::debug!(consumer = %self.settings.name, error = %e, "old consumer not deleted"),
                }
                Ok(true)
            }
            Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => match stream.consumer_info(&name).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => Ok(false),
                Err(e) => Err(self.js_err("looking for the consumer of the unpartitioned subjects")(e.into())),
            },
            Err(e) => Err(self.js_err("looking for a consumer of the unpartitioned subjects")(e.into())),
        }
    }

    /// Messages its durable JetStream consumers have not yet delivered or
    /// have delivered and not seen acknowledged (consumer lag): of every
    /// partition, whichever replica pulls it.
    pub async fn pending(&self) -> Result<u64, ConsumerError> {
        let stream = self
            .js
            .get_stream(&self.settings.stream)
            .await
            .map_err(|e| self.js_err("looking up the stream")(e.into()))?;
        let names: Vec<String> = match &self.settings.feed {
            Feed::Subject(_) => vec![self.settings.name.clone()],
            Feed::Partitioned { .. } => Slot::all().map(|slot| slot.durable_name(&self.settings.name)).collect(),
        };
        let mut pending = 0;
        for name in names {
            match stream.consumer_info(&name).await {
                Ok(info) => pending += info.num_pending + info.num_ack_pending as u64,
                Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => {}
                Err(e) => return Err(self.js_err("reading consumer info")(e.into())),
            }
        }
        Ok(pending)
    }

    fn pulls_state(&self) -> std::sync::MutexGuard<'_, HashMap<String, PullState>> {
        self.pulls.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_up(&self, durable: &str, up: bool) {
        if let Some(state) = self.pulls_state().get_mut(durable) {
            state.up = up;
        }
        self.update_connected();
    }

    /// Connected: every pull it should run is set up.
    fn update_connected(&self) {
        let all_up = self.pulls_state().values().all(|s| s.up);
        self.connected.store(all_up, std::sync::atomic::Ordering::SeqCst);
    }

    /// Notes what `durable` said is pending; returns the sum over its pulls.
    pub(super) fn note_pending(&self, durable: &str, pending: u64) -> u64 {
        let mut pulls = self.pulls_state();
        if let Some(state) = pulls.get_mut(durable) {
            state.pending = pending;
        }
        pulls.values().map(|s| s.pending).sum()
    }
}

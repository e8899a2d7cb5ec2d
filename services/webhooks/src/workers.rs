//! Which feeds run: one live feed per active subscription, started, stopped
//! and restarted (after a change of URL or secret) to match the table
//! ([`Workers::sync`], after every change and every few seconds), and the
//! replays under way. The service runs as one replica: two processes
//! pulling one durable consumer would break the order per case.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::deliverer::{Deliverer, Replay};
use crate::repo::SubscriptionRow;

/// How often the running feeds are matched with the table.
const SYNC_EVERY: Duration = Duration::from_secs(5);

struct Running {
    revision: i64,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The feeds of the process.
pub struct Workers {
    deliverer: Arc<Deliverer>,
    root: CancellationToken,
    live: Mutex<HashMap<Uuid, Running>>,
    replays: Mutex<Vec<(Uuid, Running)>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").finish_non_exhaustive()
    }
}

impl Workers {
    pub fn new(deliverer: Arc<Deliverer>) -> Self {
        Workers {
            deliverer,
            root: CancellationToken::new(),
            live: Mutex::new(HashMap::new()),
            replays: Mutex::new(Vec::new()),
        }
    }

    /// The shared delivery parts.
    pub fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }

    /// Starts a feed for every active subscription without one, restarts
    /// those whose subscription changed, stops those paused or deleted.
    pub async fn sync(&self) -> Result<(), sqlx::Error> {
        let active: HashMap<Uuid, SubscriptionRow> =
            self.deliverer.repo.active().await?.into_iter().map(|s| (s.subscription_id, s)).collect();
        let mut live = self.live.lock().await;
        let stale: Vec<Uuid> = live
            .iter()
            .filter(|(id, r)| active.get(id).is_none_or(|s| s.revision != r.revision) || r.task.is_finished())
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(running) = live.remove(&id) {
                running.stop.cancel();
                let _ = running.task.await;
            }
        }
        if self.root.is_cancelled() {
            return Ok(());
        }
        for (id, subscription) in active {
            if live.contains_key(&id) {
                continue;
            }
            let stop = self.root.child_token();
            let revision = subscription.revision;
            let task = tokio::spawn(self.deliverer.clone().run_live(subscription, stop.clone()));
            live.insert(id, Running { revision, stop, task });
        }
        Ok(())
    }

    /// Runs a prepared replay beside the live feed.
    pub async fn start_replay(&self, subscription: SubscriptionRow, replay: Replay) {
        let mut replays = self.replays.lock().await;
        replays.retain(|(_, r)| !r.task.is_finished());
        let stop = self.root.child_token();
        let id = subscription.subscription_id;
        let task = tokio::spawn(self.deliverer.clone().run_replay(subscription, replay, stop.clone()));
        replays.push((id, Running { revision: 0, stop, task }));
    }

    /// Stops the subscription's replays (it was paused or deleted).
    pub async fn stop_replays(&self, subscription: Uuid) {
        let mut replays = self.replays.lock().await;
        let (stopping, keep): (Vec<_>, Vec<_>) = replays.drain(..).partition(|(id, _)| *id == subscription);
        *replays = keep;
        drop(replays);
        for (_, running) in stopping {
            running.stop.cancel();
            let _ = running.task.await;
        }
    }

    /// Keeps the feeds matched with the table until `shutdown`, then stops
    /// them all (what they held comes back to the next run).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        loop {
            if let Err(e) = self.sync().await {
                tracing::warn!(error = %e, "matching the webhook feeds with the subscriptions");
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(SYNC_EVERY) => {}
            }
        }
        self.root.cancel();
        let live: Vec<_> = self.live.lock().await.drain().map(|(_, r)| r).collect();
        let replays: Vec<_> = self.replays.lock().await.drain(..).map(|(_, r)| r).collect();
        for running in live.into_iter().chain(replays) {
            let _ = running.task.await;
        }
        Ok(())
    }
}

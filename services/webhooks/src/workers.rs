//! Which feeds run: one live feed per active subscription, started, stopped
//! and restarted (after a change of URL or secret) to match the table
//! ([`Workers::sync`], after every change and every few seconds), and one
//! replay per subscription that has one recorded (resumed after a restart;
//! a replay that replaced another restarts its feed). Replicas may run side
//! by side: only the one holding a Postgres advisory lock runs the feeds
//! (two processes pulling one consumer would break the order per case);
//! the others serve the API and stand by, and one of them takes over within
//! seconds of the holder's end. A change made through a standing-by replica
//! reaches the feeds at the holder's next sync.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Connection as _;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::deliverer::Deliverer;
use crate::repo::{ReplayRow, SubscriptionRow};

/// How often the running feeds are matched with the table.
const SYNC_EVERY: Duration = Duration::from_secs(5);

struct Running {
    revision: i64,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

struct RunningReplay {
    /// The subscription's revision and the replay it runs.
    key: (i64, Uuid),
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The feeds of the process.
pub struct Workers {
    deliverer: Arc<Deliverer>,
    root: CancellationToken,
    live: Mutex<HashMap<Uuid, Running>>,
    replays: Mutex<HashMap<Uuid, RunningReplay>>,
    /// Whether this process holds the feeds' lock.
    leading: AtomicBool,
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
            replays: Mutex::new(HashMap::new()),
            leading: AtomicBool::new(false),
        }
    }

    /// The shared delivery parts.
    pub fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }

    /// Starts a feed for every active subscription without one, restarts
    /// those whose subscription changed, stops those paused or deleted; the
    /// same for the replays recorded.
    pub async fn sync(&self) -> Result<(), sqlx::Error> {
        if !self.leading.load(Ordering::SeqCst) {
            return Ok(());
        }
        let active: HashMap<Uuid, SubscriptionRow> =
            self.deliverer.repo.active().await?.into_iter().map(|s| (s.subscription_id, s)).collect();
        let replays: HashMap<Uuid, ReplayRow> =
            self.deliverer.repo.active_replays().await?.into_iter().map(|r| (r.subscription_id, r)).collect();
        self.sync_live(&active).await;
        self.sync_replays(&active, replays).await;
        Ok(())
    }

    async fn sync_live(&self, active: &HashMap<Uuid, SubscriptionRow>) {
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
            return;
        }
        for (id, subscription) in active {
            if live.contains_key(id) {
                continue;
            }
            let stop = self.root.child_token();
            let revision = subscription.revision;
            let task = tokio::spawn(self.deliverer.clone().run_live(subscription.clone(), stop.clone()));
            live.insert(*id, Running { revision, stop, task });
        }
    }

    async fn sync_replays(&self, active: &HashMap<Uuid, SubscriptionRow>, recorded: HashMap<Uuid, ReplayRow>) {
        let mut replays = self.replays.lock().await;
        let key = |id: &Uuid| Some((active.get(id)?.revision, recorded.get(id)?.replay_id));
        let stale: Vec<Uuid> = replays
            .iter()
            .filter(|(id, r)| key(id) != Some(r.key) || r.task.is_finished())
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(running) = replays.remove(&id) {
                running.stop.cancel();
                let _ = running.task.await;
            }
        }
        if self.root.is_cancelled() {
            return;
        }
        for (id, replay) in recorded {
            let Some(subscription) = active.get(&id) else { continue };
            if replays.contains_key(&id) {
                continue;
            }
            let stop = self.root.child_token();
            let key = (subscription.revision, replay.replay_id);
            let task = tokio::spawn(self.deliverer.clone().run_replay(subscription.clone(), replay, stop.clone()));
            replays.insert(id, RunningReplay { key, stop, task });
        }
    }

    /// Stops the replay this process runs for `subscription`, if any (it
    /// is being replaced: what it holds goes back before the consumer is
    /// made anew).
    pub async fn stop_replay(&self, subscription: Uuid) {
        let running = self.replays.lock().await.remove(&subscription);
        if let Some(running) = running {
            running.stop.cancel();
            let _ = running.task.await;
        }
    }

    /// Until `shutdown`: takes the feeds' lock (standing by while another
    /// replica holds it), then keeps the feeds matched with the table while
    /// the lock's connection lives; at the end stops them all (what they
    /// held comes back to the next run).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        while !shutdown.is_cancelled() {
            match self.lead(&shutdown).await {
                Ok(()) => {}
                Err(e) => tracing::warn!(error = %e, "the webhook feeds' lock was lost or not taken; trying again"),
            }
            self.leading.store(false, Ordering::SeqCst);
            self.stop_all().await;
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
        self.root.cancel();
        self.stop_all().await;
        Ok(())
    }

    /// Holds the lock and syncs until `shutdown` (Ok) or the lock's
    /// connection fails (Err); Ok at once when another replica holds it.
    async fn lead(&self, shutdown: &CancellationToken) -> Result<(), sqlx::Error> {
        let options = self.deliverer.repo.connect_options();
        let mut lock = sqlx::PgConnection::connect_with(&options).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
            .bind(format!("yiciban-webhook-feeds-{}", self.deliverer.repo.schema()))
            .fetch_one(&mut lock)
            .await?;
        if !got {
            return Ok(());
        }
        tracing::info!("webhook feeds active in this replica");
        self.leading.store(true, Ordering::SeqCst);
        loop {
            if let Err(e) = self.sync().await {
                tracing::warn!(error = %e, "matching the webhook feeds with the subscriptions");
            }
            tokio::select! {
                () = shutdown.cancelled() => {
                    // Everything held goes back before the lock does: the
                    // next holder pulls only after it, in stream order.
                    self.leading.store(false, Ordering::SeqCst);
                    self.stop_all().await;
                    return Ok(());
                }
                () = tokio::time::sleep(SYNC_EVERY) => {}
            }
            lock.ping().await?;
        }
    }

    async fn stop_all(&self) {
        let live: Vec<_> = self.live.lock().await.drain().map(|(_, r)| (r.stop, r.task)).collect();
        let replays: Vec<_> = self.replays.lock().await.drain().map(|(_, r)| (r.stop, r.task)).collect();
        for (stop, task) in live.into_iter().chain(replays) {
            stop.cancel();
            let _ = task.await;
        }
    }
}

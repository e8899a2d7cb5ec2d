//! The feeds' health entries, as the platform reports its consumers':
//! `yiciban.webhooks.consumer.<name>` per live feed, SERVING while it pulls
//! and NOT_SERVING once it has been without its pull past the alert
//! threshold (NATS away, its consumer refused — a department the NATS
//! permission does not list); removed when the feed stops (its subscription
//! paused or deleted). Not the overall status the probes read: a NATS outage
//! must not restart pods that keep serving the API.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::{CancellationToken, DropGuard};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Where the feeds report.
#[derive(Clone)]
pub struct FeedHealth {
    reporter: HealthReporter,
    alert_after: Duration,
}

impl std::fmt::Debug for FeedHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHealth").field("alert_after", &self.alert_after).finish_non_exhaustive()
    }
}

impl FeedHealth {
    /// Entries in `reporter`, NOT_SERVING after `alert_after` without a pull.
    pub fn new(reporter: HealthReporter, alert_after: Duration) -> Self {
        FeedHealth { reporter, alert_after }
    }

    /// The entry of the consumer `name`.
    pub fn entry(name: &str) -> String {
        format!("yiciban.webhooks.consumer.{name}")
    }

    /// Watches `connected` until `stop` or the guard's drop, then removes
    /// the entry.
    pub fn watch(&self, name: &str, connected: Arc<AtomicBool>, stop: CancellationToken) -> DropGuard {
        let (mut reporter, alert_after, entry) = (self.reporter.clone(), self.alert_after, Self::entry(name));
        let until = stop.child_token();
        let guard = until.clone().drop_guard();
        tokio::spawn(async move {
            reporter.set_service_status(&entry, ServingStatus::Serving).await;
            let (mut lost_at, mut reported) = (None::<tokio::time::Instant>, false);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    () = until.cancelled() => break,
                    _ = tick.tick() => {}
                }
                if connected.load(Ordering::SeqCst) {
                    lost_at = None;
                    if reported {
                        reported = false;
                        reporter.set_service_status(&entry, ServingStatus::Serving).await;
                    }
                    continue;
                }
                let since = *lost_at.get_or_insert_with(tokio::time::Instant::now);
                if !reported && since.elapsed() >= alert_after {
                    reported = true;
                    tracing::error!(entry = %entry, for_how_long = ?since.elapsed(), "webhook feed without its pull past its alert threshold");
                    reporter.set_service_status(&entry, ServingStatus::NotServing).await;
                }
            }
            reporter.clear_service_status(&entry).await;
        });
        guard
    }
}

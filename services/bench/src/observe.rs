//! What the benchmark reads from the system's own database while and after
//! it runs: stored events, the outbox backlog, the projection lag of every
//! event, and a rebuild of the tracking read models.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::tracking::v1::{self as tracking, tracking_service_client::TrackingServiceClient};
use yiciban_testkit::TestIssuer;

/// The schemas holding an event store (each service's default schema).
pub const STORES: [&str; 4] = ["intake", "routing", "tasks", "issuance"];

// The statements over every store name the schemas of `STORES` as literals
// (SQL is a `&'static str` unless it goes through `yiciban_eventstore::sql`);
// a test checks that each names them all.

/// Events stored by every service.
const EVENTS_TOTAL: &str = "SELECT (SELECT count(*) FROM intake.events) + (SELECT count(*) FROM routing.events) \
     + (SELECT count(*) FROM tasks.events) + (SELECT count(*) FROM issuance.events)";

/// Projection lag in milliseconds of the events recorded in `[$1, $2)`.
const PROJECTION_LAG: &str = "SELECT (extract(epoch FROM t.projected_at - e.recorded_at) * 1000)::float8
     FROM (SELECT event_id::text AS key, recorded_at FROM intake.events WHERE recorded_at >= $1 AND recorded_at < $2
           UNION ALL
           SELECT event_id::text, recorded_at FROM routing.events WHERE recorded_at >= $1 AND recorded_at < $2
           UNION ALL
           SELECT event_id::text, recorded_at FROM tasks.events WHERE recorded_at >= $1 AND recorded_at < $2
           UNION ALL
           SELECT event_id::text, recorded_at FROM issuance.events WHERE recorded_at >= $1 AND recorded_at < $2) e
     JOIN tracking.timeline t ON t.event_key = e.key";

/// The outbox backlog of each store, in the order of `STORES`.
const BACKLOG: &str = "SELECT ARRAY[(SELECT count(*) FROM intake.outbox), (SELECT count(*) FROM routing.outbox), \
     (SELECT count(*) FROM tasks.outbox), (SELECT count(*) FROM issuance.outbox)]";

/// The average stored size of an event (payload and metadata) over every store.
pub const EVENT_SIZE: &str = "SELECT avg(length(payload) + length(metadata::text))::float8 FROM (
     SELECT payload, metadata FROM intake.events UNION ALL SELECT payload, metadata FROM routing.events
     UNION ALL SELECT payload, metadata FROM tasks.events UNION ALL SELECT payload, metadata FROM issuance.events) e";

/// Events stored by every service.
pub async fn events_total(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(EVENTS_TOTAL).fetch_one(pool).await?)
}

/// Events in the tracking timeline (each event once).
pub async fn projected_total(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM tracking.timeline").fetch_one(pool).await?)
}

/// Waits until tracking has projected every stored event.
pub async fn wait_projected(pool: &PgPool, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let (stored, projected) = (events_total(pool).await?, projected_total(pool).await?);
        if projected >= stored {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("tracking projected {projected} of {stored} events within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Projection lag of every event recorded in `[from, to)`: from the event's
/// insert into its store (`recorded_at`, taken inside the appending
/// transaction) to its timeline row's insert in tracking (`projected_at`,
/// inside the projecting transaction), in milliseconds.
pub async fn projection_lag(pool: &PgPool, from: DateTime<Utc>, to: DateTime<Utc>) -> anyhow::Result<Vec<f64>> {
    Ok(sqlx::query_scalar(PROJECTION_LAG).bind(from).bind(to).fetch_all(pool).await?)
}

/// The largest outbox backlog seen per store while sampling.
#[derive(Debug, Clone, Default)]
pub struct BacklogPeaks {
    pub per_store: Vec<(&'static str, i64)>,
    /// Largest sum over the stores at one sample.
    pub total: i64,
    pub samples: u64,
}

/// Samples every outbox every 50 ms until stopped.
pub struct BacklogSampler {
    peaks: Arc<Mutex<BacklogPeaks>>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for BacklogSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BacklogSampler(..)")
    }
}

impl BacklogSampler {
    pub fn start(pool: PgPool) -> BacklogSampler {
        let peaks = Arc::new(Mutex::new(BacklogPeaks {
            per_store: STORES.iter().map(|s| (*s, 0)).collect(),
            ..Default::default()
        }));
        let stop = CancellationToken::new();
        let (p, s) = (peaks.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !s.is_cancelled() {
                if let Ok(counts) = sqlx::query_scalar::<_, Vec<i64>>(BACKLOG).fetch_one(&pool).await {
                    let mut peaks = p.lock().expect("peaks lock");
                    for ((_, peak), n) in peaks.per_store.iter_mut().zip(&counts) {
                        *peak = (*peak).max(*n);
                    }
                    peaks.total = peaks.total.max(counts.iter().sum());
                    peaks.samples += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        BacklogSampler { peaks, stop, task }
    }

    /// Stops sampling and returns the peaks.
    pub async fn finish(self) -> BacklogPeaks {
        self.stop.cancel();
        let _ = self.task.await;
        self.peaks.lock().expect("peaks lock").clone()
    }
}

/// Keeps the planner's statistics of the benchmark's database current while
/// the load runs, as autovacuum keeps them on a running system: `ANALYZE`
/// once at the start and again every `every` until stopped. The services
/// cache their statements' plans per connection, and a plan made while a
/// table was nearly empty (a sequential scan) stays until the table is
/// analysed; a server with autovacuum off (the setting is in the report)
/// never does that by itself, and autovacuum may not within a short run.
pub struct Analyzer {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<u64>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer(..)")
    }
}

impl Analyzer {
    pub async fn start(pool: PgPool, every: Duration) -> anyhow::Result<Analyzer> {
        sqlx::query("ANALYZE").execute(&pool).await.context("ANALYZE")?;
        let stop = CancellationToken::new();
        let s = stop.clone();
        let task = tokio::spawn(async move {
            let mut passes = 1;
            loop {
                tokio::select! {
                    _ = s.cancelled() => return passes,
                    _ = tokio::time::sleep(every) => {}
                }
                match sqlx::query("ANALYZE").execute(&pool).await {
                    Ok(_) => passes += 1,
                    Err(e) => eprintln!("warning: ANALYZE during the run failed: {e}"),
                }
            }
        });
        Ok(Analyzer { stop, task })
    }

    /// Stops; returns how many passes ran.
    pub async fn finish(self) -> u64 {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// A rebuild of the tracking read models, timed.
#[derive(Debug, Clone, Copy)]
pub struct Rebuild {
    pub events: u64,
    pub seconds: f64,
}

/// Starts a rebuild of every tracking read model as an admin and follows it
/// to completion.
pub async fn rebuild(tracking_url: &str, issuer: &TestIssuer, run: &str) -> anyhow::Result<Rebuild> {
    let token = issuer.token(Role::Admin, "admin-bench", None, None);
    let channel = tonic::transport::Endpoint::from_shared(tracking_url.to_owned())?.connect().await?;
    let mut client = TrackingServiceClient::with_interceptor(channel, ClientAuth::new(Some(&token)));
    let clock = Instant::now();
    let started = client
        .start_rebuild(tracking::StartRebuildRequest {
            idempotency_key: format!("{run}-rebuild"),
            projection: "case_summary".into(),
        })
        .await
        .context("StartRebuild")?
        .into_inner();
    let progress = crate::progress::Progress::start("events rebuilt", None);
    loop {
        let p = client
            .get_rebuild_progress(tracking::GetRebuildProgressRequest { rebuild_id: started.rebuild_id.clone() })
            .await
            .context("GetRebuildProgress")?
            .into_inner();
        match p.state() {
            tracking::RebuildState::Completed => {
                progress.set(p.events_applied, p.events_total);
                progress.finish();
                let seconds = match (p.started_at, p.finished_at) {
                    (Some(s), Some(f)) => (f.seconds - s.seconds) as f64 + f64::from(f.nanos - s.nanos) / 1e9,
                    _ => clock.elapsed().as_secs_f64(),
                };
                return Ok(Rebuild { events: p.events_applied, seconds });
            }
            tracking::RebuildState::Failed => bail!("the rebuild failed: {}", p.error),
            _ => {
                progress.set(p.events_applied, p.events_total);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_over_every_store_name_each_store() {
        for store in STORES {
            for (name, sql) in
                [("EVENTS_TOTAL", EVENTS_TOTAL), ("PROJECTION_LAG", PROJECTION_LAG), ("EVENT_SIZE", EVENT_SIZE)]
            {
                assert!(sql.contains(&format!("{store}.events")), "{name} does not read {store}.events");
            }
        }
        let order: Vec<usize> =
            STORES.iter().map(|s| BACKLOG.find(&format!("{s}.outbox")).expect("every outbox")).collect();
        assert!(order.is_sorted(), "BACKLOG counts the outboxes in the order of STORES");
    }
}

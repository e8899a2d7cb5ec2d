//! The scheduled reconciliation of a service's store with JetStream
//! (`yiciban_eventstore::reconcile`): every hour for the last two hours, by
//! one replica at a time (an advisory lock per schema; the others skip that
//! round). The first round runs a minute after start.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use yiciban_eventstore::Relay;
use yiciban_eventstore::reconcile::IN_FLIGHT;

/// How often, and how far back.
const EVERY: Duration = Duration::from_secs(3600);
const WINDOW: Duration = Duration::from_secs(2 * 3600);
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// Runs until `shutdown`.
pub async fn run(relay: Relay, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut wait = FIRST_AFTER;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(wait) => {}
        }
        wait = EVERY;
        match round(&relay).await {
            Ok(Some(r)) if r.short_cases > 0 || r.stream_missing => {
                tracing::warn!(?r, "reconciliation repaired what JetStream lost");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "reconciliation failed; trying again next round"),
        }
    }
}

/// One round under the schema's reconciler lock; `None` when another
/// replica holds it.
async fn round(relay: &Relay) -> anyhow::Result<Option<yiciban_eventstore::reconcile::Reconciled>> {
    // A connection of its own, closed after the round (or when the round is
    // cancelled), so the session lock can never outlive it in the pool.
    let mut conn = relay.pool().acquire().await?.detach();
    let key = format!("yiciban-reconcile-{}", relay.schema());
    let got: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))").bind(&key).fetch_one(&mut conn).await?;
    if !got {
        return Ok(None);
    }
    let until = chrono::Utc::now() - chrono::Duration::from_std(IN_FLIGHT)?;
    let since = until - chrono::Duration::from_std(WINDOW)?;
    let result = relay.reconcile(since, until).await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext($1))").bind(&key).execute(&mut conn).await?;
    Ok(Some(result?))
}

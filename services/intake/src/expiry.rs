//! The deficiency deadline: a case accepted with deficiency (容缺) whose
//! material has not arrived by its deadline ends (终止). A periodic sweep finds
//! such cases in the case index and terminates each with an idempotency key
//! derived from the case, so a sweep that runs twice (two replicas, a
//! restart) terminates once.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Intake;

/// Runs the sweep every `every` until `shutdown`.
pub async fn run(intake: Arc<Intake>, every: Duration, shutdown: CancellationToken) {
    loop {
        match sweep(&intake).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(terminated = n, "deficiency deadlines expired"),
            Err(e) => tracing::warn!(error = %e, "deficiency sweep failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Terminates every open case whose deficiency deadline has passed; returns
/// how many it terminated now.
pub async fn sweep(intake: &Intake) -> anyhow::Result<usize> {
    let today = yiciban_calendar::date_in_china(intake.clock.now());
    let expired = crate::repo::expired_deficiencies(intake.store.pool(), intake.schema(), today).await?;
    let mut terminated = 0;
    for case_id in expired {
        if crate::commands::terminate_for_expired_deficiency(intake, case_id).await? {
            terminated += 1;
        }
    }
    Ok(terminated)
}

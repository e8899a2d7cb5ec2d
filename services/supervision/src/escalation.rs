//! The escalation sweep: an opinion unanswered past its working-day limit
//! gets ONE `OpinionEscalated`, raised through the same command path as the
//! RPCs. The rows say which opinions are due (unanswered, not escalated,
//! due before today); each escalation's idempotency key is
//! `escalate-<opinion>` in the system's namespace and the aggregate records
//! it only once, so sweeps that overlap (several replicas), repeat or catch
//! up after a restart escalate each opinion exactly once. The same job
//! flags the late monthly reports ([`crate::reports::deadline`]) and
//! erases contact data past its retention day.
//!
//! An opinion whose escalation fails is logged, counted
//! (`yiciban_sweep_failures_total{sweep="supervision-escalation"}`), left
//! due for the next sweep and passed over.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use uuid::Uuid;
use yiciban_commands::{Executed, Invocation, Target};
use yiciban_domain::supervision::OpinionCommand;
use yiciban_proto::supervision::v1 as pb;

use crate::{SWEEPER, Supervision, repo};

/// Opinions looked at per round.
const BATCH: i64 = 200;

/// Rounds per sweep at most.
const MAX_ROUNDS: usize = 50;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Escalations raised now.
    pub escalated: usize,
    /// Opinions whose escalation failed (retried by the next sweep).
    pub failed: usize,
}

/// Sweeps at start and then every `every`, until `shutdown`.
pub async fn run(state: Arc<Supervision>, every: Duration, shutdown: CancellationToken) {
    loop {
        let today = state.today();
        match sweep_once(&state, today).await {
            Ok(SweepReport { escalated: 0, failed: 0 }) => {}
            Ok(r) => tracing::info!(escalated = r.escalated, failed = r.failed, "overdue opinions escalated"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "escalation sweep failed; will retry"),
        }
        match crate::reports::deadline::sweep_once(&state, today).await {
            Ok(crate::reports::deadline::DeadlineReport { flagged: 0, failed: 0 }) => {}
            Ok(r) => tracing::info!(flagged = r.flagged, failed = r.failed, "late monthly reports flagged"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "report deadline sweep failed; will retry"),
        }
        match crate::contacts::purge(state.pool(), state.schema(), &state.keys, today).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(erased = n, "contact data past its retention erased"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "erasing contact data failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Escalates every opinion overdue on `today`.
pub async fn sweep_once(state: &Supervision, today: NaiveDate) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport::default();
    let mut failed: Vec<Uuid> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let due = repo::due_escalations(state.pool(), state.schema(), today, BATCH, &failed).await?;
        let round = due.len();
        for id in due {
            match escalate(state, id, today).await {
                Ok(true) => report.escalated += 1,
                Ok(false) => {}
                Err(e) => {
                    yiciban_metrics::Sweep::SupervisionEscalation.failed();
                    tracing::error!(opinion_id = %id, error = %format!("{e:#}"), "escalation failed; going on");
                    report.failed += 1;
                    failed.push(id);
                }
            }
        }
        if round < BATCH as usize {
            break;
        }
    }
    Ok(report)
}

/// Escalates one opinion; `false` when it was escalated before or no longer
/// awaits an answer.
async fn escalate(state: &Supervision, id: Uuid, today: NaiveDate) -> anyhow::Result<bool> {
    let invocation = Invocation::system(SWEEPER, format!("escalate-{id}"));
    let result = state
        .opinions
        .run(
            Target::Existing(id),
            &invocation,
            |_| Ok(OpinionCommand::Escalate { today }),
            // Nobody reads the sweep's answer: none is built.
            |_, _| pb::GetOpinionResponse::default(),
        )
        .await;
    match result {
        Ok(Executed::Done(_)) => Ok(true),
        Ok(Executed::Replayed(_) | Executed::Unchanged(_)) => Ok(false),
        Err(s) if matches!(s.code(), Code::FailedPrecondition | Code::NotFound) => {
            tracing::info!(opinion_id = %id, reason = s.message(), "escalation not raised");
            Ok(false)
        }
        Err(s) => Err(anyhow::anyhow!("escalating opinion {id}: {}", s.message())),
    }
}

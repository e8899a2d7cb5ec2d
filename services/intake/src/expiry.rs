//! The deficiency deadline: a case accepted with deficiency (容缺) whose
//! material has not arrived by its deadline ends (终止). A periodic sweep finds
//! such cases in the case index and terminates each with an idempotency key
//! derived from the case, so a sweep that runs twice (two replicas, a
//! restart) terminates once. The key lives in the system's namespace
//! (`system:deficiency-overdue-<case>`), which no client's key can reach.
//!
//! A case that cannot be terminated (its stream unreadable, the database
//! refusing it) is logged with its case id and the cause, counted
//! (`yiciban_sweep_failures_total{sweep="intake-deficiency"}`) and passed
//! over: every other overdue case still ends, and the next sweep tries it
//! again.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_commands::{Executed, Invocation, Target};
use yiciban_domain::intake::{Command, Terminate};

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
/// how many it terminated now. A case that fails is logged, counted and
/// passed over; only a failure to find the overdue cases at all is an error.
pub async fn sweep(intake: &Intake) -> anyhow::Result<usize> {
    let today = yiciban_calendar::date_in_china(intake.clock.now());
    let expired = crate::repo::expired_deficiencies(intake.pool(), intake.schema(), today).await?;
    let mut terminated = 0;
    for case_id in expired {
        match terminate_for_expired_deficiency(intake, case_id).await {
            Ok(true) => terminated += 1,
            Ok(false) => {}
            Err(e) => {
                yiciban_metrics::Sweep::IntakeDeficiency.failed();
                tracing::error!(
                    %case_id,
                    error = %format!("{e:#}"),
                    "an overdue case could not be terminated; going on with the other cases"
                );
            }
        }
    }
    Ok(terminated)
}

/// The subject recorded on the sweep's terminations.
pub const SWEEPER: &str = "intake-deficiency-sweep";

/// Ends a case whose deficiency deadline passed; `false` if another sweep
/// did it first or nothing is overdue any more.
pub async fn terminate_for_expired_deficiency(intake: &Intake, case_id: Uuid) -> anyhow::Result<bool> {
    let invocation = Invocation::system(SWEEPER, format!("deficiency-overdue-{case_id}"));
    let result = intake
        .applications
        .run(
            Target::Existing(case_id),
            &invocation,
            |loaded| Ok(Command::Terminate(Terminate::deficiency_overdue(loaded.now))),
            |after, _| yiciban_proto::intake::v1::TerminateCaseResponse { version: after.state.version },
        )
        .await;
    match result {
        Ok(Executed::Done(_)) => Ok(true),
        Ok(Executed::Replayed(_) | Executed::Unchanged(_)) => Ok(false),
        Err(s) if matches!(s.code(), tonic::Code::FailedPrecondition | tonic::Code::Aborted) => {
            tracing::info!(%case_id, reason = s.message(), "not terminated");
            Ok(false)
        }
        Err(s) => Err(anyhow::anyhow!("terminating case {case_id}: {}", s.message())),
    }
}

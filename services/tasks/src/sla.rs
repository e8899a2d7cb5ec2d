//! The SLA watcher: a durable timer per task (its yellow and red instants,
//! kept in the transaction of every append, NULL while the clock is stopped
//! or the level was raised) and a sweep that raises every warning due, yellow
//! before red, through the same command path as the RPCs. Each warning's
//! idempotency key is `warn-<task>-<level>` and the aggregate records a level
//! only once, so sweeps that overlap, repeat or catch up after a restart
//! raise each warning exactly once. The key lives in the system's namespace
//! (`system:warn-<task>-<level>`), which no client's key can reach.
//!
//! A task whose warning cannot be raised (its stream unreadable, the
//! database refusing it) is logged with its task and case and the cause,
//! counted (`yiciban_sweep_failures_total{sweep="tasks-sla"}`), left due for
//! the next sweep, and passed over: every other task's warning is still
//! raised.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{Executed, Invocation, Target};
use yiciban_domain::tasks::{Command, Warn, WarningLevel};
use yiciban_proto::tasks::v1 as pb;

use crate::Tasks;
use crate::commands::refresh_timers;
use crate::deadlines::{overdue_days, timers, working_days_used};
use crate::repo;

/// The subject recorded on warnings.
pub const WATCHER: &str = "tasks-sla-watcher";

/// Tasks looked at per sweep round.
const BATCH: i64 = 200;

/// Rounds of [`BATCH`] tasks per sweep at most.
const MAX_ROUNDS: usize = 50;

/// What one sweep raised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Yellow warnings raised now.
    pub yellow: usize,
    /// Red warnings (with escalation) raised now.
    pub red: usize,
    /// Tasks whose warnings could not be raised (left due, retried by the
    /// next sweep).
    pub failed: usize,
}

/// Sweeps at start (catching up after a restart) and then every `every`,
/// until `shutdown`.
pub async fn run(tasks: Arc<Tasks>, every: Duration, shutdown: CancellationToken) {
    loop {
        match sweep_once(&tasks, tasks.clock.now()).await {
            Ok(SweepReport { yellow: 0, red: 0, failed: 0 }) => {}
            Ok(r) if r.failed > 0 => {
                tracing::warn!(yellow = r.yellow, red = r.red, failed = r.failed, "task warnings raised, some failed")
            }
            Ok(r) => tracing::info!(yellow = r.yellow, red = r.red, "task warnings raised"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "SLA sweep failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Raises every warning due at `now`: for each task, yellow before red. A
/// task that fails is recorded and passed over; only a failure to read the
/// due timers at all ends the sweep early.
pub async fn sweep_once(tasks: &Tasks, now: DateTime<Utc>) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport::default();
    let mut failed: Vec<Uuid> = Vec::new();
    // Bounded, so a timer that keeps losing a race cannot hold the sweep.
    for _ in 0..MAX_ROUNDS {
        let due = repo::due_timers(tasks.pool(), tasks.schema(), now, BATCH, &failed).await?;
        let round = due.len();
        for timer in due {
            if let Err(e) = raise_due(tasks, &timer, now, &mut report).await {
                yiciban_metrics::Sweep::TaskSla.failed();
                tracing::error!(
                    task_id = %timer.task_id,
                    case_id = %timer.case_id,
                    error = %format!("{e:#}"),
                    "SLA warning could not be raised; going on with the other tasks"
                );
                report.failed += 1;
                failed.push(timer.task_id);
            }
        }
        // Every timer looked at is cleared, moved past `now` or skipped.
        if round < BATCH as usize {
            break;
        }
    }
    Ok(report)
}

/// Raises the warnings due on one task, yellow before red.
async fn raise_due(
    tasks: &Tasks,
    timer: &repo::DueTimer,
    now: DateTime<Utc>,
    report: &mut SweepReport,
) -> anyhow::Result<()> {
    if timer.yellow && raise(tasks, timer.task_id, timer.case_id, WarningLevel::Yellow, now).await? {
        report.yellow += 1;
        yiciban_metrics::TaskWarning::Yellow.raised();
    }
    if timer.red && raise(tasks, timer.task_id, timer.case_id, WarningLevel::Red, now).await? {
        report.red += 1;
        yiciban_metrics::TaskWarning::Red.raised();
    }
    Ok(())
}

/// Raises one warning; `false` when it was raised before or no longer
/// applies (the task closed or its clock stopped meanwhile).
async fn raise(
    tasks: &Tasks,
    task_id: Uuid,
    case_id: Uuid,
    level: WarningLevel,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let name = match level {
        WarningLevel::Yellow => "yellow",
        WarningLevel::Red => "red",
    };
    let key = format!("warn-{task_id}-{name}");
    let officer_id = if level == WarningLevel::Red { tasks.officers.officer_of(case_id).await } else { String::new() };
    let invocation = Invocation::system(WATCHER, key);
    let calendar = tasks.calendar.current();
    let share = tasks.warn_share;
    let result = tasks
        .runner
        .run(
            Target::Existing(task_id),
            &invocation,
            |loaded| {
                // A timer written on an older calendar may fire early: the
                // warning is raised only when it is due on the one in force.
                let (yellow_at, red_at) = timers(&loaded.state, share, &calendar);
                let due_at = if level == WarningLevel::Yellow { yellow_at } else { red_at };
                if due_at.is_none_or(|at| at > now) {
                    return Err(Status::failed_precondition("not due on the working-day calendar in force"));
                }
                let limit = loaded.state.created.as_ref().map_or(0, |c| c.promised_working_days);
                let (used, overdue) = loaded
                    .state
                    .clock
                    .as_ref()
                    .map(|c| (working_days_used(c, now, &calendar), overdue_days(c, limit, now, &calendar)))
                    .unwrap_or_default();
                Ok(Command::Warn(Warn {
                    level,
                    working_days_used: used,
                    overdue_working_days: overdue,
                    officer_id: officer_id.clone(),
                }))
            },
            // The recorded answer: the version after the warning, 0 = nothing new.
            |after, _| pb::ClaimTaskResponse { version: after.state.version },
        )
        .await;
    match result {
        Ok(Executed::Done(_)) => Ok(true),
        Ok(Executed::Replayed(_) | Executed::Unchanged(_)) => Ok(false),
        Err(s)
            if matches!(s.code(), tonic::Code::FailedPrecondition | tonic::Code::Aborted | tonic::Code::NotFound) =>
        {
            tracing::info!(%task_id, level = name, reason = s.message(), "warning not raised");
            // The timer must not stay due: rewrite it from the task as it is.
            if let Some(loaded) = tasks.runner.load(task_id).await.map_err(|s| anyhow::anyhow!("{}", s.message()))? {
                refresh_timers(tasks.runner.rows(), tasks.runner.store(), &loaded)
                    .await
                    .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            }
            Ok(false)
        }
        Err(s) => Err(anyhow::anyhow!("raising the {name} warning of task {task_id}: {}", s.message())),
    }
}

//! The closing back-fill: intake learns the closing day of each case from
//! the process manager (`issuance-handoff`, [`crate::process_manager`]),
//! which reads JetStream — 30 days of it. The cases closed before that
//! process manager existed were flagged by the migration that added it
//! (`closing_backfill_due`); this job tells intake each of them once
//! (`RecordCaseClosed`, harmless to repeat) and clears its flag, retrying
//! while intake is away. Replicas may run it side by side: a case told
//! twice changes nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::Cause;

use crate::Issuance;

/// How many flagged cases one pass reads.
const PASS: i64 = 500;
/// The pause before trying again after intake could not be told.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Tells intake about every flagged case, then returns (or at `shutdown`).
pub async fn run(issuance: Arc<Issuance>, shutdown: CancellationToken) {
    loop {
        match pass(&issuance).await {
            Ok(0) => return,
            Ok(n) => tracing::info!(told = n, "closings of older cases told to intake"),
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "the closing back-fill waits for intake; trying again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY_AFTER) => {}
                }
            }
        }
        if shutdown.is_cancelled() {
            return;
        }
    }
}

/// Tells intake about up to a pass of flagged cases; how many it cleared
/// (0: none left). A case intake does not know is cleared too (logged):
/// there is nobody to keep data of. Any other refusal stops the pass.
pub async fn pass(issuance: &Issuance) -> anyhow::Result<usize> {
    let flagged: Vec<(Uuid, NaiveDate)> = sqlx::query_as(schema_sql(
        issuance.schema(),
        "SELECT case_id, closed_on FROM {schema}.issuance_cases
          WHERE closing_backfill_due AND closed_on IS NOT NULL ORDER BY case_id LIMIT $1",
    ))
    .bind(PASS)
    .fetch_all(issuance.pool())
    .await?;
    let mut cleared = 0;
    for (case_id, closed_on) in flagged {
        let cause = Cause::origin(format!("closing-backfill-{case_id}"));
        let scans = crate::process_manager::window_materials(issuance.runner.store(), case_id).await?;
        match issuance.directory.record_case_closed(case_id, closed_on.into(), &scans, &cause).await {
            Ok(()) => {}
            Err(s) if s.code() == tonic::Code::NotFound => {
                tracing::warn!(%case_id, "intake does not know a closed case; nothing to tell");
            }
            Err(s) => anyhow::bail!("telling intake case {case_id} closed: {:?} {}", s.code(), s.message()),
        }
        sqlx::query(schema_sql(
            issuance.schema(),
            "UPDATE {schema}.issuance_cases SET closing_backfill_due = false WHERE case_id = $1",
        ))
        .bind(case_id)
        .execute(issuance.pool())
        .await?;
        cleared += 1;
    }
    Ok(cleared)
}

//! Sealing who collected at the window in the events written before it was
//! sealed (ADR 0031). A `PickedUp` stored before December 2026 holds the
//! collector's masked name, masked ID number and keyed hash in clear. At
//! every start issuance rewrites each such event in place, in batches, as
//! intake does with its applications (ADR 0024, `intake/src/legacy.rs`):
//!
//! - the applicant has a data key: the identity sealed under it, exactly as
//!   a new hand-out is sealed;
//! - the applicant has none (erased, or never known): the identity dropped,
//!   the kind kept.
//!
//! Each rewrite is a compare-and-set on the stored bytes, so replicas doing
//! it at once, or a run cut short and done again, rewrite each event once.
//! The position reached is kept (`legacy_sealing`). The copies JetStream
//! still holds of the clear bytes are removed by `casectl ops stale-copies`
//! (runbook in docs/PRIVACY.md).

use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use sqlx::Row as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::Migrations;
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{collector_in_clear, seal_collector};

use crate::Issuance;

/// The position the rewrite has looked at up to.
pub const LEGACY_SEALING: Migrations = Migrations {
    component: "issuance-legacy-sealing",
    steps: &[(
        1,
        r#"
-- how far the sealing of hand-outs written in clear before sealing has looked
CREATE TABLE {schema}.legacy_sealing (
    singleton    BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    done_through BIGINT NOT NULL,
    sealed       BIGINT NOT NULL DEFAULT 0,
    stripped     BIGINT NOT NULL DEFAULT 0,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#,
    )],
};

/// Events read per batch.
const BATCH: i64 = 200;

/// The pause before trying again after a failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);

/// What one run rewrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// Sealed under the applicant's data key.
    pub sealed: u64,
    /// The identity dropped (the applicant has no data key).
    pub stripped: u64,
}

/// Runs the rewrite once at start, again after a failure (every `retry`)
/// until it completes or `shutdown`.
pub async fn run(issuance: Arc<Issuance>, retry: Duration, shutdown: CancellationToken) {
    loop {
        match seal_written_in_clear(&issuance).await {
            Ok(r) if r == Rewritten::default() => return,
            Ok(r) => {
                tracing::warn!(
                    sealed = r.sealed,
                    stripped = r.stripped,
                    "hand-outs written in clear before sealing were rewritten in the ledger; \
                     remove JetStream's copies: casectl ops stale-copies"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "sealing the hand-outs written in clear failed; will retry")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(retry) => {}
        }
    }
}

/// Rewrites every `PickedUp` stored in clear since the position reached
/// before; returns what this run rewrote.
pub async fn seal_written_in_clear(issuance: &Issuance) -> anyhow::Result<Rewritten> {
    let (schema, pool) = (issuance.schema(), issuance.pool());
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.legacy_sealing (done_through) VALUES (0) ON CONFLICT (singleton) DO NOTHING",
    ))
    .execute(pool)
    .await?;
    let mut done_through: i64 =
        sqlx::query_scalar(schema_sql(schema, "SELECT done_through FROM {schema}.legacy_sealing"))
            .fetch_one(pool)
            .await?;
    let mut total = Rewritten::default();
    loop {
        // The applicant's subject and the case number from the case's read
        // row (every hand-out's case has one: it is written with the event).
        let rows = sqlx::query(schema_sql(
            schema,
            "SELECT e.position, e.event_id, e.payload, c.applicant_hmac, c.case_number
               FROM {schema}.events e LEFT JOIN {schema}.issuance_cases c ON c.case_id = e.case_id
              WHERE e.position > $1 AND e.event_type = 'PickedUp' ORDER BY e.position LIMIT $2",
        ))
        .bind(done_through)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.get::<i64, _>("position")) else { break };
        let mut batch = Rewritten::default();
        for row in &rows {
            let subject: Option<String> = row.get("applicant_hmac");
            let case_number: Option<String> = row.get("case_number");
            let stored = Stored {
                event_id: row.get("event_id"),
                payload: row.get("payload"),
                subject: subject.unwrap_or_default(),
                case_number: case_number.unwrap_or_default(),
            };
            match rewrite_one(issuance, &stored).await? {
                Some(true) => batch.sealed += 1,
                Some(false) => batch.stripped += 1,
                None => {}
            }
        }
        sqlx::query(schema_sql(
            schema,
            "UPDATE {schema}.legacy_sealing SET done_through = GREATEST(done_through, $1),
                    sealed = sealed + $2, stripped = stripped + $3, updated_at = now()",
        ))
        .bind(last)
        .bind(batch.sealed as i64)
        .bind(batch.stripped as i64)
        .execute(pool)
        .await?;
        done_through = last;
        total.sealed += batch.sealed;
        total.stripped += batch.stripped;
    }
    Ok(total)
}

/// One stored `PickedUp` and what its case's read row says.
struct Stored {
    event_id: Uuid,
    payload: Vec<u8>,
    /// The applicant's subject; empty when not known.
    subject: String,
    case_number: String,
}

/// Seals (`Some(true)`) or strips (`Some(false)`) one stored event if its
/// collector is in clear; `None` when it was sealed already, or another run
/// rewrote it first.
async fn rewrite_one(issuance: &Issuance, stored: &Stored) -> anyhow::Result<Option<bool>> {
    let Ok(mut event) = ev::PickedUp::decode(stored.payload.as_slice()) else {
        // Not this rewrite's to judge: the readers report an unreadable event.
        tracing::error!(event_id = %stored.event_id, "a PickedUp that does not decode is left as it is");
        return Ok(None);
    };
    let batch = event.batch_number;
    let Some(collector) = event.collector.as_mut().filter(|c| collector_in_clear(c)) else { return Ok(None) };
    let mut tx = issuance.pool().begin().await?;
    let key = match stored.subject.as_str() {
        "" => None,
        subject => issuance.runner.codec().data_keys.find_in(&mut tx, subject).await?,
    };
    let sealed = key.is_some();
    seal_collector(collector, &stored.subject, &stored.case_number, batch, key.as_ref().map(|k| k as _));
    let updated = sqlx::query(schema_sql(
        issuance.schema(),
        "UPDATE {schema}.events SET payload = $3 WHERE event_id = $1 AND payload = $2",
    ))
    .bind(stored.event_id)
    .bind(&stored.payload)
    .bind(event.encode_to_vec())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((updated.rows_affected() == 1).then_some(sealed))
}

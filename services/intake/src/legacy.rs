//! Sealing what was written before sealing (ADR 0024). An
//! `ApplicationSubmitted` stored before December 2026 holds the applicant's
//! personal data in clear; readers hide it once the person is erased, but
//! its bytes would stay in the ledger. At every start intake rewrites each
//! such event in place, in batches:
//!
//! - the applicant not erased: the personal part sealed under their first
//!   data key (generation 0, made if they have none), exactly as a new
//!   application is sealed;
//! - the applicant erased: the personal part dropped.
//!
//! Each rewrite is a compare-and-set on the stored bytes, so replicas doing
//! it at once, or a run cut short and done again, rewrite each event once.
//! The position reached is kept (`legacy_sealing`): a later start looks only
//! at events stored since — which still catches one written in clear by an
//! older replica during a rolling upgrade. The copies JetStream still holds
//! of the clear bytes are removed by `casectl ops stale-copies` (runbook in
//! docs/PRIVACY.md); backups age out with their retention.

use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use sqlx::Row as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::Migrations;
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{Opening, open_submitted, seal_submitted};

use crate::Intake;

/// The position the rewrite has looked at up to.
pub const LEGACY_SEALING: Migrations = Migrations {
    component: "intake-legacy-sealing",
    steps: &[(
        1,
        r#"
-- how far the sealing of events written in clear before sealing has looked
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

/// What one run rewrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// Sealed under the applicant's data key.
    pub sealed: u64,
    /// The personal part dropped (the applicant was erased).
    pub stripped: u64,
}

/// Runs the rewrite once at start, again after a failure (every `retry`)
/// until it completes or `shutdown`.
pub async fn run(intake: Arc<Intake>, retry: Duration, shutdown: CancellationToken) {
    loop {
        match seal_written_in_clear(&intake).await {
            Ok(r) if r == Rewritten::default() => return,
            Ok(r) => {
                tracing::warn!(
                    sealed = r.sealed,
                    stripped = r.stripped,
                    "applications written in clear before sealing were rewritten in the ledger; \
                     remove JetStream's copies: casectl ops stale-copies"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "sealing the applications written in clear failed; will retry")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(retry) => {}
        }
    }
}

/// Rewrites every `ApplicationSubmitted` stored in clear since the position
/// reached before; returns what this run rewrote.
pub async fn seal_written_in_clear(intake: &Intake) -> anyhow::Result<Rewritten> {
    let schema = intake.schema();
    let pool = intake.pool();
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
        let rows = sqlx::query(schema_sql(
            schema,
            "SELECT position, event_id, payload FROM {schema}.events
              WHERE position > $1 AND event_type = 'ApplicationSubmitted' ORDER BY position LIMIT $2",
        ))
        .bind(done_through)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.get::<i64, _>("position")) else { break };
        let mut batch = Rewritten::default();
        for row in &rows {
            let (event_id, payload): (Uuid, Vec<u8>) = (row.get("event_id"), row.get("payload"));
            match rewrite_one(intake, event_id, &payload).await? {
                Some(Outcome::Sealed) => batch.sealed += 1,
                Some(Outcome::Stripped) => batch.stripped += 1,
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

enum Outcome {
    Sealed,
    Stripped,
}

/// Seals (or strips) one stored event if it is in clear; `None` when it was
/// sealed already, holds no personal part, or another run rewrote it first.
async fn rewrite_one(intake: &Intake, event_id: Uuid, payload: &[u8]) -> anyhow::Result<Option<Outcome>> {
    let Ok(stored) = ev::ApplicationSubmitted::decode(payload) else {
        // Not this rewrite's to judge: the readers report an unreadable event.
        tracing::error!(%event_id, "an ApplicationSubmitted that does not decode is left as it is");
        return Ok(None);
    };
    let Some(applicant) = stored.applicant.as_ref().filter(|_| stored.sealed_personal_data.is_empty()) else {
        return Ok(None);
    };
    let codec = intake.applications.codec();
    let subject = codec.identity_key.lookup(&applicant.id_number);
    let mut tx = intake.pool().begin().await?;
    let (rewritten, outcome) = if codec.data_keys.is_erased_in(&mut tx, &subject).await? {
        let mut out = open_submitted(&stored, Opening::Erased)?;
        out.data_subject = subject;
        (out, Outcome::Stripped)
    } else {
        // Generation 0 is not erased, so it is the subject's current key.
        let key = codec.data_keys.key_for_in(&mut tx, &subject).await?;
        let mut out = stored.clone();
        seal_submitted(&mut out, &subject, &key);
        (out, Outcome::Sealed)
    };
    let updated = sqlx::query(schema_sql(
        intake.schema(),
        "UPDATE {schema}.events SET payload = $3 WHERE event_id = $1 AND payload = $2",
    ))
    .bind(event_id)
    .bind(payload)
    .bind(rewritten.encode_to_vec())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((updated.rows_affected() == 1).then_some(outcome))
}

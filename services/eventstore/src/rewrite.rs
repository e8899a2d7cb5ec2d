//! Rewriting stored events in place, each once (ADR 0024, 0031): the one
//! loop behind sealing what an older release wrote in clear. The events of
//! one type are read in batches from the position reached before (kept in
//! `legacy_sealing`, [`PROGRESS_TABLE`]); a [`Rewrite`] decides each one's
//! new bytes inside a transaction, and the event is replaced by a
//! compare-and-set on its stored bytes, so replicas rewriting at once, or a
//! run cut short and done again, rewrite each event once.

use std::error::Error as StdError;

use async_trait::async_trait;
use sqlx::{PgConnection, PgPool, Row as _};
use uuid::Uuid;

use crate::sql::schema_sql;

/// The position a rewrite has looked at up to, in the owning service's
/// schema (its migration step: `Migrations { component, steps: &[(1,
/// PROGRESS_TABLE)] }`).
pub const PROGRESS_TABLE: &str = r#"
-- how far the sealing of events written in clear before sealing has looked
CREATE TABLE {schema}.legacy_sealing (
    singleton    BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    done_through BIGINT NOT NULL,
    sealed       BIGINT NOT NULL DEFAULT 0,
    stripped     BIGINT NOT NULL DEFAULT 0,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#;

/// Events read per batch.
const BATCH: i64 = 200;

/// One stored event to look at.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub payload: Vec<u8>,
}

/// What a rewrite made of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its personal data sealed.
    Sealed,
    /// Its personal data dropped (nobody's key to seal it under).
    Stripped,
}

/// What one run rewrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewritten {
    pub sealed: u64,
    pub stripped: u64,
}

/// A failure of the rewriter's own, or of the database.
pub type RewriteError = Box<dyn StdError + Send + Sync>;

/// Decides the new bytes of one stored event.
#[async_trait]
pub trait Rewrite: Send + Sync {
    /// The new payload of `stored` and what it is, decided inside `tx`
    /// (which the replacement is then written in); `None` to leave it as it
    /// is (sealed already, nothing personal, or not readable: the readers
    /// report that).
    async fn rewrite(&self, tx: &mut PgConnection, stored: &Stored)
    -> Result<Option<(Vec<u8>, Outcome)>, RewriteError>;
}

/// Rewrites every event of `event_type` in `schema` stored since the
/// position reached before; what this run rewrote.
pub async fn rewrite_all(
    pool: &PgPool,
    schema: &str,
    event_type: &str,
    rewriter: &dyn Rewrite,
) -> Result<Rewritten, RewriteError> {
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
            "SELECT position, event_id, case_id, payload FROM {schema}.events
              WHERE position > $1 AND event_type = $2 ORDER BY position LIMIT $3",
        ))
        .bind(done_through)
        .bind(event_type)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.get::<i64, _>("position")) else { break };
        let mut batch = Rewritten::default();
        for row in &rows {
            let stored =
                Stored { event_id: row.get("event_id"), case_id: row.get("case_id"), payload: row.get("payload") };
            match rewrite_one(pool, schema, &stored, rewriter).await? {
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

/// Rewrites one event if the rewriter says so; `None` when it leaves it, or
/// another run rewrote it first.
async fn rewrite_one(
    pool: &PgPool,
    schema: &str,
    stored: &Stored,
    rewriter: &dyn Rewrite,
) -> Result<Option<Outcome>, RewriteError> {
    let mut tx = pool.begin().await?;
    let Some((payload, outcome)) = rewriter.rewrite(&mut tx, stored).await? else { return Ok(None) };
    let updated =
        sqlx::query(schema_sql(schema, "UPDATE {schema}.events SET payload = $3 WHERE event_id = $1 AND payload = $2"))
            .bind(stored.event_id)
            .bind(&stored.payload)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok((updated.rows_affected() == 1).then_some(outcome))
}

/// Runs [`rewrite_all`] once at a service's start, again after a failure
/// (every `retry`) until it completes or `shutdown`; `what` names the events
/// in the log (e.g. "applications").
pub async fn run(
    pool: PgPool,
    schema: String,
    event_type: &'static str,
    what: &'static str,
    rewriter: std::sync::Arc<dyn Rewrite>,
    retry: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        match rewrite_all(&pool, &schema, event_type, rewriter.as_ref()).await {
            Ok(r) if r == Rewritten::default() => return,
            Ok(r) => {
                tracing::warn!(
                    sealed = r.sealed,
                    stripped = r.stripped,
                    "{what} written in clear before sealing were rewritten in the ledger; \
                     remove JetStream's copies: casectl ops stale-copies"
                );
                return;
            }
            Err(e) => tracing::warn!(error = %e, "sealing the {what} written in clear failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(retry) => {}
        }
    }
}

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
//! The loop is eventstore's ([`rewrite`]): each rewrite a compare-and-set
//! on the stored bytes, so replicas doing it at once, or a run cut short and
//! done again, rewrite each event once; the position reached is kept
//! (`legacy_sealing`). The copies JetStream
//! still holds of the clear bytes are removed by `casectl ops stale-copies`
//! (runbook in docs/PRIVACY.md).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use prost::Message as _;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use yiciban_eventstore::Migrations;
use yiciban_eventstore::rewrite::{self, Outcome, Rewrite, RewriteError, Stored};
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{collector_in_clear, seal_collector};

pub use yiciban_eventstore::rewrite::Rewritten;

use crate::Issuance;

/// The position the rewrite has looked at up to.
pub const LEGACY_SEALING: Migrations =
    Migrations { component: "issuance-legacy-sealing", steps: &[(1, rewrite::PROGRESS_TABLE)] };

/// The pause before trying again after a failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Runs the rewrite once at start, again after a failure (every `retry`)
/// until it completes or `shutdown`.
pub async fn run(issuance: Arc<Issuance>, retry: Duration, shutdown: CancellationToken) {
    let (pool, schema) = (issuance.pool().clone(), issuance.schema().to_owned());
    rewrite::run(pool, schema, "PickedUp", "hand-outs", Arc::new(Sealer(issuance)), retry, shutdown).await;
}

/// Rewrites every `PickedUp` stored in clear since the position reached
/// before; returns what this run rewrote.
pub async fn seal_written_in_clear(issuance: &Arc<Issuance>) -> anyhow::Result<Rewritten> {
    rewrite::rewrite_all(issuance.pool(), issuance.schema(), "PickedUp", &Sealer(issuance.clone()))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

/// Seals (or strips) who collected, in a hand-out written in clear.
struct Sealer(Arc<Issuance>);

#[async_trait]
impl Rewrite for Sealer {
    async fn rewrite(
        &self,
        tx: &mut PgConnection,
        stored: &Stored,
    ) -> Result<Option<(Vec<u8>, Outcome)>, RewriteError> {
        let Ok(mut event) = ev::PickedUp::decode(stored.payload.as_slice()) else {
            // Not this rewrite's to judge: the readers report an unreadable event.
            tracing::error!(event_id = %stored.event_id, "a PickedUp that does not decode is left as it is");
            return Ok(None);
        };
        let batch = event.batch_number;
        let Some(collector) = event.collector.as_mut().filter(|c| collector_in_clear(c)) else { return Ok(None) };
        // The applicant's subject and the case number from the case's read
        // row (written with every hand-out); none known: nothing to seal under.
        let row: Option<(String, String)> = sqlx::query_as(schema_sql(
            self.0.schema(),
            "SELECT applicant_hmac, case_number FROM {schema}.issuance_cases WHERE case_id = $1",
        ))
        .bind(stored.case_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (subject, case_number) = row.unwrap_or_default();
        let key = match subject.as_str() {
            "" => None,
            subject => self.0.runner.codec().data_keys.find_in(&mut *tx, subject).await?,
        };
        let outcome = if key.is_some() { Outcome::Sealed } else { Outcome::Stripped };
        seal_collector(collector, &subject, &case_number, batch, key.as_ref().map(|k| k as _));
        Ok(Some((event.encode_to_vec(), outcome)))
    }
}

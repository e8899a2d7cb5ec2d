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

use async_trait::async_trait;
use prost::Message as _;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use yiciban_eventstore::Migrations;
use yiciban_eventstore::rewrite::{self, Outcome, Rewrite, RewriteError, Stored};
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{Opening, open_submitted, seal_submitted};

pub use yiciban_eventstore::rewrite::Rewritten;

use crate::Intake;

/// The position the rewrite has looked at up to.
pub const LEGACY_SEALING: Migrations =
    Migrations { component: "intake-legacy-sealing", steps: &[(1, rewrite::PROGRESS_TABLE)] };

/// Runs the rewrite once at start, again after a failure (every `retry`)
/// until it completes or `shutdown`.
pub async fn run(intake: Arc<Intake>, retry: Duration, shutdown: CancellationToken) {
    let (pool, schema) = (intake.pool().clone(), intake.schema().to_owned());
    rewrite::run(pool, schema, "ApplicationSubmitted", "applications", Arc::new(Sealer(intake)), retry, shutdown).await;
}

/// Rewrites every `ApplicationSubmitted` stored in clear since the position
/// reached before; returns what this run rewrote.
pub async fn seal_written_in_clear(intake: &Arc<Intake>) -> anyhow::Result<Rewritten> {
    rewrite::rewrite_all(intake.pool(), intake.schema(), "ApplicationSubmitted", &Sealer(intake.clone()))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

/// Seals (or strips) an application written in clear.
struct Sealer(Arc<Intake>);

#[async_trait]
impl Rewrite for Sealer {
    async fn rewrite(
        &self,
        tx: &mut PgConnection,
        stored: &Stored,
    ) -> Result<Option<(Vec<u8>, Outcome)>, RewriteError> {
        let Ok(event) = ev::ApplicationSubmitted::decode(stored.payload.as_slice()) else {
            // Not this rewrite's to judge: the readers report an unreadable event.
            tracing::error!(event_id = %stored.event_id, "an ApplicationSubmitted that does not decode is left as it is");
            return Ok(None);
        };
        let Some(applicant) = event.applicant.as_ref().filter(|_| event.sealed_personal_data.is_empty()) else {
            return Ok(None);
        };
        let codec = self.0.applications.codec();
        let subject = codec.identity_key.lookup(&applicant.id_number);
        Ok(Some(if codec.data_keys.is_erased_in(&mut *tx, &subject).await? {
            let mut out = open_submitted(&event, Opening::Erased)?;
            out.data_subject = subject;
            (out.encode_to_vec(), Outcome::Stripped)
        } else {
            // Generation 0 is not erased, so it is the subject's current key.
            let key = codec.data_keys.key_for_in(&mut *tx, &subject).await?;
            let mut out = event.clone();
            seal_submitted(&mut out, &subject, &key);
            (out.encode_to_vec(), Outcome::Sealed)
        }))
    }
}

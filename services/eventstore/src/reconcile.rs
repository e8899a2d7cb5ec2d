//! The reconciler: Postgres is the ledger, JetStream a copy of it for the
//! readers. For every case with events recorded in a window, it counts this
//! store's published events still inside the stream's retention and the
//! messages JetStream holds on that case's subjects of this source; where
//! JetStream holds fewer (an event lost after its outbox row was deleted, a
//! stream deleted and recreated empty), it says so loudly and publishes the
//! case's events again — the `Nats-Msg-Id` and the consumers' checkpoints
//! make a repeat harmless. A missing stream is reported, never created here.
//! The other way round, messages on this store's subjects whose event the
//! store does not have (after a point-in-time restore of the database whose
//! step 7, `casectl ops after-restore`, was not done) are reported loudly,
//! never deleted here.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use uuid::Uuid;

use crate::error::{RelayError, StoreError};
use crate::relay::Relay;
use crate::sql::schema_sql;

/// Events younger than this are left to the relay (they may still be on
/// their way): a scheduled window ends this long before now.
pub const IN_FLIGHT: Duration = Duration::from_secs(60);
/// Events this close to the end of the stream's retention may expire while
/// they are counted: they are left out.
const RETENTION_MARGIN: Duration = Duration::from_secs(3600);

/// What one reconciliation found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Cases compared.
    pub cases: usize,
    /// Cases JetStream held fewer events of than the store published.
    pub short_cases: usize,
    /// Events published again.
    pub republished: u64,
    /// The case-event stream does not exist (nothing was published again).
    pub stream_missing: bool,
    /// Messages on this store's subjects, stored in the window, whose event
    /// the store does not have.
    pub unknown_events: usize,
}

impl Relay {
    /// Reconciles the cases with events of this store recorded from `since`
    /// to `until` (see the module docs; a scheduled run ends [`IN_FLIGHT`]
    /// before now).
    #[tracing::instrument(skip(self), err)]
    pub async fn reconcile(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Reconciled, RelayError> {
        let stream_name = self.subjects().stream_name();
        let stream = match self.jetstream().get_stream(&stream_name).await {
            Ok(stream) => stream,
            Err(e) if crate::relay::stream_not_found(&e) => {
                tracing::error!(stream = %stream_name, source = self.store().source(),
                    "the case-event stream is missing: its readers have nothing; the relay recreates it when it takes over and the reconciler then publishes the store again");
                yiciban_metrics::reconcile_found(self.store().source(), "stream_missing", 1);
                return Ok(Reconciled { stream_missing: true, ..Default::default() });
            }
            Err(e) => return Err(RelayError::Reconcile { what: "looking up the stream", source: Box::new(e) }),
        };
        let retention = self.stream_max_age();
        let kept_from =
            Utc::now() - chrono::Duration::from_std(retention.saturating_sub(RETENTION_MARGIN)).unwrap_or_default();
        let stored = self.published_counts(since.max(kept_from), kept_from, until).await?;
        let mut report = Reconciled { cases: stored.len(), ..Default::default() };
        // One pass over the subjects of this source (the case is a token of
        // each), not one request per case: the server walks its subject index
        // for a wildcard filter, so a request per case costs cases × subjects
        // (over the 30 s request limit of the Reconcile RPC at a thousand
        // cases an hour on the fault tests' machine).
        let mut held_by_case: HashMap<Uuid, u64> = HashMap::new();
        let filter = self.subjects().source_events(self.store().source());
        let mut subjects = stream
            .info_with_subjects(&filter)
            .await
            .map_err(|e| RelayError::Reconcile { what: "counting the cases' messages", source: Box::new(e) })?;
        while let Some(entry) = subjects.next().await {
            let (subject, count) = entry
                .map_err(|e| RelayError::Reconcile { what: "counting the cases' messages", source: Box::new(e) })?;
            if let Some(case_id) = self.subjects().parse(&subject).map(|s| s.case_id)
                && stored.contains_key(&case_id)
            {
                *held_by_case.entry(case_id).or_default() += count as u64;
            }
        }
        for (case_id, expected) in stored {
            let held = held_by_case.get(&case_id).copied().unwrap_or(0);
            if held >= expected {
                continue;
            }
            report.short_cases += 1;
            tracing::error!(
                %case_id,
                source = self.store().source(),
                stored = expected,
                on_jetstream = held,
                "JetStream lost events of this case: publishing them again"
            );
            let events: Vec<_> = self
                .store()
                .read_case(case_id)
                .await?
                .into_iter()
                .filter(|e| e.recorded_at >= kept_from && e.recorded_at < until)
                .collect();
            self.publish_again(&events).await?;
            report.republished += events.len() as u64;
        }
        if report.short_cases > 0 {
            yiciban_metrics::reconcile_found(self.store().source(), "events_lost", report.republished);
        }
        report.unknown_events = self.unknown_events(since.max(kept_from)).await?;
        Ok(report)
    }

    /// Messages on this store's subjects stored from `since` on whose event
    /// the store does not have: reported, left for an operator.
    async fn unknown_events(&self, since: DateTime<Utc>) -> Result<usize, RelayError> {
        let filter = format!("{}.evt.*.{}.>", self.subjects().prefix(), self.store().source());
        let schema = [self.store().schema().to_owned()];
        let unknown = crate::restore::orphans_among(
            self.store().pool(),
            &schema,
            self.jetstream(),
            self.subjects(),
            &filter,
            since,
            Some(&crate::identities::reconcile_reader(self.store().source())),
        )
        .await
        .map_err(|e| RelayError::Reconcile {
            what: "looking for events the store does not have",
            source: Box::new(e),
        })?;
        if let Some(first) = unknown.first() {
            tracing::error!(
                source = self.store().source(),
                messages = unknown.len(),
                first_subject = %first.subject,
                first_event_id = %first.event_id,
                "JetStream holds events this store does not have: was the database restored to an earlier time? \
                 `casectl ops after-restore` lists and deletes them (docs/DEPLOY.md, point-in-time restore, step 7)"
            );
            yiciban_metrics::reconcile_found(self.store().source(), "events_unknown", unknown.len() as u64);
        }
        Ok(unknown.len())
    }

    /// Per case: the published events (not in the outbox) recorded from
    /// `kept_from` to `until`, for the cases with such an event since `since`.
    async fn published_counts(
        &self,
        since: DateTime<Utc>,
        kept_from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeMap<Uuid, u64>, RelayError> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(schema_sql(
            self.store().schema(),
            "SELECT e.case_id, count(*) FROM {schema}.events e
              WHERE e.recorded_at >= $2 AND e.recorded_at < $3
                AND e.case_id IN (SELECT case_id FROM {schema}.events WHERE recorded_at >= $1 AND recorded_at < $3)
                AND NOT EXISTS (SELECT 1 FROM {schema}.outbox o WHERE o.position = e.position)
              GROUP BY e.case_id",
        ))
        .bind(since)
        .bind(kept_from)
        .bind(until)
        .fetch_all(self.store().pool())
        .await
        .map_err(StoreError::db("counting published events per case"))?;
        Ok(rows.into_iter().map(|(case, n)| (case, u64::try_from(n).unwrap_or(0))).collect())
    }
}

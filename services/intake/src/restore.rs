//! Erasures a point-in-time restore undid (ADR 0020, docs/DEPLOY.md step
//! 7). The restored database holds the data keys of people erased after the
//! restore point again; JetStream still holds the `PersonalDataErased`
//! messages of those erasures, which the restore made orphans. `casectl ops
//! after-restore` finds them ([`find`]) and, before it deletes the orphans,
//! records their cases in `erasures_to_reapply` ([`record`]); intake, at
//! its next start and before it serves, erases those cases' applicants
//! again through the one erasure procedure ([`reapply`]), on the original
//! basis, as [`ACTOR`].

use std::collections::HashMap;

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::{DateTime, Utc};
use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_domain::intake::ErasureBasis;
use yiciban_eventstore::Subjects;
use yiciban_eventstore::restore::{Orphan, read_since};
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::events::v1 as ev;

use crate::Intake;

/// Who the re-applied erasures are recorded as.
pub const ACTOR: &str = "system:after-restore";

/// An erasure made after the restore point, which the restore undid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostErasure {
    /// A case of the erased person.
    pub case_id: Uuid,
    /// The `PersonalDataErased` event's id.
    pub event_id: String,
    /// When JetStream stored it.
    pub erased_at: DateTime<Utc>,
    /// Why the person was erased then.
    pub basis: ErasureBasis,
}

/// The event type, a token of an orphan's subject, that names an erasure.
const ERASED: &str = "PersonalDataErased";

/// The erasures among `orphans` (messages JetStream holds of events the
/// restored stores lack): each `PersonalDataErased` of intake's, read back
/// from the case-event stream for its case and basis.
pub async fn find(
    js: &jetstream::Context,
    subjects: &Subjects,
    orphans: &[Orphan],
) -> anyhow::Result<Vec<LostErasure>> {
    let wanted: HashMap<&str, &Orphan> = orphans
        .iter()
        .filter(|o| subjects.parse(&o.subject).is_some_and(|s| s.source == "intake" && s.event_type == ERASED))
        .map(|o| (o.event_id.as_str(), o))
        .collect();
    let Some(since) = wanted.values().map(|o| o.stored_at).min() else {
        return Ok(Vec::new());
    };
    // Intake's events in both subject forms (with the partition token, and
    // from before it, ADR 0043), picked out by the erasures' event ids.
    let held = read_since(js, subjects, &subjects.source_events("intake"), since, None)
        .await
        .context("reading the erasures back from the stream")?;
    let mut found = Vec::new();
    for message in held {
        if let Some(orphan) = wanted.get(message.message.event_id.as_str()) {
            let envelope = ev::EventEnvelope::decode(message.payload.as_ref()).context("an erasure's envelope")?;
            found.push(lost_erasure(&envelope, orphan)?);
        }
    }
    Ok(found)
}

/// The erasure `envelope` (the message of `orphan`) recorded.
fn lost_erasure(envelope: &ev::EventEnvelope, orphan: &Orphan) -> anyhow::Result<LostErasure> {
    let event = ev::PersonalDataErased::decode(envelope.payload.as_slice()).context("a PersonalDataErased payload")?;
    Ok(LostErasure {
        case_id: envelope.case_id.parse().context("an erasure's case id")?,
        event_id: envelope.event_id.clone(),
        erased_at: orphan.stored_at,
        // An unspecified basis is never recorded; read one as a request.
        basis: ErasureBasis::try_from(event.basis()).unwrap_or(ErasureBasis::Request),
    })
}

/// Records `lost` in intake's schema `schema` for intake to erase again at
/// its next start; returns how many were new. Run with intake stopped.
pub async fn record(pool: &PgPool, schema: &str, lost: &[LostErasure]) -> anyhow::Result<u64> {
    let mut added = 0;
    for l in lost {
        let done = sqlx::query(schema_sql(
            schema,
            "INSERT INTO {schema}.erasures_to_reapply (event_id, case_id, erased_at, basis)
             VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        ))
        .bind(&l.event_id)
        .bind(l.case_id)
        .bind(l.erased_at)
        .bind(l.basis.as_str())
        .execute(pool)
        .await
        .context("recording an erasure to re-apply")?;
        added += done.rows_affected();
    }
    Ok(added)
}

/// Erases again the applicant of every case recorded by [`record`] and not
/// done yet; returns how many people's keys it deleted now. A case the
/// restore took away altogether (submitted after the restore point) has
/// nobody to erase and is marked done.
pub async fn reapply(intake: &Intake) -> anyhow::Result<usize> {
    let pending: Vec<(String, Uuid, DateTime<Utc>, String)> = sqlx::query_as(schema_sql(
        intake.schema(),
        "SELECT event_id, case_id, erased_at, basis FROM {schema}.erasures_to_reapply
          WHERE reapplied_at IS NULL ORDER BY erased_at, event_id",
    ))
    .fetch_all(intake.pool())
    .await
    .context("reading the erasures to re-apply")?;
    let mut erased = 0;
    for (event_id, case_id, erased_at, basis) in pending {
        let indexed = crate::repo::find_case(intake.pool(), intake.schema(), case_id).await?;
        if let Some(case) = indexed {
            // Only `record` writes the column, with a name `parse` reads.
            let basis = ErasureBasis::parse(&basis).unwrap_or(ErasureBasis::Request);
            let reason = format!(
                "erased again after a point-in-time restore undid the erasure made at {erased_at} (event {event_id})"
            );
            let done =
                crate::erasure::erase(intake, &case.applicant_key, &crate::erasure::by_system(ACTOR), &reason, basis)
                    .await
                    .map_err(|s| anyhow::anyhow!("erasing the applicant of case {case_id} again: {}", s.message()))?;
            erased += usize::from(done.erased_now);
        }
        sqlx::query(schema_sql(
            intake.schema(),
            "UPDATE {schema}.erasures_to_reapply SET reapplied_at = now() WHERE event_id = $1",
        ))
        .bind(&event_id)
        .execute(intake.pool())
        .await
        .context("marking an erasure re-applied")?;
    }
    if erased > 0 {
        tracing::warn!(erased, "erasures undone by a point-in-time restore made again");
    }
    Ok(erased)
}

//! Erasure of a person's personal data (ADR 0024), the one procedure the
//! administrator's RPC and the retention job both run, each step
//! idempotent so that a run cut short is completed by the next:
//!
//! 1. the subject's data key is deleted, recording who, when and why (a
//!    subject without a key — written in clear before sealing — gets the
//!    record, which hides its clear data from every reader);
//! 2. the stored contents of the person's materials — those handed in with
//!    the application and its supplements, and the scans the window took at
//!    hand-out (receipts, powers of attorney: `window_materials`) — are
//!    deleted, unless a case of another applicant refers to the same
//!    content;
//! 3. `PersonalDataErased` is appended to each of the person's cases, so
//!    the read models drop what they kept of the person.

use std::collections::BTreeMap;

use sqlx::Row as _;
use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{Invocation, Target};
use yiciban_domain::intake::{Command, ErasureBasis, RecordErasure};
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::status::internal;
use yiciban_proto::intake::v1 as pb;

use crate::Intake;

/// What one erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// The data key was deleted by this run (false: erased before).
    pub erased_now: bool,
    /// Every case of the person.
    pub case_ids: Vec<Uuid>,
    /// The cases `PersonalDataErased` was appended to by this run.
    pub cases_marked: Vec<Uuid>,
    /// Material contents deleted by this run.
    pub materials_deleted: u32,
}

/// Erases the person whose subject (the keyed hash of their identity) is
/// `subject`, with every case of theirs in intake's index, as `invocation`'s
/// actor for `reason` on `basis`.
pub async fn erase(
    intake: &Intake,
    subject: &str,
    invocation: &Invocation,
    reason: &str,
    basis: ErasureBasis,
) -> Result<Erased, Status> {
    // The keys are erased and the cases listed in one transaction: a
    // submission in flight holds its key (`FOR SHARE`) until it commits, so
    // the erasure waits and then lists its case; a submission that starts
    // after waits for this transaction and gets a new key generation, and its
    // case is not listed.
    let by = invocation.actor.subject.as_str();
    let failed = |e: &(dyn std::error::Error + 'static)| internal("erasing the data key", e);
    let mut tx = intake.pool().begin().await.map_err(|e| failed(&e))?;
    let erased_now =
        intake.applications.codec().data_keys.erase_in(&mut tx, subject, by, reason).await.map_err(|e| failed(&e))?;
    let case_ids = cases_in(&mut tx, intake.schema(), subject).await?;
    tx.commit().await.map_err(|e| failed(&e))?;
    // The materials each case refers to, from its stream (references are not
    // personal data and stay readable after the key is gone).
    let mut materials: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for &case_id in &case_ids {
        if let Some(loaded) = intake.applications.load(case_id).await? {
            materials.insert(case_id, loaded.state.materials.iter().map(|m| m.sha256_hex.clone()).collect());
        }
    }
    for (case_id, sha) in window_materials_of(intake, &case_ids).await? {
        materials.entry(case_id).or_default().push(sha);
    }
    let deleted = delete_contents(intake, &case_ids, &materials).await?;
    if erased_now {
        yiciban_metrics::personal_data_erased(basis.as_str());
    }
    let mut outcome = Erased { erased_now, case_ids: case_ids.clone(), ..Erased::default() };
    for &case_id in &case_ids {
        let materials_deleted =
            materials.get(&case_id).map_or(0, |shas| shas.iter().filter(|s| deleted.contains(*s)).count() as u32);
        let command = |_: &_| Ok(Command::RecordErasure(RecordErasure { basis, materials_deleted }));
        let done = intake.applications.run(Target::Existing(case_id), invocation, command, |_, _| ()).await?;
        if done.recorded() {
            outcome.cases_marked.push(case_id);
        }
    }
    outcome.materials_deleted = deleted.len() as u32;
    tracing::info!(
        cases = case_ids.len(),
        marked = outcome.cases_marked.len(),
        materials = outcome.materials_deleted,
        erased_now,
        "personal data erased"
    );
    Ok(outcome)
}

/// An erasure the service makes on its own (the retention job, the
/// re-application after a restore), recorded as `actor`: no idempotency key
/// (recording an erasure twice changes nothing, the aggregate refuses the
/// second silently), a chain of its own.
pub fn by_system(actor: &str) -> Invocation {
    Invocation {
        actor: yiciban_proto::common::v1::Actor {
            subject: actor.to_owned(),
            role: yiciban_proto::common::v1::Role::Service as i32,
            department: String::new(),
        },
        channel: yiciban_proto::common::v1::Channel::System,
        expected: None,
        idempotency: None,
        cause: yiciban_platform::Cause::origin(Uuid::now_v7().to_string()),
    }
}

/// The person's cases in intake's index.
pub async fn cases_of(intake: &Intake, subject: &str) -> Result<Vec<Uuid>, Status> {
    let mut conn = intake.pool().acquire().await.map_err(|e| internal("reading the person's cases", &e))?;
    cases_in(&mut conn, intake.schema(), subject).await
}

async fn cases_in(conn: &mut sqlx::PgConnection, schema: &str, subject: &str) -> Result<Vec<Uuid>, Status> {
    sqlx::query_scalar(schema_sql(
        schema,
        "SELECT case_id FROM {schema}.case_index WHERE applicant_key = $1 ORDER BY case_id",
    ))
    .bind(subject)
    .fetch_all(conn)
    .await
    .map_err(|e| internal("reading the person's cases", &e))
}

/// The window's scans of `case_ids` (told by issuance with each closing).
async fn window_materials_of(intake: &Intake, case_ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, Status> {
    sqlx::query_as(schema_sql(
        intake.schema(),
        "SELECT case_id, sha256 FROM {schema}.window_materials WHERE case_id = ANY($1) ORDER BY case_id, sha256",
    ))
    .bind(case_ids)
    .fetch_all(intake.pool())
    .await
    .map_err(|e| internal("reading the window's scans", &e))
}

/// Deletes the contents of the window's scans of case `case_id`, whose
/// applicant was erased before issuance told of them (at the closing);
/// returns how many were deleted.
pub async fn delete_window_materials(intake: &Intake, case_id: Uuid) -> Result<usize, Status> {
    let mut materials: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for (case_id, sha) in window_materials_of(intake, &[case_id]).await? {
        materials.entry(case_id).or_default().push(sha);
    }
    Ok(delete_contents(intake, &[case_id], &materials).await?.len())
}

/// Deletes the contents among `materials` that no other case refers to —
/// by its events or its window's scans (content is stored once per SHA-256
/// and may be shared); returns the SHA-256s deleted.
async fn delete_contents(
    intake: &Intake,
    case_ids: &[Uuid],
    materials: &BTreeMap<Uuid, Vec<String>>,
) -> Result<Vec<String>, Status> {
    let shas: Vec<String> =
        materials.values().flatten().cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    if shas.is_empty() {
        return Ok(Vec::new());
    }
    let streams: Vec<String> = case_ids.iter().map(|id| format!("case-{id}")).collect();
    // The reference is a plain string field of the events' protobuf
    // payloads: a byte search finds it in any other application.
    let rows = sqlx::query(schema_sql(
        intake.schema(),
        "DELETE FROM {schema}.material_blobs b
          WHERE b.sha256 = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM {schema}.events e
                             WHERE e.stream_id <> ALL($2)
                               AND e.event_type IN ('ApplicationSubmitted', 'MaterialsSupplemented')
                               AND position(convert_to(b.sha256, 'UTF8') IN e.payload) > 0)
            AND NOT EXISTS (SELECT 1 FROM {schema}.window_materials w
                             WHERE w.sha256 = b.sha256 AND w.case_id <> ALL($3))
         RETURNING b.sha256",
    ))
    .bind(&shas)
    .bind(&streams)
    .bind(case_ids)
    .fetch_all(intake.pool())
    .await
    .map_err(|e| internal("deleting the person's material contents", &e))?;
    Ok(rows.iter().map(|r| r.get::<String, _>("sha256")).collect())
}

/// The erasures recorded, newest first, with the cases of each subject.
pub async fn list(intake: &Intake, limit: i64) -> Result<Vec<pb::Erasure>, Status> {
    let rows = sqlx::query(schema_sql(
        intake.schema(),
        "SELECT k.subject, k.erased_at, k.erased_by, k.erasure_reason,
                COALESCE(array_agg(c.case_id ORDER BY c.case_id) FILTER (WHERE c.case_id IS NOT NULL), '{}') AS cases
           FROM {schema}.data_keys k LEFT JOIN {schema}.case_index c ON c.applicant_key = k.subject
          WHERE k.erased_at IS NOT NULL
          GROUP BY k.subject, k.erased_at, k.erased_by, k.erasure_reason
          ORDER BY k.erased_at DESC, k.subject
          LIMIT $1",
    ))
    .bind(limit)
    .fetch_all(intake.pool())
    .await
    .map_err(|e| internal("reading the erasures", &e))?;
    Ok(rows
        .iter()
        .map(|r| pb::Erasure {
            subject: r.get("subject"),
            erased_at: Some(yiciban_proto::convert::wire::timestamp(r.get("erased_at"))),
            erased_by: r.get::<Option<String>, _>("erased_by").unwrap_or_default(),
            reason: r.get::<Option<String>, _>("erasure_reason").unwrap_or_default(),
            case_ids: r.get::<Vec<Uuid>, _>("cases").iter().map(Uuid::to_string).collect(),
        })
        .collect())
}

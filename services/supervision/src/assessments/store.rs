//! The assessment's command path and rows: the rule book's stream
//! (`scoring-rules-<id>`, one) and the assessments' streams
//! (`assessment-<id>`) bound to the shared [`CommandRunner`] by
//! [`RulesCodec`] and [`AssessmentCodec`]; each version of the rules and
//! each assessment's read model written in the same transaction as its
//! events ([`RulesRows`], [`AssessmentRows`]), and read back here.

use async_trait::async_trait;
use chrono::NaiveDate;
use prost::Message;
use sqlx::{PgConnection, PgPool, Row as _};
use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{Change, CommandRunner, EventCodec, Rows};
use yiciban_domain::reporting::assessment::{AssessmentEvent, AssessmentRecord, RulesBook, RulesEvent};
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::status::internal;
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::assessment as convert;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::supervision::v1 as pb;

/// The one rule book's id: its stream is `scoring-rules-<this>`.
pub const RULE_BOOK: Uuid = Uuid::from_u128(0x5c0_12e5);

/// How the rule book is stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct RulesCodec;

impl EventCodec for RulesCodec {
    type Aggregate = RulesBook;

    const NOUN: &'static str = "scoring rules";

    fn encode(&self, _after: &RulesBook, event: &RulesEvent) -> NewEvent {
        let (kind, payload) = convert::encode_rules_event(event);
        NewEvent::new(kind, payload)
    }

    fn decode(&self, stored: &StoredEvent) -> Result<RulesEvent, ConvertError> {
        convert::decode_rules_event(&stored.event_type, &stored.payload)
    }
}

/// How assessments are stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssessmentCodec;

impl EventCodec for AssessmentCodec {
    type Aggregate = AssessmentRecord;

    const NOUN: &'static str = "assessment";

    fn encode(&self, _after: &AssessmentRecord, event: &AssessmentEvent) -> NewEvent {
        let (kind, payload) = convert::encode_assessment_event(event);
        NewEvent::new(kind, payload)
    }

    fn decode(&self, stored: &StoredEvent) -> Result<AssessmentEvent, ConvertError> {
        convert::decode_assessment_event(&stored.event_type, &stored.payload)
    }
}

/// Who gives the command (a staff login), for the rows.
#[derive(Debug, Clone, Default)]
pub struct By(pub String);

/// One row per version of the rules.
#[derive(Debug, Clone)]
pub struct RulesRows {
    /// The service's schema.
    pub schema: String,
}

#[async_trait]
impl Rows<RulesBook> for RulesRows {
    type Facts = By;

    async fn write(&self, tx: &mut PgConnection, change: &Change<'_, RulesBook>, by: &By) -> Result<(), Status> {
        for RulesEvent::Set(set) in change.events {
            sqlx::query(schema_sql(
                &self.schema,
                "INSERT INTO {schema}.scoring_rules (version, rules, set_by, set_at) VALUES ($1, $2, $3, $4)",
            ))
            .bind(i32::try_from(set.version).unwrap_or(i32::MAX))
            .bind(pb::ScoringRules::from(&set.rules).encode_to_vec())
            .bind(&by.0)
            .bind(change.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| internal("writing the scoring rules' row", &e))?;
        }
        Ok(())
    }
}

/// One row per assessment: its read model as of its latest event.
#[derive(Debug, Clone)]
pub struct AssessmentRows {
    /// The service's schema.
    pub schema: String,
}

#[async_trait]
impl Rows<AssessmentRecord> for AssessmentRows {
    type Facts = By;

    async fn write(&self, tx: &mut PgConnection, change: &Change<'_, AssessmentRecord>, by: &By) -> Result<(), Status> {
        let mut a = if change.before.version == 0 {
            pb::Assessment::default()
        } else {
            assessment_in(&mut *tx, &self.schema, change.id)
                .await
                .map_err(|e| internal("reading the assessment's row", &e))?
                .unwrap_or_default()
        };
        for event in change.events {
            match event {
                AssessmentEvent::Recorded(run) => {
                    let rules = rules_version_in(&mut *tx, &self.schema, run.rules_version)
                        .await
                        .map_err(|e| internal("reading the scoring rules", &e))?
                        .unwrap_or_else(|| pb::ScoringRulesVersion {
                            version: run.rules_version,
                            rules: Some((&run.rules).into()),
                            ..Default::default()
                        });
                    a = pb::Assessment {
                        assessment_id: run.assessment_id.to_string(),
                        name: run.name.clone(),
                        kind: pb::AssessmentKind::from(run.kind) as i32,
                        from_month: run.from.to_string(),
                        to_month: run.to.to_string(),
                        rules: Some(rules),
                        subjects: run.subjects.iter().map(Into::into).collect(),
                        status: pb::AssessmentStatus::Draft as i32,
                        run_by: by.0.clone(),
                        run_at: Some(timestamp(change.at)),
                        ..Default::default()
                    };
                }
                AssessmentEvent::FindingRecorded(f) => a.findings.push(pb::Finding {
                    finding_id: f.finding_id.to_string(),
                    subject: f.subject.clone(),
                    measure: pb::AccountabilityMeasure::from(f.measure) as i32,
                    text: f.text.clone(),
                    recorded_by: by.0.clone(),
                    recorded_at: Some(timestamp(change.at)),
                }),
                AssessmentEvent::Finalized(_) => {
                    a.status = pb::AssessmentStatus::Finalized as i32;
                    a.finalized_at = Some(timestamp(change.at));
                }
            }
        }
        a.version = change.after.version;
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.assessments (assessment_id, name, run_at, version, assessment)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (assessment_id) DO UPDATE SET version = EXCLUDED.version, assessment = EXCLUDED.assessment",
        ))
        .bind(change.id)
        .bind(&a.name)
        .bind(change.at)
        .bind(i64::try_from(a.version).unwrap_or(i64::MAX))
        .bind(a.encode_to_vec())
        .execute(&mut *tx)
        .await
        .map_err(|e| internal("writing the assessment's row", &e))?;
        Ok(())
    }
}

/// The command runner over the rule book.
pub type RulesRunner = CommandRunner<RulesCodec, RulesRows>;

/// The command runner over the assessments.
pub type AssessmentRunner = CommandRunner<AssessmentCodec, AssessmentRows>;

fn decode<M: Message + Default>(bytes: &[u8]) -> sqlx::Result<M> {
    M::decode(bytes).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn version_of(row: &sqlx::postgres::PgRow) -> sqlx::Result<pb::ScoringRulesVersion> {
    let version: i32 = row.try_get("version")?;
    let rules: Vec<u8> = row.try_get("rules")?;
    Ok(pb::ScoringRulesVersion {
        version: u32::try_from(version).unwrap_or_default(),
        rules: Some(decode(&rules)?),
        set_by: row.try_get("set_by")?,
        set_at: Some(timestamp(row.try_get("set_at")?)),
    })
}

async fn rules_version_in(
    conn: &mut PgConnection,
    schema: &str,
    version: u32,
) -> sqlx::Result<Option<pb::ScoringRulesVersion>> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT version, rules, set_by, set_at FROM {schema}.scoring_rules WHERE version = $1",
    ))
    .bind(i32::try_from(version).unwrap_or(i32::MAX))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(version_of).transpose()
}

/// Version `version` of the rules (as set), if it was set.
pub async fn rules_version(pool: &PgPool, schema: &str, version: u32) -> sqlx::Result<Option<pb::ScoringRulesVersion>> {
    rules_version_in(&mut *pool.acquire().await?, schema, version).await
}

async fn assessment_in(conn: &mut PgConnection, schema: &str, id: Uuid) -> sqlx::Result<Option<pb::Assessment>> {
    let bytes: Option<Vec<u8>> =
        sqlx::query_scalar(schema_sql(schema, "SELECT assessment FROM {schema}.assessments WHERE assessment_id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    bytes.map(|b| decode(&b)).transpose()
}

/// One assessment's read model.
pub async fn assessment(pool: &PgPool, schema: &str, id: Uuid) -> sqlx::Result<Option<pb::Assessment>> {
    assessment_in(&mut *pool.acquire().await?, schema, id).await
}

/// Assessments newest first: `limit` from `offset`.
pub async fn list_assessments(
    pool: &PgPool,
    schema: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<Vec<pb::Assessment>> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(schema_sql(
        schema,
        "SELECT assessment FROM {schema}.assessments ORDER BY run_at DESC, assessment_id DESC OFFSET $1 LIMIT $2",
    ))
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|b| decode(b)).collect()
}

/// Complaints received on `from`..`until` (exclusive) and closed, not as
/// unfounded: upheld (投诉属实).
pub async fn upheld_complaints(
    pool: &PgPool,
    schema: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> sqlx::Result<Vec<pb::Opinion>> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(schema_sql(
        schema,
        "SELECT opinion FROM {schema}.opinions
         WHERE kind = $1 AND state = $2 AND received_on >= $3 AND received_on < $4
         ORDER BY received_on, opinion_id",
    ))
    .bind(yiciban_proto::supervision::v1::OpinionKind::Complaint as i32)
    .bind(yiciban_proto::supervision::v1::OpinionState::Closed as i32)
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?;
    let opinions: Vec<pb::Opinion> = rows.iter().map(|b| decode(b)).collect::<sqlx::Result<_>>()?;
    Ok(opinions.into_iter().filter(|o| !o.unfounded).collect())
}

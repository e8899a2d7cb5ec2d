//! The messages table and its attempts: queueing a message once per event
//! (in the consumer's transaction), taking due messages for the sender
//! (`FOR UPDATE SKIP LOCKED`, so replicas never take the same one), recording
//! each attempt with its outcome, and the pages the API lists.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

use crate::notice::Notice;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Sent,
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Status> {
        [Status::Pending, Status::Sent, Status::Failed].into_iter().find(|s| s.name() == name)
    }
}

/// Queues the message `notice` of the event `event_id` of case `case_id`,
/// due `now`, inside the consumer's transaction `conn`; false when it was
/// queued already (the event delivered again).
pub async fn enqueue(
    conn: &mut PgConnection,
    schema: &str,
    event_id: &str,
    case_id: Uuid,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let facts = serde_json::to_value(&notice.facts).unwrap_or_default();
    let inserted = sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.messages (message_id, case_id, kind, facts, template, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $3, $5, $5)
         ON CONFLICT (message_id) DO NOTHING",
    ))
    .bind(event_id)
    .bind(case_id)
    .bind(notice.kind.name())
    .bind(facts)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// What the applicant's erasure leaves of case `case_id`'s messages, inside
/// the consumer's transaction `conn`: the texts and the facts are emptied
/// (a mailing's tracking number leads to the recipient), in the local sink
/// too; the masked phone, the kind, the status and the times stay; a message
/// not sent yet is failed, never sent. Returns how many messages it touched.
pub async fn erase_case(
    conn: &mut PgConnection,
    schema: &str,
    case_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query(schema_sql(
        schema,
        "UPDATE {schema}.local_sink s SET text = ''
           FROM {schema}.messages m
          WHERE m.message_id = s.message_id AND m.case_id = $1",
    ))
    .bind(case_id)
    .execute(&mut *conn)
    .await?;
    let touched = sqlx::query(schema_sql(
        schema,
        "UPDATE {schema}.messages
            SET text = '', facts = '{}'::jsonb,
                last_error = CASE WHEN status = 'pending' THEN $3 ELSE last_error END,
                next_attempt_at = CASE WHEN status = 'pending' THEN $2 ELSE next_attempt_at END,
                status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
          WHERE case_id = $1",
    ))
    .bind(case_id)
    .bind(now)
    .bind(ERASED)
    .execute(&mut *conn)
    .await?;
    Ok(touched.rows_affected())
}

/// The last error of a message its applicant's erasure stopped.
pub const ERASED: &str = "the applicant's personal data was erased: not sent";

/// A due row as the statement returns it.
type DueRow = (String, Uuid, String, serde_json::Value, i32, Option<DateTime<Utc>>);

/// A message taken for an attempt.
#[derive(Debug, Clone)]
pub struct Due {
    pub message_id: String,
    pub case_id: Uuid,
    pub kind: String,
    pub facts: BTreeMap<String, String>,
    /// Attempts made before this one.
    pub attempts: u32,
    pub first_attempt_at: Option<DateTime<Utc>>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The gateway took it.
    Sent,
    /// Not sent; tried again at this time.
    Retry(DateTime<Utc>),
    /// Not sent, and given up.
    Failed,
}

/// One attempt, as recorded.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub message_id: &'a str,
    /// 1 for the first.
    pub number: u32,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
    /// Why it did not send; empty when sent.
    pub error: &'a str,
    /// What the attempt learned and rendered (empty: not that far).
    pub case_number: &'a str,
    pub phone_masked: &'a str,
    pub text: &'a str,
    pub gateway: &'a str,
    /// The applicant was found erased: the event's facts are emptied too
    /// (a mailing queued after the erasure was applied keeps nothing).
    pub forget_facts: bool,
}

/// One recorded message, as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub seq: i64,
    pub message_id: String,
    pub case_id: Uuid,
    pub case_number: String,
    pub kind: String,
    pub status: String,
    pub phone_masked: String,
    pub template: String,
    pub text: String,
    pub attempts: i32,
    pub last_error: String,
    pub gateway: String,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

/// What a page of the list asks.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub case_id: Option<Uuid>,
    pub status: Option<Status>,
    /// Only messages older than this `seq` (the previous page's last).
    pub before: Option<i64>,
    pub limit: i64,
}

/// The notifier's tables.
#[derive(Debug, Clone)]
pub struct Repo {
    pool: sqlx::PgPool,
    schema: String,
}

impl Repo {
    pub fn new(pool: sqlx::PgPool, schema: &str) -> Self {
        Repo { pool, schema: schema.to_owned() }
    }

    /// Takes up to `limit` pending messages due at `now`, oldest due first,
    /// and leases them until `lease_until` (no other sender takes them
    /// before; a sender that dies mid-attempt leaves them to be taken again
    /// then). Rows another sender is taking are skipped, not waited for.
    pub async fn take_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Due>, sqlx::Error> {
        let rows: Vec<DueRow> = sqlx::query_as(schema_sql(
            &self.schema,
            "UPDATE {schema}.messages m SET next_attempt_at = $2
                   FROM (SELECT message_id FROM {schema}.messages
                          WHERE status = 'pending' AND next_attempt_at <= $1
                          ORDER BY next_attempt_at, seq
                          LIMIT $3
                          FOR UPDATE SKIP LOCKED) due
                  WHERE m.message_id = due.message_id
              RETURNING m.message_id, m.case_id, m.kind, m.facts, m.attempts, m.first_attempt_at",
        ))
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(message_id, case_id, kind, facts, attempts, first_attempt_at)| Due {
                message_id,
                case_id,
                kind,
                facts: serde_json::from_value(facts).unwrap_or_default(),
                attempts: u32::try_from(attempts).unwrap_or(0),
                first_attempt_at,
            })
            .collect())
    }

    /// Records `attempt` and moves its message on, in one transaction;
    /// false (nothing written) when the message is no longer pending at the
    /// attempt before this one (another sender recorded it first).
    pub async fn record(&self, attempt: &Attempt<'_>) -> Result<bool, sqlx::Error> {
        let (status, next, sent_at) = match attempt.outcome {
            Outcome::Sent => (Status::Sent, attempt.at, Some(attempt.at)),
            Outcome::Retry(next) => (Status::Pending, next, None),
            Outcome::Failed => (Status::Failed, attempt.at, None),
        };
        let outcome = match attempt.outcome {
            Outcome::Sent => "sent",
            Outcome::Retry(_) => "retry",
            Outcome::Failed => "failed",
        };
        let number = i32::try_from(attempt.number).unwrap_or(i32::MAX);
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(schema_sql(
            &self.schema,
            "UPDATE {schema}.messages
                SET status = $3, attempts = $2, next_attempt_at = $4, sent_at = $5, last_error = $6,
                    last_attempt_at = $7, first_attempt_at = COALESCE(first_attempt_at, $7),
                    case_number = CASE WHEN $8 = '' THEN case_number ELSE $8 END,
                    phone_masked = CASE WHEN $9 = '' THEN phone_masked ELSE $9 END,
                    text = CASE WHEN $10 = '' THEN text ELSE $10 END,
                    gateway = CASE WHEN $11 = '' THEN gateway ELSE $11 END,
                    facts = CASE WHEN $12 THEN '{}'::jsonb ELSE facts END
              WHERE message_id = $1 AND status = 'pending' AND attempts = $2 - 1",
        ))
        .bind(attempt.message_id)
        .bind(number)
        .bind(status.name())
        .bind(next)
        .bind(sent_at)
        .bind(attempt.error)
        .bind(attempt.at)
        .bind(attempt.case_number)
        .bind(attempt.phone_masked)
        .bind(attempt.text)
        .bind(attempt.gateway)
        .bind(attempt.forget_facts)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.attempts (message_id, attempt, at, outcome, error) VALUES ($1, $2, $3, $4, $5)",
        ))
        .bind(attempt.message_id)
        .bind(number)
        .bind(attempt.at)
        .bind(outcome)
        .bind(attempt.error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A page of messages, newest first.
    pub async fn list(&self, filter: &Filter) -> Result<Vec<MessageRow>, sqlx::Error> {
        sqlx::query_as(schema_sql(
            &self.schema,
            "SELECT seq, message_id, case_id, case_number, kind, status, phone_masked, template, text, attempts,
                    last_error, gateway, created_at, last_attempt_at, sent_at, next_attempt_at
               FROM {schema}.messages
              WHERE ($1::uuid IS NULL OR case_id = $1)
                AND ($2::text IS NULL OR status = $2)
                AND ($3::bigint IS NULL OR seq < $3)
              ORDER BY seq DESC
              LIMIT $4",
        ))
        .bind(filter.case_id)
        .bind(filter.status.map(Status::name))
        .bind(filter.before)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The outcomes of a message's attempts, in order (tests, operators).
    pub async fn attempts(&self, message_id: &str) -> Result<Vec<(i32, String, String)>, sqlx::Error> {
        sqlx::query_as(schema_sql(
            &self.schema,
            "SELECT attempt, outcome, error FROM {schema}.attempts WHERE message_id = $1 ORDER BY attempt",
        ))
        .bind(message_id)
        .fetch_all(&self.pool)
        .await
    }

    /// Stores a message in the local sink's inbox (once per message).
    pub async fn sink(
        &self,
        message_id: &str,
        phone_masked: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.local_sink (message_id, phone_masked, text, received_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (message_id) DO NOTHING",
        ))
        .bind(message_id)
        .bind(phone_masked)
        .bind(text)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

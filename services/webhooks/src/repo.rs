//! The subscriptions, dead letters and replays in the service's schema:
//! every SQL statement of the service. Secrets are stored sealed
//! ([`Sealer`]), opened only by the delivery ([`Repo::secrets`] returns them
//! inside [`Secrets`], whose `Debug` hides them) and never by a query that
//! answers an RPC.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_eventstore::identities::WEBHOOK_SLOTS;
use yiciban_eventstore::sql::schema_sql;
use yiciban_privacy::PrivacyError;

pub use crate::secrets::{Sealer, Secrets};

/// A subscription as stored, without its secrets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub subscription_id: Uuid,
    pub department: String,
    pub url: String,
    pub description: String,
    pub paused: bool,
    pub revision: i64,
    /// Its slot among its department's subscriptions (1 to
    /// [`WEBHOOK_SLOTS`]), which names its consumers; none only for one
    /// that was past the last slot when slots came (paused since).
    pub slot: Option<i16>,
    pub created_at: DateTime<Utc>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// Open dead letters.
    pub dead_letters: i64,
    /// The replay under way: its id, time, events and start.
    pub replay_id: Option<Uuid>,
    pub replay_from: Option<DateTime<Utc>>,
    pub replay_events: Option<i64>,
    pub replay_started_at: Option<DateTime<Utc>>,
}

/// A dead letter as an operator sees it (its body apart).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetterRow {
    pub dead_letter_id: i64,
    pub subscription_id: Uuid,
    pub event_id: String,
    pub case_id: String,
    pub event_type: String,
    pub replay: bool,
    pub last_status: i32,
    pub last_error: String,
    pub attempts: i32,
    pub first_attempt_at: DateTime<Utc>,
    pub last_attempt_at: DateTime<Utc>,
}

/// A dead letter to record.
#[derive(Debug, Clone)]
pub struct NewDeadLetter {
    pub subscription_id: Uuid,
    pub event_id: String,
    pub case_id: String,
    pub event_type: String,
    pub replay: bool,
    pub body: Vec<u8>,
    pub last_status: u16,
    pub last_error: String,
    pub attempts: u32,
    pub first_attempt_at: DateTime<Utc>,
    pub last_attempt_at: DateTime<Utc>,
}

/// A new subscription.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub subscription_id: Uuid,
    pub department: String,
    pub url: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// The sealed secrets of a row: current, previous, and until when the
/// previous one signs.
type SealedSecrets = (Option<Vec<u8>>, Option<Vec<u8>>, Option<DateTime<Utc>>);

/// A replay under way.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplayRow {
    pub subscription_id: Uuid,
    pub replay_id: Uuid,
    pub from_time: DateTime<Utc>,
    /// The stream's last sequence when it was asked for: it ends there.
    pub until_sequence: i64,
    /// Events it redelivers (as counted when it was asked for).
    pub events: i64,
    pub started_at: DateTime<Utc>,
}

/// The service's tables.
#[derive(Debug, Clone)]
pub struct Repo {
    pool: PgPool,
    schema: String,
    sealer: Sealer,
}

macro_rules! select_subscriptions {
    ($tail:literal) => {
        concat!(
            "SELECT s.subscription_id, s.department, s.url, s.description, s.paused, s.revision, s.slot, s.created_at, ",
            "s.last_delivered_at, (SELECT count(*) FROM {schema}.dead_letters d WHERE d.subscription_id = s.subscription_id) AS dead_letters, ",
            "r.replay_id, r.from_time AS replay_from, r.events AS replay_events, r.started_at AS replay_started_at ",
            "FROM {schema}.subscriptions s LEFT JOIN {schema}.replays r ON r.subscription_id = s.subscription_id ",
            $tail
        )
    };
}

impl Repo {
    /// The tables in `schema` (validated and migrated by the caller), the
    /// secrets sealed by `sealer`.
    pub fn new(pool: PgPool, schema: &str, sealer: Sealer) -> Self {
        Repo { pool, schema: schema.to_owned(), sealer }
    }

    /// The schema of the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Options to open a connection of its own to the database.
    pub fn connect_options(&self) -> sqlx::postgres::PgConnectOptions {
        self.pool.connect_options().as_ref().clone()
    }

    fn sql(&self, statement: &'static str) -> sqlx::SqlStr {
        schema_sql(&self.schema, statement)
    }

    /// Stores a new subscription with its secret (sealed) in the lowest
    /// free slot of its department; `None` when all [`WEBHOOK_SLOTS`] are
    /// taken (nothing stored).
    pub async fn insert(&self, new: &NewSubscription, secret: &str) -> Result<Option<SubscriptionRow>, PrivacyError> {
        let taken: i64 =
            sqlx::query_scalar(self.sql("SELECT count(*) FROM {schema}.subscriptions WHERE department = $1"))
                .bind(&new.department)
                .fetch_one(&self.pool)
                .await?;
        if taken >= i64::from(WEBHOOK_SLOTS) {
            return Ok(None);
        }
        let sealed = self.sealer.seal(new.subscription_id, secret).await?;
        // Two creations at once may pick the same slot: the unique index
        // refuses the second, which picks again.
        for _ in 0..3 {
            let done = sqlx::query(self.sql(
                "INSERT INTO {schema}.subscriptions
                     (subscription_id, department, url, description, secret_sealed, created_at, slot)
                 SELECT $1, $2, $3, $4, $5, $6, n::smallint FROM generate_series(1, $7::int) n
                  WHERE NOT EXISTS (SELECT 1 FROM {schema}.subscriptions WHERE department = $2 AND slot = n)
                  ORDER BY n LIMIT 1",
            ))
            .bind(new.subscription_id)
            .bind(&new.department)
            .bind(&new.url)
            .bind(&new.description)
            .bind(&sealed)
            .bind(new.created_at)
            .bind(i32::from(WEBHOOK_SLOTS))
            .execute(&self.pool)
            .await;
            match done {
                Ok(done) if done.rows_affected() == 0 => break,
                Ok(_) => return Ok(self.get(new.subscription_id).await?),
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => continue,
                Err(e) => return Err(e.into()),
            }
        }
        self.sealer.forget(new.subscription_id, "webhooks").await?;
        Ok(None)
    }

    /// One subscription.
    pub async fn get(&self, id: Uuid) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(self.sql(select_subscriptions!("WHERE s.subscription_id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Subscriptions, oldest first: of `department`, or all.
    pub async fn list(&self, department: Option<&str>) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(self.sql(select_subscriptions!(
            "WHERE $1::text IS NULL OR s.department = $1 ORDER BY s.created_at, s.subscription_id"
        )))
        .bind(department)
        .fetch_all(&self.pool)
        .await
    }

    /// The secrets of a subscription, opened (delivery only).
    pub async fn secrets(&self, id: Uuid) -> Result<Option<Secrets>, PrivacyError> {
        let row: Option<SealedSecrets> = sqlx::query_as(self.sql(
            "SELECT secret_sealed, previous_secret_sealed, previous_secret_until FROM {schema}.subscriptions
              WHERE subscription_id = $1",
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((current, previous, until)) = row else { return Ok(None) };
        let current = current.ok_or_else(|| PrivacyError::Malformed("a secret not sealed yet".into()))?;
        let current = self.sealer.open(id, &current).await?;
        let previous = match previous.zip(until) {
            Some((sealed, until)) => Some((self.sealer.open(id, &sealed).await?, until)),
            None => None,
        };
        Ok(Some(Secrets { current, previous }))
    }

    /// Seals the secrets step 1 of the schema stored in clear and empties
    /// their clear columns; the number of subscriptions sealed now (0 once
    /// done). Replicas starting together seal each row once.
    pub async fn seal_clear_secrets(&self) -> Result<u64, PrivacyError> {
        let clear: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(self.sql(
            "SELECT subscription_id, secret, previous_secret FROM {schema}.subscriptions WHERE secret IS NOT NULL",
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut sealed = 0;
        for (id, secret, previous) in clear {
            let current = self.sealer.seal(id, &secret).await?;
            let previous = match &previous {
                Some(p) => Some(self.sealer.seal(id, p).await?),
                None => None,
            };
            let done = sqlx::query(self.sql(
                "UPDATE {schema}.subscriptions SET secret_sealed = $2, previous_secret_sealed = $3,
                        secret = NULL, previous_secret = NULL
                  WHERE subscription_id = $1 AND secret = $4",
            ))
            .bind(id)
            .bind(current)
            .bind(previous)
            .bind(&secret)
            .execute(&self.pool)
            .await?;
            sealed += done.rows_affected();
        }
        Ok(sealed)
    }

    /// Changes URL and/or description; `None` when there is no such
    /// subscription.
    pub async fn update(
        &self,
        id: Uuid,
        url: Option<&str>,
        description: Option<&str>,
    ) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        let done = sqlx::query(self.sql(
            "UPDATE {schema}.subscriptions SET url = coalesce($2, url), description = coalesce($3, description),
             revision = revision + 1 WHERE subscription_id = $1",
        ))
        .bind(id)
        .bind(url)
        .bind(description)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get(id).await
    }

    /// Pauses or resumes; `None` when there is no such subscription.
    pub async fn set_paused(&self, id: Uuid, paused: bool) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        // Only a change bumps the revision: pausing a paused one restarts nothing.
        sqlx::query(self.sql(
            "UPDATE {schema}.subscriptions SET paused = $2, revision = revision + 1
             WHERE subscription_id = $1 AND paused <> $2",
        ))
        .bind(id)
        .bind(paused)
        .execute(&self.pool)
        .await?;
        self.get(id).await
    }

    /// Replaces the secret (sealed), keeping the old one until
    /// `grace_until`; false when there is no such subscription.
    pub async fn rotate(&self, id: Uuid, secret: &str, grace_until: DateTime<Utc>) -> Result<bool, PrivacyError> {
        if self.get(id).await?.is_none() {
            return Ok(false);
        }
        let sealed = self.sealer.seal(id, secret).await?;
        let done = sqlx::query(self.sql(
            "UPDATE {schema}.subscriptions SET previous_secret_sealed = secret_sealed, previous_secret_until = $3,
                    secret_sealed = $2
             WHERE subscription_id = $1",
        ))
        .bind(id)
        .bind(sealed)
        .bind(grace_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a subscription, its dead letters and replay, and erases its
    /// secrets' data key (`by` is recorded); false when absent.
    pub async fn delete(&self, id: Uuid, by: &str) -> Result<bool, PrivacyError> {
        let done = sqlx::query(self.sql("DELETE FROM {schema}.subscriptions WHERE subscription_id = $1"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 1 {
            self.sealer.forget(id, by).await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// Every subscription that delivers.
    pub async fn active(&self) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(
            self.sql(select_subscriptions!("WHERE NOT s.paused AND s.slot IS NOT NULL ORDER BY s.created_at")),
        )
        .fetch_all(&self.pool)
        .await
    }

    /// Notes a 2xx answer (at most once a second per subscription is written).
    pub async fn delivered(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query(self.sql(
            "UPDATE {schema}.subscriptions SET last_delivered_at = $2 WHERE subscription_id = $1
             AND (last_delivered_at IS NULL OR last_delivered_at < $2 - interval '1 second')",
        ))
        .bind(id)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a dead letter (nothing if the subscription is gone).
    pub async fn insert_dead_letter(&self, d: &NewDeadLetter) -> Result<(), sqlx::Error> {
        sqlx::query(self.sql(
            "INSERT INTO {schema}.dead_letters (subscription_id, event_id, case_id, event_type, replay, body,
                 last_status, last_error, attempts, first_attempt_at, last_attempt_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
             WHERE EXISTS (SELECT 1 FROM {schema}.subscriptions WHERE subscription_id = $1)",
        ))
        .bind(d.subscription_id)
        .bind(&d.event_id)
        .bind(&d.case_id)
        .bind(&d.event_type)
        .bind(d.replay)
        .bind(&d.body)
        .bind(i32::from(d.last_status))
        .bind(&d.last_error)
        .bind(i32::try_from(d.attempts).unwrap_or(i32::MAX))
        .bind(d.first_attempt_at)
        .bind(d.last_attempt_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The open dead letters of a subscription, oldest first (at most 1000).
    pub async fn dead_letters(&self, subscription: Uuid) -> Result<Vec<DeadLetterRow>, sqlx::Error> {
        sqlx::query_as(self.sql(
            "SELECT dead_letter_id, subscription_id, event_id, case_id, event_type, replay, last_status, last_error,
                    attempts, first_attempt_at, last_attempt_at
             FROM {schema}.dead_letters WHERE subscription_id = $1 ORDER BY dead_letter_id LIMIT 1000",
        ))
        .bind(subscription)
        .fetch_all(&self.pool)
        .await
    }

    /// One dead letter with its body.
    pub async fn dead_letter(&self, id: i64) -> Result<Option<(DeadLetterRow, Vec<u8>)>, sqlx::Error> {
        let row: Option<DeadLetterRow> = sqlx::query_as(self.sql(
            "SELECT dead_letter_id, subscription_id, event_id, case_id, event_type, replay, last_status, last_error,
                    attempts, first_attempt_at, last_attempt_at
             FROM {schema}.dead_letters WHERE dead_letter_id = $1",
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let body: Vec<u8> =
            sqlx::query_scalar(self.sql("SELECT body FROM {schema}.dead_letters WHERE dead_letter_id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some((row, body)))
    }

    /// Closes a dead letter; false when it was not open.
    pub async fn close_dead_letter(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(self.sql("DELETE FROM {schema}.dead_letters WHERE dead_letter_id = $1"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records one more failed attempt of a dead letter.
    pub async fn dead_letter_failed_again(
        &self,
        id: i64,
        status: u16,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(self.sql(
            "UPDATE {schema}.dead_letters SET last_status = $2, last_error = $3, attempts = attempts + 1,
             last_attempt_at = $4 WHERE dead_letter_id = $1",
        ))
        .bind(id)
        .bind(i32::from(status))
        .bind(error)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records `replay` as the subscription's replay under way, replacing
    /// any other.
    pub async fn put_replay(&self, replay: &ReplayRow) -> Result<(), sqlx::Error> {
        sqlx::query(self.sql(
            "INSERT INTO {schema}.replays (subscription_id, replay_id, from_time, until_sequence, events, started_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (subscription_id) DO UPDATE SET replay_id = $2, from_time = $3, until_sequence = $4,
                events = $5, started_at = $6",
        ))
        .bind(replay.subscription_id)
        .bind(replay.replay_id)
        .bind(replay.from_time)
        .bind(replay.until_sequence)
        .bind(replay.events)
        .bind(replay.started_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The replay under way of a subscription.
    pub async fn replay(&self, subscription: Uuid) -> Result<Option<ReplayRow>, sqlx::Error> {
        sqlx::query_as(self.sql(
            "SELECT subscription_id, replay_id, from_time, until_sequence, events, started_at
               FROM {schema}.replays WHERE subscription_id = $1",
        ))
        .bind(subscription)
        .fetch_optional(&self.pool)
        .await
    }

    /// The replays under way of the subscriptions that deliver.
    pub async fn active_replays(&self) -> Result<Vec<ReplayRow>, sqlx::Error> {
        sqlx::query_as(self.sql(
            "SELECT r.subscription_id, r.replay_id, r.from_time, r.until_sequence, r.events, r.started_at
               FROM {schema}.replays r JOIN {schema}.subscriptions s USING (subscription_id)
              WHERE NOT s.paused AND s.slot IS NOT NULL",
        ))
        .fetch_all(&self.pool)
        .await
    }

    /// Ends the replay `replay_id` (finished, or not started); nothing if
    /// another replaced it.
    pub async fn end_replay(&self, replay_id: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query(self.sql("DELETE FROM {schema}.replays WHERE replay_id = $1"))
            .bind(replay_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

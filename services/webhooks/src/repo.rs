//! The subscriptions and dead letters in the service's schema: every SQL
//! statement of the service. Secrets are read only by the delivery
//! ([`Repo::get`] returns them inside [`Secrets`], whose `Debug` hides them)
//! and never by a query that answers an RPC.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;

/// A subscription as stored, without its secrets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub subscription_id: Uuid,
    pub department: String,
    pub url: String,
    pub description: String,
    pub paused: bool,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// Open dead letters.
    pub dead_letters: i64,
}

/// The secrets a request is signed with: the current one, and the one
/// before the last rotation while it is still honoured.
#[derive(Clone)]
pub struct Secrets {
    current: String,
    previous: Option<(String, DateTime<Utc>)>,
}

impl Secrets {
    /// The secrets to sign with at `now`, the current first.
    pub fn at(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut all = vec![self.current.as_str()];
        if let Some((previous, until)) = &self.previous
            && now < *until
        {
            all.push(previous.as_str());
        }
        all
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
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

/// The service's tables.
#[derive(Debug, Clone)]
pub struct Repo {
    pool: PgPool,
    schema: String,
}

macro_rules! select_subscriptions {
    ($tail:literal) => {
        concat!(
            "SELECT s.subscription_id, s.department, s.url, s.description, s.paused, s.revision, s.created_at, ",
            "s.last_delivered_at, (SELECT count(*) FROM {schema}.dead_letters d WHERE d.subscription_id = s.subscription_id) AS dead_letters ",
            "FROM {schema}.subscriptions s ",
            $tail
        )
    };
}

impl Repo {
    /// The tables in `schema` (validated and migrated by the caller).
    pub fn new(pool: PgPool, schema: &str) -> Self {
        Repo { pool, schema: schema.to_owned() }
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

    /// Stores a new subscription with its secret.
    pub async fn insert(&self, new: &NewSubscription, secret: &str) -> Result<SubscriptionRow, sqlx::Error> {
        sqlx::query(self.sql(
            "INSERT INTO {schema}.subscriptions (subscription_id, department, url, description, secret, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        ))
        .bind(new.subscription_id)
        .bind(&new.department)
        .bind(&new.url)
        .bind(&new.description)
        .bind(secret)
        .bind(new.created_at)
        .execute(&self.pool)
        .await?;
        self.get(new.subscription_id).await?.ok_or(sqlx::Error::RowNotFound)
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

    /// The secrets of a subscription (delivery only).
    pub async fn secrets(&self, id: Uuid) -> Result<Option<Secrets>, sqlx::Error> {
        let row: Option<(String, Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(self.sql(
            "SELECT secret, previous_secret, previous_secret_until FROM {schema}.subscriptions WHERE subscription_id = $1",
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(current, previous, until)| Secrets { current, previous: previous.zip(until) }))
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

    /// Replaces the secret, keeping the old one until `grace_until`; false
    /// when there is no such subscription.
    pub async fn rotate(&self, id: Uuid, secret: &str, grace_until: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(self.sql(
            "UPDATE {schema}.subscriptions SET previous_secret = secret, previous_secret_until = $3, secret = $2
             WHERE subscription_id = $1",
        ))
        .bind(id)
        .bind(secret)
        .bind(grace_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a subscription and its dead letters; false when absent.
    pub async fn delete(&self, id: Uuid) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(self.sql("DELETE FROM {schema}.subscriptions WHERE subscription_id = $1"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every subscription that delivers.
    pub async fn active(&self) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(self.sql(select_subscriptions!("WHERE NOT s.paused ORDER BY s.created_at")))
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
}

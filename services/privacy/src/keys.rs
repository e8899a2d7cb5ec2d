//! The data keys of each subject (an applicant, named by the keyed hash of
//! their identity — never the identity itself), stored wrapped in the
//! service's schema. Erasing a subject deletes every wrapped key it has and
//! records who erased it, when and why: from then on nothing sealed under
//! them opens, wherever a copy of it lies.
//!
//! A subject has key *generations*: the first key is generation 0; when a
//! person whose keys were erased applies again, their new data is sealed
//! under a new generation, which the erasure before never touched and a
//! later one erases in turn. What is sealed names the generation it is
//! sealed under (`ApplicationSubmitted.data_key_generation`).

use std::ops::Deref;
use std::sync::Arc;

use sqlx::Row as _;
use sqlx::SqlStr;
use sqlx::{PgConnection, PgPool};
use yiciban_eventstore::Migrations;
use yiciban_eventstore::sql::schema_sql;

use crate::PrivacyError;
use crate::kek::{KeyEncryption, Wrapped};
use crate::seal::{Algorithm, SecretKey};

/// The data keys' table.
pub const DATA_KEYS: Migrations = Migrations {
    component: "privacy",
    steps: &[
        (
            1,
            r#"
-- one data key per subject; after erasure only the record of it remains
CREATE TABLE {schema}.data_keys (
    subject         TEXT PRIMARY KEY,
    algorithm       TEXT NOT NULL,
    kek_id          TEXT,
    wrapped         BYTEA,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at       TIMESTAMPTZ,
    erased_by       TEXT,
    erasure_reason  TEXT,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL)),
    CHECK ((wrapped IS NULL) = (kek_id IS NULL))
);
"#,
        ),
        (
            2,
            r#"
-- key generations: a subject erased and applying again gets a new key
ALTER TABLE {schema}.data_keys ADD COLUMN generation INT NOT NULL DEFAULT 0 CHECK (generation >= 0);
ALTER TABLE {schema}.data_keys DROP CONSTRAINT data_keys_pkey;
ALTER TABLE {schema}.data_keys ADD PRIMARY KEY (subject, generation);
"#,
        ),
    ],
};

/// What the associated data of a wrapped data key binds it to: the subject
/// and (from the second on) the generation.
fn aad(subject: &str, generation: u32) -> Vec<u8> {
    match generation {
        0 => format!("yiciban-data-key:{subject}").into_bytes(),
        n => format!("yiciban-data-key:{subject}:{n}").into_bytes(),
    }
}

/// A subject's data key of one generation.
#[derive(Debug)]
pub struct SubjectKey {
    /// Which of the subject's keys this is (0: the first).
    pub generation: u32,
    /// The key.
    pub key: SecretKey,
}

impl Deref for SubjectKey {
    type Target = SecretKey;

    fn deref(&self) -> &SecretKey {
        &self.key
    }
}

/// The wire's view: what is sealed with it names its generation.
impl yiciban_proto::sealed::DataKey for SubjectKey {
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        self.key.seal(plaintext, aad)
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        self.key.open(sealed, aad).ok()
    }

    fn generation(&self) -> u32 {
        self.generation
    }
}

/// Whether reading the latest key holds its row until the transaction ends.
#[derive(Clone, Copy)]
enum Hold {
    No,
    Share,
}

/// One row as stored: erased, or a wrapped key.
enum Stored {
    Erased { generation: u32 },
    Key(SubjectKey),
}

/// The data keys of one schema.
#[derive(Debug, Clone)]
pub struct DataKeys {
    pool: PgPool,
    keks: Arc<dyn KeyEncryption>,
    algorithm: Algorithm,
    insert: SqlStr,
    latest: SqlStr,
    latest_held: SqlStr,
    one: SqlStr,
    erase: SqlStr,
}

impl DataKeys {
    /// The data keys in `schema` (migrated with [`DATA_KEYS`]), wrapped by
    /// `keks`; new keys are for `algorithm`.
    pub fn new(pool: PgPool, schema: &str, keks: Arc<dyn KeyEncryption>, algorithm: Algorithm) -> DataKeys {
        DataKeys {
            pool,
            keks,
            algorithm,
            insert: schema_sql(
                schema,
                "INSERT INTO {schema}.data_keys (subject, generation, algorithm, kek_id, wrapped)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject, generation) DO NOTHING",
            ),
            latest: schema_sql(
                schema,
                "SELECT generation, algorithm, kek_id, wrapped FROM {schema}.data_keys
                  WHERE subject = $1 ORDER BY generation DESC LIMIT 1",
            ),
            // FOR SHARE: a sealing transaction holds the key until it commits,
            // so an erasure waits for it and then finds its case.
            latest_held: schema_sql(
                schema,
                "SELECT generation, algorithm, kek_id, wrapped FROM {schema}.data_keys
                  WHERE subject = $1 ORDER BY generation DESC LIMIT 1 FOR SHARE",
            ),
            one: schema_sql(
                schema,
                "SELECT generation, algorithm, kek_id, wrapped FROM {schema}.data_keys
                  WHERE subject = $1 AND generation = $2",
            ),
            // Every key of the subject not erased yet; a subject without any
            // (its data was written in clear before sealing, or never stored)
            // gets the record of its erasure as generation 0: it is what
            // hides the clear data.
            erase: schema_sql(
                schema,
                "WITH erased AS (
                     UPDATE {schema}.data_keys SET kek_id = NULL, wrapped = NULL, erased_at = now(),
                            erased_by = $2, erasure_reason = $3
                      WHERE subject = $1 AND erased_at IS NULL
                     RETURNING 1),
                 recorded AS (
                     INSERT INTO {schema}.data_keys (subject, generation, algorithm, erased_at, erased_by, erasure_reason)
                     SELECT $1, 0, $4, now(), $2, $3
                      WHERE NOT EXISTS (SELECT 1 FROM {schema}.data_keys WHERE subject = $1)
                     ON CONFLICT (subject, generation) DO NOTHING
                     RETURNING 1)
                 SELECT (SELECT count(*) FROM erased) + (SELECT count(*) FROM recorded) AS n",
            ),
        }
    }

    /// The subject's current data key, made on first use — and made anew (the
    /// next generation) when the subject's keys were erased: the person
    /// applies again after an erasure.
    pub async fn key_for(&self, subject: &str) -> Result<SubjectKey, PrivacyError> {
        // Outside a transaction a lock would be released at once: read first,
        // and take the making path only when there is no key to use.
        if let Some(key) = self.find(subject).await? {
            return Ok(key);
        }
        let mut conn = self.pool.acquire().await?;
        self.key_for_in(&mut conn, subject).await
    }

    /// Like [`DataKeys::key_for`] on the caller's connection, e.g. inside the
    /// transaction that stores what is sealed under the key: a new key is
    /// then stored with it or not at all, the command needs no second
    /// connection while it holds its locks, and an erasure of the subject
    /// waits until the transaction ends (the key's row is held).
    pub async fn key_for_in(&self, conn: &mut PgConnection, subject: &str) -> Result<SubjectKey, PrivacyError> {
        let generation = match self.latest_in(&mut *conn, subject, Hold::Share).await? {
            Some(Stored::Key(key)) => return Ok(key),
            Some(Stored::Erased { generation }) => generation + 1,
            None => 0,
        };
        let fresh = SecretKey::generate(self.algorithm);
        let wrapped = self.keks.wrap(&fresh, &aad(subject, generation))?;
        sqlx::query(self.insert.clone())
            .bind(subject)
            .bind(generation as i32)
            .bind(self.algorithm.name())
            .bind(&wrapped.kek_id)
            .bind(&wrapped.bytes)
            .execute(&mut *conn)
            .await?;
        // A concurrent first use may have stored its key first: use that one.
        match self.latest_in(conn, subject, Hold::Share).await? {
            Some(Stored::Key(key)) => Ok(key),
            _ => Err(PrivacyError::Erased { subject: subject.to_owned() }),
        }
    }

    /// The subject's current data key, if it has one that was not erased.
    pub async fn find(&self, subject: &str) -> Result<Option<SubjectKey>, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.find_in(&mut conn, subject).await
    }

    /// Like [`DataKeys::find`] on the caller's connection (a writer sealing
    /// inside its own transaction). Never makes a key.
    pub async fn find_in(&self, conn: &mut PgConnection, subject: &str) -> Result<Option<SubjectKey>, PrivacyError> {
        Ok(match self.latest_in(conn, subject, Hold::No).await? {
            Some(Stored::Key(key)) => Some(key),
            _ => None,
        })
    }

    /// The subject's data key of `generation`, if it exists and was not erased.
    pub async fn find_generation(&self, subject: &str, generation: u32) -> Result<Option<SubjectKey>, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.find_generation_in(&mut conn, subject, generation).await
    }

    /// Like [`DataKeys::find_generation`] on the caller's connection (a
    /// reader inside its own transaction needs no second connection).
    pub async fn find_generation_in(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        generation: u32,
    ) -> Result<Option<SubjectKey>, PrivacyError> {
        Ok(match self.one_in(conn, subject, generation).await? {
            Some(Stored::Key(key)) => Some(key),
            _ => None,
        })
    }

    /// True when the subject's first key (generation 0) was erased, which is
    /// what hides an applicant's events written in clear before sealing
    /// (false: it has the key, or none was ever made).
    pub async fn is_erased(&self, subject: &str) -> Result<bool, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.is_erased_in(&mut conn, subject).await
    }

    /// Like [`DataKeys::is_erased`] on the caller's connection.
    pub async fn is_erased_in(&self, conn: &mut PgConnection, subject: &str) -> Result<bool, PrivacyError> {
        Ok(matches!(self.one_in(conn, subject, 0).await?, Some(Stored::Erased { .. })))
    }

    /// Erases every key of the subject, recording who and why; true when
    /// something was erased now (also when the subject had no key yet: the
    /// record is made), false when all was erased before.
    pub async fn erase(&self, subject: &str, by: &str, reason: &str) -> Result<bool, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.erase_in(&mut conn, subject, by, reason).await
    }

    /// Like [`DataKeys::erase`] on the caller's connection: inside a
    /// transaction, a submission that wants the subject's key waits until it
    /// ends (and then gets a new generation).
    pub async fn erase_in(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        by: &str,
        reason: &str,
    ) -> Result<bool, PrivacyError> {
        let n: i64 = sqlx::query_scalar(self.erase.clone())
            .bind(subject)
            .bind(by)
            .bind(reason)
            .bind(self.algorithm.name())
            .fetch_one(conn)
            .await?;
        Ok(n > 0)
    }

    async fn latest_in(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        hold: Hold,
    ) -> Result<Option<Stored>, PrivacyError> {
        let sql = match hold {
            Hold::No => self.latest.clone(),
            Hold::Share => self.latest_held.clone(),
        };
        let row = sqlx::query(sql).bind(subject).fetch_optional(conn).await?;
        row.map(|row| self.unwrap_row(subject, &row)).transpose()
    }

    async fn one_in(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        generation: u32,
    ) -> Result<Option<Stored>, PrivacyError> {
        let row = sqlx::query(self.one.clone()).bind(subject).bind(generation as i32).fetch_optional(conn).await?;
        row.map(|row| self.unwrap_row(subject, &row)).transpose()
    }

    fn unwrap_row(&self, subject: &str, row: &sqlx::postgres::PgRow) -> Result<Stored, PrivacyError> {
        let generation = row.get::<i32, _>("generation") as u32;
        let (kek_id, bytes): (Option<String>, Option<Vec<u8>>) = (row.get("kek_id"), row.get("wrapped"));
        let (Some(kek_id), Some(bytes)) = (kek_id, bytes) else {
            return Ok(Stored::Erased { generation });
        };
        let algorithm = Algorithm::parse(row.get("algorithm"))?;
        let key = self.keks.unwrap(&Wrapped { kek_id, bytes }, algorithm, &aad(subject, generation))?;
        Ok(Stored::Key(SubjectKey { generation, key }))
    }
}

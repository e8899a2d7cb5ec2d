//! The data keys, one per subject (an applicant, named by the keyed hash of
//! their identity — never the identity itself), stored wrapped in the
//! service's schema. Erasing a subject deletes its wrapped key and records
//! who erased it, when and why: from then on nothing sealed under it opens,
//! wherever a copy of it lies.

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
    steps: &[(
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
    )],
};

/// What the associated data of a wrapped data key binds it to.
fn aad(subject: &str) -> Vec<u8> {
    format!("yiciban-data-key:{subject}").into_bytes()
}

/// The data keys of one schema.
#[derive(Debug, Clone)]
pub struct DataKeys {
    pool: PgPool,
    keks: Arc<dyn KeyEncryption>,
    algorithm: Algorithm,
    insert: SqlStr,
    select: SqlStr,
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
                "INSERT INTO {schema}.data_keys (subject, algorithm, kek_id, wrapped) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (subject) DO NOTHING",
            ),
            select: schema_sql(schema, "SELECT algorithm, kek_id, wrapped FROM {schema}.data_keys WHERE subject = $1"),
            // A subject without a key (its data was written in clear before
            // sealing, or never stored) gets the record of its erasure too:
            // it is what hides the clear data and refuses a new key.
            erase: schema_sql(
                schema,
                "INSERT INTO {schema}.data_keys AS k (subject, algorithm, erased_at, erased_by, erasure_reason)
                 VALUES ($1, $4, now(), $2, $3)
                 ON CONFLICT (subject) DO UPDATE SET kek_id = NULL, wrapped = NULL, erased_at = now(),
                        erased_by = $2, erasure_reason = $3
                  WHERE k.erased_at IS NULL",
            ),
        }
    }

    /// The subject's data key, made on first use. A subject erased before
    /// gets [`PrivacyError::Erased`]: nothing new is sealed for it.
    pub async fn key_for(&self, subject: &str) -> Result<SecretKey, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.key_for_in(&mut conn, subject).await
    }

    /// Like [`DataKeys::key_for`] on the caller's connection, e.g. inside the
    /// transaction that stores what is sealed under the key: a new key is
    /// then stored with it or not at all, and the command needs no second
    /// connection while it holds its locks.
    pub async fn key_for_in(&self, conn: &mut PgConnection, subject: &str) -> Result<SecretKey, PrivacyError> {
        if let Some(found) = self.stored_in(&mut *conn, subject).await? {
            return found;
        }
        let fresh = SecretKey::generate(self.algorithm);
        let wrapped = self.keks.wrap(&fresh, &aad(subject))?;
        sqlx::query(self.insert.clone())
            .bind(subject)
            .bind(self.algorithm.name())
            .bind(&wrapped.kek_id)
            .bind(&wrapped.bytes)
            .execute(&mut *conn)
            .await?;
        // A concurrent first use may have stored its key first: use that one.
        self.stored_in(conn, subject).await?.expect("stored just now")
    }

    /// The subject's data key, if it has one that was not erased.
    pub async fn find(&self, subject: &str) -> Result<Option<SecretKey>, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.find_in(&mut conn, subject).await
    }

    /// Like [`DataKeys::find`] on the caller's connection (a reader inside
    /// its own transaction needs no second connection).
    pub async fn find_in(&self, conn: &mut PgConnection, subject: &str) -> Result<Option<SecretKey>, PrivacyError> {
        match self.stored_in(conn, subject).await? {
            None | Some(Err(PrivacyError::Erased { .. })) => Ok(None),
            Some(found) => found.map(Some),
        }
    }

    /// True when the subject's data key was erased (false: it has a key, or
    /// none was ever made — as for an applicant whose events were written in
    /// clear before sealing).
    pub async fn is_erased(&self, subject: &str) -> Result<bool, PrivacyError> {
        let mut conn = self.pool.acquire().await?;
        self.is_erased_in(&mut conn, subject).await
    }

    /// Like [`DataKeys::is_erased`] on the caller's connection.
    pub async fn is_erased_in(&self, conn: &mut PgConnection, subject: &str) -> Result<bool, PrivacyError> {
        Ok(matches!(self.stored_in(conn, subject).await?, Some(Err(PrivacyError::Erased { .. }))))
    }

    /// Erases the subject's data key, recording who and why; true when the
    /// subject was erased now (also when it had no key yet: the record is
    /// made), false when it was erased before.
    pub async fn erase(&self, subject: &str, by: &str, reason: &str) -> Result<bool, PrivacyError> {
        let done = sqlx::query(self.erase.clone())
            .bind(subject)
            .bind(by)
            .bind(reason)
            .bind(self.algorithm.name())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `None`: no row; `Some(Err(Erased))`: erased; else the key unwrapped.
    async fn stored_in(
        &self,
        conn: &mut PgConnection,
        subject: &str,
    ) -> Result<Option<Result<SecretKey, PrivacyError>>, PrivacyError> {
        let Some(row) = sqlx::query(self.select.clone()).bind(subject).fetch_optional(conn).await? else {
            return Ok(None);
        };
        let (kek_id, bytes): (Option<String>, Option<Vec<u8>>) = (row.get("kek_id"), row.get("wrapped"));
        let (Some(kek_id), Some(bytes)) = (kek_id, bytes) else {
            return Ok(Some(Err(PrivacyError::Erased { subject: subject.to_owned() })));
        };
        let algorithm = Algorithm::parse(row.get("algorithm"))?;
        Ok(Some(self.keks.unwrap(&Wrapped { kek_id, bytes }, algorithm, &aad(subject))))
    }
}

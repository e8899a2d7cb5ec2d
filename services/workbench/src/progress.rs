//! The public progress page's state (ADR 0032): the tries of every client
//! address and case number within their windows, in the workbench's own
//! schema so that every replica counts the same tries, and the key the
//! page's form tokens are signed with. Addresses and case numbers are kept
//! only as SHA-256 and only for [`KEEP`]; no ID tail is kept at all.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use sqlx::SqlStr;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::Clock;

/// Tries one client address may make within [`ADDRESS_WINDOW`].
pub const ADDRESS_TRIES: i64 = 10;
/// The window of [`ADDRESS_TRIES`].
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Wrong tries (no such pair) on one case number within [`CASE_WINDOW`]
/// after which the number is not checked any more until they age out.
pub const CASE_WRONG_TRIES: i64 = 5;
/// The window of [`CASE_WRONG_TRIES`].
pub const CASE_WINDOW: Duration = Duration::from_secs(60 * 60);
/// How long a try is kept (the longest window).
pub const KEEP: Duration = CASE_WINDOW;

/// Why a try is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The address made [`ADDRESS_TRIES`] tries within [`ADDRESS_WINDOW`].
    Address,
    /// The case number had [`CASE_WRONG_TRIES`] wrong tries within [`CASE_WINDOW`].
    Case,
}

/// How a checked try ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Found,
    Wrong,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::Wrong => "wrong",
            Outcome::Failed => "failed",
        }
    }
}

/// A try admitted for checking; [`Tries::finish`] records how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted(i64);

/// The tries of the progress page and its form key.
#[derive(Clone)]
pub struct Tries {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    sql: Arc<Sql>,
    form_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl std::fmt::Debug for Tries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tries").finish_non_exhaustive()
    }
}

struct Sql {
    insert: SqlStr,
    address_count: SqlStr,
    case_wrong_count: SqlStr,
    set_outcome: SqlStr,
    sweep: SqlStr,
    insert_key: SqlStr,
    read_key: SqlStr,
}

fn ago(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
}

fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

impl Tries {
    pub fn new(pool: PgPool, schema: &str, clock: Arc<dyn Clock>) -> Tries {
        let sql = Sql {
            insert: schema_sql(
                schema,
                "INSERT INTO {schema}.progress_tries (address_hash, case_hash, outcome, tried_at)
                 VALUES ($1, $2, 'pending', $3) RETURNING id",
            ),
            // Every try of the address counts, refused ones too: an address
            // hammering on stays refused.
            address_count: schema_sql(
                schema,
                "SELECT count(*) FROM {schema}.progress_tries WHERE address_hash = $1 AND tried_at > $2 AND id <> $3",
            ),
            // Tries being checked count as wrong until they end: parallel
            // tries cannot slip past the limit together.
            case_wrong_count: schema_sql(
                schema,
                "SELECT count(*) FROM {schema}.progress_tries
                  WHERE case_hash = $1 AND tried_at > $2 AND id <> $3 AND outcome IN ('wrong', 'pending')",
            ),
            set_outcome: schema_sql(schema, "UPDATE {schema}.progress_tries SET outcome = $2 WHERE id = $1"),
            sweep: schema_sql(schema, "DELETE FROM {schema}.progress_tries WHERE tried_at <= $1"),
            insert_key: schema_sql(
                schema,
                "INSERT INTO {schema}.progress_form_key (key) VALUES ($1) ON CONFLICT (id) DO NOTHING",
            ),
            read_key: schema_sql(schema, "SELECT key FROM {schema}.progress_form_key"),
        };
        Tries { pool, clock, sql: Arc::new(sql), form_key: Arc::new(tokio::sync::OnceCell::new()) }
    }

    /// Records a try of `case_number` from `address` and says whether it may
    /// be checked: the address's limit first, then the case number's.
    pub async fn admit(&self, address: &str, case_number: &str) -> Result<Result<Admitted, Limited>, sqlx::Error> {
        let now = self.clock.now();
        let (address_hash, case_hash) = (sha256(address), sha256(case_number));
        let id: i64 = sqlx::query_scalar(self.sql.insert.clone())
            .bind(&address_hash)
            .bind(&case_hash)
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        let by_address: i64 = sqlx::query_scalar(self.sql.address_count.clone())
            .bind(&address_hash)
            .bind(ago(now, ADDRESS_WINDOW))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        let limited = if by_address >= ADDRESS_TRIES {
            Some(Limited::Address)
        } else {
            let wrong: i64 = sqlx::query_scalar(self.sql.case_wrong_count.clone())
                .bind(&case_hash)
                .bind(ago(now, CASE_WINDOW))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
            (wrong >= CASE_WRONG_TRIES).then_some(Limited::Case)
        };
        if let Some(limited) = limited {
            sqlx::query(self.sql.set_outcome.clone()).bind(id).bind("refused").execute(&self.pool).await?;
            return Ok(Err(limited));
        }
        Ok(Ok(Admitted(id)))
    }

    /// Records how an admitted try ended.
    pub async fn finish(&self, admitted: Admitted, outcome: Outcome) -> Result<(), sqlx::Error> {
        sqlx::query(self.sql.set_outcome.clone()).bind(admitted.0).bind(outcome.as_str()).execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes the tries past every window; how many.
    pub async fn sweep(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(self.sql.sweep.clone()).bind(ago(self.clock.now(), KEEP)).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// The form token for the browser's `nonce` (its progress cookie):
    /// HMAC-SHA256 under the schema's form key, hex.
    pub async fn form_token(&self, nonce: &str) -> Result<String, sqlx::Error> {
        let key = self.form_key().await?;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
        mac.update(nonce.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `sent` is the form token of `nonce`, compared without an
    /// early exit.
    pub async fn form_token_matches(&self, nonce: &str, sent: &str) -> Result<bool, sqlx::Error> {
        let expected = self.form_token(nonce).await?;
        Ok(!sent.is_empty() && Sha256::digest(sent.as_bytes()) == Sha256::digest(expected.as_bytes()))
    }

    /// The form key: made by the first replica, read by every other.
    async fn form_key(&self) -> Result<&Vec<u8>, sqlx::Error> {
        self.form_key
            .get_or_try_init(|| async {
                let fresh = yiciban_platform::auth::pkce::random_token();
                sqlx::query(self.sql.insert_key.clone()).bind(fresh.as_bytes()).execute(&self.pool).await?;
                sqlx::query_scalar(self.sql.read_key.clone()).fetch_one(&self.pool).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_case_numbers_are_kept_as_their_hashes() {
        let hashed = sha256("203.0.113.7");
        assert_eq!(hashed.len(), 32);
        assert_ne!(hashed, b"203.0.113.7".to_vec());
        assert!(KEEP >= ADDRESS_WINDOW && KEEP >= CASE_WINDOW);
    }
}

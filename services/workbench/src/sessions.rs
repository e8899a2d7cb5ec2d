//! Sessions kept server-side in the workbench's schema. The browser holds
//! only the session id (256 random bits) in its cookie; the table keys the
//! session by the id's SHA-256, so a reader of the table cannot act as
//! anyone. The person's tokens (the refresh token and an access token per
//! service audience) are sealed under the schema's data key
//! ([`TOKENS_KEY`], wrapped by the key-encryption keys, ADR 0024) and bound
//! to the session they belong to. A session ends when unused for the idle
//! time, at its absolute end, or at logout; the time is the injected clock's.
//!
//! Sign-ins under way are kept here too: the hash of their `state`, the
//! browser that started them (the hash of its sign-in cookie), the `nonce`
//! and the PKCE verifier (sealed); each is taken once, and only by the
//! browser that started it, within [`SIGN_IN_TTL`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use sqlx::SqlStr;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::{Clock, Role};
use yiciban_privacy::{DataKeys, PrivacyError, SubjectKey};

/// The data key subject the tokens are sealed under.
pub const TOKENS_KEY: &str = "workbench-session-tokens";

/// How long a sign-in may take at the issuer.
pub const SIGN_IN_TTL: Duration = Duration::from_secs(10 * 60);

/// A token this close to its expiry is refreshed before use.
const EXPIRY_MARGIN_SECONDS: i64 = 60;

/// A failure of the session store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the session store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the session tokens' key: {0}")]
    Sealing(#[from] PrivacyError),
    #[error("a session's tokens cannot be read: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// A secret value the browser holds (session id, sign-in binding): 256
/// random bits, base64url; stored only as its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserSecret(String);

impl std::fmt::Debug for BrowserSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserSecret(..)")
    }
}

impl BrowserSecret {
    /// A fresh secret.
    pub fn generate() -> BrowserSecret {
        BrowserSecret(yiciban_platform::auth::pkce::random_token())
    }

    /// A secret as a cookie carried it: exactly 43 base64url characters.
    pub fn parse(text: &str) -> Option<BrowserSecret> {
        (text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| BrowserSecret(text.to_owned()))
    }

    /// The value for the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the table keeps.
    pub fn hash(&self) -> Vec<u8> {
        hash(&self.0)
    }
}

/// SHA-256 of `text`.
pub fn hash(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// An access token for one audience.
#[derive(Clone, Serialize, Deserialize)]
pub struct Access {
    pub token: String,
    /// Seconds since the Unix epoch.
    pub expires_at: i64,
}

/// A session's tokens, as sealed.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Tokens {
    pub refresh_token: Option<String>,
    /// By audience (`urn:yiciban:tasks`, …).
    pub access: BTreeMap<String, Access>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("audiences", &self.access.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Tokens {
    /// The token for `audience` unless it expires within a minute of `now`.
    pub fn usable(&self, audience: &str, now: DateTime<Utc>) -> Option<&str> {
        self.access
            .get(audience)
            .filter(|a| a.expires_at - EXPIRY_MARGIN_SECONDS > now.timestamp())
            .map(|a| a.token.as_str())
    }

    /// Keeps `token` for `audience`, valid `lifetime` seconds from `now`.
    pub fn keep(&mut self, audience: &str, token: String, lifetime: u64, now: DateTime<Utc>) {
        let expires_at = now.timestamp().saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        self.access.insert(audience.to_owned(), Access { token, expires_at });
    }
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The staff login the services record (`preferred_username`).
    pub subject: String,
    pub role: Role,
    /// An agent's department code.
    pub department: Option<String>,
    /// The name the header shows.
    pub display_name: String,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    hash: Vec<u8>,
    /// The form token of this session.
    pub csrf_token: String,
    pub person: Person,
}

impl Session {
    /// The session's key in the table.
    pub fn key(&self) -> &[u8] {
        &self.hash
    }
}

/// What [`Sessions::access_token`] found.
#[derive(Debug)]
pub enum AccessToken<E> {
    /// A token for the audience.
    Token(String),
    /// The session ended meanwhile (logout elsewhere, expiry).
    Ended,
    /// The refresh was refused or failed, with why.
    Refused(E),
}

/// A sign-in under way, taken back at the callback.
#[derive(Debug)]
pub struct PendingSignIn {
    pub nonce: String,
    pub verifier: String,
    pub return_to: String,
}

/// A row of `sign_ins`: browser hash, nonce, sealed verifier, return path, start.
type SignInRow = (Vec<u8>, String, Vec<u8>, String, DateTime<Utc>);

/// The sessions and sign-ins of one schema.
#[derive(Clone)]
pub struct Sessions {
    pool: PgPool,
    keys: DataKeys,
    /// [`TOKENS_KEY`] once read: every request opens its session's tokens,
    /// and the key never changes (rotating the key-encryption keys rewraps
    /// it, the key itself stays).
    tokens_key: Arc<std::sync::OnceLock<Arc<SubjectKey>>>,
    clock: Arc<dyn Clock>,
    idle: chrono::Duration,
    max: chrono::Duration,
    sql: Arc<Sql>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("idle", &self.idle).field("max", &self.max).finish_non_exhaustive()
    }
}

struct Sql {
    insert: SqlStr,
    touch: SqlStr,
    delete: SqlStr,
    lock_tokens: SqlStr,
    store_tokens: SqlStr,
    sweep_sessions: SqlStr,
    insert_sign_in: SqlStr,
    take_sign_in: SqlStr,
    sweep_sign_ins: SqlStr,
}

impl Sql {
    fn new(schema: &str) -> Sql {
        Sql {
            insert: schema_sql(
                schema,
                "INSERT INTO {schema}.sessions (session_hash, csrf_token, subject, role, department, display_name,
                     tokens, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
            ),
            // One statement finds a live session and marks it used; a
            // session past either end is not found (and swept later).
            touch: schema_sql(
                schema,
                "UPDATE {schema}.sessions SET last_seen_at = $2
                  WHERE session_hash = $1 AND expires_at > $2 AND last_seen_at > $3
                 RETURNING csrf_token, subject, role, department, display_name",
            ),
            delete: schema_sql(schema, "DELETE FROM {schema}.sessions WHERE session_hash = $1 RETURNING tokens"),
            // Refreshes of one session are serialised on its row: the issuer
            // may rotate the refresh token, and a rotated-out token presented
            // again would revoke the whole sign-in.
            lock_tokens: schema_sql(
                schema,
                "SELECT tokens FROM {schema}.sessions WHERE session_hash = $1 AND expires_at > $2 FOR UPDATE",
            ),
            store_tokens: schema_sql(schema, "UPDATE {schema}.sessions SET tokens = $2 WHERE session_hash = $1"),
            sweep_sessions: schema_sql(
                schema,
                "DELETE FROM {schema}.sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
            ),
            insert_sign_in: schema_sql(
                schema,
                "INSERT INTO {schema}.sign_ins (state_hash, browser_hash, nonce, verifier, return_to, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            ),
            // Taken once: whoever presents the state deletes the row, and
            // only the browser that started it, in time, gets it back.
            take_sign_in: schema_sql(
                schema,
                "DELETE FROM {schema}.sign_ins WHERE state_hash = $1
                 RETURNING browser_hash, nonce, verifier, return_to, created_at",
            ),
            sweep_sign_ins: schema_sql(schema, "DELETE FROM {schema}.sign_ins WHERE created_at <= $1"),
        }
    }
}

fn span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Sessions {
    /// The sessions in `schema` (migrated with [`crate::schema::WORKBENCH`]
    /// and the data keys), ending after `idle` unused and `max` after
    /// sign-in.
    pub fn new(
        pool: PgPool,
        schema: &str,
        keys: DataKeys,
        clock: Arc<dyn Clock>,
        idle: Duration,
        max: Duration,
    ) -> Self {
        Sessions {
            pool,
            keys,
            tokens_key: Arc::default(),
            clock,
            idle: span(idle),
            max: span(max),
            sql: Arc::new(Sql::new(schema)),
        }
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The tokens' key, read (or made) on `conn` the first time only.
    async fn tokens_key(&self, conn: &mut sqlx::PgConnection) -> Result<Arc<SubjectKey>, StoreError> {
        if let Some(key) = self.tokens_key.get() {
            return Ok(key.clone());
        }
        let key = Arc::new(self.keys.key_for_in(conn, TOKENS_KEY).await?);
        Ok(self.tokens_key.get_or_init(|| key).clone())
    }

    /// The tokens' key, on a connection of its own the first time only.
    async fn tokens_key_now(&self) -> Result<Arc<SubjectKey>, StoreError> {
        match self.tokens_key.get() {
            Some(key) => Ok(key.clone()),
            None => self.tokens_key(&mut *self.pool.acquire().await?).await,
        }
    }

    async fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Result<Vec<u8>, StoreError> {
        Ok(self.tokens_key_now().await?.seal(plaintext, bound_to))
    }

    async fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Result<Vec<u8>, StoreError> {
        Ok(self.tokens_key_now().await?.open(sealed, bound_to)?)
    }

    /// Starts a session for `person` with `tokens`; the id for the cookie.
    #[tracing::instrument(skip_all, err)]
    pub async fn create(&self, person: &Person, tokens: &Tokens) -> Result<(BrowserSecret, Session), StoreError> {
        let id = BrowserSecret::generate();
        let hash = id.hash();
        let sealed = self.seal(&serde_json::to_vec(tokens)?, &hash).await?;
        let now = self.now();
        let csrf_token = yiciban_platform::auth::pkce::random_token();
        sqlx::query(self.sql.insert.clone())
            .bind(&hash)
            .bind(&csrf_token)
            .bind(&person.subject)
            .bind(person.role.as_str())
            .bind(&person.department)
            .bind(&person.display_name)
            .bind(&sealed)
            .bind(now)
            .bind(now + self.max)
            .execute(&self.pool)
            .await?;
        Ok((id, Session { hash, csrf_token, person: person.clone() }))
    }

    /// The live session of `id`, marked used now; `None` when there is none
    /// (never was, ended, idle too long, past its absolute end).
    #[tracing::instrument(skip_all, err)]
    pub async fn find(&self, id: &BrowserSecret) -> Result<Option<Session>, StoreError> {
        let now = self.now();
        let row: Option<(String, String, String, Option<String>, String)> = sqlx::query_as(self.sql.touch.clone())
            .bind(id.hash())
            .bind(now)
            .bind(now - self.idle)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|(csrf_token, subject, role, department, display_name)| {
            // A role this build does not know ends the session rather than guessing.
            let role = role.parse().ok()?;
            Some(Session { hash: id.hash(), csrf_token, person: Person { subject, role, department, display_name } })
        }))
    }

    /// Ends the session of `id`; its tokens, if it was live, for revocation.
    #[tracing::instrument(skip_all, err)]
    pub async fn end(&self, id: &BrowserSecret) -> Result<Option<Tokens>, StoreError> {
        let hash = id.hash();
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar(self.sql.delete.clone()).bind(&hash).fetch_optional(&self.pool).await?;
        match sealed {
            None => Ok(None),
            Some(sealed) => Ok(Some(serde_json::from_slice(&self.open(&sealed, &hash).await?)?)),
        }
    }

    /// The session's access token for `audience`: the one held while it is
    /// good for another minute, else one `refresh` gets (under the
    /// session's row lock, so one refresh at a time per session).
    pub async fn access_token<F, Fut, E>(
        &self,
        session: &Session,
        audience: &str,
        refresh: F,
    ) -> Result<AccessToken<E>, StoreError>
    where
        F: FnOnce(Tokens) -> Fut,
        Fut: Future<Output = Result<Tokens, E>>,
    {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let sealed: Option<Vec<u8>> = sqlx::query_scalar(self.sql.lock_tokens.clone())
            .bind(&session.hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(sealed) = sealed else { return Ok(AccessToken::Ended) };
        // The key on the transaction's own connection: a request holds one
        // connection at a time, however small the pool.
        let key = self.tokens_key(&mut tx).await?;
        let tokens: Tokens = serde_json::from_slice(&key.open(&sealed, &session.hash)?)?;
        if let Some(token) = tokens.usable(audience, now) {
            return Ok(AccessToken::Token(token.to_owned()));
        }
        let fresh = match refresh(tokens).await {
            Ok(fresh) => fresh,
            Err(refused) => return Ok(AccessToken::Refused(refused)),
        };
        // Just issued: used even when the issuer gives tokens shorter than the margin.
        let token = fresh.access.get(audience).map(|a| a.token.clone()).unwrap_or_default();
        let sealed = key.seal(&serde_json::to_vec(&fresh)?, &session.hash);
        sqlx::query(self.sql.store_tokens.clone()).bind(&session.hash).bind(&sealed).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(AccessToken::Token(token))
    }

    /// Keeps a sign-in started by the browser holding `browser`.
    #[tracing::instrument(skip_all, err)]
    pub async fn begin_sign_in(
        &self,
        state: &str,
        browser: &BrowserSecret,
        nonce: &str,
        verifier: &str,
        return_to: &str,
    ) -> Result<(), StoreError> {
        let state_hash = hash(state);
        let sealed = self.seal(verifier.as_bytes(), &state_hash).await?;
        sqlx::query(self.sql.insert_sign_in.clone())
            .bind(&state_hash)
            .bind(browser.hash())
            .bind(nonce)
            .bind(&sealed)
            .bind(return_to)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes the sign-in of `state` back (once): `None` unless it exists,
    /// was started by the browser holding `browser` and is not older than
    /// [`SIGN_IN_TTL`].
    #[tracing::instrument(skip_all, err)]
    pub async fn take_sign_in(
        &self,
        state: &str,
        browser: Option<&BrowserSecret>,
    ) -> Result<Option<PendingSignIn>, StoreError> {
        let state_hash = hash(state);
        let row: Option<SignInRow> =
            sqlx::query_as(self.sql.take_sign_in.clone()).bind(&state_hash).fetch_optional(&self.pool).await?;
        let Some((browser_hash, nonce, sealed, return_to, created_at)) = row else { return Ok(None) };
        let same_browser = browser.is_some_and(|b| b.hash() == browser_hash);
        if !same_browser || self.now() - created_at > span(SIGN_IN_TTL) {
            return Ok(None);
        }
        let verifier = String::from_utf8(self.open(&sealed, &state_hash).await?)
            .map_err(|_| StoreError::Sealing(PrivacyError::Config("a sealed verifier is not text".into())))?;
        Ok(Some(PendingSignIn { nonce, verifier, return_to }))
    }

    /// Deletes every ended session and every sign-in past its time; how
    /// many of each.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep(&self) -> Result<(u64, u64), StoreError> {
        let now = self.now();
        let sessions =
            sqlx::query(self.sql.sweep_sessions.clone()).bind(now).bind(now - self.idle).execute(&self.pool).await?;
        let sign_ins =
            sqlx::query(self.sql.sweep_sign_ins.clone()).bind(now - span(SIGN_IN_TTL)).execute(&self.pool).await?;
        Ok((sessions.rows_affected(), sign_ins.rows_affected()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_secret_is_43_base64url_characters_and_kept_as_its_hash() {
        let secret = BrowserSecret::generate();
        assert_eq!(BrowserSecret::parse(secret.expose()), Some(secret.clone()));
        assert_eq!(secret.hash().len(), 32);
        assert_ne!(secret.hash(), secret.expose().as_bytes());
        for bad in ["", "short", &"a".repeat(44), &format!("{}=", "a".repeat(42)), &format!("{};", "a".repeat(42))] {
            assert!(BrowserSecret::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(format!("{secret:?}"), "BrowserSecret(..)");
    }

    #[test]
    fn a_token_is_used_until_a_minute_before_it_expires() {
        let now = Utc::now();
        let mut tokens = Tokens::default();
        tokens.keep("urn:yiciban:tasks", "secret-access-token".into(), 120, now);
        assert_eq!(tokens.usable("urn:yiciban:tasks", now), Some("secret-access-token"));
        assert_eq!(tokens.usable("urn:yiciban:tasks", now + chrono::Duration::seconds(61)), None);
        assert_eq!(tokens.usable("urn:yiciban:intake", now), None);
        assert!(!format!("{tokens:?}").contains("secret-access-token"));
    }
}

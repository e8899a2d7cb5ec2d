//! The credit list (信用名单) and its history. An entry is keyed by the
//! applicant's lookup value (`IdentityKey`, never the number); every change
//! is also written, in the same transaction, to `credit_changes`, which is
//! never updated or deleted (a trigger refuses it): who set which status,
//! why, until when, over which status. A restriction ends on its own: after
//! `restricted_until` the entry is NORMAL again, without a change.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Row as _};
use yiciban_domain::intake::CreditStatus;
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{EventStore, IdempotencyRecord};

/// An entry of the credit list as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub status: CreditStatus,
    pub reason: String,
    pub restricted_until: Option<NaiveDate>,
    pub updated_at: Option<DateTime<Utc>>,
    /// 0 when the applicant was never listed.
    pub version: i64,
}

impl CreditEntry {
    /// The entry of an applicant never listed.
    pub fn unlisted() -> Self {
        CreditEntry {
            status: CreditStatus::Normal,
            reason: String::new(),
            restricted_until: None,
            updated_at: None,
            version: 0,
        }
    }

    /// The status in force on `today`: the entry's, or NORMAL once its
    /// restriction has ended (the day after `restricted_until`).
    pub fn in_force(&self, today: NaiveDate) -> CreditStatus {
        match self.restricted_until {
            Some(last) if today > last => CreditStatus::Normal,
            _ => self.status,
        }
    }
}

/// One change of the credit list, as recorded in its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditChange {
    pub version: i64,
    pub status: CreditStatus,
    /// The status before; `None` for a change recorded before the history
    /// was kept (the list's entries at that time became their first change).
    pub previous: Option<CreditStatus>,
    pub reason: String,
    pub restricted_until: Option<NaiveDate>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// What a change sets.
#[derive(Debug, Clone)]
pub struct NewCreditChange<'a> {
    pub identity_key: &'a str,
    pub status: CreditStatus,
    pub reason: &'a str,
    pub restricted_until: Option<NaiveDate>,
    pub by: &'a str,
    /// The version the caller last saw (0 = never listed), or `None` not to check.
    pub expected: Option<i64>,
}

/// How a change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Recorded; the entry's new version.
    Recorded(i64),
    /// The entry is not at the expected version; nothing recorded.
    Stale,
    /// The idempotency key was taken meanwhile (a concurrent retry):
    /// nothing recorded; look the key up again.
    KeyTaken,
}

pub fn status_to_db(status: CreditStatus) -> &'static str {
    match status {
        CreditStatus::Good => "good",
        CreditStatus::Normal => "normal",
        CreditStatus::Dishonest => "dishonest",
    }
}

pub fn status_from_db(s: &str) -> CreditStatus {
    match s {
        "good" => CreditStatus::Good,
        "dishonest" => CreditStatus::Dishonest,
        _ => CreditStatus::Normal,
    }
}

/// The applicant's entry (an unlisted one when there is none).
pub async fn entry(pool: &PgPool, schema: &str, identity_key: &str) -> sqlx::Result<CreditEntry> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT status, reason, restricted_until, updated_at, version FROM {schema}.credit_list WHERE identity_key = $1",
    ))
    .bind(identity_key)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or_else(CreditEntry::unlisted, |row| CreditEntry {
        status: status_from_db(row.get("status")),
        reason: row.get("reason"),
        restricted_until: row.get("restricted_until"),
        updated_at: Some(row.get("updated_at")),
        version: row.get("version"),
    }))
}

/// Records `change` with the idempotency `record` (its response holds the
/// new version) in one transaction: the history row, the entry, the key.
pub async fn change(
    store: &EventStore,
    change: &NewCreditChange<'_>,
    record: impl FnOnce(i64) -> IdempotencyRecord,
) -> sqlx::Result<Changed> {
    let schema = store.schema();
    let mut tx = store.pool().begin().await?;
    let current: Option<(i64, String)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT version, status FROM {schema}.credit_list WHERE identity_key = $1 FOR UPDATE",
    ))
    .bind(change.identity_key)
    .fetch_optional(&mut *tx)
    .await?;
    let (version, previous) = current.unwrap_or((0, "normal".to_owned()));
    if change.expected.is_some_and(|e| e != version) {
        return Ok(Changed::Stale);
    }
    let next = version + 1;
    let status = status_to_db(change.status);
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.credit_changes
             (identity_key, version, status, previous_status, reason, restricted_until, changed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    ))
    .bind(change.identity_key)
    .bind(next)
    .bind(status)
    .bind(&previous)
    .bind(change.reason)
    .bind(change.restricted_until)
    .bind(change.by)
    .execute(&mut *tx)
    .await?;
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.credit_list (identity_key, status, reason, restricted_until, version, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (identity_key) DO UPDATE
            SET status = $2, reason = $3, restricted_until = $4, version = $5, updated_by = $6, updated_at = now()",
    ))
    .bind(change.identity_key)
    .bind(status)
    .bind(change.reason)
    .bind(change.restricted_until)
    .bind(next)
    .bind(change.by)
    .execute(&mut *tx)
    .await?;
    if !store.remember_in(&mut tx, &record(next)).await? {
        return Ok(Changed::KeyTaken);
    }
    tx.commit().await?;
    Ok(Changed::Recorded(next))
}

/// The applicant's changes, newest first, at most `limit`.
pub async fn history(pool: &PgPool, schema: &str, identity_key: &str, limit: i64) -> sqlx::Result<Vec<CreditChange>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT version, status, previous_status, reason, restricted_until, changed_by, changed_at
           FROM {schema}.credit_changes WHERE identity_key = $1 ORDER BY version DESC LIMIT $2",
    ))
    .bind(identity_key)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|row| CreditChange {
            version: row.get("version"),
            status: status_from_db(row.get("status")),
            previous: match row.get::<String, _>("previous_status").as_str() {
                "unknown" => None,
                s => Some(status_from_db(s)),
            },
            reason: row.get("reason"),
            restricted_until: row.get("restricted_until"),
            changed_by: row.get("changed_by"),
            changed_at: row.get("changed_at"),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_restriction_holds_through_its_last_day_and_ends_the_day_after() {
        let entry =
            CreditEntry { status: CreditStatus::Dishonest, restricted_until: Some(day(10)), ..CreditEntry::unlisted() };
        assert_eq!(entry.in_force(day(9)), CreditStatus::Dishonest);
        assert_eq!(entry.in_force(day(10)), CreditStatus::Dishonest);
        assert_eq!(entry.in_force(day(11)), CreditStatus::Normal);
        let open_ended = CreditEntry { restricted_until: None, ..entry };
        assert_eq!(open_ended.in_force(day(31)), CreditStatus::Dishonest);
        assert_eq!(CreditEntry::unlisted().in_force(day(1)), CreditStatus::Normal);
    }

    #[test]
    fn statuses_read_back_as_stored() {
        for s in [CreditStatus::Good, CreditStatus::Normal, CreditStatus::Dishonest] {
            assert_eq!(status_from_db(status_to_db(s)), s);
        }
    }
}

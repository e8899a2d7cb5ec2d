//! 办件备注 (ADR 0034): the notes on a case, in intake's `case_notes` table
//! — each text sealed under the applicant's data key, so that erasing the
//! applicant (the key deleted) leaves every note unreadable, in every copy —
//! and the check of a note's text. Nothing here is an event: no note goes
//! to NATS.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row as _};
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_privacy::{DataKeys, PrivacyError, SubjectKey};

/// The longest note, in characters.
pub const MAX_CHARS: usize = 1000;

/// Why a note's text is refused; `None` when it is fine.
pub fn text_violation(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        return Some("备注不能为空 / the note is empty");
    }
    if text.chars().count() > MAX_CHARS {
        return Some("备注至多 1000 字 / at most 1000 characters");
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Some("备注不能含控制字符 / no control characters but line breaks");
    }
    None
}

/// A note as stored, its text opened when the key is still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub note_id: Uuid,
    pub author: String,
    pub author_role: String,
    pub written_at: DateTime<Utc>,
    /// `None` once the applicant was erased.
    pub text: Option<String>,
}

/// What a new note is.
#[derive(Debug, Clone)]
pub struct NewNote<'a> {
    pub case_id: Uuid,
    pub author: &'a str,
    pub author_role: &'a str,
    pub written_at: DateTime<Utc>,
    pub text: &'a str,
    /// The idempotency key as stored, and the request's fingerprint.
    pub idempotency: (&'a str, &'a str),
}

/// How adding a note went.
#[derive(Debug)]
pub enum Added {
    /// Stored now, or stored before for the same request.
    Note(Note),
    /// The key was used for another request.
    KeyReused,
    /// The applicant's data key is gone: nothing can be sealed.
    Erased,
}

/// The sealing's associated data: the note, its case and its subject.
fn aad(note_id: Uuid, case_id: Uuid, subject: &str) -> Vec<u8> {
    format!("yiciban case note\0{note_id}\0{case_id}\0{subject}").into_bytes()
}

/// The store of notes in intake's schema.
#[derive(Debug, Clone)]
pub struct Notes {
    pool: PgPool,
    schema: String,
    keys: DataKeys,
}

/// A failure of the database or of the keys.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    #[error("the notes table")]
    Db(#[from] sqlx::Error),
    #[error("the applicant's data key")]
    Keys(#[from] PrivacyError),
}

impl Notes {
    pub fn new(pool: PgPool, schema: &str, keys: DataKeys) -> Notes {
        Notes { pool, schema: schema.to_owned(), keys }
    }

    /// Seals and stores `note` under the current key of `subject` (the
    /// case's applicant); a retry of the same request returns the note.
    pub async fn add(&self, subject: &str, note: &NewNote<'_>) -> Result<Added, NotesError> {
        let (key, hash) = note.idempotency;
        if let Some(found) = self.by_key(key).await? {
            return Ok(if found.1 == hash { Added::Note(found.0) } else { Added::KeyReused });
        }
        let mut tx = self.pool.begin().await?;
        // Held until the note is stored: an erasure waits, or comes first.
        let Some(SubjectKey { generation, key: data_key }) = self.keys.find_in(&mut tx, subject).await? else {
            return Ok(Added::Erased);
        };
        let note_id = Uuid::now_v7();
        let sealed = data_key.seal(note.text.as_bytes(), &aad(note_id, note.case_id, subject));
        let inserted = sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.case_notes (note_id, case_id, author, author_role, written_at, data_subject,
                                              key_generation, sealed_text, idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (idempotency_key) DO NOTHING",
        ))
        .bind(note_id)
        .bind(note.case_id)
        .bind(note.author)
        .bind(note.author_role)
        .bind(note.written_at)
        .bind(subject)
        .bind(i32::try_from(generation).unwrap_or(i32::MAX))
        .bind(&sealed)
        .bind(key)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if inserted.rows_affected() == 0 {
            // A concurrent retry stored it first.
            return Ok(match self.by_key(key).await? {
                Some((found, stored)) if stored == hash => Added::Note(found),
                _ => Added::KeyReused,
            });
        }
        let text = Some(note.text.to_owned());
        Ok(Added::Note(Note {
            note_id,
            author: note.author.to_owned(),
            author_role: note.author_role.to_owned(),
            written_at: note.written_at,
            text,
        }))
    }

    async fn by_key(&self, key: &str) -> Result<Option<(Note, String)>, NotesError> {
        let row = sqlx::query(schema_sql(
            &self.schema,
            "SELECT note_id, case_id, author, author_role, written_at, data_subject, key_generation, sealed_text,
                    request_hash
               FROM {schema}.case_notes WHERE idempotency_key = $1",
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let hash: String = row.get("request_hash");
                Ok(Some((self.opened(&row).await?, hash)))
            }
        }
    }

    /// The notes of a case, oldest first, each opened with its key.
    pub async fn of_case(&self, case_id: Uuid) -> Result<Vec<Note>, NotesError> {
        let rows = sqlx::query(schema_sql(
            &self.schema,
            "SELECT note_id, case_id, author, author_role, written_at, data_subject, key_generation, sealed_text
               FROM {schema}.case_notes WHERE case_id = $1 ORDER BY written_at, note_id",
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut notes = Vec::with_capacity(rows.len());
        for row in &rows {
            notes.push(self.opened(row).await?);
        }
        Ok(notes)
    }

    /// A row with its text opened; `None` text when the key is gone (or
    /// the seal does not open: never shown garbled).
    async fn opened(&self, row: &sqlx::postgres::PgRow) -> Result<Note, NotesError> {
        let note_id: Uuid = row.get("note_id");
        let case_id: Uuid = row.get("case_id");
        let subject: String = row.get("data_subject");
        let generation = u32::try_from(row.get::<i32, _>("key_generation")).unwrap_or(0);
        let sealed: Vec<u8> = row.get("sealed_text");
        let text = match self.keys.find_generation(&subject, generation).await? {
            Some(key) => {
                key.open(&sealed, &aad(note_id, case_id, &subject)).ok().and_then(|plain| String::from_utf8(plain).ok())
            }
            None => None,
        };
        Ok(Note {
            note_id,
            author: row.get("author"),
            author_role: row.get("author_role"),
            written_at: row.get("written_at"),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_short_text_with_line_breaks_at_most() {
        assert_eq!(text_violation("申请人来电：下周一补交出生医学证明\n已告知所需原件"), None);
        assert!(text_violation("  ").is_some());
        assert!(text_violation(&"字".repeat(1001)).is_some());
        assert_eq!(text_violation(&"字".repeat(1000)), None);
        assert!(text_violation("bell\u{7}").is_some());
        assert!(text_violation("tab\there").is_some());
    }
}

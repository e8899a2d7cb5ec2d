//! Contact data of askers and complainants (personal data): checked at the
//! edge, sealed under the record's own data key (subject
//! `consultation:<id>` or `opinion:<id>`, in the supervision schema) in the
//! command's transaction, never in an event, log or subject; shown only
//! masked; erased — row and key — once its `keep_until` day has passed
//! ([`purge`]). See docs/PRIVACY.md.

use chrono::NaiveDate;
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::FieldViolation;
use yiciban_privacy::DataKeys;
use yiciban_proto::supervision::v1 as pb;

/// The most characters of a name.
pub const NAME_MAX_CHARS: usize = 50;

/// A contact to seal with a new record.
#[derive(Debug, Clone, PartialEq)]
pub struct ToSeal {
    /// The data key's subject: `consultation:<id>` or `opinion:<id>`.
    pub subject: String,
    /// Name and phone, trimmed.
    pub contact: pb::Contact,
    /// The last day it is kept.
    pub keep_until: NaiveDate,
}

/// The data-key subject of a record.
pub fn subject(kind: &str, id: Uuid) -> String {
    format!("{kind}:{id}")
}

/// The contact of a request, trimmed; `None` when nothing was given.
/// Violations name `contact.name` and `contact.phone` and never repeat the
/// value.
pub fn check(contact: Option<&pb::Contact>, violations: &mut Vec<FieldViolation>) -> Option<pb::Contact> {
    let contact = contact?;
    let name = contact.name.trim().to_owned();
    let phone = contact.phone.trim().to_owned();
    if name.chars().count() > NAME_MAX_CHARS {
        violations.push(FieldViolation {
            field: "contact.name".into(),
            description: format!("姓名不能超过{NAME_MAX_CHARS}个字符"),
        });
    }
    if !phone.is_empty() && !valid_phone(&phone) {
        violations.push(FieldViolation {
            field: "contact.phone".into(),
            description: "联系电话应为5至20位数字（可含“-”，可以“+”开头）".into(),
        });
    }
    (!name.is_empty() || !phone.is_empty()).then_some(pb::Contact { name, phone })
}

fn valid_phone(phone: &str) -> bool {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    body.chars().all(|c| c.is_ascii_digit() || c == '-') && (5..=20).contains(&digits)
}

/// Seals `to_seal` under a new data key of its subject and stores it, in
/// the command's transaction.
pub async fn seal_in(
    tx: &mut PgConnection,
    schema: &str,
    keys: &DataKeys,
    record_id: Uuid,
    to_seal: &ToSeal,
) -> anyhow::Result<()> {
    let key = keys.key_for_in(&mut *tx, &to_seal.subject).await?;
    let sealed = key.seal(&to_seal.contact.encode_to_vec(), to_seal.subject.as_bytes());
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.contacts (record_id, subject, generation, sealed, keep_until)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (record_id) DO NOTHING",
    ))
    .bind(record_id)
    .bind(&to_seal.subject)
    .bind(i32::try_from(key.generation).unwrap_or(i32::MAX))
    .bind(sealed)
    .bind(to_seal.keep_until)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Erases every contact kept past its day (`keep_until < today`): its data
/// key first (what is sealed under it is unreadable from then on, backups
/// included), then its row. Returns how many.
pub async fn purge(pool: &sqlx::PgPool, schema: &str, keys: &DataKeys, today: NaiveDate) -> anyhow::Result<usize> {
    let due: Vec<(Uuid, String)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT record_id, subject FROM {schema}.contacts WHERE keep_until < $1 ORDER BY keep_until LIMIT 500",
    ))
    .bind(today)
    .fetch_all(pool)
    .await?;
    for (record_id, subject) in &due {
        keys.erase(subject, crate::SWEEPER, "retention period of contact data ended").await?;
        sqlx::query(schema_sql(schema, "DELETE FROM {schema}.contacts WHERE record_id = $1"))
            .bind(record_id)
            .execute(pool)
            .await?;
    }
    Ok(due.len())
}

/// A name masked (its first character, then `*`) and a phone masked (the
/// first 3 and last 4 digits kept when it has more than 7).
pub fn masked(contact: &pb::Contact) -> pb::Contact {
    let name = contact.name.chars().next().map(|c| format!("{c}*")).unwrap_or_default();
    let n = contact.phone.chars().count();
    let phone = if n > 7 {
        let head: String = contact.phone.chars().take(3).collect();
        let tail: String = contact.phone.chars().skip(n - 4).collect();
        format!("{head}****{tail}")
    } else if n > 0 {
        "*".repeat(n)
    } else {
        String::new()
    };
    pb::Contact { name, phone }
}

/// The contact kept for `record_id`, opened, in clear (the caller records
/// the read); `None` when none is kept (or it was erased).
pub async fn opened_of(
    pool: &sqlx::PgPool,
    schema: &str,
    keys: &DataKeys,
    record_id: Uuid,
) -> anyhow::Result<Option<pb::Contact>> {
    let row: Option<(String, i32, Vec<u8>)> = sqlx::query_as(schema_sql(
        schema,
        "SELECT subject, generation, sealed FROM {schema}.contacts WHERE record_id = $1",
    ))
    .bind(record_id)
    .fetch_optional(pool)
    .await?;
    let Some((subject, generation, sealed)) = row else { return Ok(None) };
    let Some(key) = keys.find_generation(&subject, u32::try_from(generation).unwrap_or_default()).await? else {
        return Ok(None);
    };
    Ok(Some(pb::Contact::decode(key.open(&sealed, subject.as_bytes())?.as_slice())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(contact: pb::Contact) -> Vec<String> {
        let mut v = Vec::new();
        check(Some(&contact), &mut v);
        v.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn names_and_phones_are_bounded_and_never_echoed() {
        assert_eq!(
            fields(pb::Contact { name: "张".repeat(51), phone: "abc".into() }),
            ["contact.name", "contact.phone"]
        );
        assert!(fields(pb::Contact { name: "张三".into(), phone: "+86-0472-5163108".into() }).is_empty());
        assert_eq!(fields(pb::Contact { name: String::new(), phone: "1234".into() }), ["contact.phone"]);
        let mut v = Vec::new();
        assert_eq!(check(Some(&pb::Contact { name: " ".into(), phone: String::new() }), &mut v), None);
    }

    #[test]
    fn contacts_are_shown_masked() {
        let m = masked(&pb::Contact { name: "张三".into(), phone: "13812345678".into() });
        assert_eq!((m.name.as_str(), m.phone.as_str()), ("张*", "138****5678"));
    }
}

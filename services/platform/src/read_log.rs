//! The personal-data read log: every answer that shows a person's data in
//! clear (an applicant's name, ID number, phone, address, form) is recorded
//! — who, when, which case, which fields, for which purpose — before the
//! answer leaves the service. Supervisors and administrators read it through
//! `AuditService.ListPersonalDataReads` (see [`crate::audit`]).
//!
//! Unlike refusals (written by a background writer, best effort), a read is
//! recorded in the request, and a read that cannot be recorded is not
//! answered (`UNAVAILABLE`): nobody sees personal data the log does not know
//! of.

use tonic::{Request, Status};
use yiciban_eventstore::Migrations;
use yiciban_eventstore::sql::schema_sql;

use crate::auth::Caller;

/// The read log's table, in the service's schema.
pub const READ_LOG: Migrations = Migrations {
    component: "personal-data-reads",
    steps: &[(
        1,
        r#"
CREATE TABLE {schema}.personal_data_reads (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    method          TEXT NOT NULL,
    caller          TEXT NOT NULL,
    role            TEXT NOT NULL,
    department      TEXT,
    case_id         TEXT NOT NULL,
    fields          TEXT[] NOT NULL,
    purpose         TEXT NOT NULL,
    purpose_stated  BOOLEAN NOT NULL
);
CREATE INDEX personal_data_reads_at ON {schema}.personal_data_reads (at DESC, id DESC);
CREATE INDEX personal_data_reads_case ON {schema}.personal_data_reads (case_id, id DESC);
"#,
    )],
};

/// The gRPC metadata key a caller states its purpose in: UTF-8 text, sent
/// as binary metadata (so it may be Chinese), 1..200 characters.
pub const PURPOSE_HEADER: &str = "yiciban-purpose-bin";

/// The longest purpose kept, in characters.
pub const PURPOSE_MAX_CHARS: usize = 200;

/// Why a caller reads: stated in [`PURPOSE_HEADER`], or the RPC's own
/// purpose when the caller stated none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    pub text: String,
    /// Whether the caller stated it (false: the RPC's default).
    pub stated: bool,
}

impl Purpose {
    /// The purpose stated with `request`, or `default`. `INVALID_ARGUMENT`
    /// when the header is not UTF-8, is blank, is longer than 200
    /// characters or holds a control character.
    pub fn of<T>(request: &Request<T>, default: &str) -> Result<Purpose, Status> {
        let Some(value) = request.metadata().get_bin(PURPOSE_HEADER) else {
            return Ok(Purpose { text: default.to_owned(), stated: false });
        };
        let bytes = value
            .to_bytes()
            .map_err(|_| Status::invalid_argument(format!("{PURPOSE_HEADER}: not valid base64 binary metadata")))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Status::invalid_argument(format!("{PURPOSE_HEADER}: the purpose must be UTF-8 text")))?
            .trim();
        if text.is_empty() {
            return Err(Status::invalid_argument(format!(
                "{PURPOSE_HEADER}: state the purpose of the read, or leave the header out"
            )));
        }
        if text.chars().count() > PURPOSE_MAX_CHARS {
            return Err(Status::invalid_argument(format!("{PURPOSE_HEADER}: at most {PURPOSE_MAX_CHARS} characters")));
        }
        if text.chars().any(char::is_control) {
            return Err(Status::invalid_argument(format!("{PURPOSE_HEADER}: no control characters")));
        }
        Ok(Purpose { text: text.to_owned(), stated: true })
    }
}

/// `message` as a request stating `purpose` (a caller's side of
/// [`PURPOSE_HEADER`]).
pub fn purpose<T>(message: T, purpose: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert_bin(PURPOSE_HEADER, tonic::metadata::MetadataValue::from_bytes(purpose.as_bytes()));
    request
}

/// One read of personal data in clear.
#[derive(Debug, Clone)]
pub struct Read<'a> {
    /// The RPC's path, e.g. `/yiciban.intake.v1.IntakeService/GetCase`.
    pub method: &'static str,
    /// The case whose data was read.
    pub case: &'a str,
    /// Which personal fields the answer shows in clear, e.g. `applicant`.
    pub fields: &'a [&'a str],
    pub purpose: &'a Purpose,
}

/// Where a service records the reads of personal data it answers.
#[derive(Debug, Clone)]
pub struct ReadLog {
    service: &'static str,
    pool: sqlx::PgPool,
    schema: String,
}

impl ReadLog {
    pub fn new(service: &'static str, pool: sqlx::PgPool, schema: &str) -> Self {
        ReadLog { service, pool, schema: schema.to_owned() }
    }

    /// Records `read` by `caller`; `UNAVAILABLE` (and nothing may be
    /// answered) when it cannot be written.
    pub async fn record(&self, caller: &Caller, read: Read<'_>) -> Result<(), Status> {
        let fields: Vec<String> = read.fields.iter().map(|f| (*f).to_owned()).collect();
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.personal_data_reads
                 (method, caller, role, department, case_id, fields, purpose, purpose_stated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ))
        .bind(read.method)
        .bind(&caller.subject)
        .bind(caller.role.as_str())
        .bind(&caller.department)
        .bind(read.case)
        .bind(&fields)
        .bind(&read.purpose.text)
        .bind(read.purpose.stated)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            tracing::error!(service = self.service, error = %e, method = read.method, "a read of personal data could not be recorded; not answered");
            Status::unavailable("the read of personal data could not be recorded, so it is not answered; try again shortly")
        })?;
        yiciban_metrics::personal_data_read(self.service, read.method);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    fn with(purpose: &[u8]) -> Request<()> {
        let mut request = Request::new(());
        request.metadata_mut().insert_bin(PURPOSE_HEADER, MetadataValue::from_bytes(purpose));
        request
    }

    #[test]
    fn a_caller_states_its_purpose_as_the_service_reads_it() {
        let read = Purpose::of(&super::purpose((), "发证与交付"), "default").unwrap();
        assert_eq!(read, Purpose { text: "发证与交付".into(), stated: true });
    }

    #[test]
    fn a_stated_purpose_is_kept_and_a_missing_one_is_the_default() {
        let stated = Purpose::of(&with("审核材料 (case review)".as_bytes()), "default").unwrap();
        assert_eq!(stated, Purpose { text: "审核材料 (case review)".into(), stated: true });
        let default = Purpose::of(&Request::new(()), "办件查看").unwrap();
        assert_eq!(default, Purpose { text: "办件查看".into(), stated: false });
    }

    #[test]
    fn a_bad_purpose_is_refused_with_what_to_do() {
        for (bytes, says) in [
            (&b"  "[..], "state the purpose"),
            (&[0xff, 0xfe][..], "UTF-8"),
            ("审".repeat(201).as_bytes(), "at most 200"),
            (&b"line\nbreak"[..], "control"),
        ] {
            let status = Purpose::of(&with(bytes), "default").unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(status.message().contains(says), "{}", status.message());
            assert!(status.message().starts_with(PURPOSE_HEADER));
        }
    }
}

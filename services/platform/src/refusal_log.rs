//! A service's refusal log: the table its refusals are written to (by one
//! background writer, off the request path). Supervisors and administrators
//! read it through the `AuditService` ([`crate::audit`]).

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use yiciban_eventstore::Migrations;
use yiciban_eventstore::sql::schema_sql;

use crate::refusals::Refusal;

/// The refusal log's table, in the service's schema.
pub const REFUSAL_LOG: Migrations = Migrations {
    component: "refusal-log",
    steps: &[(
        1,
        r#"
CREATE TABLE {schema}.access_refusals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    method      TEXT NOT NULL,
    caller      TEXT NOT NULL,
    role        TEXT NOT NULL,
    department  TEXT,
    case_id     TEXT,
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX access_refusals_at ON {schema}.access_refusals (at DESC, id DESC);
"#,
    )],
};

/// How many refusals may wait for the writer before new ones are only
/// counted and logged.
pub const QUEUE: usize = 1024;

/// Writes refusals from `queue` into the log until `shutdown`.
pub async fn write(
    pool: sqlx::PgPool,
    schema: String,
    mut queue: mpsc::Receiver<Refusal>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let refusal = tokio::select! {
            next = queue.recv() => match next { Some(r) => r, None => return Ok(()) },
            () = shutdown.cancelled() => return Ok(()),
        };
        let mut attempt = 0;
        loop {
            let written = sqlx::query(schema_sql(
                &schema,
                "INSERT INTO {schema}.access_refusals (method, caller, role, department, case_id, kind, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ))
            .bind(refusal.method)
            .bind(&refusal.caller)
            .bind(refusal.role)
            .bind(&refusal.department)
            .bind(&refusal.case)
            .bind(refusal.kind)
            .bind(&refusal.reason)
            .execute(&pool)
            .await;
            match written {
                Ok(_) => break,
                Err(e) if attempt < 3 && !shutdown.is_cancelled() => {
                    attempt += 1;
                    tracing::warn!(error = %e, "could not record a refusal; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, method = refusal.method, "a refusal could not be recorded (it was logged)");
                    break;
                }
            }
        }
    }
}

//! A service's refusal log: the table its refusals are written to (by one
//! background writer, off the request path), and the `AuditService` that
//! lets supervisors and administrators read it (see
//! `proto/yiciban/audit/v1/audit.proto`).

use std::time::Duration;

use sqlx::Row as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use yiciban_eventstore::Migrations;
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::audit::v1 as pb;

use crate::auth::Caller;
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

/// The `AuditService` of one service.
#[derive(Debug, Clone)]
pub struct AuditApi {
    service: &'static str,
    pool: sqlx::PgPool,
    schema: String,
}

impl AuditApi {
    pub fn new(service: &'static str, pool: sqlx::PgPool, schema: &str) -> Self {
        AuditApi { service, pool, schema: schema.to_owned() }
    }
}

#[tonic::async_trait]
impl pb::audit_service_server::AuditService for AuditApi {
    async fn list_refusals(
        &self,
        request: Request<pb::ListRefusalsRequest>,
    ) -> Result<Response<pb::ListRefusalsResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[crate::Role::Supervisor, crate::Role::Admin], "read the refusal log")?;
        let req = request.into_inner();
        let size = match req.page_size {
            0 => 100,
            n @ 1..=500 => n,
            _ => return Err(Status::invalid_argument("page_size: at most 500")),
        };
        let before: Option<i64> = match req.page_token.trim() {
            "" => None,
            t => Some(t.parse().map_err(|_| Status::invalid_argument("page_token: not a token of this list"))?),
        };
        let since = req
            .since
            .map(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .map(|t| t.ok_or_else(|| Status::invalid_argument("since: not a valid time")))
            .transpose()?;
        let filter = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let rows = sqlx::query(schema_sql(
            &self.schema,
            "SELECT id, at, method, caller, role, department, case_id, kind, reason
               FROM {schema}.access_refusals
              WHERE ($1::bigint IS NULL OR id < $1)
                AND ($2::timestamptz IS NULL OR at >= $2)
                AND ($3::text IS NULL OR caller = $3)
                AND ($4::text IS NULL OR case_id = $4)
              ORDER BY id DESC
              LIMIT $5",
        ))
        .bind(before)
        .bind(since)
        .bind(filter(&req.caller))
        .bind(filter(&req.case_id))
        .bind(i64::from(size) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| crate::status::internal("reading the refusal log", &e))?;
        let more = rows.len() > size as usize;
        let mut refusals = Vec::with_capacity(rows.len().min(size as usize));
        let mut last = None;
        for row in rows.iter().take(size as usize) {
            let at: chrono::DateTime<chrono::Utc> = row.get("at");
            last = Some(row.get::<i64, _>("id"));
            refusals.push(pb::Refusal {
                at: Some(prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }),
                service: self.service.to_owned(),
                method: row.get("method"),
                caller: row.get("caller"),
                role: row.get("role"),
                department: row.get::<Option<String>, _>("department").unwrap_or_default(),
                case_id: row.get::<Option<String>, _>("case_id").unwrap_or_default(),
                kind: row.get("kind"),
                reason: row.get("reason"),
            });
        }
        let next_page_token = if more { last.map(|id| id.to_string()).unwrap_or_default() } else { String::new() };
        Ok(Response::new(pb::ListRefusalsResponse { refusals, next_page_token }))
    }
}

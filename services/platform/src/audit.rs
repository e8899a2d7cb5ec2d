//! The `AuditService` of one service (see
//! `proto/yiciban/audit/v1/audit.proto`): its refusal log
//! ([`crate::refusal_log`]) and its personal-data read log
//! ([`crate::read_log`]), newest first, for supervisors and administrators.

use sqlx::Row as _;
use sqlx::postgres::PgRow;
use tonic::{Request, Response, Status};
use yiciban_eventstore::sql::schema_sql;
use yiciban_proto::audit::v1 as pb;

use crate::auth::Caller;

/// A page of `table`'s `columns`, newest first: the statement [`Page::rows`]
/// binds.
macro_rules! page_query {
    ($table:literal, $columns:literal) => {
        concat!(
            "SELECT id, at, ",
            $columns,
            " FROM {schema}.",
            $table,
            " WHERE ($1::bigint IS NULL OR id < $1)
                AND ($2::timestamptz IS NULL OR at >= $2)
                AND ($3::text IS NULL OR caller = $3)
                AND ($4::text IS NULL OR case_id = $4)
              ORDER BY id DESC
              LIMIT $5"
        )
    };
}

/// The `AuditService` of one service.
#[derive(Debug, Clone)]
pub struct AuditApi {
    service: &'static str,
    pool: sqlx::PgPool,
    schema: String,
}

/// What both lists are asked: a page of a caller's or a case's entries
/// since a time, newest first.
struct Page {
    size: u32,
    before: Option<i64>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    caller: Option<String>,
    case_id: Option<String>,
}

impl Page {
    fn parse(
        since: Option<prost_types::Timestamp>,
        caller: &str,
        case_id: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<Page, Status> {
        let size = match page_size {
            0 => 100,
            n @ 1..=500 => n,
            _ => return Err(Status::invalid_argument("page_size: at most 500")),
        };
        let before = match page_token.trim() {
            "" => None,
            t => Some(t.parse().map_err(|_| Status::invalid_argument("page_token: not a token of this list"))?),
        };
        let since = since
            .map(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .map(|t| t.ok_or_else(|| Status::invalid_argument("since: not a valid time")))
            .transpose()?;
        let filter = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(Page { size, before, since, caller: filter(caller), case_id: filter(case_id) })
    }

    /// The rows `statement` (one of [`page_query!`]'s) selects for this page
    /// (one more than the page's size, to tell whether another page follows).
    async fn rows(&self, api: &AuditApi, statement: &'static str, what: &str) -> Result<Vec<PgRow>, Status> {
        sqlx::query(schema_sql(&api.schema, statement))
            .bind(self.before)
            .bind(self.since)
            .bind(&self.caller)
            .bind(&self.case_id)
            .bind(i64::from(self.size) + 1)
            .fetch_all(&api.pool)
            .await
            .map_err(|e| crate::status::internal(&format!("reading the {what}"), &e))
    }

    /// The page's entries, each made by `entry`, and the next page's token.
    fn entries<T>(&self, rows: &[PgRow], entry: impl Fn(&PgRow, prost_types::Timestamp) -> T) -> (Vec<T>, String) {
        let more = rows.len() > self.size as usize;
        let page: Vec<&PgRow> = rows.iter().take(self.size as usize).collect();
        let next = match page.last() {
            Some(last) if more => last.get::<i64, _>("id").to_string(),
            _ => String::new(),
        };
        let entries = page
            .into_iter()
            .map(|row| {
                let at: chrono::DateTime<chrono::Utc> = row.get("at");
                entry(
                    row,
                    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 },
                )
            })
            .collect();
        (entries, next)
    }
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
        let page = Page::parse(req.since, &req.caller, &req.case_id, req.page_size, &req.page_token)?;
        let rows = page
            .rows(
                self,
                page_query!("access_refusals", "method, caller, role, department, case_id, kind, reason"),
                "refusal log",
            )
            .await?;
        let (refusals, next_page_token) = page.entries(&rows, |row, at| pb::Refusal {
            at: Some(at),
            service: self.service.to_owned(),
            method: row.get("method"),
            caller: row.get("caller"),
            role: row.get("role"),
            department: row.get::<Option<String>, _>("department").unwrap_or_default(),
            case_id: row.get::<Option<String>, _>("case_id").unwrap_or_default(),
            kind: row.get("kind"),
            reason: row.get("reason"),
        });
        Ok(Response::new(pb::ListRefusalsResponse { refusals, next_page_token }))
    }

    async fn list_personal_data_reads(
        &self,
        request: Request<pb::ListPersonalDataReadsRequest>,
    ) -> Result<Response<pb::ListPersonalDataReadsResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[crate::Role::Supervisor, crate::Role::Admin], "read the personal-data read log")?;
        let req = request.into_inner();
        let page = Page::parse(req.since, &req.caller, &req.case_id, req.page_size, &req.page_token)?;
        let rows = page
            .rows(
                self,
                page_query!(
                    "personal_data_reads",
                    "method, caller, role, department, case_id, fields, purpose, purpose_stated"
                ),
                "personal-data read log",
            )
            .await?;
        let (reads, next_page_token) = page.entries(&rows, |row, at| pb::PersonalDataRead {
            at: Some(at),
            service: self.service.to_owned(),
            method: row.get("method"),
            caller: row.get("caller"),
            role: row.get("role"),
            department: row.get::<Option<String>, _>("department").unwrap_or_default(),
            case_id: row.get("case_id"),
            fields: row.get("fields"),
            purpose: row.get("purpose"),
            purpose_stated: row.get("purpose_stated"),
        });
        Ok(Response::new(pb::ListPersonalDataReadsResponse { reads, next_page_token }))
    }
}

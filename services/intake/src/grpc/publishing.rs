//! CatalogPublishingService: publishing whole catalog versions (admin), the
//! list of versions, and one version's file for the services that keep
//! running cases on it. The access rules admit the callers.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use yiciban_domain::catalog::CatalogError;
use yiciban_platform::Caller;
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_publishing_service_server::CatalogPublishingService;
use yiciban_proto::convert::wire::timestamp;

use crate::announce::Announcer;
use crate::catalogs::{self, ImportError, LiveCatalog, VersionRecord};

/// The largest catalog file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// The longest note accepted, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// The gRPC face of catalog publishing.
#[derive(Debug, Clone)]
pub struct PublishingApi {
    pool: sqlx::PgPool,
    schema: String,
    live: Arc<LiveCatalog>,
    announcer: Arc<Announcer>,
}

impl PublishingApi {
    /// Publishes into `schema`, and puts each new version in force in `live`
    /// at once.
    pub fn new(pool: sqlx::PgPool, schema: String, live: Arc<LiveCatalog>, announcer: Arc<Announcer>) -> Self {
        PublishingApi { pool, schema, live, announcer }
    }

    pub(super) fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    pub(super) fn schema(&self) -> &str {
        &self.schema
    }

    pub(super) fn live(&self) -> &LiveCatalog {
        &self.live
    }

    /// Puts the version in force now (just published here) in force in this
    /// process, and announces it.
    pub(super) async fn installed(&self) -> Result<(), Status> {
        let (record, catalog) =
            catalogs::in_force(&self.pool, &self.schema).await.map_err(|e| store_failure("reading the catalog", e))?;
        self.live.install(record.seq, catalog);
        self.announcer.wake();
        Ok(())
    }
}

fn to_wire(r: &VersionRecord, in_force: bool) -> pb::CatalogVersion {
    pb::CatalogVersion {
        version: r.version.clone(),
        in_force,
        published_by: r.published_by.clone(),
        published_at: r.published_at.map(timestamp),
        note: r.note.clone(),
        packages: r.packages as u32,
        departments: r.departments as u32,
    }
}

fn store_failure(what: &str, e: ImportError) -> Status {
    match e {
        ImportError::Invalid(e) => internal(what, &e),
        ImportError::VersionTaken(_) => Status::failed_precondition(e.to_string()),
        ImportError::Database(db) => internal(what, &db),
    }
}

#[tonic::async_trait]
impl CatalogPublishingService for PublishingApi {
    async fn import_catalog(
        &self,
        request: Request<pb::ImportCatalogRequest>,
    ) -> Result<Response<pb::ImportCatalogResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let note = r.note.trim();
        let mut violations = Vec::new();
        if note.chars().count() > MAX_NOTE_CHARS {
            violations.push(FieldViolation {
                field: "note".into(),
                description: format!("at most {MAX_NOTE_CHARS} characters"),
            });
        }
        if r.file_json.len() > MAX_FILE_BYTES {
            violations.push(FieldViolation {
                field: "file_json".into(),
                description: format!("the file has {} bytes; at most {MAX_FILE_BYTES}", r.file_json.len()),
            });
        } else if r.file_json.trim().is_empty() {
            violations
                .push(FieldViolation { field: "file_json".into(), description: "the catalog file is empty".into() });
        }
        if !violations.is_empty() {
            return Err(invalid_argument("the catalog was not published", &violations));
        }
        let imported = match catalogs::import(&self.pool, &self.schema, &r.file_json, note, &caller.subject).await {
            Ok(imported) => imported,
            Err(ImportError::Invalid(CatalogError::Invalid(problems))) => {
                let violations: Vec<FieldViolation> = problems
                    .iter()
                    .map(|p| FieldViolation { field: "file_json".into(), description: p.to_string() })
                    .collect();
                return Err(invalid_argument(
                    "the catalog was not published; correct every listed problem",
                    &violations,
                ));
            }
            Err(ImportError::Invalid(CatalogError::Parse(e))) => {
                return Err(invalid_argument(
                    "the catalog was not published",
                    &[FieldViolation { field: "file_json".into(), description: format!("not a catalog file: {e}") }],
                ));
            }
            Err(e) => return Err(store_failure("publishing the catalog", e)),
        };
        if imported.changed {
            tracing::info!(version = %imported.record.version, by = %caller.subject, "catalog version published");
            let (record, catalog) = catalogs::in_force(&self.pool, &self.schema)
                .await
                .map_err(|e| store_failure("reading the catalog", e))?;
            self.live.install(record.seq, catalog);
            self.announcer.wake();
        }
        Ok(Response::new(pb::ImportCatalogResponse {
            version: imported.record.version,
            changed: imported.changed,
            packages: imported.record.packages as u32,
            departments: imported.record.departments as u32,
        }))
    }

    async fn list_catalog_versions(
        &self,
        _request: Request<pb::ListCatalogVersionsRequest>,
    ) -> Result<Response<pb::ListCatalogVersionsResponse>, Status> {
        let records =
            catalogs::list(&self.pool, &self.schema).await.map_err(|e| store_failure("listing catalog versions", e))?;
        let versions = records.iter().enumerate().map(|(i, r)| to_wire(r, i == 0)).collect();
        Ok(Response::new(pb::ListCatalogVersionsResponse { versions }))
    }

    async fn get_catalog_version(
        &self,
        request: Request<pb::GetCatalogVersionRequest>,
    ) -> Result<Response<pb::GetCatalogVersionResponse>, Status> {
        let asked = request.into_inner().version;
        let asked = asked.trim();
        let (in_force, _) =
            catalogs::in_force(&self.pool, &self.schema).await.map_err(|e| store_failure("reading the catalog", e))?;
        let version = if asked.is_empty() { in_force.version.as_str() } else { asked };
        let found = catalogs::version(&self.pool, &self.schema, version)
            .await
            .map_err(|e| store_failure("reading the catalog", e))?;
        let Some((record, file_json)) = found else {
            let shown: String = version.chars().take(64).collect();
            return Err(Status::not_found(format!("catalog version {shown:?} was never published")));
        };
        let current = record.version == in_force.version;
        Ok(Response::new(pb::GetCatalogVersionResponse { version: Some(to_wire(&record, current)), file_json }))
    }

    async fn save_catalog_draft(
        &self,
        request: Request<pb::SaveCatalogDraftRequest>,
    ) -> Result<Response<pb::CatalogDraftResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.save_draft(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_catalog_draft(
        &self,
        request: Request<pb::GetCatalogDraftRequest>,
    ) -> Result<Response<pb::CatalogDraftResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.get_draft(&caller, &request.into_inner().draft_id).await.map(Response::new)
    }

    async fn list_catalog_drafts(
        &self,
        request: Request<pb::ListCatalogDraftsRequest>,
    ) -> Result<Response<pb::ListCatalogDraftsResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.list_drafts(&caller, &request.into_inner().status).await.map(Response::new)
    }

    async fn submit_catalog_draft(
        &self,
        request: Request<pb::CatalogDraftActionRequest>,
    ) -> Result<Response<pb::CatalogDraftResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.submit_draft(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn review_catalog_draft(
        &self,
        request: Request<pb::ReviewCatalogDraftRequest>,
    ) -> Result<Response<pb::CatalogDraftResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.review_draft(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn withdraw_catalog_draft(
        &self,
        request: Request<pb::CatalogDraftActionRequest>,
    ) -> Result<Response<pb::CatalogDraftResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.withdraw_draft(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn publish_catalog_drafts(
        &self,
        request: Request<pb::PublishCatalogDraftsRequest>,
    ) -> Result<Response<pb::PublishCatalogDraftsResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.publish_drafts(&caller, request.into_inner()).await.map(Response::new)
    }
}

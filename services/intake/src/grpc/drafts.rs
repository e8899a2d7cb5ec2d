//! The draft RPCs of CatalogPublishingService: who may draft, review,
//! withdraw and see a draft (by department), each problem a draft would give
//! the catalog in force, and the publication of approved drafts. Thin over
//! `catalog_drafts` (storage) and the domain's draft rules.

use tonic::Status;
use uuid::Uuid;
use yiciban_domain::catalog::CatalogError;
use yiciban_domain::catalog::drafts::{DraftAction, DraftChange, DraftError, DraftStatus};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::convert::wire::timestamp;

use super::publishing::PublishingApi;
use crate::catalog_drafts::{self, Draft, DraftStoreError, Step};
use crate::catalogs::ImportError;

/// The largest drafted package accepted, in bytes.
const MAX_PACKAGE_BYTES: usize = 1 << 20;
/// The longest review note, in characters.
const MAX_NOTE_CHARS: usize = 500;

fn one(field: &str, description: impl Into<String>) -> Status {
    invalid_argument(
        "the draft was not saved",
        &[FieldViolation { field: field.into(), description: description.into() }],
    )
}

pub(super) fn store_status(e: DraftStoreError) -> Status {
    match e {
        DraftStoreError::Rule(DraftError::OwnDraft) => Status::permission_denied(e.to_string()),
        DraftStoreError::Rule(_)
        | DraftStoreError::OpenDraftExists { .. }
        | DraftStoreError::NotApproved(_)
        | DraftStoreError::NothingApproved
        | DraftStoreError::Import(ImportError::VersionTaken(_)) => Status::failed_precondition(e.to_string()),
        DraftStoreError::NotFound(_) => Status::not_found(e.to_string()),
        DraftStoreError::Conflict { .. } => Status::aborted(e.to_string()),
        DraftStoreError::Import(ImportError::Invalid(CatalogError::Invalid(problems))) => {
            let violations: Vec<FieldViolation> = problems
                .iter()
                .map(|p| FieldViolation { field: "drafts".into(), description: p.to_string() })
                .collect();
            invalid_argument("the drafts would give the catalog problems; nothing was published", &violations)
        }
        DraftStoreError::Import(ImportError::Invalid(e)) => internal("applying the drafts", &e),
        DraftStoreError::Import(ImportError::Database(db)) | DraftStoreError::Database(db) => {
            internal("storing the catalog drafts", &db)
        }
    }
}

fn draft_to_wire(d: &Draft) -> pb::CatalogDraft {
    let (retire, package_json) = match &d.change {
        DraftChange::Retire => (true, String::new()),
        DraftChange::Package(p) => (false, serde_json::to_string_pretty(p).unwrap_or_default()),
    };
    pb::CatalogDraft {
        draft_id: d.draft_id.to_string(),
        package_id: d.package_id.clone(),
        retire,
        package_json,
        lead_department: d.lead_department.clone(),
        drafting_department: d.drafting_department.clone().unwrap_or_default(),
        drafted_by: d.drafted_by.clone(),
        status: d.status.as_str().to_owned(),
        version: u64::try_from(d.version).unwrap_or_default(),
        updated_at: Some(timestamp(d.updated_at)),
        published_in: d.published_in.clone().unwrap_or_default(),
        history: d
            .history
            .iter()
            .map(|h| pb::CatalogDraftEvent {
                action: h.action.clone(),
                actor: h.actor.clone(),
                at: Some(timestamp(h.at)),
                note: h.note.clone(),
            })
            .collect(),
    }
}

/// Whether `caller` may see `draft`: its drafting or lead department,
/// supervisors and admins.
fn visible(caller: &Caller, draft: &Draft) -> bool {
    match caller.role {
        Role::Admin | Role::Supervisor => true,
        Role::Agent => caller
            .department
            .as_deref()
            .is_some_and(|d| draft.drafting_department.as_deref() == Some(d) || draft.lead_department == d),
        _ => false,
    }
}

/// Whether `caller` acts for the draft's drafting department (or is an admin).
fn drafter_side(caller: &Caller, draft: &Draft) -> bool {
    caller.role == Role::Admin
        || (caller.role == Role::Agent && caller.department.is_some() && caller.department == draft.drafting_department)
}

/// The departments taking part in `package`, its lead department included.
fn taking_part_in(package: &yiciban_domain::catalog::Package) -> Vec<String> {
    let mut all: Vec<String> = package.departments.iter().map(|d| d.as_str().to_owned()).collect();
    all.push(package.lead_department.as_str().to_owned());
    all
}

fn draft_id(text: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        invalid_argument(
            "the request names no draft",
            &[FieldViolation {
                field: "draft_id".into(),
                description: "a draft id (UUID) from ListCatalogDrafts".into(),
            }],
        )
    })
}

impl PublishingApi {
    async fn visible_draft(&self, caller: &Caller, id: Uuid) -> Result<Draft, Status> {
        match catalog_drafts::get(self.pool(), self.schema(), id).await.map_err(store_status)? {
            Some(d) if visible(caller, &d) => Ok(d),
            // Not one's own department's: as if it did not exist.
            _ => Err(Status::not_found(format!("draft {id} does not exist"))),
        }
    }

    async fn answer(&self, draft: Draft) -> Result<pb::CatalogDraftResponse, Status> {
        let problems = match draft.status {
            DraftStatus::Published | DraftStatus::Withdrawn => Vec::new(),
            _ => catalog_drafts::problems_of(self.pool(), self.schema(), &draft.package_id, &draft.change)
                .await
                .map_err(store_status)?,
        };
        Ok(pb::CatalogDraftResponse { draft: Some(draft_to_wire(&draft)), problems })
    }

    /// The change a save request asks for, its package id, its lead
    /// department and the departments taking part in the drafted package.
    fn change_of(&self, r: &pb::SaveCatalogDraftRequest) -> Result<(String, DraftChange, String, Vec<String>), Status> {
        let (json, retire) = (r.package_json.trim(), r.retire_package_id.trim());
        match (json.is_empty(), retire.is_empty()) {
            (true, true) | (false, false) => {
                Err(one("package_json", "give either package_json (a package to add or change) or retire_package_id"))
            }
            (false, true) => {
                if json.len() > MAX_PACKAGE_BYTES {
                    return Err(one("package_json", format!("at most {MAX_PACKAGE_BYTES} bytes")));
                }
                let package: serde_json::Value =
                    serde_json::from_str(json).map_err(|e| one("package_json", format!("not JSON: {e}")))?;
                let text = |key: &str| package.get(key).and_then(|v| v.as_str()).unwrap_or_default().trim().to_owned();
                let (id, lead) = (text("id"), text("lead_department"));
                if !package.is_object() || id.is_empty() {
                    return Err(one("package_json", "a package object with its \"id\", as in a catalog file"));
                }
                if lead.is_empty() {
                    return Err(one("package_json", "the package names no \"lead_department\" (who reviews it)"));
                }
                let mut taking_part: Vec<String> = package
                    .get("departments")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|d| d.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                taking_part.push(lead.clone());
                Ok((id, DraftChange::Package(package), lead, taking_part))
            }
            (true, false) => {
                let catalog = self.live().current();
                let Some(package) = catalog.package(retire) else {
                    let shown: String = retire.chars().take(64).collect();
                    return Err(one(
                        "retire_package_id",
                        format!("{shown:?} is no package of catalog {}", catalog.version()),
                    ));
                };
                let lead = package.lead_department.as_str().to_owned();
                Ok((retire.to_owned(), DraftChange::Retire, lead, taking_part_in(package)))
            }
        }
    }

    pub(super) async fn save_draft(
        &self,
        caller: &Caller,
        r: pb::SaveCatalogDraftRequest,
    ) -> Result<pb::CatalogDraftResponse, Status> {
        let (package_id, change, lead, taking_part) = self.change_of(&r)?;
        // An agent's department takes part in the package as drafted, and in
        // the version in force when the package is there already.
        let in_force = self.live().current().package(&package_id).map(taking_part_in);
        let takes_part = |d: &String| taking_part.contains(d) && in_force.as_ref().is_none_or(|f| f.contains(d));
        if caller.role == Role::Agent && !caller.department.as_ref().is_some_and(takes_part) {
            return Err(Status::permission_denied(format!(
                "package {package_id:?} is drafted by an agent of a department taking part in it"
            )));
        }
        let draft = if r.draft_id.trim().is_empty() {
            let draft = Draft {
                draft_id: Uuid::now_v7(),
                package_id,
                change,
                lead_department: lead,
                drafting_department: if caller.role == Role::Admin { None } else { caller.department.clone() },
                drafted_by: caller.subject.clone(),
                status: DraftStatus::Draft,
                version: 1,
                updated_at: chrono::Utc::now(),
                published_in: None,
                history: Vec::new(),
            };
            catalog_drafts::create(self.pool(), self.schema(), &draft).await.map_err(store_status)?;
            catalog_drafts::get(self.pool(), self.schema(), draft.draft_id)
                .await
                .map_err(store_status)?
                .unwrap_or(draft)
        } else {
            let existing = self.visible_draft(caller, draft_id(&r.draft_id)?).await?;
            if existing.package_id != package_id {
                return Err(one(
                    "package_json",
                    format!("draft {} is of package {:?}", existing.draft_id, existing.package_id),
                ));
            }
            if !drafter_side(caller, &existing) {
                return Err(Status::permission_denied("a draft is saved by its drafting department"));
            }
            let expected = i64::try_from(r.expected_version).unwrap_or(i64::MAX);
            let step =
                Step { action: DraftAction::Save, actor: &caller.subject, note: "", content: Some((change, lead)) };
            catalog_drafts::act(self.pool(), self.schema(), existing.draft_id, expected, step)
                .await
                .map_err(store_status)?
        };
        self.answer(draft).await
    }

    pub(super) async fn get_draft(&self, caller: &Caller, id: &str) -> Result<pb::CatalogDraftResponse, Status> {
        let draft = self.visible_draft(caller, draft_id(id)?).await?;
        self.answer(draft).await
    }

    pub(super) async fn list_drafts(
        &self,
        caller: &Caller,
        status: &str,
    ) -> Result<pb::ListCatalogDraftsResponse, Status> {
        let status = match status.trim() {
            "" => None,
            s => Some(DraftStatus::parse(s).ok_or_else(|| {
                invalid_argument(
                    "no such draft status",
                    &[FieldViolation {
                        field: "status".into(),
                        description: "one of draft, submitted, approved, rejected, published, withdrawn".into(),
                    }],
                )
            })?),
        };
        let drafts = catalog_drafts::list(self.pool(), self.schema(), status).await.map_err(store_status)?;
        Ok(pb::ListCatalogDraftsResponse {
            drafts: drafts.iter().filter(|d| visible(caller, d)).map(draft_to_wire).collect(),
        })
    }

    pub(super) async fn submit_draft(
        &self,
        caller: &Caller,
        r: pb::CatalogDraftActionRequest,
    ) -> Result<pb::CatalogDraftResponse, Status> {
        let draft = self.visible_draft(caller, draft_id(&r.draft_id)?).await?;
        if !drafter_side(caller, &draft) {
            return Err(Status::permission_denied("a draft is submitted by its drafting department"));
        }
        let problems = catalog_drafts::problems_of(self.pool(), self.schema(), &draft.package_id, &draft.change)
            .await
            .map_err(store_status)?;
        if !problems.is_empty() {
            let violations: Vec<FieldViolation> =
                problems.iter().map(|p| FieldViolation { field: "draft".into(), description: p.clone() }).collect();
            return Err(invalid_argument(
                "the draft has problems; correct every listed one and save it first",
                &violations,
            ));
        }
        self.act(caller, &draft, r.expected_version, DraftAction::Submit, "").await
    }

    pub(super) async fn review_draft(
        &self,
        caller: &Caller,
        r: pb::ReviewCatalogDraftRequest,
    ) -> Result<pb::CatalogDraftResponse, Status> {
        let draft = self.visible_draft(caller, draft_id(&r.draft_id)?).await?;
        if caller.department.as_deref() != Some(draft.lead_department.as_str()) {
            return Err(Status::permission_denied(format!(
                "a draft is reviewed by an agent of its lead department ({})",
                draft.lead_department
            )));
        }
        let note = r.note.trim();
        if note.chars().count() > MAX_NOTE_CHARS || (!r.approve && note.is_empty()) {
            return Err(invalid_argument(
                "the review was not recorded",
                &[FieldViolation {
                    field: "note".into(),
                    description: format!("say why when rejecting; at most {MAX_NOTE_CHARS} characters"),
                }],
            ));
        }
        let action = if r.approve { DraftAction::Approve } else { DraftAction::Reject };
        self.act(caller, &draft, r.expected_version, action, note).await
    }

    pub(super) async fn withdraw_draft(
        &self,
        caller: &Caller,
        r: pb::CatalogDraftActionRequest,
    ) -> Result<pb::CatalogDraftResponse, Status> {
        let draft = self.visible_draft(caller, draft_id(&r.draft_id)?).await?;
        if !drafter_side(caller, &draft) {
            return Err(Status::permission_denied("a draft is withdrawn by its drafting department"));
        }
        self.act(caller, &draft, r.expected_version, DraftAction::Withdraw, "").await
    }

    async fn act(
        &self,
        caller: &Caller,
        draft: &Draft,
        expected: u64,
        action: DraftAction,
        note: &str,
    ) -> Result<pb::CatalogDraftResponse, Status> {
        let expected = i64::try_from(expected).unwrap_or(i64::MAX);
        let step = Step { action, actor: &caller.subject, note, content: None };
        let after = catalog_drafts::act(self.pool(), self.schema(), draft.draft_id, expected, step)
            .await
            .map_err(store_status)?;
        self.answer(after).await
    }

    pub(super) async fn publish_drafts(
        &self,
        caller: &Caller,
        r: pb::PublishCatalogDraftsRequest,
    ) -> Result<pb::PublishCatalogDraftsResponse, Status> {
        let version = r.version.trim();
        if version.is_empty() || version.chars().count() > 40 {
            return Err(invalid_argument(
                "nothing was published",
                &[FieldViolation {
                    field: "version".into(),
                    description: "the new catalog version, e.g. 2026.3 (at most 40 characters)".into(),
                }],
            ));
        }
        let ids = r.draft_ids.iter().map(|id| draft_id(id)).collect::<Result<Vec<_>, _>>()?;
        let (imported, published) =
            catalog_drafts::publish(self.pool(), self.schema(), version, &ids, r.note.trim(), &caller.subject)
                .await
                .map_err(store_status)?;
        self.installed().await?;
        tracing::info!(version, drafts = published.len(), by = %caller.subject, "catalog drafts published");
        Ok(pb::PublishCatalogDraftsResponse {
            published: Some(pb::ImportCatalogResponse {
                version: imported.record.version,
                changed: imported.changed,
                packages: imported.record.packages as u32,
                departments: imported.record.departments as u32,
            }),
            draft_ids: published.iter().map(ToString::to_string).collect(),
        })
    }
}

//! Material content: uploaded once (whole, or in chunks through the
//! MaterialService; both checked by [`crate::upload`]), stored by SHA-256 in
//! the intake schema under the uploader's quota, referenced from submissions
//! as `sha256/<hex>`. A reference to uploaded content must match what was
//! stored (hash and size), checked before a command is decided.

use tonic::Status;
use yiciban_platform::status::{FieldViolation, internal};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::MAX_SINGLE_MESSAGE_FILE_BYTES;
use yiciban_proto::intake::v1 as pb;

use crate::upload::{self, Bounds, Declared, Received};
use crate::{Intake, repo};

/// The storage-key prefix of uploaded content.
pub const STORAGE_PREFIX: &str = "sha256/";

/// The bytes of new content `caller` may store in 24 hours.
pub fn quota_of(intake: &Intake, caller: &Caller) -> u64 {
    match caller.role {
        Role::Applicant => intake.upload_quota.applicant,
        _ => intake.upload_quota.staff,
    }
}

/// The sizes the chunked upload takes: up to the service's maximum.
pub fn chunked_bounds(intake: &Intake) -> Bounds {
    Bounds { max_bytes: intake.max_material_bytes, call_max_bytes: intake.max_material_bytes }
}

/// `IntakeService.UploadMaterial`: the whole file in one message, checked
/// as the chunked upload checks it, then stored.
pub async fn upload_whole(
    intake: &Intake,
    caller: &Caller,
    request: pb::UploadMaterialRequest,
) -> Result<common::MaterialRef, Status> {
    let declared =
        Declared::new(&request.file_name, &request.content_type, request.content.len() as u64, &request.sha256_hex);
    let bounds = Bounds {
        max_bytes: intake.max_material_bytes,
        call_max_bytes: intake.max_material_bytes.min(MAX_SINGLE_MESSAGE_FILE_BYTES as u64),
    };
    let received = upload::whole(declared, bounds, request.content)?;
    store(intake, caller, received).await
}

/// `RESOURCE_EXHAUSTED` when `declared` could take `caller` past its quota:
/// checked before the bytes are read. Content declared by a hash that is
/// stored already costs nothing.
pub async fn admit(intake: &Intake, caller: &Caller, declared: &Declared) -> Result<(), Status> {
    within_quota(intake, caller, declared.size_bytes, declared.sha256_hex.as_deref()).await
}

/// Stores a received file (once per content) and returns its reference,
/// unless new content would take `caller` past its quota.
pub async fn store(intake: &Intake, caller: &Caller, file: Received) -> Result<common::MaterialRef, Status> {
    let size = file.content.len() as u64;
    within_quota(intake, caller, size, Some(&file.sha256_hex)).await?;
    let Received { declared, content, sha256_hex } = file;
    repo::put_blob(intake.pool(), intake.schema(), &sha256_hex, &declared.content_type, &content, &caller.subject)
        .await
        .map_err(|e| internal("storing the material", &e))?;
    Ok(common::MaterialRef {
        material_id: String::new(),
        file_name: declared.file_name,
        content_type: declared.content_type,
        storage_key: format!("{STORAGE_PREFIX}{sha256_hex}"),
        sha256_hex,
        size_bytes: size,
    })
}

/// `RESOURCE_EXHAUSTED` when `size` bytes of new content would take
/// `caller` past its quota of 24 hours; content already stored (by anyone)
/// is not new.
async fn within_quota(intake: &Intake, caller: &Caller, size: u64, sha256_hex: Option<&str>) -> Result<(), Status> {
    if let Some(sha) = sha256_hex {
        let known = repo::blob_exists(intake.pool(), intake.schema(), sha)
            .await
            .map_err(|e| internal("looking the material up", &e))?;
        if known {
            return Ok(());
        }
    }
    let quota = quota_of(intake, caller);
    let used = repo::uploaded_today(intake.pool(), intake.schema(), &caller.subject)
        .await
        .map_err(|e| internal("counting today's uploads", &e))?;
    let used = u64::try_from(used).unwrap_or(0);
    if used.saturating_add(size) > quota {
        return Err(Status::resource_exhausted(format!(
            "the upload quota of {} MiB in 24 hours is used up ({} MiB stored, this file has {} bytes); try again \
             later, or hand the documents in at the window",
            quota / (1024 * 1024),
            used / (1024 * 1024),
            size
        )));
    }
    Ok(())
}

/// Violations of material references that point at uploaded content which
/// is not there or does not match (`field` prefix e.g. `materials`).
pub async fn check_references(
    intake: &Intake,
    field: &str,
    materials: &[common::MaterialRef],
) -> Result<Vec<FieldViolation>, Status> {
    let uploaded: Vec<(usize, &common::MaterialRef, &str)> = materials
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.storage_key.strip_prefix(STORAGE_PREFIX).map(|h| (i, m, h)))
        .collect();
    if uploaded.is_empty() {
        return Ok(Vec::new());
    }
    let hashes: Vec<String> = uploaded.iter().map(|(_, _, h)| h.to_string()).collect();
    let stored = repo::blob_sizes(intake.pool(), intake.schema(), &hashes)
        .await
        .map_err(|e| internal("looking up uploaded materials", &e))?;
    let mut violations = Vec::new();
    for (i, m, hash) in uploaded {
        let ok =
            hash.eq_ignore_ascii_case(&m.sha256_hex) && stored.get(hash).is_some_and(|s| *s as u64 == m.size_bytes);
        if !ok {
            violations.push(FieldViolation {
                field: format!("{field}[{i}].storage_key"),
                description: format!(
                    "material {} refers to uploaded content that is not stored or differs in hash or size; upload it again",
                    m.material_id
                ),
            });
        }
    }
    Ok(violations)
}

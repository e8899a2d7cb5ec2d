//! Material content: uploaded once, stored by SHA-256 in the intake schema,
//! referenced from submissions as `sha256/<hex>`. A reference to uploaded
//! content must match what was stored (hash and size), checked before a
//! command is decided.

use sha2::Digest as _;
use tonic::Status;
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_proto::common::v1 as common;

use crate::Intake;
use crate::repo;

/// The storage-key prefix of uploaded content.
pub const STORAGE_PREFIX: &str = "sha256/";

/// Stores `content` and returns its reference.
pub async fn upload(
    intake: &Intake,
    by: &str,
    quota: u64,
    file_name: &str,
    content_type: &str,
    content: &[u8],
    claimed_sha256: &str,
) -> Result<common::MaterialRef, Status> {
    let mut violations = Vec::new();
    if content.is_empty() {
        violations.push(FieldViolation { field: "content".into(), description: "the file is empty".into() });
    }
    if content.len() as u64 > intake.max_material_bytes {
        violations.push(FieldViolation {
            field: "content".into(),
            description: format!(
                "the file has {} bytes; the maximum is {} bytes — scan at a lower resolution or split it",
                content.len(),
                intake.max_material_bytes
            ),
        });
    }
    let sha = hex::encode(sha2::Sha256::digest(content));
    if !claimed_sha256.is_empty() && !claimed_sha256.eq_ignore_ascii_case(&sha) {
        violations.push(FieldViolation {
            field: "sha256_hex".into(),
            description: "does not match the content: the upload was damaged, send it again".into(),
        });
    }
    if file_name.trim().is_empty() {
        violations.push(FieldViolation { field: "file_name".into(), description: "name the file".into() });
    }
    if !violations.is_empty() {
        return Err(invalid_argument("the material cannot be stored", &violations));
    }
    let known = repo::blob_exists(intake.pool(), intake.schema(), &sha)
        .await
        .map_err(|e| internal("looking the material up", &e))?;
    if !known {
        let used = repo::uploaded_today(intake.pool(), intake.schema(), by)
            .await
            .map_err(|e| internal("counting today's uploads", &e))?;
        let used = u64::try_from(used).unwrap_or(0);
        if used.saturating_add(content.len() as u64) > quota {
            return Err(Status::resource_exhausted(format!(
                "the upload quota of {} MiB in 24 hours is used up ({} MiB stored); try again later, or hand the \
                 documents in at the window",
                quota / (1024 * 1024),
                used / (1024 * 1024)
            )));
        }
    }
    let content_type = if content_type.trim().is_empty() { "application/octet-stream" } else { content_type };
    repo::put_blob(intake.pool(), intake.schema(), &sha, content_type, content, by)
        .await
        .map_err(|e| internal("storing the material", &e))?;
    Ok(common::MaterialRef {
        material_id: String::new(),
        file_name: file_name.trim().to_owned(),
        content_type: content_type.to_owned(),
        storage_key: format!("{STORAGE_PREFIX}{sha}"),
        sha256_hex: sha,
        size_bytes: content.len() as u64,
    })
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

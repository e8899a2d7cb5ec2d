//! A material's content handed out (`MaterialService.DownloadMaterial`):
//! which document of a case a request names, whether its content is held
//! by the service, and the messages that carry it. Pure (no I/O): the
//! handler ([`crate::grpc`]'s downloads) checks the caller's scope, records
//! the read and sends what this module cut.

use sha2::Digest as _;
use yiciban_domain::intake::MaterialRef;
use yiciban_domain::values::MaterialId;
use yiciban_platform::status::{FieldViolation, invalid_argument};
use yiciban_proto::common::v1 as pb_common;
use yiciban_proto::intake::MAX_CHUNK_BYTES;
use yiciban_proto::intake::v1 as pb;

use crate::grpc::STORAGE_PREFIX;

/// The document a download asks for: by catalog material id (the last one
/// handed in for it), by content hash, or by both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub material_id: Option<MaterialId>,
    /// Lower-case hex.
    pub sha256_hex: Option<String>,
}

impl Wanted {
    /// The request's `material_id` and `sha256_hex`, or every problem with
    /// them (`INVALID_ARGUMENT`).
    pub fn parse(material_id: &str, sha256_hex: &str) -> Result<Wanted, tonic::Status> {
        let (material_id, sha256_hex) = (material_id.trim(), sha256_hex.trim());
        let mut violations = Vec::new();
        let id = if material_id.is_empty() {
            None
        } else {
            match MaterialId::parse(material_id) {
                Ok(id) => Some(id),
                Err(e) => {
                    violations.push(FieldViolation { field: "material_id".into(), description: e.to_string() });
                    None
                }
            }
        };
        let sha = if sha256_hex.is_empty() {
            None
        } else if crate::upload::is_sha256_hex(sha256_hex) {
            Some(sha256_hex.to_ascii_lowercase())
        } else {
            violations
                .push(FieldViolation { field: "sha256_hex".into(), description: crate::upload::NOT_SHA256_HEX.into() });
            None
        };
        if material_id.is_empty() && sha256_hex.is_empty() {
            violations.push(FieldViolation {
                field: "material_id".into(),
                description: "name the material (its catalog id), or give the document's sha256_hex".into(),
            });
        }
        if !violations.is_empty() {
            return Err(invalid_argument("the material to download is not named correctly", &violations));
        }
        Ok(Wanted { material_id: id, sha256_hex: sha })
    }

    fn matches(&self, m: &MaterialRef) -> bool {
        self.material_id.as_ref().is_none_or(|id| &m.material_id == id)
            && self.sha256_hex.as_deref().is_none_or(|sha| m.sha256_hex.eq_ignore_ascii_case(sha))
    }

    /// The document of `materials` (in the order they were handed in) this
    /// names: the last that matches, as a supplement's replaces the
    /// submission's.
    pub fn pick<'a>(&self, materials: &'a [MaterialRef]) -> Option<&'a MaterialRef> {
        materials.iter().rev().find(|m| self.matches(m))
    }

    /// How the answer names what was asked, e.g. `m_parents_id` or
    /// `sha256 9f86d081…`.
    pub fn describe(&self) -> String {
        match (&self.material_id, &self.sha256_hex) {
            (Some(id), _) => id.to_string(),
            (None, Some(sha)) => format!("sha256 {sha}"),
            (None, None) => String::new(),
        }
    }
}

/// The hash under which the service holds `material`'s content: its
/// storage key is `sha256/<its own hash>`; `None` for a reference into
/// another store.
pub fn held_under(material: &MaterialRef) -> Option<&str> {
    material.storage_key.strip_prefix(STORAGE_PREFIX).filter(|h| h.eq_ignore_ascii_case(&material.sha256_hex))
}

/// What the read log records of a download: which material, which content.
pub fn read_fields(material: &MaterialRef) -> [String; 2] {
    [format!("materials.{}", material.material_id), format!("{STORAGE_PREFIX}{}", material.sha256_hex)]
}

/// Whether `content` is the content `material` refers to (hash and size).
pub fn intact(material: &MaterialRef, content: &[u8]) -> bool {
    content.len() as u64 == material.size_bytes
        && hex::encode(sha2::Sha256::digest(content)).eq_ignore_ascii_case(&material.sha256_hex)
}

/// The `index`-th message of the download of `content`: the reference in
/// the first, at most [`MAX_CHUNK_BYTES`] of content in each; `None` after
/// the last. A file is at least one message.
pub fn chunk(material: &pb_common::MaterialRef, content: &[u8], index: usize) -> Option<pb::DownloadMaterialResponse> {
    let start = index.checked_mul(MAX_CHUNK_BYTES)?;
    if start >= content.len() && !(index == 0 && content.is_empty()) {
        return None;
    }
    let end = content.len().min(start + MAX_CHUNK_BYTES);
    Some(pb::DownloadMaterialResponse {
        material: (index == 0).then(|| material.clone()),
        content: content[start..end].to_vec(),
    })
}

/// The number of messages [`chunk`] cuts `size` bytes into.
pub fn chunk_count(size: usize) -> usize {
    size.div_ceil(MAX_CHUNK_BYTES).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, content: &[u8]) -> MaterialRef {
        let sha = hex::encode(sha2::Sha256::digest(content));
        MaterialRef {
            material_id: MaterialId::parse(id).unwrap(),
            file_name: format!("{id}.pdf"),
            content_type: "application/pdf".into(),
            storage_key: format!("sha256/{sha}"),
            sha256_hex: sha,
            size_bytes: content.len() as u64,
        }
    }

    fn fields(status: &tonic::Status) -> Vec<String> {
        yiciban_platform::status::violations_of(status).into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn a_request_names_a_material_by_id_by_hash_or_both() {
        let by_id = Wanted::parse(" m_parents_id ", "").unwrap();
        assert_eq!(by_id.material_id.unwrap().as_str(), "m_parents_id");
        let upper = "AB".repeat(32);
        let by_hash = Wanted::parse("", &upper).unwrap();
        assert_eq!(by_hash.sha256_hex.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(by_hash.describe(), format!("sha256 {}", "ab".repeat(32)));
    }

    #[test]
    fn a_malformed_or_missing_name_is_refused_with_every_problem() {
        let none = Wanted::parse(" ", "").unwrap_err();
        assert_eq!(none.code(), tonic::Code::InvalidArgument);
        assert_eq!(fields(&none), ["material_id"]);
        let both = Wanted::parse("M-1<script>", "xyz").unwrap_err();
        assert_eq!(fields(&both), ["material_id", "sha256_hex"]);
        assert!(Wanted::parse(&"m".repeat(65), "").is_err(), "at most 64 characters");
    }

    #[test]
    fn the_last_document_handed_in_for_a_material_is_the_one_picked() {
        let first = doc("m_lease", b"old lease");
        let other = doc("m_parents_id", b"id card");
        let supplemented = doc("m_lease", b"new lease");
        let materials = [first.clone(), other.clone(), supplemented.clone()];
        assert_eq!(Wanted::parse("m_lease", "").unwrap().pick(&materials), Some(&supplemented));
        let older = Wanted::parse("m_lease", &first.sha256_hex).unwrap();
        assert_eq!(older.pick(&materials), Some(&first), "the hash picks the replaced one");
        assert_eq!(Wanted::parse("", &other.sha256_hex).unwrap().pick(&materials), Some(&other));
        assert_eq!(Wanted::parse("m_parents_id", &first.sha256_hex).unwrap().pick(&materials), None, "both must match");
        assert_eq!(Wanted::parse("m_unknown", "").unwrap().pick(&materials), None);
    }

    #[test]
    fn only_content_stored_under_its_own_hash_is_held() {
        let mut m = doc("m_lease", b"lease");
        assert_eq!(held_under(&m), Some(m.sha256_hex.as_str()));
        m.storage_key = "uploads/m_lease".into();
        assert_eq!(held_under(&m), None, "a reference into another store");
        m.storage_key = format!("sha256/{}", "0".repeat(64));
        assert_eq!(held_under(&m), None, "a key that is not the material's own hash");
    }

    #[test]
    fn content_is_intact_only_with_the_referenced_hash_and_size() {
        let m = doc("m_lease", b"lease");
        assert!(intact(&m, b"lease"));
        assert!(!intact(&m, b"lease!"));
        assert!(!intact(&m, b"LEASE"));
        assert_eq!(read_fields(&m), ["materials.m_lease".to_owned(), format!("sha256/{}", m.sha256_hex)]);
    }

    #[test]
    fn content_is_cut_into_chunks_of_at_most_a_mebibyte_the_reference_first() {
        let content: Vec<u8> = (0..2 * MAX_CHUNK_BYTES + 7).map(|i| (i % 251) as u8).collect();
        let reference = pb_common::MaterialRef { file_name: "scan.pdf".into(), ..Default::default() };
        let messages: Vec<_> = (0..).map_while(|i| chunk(&reference, &content, i)).collect();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages.len(), chunk_count(content.len()));
        assert_eq!(messages[0].material.as_ref().map(|m| m.file_name.as_str()), Some("scan.pdf"));
        assert!(messages[1..].iter().all(|m| m.material.is_none()));
        assert!(messages.iter().all(|m| m.content.len() <= MAX_CHUNK_BYTES));
        assert_eq!(messages.iter().flat_map(|m| m.content.clone()).collect::<Vec<_>>(), content);
        let exact: Vec<_> = (0..).map_while(|i| chunk(&reference, &content[..MAX_CHUNK_BYTES], i)).collect();
        assert_eq!(exact.len(), 1);
        assert_eq!(chunk_count(0), 1);
    }
}

//! A form with a file (`multipart/form-data`), read bounded, and the file
//! handed to intake (MaterialService.UploadMaterial) in chunks of at most
//! 1 MiB, with its SHA-256 declared up front so that intake checks it and
//! recognises content it already holds. The workbench keeps nothing: the
//! file lives in memory only while the request runs.

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use sha2::{Digest as _, Sha256};
use tonic::Status;
use yiciban_proto::common::v1::MaterialRef;
use yiciban_proto::intake::v1::{MaterialUploadMetadata, UploadMaterialChunk};

use crate::calls::Materials;

/// The most content one upload message carries (MaterialService's bound).
const CHUNK_BYTES: usize = 1024 * 1024;

/// The most characters of one text field of the form (the longest the
/// services take is 2,000).
const MAX_TEXT_CHARS: usize = 4000;

/// The most text fields a form may carry.
const MAX_FIELDS: usize = 256;

/// A file sent with the form.
#[derive(Debug)]
pub struct File {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Why the file of a form cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Larger than the workbench takes.
    TooLarge,
    /// The upload broke off or the form could not be read.
    Unreadable,
}

/// A multipart form as read: its text fields, the file (if one was
/// chosen) or what was wrong with it.
#[derive(Debug, Default)]
pub struct Received {
    pub fields: Vec<(String, String)>,
    pub file: Option<Result<File, FileProblem>>,
}

/// A multipart form with several file inputs as read: its text fields and
/// each file chosen (by input name), or what was wrong with it.
#[derive(Debug, Default)]
pub struct ReceivedFiles {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Result<File, FileProblem>)>,
    /// The form broke off before its end (the fields after are missing).
    pub broken: bool,
}

/// Reads `multipart`: text fields (bounded in number and length) and the
/// one file field `file_field`, at most `max_file` bytes. A larger file is
/// read to its end and dropped (up to the route's body limit), so the
/// fields after it are still kept for the form shown again.
pub async fn read(multipart: Multipart, file_field: &str, max_file: u64) -> Received {
    let read = read_files(multipart, |name| name == file_field, max_file).await;
    let mut file = read.files.into_iter().next().map(|(_, file)| file);
    if read.broken && file.is_none() {
        file = Some(Err(FileProblem::Unreadable));
    }
    Received { fields: read.fields, file }
}

/// Like [`read`] for a form with several file inputs: every field whose
/// name `is_file` is a file (each at most `max_file` bytes); a file input
/// left empty is not listed.
pub async fn read_files(mut multipart: Multipart, is_file: impl Fn(&str) -> bool, max_file: u64) -> ReceivedFiles {
    let mut received = ReceivedFiles::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                tracing::info!(error = %error, "a form with a file could not be read to its end");
                received.broken = true;
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if is_file(&name) {
            let file_name = field.file_name().unwrap_or_default().trim().to_owned();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let content = read_file(field, max_file).await;
            // A file input left empty sends a part without a name or bytes.
            let chosen = !(file_name.is_empty() && content.as_ref().is_ok_and(Vec::is_empty));
            if chosen {
                received.files.push((name, content.map(|content| File { file_name, content_type, content })));
            }
        } else if received.fields.len() < MAX_FIELDS {
            match field.text().await {
                Ok(text) => received.fields.push((name, text.chars().take(MAX_TEXT_CHARS).collect())),
                Err(_) => {
                    received.broken = true;
                    break;
                }
            }
        }
    }
    received
}

/// The content of a file field, or why not (a file over `max` is read to
/// its end and dropped).
async fn read_file(mut field: Field<'_>, max: u64) -> Result<Vec<u8>, FileProblem> {
    let mut content = Vec::new();
    let mut too_large = false;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if too_large || (content.len() + chunk.len()) as u64 > max {
                    too_large = true;
                    content = Vec::new();
                } else {
                    content.extend_from_slice(&chunk);
                }
            }
            Ok(None) => break,
            Err(_) if too_large => return Err(FileProblem::TooLarge),
            Err(error) => {
                // Past the route's body limit reads as a broken stream.
                tracing::info!(error = %error, "a file upload broke off");
                return Err(if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    FileProblem::TooLarge
                } else {
                    FileProblem::Unreadable
                });
            }
        }
    }
    if too_large { Err(FileProblem::TooLarge) } else { Ok(content) }
}

/// Stores `file` in intake as the person (`materials` carries their
/// token): its reference, with the SHA-256 intake computed and checked
/// against the one declared.
pub async fn to_intake(materials: &mut Materials, file: &File) -> Result<MaterialRef, Status> {
    let sha256_hex = hex(&Sha256::digest(&file.content));
    let metadata = MaterialUploadMetadata {
        file_name: file.file_name.clone(),
        content_type: file.content_type.clone(),
        size_bytes: file.content.len() as u64,
        sha256_hex: sha256_hex.clone(),
    };
    let mut chunks: Vec<UploadMaterialChunk> =
        file.content.chunks(CHUNK_BYTES).map(|c| UploadMaterialChunk { metadata: None, content: c.to_vec() }).collect();
    match chunks.first_mut() {
        Some(first) => first.metadata = Some(metadata),
        None => chunks.push(UploadMaterialChunk { metadata: Some(metadata), content: Vec::new() }),
    }
    let stored = materials.upload_material(futures::stream::iter(chunks)).await?.into_inner().material;
    let stored = stored.ok_or_else(|| Status::internal("the upload answered no reference"))?;
    if stored.sha256_hex != sha256_hex {
        return Err(Status::internal("the upload's SHA-256 differs from the file's"));
    }
    Ok(stored)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sha256_is_lower_case_hex() {
        use sha2::Digest as _;
        assert_eq!(
            super::hex(&sha2::Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

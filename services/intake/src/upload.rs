//! An upload's bytes checked against what was declared of them, as they
//! arrive: name, size and hash format before any byte, each chunk on
//! arrival, length and hash at the end. Pure (no I/O, nothing stored): the
//! one-message and the chunked `UploadMaterial` both go through it, and
//! their handler stores the [`Received`] file ([`crate::grpc`]'s materials).

use sha2::Digest as _;
use yiciban_platform::status::{FieldViolation, invalid_argument};
use yiciban_proto::intake::MAX_CHUNK_BYTES;
use yiciban_proto::intake::v1 as pb;

/// What an uploader says of a file before its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The file name, trimmed.
    pub file_name: String,
    /// The MIME type; `application/octet-stream` when none was given.
    pub content_type: String,
    /// Exactly this many bytes of content make the file.
    pub size_bytes: u64,
    /// The hash the client computed (lower-case hex), if it sent one.
    pub sha256_hex: Option<String>,
}

impl Declared {
    pub fn new(file_name: &str, content_type: &str, size_bytes: u64, sha256_hex: &str) -> Declared {
        let content_type = content_type.trim();
        let sha256_hex = sha256_hex.trim();
        Declared {
            file_name: file_name.trim().to_owned(),
            content_type: if content_type.is_empty() { "application/octet-stream" } else { content_type }.to_owned(),
            size_bytes,
            sha256_hex: (!sha256_hex.is_empty()).then(|| sha256_hex.to_ascii_lowercase()),
        }
    }

    /// What is wrong with the declaration under `bounds`, each violation
    /// named as the RPC `names` its fields.
    pub fn violations(&self, bounds: Bounds, names: &Names) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        let size = self.size_bytes;
        let too_large = |description: String| FieldViolation { field: names.size.into(), description };
        if size == 0 {
            violations.push(FieldViolation { field: names.size.into(), description: "the file is empty".into() });
        } else if size > bounds.max_bytes {
            violations.push(too_large(format!(
                "the file has {size} bytes; the maximum is {} bytes — scan at a lower resolution or split it",
                bounds.max_bytes
            )));
        } else if size > bounds.call_max_bytes {
            violations.push(too_large(format!(
                "{size} bytes; this call takes at most {} — send it in chunks: MaterialService.UploadMaterial",
                bounds.call_max_bytes
            )));
        }
        if self.file_name.is_empty() {
            violations.push(FieldViolation { field: names.file_name.into(), description: "name the file".into() });
        }
        if let Some(sha) = &self.sha256_hex
            && !is_sha256_hex(sha)
        {
            violations.push(FieldViolation { field: names.sha256.into(), description: NOT_SHA256_HEX.into() });
        }
        violations
    }

    /// The violation when `sha256_hex` was given and the content hashed to
    /// `actual` instead.
    fn mismatch(&self, actual: &str, names: &Names) -> Option<FieldViolation> {
        let claimed = self.sha256_hex.as_deref()?;
        (claimed != actual).then(|| FieldViolation {
            field: names.sha256.into(),
            description: "does not match the content: the upload was damaged, send it again".into(),
        })
    }
}

impl From<pb::MaterialUploadMetadata> for Declared {
    fn from(m: pb::MaterialUploadMetadata) -> Declared {
        Declared::new(&m.file_name, &m.content_type, m.size_bytes, &m.sha256_hex)
    }
}

/// The sizes of file an RPC takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The service's maximum (`YICIBAN_MAX_MATERIAL_BYTES`).
    pub max_bytes: u64,
    /// The largest file this RPC takes, at most `max_bytes`; a file between
    /// the two is pointed to the chunked upload.
    pub call_max_bytes: u64,
}

/// The field paths of one RPC's request, as violations name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    pub file_name: &'static str,
    pub size: &'static str,
    pub sha256: &'static str,
    pub content: &'static str,
}

/// `IntakeService.UploadMaterial`: the whole file in `content`.
pub const ONE_MESSAGE: Names =
    Names { file_name: "file_name", size: "content", sha256: "sha256_hex", content: "content" };

/// `MaterialService.UploadMaterial`: the declaration in the first chunk's
/// `metadata`, the bytes in each chunk's `content`.
pub const CHUNKED: Names = Names {
    file_name: "metadata.file_name",
    size: "metadata.size_bytes",
    sha256: "metadata.sha256_hex",
    content: "content",
};

/// An upload refused: `INVALID_ARGUMENT` with what the client did wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: &'static str,
    pub violations: Vec<FieldViolation>,
}

impl Refusal {
    fn one(message: &'static str, field: &str, description: String) -> Refusal {
        Refusal { message, violations: vec![FieldViolation { field: field.into(), description }] }
    }
}

impl From<Refusal> for tonic::Status {
    fn from(r: Refusal) -> tonic::Status {
        invalid_argument(r.message, &r.violations)
    }
}

/// A file whose bytes all arrived and are what was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub declared: Declared,
    pub content: Vec<u8>,
    /// The content's hash, lower-case hex.
    pub sha256_hex: String,
}

/// One file's bytes arriving in order, never more than declared: the
/// buffer is reserved at the declared size (within the bounds) when the
/// first byte comes, and a byte past it is refused, not kept.
#[derive(Debug)]
pub struct Assembly {
    declared: Declared,
    names: Names,
    content: Vec<u8>,
    hasher: sha2::Sha256,
}

impl Assembly {
    /// Starts receiving the declared file, or refuses the declaration.
    pub fn start(declared: Declared, bounds: Bounds, names: Names) -> Result<Assembly, Refusal> {
        let violations = declared.violations(bounds, &names);
        if !violations.is_empty() {
            return Err(Refusal { message: "the material cannot be stored", violations });
        }
        Ok(Assembly { declared, names, content: Vec::new(), hasher: sha2::Sha256::new() })
    }

    /// Appends the next bytes; refuses (and keeps nothing of) bytes that
    /// would run past the declared size.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        let declared = self.declared.size_bytes;
        let after = self.content.len() as u64 + bytes.len() as u64;
        if after > declared {
            return Err(Refusal::one(
                "the content is longer than declared",
                self.names.content,
                format!("{after} bytes or more arrived; the metadata declared {declared} (size_bytes)"),
            ));
        }
        if self.content.capacity() == 0 && !bytes.is_empty() {
            // Bounded: `start` refused a size over the maximum.
            self.content.reserve_exact(usize::try_from(declared).unwrap_or(usize::MAX));
        }
        self.hasher.update(bytes);
        self.content.extend_from_slice(bytes);
        Ok(())
    }

    /// The received file, once every declared byte came and the hash (if
    /// declared) matches.
    pub fn finish(self) -> Result<Received, Refusal> {
        let (got, declared) = (self.content.len() as u64, self.declared.size_bytes);
        if got < declared {
            return Err(Refusal::one(
                "the content ended before the declared size",
                self.names.content,
                format!("{got} bytes arrived; the metadata declared {declared} (size_bytes): send the rest"),
            ));
        }
        let sha256_hex = hex::encode(self.hasher.finalize());
        if let Some(v) = self.declared.mismatch(&sha256_hex, &self.names) {
            return Err(Refusal { message: "the material cannot be stored", violations: vec![v] });
        }
        Ok(Received { declared: self.declared, content: self.content, sha256_hex })
    }
}

/// A file sent whole in one message: every problem of the declaration and
/// the content at once.
pub fn whole(declared: Declared, bounds: Bounds, content: Vec<u8>) -> Result<Received, Refusal> {
    let names = ONE_MESSAGE;
    let mut violations = declared.violations(bounds, &names);
    let sha256_hex = hex::encode(sha2::Sha256::digest(&content));
    violations.extend(declared.mismatch(&sha256_hex, &names));
    if !violations.is_empty() {
        return Err(Refusal { message: "the material cannot be stored", violations });
    }
    Ok(Received { declared, content, sha256_hex })
}

/// The messages of one chunked upload, in order: the metadata in the
/// first, content in any, at most [`MAX_CHUNK_BYTES`] each.
#[derive(Debug)]
pub struct Chunks {
    bounds: Bounds,
    assembly: Option<Assembly>,
}

impl Chunks {
    pub fn new(bounds: Bounds) -> Chunks {
        Chunks { bounds, assembly: None }
    }

    /// Takes the next message. Returns the declaration when this message
    /// started the upload: the caller checks what it needs to (the quota)
    /// before reading on.
    pub fn take(&mut self, chunk: pb::UploadMaterialChunk) -> Result<Option<Declared>, Refusal> {
        if chunk.content.len() > MAX_CHUNK_BYTES {
            return Err(Refusal::one(
                "a message carries too much content",
                CHUNKED.content,
                format!("{} bytes in one message; send at most {MAX_CHUNK_BYTES} per message", chunk.content.len()),
            ));
        }
        if let Some(assembly) = self.assembly.as_mut() {
            if chunk.metadata.is_some() {
                return Err(Refusal::one(
                    "the metadata came twice",
                    "metadata",
                    "only the first message carries the metadata; later ones carry content only".into(),
                ));
            }
            assembly.append(&chunk.content)?;
            return Ok(None);
        }
        let Some(metadata) = chunk.metadata else {
            return Err(Refusal::one(
                "the upload starts without its metadata",
                "metadata",
                "the first message carries the metadata (file name, size, hash)".into(),
            ));
        };
        let declared = Declared::from(metadata);
        let assembly = self.assembly.insert(Assembly::start(declared.clone(), self.bounds, CHUNKED)?);
        assembly.append(&chunk.content)?;
        Ok(Some(declared))
    }

    /// The file, at the end of the stream.
    pub fn end(self) -> Result<Received, Refusal> {
        let assembly = self.assembly.ok_or_else(|| {
            Refusal::one(
                "the upload carried no message",
                "metadata",
                "send the metadata in a first message, then the content".into(),
            )
        })?;
        assembly.finish()
    }
}

/// What a `sha256_hex` that is not one is told.
pub const NOT_SHA256_HEX: &str = "is not a SHA-256 in hex (64 hex digits); send it so, or leave it empty";

/// Whether `text` is a SHA-256 in hex (64 hex digits, either case).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds { max_bytes: 3 * MAX_CHUNK_BYTES as u64, call_max_bytes: 3 * MAX_CHUNK_BYTES as u64 };

    fn metadata(size: usize, sha: &str) -> Option<pb::MaterialUploadMetadata> {
        Some(pb::MaterialUploadMetadata {
            file_name: " scan.pdf ".into(),
            content_type: String::new(),
            size_bytes: size as u64,
            sha256_hex: sha.into(),
        })
    }

    fn chunk(metadata: Option<pb::MaterialUploadMetadata>, content: &[u8]) -> pb::UploadMaterialChunk {
        pb::UploadMaterialChunk { metadata, content: content.to_vec() }
    }

    fn sha(content: &[u8]) -> String {
        hex::encode(sha2::Sha256::digest(content))
    }

    fn fields(r: &Refusal) -> Vec<&str> {
        r.violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_file_in_three_chunks_is_received_whole_with_its_hash() {
        let file: Vec<u8> = (0..2 * MAX_CHUNK_BYTES + 10).map(|i| (i % 251) as u8).collect();
        let mut chunks = Chunks::new(BOUNDS);
        let started = chunks.take(chunk(metadata(file.len(), &sha(&file).to_uppercase()), &file[..10])).unwrap();
        let declared = started.expect("the first message starts the upload");
        assert_eq!(
            (declared.file_name.as_str(), declared.content_type.as_str()),
            ("scan.pdf", "application/octet-stream")
        );
        assert_eq!(chunks.take(chunk(None, &file[10..10 + MAX_CHUNK_BYTES])).unwrap(), None);
        chunks.take(chunk(None, &file[10 + MAX_CHUNK_BYTES..])).unwrap();
        let received = chunks.end().unwrap();
        assert_eq!(received.content, file);
        assert_eq!(received.sha256_hex, sha(&file));
    }

    #[test]
    fn without_a_declared_hash_the_content_is_hashed_and_kept() {
        let mut chunks = Chunks::new(BOUNDS);
        chunks.take(chunk(metadata(3, ""), b"abc")).unwrap();
        assert_eq!(chunks.end().unwrap().sha256_hex, sha(b"abc"));
    }

    #[test]
    fn content_past_the_declared_size_is_refused_on_arrival() {
        let mut chunks = Chunks::new(BOUNDS);
        chunks.take(chunk(metadata(4, ""), b"abc")).unwrap();
        let r = chunks.take(chunk(None, b"de")).unwrap_err();
        assert_eq!(fields(&r), ["content"]);
        assert!(r.violations[0].description.contains("declared 4"), "{r:?}");
    }

    #[test]
    fn content_ending_short_of_the_declared_size_is_refused() {
        let mut chunks = Chunks::new(BOUNDS);
        chunks.take(chunk(metadata(4, ""), b"abc")).unwrap();
        let r = chunks.end().unwrap_err();
        assert_eq!(r.message, "the content ended before the declared size");
    }

    #[test]
    fn a_first_message_without_metadata_and_metadata_repeated_are_refused() {
        let r = Chunks::new(BOUNDS).take(chunk(None, b"abc")).unwrap_err();
        assert_eq!(r.message, "the upload starts without its metadata");
        let mut chunks = Chunks::new(BOUNDS);
        chunks.take(chunk(metadata(6, ""), b"abc")).unwrap();
        let r = chunks.take(chunk(metadata(6, ""), b"def")).unwrap_err();
        assert_eq!((r.message, fields(&r)), ("the metadata came twice", vec!["metadata"]));
    }

    #[test]
    fn a_stream_with_no_message_is_refused() {
        assert_eq!(Chunks::new(BOUNDS).end().unwrap_err().message, "the upload carried no message");
    }

    #[test]
    fn a_message_over_the_chunk_maximum_is_refused() {
        let mut chunks = Chunks::new(BOUNDS);
        let r = chunks.take(chunk(metadata(MAX_CHUNK_BYTES + 1, ""), &vec![0; MAX_CHUNK_BYTES + 1])).unwrap_err();
        assert_eq!(fields(&r), ["content"]);
    }

    #[test]
    fn a_declaration_is_checked_before_any_byte_with_every_problem() {
        let mut chunks = Chunks::new(BOUNDS);
        let mut m = metadata(3 * MAX_CHUNK_BYTES + 1, "xyz").unwrap();
        m.file_name = "  ".into();
        let r = chunks.take(chunk(Some(m), b"")).unwrap_err();
        assert_eq!(fields(&r), ["metadata.size_bytes", "metadata.file_name", "metadata.sha256_hex"]);
        let r = Chunks::new(BOUNDS).take(chunk(metadata(0, ""), b"")).unwrap_err();
        assert_eq!(r.violations[0].description, "the file is empty");
    }

    #[test]
    fn a_hash_that_does_not_match_is_refused_at_the_end() {
        let mut chunks = Chunks::new(BOUNDS);
        chunks.take(chunk(metadata(3, &sha(b"abd")), b"abc")).unwrap();
        let r = chunks.end().unwrap_err();
        assert_eq!(fields(&r), ["metadata.sha256_hex"]);
    }

    #[test]
    fn the_buffer_never_holds_more_than_the_declared_size() {
        let mut assembly = Assembly::start(Declared::new("a", "", 5, ""), BOUNDS, CHUNKED).unwrap();
        assembly.append(b"ab").unwrap();
        assert_eq!(assembly.content.capacity(), 5);
        assert!(assembly.append(b"cdef").is_err());
        assert_eq!(assembly.content, b"ab", "refused bytes are not kept");
    }

    #[test]
    fn a_whole_file_lists_every_problem_and_points_larger_files_to_the_chunked_upload() {
        let bounds = Bounds { max_bytes: 100, call_max_bytes: 10 };
        let r = whole(Declared::new("", "", 11, &sha(b"x")), bounds, vec![1; 11]).unwrap_err();
        assert_eq!(fields(&r), ["content", "file_name", "sha256_hex"]);
        assert!(r.violations[0].description.contains("MaterialService.UploadMaterial"), "{r:?}");
        let r = whole(Declared::new("a", "", 101, ""), bounds, vec![1; 101]).unwrap_err();
        assert!(r.violations[0].description.contains("the maximum is 100 bytes"), "{r:?}");
        let ok = whole(Declared::new("a", "text/plain", 3, &sha(b"abc")), bounds, b"abc".to_vec()).unwrap();
        assert_eq!(ok.declared.content_type, "text/plain");
    }
}

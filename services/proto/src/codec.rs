//! The codec of every generated client and server: prost's, with one check
//! of each message read — no string field, at any depth (form values in a
//! `google.protobuf.Struct` included), holds U+0000 (NUL). Protobuf and Rust
//! allow it; Postgres' `text` and `jsonb` do not, so a request carrying one
//! would pass every validator and fail deep in a store as INTERNAL, or
//! poison a projection when its event is folded into a JSON read model.
//! Here it is refused where it arrives, as INVALID_ARGUMENT naming the
//! field, before any handler runs.
//!
//! The check walks the encoded bytes with the message's descriptor (from
//! [`crate::descriptors`]): one pass, the message not copied, and bytes that
//! are not a valid encoding are left to prost's decoder to refuse.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use prost::bytes::Buf as _;
use prost::encoding::decode_varint;
use prost::{Message, Name};
use prost_types::field_descriptor_proto::{Label, Type};
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstDecoder, ProstEncoder};
use tonic_types::{ErrorDetails, StatusExt as _};

/// Nested messages deeper than this are not looked into (prost refuses
/// deeper ones anyway).
const MAX_DEPTH: usize = 100;

/// prost's codec, checking every message it reads (see the module docs).
#[derive(Debug, Clone)]
pub struct CheckedCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for CheckedCodec<T, U> {
    fn default() -> Self {
        CheckedCodec { _types: PhantomData }
    }
}

impl<T, U> Codec for CheckedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder { inner: ProstDecoder::default() }
    }
}

/// prost's decoder after the check.
#[derive(Debug, Clone)]
pub struct CheckedDecoder<U> {
    inner: ProstDecoder<U>,
}

impl<U: Message + Name + Default> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        // tonic reads a message into one contiguous buffer, so `chunk` is
        // all of it; were it ever split, the message is copied first.
        if src.chunk().len() < src.remaining() {
            let bytes = src.copy_to_bytes(src.remaining());
            if let Some(field) = nul_in(&U::full_name(), &bytes) {
                return Err(refusal(&field));
            }
            return U::decode(bytes).map(Some).map_err(|e| Status::internal(e.to_string()));
        }
        if let Some(field) = nul_in(&U::full_name(), src.chunk()) {
            return Err(refusal(&field));
        }
        self.inner.decode(src)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}

/// The answer to a message with NUL in `field`.
fn refusal(field: &str) -> Status {
    let description = "holds the character U+0000 (NUL), which no text may contain; remove it";
    Status::with_error_details(
        Code::InvalidArgument,
        format!("the request is malformed: {field} {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

#[derive(Debug)]
enum Kind {
    Text,
    Message(String),
    Other,
}

#[derive(Debug)]
struct Field {
    name: String,
    repeated: bool,
    kind: Kind,
}

/// Every message type of the descriptor set by full name (no leading dot),
/// with what the walk needs of its fields, by number.
fn index() -> &'static HashMap<String, HashMap<u32, Field>> {
    static INDEX: OnceLock<HashMap<String, HashMap<u32, Field>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        crate::descriptors::messages()
            .iter()
            .map(|(name, m)| {
                let fields = m
                    .field
                    .iter()
                    .filter_map(|f| {
                        let kind = match f.r#type() {
                            Type::String => Kind::Text,
                            Type::Message => Kind::Message(f.type_name().trim_start_matches('.').to_owned()),
                            _ => Kind::Other,
                        };
                        let number = u32::try_from(f.number()).ok()?;
                        Some((
                            number,
                            Field { name: f.name().to_owned(), repeated: f.label() == Label::Repeated, kind },
                        ))
                    })
                    .collect();
                (name.clone(), fields)
            })
            .collect()
    })
}

/// The path of the first string field of the message `type_name` encoded in
/// `bytes` that holds NUL (e.g. `applicant.name`, `materials[1].file_name`);
/// `None` when there is none, or when the bytes stop being a valid encoding
/// (prost then says what is wrong).
pub fn nul_in(type_name: &str, bytes: &[u8]) -> Option<String> {
    walk(index(), type_name, bytes, "", 0)
}

fn walk(
    index: &HashMap<String, HashMap<u32, Field>>,
    type_name: &str,
    mut buf: &[u8],
    path: &str,
    depth: usize,
) -> Option<String> {
    let fields = index.get(type_name)?;
    let mut seen: HashMap<u32, usize> = HashMap::new();
    while !buf.is_empty() {
        let key = decode_varint(&mut buf).ok()?;
        let number = u32::try_from(key >> 3).ok()?;
        match key & 7 {
            0 => {
                decode_varint(&mut buf).ok()?;
            }
            1 => buf = buf.get(8..)?,
            5 => buf = buf.get(4..)?,
            2 => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
                let value = buf.get(..len)?;
                buf = &buf[len..];
                let Some(field) = fields.get(&number) else { continue };
                let at = || {
                    let name = if path.is_empty() { field.name.clone() } else { format!("{path}.{}", field.name) };
                    if field.repeated { format!("{name}[{}]", seen.get(&number).copied().unwrap_or(0)) } else { name }
                };
                match &field.kind {
                    Kind::Text if value.contains(&0) => return Some(at()),
                    Kind::Message(inner) if depth < MAX_DEPTH => {
                        if let Some(found) = walk(index, inner, value, &at(), depth + 1) {
                            return Some(found);
                        }
                    }
                    _ => {}
                }
                *seen.entry(number).or_default() += 1;
            }
            // Groups are not used by these protos; anything else is not an
            // encoding prost accepts.
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::v1 as common;
    use crate::intake::v1 as pb;

    fn nul(request: &impl Message, name: &str) -> Option<String> {
        nul_in(name, &request.encode_to_vec())
    }

    #[test]
    fn nul_is_found_in_any_string_field_at_any_depth_and_named_by_its_path() {
        let clean = pb::SubmitApplicationRequest {
            idempotency_key: "k-1".into(),
            package_id: "newborn".into(),
            applicant: Some(common::Applicant { name: "王小明".into(), ..Default::default() }),
            ..Default::default()
        };
        let name = pb::SubmitApplicationRequest::full_name();
        assert_eq!(nul(&clean, &name), None);

        let top = pb::SubmitApplicationRequest { package_id: "new\0born".into(), ..clean.clone() };
        assert_eq!(nul(&top, &name).as_deref(), Some("package_id"));

        let nested = pb::SubmitApplicationRequest {
            applicant: Some(common::Applicant { name: "王\0小明".into(), ..Default::default() }),
            ..clean.clone()
        };
        assert_eq!(nul(&nested, &name).as_deref(), Some("applicant.name"));

        let material = |file_name: &str| common::MaterialRef { file_name: file_name.into(), ..Default::default() };
        let repeated =
            pb::SubmitApplicationRequest { materials: vec![material("a.pdf"), material("b\0.pdf")], ..clean.clone() };
        assert_eq!(nul(&repeated, &name).as_deref(), Some("materials[1].file_name"));

        // A form value, inside google.protobuf.Struct.
        let value = |s: &str| prost_types::Value { kind: Some(prost_types::value::Kind::StringValue(s.into())) };
        let form = prost_types::Struct { fields: [("father_name".to_owned(), value("张\0三"))].into() };
        let in_form = pb::SubmitApplicationRequest { form_data: Some(form), ..clean };
        let found = nul(&in_form, &name).expect("found in the form");
        assert!(found.starts_with("form_data.fields[0]"), "{found}");
    }

    #[test]
    fn bytes_fields_and_unknown_fields_may_hold_nul_and_broken_encodings_are_left_to_prost() {
        let upload =
            pb::UploadMaterialRequest { file_name: "a.pdf".into(), content: vec![0, 0, 1], ..Default::default() };
        assert_eq!(nul(&upload, &pb::UploadMaterialRequest::full_name()), None);
        assert_eq!(nul_in(&pb::SubmitApplicationRequest::full_name(), &[0x0a, 0x64, b'k']), None);
        assert_eq!(nul_in(&pb::SubmitApplicationRequest::full_name(), &[0xff; 11]), None);
        assert_eq!(nul_in("no.such.Message", b"\x0a\x01\x00"), None);
    }

    #[test]
    fn the_refusal_is_invalid_argument_with_the_field_as_a_violation() {
        let status = refusal("applicant.name");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("applicant.name"), "{}", status.message());
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("a bad request").field_violations;
        assert_eq!(violations[0].field, "applicant.name");
    }
}

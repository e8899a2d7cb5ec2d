//! The descriptor set the crate is built with ([`crate::FILE_DESCRIPTOR_SET`],
//! comments included), decoded once, and every message type in it by full
//! name: what the checked codec, the catalogue, the golden fixtures and the
//! tests that build messages from descriptors read.

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::Message as _;
use prost_types::{DescriptorProto, FileDescriptorSet};

/// The decoded descriptor set.
pub fn set() -> &'static FileDescriptorSet {
    static SET: OnceLock<FileDescriptorSet> = OnceLock::new();
    SET.get_or_init(|| FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).expect("the built descriptor set"))
}

/// Every message type of the set, nested ones included, by full name
/// without the leading dot (`yiciban.intake.v1.SubmitApplicationRequest`,
/// `google.protobuf.Struct.FieldsEntry`).
pub fn messages() -> &'static HashMap<String, DescriptorProto> {
    static MESSAGES: OnceLock<HashMap<String, DescriptorProto>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        fn add(prefix: &str, found: &[DescriptorProto], out: &mut HashMap<String, DescriptorProto>) {
            for m in found {
                let name = if prefix.is_empty() { m.name().to_owned() } else { format!("{prefix}.{}", m.name()) };
                add(&name, &m.nested_type, out);
                out.insert(name, m.clone());
            }
        }
        let mut out = HashMap::new();
        for file in &set().file {
            add(file.package(), &file.message_type, &mut out);
        }
        out
    })
}

/// The leading comment attached to the element at `path` of `file` (a
/// source-code-info path: `[4, m]` the m-th message, `[6, s, 2, m]` the m-th
/// method of the s-th service, …), its lines trimmed and joined by spaces;
/// empty when there is none.
pub fn comment(file: &prost_types::FileDescriptorProto, path: &[i32]) -> String {
    let Some(info) = &file.source_code_info else { return String::new() };
    info.location
        .iter()
        .find(|l| l.path == path)
        .and_then(|l| l.leading_comments.clone())
        .map(|c| c.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The message a field's `type_name` (`.package.Message`) names.
pub fn message(type_name: &str) -> Option<&'static DescriptorProto> {
    messages().get(type_name.trim_start_matches('.'))
}

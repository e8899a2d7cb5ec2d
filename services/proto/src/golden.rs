//! Golden wire fixtures: for every event type of the contract and every
//! schema version it has had, the bytes of one event with every field set
//! are kept in `golden/events-v1/<Type>.v<version>.hex`, written once and
//! never changed — stored events live for ever. Each must still decode
//! with today's messages and encode back to the very same bytes, so a field
//! renumbered, retyped or removed fails here even where `buf breaking` is
//! not run. A new event type (or version) without its fixture fails too:
//! `YICIBAN_BLESS_GOLDEN=1 cargo test -p yiciban-proto golden` writes the
//! missing ones (existing files are never rewritten); commit them.

use std::path::PathBuf;

use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_types::field_descriptor_proto::{Label, Type};

use crate::payload::{EVENT_TYPES, EventPayload};

/// The schema version every event type is at today (no upcaster exists
/// yet; a new version adds its fixture beside the old one's).
const VERSION: u32 = 1;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/events-v1")
}

/// An encoding of `type_name` with every field set (repeated ones twice,
/// nested messages to depth 3), each value told apart by its field number.
fn filled(type_name: &str, depth: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let Some(m) = crate::descriptors::message(type_name) else { return buf };
    for f in &m.field {
        let tag = u32::try_from(f.number()).expect("a positive field number");
        let times = if f.label() == Label::Repeated { 2 } else { 1 };
        for i in 0..times {
            let n = u64::from(tag) + i;
            let delimited = |bytes: &[u8], buf: &mut Vec<u8>| {
                encode_key(tag, WireType::LengthDelimited, buf);
                encode_varint(bytes.len() as u64, buf);
                buf.extend_from_slice(bytes);
            };
            match f.r#type() {
                Type::String => delimited(format!("{}-{i} 值", f.name()).as_bytes(), &mut buf),
                Type::Bytes => delimited(&[tag as u8, 0, 0xff], &mut buf),
                Type::Message | Type::Group if depth < 3 => {
                    delimited(&filled(f.type_name(), depth + 1), &mut buf);
                }
                Type::Message | Type::Group => {}
                Type::Fixed32 | Type::Sfixed32 | Type::Float => {
                    encode_key(tag, WireType::ThirtyTwoBit, &mut buf);
                    buf.extend_from_slice(&(n as u32).to_le_bytes());
                }
                Type::Fixed64 | Type::Sfixed64 | Type::Double => {
                    encode_key(tag, WireType::SixtyFourBit, &mut buf);
                    buf.extend_from_slice(&n.to_le_bytes());
                }
                Type::Bool | Type::Enum => {
                    encode_key(tag, WireType::Varint, &mut buf);
                    encode_varint(1, &mut buf);
                }
                _ => {
                    encode_key(tag, WireType::Varint, &mut buf);
                    encode_varint(n, &mut buf);
                }
            }
        }
    }
    buf
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits")).collect()
}

#[test]
fn every_event_type_and_version_has_a_fixture_that_decodes_and_encodes_back_to_the_same_bytes() {
    let bless = std::env::var_os("YICIBAN_BLESS_GOLDEN").is_some();
    let mut problems = Vec::new();
    for event_type in EVENT_TYPES {
        let path = dir().join(format!("{event_type}.v{VERSION}.hex"));
        if !path.exists() {
            if bless {
                let raw = filled(&format!("yiciban.events.v1.{event_type}"), 0);
                let payload = EventPayload::decode_known(event_type, &raw).expect("a filled message decodes");
                std::fs::create_dir_all(dir()).unwrap();
                std::fs::write(&path, hex(&payload.encode_to_vec()) + "\n").unwrap();
            } else {
                problems.push(format!(
                    "{event_type} v{VERSION} has no fixture (YICIBAN_BLESS_GOLDEN=1 writes it; commit it)"
                ));
                continue;
            }
        }
        let bytes = unhex(&std::fs::read_to_string(&path).unwrap());
        assert!(!bytes.is_empty(), "{} is empty", path.display());
        match EventPayload::decode_known(event_type, &bytes) {
            Err(e) => problems.push(format!("{event_type} v{VERSION} no longer decodes: {e}")),
            Ok(payload) if payload.encode_to_vec() != bytes => problems.push(format!(
                "{event_type} v{VERSION} decodes but encodes back differently: a field was renumbered, retyped or \
                 removed"
            )),
            Ok(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_changed_field_number_or_type_is_caught_by_the_round_trip() {
    // TaskClaimed as stored: task_id = 1, assignee = 2.
    let stored = crate::events::v1::TaskClaimed { task_id: "t-1".into(), assignee: "agent-1".into() }.encode_to_vec();
    assert_eq!(EventPayload::decode_known("TaskClaimed", &stored).unwrap().encode_to_vec(), stored);
    // Bytes of a field the message no longer has (number 9) are dropped.
    let mut with_removed = stored.clone();
    with_removed.extend_from_slice(&[0x4a, 0x01, b'x']);
    assert_ne!(EventPayload::decode_known("TaskClaimed", &with_removed).unwrap().encode_to_vec(), with_removed);
    // A field whose type changed (assignee as a number) does not decode.
    assert!(EventPayload::decode_known("TaskClaimed", &[0x10, 0x01]).is_err());
}

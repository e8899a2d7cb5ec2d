//! Random requests for any RPC, built from the descriptor set the services
//! are compiled from (`yiciban_proto::FILE_DESCRIPTOR_SET`), so a new RPC or
//! field is covered without touching this file: each field present or left
//! out, repeated fields empty, short or very long, strings of every kind of
//! character (controls, NUL, bidi overrides, astral and combining
//! characters, noncharacters, 20,000 characters, SQL and format strings) or
//! plausible values (UUIDs, package and department codes, dates, an ID
//! number) that carry a request past its first checks, integers at their
//! edges, unknown enum values, nested messages to a depth of five.

use prost::encoding::{WireType, encode_key, encode_varint};
use prost_types::FieldDescriptorProto;
use prost_types::field_descriptor_proto::{Label, Type};
use rand::Rng as _;
use rand::rngs::StdRng;

/// Nested messages deeper than this are left out.
const MAX_DEPTH: usize = 5;

/// One RPC of the protos.
#[derive(Debug, Clone)]
pub struct Method {
    /// `/package.Service/Method`.
    pub path: String,
    /// The request message's full name, `.package.Message`.
    pub input: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
}

/// Every RPC of the protos.
pub fn methods() -> Vec<Method> {
    yiciban_proto::descriptors::set()
        .file
        .iter()
        .flat_map(|f| {
            f.service.iter().flat_map(move |s| {
                s.method.iter().map(move |m| Method {
                    path: format!("/{}.{}/{}", f.package(), s.name(), m.name()),
                    input: m.input_type().to_owned(),
                    client_streaming: m.client_streaming(),
                    server_streaming: m.server_streaming(),
                })
            })
        })
        .collect()
}

/// A random encoding of the message `type_name` (`.package.Message`).
pub fn random(type_name: &str, rng: &mut StdRng) -> Vec<u8> {
    message(type_name, 0, rng)
}

fn message(type_name: &str, depth: usize, rng: &mut StdRng) -> Vec<u8> {
    let mut buf = Vec::new();
    let Some(d) = yiciban_proto::descriptors::message(type_name) else { return buf };
    for f in &d.field {
        if rng.random_ratio(1, 3) {
            continue;
        }
        let n = if f.label() == Label::Repeated {
            match rng.random_range(0..12) {
                0 => 300,
                1..=3 => 0,
                _ => rng.random_range(1..4),
            }
        } else {
            1
        };
        for _ in 0..n {
            field(f, depth, rng, &mut buf);
        }
    }
    buf
}

fn field(f: &FieldDescriptorProto, depth: usize, rng: &mut StdRng, buf: &mut Vec<u8>) {
    let tag = u32::try_from(f.number()).expect("a positive field number");
    let delimited = |bytes: &[u8], buf: &mut Vec<u8>| {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(bytes.len() as u64, buf);
        buf.extend_from_slice(bytes);
    };
    match f.r#type() {
        Type::String => delimited(text(rng).as_bytes(), buf),
        Type::Bytes => {
            let len = if rng.random_ratio(1, 8) { 70_000 } else { rng.random_range(0..64) };
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            delimited(&bytes, buf);
        }
        Type::Message | Type::Group => {
            if depth < MAX_DEPTH {
                let inner = message(f.type_name(), depth + 1, rng);
                delimited(&inner, buf);
            }
        }
        Type::Enum => {
            let value: i64 = *pick(rng, &[0, 1, 2, 3, 4, 7, 99, -1, i64::from(i32::MAX)]);
            encode_key(tag, WireType::Varint, buf);
            encode_varint(value as u64, buf);
        }
        Type::Bool | Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 => {
            encode_key(tag, WireType::Varint, buf);
            encode_varint(integer(rng), buf);
        }
        Type::Sint32 | Type::Sint64 => {
            let v = integer(rng) as i64;
            encode_key(tag, WireType::Varint, buf);
            encode_varint(((v << 1) ^ (v >> 63)) as u64, buf);
        }
        Type::Fixed32 | Type::Sfixed32 | Type::Float => {
            encode_key(tag, WireType::ThirtyTwoBit, buf);
            buf.extend_from_slice(&rng.random::<u32>().to_le_bytes());
        }
        Type::Fixed64 | Type::Sfixed64 | Type::Double => {
            encode_key(tag, WireType::SixtyFourBit, buf);
            let any: u64 = rng.random();
            let v = *pick(rng, &[0u64, f64::NAN.to_bits(), f64::INFINITY.to_bits(), any]);
            buf.extend_from_slice(&v.to_le_bytes());
        }
    }
}

fn pick<'a, T>(rng: &mut StdRng, from: &'a [T]) -> &'a T {
    &from[rng.random_range(0..from.len())]
}

/// An integer at an edge, or any.
fn integer(rng: &mut StdRng) -> u64 {
    let (any, small): (u64, u64) = (rng.random(), rng.random_range(0..50));
    *pick(
        rng,
        &[
            0,
            1,
            2,
            7,
            100,
            1_000_000,
            u64::from(u32::MAX),
            i32::MAX as u64,
            -1i64 as u64,
            i64::MIN as u64,
            u64::MAX,
            any,
            small,
        ],
    )
}

/// A string of some kind of character, or a plausible value.
pub fn text(rng: &mut StdRng) -> String {
    match rng.random_range(0..20) {
        0 => String::new(),
        1 => " \t\r\n\u{3000}\u{a0}".to_owned(),
        2 => "a\0b\0".to_owned(),
        3 => "\u{1}\u{7}\u{1b}[31m\u{7f}\u{85}".to_owned(),
        4 => "\u{202e}رسالة\u{202c}\u{2066}abc\u{2069}".to_owned(),
        5 => "😀𝕏𠀀\u{10ffff}".to_owned(),
        6 => "e\u{301}\u{301}\u{301}\u{20dd}".to_owned(),
        7 => "办".repeat(rng.random_range(2_000..20_000)),
        8 => "'; DROP TABLE events; -- %s%n{0}${x}\\".to_owned(),
        9 => "../../etc/passwd\\..\\C:".to_owned(),
        10 => "\u{fffe}\u{ffff}\u{fdd0}\u{feff}\u{200b}".to_owned(),
        11 => (0..rng.random_range(1..40)).map(|_| rng.random::<char>()).collect(),
        12 => uuid::Uuid::now_v7().to_string(),
        13 => uuid::Uuid::nil().to_string(),
        14 => (*pick(rng, &["open-restaurant", "newborn", "samr", "police", "2026.1", "DEMO-CY-02", "s1"])).to_owned(),
        15 => (*pick(rng, &["2026-01-05", "2026-02-30", "9999-12-31", "2026-01-05T09:00:00+08:00"])).to_owned(),
        16 => (*pick(rng, &["11010519491231002X", "110105194912310021", "15020319900101123"])).to_owned(),
        17 => (*pick(rng, &["YCB-20260105-000001", "sha256/00", "13800000000", "k-1"])).to_owned(),
        18 => "x".repeat(rng.random_range(120..300)),
        _ => "王小明".to_owned(),
    }
}

//! Properties of reading stored events: any bytes under any event type —
//! random protobuf framing with every wire type, truncated lengths, invalid
//! UTF-8 in strings, huge varints — decode to a payload or an error, and the
//! domain conversions of every area then accept or refuse them: never a
//! panic.

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use crate::payload::{EVENT_TYPES, EventPayload};

/// One protobuf field of a random kind, encoded by hand (so that it can be
/// wrong in every way the wire allows).
fn field() -> impl Strategy<Value = Vec<u8>> {
    let tag = 1u32..24;
    prop_oneof![
        // varint, possibly huge or overlong
        (tag.clone(), any::<u64>()).prop_map(|(t, v)| {
            let mut out = varint(u64::from(t << 3));
            out.extend(varint(v));
            out
        }),
        // length-delimited: random bytes (invalid UTF-8 too) or nested fields
        (tag.clone(), prop::collection::vec(any::<u8>(), 0..48)).prop_map(|(t, bytes)| {
            let mut out = varint(u64::from(t << 3 | 2));
            out.extend(varint(bytes.len() as u64));
            out.extend(bytes);
            out
        }),
        // a length that runs past the end
        (tag.clone(), 1u64..10_000, prop::collection::vec(any::<u8>(), 0..4)).prop_map(|(t, claimed, bytes)| {
            let mut out = varint(u64::from(t << 3 | 2));
            out.extend(varint(claimed));
            out.extend(bytes);
            out
        }),
        // fixed32 / fixed64, and the deprecated group wire types
        (tag.clone(), any::<[u8; 8]>(), 0u32..6).prop_map(|(t, bytes, wire)| {
            let mut out = varint(u64::from(t << 3 | wire));
            out.extend_from_slice(&bytes[..if wire == 5 { 4 } else { 8 }]);
            out
        }),
    ]
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(field(), 0..8).prop_map(|fields| fields.concat()),
        prop::collection::vec(any::<u8>(), 0..96),
    ]
}

fn at() -> DateTime<Utc> {
    "2026-03-16T02:00:00Z".parse().expect("a fixed instant")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_under_any_event_type_decode_or_are_refused_never_a_panic(
        index in 0..EVENT_TYPES.len(),
        bytes in payload(),
    ) {
        let event_type = EVENT_TYPES[index];
        let _ = EventPayload::decode(event_type, &bytes);
        let _ = super::intake::decode_event(event_type, &bytes, crate::sealed::Opening::NoKey);
        let _ = super::intake::decode_event(event_type, &bytes, crate::sealed::Opening::Erased);
        let _ = super::routing::decode_event(event_type, &bytes, at());
        let _ = super::tasks::decode_event(event_type, &bytes, at());
        let _ = super::issuance::decode_event(event_type, &bytes, at());
    }

    #[test]
    fn an_unknown_event_type_is_never_read_as_a_known_one(name in "[A-Za-z]{1,24}", bytes in payload()) {
        prop_assume!(!EVENT_TYPES.contains(&name.as_str()));
        prop_assert_eq!(EventPayload::decode(&name, &bytes).ok(), Some(EventPayload::Other));
    }
}

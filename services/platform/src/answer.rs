//! How every refusal leaves a service, whatever produced it: a request the
//! transport could not read (a body that is not the RPC's protobuf message,
//! a truncated frame, a message over the size limit) is `INVALID_ARGUMENT`
//! with a short message — tonic itself answers `INTERNAL` or `OUT_OF_RANGE`
//! — and no answer carries more status text than a default gRPC client reads
//! (grpc-core refuses metadata over 8 KB): the message is cut to
//! [`MAX_MESSAGE_BYTES`] once encoded, and details over [`MAX_DETAILS_BYTES`]
//! are left out. [`crate::grpc::TraceLayer`] applies [`rewrite`] to every
//! answer of every service before it counts the answer's code.

use tonic::Code;

/// The most bytes of `grpc-message` (percent-encoded) an answer carries.
pub const MAX_MESSAGE_BYTES: usize = 2048;

/// The most bytes of `grpc-status-details-bin` (base64) an answer carries.
pub const MAX_DETAILS_BYTES: usize = 4096;

/// The message prefixes of tonic's (and prost's) failures to read a
/// request, with the status each becomes and what the caller is told.
const UNREADABLE: &[(Code, &str, &str)] = &[
    (Code::Internal, "failed to decode Protobuf message: ", "the request is not a valid protobuf message of this RPC"),
    (Code::Internal, "Unexpected EOF decoding stream", "the request ends inside a message (truncated)"),
    (Code::Internal, "Missing request message", "the request carries no message"),
    (Code::Internal, "protocol error: received message with", "the request's message frame is malformed"),
    (Code::Internal, "Error decompressing: ", "the request's compressed message cannot be decompressed"),
    (Code::OutOfRange, "Error, decoded message length too large", "the request is larger than this RPC accepts"),
    (Code::ResourceExhausted, "Error decompressing: size limit", "the request is larger than this RPC accepts"),
];

/// The answer to a request the transport could not read, when `code` and
/// `message` are tonic's own answer to one: `INVALID_ARGUMENT`, with what
/// the caller did wrong and tonic's detail (cut to 160 characters).
/// `None` for every other answer.
pub fn unreadable_request(code: Code, message: &str) -> Option<(Code, String)> {
    let (_, prefix, said) = UNREADABLE.iter().find(|(c, prefix, _)| *c == code && message.starts_with(prefix))?;
    let detail = message.strip_prefix(prefix).unwrap_or(message).trim_start_matches([':', ' ', '.']);
    let detail = cut(detail, 160);
    Some((Code::InvalidArgument, if detail.is_empty() { (*said).to_owned() } else { format!("{said}: {detail}") }))
}

/// `text` cut to at most `max` characters, with "…" when it was cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// The bytes `text` takes in `grpc-message` once percent-encoded (as tonic
/// encodes it: controls, space, `"#%<>`?{}` and every non-ASCII byte as
/// `%XX`).
pub fn encoded_len(text: &str) -> usize {
    text.bytes().map(|b| if b.is_ascii_graphic() && !b"\"#%<>`?{}".contains(&b) { 1 } else { 3 }).sum()
}

/// `text` cut so that, encoded, it takes at most `budget` bytes ("…"
/// included).
pub fn cut_encoded(text: &str, budget: usize) -> String {
    if encoded_len(text) <= budget {
        return text.to_owned();
    }
    let room = budget.saturating_sub(encoded_len("…"));
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        let mut buf = [0; 4];
        let n = encoded_len(c.encode_utf8(&mut buf));
        if used + n > room {
            break;
        }
        used += n;
        out.push(c);
    }
    out.push('…');
    out
}

/// Rewrites the status of a trailers-only answer (`grpc-status` in the
/// headers, as every refusal is): an unreadable request becomes
/// `INVALID_ARGUMENT` ([`unreadable_request`]), the message is cut to
/// [`MAX_MESSAGE_BYTES`] and details over [`MAX_DETAILS_BYTES`] are dropped
/// (and logged). Answers with a body are left alone.
pub fn rewrite(headers: &mut http::HeaderMap) {
    let Some(code) = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(Code::from_i32)
    else {
        return;
    };
    if code == Code::Ok {
        return;
    }
    let message = headers.get("grpc-message").and_then(|v| v.to_str().ok()).map(percent_decode).unwrap_or_default();
    let (code, message) = match unreadable_request(code, &message) {
        Some(answer) => answer,
        None => (code, message),
    };
    headers.insert("grpc-status", http::HeaderValue::from(code as i32));
    headers.remove("grpc-message");
    let message = cut_encoded(&message, MAX_MESSAGE_BYTES);
    let details_len = headers.get("grpc-status-details-bin").map_or(0, |v| v.len());
    let message = if details_len > MAX_DETAILS_BYTES {
        headers.remove("grpc-status-details-bin");
        tracing::warn!(details_len, code = ?code, "an answer's status details were too large and were left out");
        format!("{} (details left out: too large)", cut_encoded(&message, MAX_MESSAGE_BYTES - 40))
    } else {
        message
    };
    if !message.is_empty() {
        // Encoded as tonic encodes it, so any client decodes it back.
        let encoded = tonic::Status::new(code, message);
        let mut fresh = http::HeaderMap::new();
        if encoded.add_header(&mut fresh).is_ok()
            && let Some(value) = fresh.remove("grpc-message")
        {
            headers.insert("grpc-message", value);
        }
    }
}

/// grpc-message is percent-encoded (gRPC over HTTP/2 spec).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(text.get(i + 1..i + 3).unwrap_or(""), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: tonic::Status) -> http::HeaderMap {
        let mut headers = status.into_http::<tonic::body::Body>().headers().clone();
        rewrite(&mut headers);
        headers
    }

    fn status_of(headers: &http::HeaderMap) -> tonic::Status {
        tonic::Status::from_header_map(headers).expect("a status")
    }

    #[test]
    fn the_transports_decode_failures_are_invalid_argument() {
        let cases = [
            (Code::Internal, "failed to decode Protobuf message: invalid varint"),
            (
                Code::Internal,
                "failed to decode Protobuf message: SubmitApplicationRequest.package_id: invalid string value: data is not UTF-8 encoded",
            ),
            (Code::Internal, "failed to decode Protobuf message: invalid wire type: LengthDelimited (expected Varint)"),
            (Code::Internal, "failed to decode Protobuf message: buffer underflow"),
            (Code::Internal, "Unexpected EOF decoding stream."),
            (Code::Internal, "Missing request message."),
            (
                Code::Internal,
                "protocol error: received message with invalid compression flag: 7 (valid flags are 0 and 1), while sending request",
            ),
            (
                Code::OutOfRange,
                "Error, decoded message length too large: found 2097157 bytes, the limit is: 2097152 bytes",
            ),
        ];
        for (code, message) in cases {
            let (new_code, new_message) = unreadable_request(code, message).expect(message);
            assert_eq!(new_code, Code::InvalidArgument, "{message}");
            assert!(new_message.starts_with("the request"), "{new_message}");
            assert!(new_message.chars().count() < 260, "{new_message}");
        }
        let s = status_of(&answer(tonic::Status::internal("failed to decode Protobuf message: invalid varint")));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "the request is not a valid protobuf message of this RPC: invalid varint");
    }

    #[test]
    fn every_other_answer_keeps_its_code_and_message() {
        assert_eq!(unreadable_request(Code::Internal, "storing the events failed; the error was logged"), None);
        assert_eq!(unreadable_request(Code::InvalidArgument, "failed to decode Protobuf message: x"), None);
        assert_eq!(unreadable_request(Code::OutOfRange, "the page is past the end"), None);
        let s = status_of(&answer(tonic::Status::not_found("case c-1 not found — 案件不存在")));
        assert_eq!((s.code(), s.message()), (Code::NotFound, "case c-1 not found — 案件不存在"));
        let ok = answer(tonic::Status::ok(""));
        assert_eq!(ok.get("grpc-status").unwrap(), "0");
    }

    #[test]
    fn messages_and_details_are_bounded_for_default_clients() {
        let huge = "键".repeat(100_000);
        let headers = answer(tonic::Status::with_details(
            Code::InvalidArgument,
            format!("unknown key {huge}"),
            tonic::codegen::Bytes::from(vec![7u8; 100_000]),
        ));
        assert!(headers.get("grpc-message").unwrap().len() <= MAX_MESSAGE_BYTES);
        assert!(headers.get("grpc-status-details-bin").is_none());
        let s = status_of(&headers);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().starts_with("unknown key 键键"), "{}", s.message());
        assert!(s.message().ends_with("… (details left out: too large)"), "{}", s.message());
    }

    #[test]
    fn cutting_counts_characters_and_encoded_bytes() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("一二三四", 2), "一二…");
        assert_eq!(encoded_len("a b"), 5);
        assert_eq!(encoded_len("专"), 9);
        let c = cut_encoded(&"专".repeat(100), 100);
        assert!(encoded_len(&c) <= 100 && c.ends_with('…'), "{c}");
        assert_eq!(cut_encoded("short", 100), "short");
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode("an%20officer%20%E4%B8%93"), "an officer 专");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}

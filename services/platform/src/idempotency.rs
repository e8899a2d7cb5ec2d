//! Idempotent commands at the gRPC edge: every command carries a
//! client-chosen key; the same key with the same request returns the first
//! response (stored with the events), the same key with another request is
//! refused by the store with `ALREADY_EXISTS`.

use prost::Message;
use tonic::Status;
use yiciban_eventstore::{EventStore, request_fingerprint};

use crate::status::{FieldViolation, from_store, internal, invalid_argument};

/// The key of a request, checked against the contract every proto states
/// (1..128 characters), and the request's fingerprint. The
/// caller's subject is part of the fingerprint: one key cannot replay
/// someone else's request.
pub fn key_and_fingerprint<M: Message>(key: &str, request: &M, subject: &str) -> Result<(String, String), Status> {
    let key = key.trim();
    if key.is_empty() || key.chars().count() > 128 {
        return Err(invalid_argument(
            "idempotency_key is required",
            &[FieldViolation {
                field: "idempotency_key".into(),
                description: "give every new request a fresh key of 1 to 128 characters (a UUID is fine) and reuse it only to retry the same request".into(),
            }],
        ));
    }
    let mut bytes = request.encode_to_vec();
    bytes.extend_from_slice(subject.as_bytes());
    Ok((key.to_owned(), request_fingerprint(&bytes)))
}

/// The stored response of a replayed request, if this is one.
pub async fn replayed<R: Message + Default>(store: &EventStore, key: &str, hash: &str) -> Result<Option<R>, Status> {
    match store.lookup_idempotency(key, hash).await.map_err(from_store)? {
        None => Ok(None),
        Some(bytes) => R::decode(bytes.as_slice()).map(Some).map_err(|e| internal("reading a stored response", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::key_and_fingerprint;

    #[test]
    fn a_key_is_one_to_128_characters_and_the_fingerprint_includes_the_caller() {
        let request = yiciban_proto::common::v1::Date { year: 2026, month: 11, day: 28 };
        assert!(key_and_fingerprint("", &request, "a").is_err());
        assert!(key_and_fingerprint(&"键".repeat(128), &request, "a").is_ok());
        let err = key_and_fingerprint(&"k".repeat(129), &request, "a").unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        let (_, mine) = key_and_fingerprint(" k ", &request, "a").unwrap();
        let (key, theirs) = key_and_fingerprint("k", &request, "b").unwrap();
        assert_eq!(key, "k");
        assert_ne!(mine, theirs, "one key cannot replay someone else's request");
    }
}

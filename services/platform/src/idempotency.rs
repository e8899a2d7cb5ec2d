//! Idempotent commands at the gRPC edge: every command carries a
//! client-chosen key; the same key with the same request returns the first
//! response (stored with the events), the same key with another request is
//! refused by the store with `ALREADY_EXISTS`.

use prost::Message;
use tonic::Status;
use yiciban_eventstore::{EventStore, request_fingerprint};

use crate::status::{FieldViolation, from_store, internal, invalid_argument};

/// The key of a request, checked, and the request's fingerprint. The
/// caller's subject is part of the fingerprint: one key cannot replay
/// someone else's request.
pub fn key_and_fingerprint<M: Message>(key: &str, request: &M, subject: &str) -> Result<(String, String), Status> {
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(invalid_argument(
            "idempotency_key is required",
            &[FieldViolation {
                field: "idempotency_key".into(),
                description: "give every new request a fresh key of 1 to 200 characters (a UUID is fine) and reuse it only to retry the same request".into(),
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

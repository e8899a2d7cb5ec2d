//! Idempotent commands: every command from a client carries a key of its
//! choosing; the same key with the same request (and the same caller) gets
//! the first response back, the same key with another request is refused
//! with `ALREADY_EXISTS`. Keys the system chooses itself (sweeps, timers)
//! are fingerprinted by the key alone.

use prost::Message;
use tonic::Status;
use yiciban_eventstore::{EventStore, IdempotencyRecord, request_fingerprint};
use yiciban_platform::status::{FieldViolation, from_store, internal, invalid_argument};

/// The longest key a client may send (the contract in every proto says
/// 1 to 128 characters).
pub const MAX_KEY_CHARS: usize = 128;

/// An idempotency key with the fingerprint of the request it was sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

impl Idempotency {
    /// The key of a client's request, checked against the contract (1 to 128
    /// characters, surrounding blanks ignored), fingerprinted with the
    /// request and the caller's subject: one key cannot replay someone
    /// else's request.
    pub fn of_request<M: Message>(key: &str, request: &M, subject: &str) -> Result<Self, Status> {
        let key = key.trim();
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
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
        Ok(Idempotency { key: key.to_owned(), fingerprint: request_fingerprint(&bytes) })
    }

    /// A key the system chose for a command of its own (a sweep, a timer):
    /// the key is the whole request.
    pub fn system(key: impl Into<String>) -> Self {
        let key = key.into();
        let fingerprint = request_fingerprint(key.as_bytes());
        Idempotency { key, fingerprint }
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The request's fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The record stored with the events: key, fingerprint and the response
    /// a replay gets.
    pub fn record(&self, response: Vec<u8>) -> IdempotencyRecord {
        IdempotencyRecord { key: self.key.clone(), request_hash: self.fingerprint.clone(), response }
    }

    /// The stored response if this request was handled before.
    pub async fn replayed<R: Message + Default>(&self, store: &EventStore) -> Result<Option<R>, Status> {
        match store.lookup_idempotency(&self.key, &self.fingerprint).await.map_err(from_store)? {
            None => Ok(None),
            Some(bytes) => decode_response(&bytes).map(Some),
        }
    }
}

/// A stored response, decoded.
pub(crate) fn decode_response<R: Message + Default>(bytes: &[u8]) -> Result<R, Status> {
    R::decode(bytes).map_err(|e| internal("reading a stored response", &e))
}

#[cfg(test)]
mod tests {
    use super::Idempotency;

    #[test]
    fn a_key_is_one_to_128_characters_and_the_fingerprint_includes_the_caller() {
        let request = yiciban_proto::common::v1::Date { year: 2026, month: 11, day: 28 };
        assert!(Idempotency::of_request("", &request, "a").is_err());
        assert!(Idempotency::of_request("   ", &request, "a").is_err());
        assert!(Idempotency::of_request(&"键".repeat(128), &request, "a").is_ok());
        let err = Idempotency::of_request(&"k".repeat(129), &request, "a").unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        let mine = Idempotency::of_request(" k ", &request, "a").unwrap();
        let theirs = Idempotency::of_request("k", &request, "b").unwrap();
        assert_eq!(theirs.key(), "k");
        assert_eq!(mine.key(), "k");
        assert_ne!(mine.fingerprint(), theirs.fingerprint(), "one key cannot replay someone else's request");
    }

    #[test]
    fn a_system_key_is_fingerprinted_by_itself() {
        let a = Idempotency::system("warn-1-red");
        assert_eq!(a, Idempotency::system("warn-1-red"));
        assert_ne!(a.fingerprint(), Idempotency::system("warn-1-yellow").fingerprint());
    }
}

//! Idempotent commands: every command from a client carries a key of its
//! choosing; the same key with the same request from the same caller gets
//! the first response back, the same key with another request is refused
//! with `ALREADY_EXISTS`. Keys the system chooses itself (sweeps, timers)
//! are fingerprinted by the key alone.
//!
//! Keys live in namespaces, so that no caller can take a key another caller
//! or the system will use: a client's key is stored as
//! `client:<caller subject>:<key>` (`%` and `:` in the subject written
//! `%25` and `%3A`), a system key as `system:<key>`. A client key that
//! begins with a namespace's name ([`RESERVED_PREFIXES`]) is refused with
//! `INVALID_ARGUMENT`. Keys stored before namespaces existed were moved to
//! `system:<key>` (the system's, recognised by their fingerprint) or
//! `legacy:<key>` (clients') by the event store's migration step 2; a
//! client's retry still gets the response of a legacy key whose fingerprint
//! (which includes the caller) matches.

use prost::Message;
use tonic::Status;
use yiciban_eventstore::{EventStore, IdempotencyRecord, StoreError, request_fingerprint};
use yiciban_platform::status::{FieldViolation, from_store, internal, invalid_argument};

/// The longest key a client may send (the contract in every proto says
/// 1 to 128 characters).
pub const MAX_KEY_CHARS: usize = 128;

/// The namespaces of stored keys; a client key may not begin with one
/// (compared without regard to ASCII case).
pub const RESERVED_PREFIXES: [&str; 3] = ["system:", "client:", "legacy:"];

/// An idempotency key with the fingerprint of the request it was sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The key as the caller (or the system) chose it.
    key: String,
    /// The key as stored: in its namespace.
    stored: String,
    /// Where a client's key was stored before namespaces existed.
    legacy: Option<String>,
    fingerprint: String,
}

impl Idempotency {
    /// The key of a client's request, checked against the contract (1 to 128
    /// characters, surrounding blanks ignored, no reserved prefix),
    /// fingerprinted with the request and the caller's subject, and stored
    /// in the caller's own namespace: one caller's key never meets another's
    /// or the system's.
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
        if let Some(prefix) = reserved_prefix(key) {
            return Err(invalid_argument(
                "idempotency_key uses a reserved prefix",
                &[FieldViolation {
                    field: "idempotency_key".into(),
                    description: format!(
                        "keys beginning with {prefix:?} (or \"system:\", \"client:\", \"legacy:\" in any case) are reserved for the system's own commands; choose another key (a UUID is fine)"
                    ),
                }],
            ));
        }
        let mut bytes = request.encode_to_vec();
        bytes.extend_from_slice(subject.as_bytes());
        Ok(Idempotency {
            key: key.to_owned(),
            stored: format!("client:{}:{key}", escape_subject(subject)),
            legacy: Some(format!("legacy:{key}")),
            fingerprint: request_fingerprint(&bytes),
        })
    }

    /// A key the system chose for a command of its own (a sweep, a timer):
    /// the key is the whole request, stored in the system's namespace.
    pub fn system(key: impl Into<String>) -> Self {
        let key = key.into();
        let fingerprint = request_fingerprint(key.as_bytes());
        Idempotency { stored: format!("system:{key}"), legacy: None, key, fingerprint }
    }

    /// The key as chosen (what the caller sent, or the system's key).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key as stored, in its namespace.
    pub fn stored_key(&self) -> &str {
        &self.stored
    }

    /// The request's fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The record stored with the events: key (in its namespace),
    /// fingerprint and the response a replay gets.
    pub fn record(&self, response: Vec<u8>) -> IdempotencyRecord {
        IdempotencyRecord { key: self.stored.clone(), request_hash: self.fingerprint.clone(), response }
    }

    /// The stored response if this request was handled before (under its
    /// namespaced key or, for the same caller's same request, under the key
    /// it had before namespaces existed).
    pub async fn replayed<R: Message + Default>(&self, store: &EventStore) -> Result<Option<R>, Status> {
        let stored = store.lookup_keys(&self.stored_keys()).await.map_err(|e| self.status(e))?;
        self.replayed_from(&stored)
    }

    /// The names this key may be stored under: its namespaced one and, for
    /// a client's key, the one it had before namespaces existed.
    pub fn stored_keys(&self) -> Vec<&str> {
        std::iter::once(self.stored.as_str()).chain(self.legacy.as_deref()).collect()
    }

    /// [`Idempotency::replayed`] decided from the rows of
    /// [`Idempotency::stored_keys`] read already (e.g. with the stream, in
    /// the command's one read): the response of the same request under the
    /// namespaced key; `ALREADY_EXISTS` for another request under it; else
    /// the response of the same request under the legacy key (another
    /// request there does not bind the namespaced key).
    pub fn replayed_from<R: Message + Default>(&self, stored: &[IdempotencyRecord]) -> Result<Option<R>, Status> {
        let under = |name: &str| stored.iter().find(|r| r.key == name);
        let found = match under(&self.stored) {
            Some(r) if r.request_hash == self.fingerprint => Some(&r.response),
            Some(_) => return Err(self.status(StoreError::IdempotencyKeyReused { key: self.stored.clone() })),
            None => self
                .legacy
                .as_deref()
                .and_then(under)
                .filter(|r| r.request_hash == self.fingerprint)
                .map(|r| &r.response),
        };
        found.map(|bytes| decode_response(bytes)).transpose()
    }

    /// The status of a store error about this key, naming the key as it was
    /// chosen rather than as stored.
    pub(crate) fn status(&self, error: StoreError) -> Status {
        match error {
            StoreError::IdempotencyKeyReused { .. } => {
                from_store(StoreError::IdempotencyKeyReused { key: self.key.clone() })
            }
            other => from_store(other),
        }
    }
}

/// The reserved prefix `key` begins with, if any.
fn reserved_prefix(key: &str) -> Option<&'static str> {
    RESERVED_PREFIXES
        .into_iter()
        .find(|p| key.len() >= p.len() && key.is_char_boundary(p.len()) && key[..p.len()].eq_ignore_ascii_case(p))
}

/// A subject with `%` and `:` escaped, so `client:<subject>:<key>` reads back
/// one way only.
fn escape_subject(subject: &str) -> String {
    subject.replace('%', "%25").replace(':', "%3A")
}

/// A stored response, decoded.
pub(crate) fn decode_response<R: Message + Default>(bytes: &[u8]) -> Result<R, Status> {
    R::decode(bytes).map_err(|e| internal("reading a stored response", &e))
}

#[cfg(test)]
mod tests {
    use super::Idempotency;

    #[test]
    fn a_replay_is_told_from_the_stored_rows_of_the_namespaced_and_the_legacy_key() {
        use prost::Message as _;
        use yiciban_eventstore::IdempotencyRecord;
        type Answer = yiciban_proto::common::v1::Date;
        let request = Answer { year: 2026, month: 11, day: 28 };
        let mine = Idempotency::of_request("k", &request, "a").unwrap();
        assert_eq!(mine.stored_keys(), vec!["client:a:k", "legacy:k"]);
        assert_eq!(Idempotency::system("sweep-1").stored_keys(), vec!["system:sweep-1"]);
        let answer = Answer { year: 1, month: 2, day: 3 };
        let row = |key: &str, hash: &str| IdempotencyRecord {
            key: key.into(),
            request_hash: hash.into(),
            response: answer.encode_to_vec(),
        };
        let same = mine.fingerprint();
        assert_eq!(mine.replayed_from::<Answer>(&[]).unwrap(), None, "a new request");
        assert_eq!(mine.replayed_from::<Answer>(&[row("client:a:k", same)]).unwrap(), Some(answer));
        let reused = mine.replayed_from::<Answer>(&[row("client:a:k", "another request")]).unwrap_err();
        assert_eq!(reused.code(), tonic::Code::AlreadyExists);
        assert!(reused.message().contains("key \"k\" was already used"), "named as chosen: {}", reused.message());
        assert_eq!(mine.replayed_from::<Answer>(&[row("legacy:k", same)]).unwrap(), Some(answer), "a legacy replay");
        assert_eq!(
            mine.replayed_from::<Answer>(&[row("legacy:k", "someone else's")]).unwrap(),
            None,
            "another request under the legacy key does not bind the namespaced one"
        );
        assert_eq!(
            mine.replayed_from::<Answer>(&[row("legacy:k", same), row("client:a:k", same)]).unwrap(),
            Some(answer),
            "either order"
        );
    }

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
        assert_eq!(mine.stored_key(), "client:a:k");
        assert_eq!(theirs.stored_key(), "client:b:k", "each caller's keys are its own");
    }

    #[test]
    fn a_client_key_never_reaches_the_system_namespace_and_reserved_prefixes_are_refused() {
        let request = yiciban_proto::common::v1::Date { year: 2026, month: 11, day: 28 };
        let client = Idempotency::of_request("warn-1-red", &request, "agent-li").unwrap();
        assert_eq!(client.stored_key(), "client:agent-li:warn-1-red");
        assert_ne!(client.stored_key(), Idempotency::system("warn-1-red").stored_key());
        for reserved in ["system:warn-1-red", "SYSTEM:x", " client:agent-li:k", "Legacy:k", "system:"] {
            let err = Idempotency::of_request(reserved, &request, "agent-li").unwrap_err();
            assert_eq!(err.code(), tonic::Code::InvalidArgument, "{reserved}");
            assert!(err.message().contains("reserved"), "{reserved}: {}", err.message());
        }
        assert!(Idempotency::of_request("systemic:1", &request, "a").is_ok());
        assert!(Idempotency::of_request("系统:1", &request, "a").is_ok());
    }

    #[test]
    fn a_subject_with_a_colon_cannot_pose_as_another_callers_key() {
        let request = yiciban_proto::common::v1::Date { year: 2026, month: 11, day: 28 };
        let odd = Idempotency::of_request("c", &request, "a:b").unwrap();
        let plain = Idempotency::of_request("b:c", &request, "a").unwrap();
        assert_eq!(odd.stored_key(), "client:a%3Ab:c");
        assert_ne!(odd.stored_key(), plain.stored_key());
        assert_eq!(Idempotency::of_request("c", &request, "a%3Ab").unwrap().stored_key(), "client:a%253Ab:c");
    }

    #[test]
    fn a_system_key_is_fingerprinted_by_itself() {
        let a = Idempotency::system("warn-1-red");
        assert_eq!(a, Idempotency::system("warn-1-red"));
        assert_eq!(a.key(), "warn-1-red");
        assert_eq!(a.stored_key(), "system:warn-1-red");
        assert_ne!(a.fingerprint(), Idempotency::system("warn-1-yellow").fingerprint());
    }
}
